/**
 * Edited packages. People edit files in node_modules; with hardlinks the edit lands in
 * the store's inode too. Two guards:
 * - {@linkcode projectStatus} (`silo status`) lists a project's packages whose files
 *   differ from the store's digests;
 * - {@linkcode storeFilesIntact} runs on a store hit whose files failed the fast path
 *   before an install links it, so an edited store file is moved aside and the package
 *   fetched again instead of being spread into the next project.
 *
 * Both take the cheap path first (size and mtime against what the index recorded) and
 * hash only on a mismatch.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { T } from "../container/app.ts";
import type { Container } from "../container/container.ts";
import type { Hasher } from "../store/hasher.ts";
import type { PackageRecord, StoreIndex } from "../store/index_db.ts";
import type { StoreLayout } from "../store/layout.ts";
import type { ProjectRegistry } from "../store/projects.ts";
import { FAST_PATH_WINDOW_MS } from "../store/verifier.ts";
import { managerOf } from "../lockfile/locate.ts";
import { type FileNaming, placedName, shadowedUnderNpm } from "./materialize.ts";

/**
 * Whether every store file of `record` is as the index recorded it, for a hit whose files failed
 * `filesPassFastPath` (store/verifier.ts; the install checks that first, on whatever thread links). Each file
 * goes through the verifier (its fast path, then a hash under the writer's lock), which moves a bad
 * file into trash so the re-fetch that follows publishes a good one. Files found good by hashing get
 * their new mtime recorded.
 *
 * @example
 * ```ts ignore
 * const intact = filesPassFastPath(layout, hit.files) || await storeFilesIntact(c, hit, warn);
 * const record = intact ? hit : await fetcher.fetch(node);
 * ```
 */
export async function storeFilesIntact(
  c: Container,
  record: PackageRecord,
  warn: (message: string) => void = () => {},
): Promise<boolean> {
  const verifier = c.get(T.verifier);
  const index = c.get(T.index);
  let ok = true;
  for (const [rel, entry] of Object.entries(record.files)) {
    const verdict = await verifier.verifyFile(entry, true);
    if (!verdict.ok) {
      ok = false;
      if (verdict.reason !== "missing") {
        warn(
          `${record.name}@${record.version}: the store's copy of ${rel} was changed (${verdict.reason}; ` +
            "edited through a hardlink in some node_modules?); fetching a clean copy",
        );
      }
    } else if (verdict.checkedAt !== undefined && verdict.checkedAt !== entry.checkedAt) {
      index.setCheckedAt(record.key, rel, verdict.checkedAt);
    }
  }
  return ok;
}

/** Why a file in node_modules differs. */
export type ModifiedReason = "modified" | "missing" | "not-a-file";

/** One package folder whose files differ from the store. */
export interface ModifiedPackage {
  /** Folder relative to the project, e.g. "node_modules/ms". */
  dir: string;
  key: string;
  name: string;
  version: string;
  /** Files that differ; empty when the whole folder is gone. */
  files: { path: string; reason: ModifiedReason }[];
  /** The folder itself is gone (deleted, or node_modules removed): its files are not listed one by one. */
  gone: boolean;
  /** The folder shares an edited inode with the store (hardlink): `silo verify` flags it too. */
  storeAffected: boolean;
}

/** The result of `silo status`. */
export interface StatusReport {
  project: string;
  /** Whether the store knows this project (it was installed with this store). */
  registered: boolean;
  packages: number;
  files: number;
  /** Files that needed hashing (the rest matched on size and mtime). */
  rehashed: number;
  modified: ModifiedPackage[];
  /** Folders whose store row is gone (gc, verify --repair): not checked. */
  unknown: string[];
}

/** What {@linkcode projectStatus} reads. */
export interface StatusDeps {
  layout: StoreLayout;
  index: StoreIndex;
  projects: ProjectRegistry;
  hasher: Hasher;
}

/**
 * Compare a project's package folders against the store. A hardlinked file (same inode as
 * the CAS file) is fine when the CAS file's size and mtime match the index; a copy is fine
 * when its size matches and it is no newer than the install; anything else is hashed.
 *
 * @example
 * ```ts ignore
 * const report = projectStatus({ layout, index, projects, hasher }, "/app");
 * for (const m of report.modified) console.log(m.dir, m.files);
 * ```
 */
export function projectStatus(deps: StatusDeps, projectDir: string): StatusReport {
  const project = deps.projects.get(projectDir);
  const report: StatusReport = {
    project: path.resolve(projectDir),
    registered: project !== undefined,
    packages: 0,
    files: 0,
    rehashed: 0,
    modified: [],
    unknown: [],
  };
  if (!project) return report;
  const installedAt = project.lastUsed;
  const naming: FileNaming = managerOf(project.lockfile) === "npm" ? "npm" : "packed";
  const dirs = Object.keys(project.packages).sort();
  for (const dir of dirs) {
    const key = project.packages[dir];
    const record = deps.index.get(key);
    if (!record) {
      report.unknown.push(dir);
      continue;
    }
    report.packages++;
    const about = { dir, key, name: record.name, version: record.version };
    if (!fs.existsSync(path.join(project.path, dir))) {
      report.modified.push({ ...about, files: [], gone: true, storeAffected: false });
      continue;
    }
    const files: ModifiedPackage["files"] = [];
    let storeAffected = false;
    // Under npm's naming a packed .gitignore lands as .npmignore, unless the package packs its own.
    const placed = new Map(
      Object.entries(record.files).filter(([rel]) => naming !== "npm" || !shadowedUnderNpm(rel, record.files))
        .map(([rel, entry]) => [placedName(rel, naming), entry]),
    );
    for (const [rel, entry] of placed) {
      report.files++;
      const file = path.join(project.path, dir, rel);
      const st = fs.lstatSync(file, { throwIfNoEntry: false });
      if (!st) {
        files.push({ path: rel, reason: "missing" });
        continue;
      }
      if (!st.isFile()) {
        files.push({ path: rel, reason: "not-a-file" });
        continue;
      }
      const exec = (entry.mode & 0o111) !== 0;
      const cas = fs.lstatSync(deps.layout.filePath(entry.digest, exec), { throwIfNoEntry: false });
      const linked = cas !== undefined && cas.ino === st.ino && cas.dev === st.dev;
      if (st.size === entry.size) {
        if (linked && Math.abs(st.mtimeMs - entry.checkedAt) <= FAST_PATH_WINDOW_MS) continue;
        if (!linked && st.mtimeMs <= installedAt + FAST_PATH_WINDOW_MS) continue;
        report.rehashed++;
        if (deps.hasher.sha512Hex(fs.readFileSync(file)) === entry.digest) continue;
      }
      files.push({ path: rel, reason: "modified" });
      if (linked) storeAffected = true;
    }
    if (files.length) {
      report.modified.push({ ...about, files, gone: false, storeAffected });
    }
  }
  return report;
}

/**
 * The folder -> key map a finished install registers for its project.
 *
 * @example
 * ```ts ignore
 * projects.register({ path, lockfile, lastUsed: Date.now(), packages: placedKeys(plan.placements, records) });
 * ```
 */
export function placedKeys(
  placements: readonly { id: string; dir: string }[],
  records: ReadonlyMap<string, Pick<PackageRecord, "key">>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of placements) {
    const record = records.get(p.id);
    if (record) out[p.dir.split(path.sep).join("/")] = record.key;
  }
  return out;
}
