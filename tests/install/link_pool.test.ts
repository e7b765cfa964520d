/**
 * Link workers (src/install/link_pool.ts): the tree they build equals the main thread's, the store
 * checks still hold when another thread links (an edited store file is not spread, a deleted one is
 * fetched again), and an import error in a worker reaches the caller with its code.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { T } from "../../src/container/app.ts";
import { install } from "../../src/install/install.ts";
import { LinkPool, LinkPoolBroken, linkWorkerCount } from "../../src/install/link_pool.ts";
import { walkTree } from "../../scripts/compare-trees.ts";
import { sha512Hex } from "../support/tarball.ts";
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

test("link workers build the same tree as linking on the main thread, hard-linked to the store", async () => {
  const p = await makeProject(SPECS);
  try {
    const serial = await install(p.c, { projectDir: p.projectDir, client: p.client, linkWorkers: 0 });
    assert.equal(serial.packages, SPECS.length);
    const expected = walkTree(nm(p.projectDir));
    fs.rmSync(nm(p.projectDir), { recursive: true });

    const pooled = await install(p.c, { projectDir: p.projectDir, client: p.client, linkWorkers: 2 });
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

test("with link workers, an edited store file is not spread and a deleted one is fetched again", async () => {
  const p = await makeProject(SPECS);
  try {
    await install(p.c, { projectDir: p.projectDir, client: p.client, linkWorkers: 2 });
    // An edit through p1's hardlink changes the store inode; p2's store file disappears.
    fs.appendFileSync(nm(p.projectDir, "p1/index.js"), "\nconsole.log('debugging');");
    const deleted = p.c.get(T.layout).filePath(sha512Hex("p2 index"), false);
    fs.rmSync(deleted);
    fs.rmSync(nm(p.projectDir), { recursive: true });

    const warnings: string[] = [];
    const again = await install(p.c, {
      projectDir: p.projectDir,
      client: p.client,
      linkWorkers: 2,
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
    await install(p.c, { projectDir: p.projectDir, client: p.client, linkWorkers: 0 });
    const record = p.c.get(T.index).get(p.c.get(T.index).keys()[0])!;
    const blocker = path.join(p.projectDir, "not-a-dir");
    fs.writeFileSync(blocker, "a file where a folder must go");
    using pool = LinkPool.start(2);
    pool.configure(p.storeDir, { method: "hardlink", auto: false }, () => {});
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
    assert.deepEqual(outcome, { kind: "done", files: Object.keys(record.files).length });
    assert.ok(fs.existsSync(path.join(dir, "package.json")));
  } finally {
    await p.close();
  }
});

test("workers that cannot load reject every link with LinkPoolBroken, naming the failure", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "silo-pool-"));
  try {
    using pool = LinkPool.start(2, new URL("file:///nonexistent/silo/link_worker.ts").href);
    pool.configure(dir, { method: "copy", auto: true }, () => {});
    const record = { key: "k", name: "x", version: "1.0.0", files: {} };
    for (const target of ["a", "b"]) {
      await assert.rejects(pool.link(record, path.join(dir, target), false), (error: Error) => {
        assert.ok(error instanceof LinkPoolBroken, String(error));
        assert.match(error.message, /a link worker failed/);
        return true;
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("SILO_LINK_WORKERS sets the worker count; a bad value is an error that says what it wants", () => {
  assert.equal(linkWorkerCount({ SILO_LINK_WORKERS: "0" }), 0);
  assert.equal(linkWorkerCount({ SILO_LINK_WORKERS: "3" }), 3);
  assert.ok(linkWorkerCount({}) >= 1 && linkWorkerCount({}) <= 4);
  assert.throws(
    () => linkWorkerCount({ SILO_LINK_WORKERS: "many" }),
    /SILO_LINK_WORKERS must be a whole number/,
  );
});
