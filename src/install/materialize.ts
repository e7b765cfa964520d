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
import type { DirCalls } from "../runtime/types.ts";
import type { PackageRecord } from "../store/index_db.ts";
import type { StoreLayout } from "../store/layout.ts";
import type { BinMap } from "../store/manifest.ts";
import type { StoreFileStat } from "../store/verifier.ts";

/** The part of a package row that importing needs (install workers receive just this). */
export type ImportableRecord = Pick<PackageRecord, "key" | "name" | "version" | "files">;

/** What importing a package did: how many files, and which one came last (it marks the folder complete). */
export interface Imported {
  files: number;
  last?: string;
}

/**
 * How a package's files are named in node_modules: as packed (pnpm, bun), or as npm unpacks them: pacote
 * renames every `.gitignore` to `.npmignore` (npm publishes them the other way round); where the package
 * has both, its `.npmignore` is the one left.
 */
export type FileNaming = "packed" | "npm";

/**
 * Whether npm's naming drops the packed file `rel`: a `.gitignore` beside a packed `.npmignore`.
 *
 * @example
 * ```ts
 * shadowedUnderNpm("a/.gitignore", { "a/.npmignore": 1, "a/.gitignore": 1 }); // true
 * ```
 */
export function shadowedUnderNpm(rel: string, files: Record<string, unknown>): boolean {
  const renamed = npmignoreFor(rel);
  return renamed !== undefined && renamed in files;
}

/** The `.npmignore` npm unpacks a packed `.gitignore` as; undefined for any other file. */
function npmignoreFor(rel: string): string | undefined {
  if (rel !== ".gitignore" && !rel.endsWith("/.gitignore")) return undefined;
  return `${rel.slice(0, -".gitignore".length)}.npmignore`;
}

/**
 * The path a packed file `rel` gets under `naming`.
 *
 * @example
 * ```ts
 * placedName("stubs/.gitignore", "npm"); // "stubs/.npmignore"
 * ```
 */
export function placedName(rel: string, naming: FileNaming): string {
  return naming === "npm" ? npmignoreFor(rel) ?? rel : rel;
}

/** A store file named by the index is gone (verify --repair, gc, a hand edit): re-fetch the package. */
export class MissingStoreFileError extends Error {
  constructor(readonly record: ImportableRecord, readonly file: string, options?: ErrorOptions) {
    super(`${record.name}@${record.version}: store file for ${file} is missing`, options);
    this.name = "MissingStoreFileError";
  }
}

/**
 * The filesystem side of an install: folders, file imports and symlinks, one call at a time on
 * purpose. Measured on ext4 (mocha, hot): keeping 16-64 async calls in flight was slower on Deno
 * (0.86-1.1 s vs 0.61-0.77 s) and no faster on Bun, and it held more memory. Folders are made once,
 * parents first, with one plain mkdir each (a recursive mkdir re-walks every ancestor).
 *
 * Given directory calls (Linux), silo's own hard links (`plainLink` importers) made while the store is
 * held open ({@linkcode openStore}) go from the open store folder to the open package folder by short
 * relative paths; anything linkat cannot do (a file already there, another filesystem, the CAS race of
 * cas_link.ts) falls to the importer with absolute paths, which handles it and names the error.
 */
export class Materializer {
  readonly #dirs = new Set<string>();
  readonly #layout: StoreLayout;
  readonly #importer: FileImporter;
  readonly #naming: FileNaming;
  readonly #at: DirCalls | undefined;
  /** The store's files folder while {@linkcode openStore} holds it. */
  #storeFd: number | undefined;

  constructor(layout: StoreLayout, importer: FileImporter, naming: FileNaming = "packed", at?: DirCalls) {
    this.#layout = layout;
    this.#importer = importer;
    this.#naming = naming;
    this.#at = at;
  }

  /** The import method in use now (an auto importer may downgrade mid-install). */
  get method(): string {
    return this.#importer.method;
  }

  /**
   * Hold the store's files folder open until the result is disposed (a batch of packages): meanwhile
   * {@linkcode storeStat} and hard links resolve paths from it. Does nothing without directory calls.
   */
  openStore(): Disposable {
    const at = this.#at;
    const nothingHeld = { [Symbol.dispose]() {} };
    if (!at || this.#storeFd !== undefined) return nothingHeld;
    try {
      this.#storeFd = at.openDir(at.cwd, this.#layout.files);
    } catch {
      return nothingHeld; // the absolute paths report what is wrong, file by file
    }
    return {
      [Symbol.dispose]: () => {
        at.close(this.#storeFd!);
        this.#storeFd = undefined;
      },
    };
  }

  /** While the store is held open: a stat of store files by short paths, for the verifier's fast path. */
  get storeStat(): StoreFileStat | undefined {
    return this.#storeFd === undefined ? undefined : this.#statAt;
  }

  readonly #statAt: StoreFileStat = (digest, exec) =>
    this.#at!.stat(this.#storeFd!, this.#layout.fileRel(digest, exec));

  /** Make `dir` (absolute) and its missing parents. */
  ensureDir(dir: string): void {
    if (this.#dirs.has(dir)) return;
    const parent = path.dirname(dir);
    if (parent !== dir) this.ensureDir(parent);
    try {
      fs.mkdirSync(dir, { mode: 0o755 });
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
    this.#dirs.add(dir);
  }

  /**
   * Import every file of `record` into `dir` (absolute), package.json last.
   * Throws {@linkcode MissingStoreFileError} when the store lacks a file the row names. Files already
   * there (a re-run over a half-built folder) are replaced: they are ours, in our node_modules.
   * With `importer`, that importer is used instead (packages whose scripts run get copies).
   */
  importPackage(record: ImportableRecord, dir: string, importer = this.#importer): Imported {
    this.ensureDir(dir);
    const general = (rel: string) => {
      const entry = record.files[rel];
      const exec = (entry.mode & 0o111) !== 0;
      const src = this.#layout.filePath(entry.digest, exec);
      const dest = this.fileIn(dir, rel);
      const mode = exec ? 0o555 : 0o444;
      try {
        importer.importFile(src, dest, mode);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === "EEXIST") {
          fs.rmSync(dest, { force: true });
          importer.importFile(src, dest, mode);
        } else if (code === "ENOENT" && !fs.existsSync(src)) {
          throw new MissingStoreFileError(record, rel, { cause: error });
        } else throw error;
      }
    };
    const linker = this.#storeFd !== undefined && importer.plainLink
      ? this.#linkerInto(dir, record, general)
      : undefined;
    const importOne = linker?.link ?? general;
    try {
      let files = 0, last: string | undefined;
      for (const rel in record.files) {
        if (this.#naming === "npm" && shadowedUnderNpm(rel, record.files)) continue;
        if (rel !== "package.json") importOne(rel), files++, last = rel;
      }
      if (record.files["package.json"]) importOne("package.json"), files++, last = "package.json";
      return { files, last };
    } finally {
      linker?.close();
    }
  }

  /** Hard links from the open store folder into the package folder `dir`, opened here; see the class. */
  #linkerInto(dir: string, record: ImportableRecord, general: (rel: string) => void) {
    const at = this.#at!;
    const store = this.#storeFd!;
    let pkg: number;
    try {
      pkg = at.openDir(at.cwd, dir);
    } catch {
      return undefined;
    }
    const made = new Set<string>();
    const makeDir = (rel: string) => {
      if (made.has(rel)) return;
      const slash = rel.lastIndexOf("/");
      if (slash > 0) makeDir(rel.slice(0, slash));
      try {
        at.mkdir(pkg, rel, 0o755);
      } catch (error) {
        if ((error as { code?: string }).code !== "EEXIST") throw error;
      }
      made.add(rel);
    };
    return {
      link: (rel: string) => {
        const entry = record.files[rel];
        const placed = placedName(rel, this.#naming);
        try {
          const slash = placed.lastIndexOf("/");
          if (slash > 0) makeDir(placed.slice(0, slash));
          at.link(store, this.#layout.fileRel(entry.digest, (entry.mode & 0o111) !== 0), pkg, placed);
        } catch {
          general(rel);
        }
      },
      close: () => at.close(pkg),
    };
  }

  /** The path of `rel` (a checked tar path) in the package folder `dir` (absolute), its folder made. */
  fileIn(dir: string, packed: string): string {
    const rel = placedName(packed, this.#naming);
    // `dir` is absolute and normalized, `rel` has no "..", no empty segments: plain concatenation, not
    // path.join, on this per-file path.
    const slash = rel.lastIndexOf("/");
    this.ensureDir(slash > 0 ? `${dir}${path.sep}${rel.slice(0, slash)}` : dir);
    return `${dir}${path.sep}${rel}`;
  }

  /** Replace whatever is at `at` with a relative symlink to `target` (both absolute). */
  symlink(target: string, at: string, type: "dir" | "file" = "dir"): void {
    const parent = path.dirname(at);
    this.ensureDir(parent);
    const text = path.relative(parent, target) || ".";
    const create = () => fs.symlinkSync(text, at, type === "dir" ? "junction" : "file");
    try {
      create();
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
      const st = fs.lstatSync(at);
      if (st.isSymbolicLink() && fs.readlinkSync(at) === text) return;
      fs.rmSync(at, { recursive: true, force: true });
      create();
    }
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
 * (`playwright` over `@playwright/test` for the command `playwright`), else by package name (pnpm 10 and
 * older: the greater; pnpm 11+: the lesser, so a workspace `tool` with a `tsc` command beats `typescript`),
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
  constructor(readonly rule: "first" | "pnpm" = "first", readonly lesserNameWins = false) {}

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
    if (a.name !== b.name) return (a.name!.localeCompare(b.name!) > 0) !== this.lesserNameWins;
    return a.version!.localeCompare(b.version!, undefined, { numeric: true }) > 0;
  }
}

/**
 * Claim each command of the package at `pkgDir` for `binDir` (absolute). A plain set of taken paths means
 * the first package to claim a command keeps it; {@linkcode BinClaims} can apply pnpm's rule instead.
 * Returns the entries this package now owns: `.bin` path -> the file it runs. Claims are made in plan
 * order first; the links are created afterwards.
 */
export function claimBins(
  bins: BinMap,
  pkgDir: string,
  binDir: string,
  taken: Set<string> | BinClaims,
): [string, string][] {
  const owned: [string, string][] = [];
  for (const [name, target] of Object.entries(bins)) {
    const at = path.join(binDir, name);
    if (taken instanceof BinClaims) {
      if (!taken.claim(at, name, pkgDir)) continue;
    } else if (taken.has(at)) continue;
    else taken.add(at);
    owned.push([at, path.join(pkgDir, target)]);
  }
  return owned;
}
