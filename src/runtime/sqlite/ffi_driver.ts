/**
 * SQLite over FFI, written once against a small bindings table that each runtime
 * adapter (ffi_deno.ts, ffi_bun.ts) fills with its own dlopen symbols. `P` is the
 * runtime's pointer representation, opaque here.
 *
 * @module
 */
import {
  runTransaction,
  type SqliteDatabase,
  SqliteError,
  type SqliteStatement,
  type SqlRow,
  type SqlValue,
} from "./types.ts";

/** The libsqlite3 calls the driver makes, with runtime pointer types hidden behind `P`. */
export interface SqliteBindings<P> {
  readonly libraryVersion: string;
  open(filename: Uint8Array, out: BigUint64Array, flags: number): number;
  pointerFrom(out: BigUint64Array): P;
  close(db: P): number;
  errmsg(db: P): string;
  busyTimeout(db: P, ms: number): number;
  exec(db: P, sql: Uint8Array): number;
  prepare(db: P, sql: Uint8Array, out: BigUint64Array): number;
  bindText(stmt: P, index: number, bytes: Uint8Array, length: number): number;
  bindBlob(stmt: P, index: number, bytes: Uint8Array, length: number): number;
  bindInt64(stmt: P, index: number, value: bigint): number;
  bindDouble(stmt: P, index: number, value: number): number;
  bindNull(stmt: P, index: number): number;
  step(stmt: P): number;
  reset(stmt: P): number;
  clearBindings(stmt: P): number;
  finalize(stmt: P): number;
  columnCount(stmt: P): number;
  columnName(stmt: P, index: number): string;
  columnType(stmt: P, index: number): number;
  columnInt64(stmt: P, index: number): number | bigint;
  columnDouble(stmt: P, index: number): number;
  columnBytes(stmt: P, index: number): number;
  /** Copy of a BLOB column's bytes: SQLite reuses the memory on the next step. */
  columnBlob(stmt: P, index: number, length: number): Uint8Array;
  /** A TEXT column as a string. */
  columnText(stmt: P, index: number): string;
  changes(db: P): number;
}

const SQLITE_OK = 0;
const SQLITE_ROW = 100;
const SQLITE_DONE = 101;
const OPEN_READONLY = 0x1;
const OPEN_READWRITE = 0x2;
const OPEN_CREATE = 0x4;
const OPEN_NOMUTEX = 0x8000;
const INTEGER = 1, FLOAT = 2, TEXT = 3, BLOB = 4;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(1); // a non-null pointer for zero-length text/blob (a null one binds NULL)

function cString(text: string): Uint8Array {
  return encoder.encode(text + "\0");
}

class FfiStatement<P> implements SqliteStatement {
  #b: SqliteBindings<P>;
  #db: FfiDatabase<P>;
  #stmt: P;
  #columns: string[];
  constructor(b: SqliteBindings<P>, db: FfiDatabase<P>, stmt: P) {
    this.#b = b;
    this.#db = db;
    this.#stmt = stmt;
    const count = b.columnCount(stmt);
    this.#columns = Array.from({ length: count }, (_, i) => b.columnName(stmt, i));
  }

  #bind(params: SqlValue[]): void {
    const b = this.#b, s = this.#stmt;
    for (let i = 0; i < params.length; i++) {
      const v = params[i], index = i + 1;
      let rc: number;
      if (v === null || v === undefined) rc = b.bindNull(s, index);
      else if (typeof v === "string") {
        const bytes = encoder.encode(v);
        rc = b.bindText(s, index, bytes.length ? bytes : EMPTY, bytes.length);
      } else if (typeof v === "number") {
        rc = Number.isInteger(v) ? b.bindInt64(s, index, BigInt(v)) : b.bindDouble(s, index, v);
      } else if (typeof v === "bigint") rc = b.bindInt64(s, index, v);
      else rc = b.bindBlob(s, index, v.length ? v : EMPTY, v.length);
      if (rc !== SQLITE_OK) this.#db.fail(rc, "bind");
    }
  }

  #row(): SqlRow {
    const b = this.#b, s = this.#stmt, row: SqlRow = {};
    for (let i = 0; i < this.#columns.length; i++) {
      const type = b.columnType(s, i);
      let value: SqlValue;
      if (type === INTEGER) {
        const n = b.columnInt64(s, i);
        value = typeof n === "bigint" && n <= BigInt(Number.MAX_SAFE_INTEGER) &&
            n >= BigInt(Number.MIN_SAFE_INTEGER)
          ? Number(n)
          : n;
      } else if (type === FLOAT) value = b.columnDouble(s, i);
      else if (type === TEXT) value = b.columnText(s, i);
      else if (type === BLOB) value = b.columnBlob(s, i, b.columnBytes(s, i));
      else value = null;
      row[this.#columns[i]] = value;
    }
    return row;
  }

  #iterate(params: SqlValue[], limit: number): SqlRow[] {
    const b = this.#b, s = this.#stmt;
    this.#bind(params);
    const rows: SqlRow[] = [];
    try {
      for (;;) {
        const rc = b.step(s);
        if (rc === SQLITE_ROW) {
          rows.push(this.#row());
          if (rows.length >= limit) break;
        } else if (rc === SQLITE_DONE) break;
        else this.#db.fail(rc, "step");
      }
    } finally {
      b.reset(s);
      b.clearBindings(s);
    }
    return rows;
  }

  run(...params: SqlValue[]): number {
    this.#iterate(params, Infinity);
    return this.#b.changes(this.#db.handle);
  }
  all(...params: SqlValue[]): SqlRow[] {
    return this.#iterate(params, Infinity);
  }
  get(...params: SqlValue[]): SqlRow | undefined {
    return this.#iterate(params, 1)[0];
  }
  finalize(): void {
    this.#b.finalize(this.#stmt);
  }
}

class FfiDatabase<P> implements SqliteDatabase {
  readonly driver = "ffi" as const;
  readonly version: string;
  readonly handle: P;
  #b: SqliteBindings<P>;
  #path: string;
  #cache = new Map<string, FfiStatement<P>>();
  #out = new BigUint64Array(1);

  constructor(b: SqliteBindings<P>, path: string, readonly: boolean) {
    this.#b = b;
    this.#path = path;
    this.version = b.libraryVersion;
    const flags = (readonly ? OPEN_READONLY : OPEN_READWRITE | OPEN_CREATE) | OPEN_NOMUTEX;
    const rc = b.open(cString(path), this.#out, flags);
    this.handle = b.pointerFrom(this.#out);
    if (rc !== SQLITE_OK) {
      const message = b.errmsg(this.handle);
      b.close(this.handle);
      throw new SqliteError(`cannot open SQLite database ${path}: ${message}`, rc & 0xff);
    }
  }

  fail(rc: number, what: string): never {
    throw new SqliteError(
      `SQLite ${what} failed on ${this.#path}: ${this.#b.errmsg(this.handle)}`,
      rc & 0xff,
    );
  }

  exec(sql: string): void {
    const rc = this.#b.exec(this.handle, cString(sql));
    if (rc !== SQLITE_OK) this.fail(rc, "exec");
  }

  prepare(sql: string): SqliteStatement {
    let stmt = this.#cache.get(sql);
    if (!stmt) {
      const rc = this.#b.prepare(this.handle, cString(sql), this.#out);
      if (rc !== SQLITE_OK) this.fail(rc, `prepare (${sql.slice(0, 60)})`);
      stmt = new FfiStatement(this.#b, this, this.#b.pointerFrom(this.#out));
      this.#cache.set(sql, stmt);
    }
    return stmt;
  }

  transaction<T>(fn: () => T): T {
    return runTransaction(this, fn);
  }

  close(): void {
    for (const stmt of this.#cache.values()) stmt.finalize();
    this.#cache.clear();
    this.#b.close(this.handle);
  }
}

/** Open `path` through the given bindings. */
export function openFfiSqlite<P>(
  bindings: SqliteBindings<P>,
  path: string,
  readonly = false,
): SqliteDatabase {
  return new FfiDatabase(bindings, path, readonly);
}

/** What differs between the runtimes' FFI: pointers, C strings, copying memory, SQLITE_TRANSIENT. */
export interface PointerOps<P> {
  /** The pointer an out-parameter (`T**`) received. */
  pointerFrom(out: BigUint64Array): P;
  /** A NUL-terminated string at `ptr` ("" for null). */
  cstr(ptr: P): string;
  /** A copy of `length` bytes at `ptr`. */
  copy(ptr: P, length: number): Uint8Array;
  /**
   * The UTF-8 text of `length` bytes at `ptr`, where the runtime decodes it in one step (Bun's CString);
   * otherwise it is copied and decoded.
   */
  text?(ptr: P, length: number): string;
  /** SQLITE_TRANSIENT ((void*)-1) as the runtime passes the destructor argument. */
  transient: number | bigint;
}

// deno-lint-ignore no-explicit-any
type RawSymbols = Record<string, (...args: any[]) => any>;

/**
 * The bindings over a loaded symbol table (see symbols.ts), written once for both runtimes: each
 * adapter only says how its FFI spells pointers and memory.
 */
export function bindSqlite<P>(s: RawSymbols, ops: PointerOps<P>): SqliteBindings<P> {
  const { cstr } = ops;
  return {
    libraryVersion: cstr(s.sqlite3_libversion()),
    open: (filename, out, flags) => s.sqlite3_open_v2(filename, out, flags, null),
    pointerFrom: ops.pointerFrom,
    close: (db) => s.sqlite3_close_v2(db),
    errmsg: (db) => cstr(s.sqlite3_errmsg(db)),
    busyTimeout: (db, ms) => s.sqlite3_busy_timeout(db, ms),
    exec: (db, sql) => s.sqlite3_exec(db, sql, null, null, null),
    prepare: (db, sql, out) => s.sqlite3_prepare_v2(db, sql, -1, out, null),
    bindText: (stmt, i, bytes, n) => s.sqlite3_bind_text(stmt, i, bytes, n, ops.transient),
    bindBlob: (stmt, i, bytes, n) => s.sqlite3_bind_blob(stmt, i, bytes, n, ops.transient),
    bindInt64: (stmt, i, v) => s.sqlite3_bind_int64(stmt, i, v),
    bindDouble: (stmt, i, v) => s.sqlite3_bind_double(stmt, i, v),
    bindNull: (stmt, i) => s.sqlite3_bind_null(stmt, i),
    step: (stmt) => s.sqlite3_step(stmt),
    reset: (stmt) => s.sqlite3_reset(stmt),
    clearBindings: (stmt) => s.sqlite3_clear_bindings(stmt),
    finalize: (stmt) => s.sqlite3_finalize(stmt),
    columnCount: (stmt) => s.sqlite3_column_count(stmt),
    columnName: (stmt, i) => cstr(s.sqlite3_column_name(stmt, i)),
    columnType: (stmt, i) => s.sqlite3_column_type(stmt, i),
    columnInt64: (stmt, i) => s.sqlite3_column_int64(stmt, i),
    columnDouble: (stmt, i) => s.sqlite3_column_double(stmt, i),
    columnBytes: (stmt, i) => s.sqlite3_column_bytes(stmt, i),
    columnBlob(stmt, i, length) {
      if (length === 0) return new Uint8Array(0);
      return ops.copy(s.sqlite3_column_blob(stmt, i), length);
    },
    columnText(stmt, i) {
      const ptr = s.sqlite3_column_text(stmt, i); // before column_bytes, as SQLite asks
      const length = s.sqlite3_column_bytes(stmt, i);
      if (length === 0) return "";
      return ops.text ? ops.text(ptr, length) : decoder.decode(ops.copy(ptr, length));
    },
    changes: (db) => s.sqlite3_changes(db),
  };
}

/** Library names to try, in order; `SILO_SQLITE_PATH` overrides. */
export function sqliteLibraryCandidates(platform: string, override?: string): string[] {
  if (override) return [override];
  if (platform === "darwin") {
    return ["/usr/lib/libsqlite3.dylib", "/opt/homebrew/opt/sqlite/lib/libsqlite3.dylib", "libsqlite3.dylib"];
  }
  if (platform === "win32") return ["sqlite3.dll", "winsqlite3.dll"];
  return ["libsqlite3.so.0", "libsqlite3.so"];
}
