/**
 * gc and eviction (invariant 7): leased packages and packages of live projects stay;
 * a size budget evicts least recently used first; a second gc is a no-op; leases of a
 * dead process are reclaimed; an install running in another process keeps what it leased.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { test } from "node:test";
import { T } from "../../src/container/app.ts";
import type { Container } from "../../src/container/container.ts";
import { pidAlive } from "../../src/store/leases.ts";
import { startRegistry } from "../support/registry_server.ts";
import { testContainer } from "../support/store.ts";
import { packageTgz, sri } from "../support/tarball.ts";
import { spawnSilo, tempDir, writeProject } from "./_support.ts";

const DAY = 86_400_000;

/** Add a package of about `size` bytes whose last use was `lastUsed`. */
async function addPackage(c: Container, name: string, size: number, lastUsed: number): Promise<string> {
  const tgz = await packageTgz(name, "1.0.0", { "index.js": `// ${name}\n`.padEnd(size, "x") });
  const { record } = await c.get(T.store).addTarball(tgz, {
    integrity: sri(tgz),
    name,
    version: "1.0.0",
    now: lastUsed,
  });
  return record.key;
}

/** A live project (folder and lockfile exist) that used `keys`. */
function liveProject(c: Container, keys: string[], lastUsed = Date.now()): string {
  const dir = tempDir("silo-gc-project-");
  fs.writeFileSync(path.join(dir, "package-lock.json"), "{}");
  c.get(T.projects).register({
    path: dir,
    lockfile: "package-lock.json",
    lastUsed,
    packages: Object.fromEntries(keys.map((k, i) => [`node_modules/p${i}`, k])),
  });
  return dir;
}

/** A child process that stays alive until killed: a real, live pid that is not ours. */
function sleeper(): { pid: number; kill: () => Promise<void> } {
  const child = spawn(
    process.execPath,
    process.versions.bun ? ["-e", "setInterval(() => {}, 1e6)"] : ["eval", "setInterval(() => {}, 1e6)"],
    {
      stdio: "ignore",
    },
  );
  return {
    pid: child.pid!,
    kill: () =>
      new Promise((resolve) => {
        child.on("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

test("gc keeps live projects' and leased packages, removes the rest, is a no-op the second time, reclaims dead leases", async () => {
  const { c, cleanup } = await testContainer();
  const now = Date.now();
  const used = await addPackage(c, "used", 2000, now - 30 * DAY);
  const leased = await addPackage(c, "leased", 2000, now - 40 * DAY);
  const unusedA = await addPackage(c, "unused-a", 2000, now - 50 * DAY);
  const unusedB = await addPackage(c, "unused-b", 2000, now - 60 * DAY);
  const project = liveProject(c, [used]);
  const gone = liveProject(c, [unusedA]);
  fs.rmSync(gone, { recursive: true }); // its folder is gone: it no longer keeps unused-a

  const holder = sleeper();
  const lease = c.get(T.leases).take([leased], holder.pid);
  const gc = c.get(T.gc);

  const first = await gc.run();
  assert.deepEqual(first.packages.map((p) => p.name).sort(), ["unused-a", "unused-b"]);
  assert.equal(first.leasedSkipped, 1, "the leased package was wanted but kept");
  assert.deepEqual(first.projectsForgotten, [gone]);
  assert.ok(first.bytesFreed >= 4000, `bytes freed: ${first.bytesFreed}`);
  const index = c.get(T.index);
  assert.deepEqual(index.keys().sort(), [leased, used].sort());
  const verify = await c.get(T.verifier).verifyAll();
  assert.equal(verify.bad.length, 0, "what stays is complete");
  assert.ok(!index.get(unusedB) && !index.get(unusedA));

  const second = await gc.run();
  assert.equal(second.packages.length, 0, "second gc removes no package");
  assert.equal(second.files, 0, "second gc removes no file");
  assert.equal(second.bytesFreed, 0);
  assert.equal(second.leasedSkipped, 1);

  // The lease holder dies without releasing (kill -9): its lease is reclaimed and the package goes.
  await holder.kill();
  assert.equal(pidAlive(holder.pid), false);
  const third = await gc.run();
  assert.equal(third.leasesReclaimed, 1);
  assert.deepEqual(third.packages.map((p) => p.name), ["leased"]);
  assert.deepEqual(c.get(T.leases).list(), []);
  lease.release(); // idempotent after reclaim
  assert.deepEqual(index.keys(), [used]);
  fs.rmSync(project, { recursive: true, force: true });
  cleanup();
});

test("gc --max-size evicts least recently used first, down to the budget, never a leased package", async () => {
  const { c, cleanup } = await testContainer();
  const now = Date.now();
  const keys: Record<string, string> = {};
  // Oldest first: p1 (5 days ago) ... p5 (1 day ago); each about 10 kB.
  for (let i = 1; i <= 5; i++) keys[`p${i}`] = await addPackage(c, `p${i}`, 10_000, now - (6 - i) * DAY);
  const project = liveProject(c, Object.values(keys)); // all used: only the budget removes anything
  const lease = c.get(T.leases).take([keys.p1]); // the oldest is leased by this (live) process
  const before = c.get(T.index).stats().bytes;
  const budget = before - 15_000; // two packages' worth must go

  const dry = await c.get(T.gc).run({ maxSize: budget, dryRun: true });
  assert.deepEqual(dry.packages.map((p) => p.name), ["p2", "p3"]);
  assert.equal(c.get(T.index).keys().length, 5, "a dry run changes nothing");

  const report = await c.get(T.gc).run({ maxSize: budget });
  assert.deepEqual(report.packages.map((p) => [p.name, p.reason]), [["p2", "evicted"], ["p3", "evicted"]]);
  assert.equal(report.leasedSkipped, 1);
  assert.ok(report.sizeAfter <= budget, `${report.sizeAfter} <= ${budget}`);
  assert.equal(c.get(T.index).stats().bytes, report.sizeAfter);
  assert.equal((await c.get(T.verifier).verifyAll()).bad.length, 0);

  const again = await c.get(T.gc).run({ maxSize: budget });
  assert.equal(again.packages.length + again.files, 0, "second gc is a no-op");
  lease.release();
  fs.rmSync(project, { recursive: true, force: true });
  cleanup();
});

test("gc --older-than keeps unused packages used recently", async () => {
  const { c, cleanup } = await testContainer();
  const now = Date.now();
  await addPackage(c, "old", 100, now - 40 * DAY);
  const recent = await addPackage(c, "recent", 100, now - 2 * DAY);
  const report = await c.get(T.gc).run({ olderThanDays: 30 });
  assert.deepEqual(report.packages.map((p) => p.name), ["old"]);
  assert.deepEqual(c.get(T.index).keys(), [recent]);
  cleanup();
});

test("gc removes old unreferenced store files and temp files of dead writers, keeps fresh ones", async () => {
  const { c, cleanup } = await testContainer();
  const layout = c.get(T.layout);
  const cas = c.get(T.cas);
  const old = await cas.writeBytes(new TextEncoder().encode("orphan from a crashed install"), false);
  const fresh = await cas.writeBytes(new TextEncoder().encode("being installed right now"), false);
  const oldPath = layout.filePath(old.digest, false);
  const hourAgo = (Date.now() - 2 * 3600_000) / 1000;
  fs.utimesSync(oldPath, hourAgo, hourAgo);
  const deadTemp = path.join(layout.tmp, "999999-dead-0");
  const liveTemp = path.join(layout.tmp, `${process.pid}-live-0`);
  fs.writeFileSync(deadTemp, "partial");
  fs.writeFileSync(liveTemp, "in progress");
  assert.equal(pidAlive(999999), false);

  const report = await c.get(T.gc).run();
  assert.equal(report.orphanFiles, 1);
  assert.equal(report.tempFiles, 1);
  assert.equal(fs.existsSync(oldPath), false);
  assert.equal(
    fs.existsSync(layout.filePath(fresh.digest, false)),
    true,
    "a young file may be an install in progress",
  );
  assert.equal(fs.existsSync(deadTemp), false);
  assert.equal(fs.existsSync(liveTemp), true);
  assert.deepEqual(fs.readdirSync(layout.trash), []);
  const again = await c.get(T.gc).run();
  assert.equal(again.files + again.tempFiles, 0, "second gc is a no-op");
  cleanup();
});

test(
  "gc while another process's install is mid-way removes nothing that install leased",
  { timeout: 60_000 },
  async () => {
    const cached = await packageTgz("cached", "1.0.0", { "index.js": "module.exports = 'cached';" });
    const slow = await packageTgz("slow", "1.0.0", { "index.js": "module.exports = 'slow';" });
    const stray = await packageTgz("stray", "1.0.0", { "index.js": "module.exports = 'stray';" });
    const server = await startRegistry({
      packages: [
        { name: "cached", version: "1.0.0", tgz: cached },
        { name: "slow", version: "1.0.0", tgz: slow },
        { name: "stray", version: "1.0.0", tgz: stray },
      ],
    });
    const { c, dir: storeDir, cleanup } = await testContainer();
    const store = c.get(T.store);
    const cachedKey =
      (await store.addTarball(cached, { integrity: sri(cached), name: "cached", version: "1.0.0" })).record
        .key;
    const strayKey =
      (await store.addTarball(stray, { integrity: sri(stray), name: "stray", version: "1.0.0" })).record.key;
    const project = tempDir("silo-gc-busy-");
    writeProject(project, [{ name: "cached", version: "1.0.0", tgz: cached }, {
      name: "slow",
      version: "1.0.0",
      tgz: slow,
    }]);

    // Hold the one download: the install has leased its keys and linked the cached package by then.
    const release = server.hold("/slow/-/slow-1.0.0.tgz");
    const install = spawnSilo(["install", "--store", storeDir, "--dir", project, "--registry", server.url]);
    await server.waitForRequests(1, "/slow/-/slow-1.0.0.tgz");
    const held = c.get(T.leases).list();
    assert.ok(held.some((l) => l.key === cachedKey), "the running install leased the cached package");

    const report = await c.get(T.gc).run();
    assert.deepEqual(report.packages.map((p) => p.name), ["stray"], "only the package nobody uses goes");
    assert.ok(report.leasedSkipped >= 1);
    assert.ok(c.get(T.index).get(cachedKey), "the leased row stays");
    assert.equal(c.get(T.index).get(strayKey), undefined);

    release();
    const result = await install.done;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(c.get(T.leases).list(), [], "the install dropped its leases when it ended");
    for (const name of ["cached", "slow"]) {
      assert.equal(
        fs.readFileSync(path.join(project, "node_modules", name, "index.js"), "utf8"),
        `module.exports = '${name}';`,
      );
    }
    assert.equal((await c.get(T.verifier).verifyAll()).bad.length, 0);
    // The project is registered now: a later gc keeps both of its packages.
    const after = await c.get(T.gc).run();
    assert.equal(after.packages.length, 0);
    assert.equal(
      server.requests.get("/cached/-/cached-1.0.0.tgz") ?? 0,
      0,
      "the cached package came from the store",
    );
    await server.close();
    fs.rmSync(project, { recursive: true, force: true });
    cleanup();
  },
);
