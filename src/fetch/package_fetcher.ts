/**
 * Gets a package into the store: an index hit costs one row read; a miss joins the
 * one in-flight download for that tarball (invariant 4) from any phase and any caller.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import type { PackageNode } from "../lockfile/graph.ts";
import { packageKey, type PackageRecord } from "../store/index_db.ts";
import type { AddOptions, Store } from "../store/store.ts";
import { downloadWithRetry, TransientFetchError } from "./download.ts";
import type { GitResolution } from "./git_source.ts";
import type { RegistryClient } from "./registry.ts";
import { SingleFlight } from "./single_flight.ts";
import { type PlacedFiles, TarballError } from "./tar_ingest.ts";

/** Counters for progress and the summary. */
export interface FetchStats {
  /** Packages served by the index without a download. */
  hits: number;
  /** Tarballs downloaded (one per flight, whatever the number of waiters). */
  downloads: number;
  /** Compressed bytes downloaded. */
  bytes: number;
  /** Downloads in flight now. */
  active: number;
}

/** Options for {@linkcode PackageFetcher}. */
export interface PackageFetcherOptions {
  /** Project root: lockfile-relative paths (file: tarballs, directories) resolve against it. */
  projectDir: string;
  /** Store only: a miss is an error instead of a download. */
  offline?: boolean;
  /** Download packages whose lockfile entry has no integrity (nothing then checks the bytes). */
  allowMissingIntegrity?: boolean;
  /**
   * The in-flight map to join. Every fetcher over one store must share it, so a prefetch and the
   * install (or two installs) make one download per tarball: the container hands out one.
   */
  flights?: Flights;
  /** Who unpacks downloaded tarballs into the store (default: this thread). See {@linkcode AddOptions}. */
  ingest?: AddOptions["ingest"];
  /** Called after each download completes. */
  onDownload?: (node: PackageNode, bytes: number) => void;
  /** Told what the install should know about a package it fetched (a git dependency left unbuilt). */
  warn?: (message: string) => void;
}

/** A package that cannot be fetched here, with what to do about it. */
export class FetchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FetchError";
  }
}

/** In-flight downloads by package key. One per store in a process (the container's `T.flights`). */
export type Flights = SingleFlight<string, PackageRecord>;

/**
 * Resolves graph nodes to stored packages.
 *
 * @example
 * ```ts ignore
 * const fetcher = new PackageFetcher(store, client, { projectDir });
 * const record = fetcher.lookup(node) ?? await fetcher.ensure(node);
 * ```
 */
export class PackageFetcher {
  readonly stats: FetchStats = { hits: 0, downloads: 0, bytes: 0, active: 0 };
  readonly #store: Store;
  readonly #client: RegistryClient;
  readonly #options: PackageFetcherOptions;
  readonly #flights: Flights;

  constructor(store: Store, client: RegistryClient, options: PackageFetcherOptions) {
    this.#store = store;
    this.#flights = options.flights ?? new SingleFlight();
    this.#client = client;
    this.#options = options;
  }

  /** The index key a node's package is stored under. */
  keyOf(node: PackageNode): string {
    const r = node.resolution;
    switch (r.kind) {
      case "registry":
        return packageKey(node.name, node.version, r.integrity, r.tarball ?? "registry");
      case "tarball":
        return packageKey(node.name, node.version, r.integrity, r.url);
      case "directory":
        return `${node.name}@${node.version}#dir:${path.resolve(this.#options.projectDir, r.path)}`;
      case "git":
        return `${node.name}@${node.version}#git:${r.repo ?? r.archive}#${r.commit ?? ""}${
          r.path ? `&path:${r.path}` : ""
        }`;
    }
  }

  /** The stored package, when the index has it (no I/O beyond one row read). */
  lookup(node: PackageNode): PackageRecord | undefined {
    return this.lookupAll([node])[0];
  }

  /** {@linkcode lookup} for several packages, in one index query. */
  lookupAll(nodes: PackageNode[]): (PackageRecord | undefined)[] {
    // A folder may change: always re-read. Stored unchecked for a project that passed
    // --allow-missing-integrity: not for one that did not.
    const keys = nodes.map((node) =>
      node.resolution.kind === "directory" || this.#unverifiable(node) ? undefined : this.keyOf(node)
    );
    const rows = this.#store.index.getMany(keys.filter((key) => key !== undefined));
    return keys.map((key) => {
      const record = key === undefined ? undefined : rows.get(key);
      if (record) this.stats.hits++;
      return record;
    });
  }

  /** The stored package, downloading it at most once however many callers ask at the same time. */
  async ensure(node: PackageNode): Promise<PackageRecord> {
    return (await this.ensureAt(node, undefined)).record;
  }

  /**
   * {@linkcode ensure}, and a download this call starts also fills the package folder `placeAt` (see
   * `IngestOptions.placeAt`): `placed` is set when it did. A caller that joined someone else's download,
   * or whose tarball was unpacked elsewhere, gets no `placed` and imports the package itself.
   */
  async ensureAt(
    node: PackageNode,
    placeAt: string | undefined,
  ): Promise<{ record: PackageRecord; placed?: PlacedFiles }> {
    const hit = this.lookup(node);
    if (hit) return { record: hit };
    let placed: PlacedFiles | undefined;
    const key = this.keyOf(node);
    const record = await this.#flights.run(key, () => this.#download(node, key, placeAt, (p) => placed = p));
    return { record, placed };
  }

  /** A download nothing can check (no integrity in the lockfile) that this install did not agree to trust. */
  #unverifiable(node: PackageNode): boolean {
    const r = node.resolution;
    if (
      this.#options.allowMissingIntegrity || (r.kind !== "registry" && r.kind !== "tarball") || r.integrity
    ) {
      return false;
    }
    return r.kind === "registry" || /^https?:\/\//i.test(r.url); // a local .tgz is the project's own file
  }

  /** Download (or join the download of) `node`, bypassing the index: a row whose files went missing. */
  fetch(node: PackageNode): Promise<PackageRecord> {
    const key = this.keyOf(node);
    return this.#flights.run(key, () => this.#download(node, key));
  }

  /** Whether a download for `node` is in flight (tests, progress). */
  inFlight(node: PackageNode): boolean {
    return this.#flights.has(this.keyOf(node));
  }

  async #download(
    node: PackageNode,
    key: string,
    placeAt?: string,
    onPlaced?: (placed: PlacedFiles) => void,
  ): Promise<PackageRecord> {
    try {
      return await this.#downloadOnce(node, key, placeAt, onPlaced);
    } catch (error) {
      throw this.#explain(node, error);
    }
  }

  /** Storage failures name the package and the store, and say what to do. */
  #explain(node: PackageNode, error: unknown): unknown {
    const code = (error as { code?: string })?.code;
    const where = this.#store.layout.root;
    const advice: Record<string, string> = {
      ENOSPC:
        `the disk holding the store (${where}) is full. Free some space (or run \`silo gc\`), or point SILO_STORE_DIR at another disk, then run the install again`,
      EDQUOT:
        `the disk quota for the store (${where}) is used up. Free some space (or run \`silo gc\`), then run the install again`,
      EROFS:
        `the store (${where}) is on a read-only filesystem. Use a writable store (--store or SILO_STORE_DIR)`,
      EACCES:
        `silo may not write to the store (${where}). Fix its permissions, or use another store (--store or SILO_STORE_DIR)`,
    };
    if (!code || !advice[code]) return error;
    return new FetchError(
      `${node.name}@${node.version}: could not store the package: ${advice[code]} (${code})`,
      { cause: error },
    );
  }

  async #downloadOnce(
    node: PackageNode,
    key: string,
    placeAt?: string,
    onPlaced?: (placed: PlacedFiles) => void,
  ): Promise<PackageRecord> {
    const label = `${node.name}@${node.version}`;
    const r = node.resolution;
    if (r.kind === "git") return await this.#fetchGit(node, r, key);
    if (r.kind === "directory") {
      return (await this.#store.addDirectory(path.resolve(this.#options.projectDir, r.path))).record;
    }
    const local = r.kind === "tarball" && !/^https?:\/\//i.test(r.url)
      ? path.resolve(this.#options.projectDir, r.url.replace(/^file:/, ""))
      : undefined;
    if (local) {
      if (!fs.existsSync(local)) {
        throw new FetchError(`${label}: the lockfile names ${local}, which does not exist`);
      }
      return (await this.#store.addTarball(fs.createReadStream(local), {
        key,
        integrity: r.integrity,
        name: node.name,
        version: node.version,
      })).record;
    }
    if (this.#options.offline) {
      throw new FetchError(
        `${label} is not in the store and --offline forbids downloading it; run once without --offline`,
      );
    }
    if (this.#unverifiable(node)) {
      throw new FetchError(
        `${label}: the lockfile records no integrity for this package, so silo cannot check what the registry serves. ` +
          "Pass --allow-missing-integrity to trust the download as it is. To record one, reinstall the package " +
          "with your package manager (updating only the lockfile keeps an entry's missing integrity).",
      );
    }
    const url = r.kind === "tarball" ? r.url : this.#client.tarballUrl(node.name, node.version, r.tarball);
    this.stats.active++;
    try {
      const result = await downloadWithRetry(this.#client, url, async (body) => {
        try {
          return await this.#store.addTarball(body, {
            key,
            integrity: r.integrity,
            name: node.name,
            version: node.version,
            source: url,
            ingest: this.#options.ingest,
            placeAt,
          });
        } catch (error) {
          // A body that ends early is usually the network: download again. Bad bytes are not retried.
          if (error instanceof TarballError && error.kind === "truncated") {
            throw new TransientFetchError(error.message, { package: label, url, cause: error });
          }
          throw error;
        }
      }, { package: label });
      this.stats.downloads++;
      this.stats.bytes += result.compressedBytes;
      this.#options.onDownload?.(node, result.compressedBytes);
      if (result.placed) onPlaced?.(result.placed);
      return result.record;
    } finally {
      this.stats.active--;
    }
  }

  /**
   * A git dependency: the pinned commit's tree goes into a temp folder on the store's filesystem (gc removes
   * one a killed install leaves), and what `npm pack` would publish from it is stored under the key.
   */
  async #fetchGit(node: PackageNode, r: GitResolution, key: string): Promise<PackageRecord> {
    const label = `${node.name}@${node.version}`;
    const tmp = fs.mkdtempSync(path.join(this.#store.layout.tmp, `${process.pid}-git-`));
    let bytes = 0;
    this.stats.active++;
    try {
      // Loaded for git dependencies only (it brings hosted-git-info).
      const { fetchGitTree, gitBuildScripts } = await import("./git_source.ts");
      const dir = await fetchGitTree(r, tmp, {
        label,
        offline: this.#options.offline,
        download: (url) =>
          downloadWithRetry(this.#client, url, async (body) => {
            const archive = new Uint8Array(await new Response(body).arrayBuffer());
            bytes = archive.length;
            return archive;
          }, { package: label }),
      });
      const { record } = await this.#store.addDirectory(dir, { key, name: node.name, version: node.version });
      const unbuilt = gitBuildScripts(record.manifest);
      if (unbuilt.length > 0) {
        this.#options.warn?.(
          `${label} is a git dependency with build scripts (${unbuilt.join(", ")}); silo installs the ` +
            "commit's files as they are, without running them (as pnpm does with --ignore-scripts)",
        );
      }
      this.stats.downloads++;
      this.stats.bytes += bytes;
      this.#options.onDownload?.(node, bytes);
      return record;
    } finally {
      this.stats.active--;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
}
