/**
 * The Bun adapter: FFI through bun:ffi, imported lazily so Deno never loads it.
 *
 * @module
 */
import { loadLibcBun } from "./libc_bun.ts";
import { openBuiltinSqlite } from "./sqlite/builtin.ts";
import { openFfiSqlite } from "./sqlite/ffi_driver.ts";
import { importBunFfi, loadSqliteBun } from "./sqlite/ffi_bun.ts";
import { sqliteOpener } from "./sqlite_opener.ts";
import type { Runtime } from "./types.ts";

/** Build the Bun runtime shim. */
export async function createBunRuntime(): Promise<Runtime> {
  const ffi = await importBunFfi();
  let bindings: ReturnType<typeof loadSqliteBun> | undefined;
  return {
    name: "bun",
    libc: await loadLibcBun(),
    openSqlite: sqliteOpener(
      (path, readonly) => openFfiSqlite(bindings ??= loadSqliteBun(ffi), path, readonly),
      openBuiltinSqlite,
    ),
  };
}
