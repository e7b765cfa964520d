/**
 * libc through `bun:ffi`: FICLONE on Linux, clonefile on macOS.
 *
 * `bun:ffi` is imported dynamically with a computed specifier so `deno check` (which cannot resolve
 * it) never sees it; the few bun:ffi types used here are declared locally.
 *
 * @module
 */
import {
  darwinReflink,
  FICLONE,
  type LibcLoadOptions,
  libcOs,
  linuxDirCalls,
  linuxReflink,
  type LoadedLibc,
  loadFirst,
} from "./libc_common.ts";

/** The slice of bun:ffi this adapter uses. */
interface BunFfi {
  dlopen<S extends Record<string, BunFfiFunction>>(
    path: string,
    symbols: S,
  ): { symbols: { [K in keyof S]: (...args: unknown[]) => unknown }; close(): void };
  read: { i32(ptr: number, offset?: number): number };
}

interface BunFfiFunction {
  readonly args: readonly ("i32" | "u32" | "u64" | "ptr" | "buffer")[];
  readonly returns: "i32" | "ptr" | "void";
}

const LINUX_SYMBOLS = {
  open: { args: ["buffer", "i32", "u32"], returns: "i32" },
  ioctl: { args: ["i32", "u64", "i32"], returns: "i32" },
  close: { args: ["i32"], returns: "i32" },
  unlink: { args: ["buffer"], returns: "i32" },
  openat: { args: ["i32", "buffer", "i32", "u32"], returns: "i32" },
  mkdirat: { args: ["i32", "buffer", "u32"], returns: "i32" },
  linkat: { args: ["i32", "buffer", "i32", "buffer", "i32"], returns: "i32" },
  statx: { args: ["i32", "buffer", "i32", "u32", "buffer"], returns: "i32" },
  __errno_location: { args: [], returns: "ptr" },
} as const satisfies Record<string, BunFfiFunction>;

const DARWIN_SYMBOLS = {
  clonefile: { args: ["buffer", "buffer", "u32"], returns: "i32" },
  __error: { args: [], returns: "ptr" },
} as const satisfies Record<string, BunFfiFunction>;

// A plain string would let bundlers and `deno check` try to resolve the module.
const BUN_FFI: string = ["bun", "ffi"].join(":");

/**
 * Load libc with Bun's FFI. Resolves to null when not on Bun, the OS has no adapter, or no candidate
 * library loads (then {@linkcode libcLoadError} says why).
 *
 * @example
 * ```ts ignore
 * const libc = await loadLibcBun();
 * libc?.reflink("/store/v1/files/ab/cdef", "/proj/node_modules/pkg/index.js");
 * ```
 */
export async function loadLibcBun(options: LibcLoadOptions = {}): Promise<LoadedLibc | null> {
  const os = libcOs();
  if (os === null) return null;
  let ffi: BunFfi;
  try {
    ffi = await import(BUN_FFI) as BunFfi;
  } catch (cause) {
    const error = new Error("bun:ffi is unavailable; reflinks are disabled", { cause });
    options.onError?.(error);
    return null;
  }
  const errnoAt = (ptr: unknown) => (typeof ptr === "number" && ptr !== 0 ? ffi.read.i32(ptr, 0) : 0);
  if (os === "darwin") {
    const found = loadFirst(os, options, (path) => ffi.dlopen(path, DARWIN_SYMBOLS));
    if (!found) return null;
    const s = found.lib.symbols;
    return {
      path: found.path,
      reflink: darwinReflink({
        clonefile: (src, dest, flags) => s.clonefile(src, dest, flags) as number,
        errno: () => errnoAt(s.__error()),
      }),
      close: () => found.lib.close(),
    };
  }
  const found = loadFirst(os, options, (path) => ffi.dlopen(path, LINUX_SYMBOLS));
  if (!found) return null;
  const s = found.lib.symbols;
  const errno = () => errnoAt(s.__errno_location());
  const close = (fd: number) => s.close(fd) as number;
  return {
    path: found.path,
    reflink: linuxReflink({
      open: (path, flags, mode) => s.open(path, flags, mode) as number,
      ficlone: (destFd, srcFd) => s.ioctl(destFd, FICLONE, srcFd) as number,
      close,
      unlink: (path) => s.unlink(path) as number,
      errno,
    }),
    dirs: linuxDirCalls({
      openat: (dirFd, path, flags, mode) => s.openat(dirFd, path, flags, mode) as number,
      mkdirat: (dirFd, path, mode) => s.mkdirat(dirFd, path, mode) as number,
      linkat: (srcFd, src, destFd, dest, flags) => s.linkat(srcFd, src, destFd, dest, flags) as number,
      statx: (dirFd, path, flags, mask, out) => s.statx(dirFd, path, flags, mask, out) as number,
      close,
      errno,
    }),
    close: () => found.lib.close(),
  };
}

export { libcLoadError } from "./libc_common.ts";
