/**
 * The SQLite index: one row per package (the commit point of a package), holding its
 * file map. WAL mode and a busy timeout let many processes share one store.
 *
 * @module
 */
import { type SqliteDatabase, SqliteError, type SqlRow } from "../runtime/mod.ts";
import { fileCountOf, packedFilesOf, packFiles, withPackedFiles } from "./packed_files.ts";

/** One file of a package as the index records it. */
export interface FileEntry {
  /** sha512 hex of the content (the CAS name). */
  digest: string;
  /** 0o755 for executables, else 0o644: what npm would give the file in node_modules. */
  mode: number;
  size: number;
  /** mtime (ms) of the CAS file when last known good; the verifier's lock-free fast path compares against it. */
  checkedAt: number;
}

/** Relative path (posix, inside the package) -> file. */
export type FileMap = Record<string, FileEntry>;

/** A stored package. */
export interface PackageRecord {
  /** Index key: the package's integrity, or name@version#source when it has none. */
  key: string;
  name: string;
  version: string;
  integrity?: string;
  files: FileMap;
  /** The parts of package.json the installer needs without reading the file: bin, scripts, ... */
  manifest: PackageManifest;
  /** Sum of file sizes. */
  unpackedSize: number;
  addedAt: number;
  lastUsed: number;
}

/** The subset of a package's package.json kept in its row. */
export interface PackageManifest {
  name?: string;
  version?: string;
  bin?: string | Record<string, string>;
  directories?: { bin?: string };
  scripts?: Record<string, string>;
  /**
   * Platform fields: lockfiles do not always carry them (pnpm omits libc), so the installer re-checks.
   * As the package wrote them: a list, or a single name (`"libc": "glibc"`).
   */
  os?: string[] | string;
  cpu?: string[] | string;
  libc?: string[] | string;
}

/** Summary counts for `silo store status`. */
export interface IndexStats {
  packages: number;
  files: number;
  bytes: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS packages (
  key TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  integrity TEXT,
  files TEXT NOT NULL,
  manifest TEXT NOT NULL,
  file_count INTEGER NOT NULL,
  unpacked_size INTEGER NOT NULL,
  added_at INTEGER NOT NULL,
  last_used INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS packages_name_version ON packages (name, version);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/**
 * Put the database in WAL mode. Switching needs an exclusive lock, and SQLite answers SQLITE_BUSY at
 * once instead of waiting on the busy timeout when another process holds the file open (several
 * installs opening a fresh store together): retry with backoff until the timeout.
 */
function switchToWal(db: SqliteDatabase, timeoutMs: number): void {
  const current = () => String(Object.values(db.prepare("PRAGMA journal_mode").get() ?? {})[0]).toLowerCase();
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5;; delay = Math.min(delay * 2, 200)) {
    if (current() === "wal") return;
    try {
      const mode = String(Object.values(db.prepare("PRAGMA journal_mode = WAL").get() ?? {})[0])
        .toLowerCase();
      if (mode === "wal") return;
      throw new Error(`the store index could not switch to WAL mode (got ${mode})`);
    } catch (error) {
      if (!(error instanceof SqliteError && error.code === SQLITE_BUSY) || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay); // a sync sleep: this runs in a constructor
    }
  }
}

const SQLITE_BUSY = 5;

/** The index key for a package. */
export function packageKey(name: string, version: string, integrity?: string, source?: string): string {
  return integrity ? strongestIntegrity(integrity) : `${name}@${version}#${source ?? ""}`;
}

/** From an SRI string that may list several hashes, the strongest one silo can check (sha512 > sha1). */
export function strongestIntegrity(integrity: string): string {
  const parts = integrity.trim().split(/\s+/);
  return parts.find((p) => p.startsWith("sha512-")) ?? parts.find((p) => p.startsWith("sha1-")) ?? parts[0];
}

/** A row as a record; its file map is parsed only when read (see packed_files.ts). */
function toRecord(row: SqlRow): PackageRecord {
  return withPackedFiles(
    {
      key: row.key as string,
      name: row.name as string,
      version: row.version as string,
      integrity: (row.integrity as string | null) ?? undefined,
      manifest: JSON.parse(row.manifest as string),
      unpackedSize: row.unpacked_size as number,
      addedAt: row.added_at as number,
      lastUsed: row.last_used as number,
    },
    row.files as string,
    row.file_count as number,
  );
}

/**
 * The package index over an open SQLite database.
 *
 * @example
 * ```ts ignore
 * const index = new StoreIndex(runtime.openSqlite(layout.indexDb));
 * index.putMany([record]);
 * index.get(record.key);
 * ```
 */
export class StoreIndex {
  readonly db: SqliteDatabase;

  constructor(db: SqliteDatabase, busyTimeoutMs = 30_000) {
    this.db = db;
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    // WAL lets readers and one writer work at once across processes; NORMAL skips an fsync per commit.
    switchToWal(db, busyTimeoutMs);
    db.exec("PRAGMA synchronous = NORMAL");
    // Rows are read through a memory map instead of a pread per page: a hot install reads every package's
    // file map (mocha: 2.9 MB of rows, ~2,300 preads) and its lookups took ~15% less. Nothing in silo
    // shrinks the file (no VACUUM), which is what makes a mapped database fault.
    db.exec("PRAGMA mmap_size = 268435456");
    db.transaction(() => db.exec(SCHEMA));
  }

  /** The row for `key`, or undefined. */
  get(key: string): PackageRecord | undefined {
    const row = this.db.prepare("SELECT * FROM packages WHERE key = ?").get(key);
    return row ? toRecord(row) : undefined;
  }

  /**
   * The rows for `keys`, in one query (SQLite walks the JSON array itself): a hot install looks up every
   * package of the lockfile, and one statement per key cost mostly FFI round trips.
   */
  getMany(keys: string[]): Map<string, PackageRecord> {
    const rows = this.db.prepare("SELECT * FROM packages WHERE key IN (SELECT value FROM json_each(?))")
      .all(JSON.stringify(keys));
    return new Map(rows.map((row) => [row.key as string, toRecord(row)]));
  }

  /** A value the store keeps about its users' machines (see {@linkcode setMeta}). */
  getMeta(key: string): string | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key);
    return row ? String(row.value) : undefined;
  }

  /** Keep `value` under `key` (e.g. the version of a node binary, so the next install need not ask it). */
  setMeta(key: string, value: string): void {
    this.db.prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
      .run(key, value);
  }

  /** Write rows in one transaction. Call only after every file of each package is in place. */
  putMany(records: PackageRecord[]): void {
    if (records.length === 0) return;
    const stmt = this.db.prepare(
      `INSERT INTO packages (key, name, version, integrity, files, manifest, file_count, unpacked_size, added_at, last_used)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET files = excluded.files, manifest = excluded.manifest, file_count = excluded.file_count,
         unpacked_size = excluded.unpacked_size, last_used = excluded.last_used`,
    );
    this.db.transaction(() => {
      for (const r of records) {
        stmt.run(
          r.key,
          r.name,
          r.version,
          r.integrity ?? null,
          packedFilesOf(r),
          JSON.stringify(r.manifest),
          fileCountOf(r),
          r.unpackedSize,
          r.addedAt,
          r.lastUsed,
        );
      }
    });
  }

  /**
   * Mark packages used at `now` (one transaction). A row last used less than `granularityMs` ago is left
   * as it is: each row carries its file map, so an update rewrites kilobytes, and marking mocha's 611
   * packages on every install wrote ~3 MB to the WAL, which made SQLite checkpoint (and fsync) the
   * database every install or two. Eviction needs the order of use, not the millisecond.
   */
  touch(keys: Iterable<string>, now: number, granularityMs = 60 * 60 * 1000): void {
    this.db.prepare(
      "UPDATE packages SET last_used = ? WHERE last_used <= ? AND key IN (SELECT value FROM json_each(?))",
    ).run(now, now - granularityMs, JSON.stringify([...keys]));
  }

  /** Remove rows (one transaction). */
  deleteMany(keys: Iterable<string>): void {
    const stmt = this.db.prepare("DELETE FROM packages WHERE key = ?");
    this.db.transaction(() => {
      for (const key of keys) stmt.run(key);
    });
  }

  /** Record a file's new known-good mtime in one package row. */
  setCheckedAt(key: string, filePath: string, checkedAt: number): void {
    this.db.transaction(() => {
      const record = this.get(key);
      if (!record?.files[filePath]) return;
      record.files[filePath].checkedAt = checkedAt;
      this.db.prepare("UPDATE packages SET files = ? WHERE key = ?").run(packFiles(record.files), key);
    });
  }

  /** Every key, in key order. */
  keys(): string[] {
    return this.db.prepare("SELECT key FROM packages ORDER BY key").all().map((r) => r.key as string);
  }

  /** Every row (parsed lazily, one at a time). */
  *records(): Generator<PackageRecord> {
    for (const key of this.keys()) {
      const record = this.get(key);
      if (record) yield record;
    }
  }

  /** Counts: packages, distinct files and their bytes. */
  stats(): IndexStats {
    const packages = Number(this.db.prepare("SELECT count(*) AS n FROM packages").get()!.n);
    const seen = new Map<string, number>();
    for (const record of this.records()) {
      for (const f of Object.values(record.files)) seen.set(f.digest + (f.mode & 0o111 ? "x" : ""), f.size);
    }
    let bytes = 0;
    for (const size of seen.values()) bytes += size;
    return { packages, files: seen.size, bytes };
  }

  close(): void {
    this.db.close();
  }
}
