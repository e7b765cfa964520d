/**
 * The project registry: every install records which project used the store, with the
 * package keys it linked and where (package folder -> key). gc keeps what live projects
 * use; `silo status` compares a project's folders against the store rows named here.
 *
 * The used set is stored here rather than recomputed from a project's node_modules: it
 * survives `rm -rf node_modules` (the next install is then a store hit), costs gc no walk
 * of every project, and needs no lockfile parser in gc.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import type { SqliteDatabase } from "../runtime/mod.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS projects (
  path TEXT PRIMARY KEY,
  lockfile TEXT NOT NULL,
  lockfile_hash TEXT,
  last_used INTEGER NOT NULL,
  packages TEXT NOT NULL
);
`;

/** One registered project. */
export interface ProjectRecord {
  /** Absolute project directory. */
  path: string;
  /** The lockfile's file name inside `path`; the project is live while both exist. */
  lockfile: string;
  /** Hash of the lockfile and install options at the last install. */
  lockfileHash?: string;
  /** When its last install finished (ms). */
  lastUsed: number;
  /** Package folder (relative to `path`, posix) -> store key, as of the last install. */
  packages: Record<string, string>;
}

/**
 * The `projects` table of a store's index.
 *
 * @example
 * ```ts ignore
 * projects.register({ path: "/app", lockfile: "package-lock.json", lastUsed: Date.now(), packages });
 * for (const p of projects.live()) console.log(p.path);
 * ```
 */
export class ProjectRegistry {
  readonly db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.db = db;
    db.transaction(() => db.exec(SCHEMA));
  }

  /** Record (or replace) a project's last install. */
  register(project: ProjectRecord): void {
    this.db.prepare(
      `INSERT INTO projects (path, lockfile, lockfile_hash, last_used, packages) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET lockfile = excluded.lockfile, lockfile_hash = excluded.lockfile_hash,
         last_used = excluded.last_used, packages = excluded.packages`,
    ).run(
      path.resolve(project.path),
      project.lockfile,
      project.lockfileHash ?? null,
      project.lastUsed,
      JSON.stringify(project.packages),
    );
  }

  /** The record for a project directory, or undefined. */
  get(dir: string): ProjectRecord | undefined {
    const row = this.db.prepare("SELECT * FROM projects WHERE path = ?").get(path.resolve(dir));
    return row ? toProject(row) : undefined;
  }

  /** Every registered project. */
  all(): ProjectRecord[] {
    return this.db.prepare("SELECT * FROM projects ORDER BY path").all().map(toProject);
  }

  /** Forget projects. Opens no transaction of its own, so gc can call it inside its decision. */
  remove(paths: Iterable<string>): void {
    const stmt = this.db.prepare("DELETE FROM projects WHERE path = ?");
    for (const p of paths) stmt.run(p);
  }

  /** Split projects into live (folder and lockfile exist) and gone. */
  partition(): { live: ProjectRecord[]; gone: ProjectRecord[] } {
    const live: ProjectRecord[] = [], gone: ProjectRecord[] = [];
    for (const p of this.all()) (isLive(p) ? live : gone).push(p);
    return { live, gone };
  }
}

/** A project is live while its folder and its lockfile exist. */
export function isLive(project: Pick<ProjectRecord, "path" | "lockfile">): boolean {
  return fs.existsSync(path.join(project.path, project.lockfile));
}

function toProject(row: Record<string, unknown>): ProjectRecord {
  return {
    path: row.path as string,
    lockfile: row.lockfile as string,
    lockfileHash: (row.lockfile_hash as string | null) ?? undefined,
    lastUsed: Number(row.last_used),
    packages: JSON.parse(row.packages as string),
  };
}
