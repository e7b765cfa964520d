/**
 * The error an import throws: names the method, both paths and what to do about it.
 *
 * @module
 */
import type { ImportMethod } from "./types.ts";

/**
 * errno names that mean "this filesystem (pair) cannot do this method", not "this file is bad".
 *
 * @example
 * ```ts
 * UNSUPPORTED.hardlink.includes("EXDEV"); // true
 * ```
 */
export const UNSUPPORTED: Readonly<Record<"clone" | "hardlink", readonly string[]>> = {
  // FICLONE: EXDEV across filesystems, EOPNOTSUPP on ext4/tmpfs, EINVAL/ENOTTY on some FUSE and overlay.
  clone: ["EXDEV", "EOPNOTSUPP", "ENOTSUP", "EINVAL", "ENOTTY", "ENOSYS"],
  // link(2): EPERM where the filesystem has no hard links (e.g. FAT, some FUSE).
  hardlink: ["EXDEV", "EPERM", "EOPNOTSUPP", "ENOTSUP"],
};

/**
 * The errno name of `err`, if it has one.
 *
 * @example
 * ```ts
 * errorCode(Object.assign(new Error("x"), { code: "EEXIST" })); // "EEXIST"
 * ```
 */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  // Deno's node:fs copyFileSync(COPYFILE_EXCL) throws a code-less "A file exists at the destination".
  if (err instanceof Error && /file exists at the destination/i.test(err.message)) return "EEXIST";
  return undefined;
}

/**
 * What to do about a failed import, by method and errno name.
 *
 * @example
 * ```ts
 * adviceFor("hardlink", "EXDEV"); // "the store and the target are on different filesystems; ..."
 * ```
 */
export function adviceFor(method: ImportMethod, code: string | undefined): string {
  switch (code) {
    case "EXDEV":
      return "the store and the target are on different filesystems; put the store on the project's " +
        "filesystem (set SILO_STORE_DIR) or use the copy method";
    case "EOPNOTSUPP":
    case "ENOTSUP":
    case "EINVAL":
    case "ENOTTY":
    case "ENOSYS":
      return method === "clone"
        ? "this filesystem does not support reflinks (btrfs, XFS with reflink=1, bcachefs and APFS do); " +
          "use the auto, hardlink or copy method"
        : "this filesystem does not support it; use the copy method";
    case "EPERM":
    case "EMLINK":
      return method === "hardlink"
        ? "the filesystem refused the hard link; use the copy method"
        : "permission denied; check the target directory's permissions";
    case "EACCES":
    case "EROFS":
      return "the target is not writable; check its permissions, or that its filesystem is not read-only";
    case "ENOSPC":
    case "EDQUOT":
      return "the disk is full; free some space and retry";
    case "ENOENT":
      return "the store file or the target's directory is missing; run `silo verify --repair` and retry";
    case "EEXIST":
      return "the target already exists; remove node_modules and retry";
    default:
      return "see the cause below";
  }
}

/**
 * A failed import.
 *
 * @example
 * ```ts
 * const err = new ImportError("hardlink", "/store/f", "/proj/f", Object.assign(new Error("x"), { code: "EXDEV" }));
 * // err.code === "EXDEV"; err.message names hardlink, both paths and the fix
 * ```
 */
export class ImportError extends Error {
  /** errno name of the cause, e.g. "EXDEV". */
  readonly code: string | undefined;
  /** The method that failed. */
  readonly method: ImportMethod;
  /** The store file. */
  readonly src: string;
  /** The destination. */
  readonly dest: string;

  constructor(method: ImportMethod, src: string, dest: string, cause: unknown, context?: string) {
    const code = errorCode(cause);
    super(
      `${context ? `${context}: ` : ""}${method} of '${src}' to '${dest}' failed` +
        `${code ? ` (${code})` : ""}: ${adviceFor(method, code)}`,
      { cause },
    );
    this.name = "ImportError";
    this.code = code;
    this.method = method;
    this.src = src;
    this.dest = dest;
  }
}
