/**
 * silo as a library: open a content-addressable package store, add packages to it,
 * restore a project's `node_modules` from its lockfile through it, verify it, check a
 * project against it, and collect what no project uses.
 *
 * The same engine the `silo` CLI uses, behind a small typed surface: the shapes here
 * are silo's public contract, so internal modules can change without breaking scripts.
 *
 * @example Restore a project, then check the store
 * ```ts
 * import { mkdtempSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const project = mkdtempSync(join(tmpdir(), "silo-doc-"));
 * writeFileSync(
 *   join(project, "package-lock.json"),
 *   JSON.stringify({ name: "demo", lockfileVersion: 3, packages: { "": { name: "demo" } } }),
 * );
 * const store = await openStore({ dir: join(project, ".store") });
 * try {
 *   const summary = await store.install({ projectDir: project });
 *   console.log(`${summary.packages} packages, ${summary.downloaded} downloaded`);
 *   const report = await store.verify();
 *   if (!report.ok) throw new Error("store has bad files");
 * } finally {
 *   store.close();
 * }
 * ```
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { createContainer, T } from "./src/container/app.ts";
import type { Container } from "./src/container/container.ts";
import { install as runInstall, type InstallSummary } from "./src/install/install.ts";
import type { RequestedMethod } from "./src/link/mod.ts";
import { projectStatus } from "./src/install/modified.ts";
import { invalidateProjectsUsing } from "./src/install/state.ts";
import { type GcReport, parseSize } from "./src/store/gc.ts";
import { defaultStoreDir } from "./src/store/layout.ts";
import { type AddResult, addSummary } from "./src/store/store.ts";

/** Options for {@linkcode openStore}. */
export interface OpenStoreOptions {
  /**
   * The store directory. Default: `$SILO_STORE_DIR`, else the platform cache dir
   * (`~/.cache/silo`, `~/Library/Caches/silo`, `%LOCALAPPDATA%\silo`).
   */
  dir?: string;
  /**
   * How to reach SQLite: the system libsqlite3 over FFI ("ffi"), the runtime's
   * `node:sqlite` ("builtin"), or whichever loads, FFI first ("auto", the default).
   */
  sqliteDriver?: "auto" | "ffi" | "builtin";
}

/** What can be added: a path to a `.tgz` or a package directory, `.tgz` bytes, or a `.tgz` stream. */
export type AddSource = string | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Options for {@linkcode SiloStore.add}. */
export interface AddOptions {
  /** The SRI integrity the tarball must match (e.g. `sha512-...`); a mismatch stores nothing. */
  integrity?: string;
}

/** One tar entry a package add did not store (links and devices never enter the store). */
export interface SkippedFile {
  /** The entry's path inside the package. */
  path: string;
  /** Why it was skipped. */
  reason: "symlink" | "hardlink" | "device" | "other";
}

/** A package now in the store. */
export interface AddedPackage {
  /** The index key (integrity and name@version, or a content hash for directories). */
  key: string;
  /** The package name from its package.json ("unknown" when it has none). */
  name: string;
  /** The package version from its package.json ("0.0.0" when it has none). */
  version: string;
  /** How many files the package has. */
  files: number;
  /** How many of them were new to the store (0 when the package was already there). */
  written: number;
  /** Entries that were not stored. */
  skipped: SkippedFile[];
}

/** Options for {@linkcode SiloStore.install}. */
export interface ProjectInstallOptions {
  /** The project root: the folder that holds package-lock.json or pnpm-lock.yaml. */
  projectDir: string;
  /** Omit devDependencies. */
  prod?: boolean;
  /** Never download: every package must already be in the store. */
  offline?: boolean;
  /** "clone" (reflink), "hardlink", "copy", or "auto" (the best the filesystems allow; default). */
  importMethod?: "auto" | "clone" | "hardlink" | "copy";
  /** Dependencies whose lifecycle scripts may run (none run by default). */
  allowScripts?: string[];
  /** Run no lifecycle scripts, not even allowed ones. */
  ignoreScripts?: boolean;
  /** The registry to download from, overriding `.npmrc`. */
  registry?: string;
  /** Parallel downloads (default 16). */
  concurrency?: number;
  /** Reinstall even when node_modules is already up to date. */
  force?: boolean;
  /** Called with each warning (platform mismatches, importer fallbacks, ...). */
  warn?: (message: string) => void;
}

/** What an install did; the CLI's `silo install --json` prints the same fields. */
export type InstallResult = InstallSummary;

/** Options for {@linkcode SiloStore.verify}. */
export interface VerifyStoreOptions {
  /** Remove bad files and their index rows, so the next install fetches them again. */
  repair?: boolean;
}

/** The verdict of {@linkcode SiloStore.verify}. */
export interface VerifyResult {
  /** True when every file of every package matched its digest. */
  ok: boolean;
  /** Packages checked. */
  packages: number;
  /** Distinct files checked. */
  files: number;
  /** Files re-hashed (the rest were unchanged since their last check). */
  rehashed: number;
  /** The bad packages, each with its bad files. */
  bad: { key: string; name: string; version: string; problems: { path: string; reason: string }[] }[];
  /** With `repair`: the projects that had a removed package, whose next install is a full one. */
  reinstall: string[];
  /** With `repair`: bad files removed. */
  removedFiles: number;
  /** With `repair`: index rows removed. */
  removedRows: number;
}

/** What the store holds, as `silo store status --json` reports it. */
export interface StoreStats {
  /** The store directory. */
  dir: string;
  /** Packages in the index. */
  packages: number;
  /** Distinct files in the store. */
  files: number;
  /** Their total size in bytes. */
  bytes: number;
  /** How the index is reached ("ffi" or "builtin") and the SQLite version. */
  index: { driver: string; sqlite: string };
  /** The runtime silo runs on. */
  runtime: "deno" | "bun";
}

/** Options for {@linkcode SiloStore.gc}. */
export interface GcStoreOptions {
  /** Evict least recently used packages until the store fits: bytes, or "500M", "2G", ... */
  maxSize?: number | string;
  /** Only remove unused packages not used for this many days. */
  olderThanDays?: number;
  /** Report what would be removed; change nothing. */
  dryRun?: boolean;
}

/** What {@linkcode SiloStore.gc} removed (or, with `dryRun`, would remove). */
export type GcResult = GcReport;

/** The result of {@linkcode SiloStore.status}: a project's node_modules against the store. */
export interface ProjectStatus {
  /** True when the project was installed with this store and nothing in it changed. */
  ok: boolean;
  /** The project directory. */
  project: string;
  /** Whether this store installed the project (and so knows what it should hold). */
  registered: boolean;
  /** Package folders checked. */
  packages: number;
  /** Files checked. */
  files: number;
  /** Files that needed hashing (the rest matched on size and mtime). */
  rehashed: number;
  /** Package folders whose files differ from the store. */
  modified: {
    /** The folder, relative to the project (e.g. "node_modules/ms"). */
    dir: string;
    /** The package's store key. */
    key: string;
    /** The package name. */
    name: string;
    /** The package version. */
    version: string;
    /** The differing files and how they differ. */
    files: { path: string; reason: "modified" | "missing" | "not-a-file" }[];
    /** The folder shares an edited inode with the store (hardlink), so `verify` flags it too. */
    storeAffected: boolean;
  }[];
  /** Folders whose package is no longer in the store (after gc or verify --repair): not checked. */
  unknown: string[];
}

/**
 * An open store. Get one from {@linkcode openStore}; call {@linkcode SiloStore.close} when done.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const store = await openStore({ dir: mkdtempSync(join(tmpdir(), "silo-doc-")) });
 * console.log(store.dir, store.stats().packages); // 0 packages in a new store
 * store.close();
 * ```
 */
export interface SiloStore {
  /** The store directory (absolute). */
  readonly dir: string;

  /**
   * Store one package: a path to a `.tgz` file or a package directory, or `.tgz` bytes or a stream.
   * Adding a package that is already there writes nothing.
   *
   * @example
   * ```ts
   * import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const tmp = mkdtempSync(join(tmpdir(), "silo-doc-"));
   * const pkg = join(tmp, "greet");
   * mkdirSync(pkg);
   * writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "greet", version: "1.0.0" }));
   * writeFileSync(join(pkg, "index.js"), "module.exports = () => 'hi';\n");
   *
   * const store = await openStore({ dir: join(tmp, "store") });
   * const added = await store.add(pkg);
   * console.log(added.name, added.version, added.files); // greet 1.0.0 2
   * store.close();
   * ```
   */
  add(source: AddSource, options?: AddOptions): Promise<AddedPackage>;

  /**
   * Restore `projectDir/node_modules` exactly as its lockfile says, every file from the store.
   *
   * @example
   * ```ts
   * import { mkdtempSync, writeFileSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const project = mkdtempSync(join(tmpdir(), "silo-doc-"));
   * writeFileSync(
   *   join(project, "package-lock.json"),
   *   JSON.stringify({ name: "demo", lockfileVersion: 3, packages: { "": { name: "demo" } } }),
   * );
   * const store = await openStore({ dir: join(project, ".store") });
   * const first = await store.install({ projectDir: project, prod: true });
   * const again = await store.install({ projectDir: project, prod: true });
   * console.log(first.upToDate, again.upToDate); // false true
   * store.close();
   * ```
   */
  install(options: ProjectInstallOptions): Promise<InstallResult>;

  /**
   * Check every stored file against its digest; with `repair`, remove what is bad.
   *
   * @example
   * ```ts
   * import { mkdtempSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const store = await openStore({ dir: mkdtempSync(join(tmpdir(), "silo-doc-")) });
   * const report = await store.verify({ repair: true });
   * console.log(report.ok, report.packages); // true 0
   * store.close();
   * ```
   */
  verify(options?: VerifyStoreOptions): Promise<VerifyResult>;

  /**
   * What the store holds.
   *
   * @example
   * ```ts
   * import { mkdtempSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const store = await openStore({ dir: mkdtempSync(join(tmpdir(), "silo-doc-")) });
   * const { packages, files, bytes, index } = store.stats();
   * console.log(packages, files, bytes, index.driver);
   * store.close();
   * ```
   */
  stats(): StoreStats;

  /**
   * Compare a project's node_modules with the store: which installed packages were edited or
   * lost files since the install. `ok` is false when any were, or when the project was not
   * installed with this store.
   *
   * @example
   * ```ts
   * import { mkdtempSync, writeFileSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const project = mkdtempSync(join(tmpdir(), "silo-doc-"));
   * writeFileSync(
   *   join(project, "package-lock.json"),
   *   JSON.stringify({ name: "demo", lockfileVersion: 3, packages: { "": { name: "demo" } } }),
   * );
   * const store = await openStore({ dir: join(project, ".store") });
   * await store.install({ projectDir: project });
   * const status = store.status(project);
   * console.log(status.ok, status.modified.length); // true 0
   * store.close();
   * ```
   */
  status(projectDir: string): ProjectStatus;

  /**
   * Remove what no project uses (packages no registered project installed last, unreferenced
   * files, stale temp files), then with `maxSize` evict least recently used packages until the
   * store fits. Packages leased by a running install, in any process, are never removed.
   *
   * @example
   * ```ts
   * import { mkdtempSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const store = await openStore({ dir: mkdtempSync(join(tmpdir(), "silo-doc-")) });
   * const planned = await store.gc({ maxSize: "2G", dryRun: true });
   * console.log(planned.packages.length, planned.bytesFreed); // 0 0
   * store.close();
   * ```
   */
  gc(options?: GcStoreOptions): Promise<GcResult>;

  /**
   * Close the index. The handle must not be used afterwards.
   *
   * @example
   * ```ts
   * import { mkdtempSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const store = await openStore({ dir: mkdtempSync(join(tmpdir(), "silo-doc-")) });
   * store.close();
   * ```
   */
  close(): void;
}

/**
 * Open (creating it if needed) the store at `options.dir`, or the default store.
 * Many handles and processes may share one store at once.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const store = await openStore({ dir: mkdtempSync(join(tmpdir(), "silo-doc-")) });
 * try {
 *   console.log(store.stats());
 * } finally {
 *   store.close();
 * }
 * ```
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<SiloStore> {
  const dir = path.resolve(options.dir ?? defaultStoreDir());
  const c = await createContainer({ storeDir: dir, sqliteDriver: options.sqliteDriver });
  // Open the index now: a store that cannot be opened should fail here, not on first use.
  c.get(T.store);
  return new StoreHandle(dir, c);
}

class StoreHandle implements SiloStore {
  readonly dir: string;
  #c: Container;
  #closed = false;

  constructor(dir: string, c: Container) {
    this.dir = dir;
    this.#c = c;
  }

  async add(source: AddSource, options: AddOptions = {}): Promise<AddedPackage> {
    const store = this.#open().get(T.store);
    let result: AddResult;
    if (typeof source === "string") {
      const full = path.resolve(source);
      const st = fs.statSync(full, { throwIfNoEntry: false });
      if (!st) throw new Error(`${source} does not exist; give a .tgz file or a package directory`);
      result = st.isDirectory()
        ? await store.addDirectory(full)
        : await store.addTarball(fs.createReadStream(full), { integrity: options.integrity, source: full });
    } else {
      result = await store.addTarball(source, { integrity: options.integrity });
    }
    return addSummary(result);
  }

  async install(options: ProjectInstallOptions): Promise<InstallResult> {
    const summary = await runInstall(this.#open(), {
      ...options,
      importMethod: options.importMethod as RequestedMethod | undefined,
    });
    return summary;
  }

  async verify(options: VerifyStoreOptions = {}): Promise<VerifyResult> {
    const c = this.#open();
    const report = await c.get(T.verifier).verifyAll({ repair: options.repair });
    const reinstall = options.repair
      ? invalidateProjectsUsing(c.get(T.projects), report.bad.map((b) => b.key))
      : [];
    return { ok: report.bad.length === 0, ...report, reinstall };
  }

  stats(): StoreStats {
    const c = this.#open();
    const index = c.get(T.index);
    return {
      dir: this.dir,
      ...index.stats(),
      index: { driver: index.db.driver, sqlite: index.db.version },
      runtime: c.get(T.runtime).name,
    };
  }

  status(projectDir: string): ProjectStatus {
    const c = this.#open();
    const report = projectStatus({
      layout: c.get(T.layout),
      index: c.get(T.index),
      projects: c.get(T.projects),
      hasher: c.get(T.hasher),
    }, path.resolve(projectDir));
    return { ok: report.registered && report.modified.length === 0, ...report };
  }

  async gc(options: GcStoreOptions = {}): Promise<GcResult> {
    const maxSize = typeof options.maxSize === "string" ? parseSize(options.maxSize) : options.maxSize;
    const report = await this.#open().get(T.gc).run({
      maxSize,
      olderThanDays: options.olderThanDays,
      dryRun: options.dryRun,
    });
    return report;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#c.get(T.store).close();
  }

  #open(): Container {
    if (this.#closed) throw new Error(`the store handle for ${this.dir} is closed; call openStore() again`);
    return this.#c;
  }
}
