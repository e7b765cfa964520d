/**
 * Fill package folders from the store and create symlinks and .bin links. A
 * package's package.json is imported last, so an interrupted install never leaves a
 * folder that looks complete.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import type { FileImporter } from "../link/mod.ts";
import type { PackageRecord } from "../store/index_db.ts";
import type { StoreLayout } from "../store/layout.ts";
import type { BinMap } from "../store/manifest.ts";

/** A store file named by the index is gone (verify --repair, gc, a hand edit): re-fetch the package. */
export class MissingStoreFileError extends Error {
  constructor(readonly record: PackageRecord, readonly file: string, options?: ErrorOptions) {
    super(`${record.name}@${record.version}: store file for ${file} is missing`, options);
    this.name = "MissingStoreFileError";
  }
}

/**
 * Creates folders once per install, parents first, one plain mkdir each: a recursive
 * mkdir re-walks every ancestor and was the largest cost of a hot install (measured:
 * 400 ms of a 1 s mocha restore on Deno).
 */
export class DirMaker {
  #made = new Set<string>();
  ensure(dir: string): void {
    if (this.#made.has(dir)) return;
    const parent = path.dirname(dir);
    if (parent !== dir) this.ensure(parent);
    try {
      fs.mkdirSync(dir, { mode: 0o755 });
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
    this.#made.add(dir);
  }
  forget(dir: string): void {
    for (const d of this.#made) if (d === dir || d.startsWith(dir + path.sep)) this.#made.delete(d);
  }
}

/**
 * Import every file of `record` into `dir` (absolute). Returns the number of files.
 * Throws {@linkcode MissingStoreFileError} when the store lacks a file the row names.
 */
export function importPackage(
  record: PackageRecord,
  dir: string,
  layout: StoreLayout,
  importer: FileImporter,
  dirs: DirMaker,
): number {
  dirs.ensure(dir);
  let manifest: string | undefined;
  let count = 0;
  const importOne = (rel: string) => {
    const entry = record.files[rel];
    const exec = (entry.mode & 0o111) !== 0;
    const dest = path.join(dir, rel);
    const slash = rel.lastIndexOf("/");
    if (slash > 0) dirs.ensure(path.join(dir, rel.slice(0, slash)));
    try {
      importer.importFile(layout.filePath(entry.digest, exec), dest, exec ? 0o555 : 0o444);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "EEXIST") {
        // A re-run over a half-built folder: replace what is there (it is ours, in our node_modules).
        fs.rmSync(dest, { force: true });
        importer.importFile(layout.filePath(entry.digest, exec), dest, exec ? 0o555 : 0o444);
      } else if (code === "ENOENT" && !fs.existsSync(layout.filePath(entry.digest, exec))) {
        throw new MissingStoreFileError(record, rel, { cause: error });
      } else throw error;
    }
    count++;
  };
  for (const rel in record.files) {
    if (rel === "package.json") manifest = rel;
    else importOne(rel);
  }
  if (manifest) importOne(manifest);
  return count;
}

/** Replace whatever is at `at` with a relative symlink to `target` (both absolute). */
export function symlinkDir(target: string, at: string, dirs: DirMaker): void {
  const parent = path.dirname(at);
  dirs.ensure(parent);
  const text = path.relative(parent, target) || ".";
  try {
    fs.symlinkSync(text, at, "junction");
  } catch (error) {
    if ((error as { code?: string }).code !== "EEXIST") throw error;
    const st = fs.lstatSync(at);
    if (st.isSymbolicLink() && fs.readlinkSync(at) === text) return;
    fs.rmSync(at, { recursive: true, force: true });
    fs.symlinkSync(text, at, "junction");
  }
}

/** One package's claim on a .bin entry. */
interface BinOwner {
  pkgDir: string;
  name?: string;
  version?: string;
}

/**
 * Who gets each .bin entry when two packages offer the same command. "first": the first claim wins
 * (npm's order, which the hoisted plan reproduces). "pnpm": pnpm's rule: the package that owns the name
 * (`playwright` over `@playwright/test` for the command `playwright`), else the greater package name,
 * else the greater version.
 *
 * @example
 * ```ts ignore
 * const claims = new BinClaims("pnpm");
 * linkBins(bins, pkgDir, binDir, dirs, claims);
 * ```
 */
export class BinClaims {
  readonly #owners = new Map<string, BinOwner>();
  constructor(readonly rule: "first" | "pnpm" = "first") {}

  /** Whether the package at `pkgDir` should (re)write the entry `at` for command `cmd`. */
  claim(at: string, cmd: string, pkgDir: string): boolean {
    const current = this.#owners.get(at);
    const owner: BinOwner = { pkgDir };
    if (
      current && (this.rule === "first" || current.pkgDir === pkgDir || !this.#beats(owner, current, cmd))
    ) return false;
    this.#owners.set(at, owner);
    return true;
  }

  #beats(a: BinOwner, b: BinOwner, cmd: string): boolean {
    // Conflicts are rare: read the two manifests only then.
    for (const o of [a, b]) {
      if (o.name !== undefined) continue;
      try {
        const pkg = JSON.parse(fs.readFileSync(path.join(o.pkgDir, "package.json"), "utf8"));
        o.name = String(pkg.name ?? "");
        o.version = String(pkg.version ?? "");
      } catch {
        o.name = o.version = "";
      }
    }
    const owns = (o: BinOwner) => o.name === cmd || o.name!.endsWith(`/${cmd}`);
    if (owns(a) !== owns(b)) return owns(a);
    if (a.name !== b.name) return a.name!.localeCompare(b.name!) > 0;
    return a.version!.localeCompare(b.version!, undefined, { numeric: true }) > 0;
  }
}

/**
 * Link each command of the package at `pkgDir` into `binDir` (absolute). A plain set of taken paths means
 * the first package to claim a command keeps it; {@linkcode BinClaims} can apply pnpm's rule instead.
 */
export function linkBins(
  bins: BinMap,
  pkgDir: string,
  binDir: string,
  dirs: DirMaker,
  taken: Set<string> | BinClaims,
): number {
  let count = 0;
  for (const [name, target] of Object.entries(bins)) {
    const at = path.join(binDir, name);
    if (taken instanceof BinClaims) {
      if (!taken.claim(at, name, pkgDir)) continue;
    } else if (taken.has(at)) continue;
    else taken.add(at);
    dirs.ensure(binDir);
    const text = path.relative(binDir, path.join(pkgDir, target));
    try {
      fs.symlinkSync(text, at);
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
      fs.rmSync(at, { force: true });
      fs.symlinkSync(text, at);
    }
    count++;
  }
  return count;
}
