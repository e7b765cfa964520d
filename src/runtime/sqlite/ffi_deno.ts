/**
 * libsqlite3 through Deno.dlopen.
 *
 * @module
 */
import { type SqliteBindings, sqliteLibraryCandidates } from "./ffi_driver.ts";
import { sqliteSymbols as symbols } from "./symbols.ts";

type Ptr = Deno.PointerValue;

function cstr(ptr: Ptr): string {
  return ptr ? Deno.UnsafePointerView.getCString(ptr) : "";
}

/** Load libsqlite3 (search order: SILO_SQLITE_PATH, then platform names). Throws with every attempt as cause. */
export function loadSqliteDeno(): SqliteBindings<Ptr> {
  const failures: unknown[] = [];
  for (const name of sqliteLibraryCandidates(Deno.build.os, Deno.env.get("SILO_SQLITE_PATH"))) {
    try {
      return bind(Deno.dlopen(name, symbols).symbols);
    } catch (error) {
      failures.push(error);
    }
  }
  throw new Error("could not load libsqlite3 through FFI (set SILO_SQLITE_PATH to its path)", {
    cause: new AggregateError(failures),
  });
}

function bind(s: Deno.DynamicLibrary<typeof symbols>["symbols"]): SqliteBindings<Ptr> {
  return {
    libraryVersion: cstr(s.sqlite3_libversion()),
    open: (filename, out, flags) => s.sqlite3_open_v2(filename, out, flags, null),
    pointerFrom: (out) => Deno.UnsafePointer.create(out[0]),
    close: (db) => s.sqlite3_close_v2(db),
    errmsg: (db) => cstr(s.sqlite3_errmsg(db)),
    busyTimeout: (db, ms) => s.sqlite3_busy_timeout(db, ms),
    exec: (db, sql) => s.sqlite3_exec(db, sql, null, null, null),
    prepare: (db, sql, out) => s.sqlite3_prepare_v2(db, sql, -1, out, null),
    bindText: (stmt, i, bytes, n) => s.sqlite3_bind_text(stmt, i, bytes, n, -1n),
    bindBlob: (stmt, i, bytes, n) => s.sqlite3_bind_blob(stmt, i, bytes, n, -1n),
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
      return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(ptr!, length).slice(0));
    },
    changes: (db) => s.sqlite3_changes(db),
  };
}
