/**
 * The runtime shim: picks the adapter for the runtime silo runs on. The only folder
 * that touches Deno.*, Bun.* or FFI.
 *
 * @module
 */
import type { Runtime } from "./types.ts";

export type { Libc, Runtime, SqliteOpenOptions } from "./types.ts";
export type { SqliteDatabase, SqliteStatement, SqlRow, SqlValue } from "./sqlite/types.ts";
export { SqliteError } from "./sqlite/types.ts";

let current: Promise<Runtime> | undefined;

/** The runtime shim for the running process (created once). */
export function loadRuntime(): Promise<Runtime> {
  return current ??= create();
}

async function create(): Promise<Runtime> {
  if ("Bun" in globalThis) return (await import("./bun.ts")).createBunRuntime();
  if ("Deno" in globalThis) return (await import("./deno.ts")).createDenoRuntime();
  throw new Error("silo runs on Deno or Bun; this runtime is neither");
}
