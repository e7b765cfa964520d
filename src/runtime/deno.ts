/**
 * The Deno adapter: FFI through Deno.dlopen.
 *
 * @module
 */
import { loadLibcDeno } from "./libc_deno.ts";
import { openBuiltinSqlite } from "./sqlite/builtin.ts";
import { openFfiSqlite, type SqliteBindings } from "./sqlite/ffi_driver.ts";
import { loadSqliteDeno } from "./sqlite/ffi_deno.ts";
import { sqliteOpener } from "./sqlite_opener.ts";
import type { Runtime } from "./types.ts";

/** Build the Deno runtime shim. */
export function createDenoRuntime(): Runtime {
  let bindings: SqliteBindings<Deno.PointerValue> | undefined;
  return {
    name: "deno",
    libc: loadLibcDeno(),
    openSqlite: sqliteOpener(
      (path, readonly) => openFfiSqlite(bindings ??= loadSqliteDeno(), path, readonly),
      openBuiltinSqlite,
    ),
  };
}
