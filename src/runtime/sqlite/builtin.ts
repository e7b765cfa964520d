/**
 * The runtime's own SQLite (node:sqlite, present in both Deno and Bun), used when no
 * system libsqlite3 can be loaded through FFI.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  runTransaction,
  type SqliteDatabase,
  SqliteError,
  type SqliteStatement,
  type SqlRow,
  type SqlValue,
} from "./types.ts";

type Bindable = Exclude<SqlValue, never>;

class BuiltinStatement implements SqliteStatement {
  #stmt: StatementSync;
  constructor(stmt: StatementSync) {
    this.#stmt = stmt;
  }
  run(...params: SqlValue[]): number {
    return Number(wrap(() => this.#stmt.run(...(params as Bindable[]))).changes);
  }
  all(...params: SqlValue[]): SqlRow[] {
    return wrap(() => this.#stmt.all(...(params as Bindable[]))) as SqlRow[];
  }
  get(...params: SqlValue[]): SqlRow | undefined {
    return wrap(() => this.#stmt.get(...(params as Bindable[]))) as SqlRow | undefined;
  }
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const e = error as { message?: string; errcode?: number };
    if (typeof e?.errcode === "number") {
      throw new SqliteError(e.message ?? "sqlite error", e.errcode & 0xff, { cause: error });
    }
    throw error;
  }
}

/** Open `path` with node:sqlite. */
export function openBuiltinSqlite(path: string, readonly = false): SqliteDatabase {
  const db = wrap(() => new DatabaseSync(path, { readOnly: readonly }));
  const cache = new Map<string, SqliteStatement>();
  const version = String((db.prepare("select sqlite_version() as v").get() as { v: string }).v);
  const self: SqliteDatabase = {
    driver: "builtin",
    version,
    exec: (sql) => wrap(() => db.exec(sql)),
    prepare(sql) {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = new BuiltinStatement(wrap(() => db.prepare(sql)));
        cache.set(sql, stmt);
      }
      return stmt;
    },
    transaction: (fn) => runTransaction(self, fn),
    close: () => db.close(),
  };
  return self;
}
