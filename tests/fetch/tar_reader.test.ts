import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import tar from "tar-stream";
import { readTar, TarFormatError } from "../../src/fetch/tar_reader.ts";
import { tarOf } from "../support/tarball.ts";

/** What tar-stream, the library the reader stands in for, makes of the same archive. */
async function viaTarStream(bytes: Uint8Array) {
  const extract = tar.extract();
  extract.end(bytes);
  const out = [];
  for await (const entry of extract) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of entry) chunks.push(chunk as Uint8Array);
    const h = entry.header;
    out.push({
      name: h.name,
      type: h.type,
      mode: h.mode,
      size: h.size,
      linkname: h.linkname ?? "",
      body: Buffer.concat(chunks).toString("latin1"),
    });
  }
  return out;
}

const viaReader = (bytes: Uint8Array) =>
  readTar(bytes).map((e) => ({ ...e, body: Buffer.from(e.body).toString("latin1") }));

test("readTar agrees with tar-stream: ustar prefix, pax long and unicode names, links, modes, empty files", async () => {
  const archive = await tarOf([
    { name: "package/package.json", content: '{"name":"x"}' },
    { name: `package/${"deep/".repeat(30)}file.js`, content: "long: ustar prefix" },
    { name: `package/${"n".repeat(300)}.js`, content: "longer: a pax path record" },
    { name: "package/ünïcødé/文件.txt", content: "pax for non-ASCII" },
    { name: "package/bin/cli", content: "#!/bin/sh\n", mode: 0o755 },
    { name: "package/empty", content: "" },
    { name: "package/lib", type: "directory" },
    { name: "package/lib/link", type: "symlink", linkname: "../package.json" },
    { name: "package/hard", type: "link", linkname: "package/package.json" },
    { name: "package/dev", type: "character-device" },
  ]);
  const expected = await viaTarStream(archive);
  assert.equal(expected.length, 10);
  assert.deepEqual(viaReader(archive), expected);
});

test("readTar reads GNU long names and pax archives written by GNU tar", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "silo-tar-"));
  try {
    const long = `package/${"l".repeat(120)}/${"m".repeat(150)}.js`;
    fs.mkdirSync(path.join(dir, path.dirname(long)), { recursive: true });
    fs.writeFileSync(path.join(dir, long), "gnu");
    fs.symlinkSync(`../../${"t".repeat(120)}`, path.join(dir, "package", "far-link"));
    for (const format of ["gnu", "posix"]) {
      const run = spawnSync("tar", [`--format=${format}`, "-C", dir, "-cf", "-", "package"], {
        maxBuffer: 1 << 24,
      });
      assert.equal(run.status, 0, String(run.stderr));
      const entries = readTar(new Uint8Array(run.stdout));
      const file = entries.find((e) => e.type === "file");
      assert.equal(file?.name, long, format);
      assert.equal(Buffer.from(file!.body).toString(), "gnu");
      const link = entries.find((e) => e.type === "symlink");
      assert.equal(link?.linkname, `../../${"t".repeat(120)}`, format);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A one-entry archive with its header edited by `edit` and the checksum recomputed. */
async function edited(edit: (header: Uint8Array) => void, content = "hello"): Promise<Uint8Array> {
  const archive = new Uint8Array(await tarOf([{ name: "package/a", content }]));
  const header = archive.subarray(0, 512);
  edit(header);
  header.fill(0x20, 148, 156);
  const sum = header.reduce((a, b) => a + b, 0);
  header.set(new TextEncoder().encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  return archive;
}

test("readTar reads GNU base-256 sizes and old tars' trailing-slash directories", async () => {
  const big = await edited((h) => {
    h.fill(0, 124, 136);
    h[124] = 0x80;
    h[135] = 5; // base-256: 5
  });
  assert.equal(Buffer.from(readTar(big)[0].body).toString(), "hello");

  const dir = await edited((h) => {
    h.set(new TextEncoder().encode("package/d/\0"), 0);
    h[156] = 0x30; // "0": a plain file by flag
    h.fill(0x30, 124, 135); // size 0
  }, "");
  assert.equal(readTar(dir)[0].type, "directory");
});

test("readTar refuses a damaged header and names a cut-short archive as truncated", async () => {
  const archive = await tarOf([
    { name: "package/a", content: "x".repeat(2000) },
    { name: "package/b", content: "y" },
  ]);
  const bad = new Uint8Array(archive);
  bad[10] ^= 0xff;
  assert.throws(() => readTar(bad), (e) => e instanceof TarFormatError && e.kind === "corrupt");
  const cut = archive.subarray(0, 1024);
  assert.throws(
    () => readTar(cut),
    (e) => e instanceof TarFormatError && e.kind === "truncated" && /package\/a/.test(e.message),
  );
  const torn = archive.subarray(0, 512 + 2048 + 100); // inside package/b's header
  assert.throws(() => readTar(torn), (e) => e instanceof TarFormatError && e.kind === "truncated");
});
