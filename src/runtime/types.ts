/**
 * What the rest of silo may ask of the runtime. Only src/runtime/ implements this;
 * everything else receives it from the container.
 *
 * @module
 */
import type { SqliteDatabase } from "./sqlite/types.ts";

/** Options for opening an SQLite database. */
export interface SqliteOpenOptions {
  /** Prefer the system libsqlite3 via FFI ("ffi"), the runtime's built-in node:sqlite ("builtin"), or whichever loads ("auto"). */
  driver?: "auto" | "ffi" | "builtin";
  readonly?: boolean;
}

/** libc calls silo needs that node:fs does not offer. */
export interface Libc {
  /**
   * Make `dest` a copy-on-write clone of `src` (FICLONE on Linux, clonefile on macOS).
   * Throws an Error with `code` set to the errno name (EOPNOTSUPP, EXDEV, EEXIST, ...) on failure.
   */
  reflink(src: string, dest: string): void;
}

/** The runtime shim. */
export interface Runtime {
  readonly name: "deno" | "bun";
  /** Open an SQLite database through the requested driver. */
  openSqlite(path: string, options?: SqliteOpenOptions): SqliteDatabase;
  /** libc through FFI, or null when it cannot be loaded (then reflinks are unavailable). */
  readonly libc: Libc | null;
}
