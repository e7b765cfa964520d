/**
 * The SQLite surface silo uses: prepared statements, a transaction helper, exec.
 * Implemented by the FFI driver (system libsqlite3) and the built-in driver (node:sqlite).
 *
 * @module
 */

/** A value bound to or read from SQLite. Integers come back as numbers. */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** A row keyed by column name. */
export type SqlRow = Record<string, SqlValue>;

/** A prepared statement, reusable until the database closes. */
export interface SqliteStatement {
  /** Run to completion; returns the number of changed rows. */
  run(...params: SqlValue[]): number;
  /** All result rows. */
  all(...params: SqlValue[]): SqlRow[];
  /** The first row, or undefined. */
  get(...params: SqlValue[]): SqlRow | undefined;
}

/** An open database. */
export interface SqliteDatabase {
  /** Which driver serves it: "ffi" (system libsqlite3) or "builtin" (the runtime's node:sqlite). */
  readonly driver: "ffi" | "builtin";
  /** The SQLite library version, e.g. "3.40.1". */
  readonly version: string;
  /** Execute one or more statements without results. */
  exec(sql: string): void;
  /** Prepare (and cache) a statement. */
  prepare(sql: string): SqliteStatement;
  /** Run `fn` inside BEGIN IMMEDIATE ... COMMIT, rolling back when it throws. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** An SQLite error with the result code and the library's message. */
export class SqliteError extends Error {
  /** The primary SQLite result code (5 = SQLITE_BUSY, 8 = SQLITE_READONLY, 13 = SQLITE_FULL, ...). */
  readonly code: number;
  constructor(message: string, code: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "SqliteError";
    this.code = code;
  }
}

/** Shared transaction logic for both drivers. */
export function runTransaction<T>(db: Pick<SqliteDatabase, "exec">, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // The failed statement may already have rolled back; the original error matters.
    }
    throw error;
  }
}
