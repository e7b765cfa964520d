/**
 * Pick an importer by trying the methods once per (store filesystem, target filesystem) pair.
 *
 * @module
 */
import { lstatSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import type { Libc } from "../runtime/types.ts";
import { errorCode, ImportError } from "./errors.ts";
import { cloneImporter, copyImporter, hardlinkImporter, importerForMethod } from "./importers.ts";
import { importerFor } from "./fallback.ts";
import type { FileImporter, ImportMethod, RequestedMethod, Warn } from "./types.ts";

type Probed = "clone" | "hardlink";
/** A probe's result: null when the method worked, else the error it threw. */
type Outcome = { error: unknown } | null;

/**
 * Probe results keyed by the (store, target) filesystem pair. One per process is right (filesystems
 * do not change under us); tests make their own.
 *
 * @example
 * ```ts ignore
 * const cache = new ProbeCache();
 * chooseImporter({ requested: "auto", storeDir, targetDir, libc, warn, cache });
 * cache.probes; // 1 or 2; a second call for the same filesystems adds none
 * ```
 */
export class ProbeCache {
  readonly #outcomes = new Map<string, Partial<Record<Probed, Outcome>>>();
  /** Filesystem pairs whose copy fallback has been announced. */
  readonly #warned = new Set<string>();
  /** How many probes actually ran (a test hook: the second install must not probe again). */
  probes = 0;

  /** @internal */
  entry(key: string): Partial<Record<Probed, Outcome>> {
    let e = this.#outcomes.get(key);
    if (!e) this.#outcomes.set(key, e = {});
    return e;
  }

  /** @internal True the first time only, per filesystem pair. */
  firstWarning(key: string): boolean {
    if (this.#warned.has(key)) return false;
    this.#warned.add(key);
    return true;
  }
}

const defaultCache = new ProbeCache();

/** Options for {@linkcode chooseImporter}. */
export interface ChooseImporterOptions {
  /** The method asked for; "auto" tries clone, then hardlink, then copy. */
  requested: RequestedMethod;
  /** The store root (the directory holding `v1/`). */
  storeDir: string;
  /** Where files will be imported (e.g. the project's node_modules); need not exist yet. */
  targetDir: string;
  /** libc, or null (then there are no clones). */
  libc: Libc | null;
  /** Receives the one warning about a fallback to copying. */
  warn: Warn;
  /** Probe cache (default: one per process). */
  cache?: ProbeCache;
}

/**
 * Choose the importer for files from `storeDir` into `targetDir`.
 *
 * "auto" probes (once per filesystem pair) by cloning, then hard-linking, a probe file from
 * `<storeDir>/v1/tmp` into `targetDir`, picks the first that works, and falls back to copy with exactly
 * one warning; the result also downgrades by itself if a later file fails the same way (see
 * {@linkcode importerFor}). An explicit method is probed too, and throws an {@linkcode ImportError}
 * saying what to do when it cannot work here.
 *
 * @example
 * ```ts ignore
 * const importer = chooseImporter({ requested: "auto", storeDir, targetDir, libc, warn: console.warn });
 * importer.importFile(`${storeDir}/v1/files/ab/cdef`, `${targetDir}/pkg/index.js`);
 * ```
 */
export function chooseImporter(options: ChooseImporterOptions): FileImporter {
  const { requested, storeDir, targetDir, libc, warn } = options;
  if (requested === "copy") return explicit(copyImporter());
  const tmp = join(storeDir, "v1", "tmp");
  mkdirSync(tmp, { recursive: true });
  const probeDir = nearestExistingDir(targetDir);
  const cache = options.cache ?? defaultCache;
  const key = `${statSync(tmp).dev}:${statSync(probeDir).dev}`;
  const entry = cache.entry(key);
  const outcome = (method: Probed): Outcome => {
    if (!(method in entry)) {
      cache.probes++;
      entry[method] = probe(method, tmp, probeDir, libc);
    }
    return entry[method]!;
  };

  if (requested === "clone") {
    if (!libc) {
      throw new Error(
        `clone was requested to import from '${storeDir}' into '${targetDir}', but libc could not be ` +
          "loaded, so reflinks are unavailable; use the auto, hardlink or copy method (or set SILO_LIBC_PATH)",
      );
    }
    const o = outcome("clone");
    if (o) throw new ImportError("clone", storeDir, targetDir, o.error, "cannot clone here");
    return explicit(cloneImporter(libc));
  }
  if (requested === "hardlink") {
    const o = outcome("hardlink");
    if (o) throw new ImportError("hardlink", storeDir, targetDir, o.error, "cannot hard-link here");
    return explicit(hardlinkImporter());
  }

  // auto
  if (libc && outcome("clone") === null) return importerFor(cloneImporter(libc), { libc, warn });
  const link = outcome("hardlink");
  if (link === null) return importerFor(hardlinkImporter(), { libc, warn });
  // A full or read-only disk says nothing about hard links, and copying would fail the same way.
  if (NOT_ABOUT_THE_METHOD.includes(errorCode(link.error) ?? "")) {
    throw new ImportError("hardlink", storeDir, targetDir, link.error, "cannot write here");
  }
  // Say so once per filesystem pair, when the probe finds it out, not on every install in the process.
  if (cache.firstWarning(key)) warn(copyWarning(storeDir, targetDir, errorCode(link.error)));
  return importerFor(copyImporter(), { libc, warn });
}

/** Probe failures that are the disk's state, not the method's support: the install fails with them. */
const NOT_ABOUT_THE_METHOD = ["ENOSPC", "EDQUOT", "EROFS", "EIO"];

function copyWarning(storeDir: string, targetDir: string, code: string | undefined): string {
  if (code === "EXDEV") {
    return `silo: the store (${storeDir}) and ${targetDir} are on different filesystems, so files are ` +
      "copied instead of hard-linked (slower, and uses more disk). Put the store on the same filesystem " +
      "as your projects, e.g. by setting SILO_STORE_DIR.";
  }
  return `silo: hard links from the store (${storeDir}) into ${targetDir} are not possible` +
    `${code ? ` (${code})` : ""}, so files are copied instead (slower, and uses more disk).`;
}

/** Which methods work within the store's own filesystem (for `silo store status`). */
export interface StoreMethods {
  clone: boolean;
  hardlink: boolean;
}

/**
 * Report which import methods the store's filesystem supports, by trying them inside `<storeDir>/v1/tmp`.
 *
 * @example
 * ```ts ignore
 * probeMethods(storeDir, libc); // { clone: true, hardlink: true } on XFS with reflink=1
 * ```
 */
export function probeMethods(storeDir: string, libc: Libc | null): StoreMethods {
  const tmp = join(storeDir, "v1", "tmp");
  mkdirSync(tmp, { recursive: true });
  return {
    clone: libc !== null && probe("clone", tmp, tmp, libc) === null,
    hardlink: probe("hardlink", tmp, tmp, libc) === null,
  };
}

let seq = 0;

/** Try `method` once on a fresh probe file; clean up whatever it made. */
function probe(method: Probed, tmp: string, targetDir: string, libc: Libc | null): Outcome {
  const id = `${process.pid}-${Date.now().toString(36)}-${seq++}`;
  const src = join(tmp, `probe-${id}`);
  const dest = join(targetDir, `.silo-probe-${id}`);
  try {
    writeFileSync(src, "silo import probe\n", { mode: 0o444 });
    if (method === "clone") cloneImporter(libc!).importFile(src, dest, 0o444);
    else hardlinkImporter().importFile(src, dest);
    return null;
  } catch (error) {
    return { error };
  } finally {
    rmSync(dest, { force: true });
    rmSync(src, { force: true });
  }
}

/** `dir` or its closest existing ancestor: it lives on the filesystem `dir` will be created on. */
function nearestExistingDir(dir: string): string {
  for (let d = dir;; d = dirname(d)) {
    try {
      if (lstatSync(d).isDirectory()) return d;
    } catch {
      // missing: try the parent
    }
    if (dirname(d) === d) return d;
  }
}

/** What another thread needs to rebuild an importer: the method in use and whether it was chosen by auto. */
export interface ImporterSpec {
  method: ImportMethod;
  /** Chosen by "auto": falls back per file as {@linkcode importerFor} does; else failures are errors. */
  auto: boolean;
}

/**
 * The importer `spec` describes, without probing again (the thread that chose it already did).
 *
 * @example
 * ```ts ignore
 * const importer = importerFromSpec({ method: "hardlink", auto: true }, null, console.warn);
 * ```
 */
export function importerFromSpec(spec: ImporterSpec, libc: Libc | null, warn: Warn): FileImporter {
  const base = importerForMethod(spec.method, libc);
  if (!base) throw new Error(`cannot ${spec.method} without libc`);
  return spec.auto ? importerFor(base, { libc, warn }) : explicit(base);
}

/** Wrap per-file failures of an explicitly requested method in an ImportError that says what to do. */
function explicit(importer: FileImporter): FileImporter {
  return {
    method: importer.method,
    plainLink: importer.plainLink,
    importFile(src, dest, mode) {
      try {
        importer.importFile(src, dest, mode);
      } catch (err) {
        throw new ImportError(importer.method, src, dest, err);
      }
    },
  };
}
