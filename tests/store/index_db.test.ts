import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { loadRuntime, SqliteError } from "../../src/runtime/mod.ts";
import { packageKey, type PackageRecord, StoreIndex, strongestIntegrity } from "../../src/store/index_db.ts";
import { tempDir } from "../support/store.ts";

function record(key: string, files = 2, now = 1000): PackageRecord {
  const map: PackageRecord["files"] = {};
  for (let i = 0; i < files; i++) {
    map[`lib/f${i}.js`] = {
      digest: `${key}-${i}`.padEnd(128, "0"),
      mode: i === 0 ? 0o755 : 0o644,
      size: 10 + i,
      checkedAt: now,
    };
  }
  return {
    key,
    name: `pkg-${key}`,
    version: "1.0.0",
    integrity: `sha512-${key}`,
    files: map,
    manifest: { name: `pkg-${key}`, bin: { x: "bin/x" }, scripts: {} },
    unpackedSize: 21,
    addedAt: now,
    lastUsed: now,
  };
}

// The FFI driver (system libsqlite3) and the runtime's built-in node:sqlite must behave the same.
for (const driver of ["ffi", "builtin"] as const) {
  test(`index (${driver}): rows round-trip, batch in one transaction, WAL mode`, async () => {
    const runtime = await loadRuntime();
    const dir = tempDir();
    const db = runtime.openSqlite(path.join(dir, "index.db"), { driver });
    assert.equal(db.driver, driver);
    const index = new StoreIndex(db);
    const records = Array.from({ length: 50 }, (_, i) => record(`k${i}`, 3));
    index.putMany(records);
    assert.deepEqual(index.get("k7"), records[7]);
    assert.equal(index.get("missing"), undefined);
    const many = index.getMany(["k3", "missing", "k41", 'k"quoted']);
    assert.deepEqual([...many.keys()].sort(), ["k3", "k41"]);
    assert.deepEqual(many.get("k41"), records[41]);
    assert.equal(index.keys().length, 50);
    const mode = db.prepare("PRAGMA journal_mode").get()!;
    assert.equal(String(Object.values(mode)[0]), "wal");
    assert.ok(fs.existsSync(path.join(dir, "index.db-wal")));
    index.close();
    fs.rmSync(dir, { recursive: true });
  });

  test(`index (${driver}): touch, delete, checkedAt update, stats count distinct files`, async () => {
    const runtime = await loadRuntime();
    const dir = tempDir();
    const index = new StoreIndex(runtime.openSqlite(path.join(dir, "index.db"), { driver }));
    const a = record("a", 2), b = record("b", 1);
    b.files["lib/f0.js"] = { ...a.files["lib/f0.js"] }; // shared file counts once
    index.putMany([a, b]);
    index.touch(["a"], 5000, 1000);
    assert.equal(index.get("a")!.lastUsed, 5000);
    assert.equal(index.get("b")!.lastUsed, 1000);
    index.touch(["a", "b"], 5500, 1000);
    assert.equal(index.get("a")!.lastUsed, 5000, "used within the granularity: the row is not rewritten");
    assert.equal(index.get("b")!.lastUsed, 5500);
    index.setCheckedAt("a", "lib/f1.js", 4242);
    assert.equal(index.get("a")!.files["lib/f1.js"].checkedAt, 4242);
    assert.deepEqual(index.stats(), { packages: 2, files: 2, bytes: 21 });
    index.deleteMany(["a"]);
    assert.deepEqual(index.keys(), ["b"]);
    index.close();
    fs.rmSync(dir, { recursive: true });
  });

  test(`index (${driver}): a failed batch rolls back entirely`, async () => {
    const runtime = await loadRuntime();
    const dir = tempDir();
    const index = new StoreIndex(runtime.openSqlite(path.join(dir, "index.db"), { driver }));
    const bad = record("bad");
    (bad as { name: unknown }).name = null; // NOT NULL violation on the second row
    assert.throws(() => index.putMany([record("good"), bad]));
    assert.deepEqual(index.keys(), []);
    index.close();
    fs.rmSync(dir, { recursive: true });
  });

  test(`sqlite (${driver}): values of every type survive a round trip`, async () => {
    const runtime = await loadRuntime();
    const dir = tempDir();
    const db = runtime.openSqlite(path.join(dir, "t.db"), { driver });
    db.exec("CREATE TABLE t (a, b, c, d, e, f)");
    db.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)").run(
      "héllo",
      "",
      2 ** 40,
      1.5,
      new Uint8Array([1, 2, 3]),
      null,
    );
    const row = db.prepare("SELECT * FROM t").get()!;
    assert.deepEqual({ ...row, e: [...(row.e as Uint8Array)] }, {
      a: "héllo",
      b: "",
      c: 2 ** 40,
      d: 1.5,
      e: [1, 2, 3],
      f: null,
    });
    assert.match(db.version, /^3\.\d+/);
    db.close();
    fs.rmSync(dir, { recursive: true });
  });
}

test("two connections (as two processes would) see each other's commits under WAL", async () => {
  const runtime = await loadRuntime();
  const dir = tempDir();
  const file = path.join(dir, "index.db");
  const one = new StoreIndex(runtime.openSqlite(file, { driver: "ffi" }));
  const two = new StoreIndex(runtime.openSqlite(file, { driver: "builtin" }));
  one.putMany([record("x")]);
  assert.equal(two.get("x")?.name, "pkg-x");
  one.close();
  two.close();
  fs.rmSync(dir, { recursive: true });
});

test("package keys prefer the strongest integrity", () => {
  assert.equal(strongestIntegrity("sha1-abc sha512-def"), "sha512-def");
  assert.equal(packageKey("a", "1.0.0", "sha1-abc"), "sha1-abc");
  assert.equal(packageKey("a", "1.0.0", undefined, "file:x.tgz"), "a@1.0.0#file:x.tgz");
});

test("switching a fresh index to WAL retries when another process's switch answers 'database is locked'", async () => {
  // Two processes switching a fresh file to WAL at once can deadlock on the lock upgrade; SQLite then
  // answers SQLITE_BUSY at once, without waiting on the busy timeout. Scripted here: two BUSY answers.
  const runtime = await loadRuntime();
  const dir = tempDir();
  const real = runtime.openSqlite(path.join(dir, "index.db"), { driver: "ffi" });
  let busy = 2;
  const db = Object.create(real) as typeof real;
  db.prepare = (sql: string) => {
    if (sql === "PRAGMA journal_mode = WAL" && busy-- > 0) {
      return {
        get: () => {
          throw new SqliteError("database is locked", 5);
        },
        all: () => [],
        run: () => 0,
      };
    }
    return real.prepare(sql);
  };
  db.exec = (sql: string) => real.exec(sql);
  db.transaction = (fn) => real.transaction(fn);
  const index = new StoreIndex(db);
  assert.equal(busy, -1, "both BUSY answers were retried past");
  assert.equal(String(Object.values(real.prepare("PRAGMA journal_mode").get()!)[0]), "wal");
  index.putMany([record("after")]);
  assert.equal(index.get("after")?.name, "pkg-after");
  real.close();
  fs.rmSync(dir, { recursive: true });
});
