/**
 * Install workers (src/install/worker_pool.ts): the tree they build and the store rows they write equal
 * the main thread's, the store checks still hold when another thread links (an edited store file is not
 * spread, a deleted one is fetched again), and errors in a worker reach the caller as they would have on
 * the main thread (an import error's code, a bad tarball's kind, a truncated download retried).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { T } from "../../src/container/app.ts";
import { install } from "../../src/install/install.ts";
import { workerCount, WorkerPool, WorkerPoolBroken } from "../../src/install/worker_pool.ts";
import { isRetryable, TransientFetchError } from "../../src/fetch/errors.ts";
import { TarballError } from "../../src/fetch/tar_ingest.ts";
import type { PackageRecord } from "../../src/store/index_db.ts";
import { walkTree } from "../../scripts/compare-trees.ts";
import { packageTgz, sha512Hex, sri } from "../support/tarball.ts";
import { makeProject, type PkgSpec } from "./_support.ts";

const nm = (projectDir: string, ...rest: string[]) => path.join(projectDir, "node_modules", ...rest);

// Enough packages that both workers get several, with nested folders, executables and a bin.
const SPECS: PkgSpec[] = Array.from({ length: 12 }, (_, i) => ({
  name: i % 3 === 0 ? `@scope/p${i}` : `p${i}`,
  files: {
    "index.js": `p${i} index`,
    "lib/deep/nested/util.js": `p${i} util`,
    [`lib/file-${i}.js`]: `p${i} own`,
  },
  ...(i === 4 ? { execFiles: { "bin/cli.js": "#!/usr/bin/env node\n" }, bin: { cli4: "bin/cli.js" } } : {}),
}));

test("install workers build the same tree as linking on the main thread, hard-linked to the store", async () => {
  const p = await makeProject(SPECS);
  try {
    const serial = await install(p.c, { projectDir: p.projectDir, client: p.client, workers: 0 });
    assert.equal(serial.packages, SPECS.length);
    const expected = walkTree(nm(p.projectDir));
    fs.rmSync(nm(p.projectDir), { recursive: true });

    const pooled = await install(p.c, { projectDir: p.projectDir, client: p.client, workers: 2 });
    assert.equal(pooled.upToDate, false);
    assert.equal(pooled.files, serial.files);
    assert.equal(pooled.importMethod, "hardlink");
    assert.deepEqual(walkTree(nm(p.projectDir)), expected);
    const storeFile = p.c.get(T.layout).filePath(sha512Hex("p7 util"), false);
    assert.equal(fs.statSync(nm(p.projectDir, "p7/lib/deep/nested/util.js")).ino, fs.statSync(storeFile).ino);
    assert.equal(fs.statSync(nm(p.projectDir, "p4/bin/cli.js")).mode & 0o777, 0o555);
    assert.equal((await install(p.c, { projectDir: p.projectDir, client: p.client })).upToDate, true);
  } finally {
    await p.close();
  }
});

/** A row without the parts that depend on when it was written. */
const timeless = (r: PackageRecord) => ({
  ...r,
  addedAt: 0,
  lastUsed: 0,
  files: Object.fromEntries(Object.entries(r.files).map(([p, f]) => [p, { ...f, checkedAt: 0 }])),
});

test("workers unpack tarballs into the store: same rows and tree as the main thread, store verifies clean", async () => {
  const serial = await makeProject(SPECS);
  const pooled = await makeProject(SPECS);
  try {
    await install(serial.c, { projectDir: serial.projectDir, client: serial.client, workers: 0 });
    const summary = await install(pooled.c, {
      projectDir: pooled.projectDir,
      client: pooled.client,
      workers: 2,
    });
    assert.equal(summary.downloaded, SPECS.length);
    const rows = (p: typeof serial) => {
      const index = p.c.get(T.index);
      return index.keys().sort().map((k) => timeless(index.get(k)!));
    };
    assert.equal(rows(pooled).length, SPECS.length);
    assert.deepEqual(rows(pooled), rows(serial));
    assert.deepEqual(walkTree(nm(pooled.projectDir)), walkTree(nm(serial.projectDir)));
    // Downloads placed straight into their folders still leave every file the store's own inode.
    const layout = pooled.c.get(T.layout);
    const inode = (file: string) => fs.statSync(file).ino;
    assert.equal(
      inode(nm(pooled.projectDir, "p7/lib/deep/nested/util.js")),
      inode(layout.filePath(sha512Hex("p7 util"), false)),
    );
    assert.equal(
      inode(nm(pooled.projectDir, "p4/bin/cli.js")),
      inode(layout.filePath(sha512Hex("#!/usr/bin/env node\n"), true)),
    );
    const report = await pooled.c.get(T.verifier).verifyAll();
    assert.equal(report.bad.length, 0);
    assert.ok(report.files >= SPECS.length * 4, `verified ${report.files} files`);
  } finally {
    await serial.close();
    await pooled.close();
  }
});

test("a cut-short download unpacked by a worker is fetched again: one retry, then installed", async () => {
  const p = await makeProject(SPECS);
  try {
    // A complete HTTP response holding half the tarball: only the worker's gunzip can tell.
    p.server.script(p.tarballPath("p5"), ["short"]);
    const summary = await install(p.c, { projectDir: p.projectDir, client: p.client, workers: 2 });
    assert.equal(summary.packages, SPECS.length);
    assert.equal(p.server.requests.get(p.tarballPath("p5")), 2);
    assert.equal(p.server.requests.get(p.tarballPath("p7")), 1);
    assert.equal(fs.readFileSync(nm(p.projectDir, "p5/index.js"), "utf8"), "p5 index");
  } finally {
    await p.close();
  }
});

test("a bad tarball unpacked by a worker fails as on the main thread: TarballError, kind, package", async () => {
  const p = await makeProject(SPECS.slice(0, 1));
  try {
    using pool = WorkerPool.start(1);
    pool.configure(p.storeDir, { method: "hardlink", auto: false }, "native", () => {});
    const cas = p.c.get(T.cas);
    const tgz = await packageTgz("m", "1.0.0", { "a.js": "a" });
    const error = await pool.ingest(tgz, cas, { label: "m@1.0.0", integrity: sri(new Uint8Array([1])) })
      .then(() => undefined, (e) => e);
    assert.ok(error instanceof TarballError, String(error));
    assert.equal(error.kind, "integrity");
    assert.equal(error.package, "m@1.0.0");
    assert.match(error.message, /^m@1\.0\.0: integrity mismatch/);
    const integrity = sri(tgz); // before the bytes may be handed to the worker
    const good = await pool.ingest(tgz, cas, { label: "m@1.0.0", integrity });
    assert.equal(good.integrity, integrity);
    assert.equal(good.files["a.js"].digest, sha512Hex("a"));
    assert.ok(fs.existsSync(p.c.get(T.layout).filePath(sha512Hex("a"), false)));
  } finally {
    await p.close();
  }
});

test("a pool whose workers cannot load still ingests, on the calling thread", async () => {
  const p = await makeProject(SPECS.slice(0, 1));
  try {
    using pool = WorkerPool.start(1, new URL("file:///nonexistent/silo/pool_worker.ts").href);
    pool.configure(p.storeDir, { method: "hardlink", auto: false }, "native", () => {});
    const tgz = await packageTgz("m", "1.0.0", { "b.js": "b" });
    const result = await pool.ingest(tgz, p.c.get(T.cas), { label: "m@1.0.0", integrity: sri(tgz) });
    assert.equal(result.files["b.js"].digest, sha512Hex("b"));
    assert.ok(fs.existsSync(p.c.get(T.layout).filePath(sha512Hex("b"), false)));
  } finally {
    await p.close();
  }
});

test("a tarball handed to a worker that then stops is downloaded again, not lost", async () => {
  const p = await makeProject(SPECS.slice(0, 1));
  try {
    using pool = WorkerPool.start(1, new URL("../support/dying_worker.ts", import.meta.url).href);
    const warnings: string[] = [];
    const ready = new Promise<void>((resolve) =>
      pool.configure(p.storeDir, { method: "hardlink", auto: false }, "native", (w) => {
        warnings.push(w);
        if (w === "dying worker ready") resolve();
      })
    );
    await ready;
    const tgz = await packageTgz("m", "1.0.0", { "c.js": "c" });
    const size = tgz.length;
    const error = await pool.ingest(tgz, p.c.get(T.cas), { label: "m@1.0.0", integrity: sri(tgz) })
      .then(() => undefined, (e) => e);
    assert.ok(error instanceof TransientFetchError, String(error));
    assert.ok(isRetryable(error), "the fetcher retries it");
    assert.match(error.message, /^m@1\.0\.0: the install worker stopped/);
    assert.equal(tgz.length, 0, "the bytes were handed over, not copied");
    assert.ok(warnings.includes(`got ${size} bytes`), warnings.join("; "));
    // The pool is broken now: the next tarball (the download made again) unpacks on this thread.
    const again = await packageTgz("m", "1.0.0", { "c.js": "c" });
    const result = await pool.ingest(again, p.c.get(T.cas), { label: "m@1.0.0", integrity: sri(again) });
    assert.equal(result.files["c.js"].digest, sha512Hex("c"));
  } finally {
    await p.close();
  }
});

test("with install workers, an edited store file is not spread and a deleted one is fetched again", async () => {
  const p = await makeProject(SPECS);
  try {
    await install(p.c, { projectDir: p.projectDir, client: p.client, workers: 2 });
    // An edit through p1's hardlink changes the store inode; p2's store file disappears.
    fs.appendFileSync(nm(p.projectDir, "p1/index.js"), "\nconsole.log('debugging');");
    const deleted = p.c.get(T.layout).filePath(sha512Hex("p2 index"), false);
    fs.rmSync(deleted);
    fs.rmSync(nm(p.projectDir), { recursive: true });

    const warnings: string[] = [];
    const again = await install(p.c, {
      projectDir: p.projectDir,
      client: p.client,
      workers: 2,
      warn: (m) => warnings.push(m),
    });
    assert.equal(again.packages, SPECS.length);
    assert.equal(fs.readFileSync(nm(p.projectDir, "p1/index.js"), "utf8"), "p1 index");
    assert.equal(fs.readFileSync(nm(p.projectDir, "p2/index.js"), "utf8"), "p2 index");
    assert.ok(fs.existsSync(deleted), "the deleted file is back in the store");
    assert.equal(p.server.requests.get(p.tarballPath("p1")), 2, "p1 was fetched again");
    assert.equal(p.server.requests.get(p.tarballPath("p2")), 2, "p2 was fetched again");
    assert.equal(p.server.requests.get(p.tarballPath("p5")), 1, "p5 came from the store");
    assert.ok(
      warnings.some((w) => /p1@1\.0\.0: the store's copy of index\.js was changed/.test(w)),
      warnings.join("\n"),
    );
    const report = await p.c.get(T.verifier).verifyAll();
    assert.deepEqual(report.bad, [], "the store verifies clean");
  } finally {
    await p.close();
  }
});

test("a worker's import error rejects with its code; the pool keeps linking other packages", async () => {
  const p = await makeProject(SPECS.slice(0, 2));
  try {
    await install(p.c, { projectDir: p.projectDir, client: p.client, workers: 0 });
    const record = p.c.get(T.index).get(p.c.get(T.index).keys()[0])!;
    const blocker = path.join(p.projectDir, "not-a-dir");
    fs.writeFileSync(blocker, "a file where a folder must go");
    using pool = WorkerPool.start(2);
    pool.configure(p.storeDir, { method: "hardlink", auto: false }, "native", () => {});
    await assert.rejects(
      pool.link(record, path.join(blocker, "pkg"), false),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, "ENOTDIR");
        assert.match(error.message, /not-a-dir/);
        return true;
      },
    );
    const dir = path.join(p.projectDir, "elsewhere", "pkg");
    const outcome = await pool.link(record, dir, true);
    assert.deepEqual(outcome, {
      kind: "done",
      imported: { files: Object.keys(record.files).length, last: "package.json" },
    });
    assert.ok(fs.existsSync(path.join(dir, "package.json")));
  } finally {
    await p.close();
  }
});

test("workers that cannot load reject every link with WorkerPoolBroken, naming the failure", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "silo-pool-"));
  try {
    using pool = WorkerPool.start(2, new URL("file:///nonexistent/silo/pool_worker.ts").href);
    pool.configure(dir, { method: "copy", auto: true }, "native", () => {});
    const record = { key: "k", name: "x", version: "1.0.0", files: {} };
    for (const target of ["a", "b"]) {
      await assert.rejects(pool.link(record, path.join(dir, target), false), (error: Error) => {
        assert.ok(error instanceof WorkerPoolBroken, String(error));
        assert.match(error.message, /an install worker failed/);
        return true;
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("SILO_WORKERS sets the worker count; a bad value is an error that says what it wants", () => {
  assert.equal(workerCount({ SILO_WORKERS: "0" }), 0);
  assert.equal(workerCount({ SILO_WORKERS: "3" }), 3);
  assert.ok(workerCount({}) >= 1 && workerCount({}) <= 4);
  assert.throws(
    () => workerCount({ SILO_WORKERS: "many" }),
    /SILO_WORKERS must be a whole number/,
  );
});

test("verifyStoreIntegrity: false links store files unchecked: an edited one is spread, nothing is fetched", async () => {
  for (const workers of [0, 2]) {
    const p = await makeProject(SPECS);
    try {
      await install(p.c, { projectDir: p.projectDir, client: p.client, workers });
      fs.appendFileSync(nm(p.projectDir, "p1/index.js"), "\n// edited");
      fs.rmSync(nm(p.projectDir), { recursive: true });
      await install(p.c, {
        projectDir: p.projectDir,
        client: p.client,
        workers,
        verifyStoreIntegrity: false,
      });
      assert.equal(
        fs.readFileSync(nm(p.projectDir, "p1/index.js"), "utf8"),
        "p1 index\n// edited",
        `workers=${workers}`,
      );
      assert.equal(p.server.requests.get(p.tarballPath("p1")), 1, "p1 came from the store, edit and all");
      // The default install still catches it.
      fs.rmSync(nm(p.projectDir), { recursive: true });
      await install(p.c, { projectDir: p.projectDir, client: p.client, workers, warn: () => {} });
      assert.equal(fs.readFileSync(nm(p.projectDir, "p1/index.js"), "utf8"), "p1 index");
      assert.equal(p.server.requests.get(p.tarballPath("p1")), 2);
    } finally {
      await p.close();
    }
  }
});
