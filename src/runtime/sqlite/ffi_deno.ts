/**
 * libsqlite3 through Deno.dlopen.
 *
 * @module
 */
import { bindSqlite, type SqliteBindings, sqliteLibraryCandidates } from "./ffi_driver.ts";
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
      return bindSqlite(Deno.dlopen(name, symbols).symbols, {
        pointerFrom: (out) => Deno.UnsafePointer.create(out[0]),
        cstr,
        copy: (ptr, length) => new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(ptr!, length).slice(0)),
        transient: -1n,
      });
    } catch (error) {
      failures.push(error);
    }
  }
  throw new Error("could not load libsqlite3 through FFI (set SILO_SQLITE_PATH to its path)", {
    cause: new AggregateError(failures),
  });
}
