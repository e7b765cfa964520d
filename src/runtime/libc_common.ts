/**
 * Runtime-neutral half of the libc FFI: errno names, the error shape, the library search order and the
 * reflink algorithm over a handful of raw C calls. The Deno and Bun adapters only dlopen and hand the
 * raw calls in, so both runtimes share one tested code path.
 *
 * @module
 */
import { statSync } from "node:fs";
import process from "node:process";
import type { FileStat } from "./lstat.ts";
import type { DirCalls, Libc } from "./types.ts";

/** Linux `ioctl(dest, FICLONE, src)`: `_IOW(0x94, 9, int)`. */
export const FICLONE = 0x40049409n;

// open(2) flags. Identical on x86_64 and aarch64 Linux (the generic ABI); O_CLOEXEC so a child
// forked by a concurrent lifecycle script never inherits the writable fd (ETXTBSY, invariant 5).
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_CLOEXEC = 0o2000000;
// A handle for *at calls only (no read access needed). Same value on x86_64 and aarch64; O_DIRECTORY is
// not (0o200000 vs 0o40000), so it is left out: a non-folder fails at its first use (ENOTDIR) instead.
const O_PATH = 0o10000000;
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
// statx(2) mask: type and mode, size, mtime.
const STATX_WANTED = 0x1 | 0x2 | 0x200 | 0x40;

const LINUX_ERRNO: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  5: "EIO",
  9: "EBADF",
  13: "EACCES",
  17: "EEXIST",
  18: "EXDEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  24: "EMFILE",
  25: "ENOTTY",
  26: "ETXTBSY",
  27: "EFBIG",
  28: "ENOSPC",
  30: "EROFS",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  40: "ELOOP",
  95: "EOPNOTSUPP",
  122: "EDQUOT",
};

// macOS has two "not supported" numbers; clonefile(2) on a non-APFS volume returns ENOTSUP (45).
// Both map to "EOPNOTSUPP" so callers test one code on every platform.
const DARWIN_ERRNO: Record<number, string> = {
  ...pick(LINUX_ERRNO, [1, 2, 5, 9, 13, 17, 18, 20, 21, 22, 24, 25, 26, 27, 28, 30]),
  45: "EOPNOTSUPP",
  62: "ELOOP",
  63: "ENAMETOOLONG",
  69: "EDQUOT",
  78: "ENOSYS",
  102: "EOPNOTSUPP",
};

const MESSAGES: Record<string, string> = {
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EEXIST: "file already exists",
  EXDEV: "cross-device link not permitted",
  EINVAL: "invalid argument",
  ENOTTY: "inappropriate ioctl for device",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EOPNOTSUPP: "operation not supported on this file system",
};

function pick(table: Record<number, string>, keys: number[]): Record<number, string> {
  return Object.fromEntries(keys.map((k) => [k, table[k]]));
}

/** Operating systems the libc adapters know. Others get no libc (and so no reflinks). */
export type LibcOs = "linux" | "darwin";

/**
 * Map an errno number to its name on `os`; unknown numbers become `E<n>`.
 *
 * @example
 * ```ts
 * errnoName(95, "linux"); // "EOPNOTSUPP"
 * errnoName(45, "darwin"); // "EOPNOTSUPP" (ENOTSUP)
 * ```
 */
export function errnoName(errno: number, os: LibcOs): string {
  return (os === "darwin" ? DARWIN_ERRNO : LINUX_ERRNO)[errno] ?? `E${errno}`;
}

/** The error a failed libc call throws, shaped like Node's fs errors. */
export interface LibcError extends Error {
  /** errno name, e.g. "EOPNOTSUPP", "EXDEV", "EEXIST". */
  code: string;
  /** The raw errno value (positive). */
  errno: number;
  /** The failing call, e.g. "open", "ioctl(FICLONE)", "clonefile". */
  syscall: string;
  /** The path the call was about. */
  path: string;
  /** The destination path, for two-path calls. */
  dest?: string;
}

/**
 * Build a {@linkcode LibcError}.
 *
 * @example
 * ```ts
 * const err = libcError(17, "linux", "open", "/a/b");
 * // err.message === "EEXIST: file already exists, open '/a/b'"
 * ```
 */
export function libcError(
  errno: number,
  os: LibcOs,
  syscall: string,
  path: string,
  dest?: string,
): LibcError {
  const code = errnoName(errno, os);
  const where = dest === undefined ? `'${path}'` : `'${path}' -> '${dest}'`;
  const err = new Error(`${code}: ${MESSAGES[code] ?? `errno ${errno}`}, ${syscall} ${where}`) as LibcError;
  err.name = "LibcError";
  err.code = code;
  err.errno = errno;
  err.syscall = syscall;
  err.path = path;
  if (dest !== undefined) err.dest = dest;
  return err;
}

/**
 * Whether `err` looks like an fs/libc error with errno name `code` (any of them when given several).
 *
 * @example
 * ```ts
 * hasCode(Object.assign(new Error("x"), { code: "EXDEV" }), "EXDEV", "EOPNOTSUPP"); // true
 * ```
 */
export function hasCode(err: unknown, ...codes: string[]): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && codes.includes(code);
}

const encoder = new TextEncoder();

/**
 * A path as a NUL-terminated UTF-8 byte buffer, the form C expects.
 *
 * @example
 * ```ts
 * cString("a"); // Uint8Array [0x61, 0]
 * ```
 */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(s.length * 3 + 1);
  const { written } = encoder.encodeInto(s, bytes);
  // encodeInto never writes the terminator; the zeroed tail supplies it.
  return bytes.subarray(0, written + 1);
}

/**
 * The OS as the libc adapters see it, or null when there is no adapter for it.
 *
 * @example
 * ```ts
 * libcOs("win32"); // null
 * ```
 */
export function libcOs(platform: string = process.platform): LibcOs | null {
  return platform === "linux" || platform === "darwin" ? platform : null;
}

/**
 * Library candidates, in search order: `$SILO_LIBC_PATH` first, then the platform defaults
 * (glibc's `libc.so.6`, then musl's `libc.so`; macOS `libSystem`).
 *
 * @example
 * ```ts
 * libcCandidates("linux", {}); // ["libc.so.6", "libc.so"]
 * ```
 */
export function libcCandidates(
  os: LibcOs,
  env: Record<string, string | undefined> = readEnv(),
): string[] {
  const defaults = os === "darwin" ? ["/usr/lib/libSystem.B.dylib"] : ["libc.so.6", "libc.so"];
  const override = env.SILO_LIBC_PATH;
  return override ? [override, ...defaults.filter((d) => d !== override)] : defaults;
}

function readEnv(): Record<string, string | undefined> {
  try {
    return { SILO_LIBC_PATH: process.env.SILO_LIBC_PATH };
  } catch {
    return {}; // no env permission: defaults only
  }
}

/** How to find libc; tests pass `candidates` to exercise the search without touching the env. */
export interface LibcLoadOptions {
  /** Paths to try in order (default: {@linkcode libcCandidates}). */
  candidates?: string[];
  /** Called with the wrapped load error when no candidate loads. */
  onError?: (error: Error) => void;
}

let lastError: Error | undefined;

/**
 * Why the most recent libc load returned null (for `--debug` output), or undefined.
 *
 * @example
 * ```ts ignore
 * if (!libc) console.debug(libcLoadError());
 * ```
 */
export function libcLoadError(): Error | undefined {
  return lastError;
}

/**
 * Try each candidate with `open` until one loads. Returns null, and records the error (see
 * {@linkcode libcLoadError}), only when none does.
 *
 * @example
 * ```ts ignore
 * const found = loadFirst("linux", {}, (path) => Deno.dlopen(path, SYMBOLS));
 * ```
 */
export function loadFirst<T>(
  os: LibcOs,
  options: LibcLoadOptions,
  open: (path: string) => T,
): { lib: T; path: string } | null {
  const candidates = options.candidates ?? libcCandidates(os);
  const failures: Error[] = [];
  for (const path of candidates) {
    try {
      const lib = open(path);
      lastError = undefined;
      return { lib, path };
    } catch (cause) {
      failures.push(new Error(`could not load libc from '${path}'`, { cause }));
    }
  }
  lastError = new Error(
    `libc could not be loaded (tried ${candidates.map((c) => `'${c}'`).join(", ")}); ` +
      "reflinks are unavailable. Set SILO_LIBC_PATH to the C library's path to enable them.",
    { cause: new AggregateError(failures, "every libc candidate failed") },
  );
  options.onError?.(lastError);
  return null;
}

/** Raw C calls as both FFI layers expose them. Paths are NUL-terminated ({@linkcode cString}). */
export interface LinuxCalls {
  open(path: Uint8Array<ArrayBuffer>, flags: number, mode: number): number;
  /** `ioctl(destFd, FICLONE, srcFd)`. */
  ficlone(destFd: number, srcFd: number): number;
  close(fd: number): number;
  unlink(path: Uint8Array<ArrayBuffer>): number;
  /** The calling thread's errno. Read it right after the failing call. */
  errno(): number;
}

/** Raw Linux `*at` calls, for {@linkcode linuxDirCalls}. */
export interface LinuxDirSyscalls {
  openat(dirFd: number, path: Uint8Array<ArrayBuffer>, flags: number, mode: number): number;
  mkdirat(dirFd: number, path: Uint8Array<ArrayBuffer>, mode: number): number;
  linkat(
    srcDirFd: number,
    src: Uint8Array<ArrayBuffer>,
    destDirFd: number,
    dest: Uint8Array<ArrayBuffer>,
    flags: number,
  ): number;
  /** statx(2) into `out` (256 bytes, `struct statx`: one layout on every Linux architecture). */
  statx(
    dirFd: number,
    path: Uint8Array<ArrayBuffer>,
    flags: number,
    mask: number,
    out: Uint8Array<ArrayBuffer>,
  ): number;
  close(fd: number): number;
  errno(): number;
}

/** Room for most paths; longer ones get their own buffer. */
const SCRATCH_BYTES = 4096;

/**
 * {@linkcode DirCalls} over the raw calls. Paths are encoded into two reused buffers (these run once per
 * file of an install), so a call must not be re-entered.
 *
 * @example
 * ```ts ignore
 * const dirs = linuxDirCalls(raw);
 * const store = dirs.openDir(dirs.cwd, "/store/v1/files");
 * dirs.link(store, "ab/cdef", dirs.openDir(dirs.cwd, "/proj/node_modules/ms"), "index.js");
 * ```
 */
export function linuxDirCalls(c: LinuxDirSyscalls): DirCalls {
  const scratch = [new Uint8Array(SCRATCH_BYTES), new Uint8Array(SCRATCH_BYTES)];
  const encode = (s: string, slot: 0 | 1): Uint8Array<ArrayBuffer> => {
    if (s.length * 3 + 1 > SCRATCH_BYTES) return cString(s);
    const bytes = scratch[slot];
    bytes[encoder.encodeInto(s, bytes).written] = 0;
    return bytes;
  };
  const statBuf = new Uint8Array(256);
  const view = new DataView(statBuf.buffer);
  const fail = (syscall: string, path: string, dest?: string) =>
    libcError(c.errno(), "linux", syscall, path, dest);
  return {
    cwd: AT_FDCWD,
    openDir(dirFd, path) {
      const fd = c.openat(dirFd, encode(path, 0), O_PATH | O_CLOEXEC, 0);
      if (fd < 0) throw fail("openat", path);
      return fd;
    },
    mkdir(dirFd, path, mode) {
      if (c.mkdirat(dirFd, encode(path, 0), mode) < 0) throw fail("mkdirat", path);
    },
    link(srcDirFd, src, destDirFd, dest) {
      if (c.linkat(srcDirFd, encode(src, 0), destDirFd, encode(dest, 1), 0) < 0) {
        throw fail("linkat", src, dest);
      }
    },
    stat(dirFd, path): FileStat | undefined {
      if (c.statx(dirFd, encode(path, 0), AT_SYMLINK_NOFOLLOW, STATX_WANTED, statBuf) < 0) {
        const error = fail("statx", path);
        if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
        throw error;
      }
      const mode = view.getUint16(28, true);
      // 64-bit fields read as two 32-bit halves: no BigInt per field, at one stat per file.
      const seconds = view.getUint32(112, true) + view.getInt32(116, true) * 2 ** 32;
      return {
        isFile: (mode & 0o170000) === 0o100000,
        size: view.getUint32(40, true) + view.getUint32(44, true) * 2 ** 32,
        mode,
        mtimeMs: seconds * 1000 + view.getUint32(120, true) / 1e6,
      };
    },
    close(fd) {
      c.close(fd);
    },
  };
}

/** Raw macOS calls. */
export interface DarwinCalls {
  clonefile(src: Uint8Array<ArrayBuffer>, dest: Uint8Array<ArrayBuffer>, flags: number): number;
  errno(): number;
}

/** A loaded libc. `reflink` takes the mode for the new file; by default it copies `src`'s permission bits. */
export interface LoadedLibc extends Libc {
  /** The library path that loaded. */
  readonly path: string;
  /**
   * Clone `src` to a new file `dest` (which must not exist). On Linux `mode` sets the new file's
   * permission bits (less the umask); default: those of `src`. On macOS clonefile copies them.
   */
  reflink(src: string, dest: string, mode?: number): void;
  /** Unload the library. The object must not be used afterwards. */
  close(): void;
}

/**
 * Linux reflink: open both files, FICLONE, close; on failure remove the half-made `dest`.
 *
 * @example
 * ```ts ignore
 * const reflink = linuxReflink(calls);
 * reflink("/store/v1/files/ab/cd", "/proj/node_modules/x/index.js");
 * ```
 */
export function linuxReflink(c: LinuxCalls): (src: string, dest: string, mode?: number) => void {
  return (src, dest, mode) => {
    const srcFd = c.open(cString(src), O_RDONLY | O_CLOEXEC, 0);
    if (srcFd < 0) throw libcError(c.errno(), "linux", "open", src);
    const destPath = cString(dest);
    let destFd = -1;
    try {
      // FICLONE shares data, not metadata: the new inode gets the store entry's bits (0o444 / 0o555).
      const perm = mode ?? (statSync(src).mode & 0o7777);
      destFd = c.open(destPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, perm);
      if (destFd < 0) throw libcError(c.errno(), "linux", "open", dest);
      if (c.ficlone(destFd, srcFd) < 0) {
        const errno = c.errno();
        c.close(destFd);
        destFd = -1;
        c.unlink(destPath); // we created it (O_EXCL), so it is ours to remove
        throw libcError(errno, "linux", "ioctl(FICLONE)", src, dest);
      }
    } finally {
      if (destFd >= 0) c.close(destFd);
      c.close(srcFd);
    }
  };
}

/**
 * macOS reflink via `clonefile(src, dest, 0)`; it creates `dest` atomically, so nothing to clean up.
 *
 * @example
 * ```ts ignore
 * darwinReflink(calls)("/store/v1/files/ab/cd", "/proj/node_modules/x/index.js");
 * ```
 */
export function darwinReflink(c: DarwinCalls): (src: string, dest: string, mode?: number) => void {
  return (src, dest) => {
    if (c.clonefile(cString(src), cString(dest), 0) < 0) {
      throw libcError(c.errno(), "darwin", "clonefile", src, dest);
    }
  };
}
