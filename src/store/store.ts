/**
 * The store: layout, CAS writer, index and verifier behind one object, and the one
 * operation that ties them together: ingest a tarball, then commit its index row.
 *
 * @module
 */
import { ingestDirectory } from "../fetch/directory_ingest.ts";
import {
  type IngestOptions,
  type IngestResult,
  ingestTarball,
  type PlacedFiles,
  type SkippedEntry,
  type TarballSource,
} from "../fetch/tar_ingest.ts";
import type { CasWriter } from "./cas.ts";
import {
  type FileMap,
  packageKey,
  type PackageManifest,
  type PackageRecord,
  type StoreIndex,
} from "./index_db.ts";
import type { StoreLayout } from "./layout.ts";
import { fileCountOf, withFilesOf } from "./packed_files.ts";
import { RowBatch } from "./row_batch.ts";
import type { Verifier } from "./verifier.ts";

/** The identity a caller knows before the tarball is read (all optional for `silo add`). */
export interface AddOptions
  extends Partial<Pick<IngestOptions, "integrity" | "maxUnpackedBytes" | "ratioFloor" | "placeAt">> {
  name?: string;
  version?: string;
  /** Where it came from (URL or path), for keys of packages without integrity. */
  source?: string;
  /** The index key to write (the fetcher computes it before the download, to look it up). */
  key?: string;
  /** Clock, for tests. */
  now?: number;
  /** Who unpacks the tarball into the CAS: {@linkcode ingestTarball} here, or a worker pool's. */
  ingest?: (source: TarballSource, cas: CasWriter, options: IngestOptions) => Promise<IngestResult>;
}

/** What an add did. */
export interface AddResult {
  record: PackageRecord;
  /** Files newly written into the CAS (0 when everything was already there). */
  written: number;
  skipped: SkippedEntry[];
  compressedBytes: number;
  /** Set when the ingest also placed the files at `placeAt`. */
  placed?: PlacedFiles;
}

/** An add as `silo add --json` and the library report it: the row's identity and counts, no file map. */
export function addSummary({ record, written, skipped }: AddResult) {
  const { key, name, version } = record;
  return { key, name, version, files: fileCountOf(record), written, skipped };
}

/**
 * One store on disk.
 *
 * @example
 * ```ts ignore
 * const store = await openStore({ dir: "/tmp/store" });
 * const { record } = await store.addTarball(stream, { integrity });
 * ```
 */
export class Store {
  readonly layout: StoreLayout;
  readonly index: StoreIndex;
  readonly cas: CasWriter;
  readonly verifier: Verifier;
  readonly #rows: RowBatch;

  constructor(layout: StoreLayout, index: StoreIndex, cas: CasWriter, verifier: Verifier) {
    this.layout = layout;
    this.index = index;
    this.cas = cas;
    this.verifier = verifier;
    this.#rows = new RowBatch((records) => index.putMany(records));
  }

  /** Ingest a .tgz stream; the index row is written only after every file is in place and integrity matched. */
  async addTarball(source: TarballSource, options: AddOptions = {}): Promise<AddResult> {
    const label = options.name ? `${options.name}@${options.version ?? "?"}` : (options.source ?? "tarball");
    const ingest = options.ingest ?? ingestTarball;
    const ingested = await ingest(source, this.cas, {
      label,
      integrity: options.integrity,
      maxUnpackedBytes: options.maxUnpackedBytes,
      ratioFloor: options.ratioFloor,
      placeAt: options.placeAt,
    });
    const record = await this.#commit(ingested, {
      name: options.name,
      version: options.version,
      key: (name, version) =>
        options.key ?? packageKey(name, version, options.integrity ?? ingested.integrity, options.source),
      integrity: options.integrity ?? ingested.integrity,
      now: options.now,
    });
    return {
      record,
      written: ingested.written,
      skipped: ingested.skipped,
      compressedBytes: ingested.compressedBytes,
      placed: ingested.placed,
    };
  }

  /**
   * Store a package directory (files only; symlinks skipped). Its key is a hash of its file map, unless the
   * caller knows a better one (a git dependency's commit).
   */
  async addDirectory(
    dir: string,
    options: Pick<AddOptions, "now" | "key" | "name" | "version"> = {},
  ): Promise<AddResult> {
    const ingested = await ingestDirectory(dir, this.cas);
    const record = await this.#commit(ingested, {
      name: options.name,
      version: options.version,
      key: (name, version) => options.key ?? packageKey(name, version, undefined, ingested.contentIntegrity),
      now: options.now,
    });
    return { record, written: ingested.written, skipped: ingested.skipped, compressedBytes: 0 };
  }

  /** Write a package's index row: its commit point, after every file (bin targets' `-exec` entries too) is in place. */
  async #commit(
    ingested: { files: FileMap; manifest: PackageManifest; unpackedSize: number },
    meta: {
      name?: string;
      version?: string;
      key: (name: string, version: string) => string;
      integrity?: string;
      now?: number;
    },
  ): Promise<PackageRecord> {
    const name = meta.name ?? ingested.manifest.name ?? "unknown";
    const version = meta.version ?? ingested.manifest.version ?? "0.0.0";
    const now = meta.now ?? Date.now();
    // A worker's file map arrives packed: it goes into the row as it came (see packed_files.ts).
    const record: PackageRecord = withFilesOf({
      key: meta.key(name, version),
      name,
      version,
      integrity: meta.integrity,
      manifest: ingested.manifest,
      unpackedSize: ingested.unpackedSize,
      addedAt: now,
      lastUsed: now,
    }, ingested);
    await this.#rows.put(record);
    return record;
  }

  close(): void {
    this.#rows.flush();
    this.index.close();
  }
}
