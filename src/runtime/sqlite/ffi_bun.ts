/**
 * libsqlite3 through bun:ffi. The module is imported by a specifier deno cannot
 * resolve statically, so `deno check` never sees bun-only types.
 *
 * @module
 */
import process from "node:process";
import { type SqliteBindings, sqliteLibraryCandidates } from "./ffi_driver.ts";
import { sqliteSymbols } from "./symbols.ts";

type Ptr = number | null;

/** The slice of bun:ffi silo uses. */
export interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  CString: new (ptr: number) => { toString(): string };
  toArrayBuffer(ptr: number, offset: number, length: number): ArrayBuffer;
}

/** Import bun:ffi at run time (only under Bun). */
export function importBunFfi(): Promise<BunFfi> {
  const specifier = ["bun", "ffi"].join(":");
  return import(specifier) as Promise<BunFfi>;
}

// bun:ffi spells Deno's "pointer" as "ptr" and has no "isize" (SQLITE_TRANSIENT is passed as i64 -1).
const BUN_TYPE: Record<string, string> = { pointer: "ptr", isize: "i64" };
const symbols = Object.fromEntries(
  Object.entries(sqliteSymbols).map(([name, s]) => [name, {
    args: s.parameters.map((t) => BUN_TYPE[t] ?? t),
    returns: BUN_TYPE[s.result] ?? s.result,
  }]),
);

/** Load libsqlite3 under Bun (search order: SILO_SQLITE_PATH, then platform names). */
export function loadSqliteBun(ffi: BunFfi): SqliteBindings<Ptr> {
  const failures: unknown[] = [];
  for (const name of sqliteLibraryCandidates(process.platform, process.env.SILO_SQLITE_PATH)) {
    try {
      return bind(ffi, ffi.dlopen(name, symbols).symbols);
    } catch (error) {
      failures.push(error);
    }
  }
  throw new Error("could not load libsqlite3 through FFI (set SILO_SQLITE_PATH to its path)", {
    cause: new AggregateError(failures),
  });
}

// deno-lint-ignore no-explicit-any
function bind(ffi: BunFfi, s: Record<string, (...args: any[]) => any>): SqliteBindings<Ptr> {
  const cstr = (ptr: Ptr) => (ptr ? new ffi.CString(ptr).toString() : "");
  return {
    libraryVersion: cstr(s.sqlite3_libversion()),
    open: (filename, out, flags) => s.sqlite3_open_v2(filename, out, flags, null),
    pointerFrom: (out) => (out[0] === 0n ? null : Number(out[0])),
    close: (db) => s.sqlite3_close_v2(db),
    errmsg: (db) => cstr(s.sqlite3_errmsg(db)),
    busyTimeout: (db, ms) => s.sqlite3_busy_timeout(db, ms),
    exec: (db, sql) => s.sqlite3_exec(db, sql, null, null, null),
    prepare: (db, sql, out) => s.sqlite3_prepare_v2(db, sql, -1, out, null),
    bindText: (stmt, i, bytes, n) => s.sqlite3_bind_text(stmt, i, bytes, n, -1),
    bindBlob: (stmt, i, bytes, n) => s.sqlite3_bind_blob(stmt, i, bytes, n, -1),
    bindInt64: (stmt, i, v) => s.sqlite3_bind_int64(stmt, i, v),
    bindDouble: (stmt, i, v) => s.sqlite3_bind_double(stmt, i, v),
    bindNull: (stmt, i) => s.sqlite3_bind_null(stmt, i),
    step: (stmt) => s.sqlite3_step(stmt),
    reset: (stmt) => s.sqlite3_reset(stmt),
    clearBindings: (stmt) => s.sqlite3_clear_bindings(stmt),
    finalize: (stmt) => s.sqlite3_finalize(stmt),
    columnCount: (stmt) => s.sqlite3_column_count(stmt),
    columnName: (stmt, i) => cstr(s.sqlite3_column_name(stmt, i)),
    columnType: (stmt, i) => s.sqlite3_column_type(stmt, i),
    columnInt64: (stmt, i) => s.sqlite3_column_int64(stmt, i),
    columnDouble: (stmt, i) => s.sqlite3_column_double(stmt, i),
    columnBytes: (stmt, i) => s.sqlite3_column_bytes(stmt, i),
    columnData(stmt, i, kind, length) {
      if (length === 0) return new Uint8Array(0);
      const ptr = kind === "text" ? s.sqlite3_column_text(stmt, i) : s.sqlite3_column_blob(stmt, i);
      return new Uint8Array(ffi.toArrayBuffer(ptr, 0, length).slice(0));
    },
    changes: (db) => s.sqlite3_changes(db),
  };
}
