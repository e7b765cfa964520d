/**
 * libc through `Deno.dlopen`: FICLONE on Linux, clonefile on macOS.
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

// open(2) is variadic; declaring the mode as a fixed u32 is ABI-safe on x86_64 and aarch64 Linux.
// ioctl(2) likewise takes its third argument (the source fd for FICLONE) as a plain int.
const LINUX_SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  unlink: { parameters: ["buffer"], result: "i32" },
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  mkdirat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  linkat: { parameters: ["i32", "buffer", "i32", "buffer", "i32"], result: "i32" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

const DARWIN_SYMBOLS = {
  clonefile: { parameters: ["buffer", "buffer", "u32"], result: "i32" },
  __error: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

function readErrno(ptr: Deno.PointerValue): number {
  return ptr === null ? 0 : new Deno.UnsafePointerView(ptr).getInt32();
}

/**
 * Load libc with Deno's FFI. Returns null when the OS has no adapter or no candidate library loads
 * (then {@linkcode libcLoadError} says why); needs `--allow-ffi`.
 *
 * @example
 * ```ts ignore
 * const libc = loadLibcDeno();
 * libc?.reflink("/store/v1/files/ab/cdef", "/proj/node_modules/pkg/index.js");
 * ```
 */
export function loadLibcDeno(options: LibcLoadOptions = {}): LoadedLibc | null {
  const os = libcOs(Deno.build.os);
  if (os === "darwin") {
    const found = loadFirst(os, options, (path) => Deno.dlopen(path, DARWIN_SYMBOLS));
    if (!found) return null;
    const s = found.lib.symbols;
    return {
      path: found.path,
      reflink: darwinReflink({
        clonefile: (src, dest, flags) => s.clonefile(src, dest, flags),
        errno: () => readErrno(s.__error()),
      }),
      close: () => found.lib.close(),
    };
  }
  if (os === "linux") {
    const found = loadFirst(os, options, (path) => Deno.dlopen(path, LINUX_SYMBOLS));
    if (!found) return null;
    const s = found.lib.symbols;
    const errno = () => readErrno(s.__errno_location());
    const close = (fd: number) => s.close(fd);
    return {
      path: found.path,
      reflink: linuxReflink({
        open: (path, flags, mode) => s.open(path, flags, mode),
        ficlone: (destFd, srcFd) => s.ioctl(destFd, FICLONE, srcFd),
        close,
        unlink: (path) => s.unlink(path),
        errno,
      }),
      dirs: linuxDirCalls({
        openat: (dirFd, path, flags, mode) => s.openat(dirFd, path, flags, mode),
        mkdirat: (dirFd, path, mode) => s.mkdirat(dirFd, path, mode),
        linkat: (srcFd, src, destFd, dest, flags) => s.linkat(srcFd, src, destFd, dest, flags),
        statx: (dirFd, path, flags, mask, out) => s.statx(dirFd, path, flags, mask, out),
        close,
        errno,
      }),
      close: () => found.lib.close(),
    };
  }
  return null;
}

export { libcLoadError } from "./libc_common.ts";
