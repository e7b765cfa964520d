/**
 * Leases (invariant 7): an install leases every package key it is about to link, before
 * linking starts, and drops them when it ends. gc and eviction never remove a leased
 * package. Leases live in the store's SQLite index (WAL, busy timeout), so every process
 * sharing the store sees them; a lease whose process is gone (kill(pid, 0) fails with
 * ESRCH) is reclaimed by the next reader. That also covers every way a process can end
 * without reaching its `finally` (kill -9, an uncaught signal): no exit hook is needed.
 *
 * @module
 */
import os from "node:os";
import process from "node:process";
import type { SqliteDatabase } from "../runtime/mod.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS leases (
  owner TEXT NOT NULL,
  key TEXT NOT NULL,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  PRIMARY KEY (owner, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS leases_key ON leases (key);
`;

/** A lease on another host is trusted this long (its pid cannot be checked from here). */
export const FOREIGN_LEASE_TTL_MS = 24 * 60 * 60 * 1000;

/** Whether a process is alive: kill(pid, 0) succeeds, or fails with EPERM (alive, someone else's). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The store's index refused the lease write: a read-only store, a full disk, a permission problem. */
export class StoreNotWritableError extends Error {
  constructor(cause: unknown) {
    const reason = (cause as Error)?.message ?? String(cause);
    super(
      `cannot write to the store index (${reason}). An install needs a writable store: check the ` +
        "store's free space, permissions and mount (read-only?), or point --store / SILO_STORE_DIR at a " +
        "writable directory",
      { cause },
    );
    this.name = "StoreNotWritableError";
  }
}

/** One process's hold on a set of package keys. */
export interface Lease extends Disposable {
  /** Unique per lease: two installs in one process hold separate leases. */
  readonly owner: string;
  readonly pid: number;
  readonly keys: ReadonlySet<string>;
  /** Add keys (e.g. a package found only after linking started). */
  add(keys: Iterable<string>): void;
  /** Drop the lease; idempotent. Also runs at the end of a `using` scope. */
  release(): void;
}

/** Options for {@linkcode LeaseTable}; tests pass a fake pid, host, clock or liveness check. */
export interface LeaseTableOptions {
  pid?: number;
  host?: string;
  now?: () => number;
  isAlive?: (pid: number) => boolean;
}

let leaseCounter = 0;

/**
 * The `leases` table of a store's index.
 *
 * @example
 * ```ts ignore
 * const lease = leases.take(keys);
 * try {
 *   // link packages
 * } finally {
 *   lease.release();
 * }
 * ```
 */
export class LeaseTable {
  readonly db: SqliteDatabase;
  readonly pid: number;
  readonly host: string;
  #now: () => number;
  #isAlive: (pid: number) => boolean;

  constructor(db: SqliteDatabase, options: LeaseTableOptions = {}) {
    this.db = db;
    this.pid = options.pid ?? process.pid;
    this.host = options.host ?? os.hostname();
    this.#now = options.now ?? Date.now;
    this.#isAlive = options.isAlive ?? pidAlive;
    db.transaction(() => db.exec(SCHEMA));
  }

  /** Lease `keys` for this process (one transaction). */
  take(keys: Iterable<string>, pid = this.pid): Lease {
    const owner = `${pid}-${this.#now().toString(36)}-${(leaseCounter++).toString(36)}`;
    const held = new Set<string>();
    // One statement for the whole set: SQLite walks the JSON array itself (mocha's 611 keys: 8 ms as one
    // INSERT per key through FFI).
    const insert = (more: Iterable<string>) => {
      const fresh = [...new Set(more)].filter((key) => !held.has(key));
      if (fresh.length === 0) return;
      this.db.prepare(
        "INSERT OR IGNORE INTO leases (owner, key, pid, host, started_at) SELECT ?, value, ?, ?, ? FROM json_each(?)",
      ).run(owner, pid, this.host, this.#now(), JSON.stringify(fresh));
      for (const key of fresh) held.add(key);
    };
    try {
      insert(keys);
    } catch (error) {
      throw new StoreNotWritableError(error);
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      try {
        this.db.prepare("DELETE FROM leases WHERE owner = ?").run(owner);
      } catch {
        // Never mask the install's own error (a full disk fails this write too): the rows are
        // reclaimed by the next gc once this process is gone.
      }
    };
    return {
      owner,
      pid,
      keys: held,
      add: (more) => {
        if (!released) insert(more);
      },
      release,
      [Symbol.dispose]: release,
    };
  }

  /**
   * Keys leased by live processes. Leases of dead processes on this host, and leases from
   * other hosts older than {@linkcode FOREIGN_LEASE_TTL_MS}, are deleted on the way.
   * Call inside the transaction that decides what to remove, so no lease slips in between.
   */
  liveKeys(options: { reclaim?: boolean } = {}): Set<string> {
    if (options.reclaim === false) {
      const dead = new Set(this.#deadHolders().map((h) => `${h.pid}@${h.host}`));
      return new Set(
        this.db.prepare("SELECT key, pid, host FROM leases").all()
          .filter((r) => !dead.has(`${r.pid}@${r.host}`)).map((r) => r.key as string),
      );
    }
    this.reclaim();
    return new Set(this.db.prepare("SELECT DISTINCT key FROM leases").all().map((r) => r.key as string));
  }

  /** Delete leases whose holder is gone; returns how many processes' leases were reclaimed. */
  reclaim(): number {
    const dead = this.#deadHolders();
    const stmt = this.db.prepare("DELETE FROM leases WHERE pid = ? AND host = ?");
    for (const h of dead) stmt.run(h.pid, h.host);
    return dead.length;
  }

  #deadHolders(): { pid: number; host: string }[] {
    const holders = this.db.prepare(
      "SELECT pid, host, min(started_at) AS started FROM leases GROUP BY pid, host",
    ).all();
    const now = this.#now();
    return holders.map((h) => ({ pid: Number(h.pid), host: h.host as string, started: Number(h.started) }))
      .filter((h) => h.host === this.host ? !this.#isAlive(h.pid) : now - h.started > FOREIGN_LEASE_TTL_MS);
  }

  /** Every lease row (for `silo gc --json` and tests). */
  list(): { owner: string; key: string; pid: number; host: string; startedAt: number }[] {
    return this.db.prepare("SELECT owner, key, pid, host, started_at FROM leases ORDER BY owner, key").all()
      .map((r) => ({
        owner: r.owner as string,
        key: r.key as string,
        pid: Number(r.pid),
        host: r.host as string,
        startedAt: Number(r.started_at),
      }));
  }
}
