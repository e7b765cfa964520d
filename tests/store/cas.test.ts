import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import { T } from "../../src/container/app.ts";
import { CasWriter } from "../../src/store/cas.ts";
import { sha512Hex } from "../support/tarball.ts";
import { testContainer } from "../support/store.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

test("the same content written concurrently from many tasks ends as one file, one inode", async () => {
  const { c, cleanup } = await testContainer();
  const cas = c.get(T.cas);
  const results = await Promise.all(
    Array.from({ length: 32 }, () => cas.writeBytes(bytes("same content"), false)),
  );
  assert.equal(results.filter((r) => r.written).length, 1);
  const file = c.get(T.layout).filePath(sha512Hex("same content"), false);
  const st = fs.statSync(file);
  assert.equal(st.nlink, 1);
  assert.equal(st.mode & 0o777, 0o444);
  assert.equal(fs.readFileSync(file, "utf8"), "same content");
  assert.deepEqual(fs.readdirSync(c.get(T.layout).tmp), [], "no temp files left behind");
  cleanup();
});

test("writing the same content again rewrites nothing: same inode, same mtime and ctime", async () => {
  const { c, cleanup } = await testContainer();
  const cas = c.get(T.cas);
  const first = await cas.writeBytes(bytes("abc"), false);
  const path = c.get(T.layout).filePath(first.digest, false);
  const before = fs.statSync(path);
  await new Promise((r) => setTimeout(r, 15));
  const second = await cas.writeBytes(bytes("abc"), false);
  const after = fs.statSync(path);
  assert.equal(second.written, false);
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.equal(after.ctimeMs, before.ctimeMs, "a published file is never chmod-ed or reopened");
  cleanup();
});

test("an executable is stored as a distinct 0o555 inode beside the 0o444 one", async () => {
  const { c, cleanup } = await testContainer();
  const cas = c.get(T.cas);
  const plain = await cas.writeBytes(bytes("#!/bin/sh\necho hi\n"), false);
  const exec = await cas.writeBytes(bytes("#!/bin/sh\necho hi\n"), true);
  const layout = c.get(T.layout);
  const a = fs.statSync(layout.filePath(plain.digest, false));
  const b = fs.statSync(layout.filePath(exec.digest, true));
  assert.equal(plain.digest, exec.digest);
  assert.notEqual(a.ino, b.ino);
  assert.equal(a.mode & 0o777, 0o444);
  assert.equal(b.mode & 0o777, 0o555);
  assert.ok(layout.filePath(exec.digest, true).endsWith("-exec"));
  cleanup();
});

test("a crash between temp write and publish leaves no file at the CAS path", async () => {
  const { c, cleanup } = await testContainer();
  const layout = c.get(T.layout);
  const crashing = new CasWriter(layout, c.get(T.hasher), c.get(T.mutex), {
    publish: () => {
      throw new Error("simulated crash before rename");
    },
  });
  await assert.rejects(crashing.writeBytes(bytes("never published"), false), /simulated crash/);
  assert.equal(fs.existsSync(layout.filePath(sha512Hex("never published"), false)), false);
  // The real writer then publishes normally.
  const ok = await c.get(T.cas).writeBytes(bytes("never published"), false);
  assert.equal(ok.written, true);
  cleanup();
});

test("a wrong-size file at a CAS path is moved aside, never rewritten in place", async () => {
  const { c, cleanup } = await testContainer();
  const layout = c.get(T.layout);
  const dest = layout.filePath(sha512Hex("full content"), false);
  fs.writeFileSync(dest, "full", { mode: 0o444 }); // a partial file, e.g. from a broken older tool
  const linked = `${dest}.project-link`;
  fs.linkSync(dest, linked); // a project hardlinked the old inode
  const result = await c.get(T.cas).writeBytes(bytes("full content"), false);
  assert.equal(result.written, true);
  assert.equal(fs.readFileSync(dest, "utf8"), "full content");
  assert.equal(fs.readFileSync(linked, "utf8"), "full", "the old inode was not written to");
  cleanup();
});

test("hash-wasm and the native hasher agree, one-shot and incremental", async () => {
  const { createNativeHasher, createWasmHasher } = await import("../../src/store/hasher.ts");
  const data = new Uint8Array(300_000).map((_, i) => (i * 7) % 256);
  const wasm = await createWasmHasher(), native = createNativeHasher();
  assert.equal(wasm.sha512Hex(data), native.sha512Hex(data));
  assert.equal(wasm.sha512Hex(data), sha512Hex(data));
  for (const algorithm of ["sha512", "sha1"] as const) {
    const [a, b] = [await wasm.create(algorithm), await native.create(algorithm)];
    for (let i = 0; i < data.length; i += 70_000) {
      a.update(data.subarray(i, i + 70_000));
      b.update(data.subarray(i, i + 70_000));
    }
    assert.deepEqual(a.digestBytes(), b.digestBytes());
  }
});

test("two copies of the writer in one process (install workers) never pick the same temp path", async () => {
  const { c, cleanup } = await testContainer();
  const url = new URL("../support/temp_name_worker.ts", import.meta.url).href;
  const workers = [new Worker(url, { type: "module" }), new Worker(url, { type: "module" })];
  try {
    // Same pid, same (frozen) clock, each copy's counter at 0: only the writer's own randomness differs.
    const names = await Promise.all(workers.map((w) =>
      new Promise<string>((resolve, reject) => {
        w.onmessage = (event: MessageEvent<string>) => resolve(event.data);
        w.onerror = (event: ErrorEvent) => reject(new Error(event.message));
        w.postMessage(c.get(T.layout).root);
      })
    ));
    assert.equal(new Set(names).size, 2, `both workers chose ${names[0]}`);
    for (const name of names) assert.ok(name.startsWith(c.get(T.layout).tmp), name);
  } finally {
    for (const w of workers) w.terminate();
    cleanup();
  }
});

test("writeBytesAt writes the project's file once and links it into the store: one inode, read-only", async () => {
  const { c, dir, cleanup } = await testContainer();
  const cas = c.get(T.cas);
  const layout = c.get(T.layout);
  const a = `${dir}/a.js`, b = `${dir}/b.js`;
  const first = await cas.writeBytesAt(bytes("placed"), false, a);
  const second = await cas.writeBytesAt(bytes("placed"), false, b);
  const file = layout.filePath(sha512Hex("placed"), false);
  assert.deepEqual([first.written, second.written], [true, false]);
  assert.equal(first.digest, sha512Hex("placed"));
  const inodes = [file, a, b].map((p) => fs.statSync(p).ino);
  assert.equal(new Set(inodes).size, 1, "the store and both project files share one inode");
  assert.equal(fs.statSync(file).nlink, 3);
  assert.equal(fs.statSync(file).mode & 0o777, 0o444);
  assert.equal(second.checkedAt, first.checkedAt);
  assert.deepEqual(fs.readdirSync(layout.tmp), [], "no temp files");
  const exec = await cas.writeBytesAt(bytes("placed"), true, `${dir}/bin.js`);
  assert.equal(fs.statSync(`${dir}/bin.js`).mode & 0o777, 0o555);
  assert.equal(fs.statSync(layout.filePath(exec.digest, true)).ino, fs.statSync(`${dir}/bin.js`).ino);
  assert.notEqual(fs.statSync(`${dir}/bin.js`).ino, inodes[0], "an executable is its own inode");
  cleanup();
});

test("writeBytesAt links content another writer stored, replaces a stale project file, and repairs a wrong-size CAS file", async () => {
  const { c, dir, cleanup } = await testContainer();
  const cas = c.get(T.cas);
  const layout = c.get(T.layout);
  const stored = await cas.writeBytes(bytes("shared"), false);
  const file = layout.filePath(stored.digest, false);
  fs.writeFileSync(`${dir}/x.js`, "left by an interrupted attempt");
  const placed = await cas.writeBytesAt(bytes("shared"), false, `${dir}/x.js`);
  assert.equal(placed.written, false);
  assert.equal(fs.statSync(`${dir}/x.js`).ino, fs.statSync(file).ino);
  assert.equal(placed.checkedAt, fs.statSync(file).mtimeMs, "checkedAt is the stored file's mtime");

  // A truncated file at a CAS path (a damaged store) is replaced by the complete content.
  const digest = sha512Hex("complete content");
  const damaged = layout.filePath(digest, false);
  fs.writeFileSync(damaged, "compl", { mode: 0o444 });
  const repaired = await cas.writeBytesAt(bytes("complete content"), false, `${dir}/y.js`);
  assert.equal(repaired.written, true);
  assert.equal(fs.readFileSync(damaged, "utf8"), "complete content");
  assert.equal(fs.readFileSync(`${dir}/y.js`, "utf8"), "complete content");
  assert.equal(fs.statSync(damaged).ino, fs.statSync(`${dir}/y.js`).ino);
  cleanup();
});
