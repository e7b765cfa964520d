/**
 * Garbage collection and eviction: mark and sweep, then least-recently-used eviction
 * down to a size budget.
 *
 * Mark: the keys of every live project (folder and lockfile exist), plus every key
 * leased by a live install (invariant 7). Sweep, in this order:
 *   1. one write transaction re-reads the leases, picks the victims (unused packages,
 *      then the least recently used down to the budget) and deletes their rows;
 *   2. off that lock, each file no remaining row references is renamed into v1/trash
 *      under its keyed mutex, as are old CAS files no row ever committed (orphans);
 *   3. the index is read again: a trashed file that a row committed meanwhile names
 *      (another process reused it) is linked back before anything is deleted;
 *   4. stale temp files (owner dead, or older than an hour) go, and the trash is emptied.
 * An install that races past all of this finds a row whose file is gone, which is a
 * cache miss and a re-fetch (invariant 3), never a crash.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import type { PackageRecord, StoreIndex } from "./index_db.ts";
import type { KeyedMutex } from "./keyed_mutex.ts";
import type { StoreLayout } from "./layout.ts";
import { type LeaseTable, pidAlive } from "./leases.ts";
import type { ProjectRegistry } from "./projects.ts";

/** Temp files younger than this, whose owner is alive, are someone's write in progress. */
export const TEMP_MAX_AGE_MS = 60 * 60 * 1000;
/** CAS files no row references are kept this long: a package's row is committed after its files. */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

/** What to collect. */
export interface GcOptions {
  /** Evict least recently used packages until the referenced files fit in this many bytes. */
  maxSize?: number;
  /** Only sweep unused packages last used more than this many days ago. */
  olderThanDays?: number;
  /** Report what would go; change nothing. */
  dryRun?: boolean;
  /** Clock (tests). */
  now?: number;
  /** Overrides for the grace periods (tests). */
  tempMaxAgeMs?: number;
  orphanGraceMs?: number;
}

/** One package gc removed (or would remove). */
export interface RemovedPackage {
  key: string;
  name: string;
  version: string;
  /** "unused" by any live project, or "evicted" to fit `maxSize`. */
  reason: "unused" | "evicted";
  lastUsed: number;
}

/** What a gc run removed (or, with `dryRun`, would remove). */
export interface GcReport {
  /** Whether this was a dry run. */
  dryRun: boolean;
  /** The packages removed. */
  packages: RemovedPackage[];
  /** Store files removed. */
  files: number;
  /** Bytes freed (store and temp files). */
  bytesFreed: number;
  /** Of the removed files, those no package referenced (left by crashed installs or removed rows). */
  orphanFiles: number;
  /** Temp files of dead installs removed. */
  tempFiles: number;
  /** Projects forgotten because their folder or lockfile is gone. */
  projectsForgotten: string[];
  /** Live projects whose packages were kept. */
  liveProjects: number;
  /** Leases of dead processes reclaimed. */
  leasesReclaimed: number;
  /** Packages kept because a running install leases them. */
  leasedSkipped: number;
  /** Files put back because an install committed a package that names them while gc ran. */
  restored: number;
  /** Bytes of distinct referenced files before gc. */
  sizeBefore: number;
  /** Bytes of distinct referenced files after gc. */
  sizeAfter: number;
}

/**
 * The collector for one store.
 *
 * @example
 * ```ts ignore
 * const report = await c.get(T.gc).run({ maxSize: 2 * 1024 ** 3 });
 * console.log(report.packages.length, report.bytesFreed);
 * ```
 */
export class GarbageCollector {
  readonly layout: StoreLayout;
  readonly index: StoreIndex;
  readonly leases: LeaseTable;
  readonly projects: ProjectRegistry;
  readonly mutex: KeyedMutex;

  constructor(
    layout: StoreLayout,
    index: StoreIndex,
    leases: LeaseTable,
    projects: ProjectRegistry,
    mutex: KeyedMutex,
  ) {
    this.layout = layout;
    this.index = index;
    this.leases = leases;
    this.projects = projects;
    this.mutex = mutex;
  }

  /** Collect; see the module doc for the order of steps. */
  async run(options: GcOptions = {}): Promise<GcReport> {
    const now = options.now ?? Date.now();
    const dryRun = options.dryRun ?? false;
    const { live, gone } = this.projects.partition();
    const report: GcReport = {
      dryRun,
      packages: [],
      files: 0,
      bytesFreed: 0,
      orphanFiles: 0,
      tempFiles: 0,
      projectsForgotten: gone.map((p) => p.path),
      liveProjects: live.length,
      leasesReclaimed: 0,
      leasedSkipped: 0,
      restored: 0,
      sizeBefore: 0,
      sizeAfter: 0,
    };
    const used = new Set<string>();
    for (const p of live) for (const key of Object.values(p.packages)) used.add(key);

    // 1. Decide and delete rows in one write transaction, so no lease or row slips in between.
    const decide = () => {
      if (!dryRun) {
        report.leasesReclaimed = this.leases.reclaim();
        this.projects.remove(report.projectsForgotten);
      }
      const leased = this.leases.liveKeys({ reclaim: false });
      const records = [...this.index.records()];
      const refs = new Map<string, { size: number; count: number }>();
      for (const r of records) {
        for (const id of fileIds(r)) {
          const ref = refs.get(id.id);
          if (ref) ref.count++;
          else refs.set(id.id, { size: id.size, count: 1 });
        }
      }
      let size = 0;
      for (const ref of refs.values()) size += ref.size;
      report.sizeBefore = size;
      const freed = new Map<string, number>();
      const victims = new Set<string>();
      const drop = (r: PackageRecord, reason: RemovedPackage["reason"]) => {
        victims.add(r.key);
        report.packages.push({ key: r.key, name: r.name, version: r.version, reason, lastUsed: r.lastUsed });
        for (const id of fileIds(r)) {
          const ref = refs.get(id.id)!;
          if (--ref.count === 0) {
            size -= ref.size;
            freed.set(id.id, ref.size);
          }
        }
      };
      const cutoff = options.olderThanDays === undefined
        ? Infinity
        : now - options.olderThanDays * 86_400_000;
      for (const r of records) {
        if (used.has(r.key) || r.lastUsed >= cutoff) continue;
        if (leased.has(r.key)) report.leasedSkipped++;
        else drop(r, "unused");
      }
      if (options.maxSize !== undefined && size > options.maxSize) {
        const lru = records.filter((r) => !victims.has(r.key))
          .sort((a, b) => a.lastUsed - b.lastUsed || (a.key < b.key ? -1 : 1));
        for (const r of lru) {
          if (size <= options.maxSize) break;
          if (leased.has(r.key)) report.leasedSkipped++;
          else drop(r, "evicted");
        }
      }
      report.sizeAfter = size;
      // Not index.deleteMany: that opens its own transaction, and this must be one with the decision.
      if (!dryRun) {
        const del = this.index.db.prepare("DELETE FROM packages WHERE key = ?");
        for (const key of victims) del.run(key);
      }
      const referenced = new Set<string>();
      for (const [id, ref] of refs) if (ref.count > 0) referenced.add(id);
      return { freed, referenced };
    };
    const { freed, referenced } = dryRun ? decide() : this.index.db.transaction(decide);

    // 2. Files: those the deleted rows freed, then orphans old enough not to be an install in progress.
    const trashed: { id: string; cas: string; trash: string; size: number }[] = [];
    const orphanCutoff = now - (options.orphanGraceMs ?? ORPHAN_GRACE_MS);
    const candidates = new Map<string, { size: number; orphan: boolean }>();
    for (const [id, size] of freed) candidates.set(id, { size, orphan: false });
    for (const { id, file } of this.#walkFiles()) {
      if (referenced.has(id) || candidates.has(id)) continue;
      const st = fs.lstatSync(file, { throwIfNoEntry: false });
      if (st && st.mtimeMs < orphanCutoff) candidates.set(id, { size: st.size, orphan: true });
    }
    let n = 0;
    for (const [id, { size, orphan }] of candidates) {
      const cas = this.#casPath(id);
      if (dryRun) {
        if (fs.existsSync(cas)) (report.files++, report.bytesFreed += size, orphan && report.orphanFiles++);
        continue;
      }
      const trash = path.join(
        this.layout.trash,
        `gc-${process.pid}-${now.toString(36)}-${(n++).toString(36)}`,
      );
      // Same lock as the CAS writer and the verifier: never move a file one of them is producing or judging.
      const moved = await this.mutex.run(cas, () => {
        try {
          fs.renameSync(cas, trash);
          return true;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
          throw error;
        }
      });
      if (!moved) continue;
      trashed.push({ id, cas, trash, size });
      report.files++;
      report.bytesFreed += size;
      if (orphan) report.orphanFiles++;
    }

    // 3. Re-check: a row committed since step 1 (another process reused a file) gets its file back.
    if (trashed.length) {
      const now2 = new Set<string>();
      for (const r of this.index.records()) for (const id of fileIds(r)) now2.add(id.id);
      for (const t of trashed) {
        if (!now2.has(t.id)) continue;
        await this.mutex.run(t.cas, () => {
          try {
            fs.linkSync(t.trash, t.cas);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error; // republished already
          }
        });
        report.restored++;
        report.files--;
        report.bytesFreed -= t.size;
      }
    }

    // 4. Temp files of dead or long-gone writers, then the trash.
    const tempCutoff = now - (options.tempMaxAgeMs ?? TEMP_MAX_AGE_MS);
    for (const name of readdirOrEmpty(this.layout.tmp)) {
      const file = path.join(this.layout.tmp, name);
      const st = fs.lstatSync(file, { throwIfNoEntry: false });
      if (!st) continue;
      const pid = Number(name.split("-")[0]);
      const stale = st.mtimeMs < tempCutoff || (Number.isInteger(pid) && pid > 0 && !pidAlive(pid));
      if (!stale) continue;
      report.tempFiles++;
      report.bytesFreed += st.isFile() ? st.size : 0;
      if (!dryRun) fs.rmSync(file, { recursive: true, force: true });
    }
    if (!dryRun) {
      for (const name of readdirOrEmpty(this.layout.trash)) {
        fs.rmSync(path.join(this.layout.trash, name), { recursive: true, force: true });
      }
    }
    return report;
  }

  *#walkFiles(): Generator<{ id: string; file: string }> {
    for (const shard of readdirOrEmpty(this.layout.files)) {
      const dir = path.join(this.layout.files, shard);
      for (const name of readdirOrEmpty(dir)) {
        const exec = name.endsWith("-exec");
        yield {
          id: `${shard}${exec ? name.slice(0, -5) : name}${exec ? ":x" : ""}`,
          file: path.join(dir, name),
        };
      }
    }
  }

  #casPath(id: string): string {
    const exec = id.endsWith(":x");
    return this.layout.filePath(exec ? id.slice(0, -2) : id, exec);
  }
}

/** The CAS identities (digest, plus ":x" for the separate executable inode) of a row's files. */
function fileIds(record: PackageRecord): { id: string; size: number }[] {
  const seen = new Map<string, number>();
  for (const f of Object.values(record.files)) seen.set(f.digest + (f.mode & 0o111 ? ":x" : ""), f.size);
  return [...seen].map(([id, size]) => ({ id, size }));
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/**
 * Parse a size: plain bytes, or a number with K, M, G, T (powers of 1024; "KB", "KiB" alike).
 *
 * @example
 * ```ts
 * import { parseSize } from "./gc.ts";
 * parseSize("1.5G"); // 1610612736
 * ```
 */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) {
    throw new Error(`"${text}" is not a size: use bytes or a number with K, M, G or T, e.g. 500M or 2G`);
  }
  const power = " kmgt".indexOf(m[2].toLowerCase() || " ");
  return Math.floor(Number(m[1]) * 1024 ** power);
}
