/**
 * libsqlite3 through bun:ffi. The module is imported by a specifier deno cannot
 * resolve statically, so `deno check` never sees bun-only types.
 *
 * @module
 */
import process from "node:process";
import { bindSqlite, type SqliteBindings, sqliteLibraryCandidates } from "./ffi_driver.ts";
import { sqliteSymbols } from "./symbols.ts";

type Ptr = number | null;

/** The slice of bun:ffi silo uses. */
export interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  CString: new (ptr: number, byteOffset?: number, byteLength?: number) => { toString(): string };
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
      return bindSqlite<Ptr>(ffi.dlopen(name, symbols).symbols, {
        pointerFrom: (out) => (out[0] === 0n ? null : Number(out[0])),
        cstr: (ptr) => (ptr ? new ffi.CString(ptr).toString() : ""),
        copy: (ptr, length) => new Uint8Array(ffi.toArrayBuffer(ptr!, 0, length).slice(0)),
        // Rows are mostly text: one decode from SQLite's buffer, no ArrayBuffer and copy per column.
        text: (ptr, length) => new ffi.CString(ptr!, 0, length).toString(),
        transient: -1,
      });
    } catch (error) {
      failures.push(error);
    }
  }
  throw new Error("could not load libsqlite3 through FFI (set SILO_SQLITE_PATH to its path)", {
    cause: new AggregateError(failures),
  });
}
