/**
 * An importer that survives a filesystem surprise mid-install (a nested mount, an overlay that
 * refuses FICLONE for some files): it downgrades clone -> hardlink -> copy instead of failing.
 *
 * @module
 */
import type { Libc } from "../runtime/types.ts";
import { adviceFor, errorCode, ImportError, UNSUPPORTED } from "./errors.ts";
import { copyImporter, importerForMethod } from "./importers.ts";
import type { FileImporter, ImportMethod, Warn } from "./types.ts";

const NEXT: Record<ImportMethod, ImportMethod | null> = { clone: "hardlink", hardlink: "copy", copy: null };

/** Options for {@linkcode importerFor}. */
export interface FallbackOptions {
  /** libc, for building a clone importer (only needed when `initial` is not already one). */
  libc: Libc | null;
  /** Told once per downgrade, and once if any file hits the hard link limit. */
  warn: Warn;
}

/**
 * Wrap `initial` so that a per-file EXDEV / EOPNOTSUPP (see {@linkcode UNSUPPORTED}) switches to the
 * next method for this file and every later one, with one warning, instead of failing the install.
 * A hard link that hits the link limit (EMLINK) copies just that file. Other errors throw an
 * {@linkcode ImportError} naming the method and both paths.
 *
 * @example
 * ```ts ignore
 * const importer = importerFor(cloneImporter(libc), { libc, warn: console.warn });
 * importer.importFile(storeFile, dest); // may now be a hardlink; importer.method says which
 * ```
 */
export function importerFor(initial: FileImporter, options: FallbackOptions): FileImporter {
  const { libc, warn } = options;
  let current = initial;
  let warnedLinkLimit = false;

  function downgrade(src: string, dest: string, mode: number | undefined, error: unknown): void {
    const from = current.method;
    let cause = error;
    for (let method = NEXT[current.method]; method !== null; method = NEXT[method]) {
      const next = importerForMethod(method, libc)!; // only clone needs libc, and clone is never next
      try {
        next.importFile(src, dest, mode);
      } catch (err) {
        const code = errorCode(err);
        if (method !== "copy" && code && UNSUPPORTED[method as "hardlink"].includes(code)) {
          cause = err;
          continue;
        }
        throw new ImportError(method, src, dest, err, `after ${from} failed (${errorCode(error)})`);
      }
      current = next;
      const code = errorCode(cause);
      warn(
        `silo: ${from} failed for '${dest}' (${errorCode(error)}); using ${method} for the rest of ` +
          `this install. ${capitalize(adviceFor(from, code))}.`,
      );
      return;
    }
  }

  return {
    get method() {
      return current.method;
    },
    get plainLink() {
      return current.plainLink;
    },
    importFile(src, dest, mode) {
      try {
        current.importFile(src, dest, mode);
      } catch (err) {
        const method = current.method;
        const code = errorCode(err);
        if (method !== "copy" && code && UNSUPPORTED[method].includes(code)) {
          return downgrade(src, dest, mode, err);
        }
        if (method === "hardlink" && code === "EMLINK") {
          // One store inode has as many links as the filesystem allows (65000 on ext4): copy this one.
          try {
            copyImporter().importFile(src, dest, mode);
          } catch (copyErr) {
            throw new ImportError("copy", src, dest, copyErr, "after hardlink hit the link limit (EMLINK)");
          }
          if (!warnedLinkLimit) {
            warnedLinkLimit = true;
            warn(`silo: '${src}' has reached the filesystem's hard link limit; copying such files instead.`);
          }
          return;
        }
        throw new ImportError(method, src, dest, err);
      }
    },
  };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
