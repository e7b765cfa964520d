import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import { T } from "../../src/container/app.ts";
import type { PackageRecord } from "../../src/store/index_db.ts";
import { Verifier } from "../../src/store/verifier.ts";
import { packageTgz, sha512Hex } from "../support/tarball.ts";
import { testContainer } from "../support/store.ts";

const tick = () => new Promise((r) => setTimeout(r, 20));

test("writer x verifier: the verifier waits for the writer's lock, does not unlink, and passes", async () => {
  const { c, cleanup } = await testContainer();
  const layout = c.get(T.layout), mutex = c.get(T.mutex), verifier = c.get(T.verifier);
  const content = "module.exports = 42;\n".repeat(100);
  const digest = sha512Hex(content);
  const casPath = layout.filePath(digest, false);
  // The test is an in-flight writer: it holds the keyed lock and a partial file sits at the CAS path.
  const release = await mutex.lock(casPath);
  fs.writeFileSync(casPath, content.slice(0, 50), { mode: 0o444 });
  const entry = { digest, mode: 0o644, size: content.length, checkedAt: 0 };
  let settled = false;
  const verdict = verifier.verifyFile(entry, true).finally(() => (settled = true));
  await tick();
  assert.equal(settled, false, "the verifier must block on the writer's lock");
  assert.ok(fs.existsSync(casPath), "the verifier must not unlink a file being written");
  // The writer completes (atomically replaces the partial file) and releases.
  const tmp = `${layout.tmp}/writer-tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o444 });
  fs.renameSync(tmp, casPath);
  release();
  const result = await verdict;
  assert.equal(result.ok, true);
  assert.equal(result.rehashed, true);
  assert.equal(fs.readFileSync(casPath, "utf8"), content);
  cleanup();
});

test("fast path: a file whose mtime matches checkedAt is passed without taking the lock", async () => {
  const { c, cleanup } = await testContainer();
  const { record } = await c.get(T.store).addTarball(await packageTgz("fast", "1.0.0", { "a.js": "a" }));
  const entry = record.files["a.js"];
  const casPath = c.get(T.layout).filePath(entry.digest, false);
  const release = await c.get(T.mutex).lock(casPath);
  const result = await c.get(T.verifier).verifyFile(entry); // would hang if it took the lock
  release();
  assert.deepEqual(result, { ok: true, checkedAt: entry.checkedAt, rehashed: false });
  cleanup();
});

async function storeWithTwoPackages() {
  const ctx = await testContainer();
  const store = ctx.c.get(T.store);
  const a =
    (await store.addTarball(await packageTgz("a", "1.0.0", { "index.js": "A", "shared.js": "S" }))).record;
  const b =
    (await store.addTarball(await packageTgz("b", "1.0.0", { "index.js": "B", "shared.js": "S" }))).record;
  return { ...ctx, a, b };
}

function casPathOf(
  c: Awaited<ReturnType<typeof storeWithTwoPackages>>["c"],
  record: PackageRecord,
  file: string,
) {
  const e = record.files[file];
  return c.get(T.layout).filePath(e.digest, (e.mode & 0o111) !== 0);
}

test("verify reports a modified file for every package that uses it, and --repair removes file and rows", async () => {
  const { c, a, b, cleanup } = await storeWithTwoPackages();
  const shared = casPathOf(c, a, "shared.js");
  fs.chmodSync(shared, 0o644); // simulate an edit through a hardlink in some node_modules
  fs.writeFileSync(shared, "tampered");
  const verifier = c.get(T.verifier);
  const report = await verifier.verifyAll();
  assert.deepEqual(report.bad.map((p) => p.name).sort(), ["a", "b"]);
  assert.deepEqual(report.bad[0].problems.map((p) => [p.path, p.reason]), [["shared.js", "modified"]]);
  assert.ok(fs.existsSync(shared), "without --repair nothing is removed");

  const repaired = await verifier.verifyAll({ repair: true });
  assert.equal(repaired.removedRows, 2);
  assert.equal(fs.existsSync(shared), false);
  assert.deepEqual(c.get(T.index).keys(), []);
  const clean = await verifier.verifyAll();
  assert.equal(clean.bad.length, 0);
  // Re-adding the package re-publishes the file.
  await c.get(T.store).addTarball(await packageTgz("a", "1.0.0", { "index.js": "A", "shared.js": "S" }));
  assert.equal((await verifier.verifyAll()).bad.length, 0);
  void b;
  cleanup();
});

test("verify reports a missing file, and a slow-path pass refreshes checkedAt so the next run is fast", async () => {
  const { c, a, cleanup } = await storeWithTwoPackages();
  const verifier = c.get(T.verifier);
  fs.rmSync(casPathOf(c, a, "index.js"));
  const report = await verifier.verifyAll();
  assert.deepEqual(report.bad.map((p) => [p.name, p.problems[0].reason]), [["a", "missing"]]);

  // Touch b's file: same content, new mtime -> rehashed once, then fast again.
  const bPath = casPathOf(
    c,
    c.get(T.index).get(c.get(T.index).keys().find((k) => c.get(T.index).get(k)!.name === "b")!)!,
    "index.js",
  );
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(bPath, later, later);
  const first = await verifier.verifyAll();
  assert.ok(first.rehashed >= 1);
  const second = await verifier.verifyAll();
  const rehashedNow = second.rehashed;
  assert.ok(rehashedNow < first.rehashed, `second run rehashed ${rehashedNow}, first ${first.rehashed}`);
  cleanup();
});

test("repair never discards a good copy another process published after the verifier judged", async () => {
  const { c, cleanup } = await testContainer();
  const layout = c.get(T.layout);
  const content = "good content\n";
  const digest = sha512Hex(content);
  const casPath = layout.filePath(digest, false);
  fs.writeFileSync(casPath, "corrupted!!!!", { mode: 0o444 }); // same size, wrong bytes
  const real = c.get(T.hasher);
  // The hasher is where the race is scripted: right after the verifier read the bad bytes, "another
  // process" renames a good copy onto the CAS path (its lock is not ours).
  const racing = {
    ...real,
    sha512Hex(data: Uint8Array) {
      const tmp = `${layout.tmp}/other-process`;
      fs.writeFileSync(tmp, content, { mode: 0o444 });
      fs.renameSync(tmp, casPath);
      return real.sha512Hex(data);
    },
  };
  const verifier = new Verifier(layout, c.get(T.index), racing, c.get(T.mutex));
  const verdict = await verifier.verifyFile(
    { digest, mode: 0o644, size: content.length, checkedAt: 0 },
    true,
  );
  assert.equal(verdict.ok, false, "the bytes it judged were bad");
  assert.equal(fs.readFileSync(casPath, "utf8"), content, "the good copy published meanwhile is in place");
  cleanup();
});
