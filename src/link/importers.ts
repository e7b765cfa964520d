/**
 * The three importers. Each is one syscall-ish call per file: they are sync on purpose, since package
 * files are small and a promise per file costs more than the link itself.
 *
 * @module
 */
import { constants, copyFileSync } from "node:fs";
import type { Libc } from "../runtime/types.ts";
import { linkFromCas } from "../store/cas_link.ts";
import type { FileImporter, ImportMethod } from "./types.ts";

/** Libc as the clone importer calls it: the runtime adapters accept the new file's mode too. */
type ReflinkWithMode = { reflink(src: string, dest: string, mode?: number): void };

/**
 * Copy-on-write clones (FICLONE / clonefile): a new inode sharing the store file's extents.
 *
 * @example
 * ```ts ignore
 * cloneImporter(libc).importFile(storeFile, "/proj/node_modules/a/index.js");
 * ```
 */
export function cloneImporter(libc: Libc): FileImporter {
  const l = libc as ReflinkWithMode;
  return { method: "clone", importFile: (src, dest, mode) => l.reflink(src, dest, mode) };
}

/**
 * Hard links: the same inode as the store file, so its read-only bits come along. Through
 * {@linkcode linkFromCas}: another process may be publishing the same file as we link it.
 *
 * @example
 * ```ts ignore
 * hardlinkImporter().importFile(storeFile, "/proj/node_modules/a/index.js");
 * ```
 */
export function hardlinkImporter(): FileImporter {
  return { method: "hardlink", importFile: (src, dest) => void linkFromCas(src, dest), plainLink: true };
}

/**
 * Plain copies (the kernel may still use copy_file_range). Keeps the store entry's 0o444 / 0o555 bits;
 * the store file is only read.
 *
 * @example
 * ```ts ignore
 * copyImporter().importFile(storeFile, "/proj/node_modules/a/index.js");
 * ```
 */
export function copyImporter(): FileImporter {
  return {
    method: "copy",
    importFile: (src, dest) => copyFileSync(src, dest, constants.COPYFILE_EXCL),
  };
}

/**
 * The importer for `method`; null for "clone" without libc.
 *
 * @example
 * ```ts ignore
 * const importer = importerForMethod("hardlink", null)!;
 * ```
 */
export function importerForMethod(method: ImportMethod, libc: Libc | null): FileImporter | null {
  switch (method) {
    case "clone":
      return libc ? cloneImporter(libc) : null;
    case "hardlink":
      return hardlinkImporter();
    case "copy":
      return copyImporter();
  }
}
