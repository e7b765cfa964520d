/**
 * What the rest of silo may ask of the runtime. Only src/runtime/ implements this;
 * everything else receives it from the container.
 *
 * @module
 */
import type { SqliteDatabase } from "./sqlite/types.ts";
import type { FileStat } from "./lstat.ts";

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
  /** Directory-relative calls; Linux only (undefined elsewhere). */
  readonly dirs?: DirCalls;
}

/**
 * Paths resolved from an open directory (Linux's `*at` calls). A hot install links ~16,000 store files:
 * `linkat(storeFd, "ab/cd..", packageFd, "lib/x.js")` walks a few path components where `link()` with
 * two absolute paths walks a dozen or more, and the kernel's path walk was ~13% of the install's CPU
 * samples.
 * Failures throw an Error whose `code` is the errno name, like node:fs.
 */
export interface DirCalls {
  /** The "directory" that means: resolve against the working directory (AT_FDCWD); for absolute paths. */
  readonly cwd: number;
  /** Open the folder `path` (relative to `dirFd`) for use as a `dirFd`; O_PATH, so no read access needed. */
  openDir(dirFd: number, path: string): number;
  /** mkdirat(2): `mode` less the umask, like mkdir. */
  mkdir(dirFd: number, path: string, mode: number): void;
  /** linkat(2), never following a symlink at `src`. */
  link(srcDirFd: number, src: string, destDirFd: number, dest: string): void;
  /** lstat through statx(2); undefined when nothing is there. */
  stat(dirFd: number, path: string): FileStat | undefined;
  close(fd: number): void;
}

/** The runtime shim. */
export interface Runtime {
  readonly name: "deno" | "bun";
  /** Open an SQLite database through the requested driver. */
  openSqlite(path: string, options?: SqliteOpenOptions): SqliteDatabase;
  /** libc through FFI, or null when it cannot be loaded (then reflinks are unavailable). */
  readonly libc: Libc | null;
}
