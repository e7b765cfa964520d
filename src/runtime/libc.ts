/**
 * Pick the libc adapter for the running runtime. Everything outside src/runtime/ receives the result
 * through the container; this exists for the runtime adapters and for tests.
 *
 * @module
 */
import type { LibcLoadOptions, LoadedLibc } from "./libc_common.ts";

export type { LibcError, LibcLoadOptions, LoadedLibc } from "./libc_common.ts";
export { errnoName, FICLONE, hasCode, libcCandidates, libcLoadError } from "./libc_common.ts";

/**
 * Load libc through the current runtime's FFI (Deno or Bun), or null when it cannot be loaded.
 *
 * @example
 * ```ts ignore
 * const libc = await loadLibc();
 * if (libc) libc.reflink("/store/v1/files/ab/cdef", "/proj/node_modules/pkg/index.js");
 * ```
 */
export async function loadLibc(options: LibcLoadOptions = {}): Promise<LoadedLibc | null> {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  // Bun first: a Deno-compat shim on Bun would otherwise send us to Deno.dlopen.
  if (g.Bun !== undefined) return (await import("./libc_bun.ts")).loadLibcBun(options);
  if (g.Deno !== undefined) return (await import("./libc_deno.ts")).loadLibcDeno(options);
  return null;
}
