/**
 * The verifier. Per file: a lock-free fast path when the CAS file's mtime is within
 * 100 ms of the recorded checkedAt; otherwise it takes the writer's keyed lock,
 * re-stats and re-hashes, and only then may it remove a bad file (moved into trash
 * under the lock, deleted later).
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { type FileStat, lstatFile } from "../runtime/lstat.ts";
import { casMode } from "./cas.ts";
import type { Hasher } from "./hasher.ts";
import type { FileEntry, FileMap, PackageRecord, StoreIndex } from "./index_db.ts";
import type { KeyedMutex } from "./keyed_mutex.ts";
import type { StoreLayout } from "./layout.ts";

/** How close (ms) a file's mtime must be to checkedAt for the verifier to trust it without hashing. */
export const FAST_PATH_WINDOW_MS = 100;

/**
 * The verifier's lock-free fast path as a plain function (install workers run it without a Verifier):
 * true when the CAS file is a regular file of the recorded size and mode whose mtime is within
 * {@linkcode FAST_PATH_WINDOW_MS} of checkedAt.
 */
export function fastPathOk(layout: StoreLayout, entry: FileEntry, stat?: StoreFileStat): boolean {
  const exec = (entry.mode & 0o111) !== 0;
  const st = stat ? stat(entry.digest, exec) : lstatFile(layout.filePath(entry.digest, exec));
  return st !== undefined && st.isFile && st.size === entry.size && (st.mode & 0o777) === casMode(exec) &&
    Math.abs(st.mtimeMs - entry.checkedAt) <= FAST_PATH_WINDOW_MS;
}

/** How the fast path may read a store file instead of an lstat of its CAS path (the same, by a shorter route). */
export type StoreFileStat = (digest: string, exec: boolean) => FileStat | undefined;

/** Whether every file of a package passes {@linkcode fastPathOk}: what an install checks before it links. */
export function filesPassFastPath(layout: StoreLayout, files: FileMap, stat?: StoreFileStat): boolean {
  for (const rel in files) if (!fastPathOk(layout, files[rel], stat)) return false;
  return true;
}

/** Why a file failed. */
export type FileProblemReason = "missing" | "modified" | "wrong-mode" | "not-a-file";

/** One bad file of a package. */
export interface FileProblem {
  path: string;
  digest: string;
  reason: FileProblemReason;
}

/** The verdict on one package. */
export interface PackageReport {
  key: string;
  name: string;
  version: string;
  ok: boolean;
  problems: FileProblem[];
}

/** The verdict on the whole store. */
export interface VerifyReport {
  packages: number;
  files: number;
  /** Files checked by re-hashing (the rest took the fast path). */
  rehashed: number;
  bad: PackageReport[];
  /** With repair: how many bad files and rows were removed. */
  removedFiles: number;
  removedRows: number;
}

/** Outcome for a single CAS file. */
export interface FileVerdict {
  ok: boolean;
  reason?: FileProblemReason;
  /** The mtime observed when the file was found good (new checkedAt). */
  checkedAt?: number;
  rehashed: boolean;
}

/** Options for a verification run. */
export interface VerifyOptions {
  /** Remove bad files (under the lock) and the rows that use them, so the next install re-fetches. */
  repair?: boolean;
  /** Called once per package as it is judged. */
  onPackage?: (report: PackageReport) => void;
}

/**
 * Checks stored files against their digests.
 *
 * @example
 * ```ts ignore
 * const report = await verifier.verifyAll({ repair: false });
 * if (report.bad.length) console.log(report.bad.map((b) => b.name));
 * ```
 */
export class Verifier {
  readonly layout: StoreLayout;
  readonly index: StoreIndex;
  readonly hasher: Hasher;
  readonly mutex: KeyedMutex;

  constructor(layout: StoreLayout, index: StoreIndex, hasher: Hasher, mutex: KeyedMutex) {
    this.layout = layout;
    this.index = index;
    this.hasher = hasher;
    this.mutex = mutex;
  }

  /**
   * The lock-free fast path alone: true when the CAS file is a regular file of the recorded size and
   * mode whose mtime is within {@linkcode FAST_PATH_WINDOW_MS} of checkedAt. False means "hash it".
   */
  fastPathOk(entry: FileEntry): boolean {
    return fastPathOk(this.layout, entry);
  }

  /** Judge one file; with `repair`, a bad file is moved out of the CAS path under the lock. */
  async verifyFile(entry: FileEntry, repair = false): Promise<FileVerdict> {
    if (this.fastPathOk(entry)) return { ok: true, checkedAt: entry.checkedAt, rehashed: false };
    const exec = (entry.mode & 0o111) !== 0;
    const casPath = this.layout.filePath(entry.digest, exec);
    // Slow path: a writer may be mid-publish on this path; wait for it, then judge what is there.
    return await this.mutex.run(casPath, () => {
      const now = fs.lstatSync(casPath, { throwIfNoEntry: false });
      if (!now) return { ok: false, reason: "missing" as const, rehashed: false };
      let verdict: FileVerdict;
      if (!now.isFile()) verdict = { ok: false, reason: "not-a-file", rehashed: false };
      else if (this.hasher.sha512Hex(fs.readFileSync(casPath)) !== entry.digest || now.size !== entry.size) {
        verdict = { ok: false, reason: "modified", rehashed: true };
      } else if ((now.mode & 0o777) !== casMode(exec)) {
        verdict = { ok: false, reason: "wrong-mode", rehashed: true };
      } else return { ok: true, checkedAt: now.mtimeMs, rehashed: true };
      if (repair) this.#discard(casPath, now.ino);
      return verdict;
    });
  }

  /** Judge one package row. */
  async verifyPackage(record: PackageRecord, options: VerifyOptions = {}): Promise<PackageReport> {
    return (await this.#verifyRecord(record, new Map(), options.repair ?? false)).report;
  }

  /** Judge every package in the index. */
  async verifyAll(options: VerifyOptions = {}): Promise<VerifyReport> {
    const repair = options.repair ?? false;
    const cache = new Map<string, Promise<FileVerdict>>(); // files shared by packages are judged once
    const result: VerifyReport = {
      packages: 0,
      files: 0,
      rehashed: 0,
      bad: [],
      removedFiles: 0,
      removedRows: 0,
    };
    const refreshed: PackageRecord[] = [];
    for (const record of this.index.records()) {
      const { report, changed } = await this.#verifyRecord(record, cache, repair);
      result.packages++;
      if (!report.ok) result.bad.push(report);
      else if (changed) refreshed.push(record);
      options.onPackage?.(report);
    }
    for (const verdict of await Promise.all(cache.values())) {
      result.files++;
      if (verdict.rehashed) result.rehashed++;
      if (repair && !verdict.ok && verdict.reason !== "missing") result.removedFiles++;
    }
    // Files found good by hashing get their new mtime recorded, so the next run takes the fast path.
    this.index.putMany(refreshed);
    if (repair && result.bad.length) {
      this.index.deleteMany(result.bad.map((b) => b.key));
      result.removedRows = result.bad.length;
    }
    this.emptyTrash();
    return result;
  }

  async #verifyRecord(
    record: PackageRecord,
    cache: Map<string, Promise<FileVerdict>>,
    repair: boolean,
  ): Promise<{ report: PackageReport; changed: boolean }> {
    const problems: FileProblem[] = [];
    let changed = false;
    for (const [filePath, entry] of Object.entries(record.files)) {
      const id = `${entry.digest}:${entry.mode & 0o111 ? "x" : ""}`;
      let pending = cache.get(id);
      if (!pending) cache.set(id, pending = this.verifyFile(entry, repair));
      const verdict = await pending;
      if (!verdict.ok) problems.push({ path: filePath, digest: entry.digest, reason: verdict.reason! });
      else if (verdict.checkedAt !== undefined && verdict.checkedAt !== entry.checkedAt) {
        entry.checkedAt = verdict.checkedAt;
        changed = true;
      }
    }
    const report = {
      key: record.key,
      name: record.name,
      version: record.version,
      ok: problems.length === 0,
      problems,
    };
    return { report, changed };
  }

  // Called with the file's lock held: the rename is atomic, the delete happens later off the lock.
  #discard(casPath: string, judgedIno: number): void {
    const trashed = path.join(
      this.layout.trash,
      `${path.basename(casPath)}-${process.pid}-${Date.now().toString(36)}`,
    );
    try {
      fs.renameSync(casPath, trashed);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      return;
    }
    // Our lock only covers this process. If another process published a fresh copy between our hash
    // and the rename, we moved its good file: put it back (link: never over a newer one).
    if (fs.lstatSync(trashed).ino !== judgedIno) {
      try {
        fs.linkSync(trashed, casPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
    }
  }

  /** Delete what earlier removals moved into trash. */
  emptyTrash(): void {
    for (const name of fs.readdirSync(this.layout.trash)) {
      fs.rmSync(path.join(this.layout.trash, name), { recursive: true, force: true });
    }
  }
}
