import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { T } from "../../src/container/app.ts";
import { ingestTarball, type Placer, TarballError } from "../../src/fetch/tar_ingest.ts";
import { chunked, type Entry, packageTgz, sha512Hex, sri, tarOf, tgzOf } from "../support/tarball.ts";
import { testContainer } from "../support/store.ts";

const pkgJson = { name: "package/package.json", content: '{"name":"evil","version":"1.0.0"}' };

test("ingest strips the first path segment, records modes, manifest and the computed integrity", async () => {
  const { c, cleanup } = await testContainer();
  const tgz = await tgzOf([
    {
      name: "package/package.json",
      content: JSON.stringify({ name: "ok", version: "2.0.0", bin: { ok: "cli.js" } }),
    },
    { name: "package/cli.js", content: "#!/usr/bin/env node\n", mode: 0o755 },
    { name: "package/./lib//deep/x.js", content: "x" },
  ]);
  const { record, written } = await c.get(T.store).addTarball(chunked(tgz, 100), { integrity: sri(tgz) });
  assert.deepEqual(Object.keys(record.files).sort(), ["cli.js", "lib/deep/x.js", "package.json"]);
  assert.equal(record.files["cli.js"].mode, 0o755);
  assert.equal(record.files["lib/deep/x.js"].mode, 0o644);
  assert.equal(record.files["lib/deep/x.js"].digest, sha512Hex("x"));
  assert.deepEqual(record.manifest.bin, { ok: "cli.js" });
  assert.equal(record.name, "ok");
  assert.equal(record.key, sri(tgz));
  assert.equal(written, 3);
  const again = await c.get(T.store).addTarball(tgz);
  assert.equal(again.written, 0, "adding the same package again writes no file");
  cleanup();
});

test("a hand-made tarball (tar czf x.tgz -C dir .) has ./ as its first segment; a stray top-level file is skipped", async () => {
  const { c, cleanup } = await testContainer();
  try {
    for (const form of ["streamed", "whole"] as const) {
      const tgz = await tgzOf([
        { name: "./", type: "directory" },
        { name: "./package.json", content: JSON.stringify({ name: "handmade", version: "1.0.0" }) },
        { name: "./index.js", content: "module.exports = 1;\n" },
        { name: "rootfile.txt", content: "beside the package, not in it" },
      ]);
      const source = form === "streamed" ? chunked(tgz, 64) : tgz;
      const { record, skipped } = await c.get(T.store).addTarball(source, { integrity: sri(tgz) });
      assert.deepEqual(Object.keys(record.files).sort(), ["index.js", "package.json"], form);
      assert.equal(record.name, "handmade");
      assert.deepEqual(skipped.map((e) => e.path), ["rootfile.txt"]);
    }
  } finally {
    cleanup();
  }
});

test("sha1 integrity (old lockfiles) is checked too", async () => {
  const { c, cleanup } = await testContainer();
  const tgz = await packageTgz("old", "1.0.0", { "a.js": "a" });
  const { record } = await c.get(T.store).addTarball(tgz, { integrity: sri(tgz, "sha1") });
  assert.equal(record.integrity, sri(tgz, "sha1"));
  await assert.rejects(
    c.get(T.store).addTarball(tgz, {
      integrity: "sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      name: "old",
      version: "1.0.1",
    }),
    /integrity mismatch/,
  );
  cleanup();
});

test("a large file is streamed to the store, not buffered", async () => {
  const { c, cleanup } = await testContainer();
  const big = new Uint8Array(9 * 1024 * 1024).map((_, i) => i % 251);
  const tgz = await tgzOf([pkgJson, { name: "package/big.bin", content: big }]);
  const { record } = await c.get(T.store).addTarball(chunked(tgz, 64 * 1024));
  const entry = record.files["big.bin"];
  assert.equal(entry.digest, sha512Hex(big));
  assert.equal(fs.statSync(c.get(T.layout).filePath(entry.digest, false)).mode & 0o777, 0o444);
  cleanup();
});

interface BadCase {
  name: string;
  tgz: () => Promise<Uint8Array>;
  integrity?: (tgz: Uint8Array) => string;
  error?: RegExp;
  kind?: string;
  /** For skipped entries: what must not exist in the row. */
  absent?: string[];
  maxUnpackedBytes?: number;
}

const cases: BadCase[] = [
  {
    name: "absolute path",
    tgz: () => tgzOf([pkgJson, { name: "/etc/passwd", content: "root" }]),
    kind: "unsafe-path",
    error: /absolute path/,
  },
  {
    name: "path traversal with ..",
    tgz: () => tgzOf([pkgJson, { name: "package/../../escape.js", content: "x" }]),
    kind: "unsafe-path",
    error: /escapes the package/,
  },
  {
    name: "symlink escape (absolute target)",
    tgz: () => tgzOf([pkgJson, { name: "package/link", type: "symlink", linkname: "/etc/passwd" }]),
    kind: "unsafe-path",
    error: /symlink to "\/etc\/passwd", outside the package/,
  },
  {
    name: "symlink escape (relative target)",
    tgz: () => tgzOf([pkgJson, { name: "package/lib/link", type: "symlink", linkname: "../../../x" }]),
    kind: "unsafe-path",
  },
  {
    name: "symlink inside the package is skipped, as npm does",
    tgz: () => tgzOf([pkgJson, { name: "package/lib/link", type: "symlink", linkname: "../package.json" }]),
    absent: ["lib/link"],
  },
  {
    name: "hardlink entry is skipped",
    tgz: () => tgzOf([pkgJson, { name: "package/hl", type: "link", linkname: "package/package.json" }]),
    absent: ["hl"],
  },
  {
    name: "device entry",
    tgz: () => tgzOf([pkgJson, { name: "package/dev", type: "character-device" }]),
    kind: "unsafe-entry",
    error: /is a character-device/,
  },
  {
    name: "setuid entry",
    tgz: () => tgzOf([pkgJson, { name: "package/suid", content: "#!/bin/sh\n", mode: 0o4755 }]),
    kind: "unsafe-entry",
    error: /setuid\/setgid/,
  },
  {
    name: "truncated gzip",
    tgz: async () => (await packageTgz("t", "1.0.0", { "a.js": "a".repeat(5000) })).subarray(0, 60),
    kind: "truncated",
    error: /ends early/,
  },
  {
    name: "not gzip at all",
    tgz: () => Promise.resolve(new TextEncoder().encode("<html>502 Bad Gateway</html>")),
    kind: "corrupt",
  },
  {
    name: "integrity mismatch",
    tgz: () => packageTgz("m", "1.0.0", { "a.js": "a" }),
    integrity: () => sri(new TextEncoder().encode("something else")),
    kind: "integrity",
    error: /integrity mismatch.*lockfile expects/,
  },
  {
    name: "tar bomb (unpacks far past the limit)",
    tgz: async () =>
      new Uint8Array(
        gzipSync(await tarOf([pkgJson, { name: "package/zeros", content: new Uint8Array(4 * 1024 * 1024) }])),
      ),
    maxUnpackedBytes: 1024 * 1024,
    kind: "too-large",
    error: /tar bomb/,
  },
];

// A download is streamed in chunks; a worker's job (and a file read whole) is one buffer: two code paths.
for (const bad of cases) {
  for (const form of ["streamed", "whole"] as const) {
    test(`bad tarball (${form}): ${bad.name} -> clear error or skipped entry, nothing bad indexed, verify clean`, async () => {
      const { c, cleanup } = await testContainer();
      const store = c.get(T.store);
      const tgz = await bad.tgz();
      const add = store.addTarball(form === "whole" ? tgz : chunked(tgz, 512), {
        name: "evil",
        version: "1.0.0",
        integrity: bad.integrity?.(tgz),
        maxUnpackedBytes: bad.maxUnpackedBytes,
      });
      if (bad.kind) {
        const error = await add.then(() => undefined, (e) => e);
        assert.ok(error instanceof TarballError, `expected a TarballError, got ${error}`);
        assert.equal(error.kind, bad.kind);
        assert.match(error.message, /^evil@1\.0\.0: /, "the error names the package");
        if (bad.error) assert.match(error.message, bad.error);
        assert.deepEqual(c.get(T.index).keys(), [], "nothing indexed on failure");
      } else {
        const { record, skipped } = await add;
        for (const p of bad.absent ?? []) assert.equal(record.files[p], undefined);
        assert.equal(skipped.length, 1);
      }
      const report = await c.get(T.verifier).verifyAll();
      assert.equal(report.bad.length, 0, "the store verifies clean afterwards");
      assert.equal(fs.existsSync("/tmp/escape.js"), false);
      cleanup();
    });
  }
}

test("the sticky bit is dropped: the file is stored as a plain executable", async () => {
  const { c, cleanup } = await testContainer();
  const entries: Entry[] = [pkgJson, { name: "package/run", content: "#!/bin/sh\n", mode: 0o1755 }];
  const { record } = await c.get(T.store).addTarball(await tgzOf(entries));
  assert.equal(record.files["run"].mode, 0o755);
  const st = fs.statSync(c.get(T.layout).filePath(record.files["run"].digest, true));
  assert.equal(st.mode & 0o7777, 0o555);
  cleanup();
});

for (const form of ["streamed", "whole"] as const) {
  test(`the bomb guard counts real output (${form}): a big native binary first in the tarball is not a bomb`, async () => {
    const { c, cleanup } = await testContainer();
    const source = (tgz: Uint8Array) => form === "whole" ? tgz : chunked(tgz, 16 * 1024);
    // Incompressible bytes: the header declares 10 MiB while little compressed data has been read yet.
    const binary = new Uint8Array(10 * 1024 * 1024);
    for (let i = 0; i < binary.length; i += 65536) crypto.getRandomValues(binary.subarray(i, i + 65536));
    const tgz = await tgzOf([{ name: "package/native.node", content: binary }, pkgJson]);
    const { record } = await c.get(T.store).addTarball(source(tgz), { ratioFloor: 1024 * 1024 });
    assert.equal(record.files["native.node"].digest, sha512Hex(binary));

    const zeros = await tgzOf([
      { name: "package/zeros", content: new Uint8Array(10 * 1024 * 1024) },
      pkgJson,
    ]);
    const bomb = await c.get(T.store).addTarball(source(zeros), {
      ratioFloor: 1024 * 1024,
      name: "z",
      version: "1.0.0",
    })
      .then(() => undefined, (e) => e);
    assert.ok(bomb instanceof TarballError && bomb.kind === "too-large", String(bomb));
    cleanup();
  });
}

const placer: Placer = {
  fileIn(dir, relative) {
    const file = path.join(dir, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return file;
  },
};

test("a placing ingest fills the package folder with links to the stored files, package.json last", async () => {
  const { c, dir, cleanup } = await testContainer();
  const cas = c.get(T.cas);
  const at = `${dir}/project/node_modules/ok`;
  const tgz = await tgzOf([
    {
      name: "package/package.json",
      content: JSON.stringify({ name: "ok", version: "1.0.0", bin: "bin/ok.js" }),
    },
    { name: "package/bin/ok.js", content: "#!/usr/bin/env node\n" }, // a bin target without its exec bit
    { name: "package/lib/a.js", content: "a" },
    { name: "package/lib/copy.js", content: "a" },
  ]);
  const result = await ingestTarball(
    tgz,
    cas,
    { label: "ok@1.0.0", integrity: sri(tgz), placeAt: at },
    placer,
  );
  assert.deepEqual(result.placed, { files: 4, last: "package.json" });
  for (const [rel, entry] of Object.entries(result.files)) {
    const stored = c.get(T.layout).filePath(entry.digest, (entry.mode & 0o111) !== 0);
    assert.equal(fs.statSync(`${at}/${rel}`).ino, fs.statSync(stored).ino, `${rel} is the stored inode`);
  }
  assert.equal(result.files["bin/ok.js"].mode, 0o755);
  assert.equal(fs.statSync(`${at}/bin/ok.js`).mode & 0o777, 0o555, "the bin target is the -exec entry");
  assert.equal(fs.statSync(`${at}/lib/copy.js`).ino, fs.statSync(`${at}/lib/a.js`).ino);

  // Without a placer (the main thread's fallback), placeAt is ignored and the result says so.
  const other = `${dir}/project/node_modules/other`;
  const plain = await ingestTarball(tgz, cas, { label: "ok@1.0.0", placeAt: other });
  assert.equal(plain.placed, undefined);
  assert.equal(fs.existsSync(other), false);
  cleanup();
});

test("a placing ingest writes nothing for a bad tarball and takes back what it placed when one fails midway", async () => {
  const { c, dir, cleanup } = await testContainer();
  const cas = c.get(T.cas);
  const at = `${dir}/node_modules/bad`;
  const tgz = await tgzOf([pkgJson, { name: "package/a.js", content: "a" }]);
  await assert.rejects(
    ingestTarball(tgz, cas, { label: "bad@1.0.0", integrity: sri(new Uint8Array([1])), placeAt: at }, placer),
    /integrity mismatch/,
  );
  assert.equal(fs.existsSync(at), false, "integrity is checked before anything is written");

  const unsafe = await tgzOf([
    pkgJson,
    { name: "package/a.js", content: "a" },
    { name: "package/../../escape.js", content: "x" },
  ]);
  const error = await ingestTarball(unsafe, cas, { label: "bad@1.0.0", placeAt: at }, placer).catch((e) => e);
  assert.ok(error instanceof TarballError && error.kind === "unsafe-path", String(error));
  assert.deepEqual(fs.readdirSync(at), [], "a.js was taken back and package.json never written");
  cleanup();
});

test("a bin target whose #! line ends in CRLF is stored with LF as its -exec entry; other files keep theirs", async () => {
  const { c, dir, cleanup } = await testContainer();
  const cas = c.get(T.cas);
  const at = `${dir}/project/node_modules/winbin`;
  const script = "#!/usr/bin/env node\r\nconsole.log('hi')\r\n";
  const tgz = await tgzOf([
    {
      name: "package/package.json",
      content: JSON.stringify({ name: "winbin", version: "1.0.0", bin: { a: "cli.js", b: "exec.js" } }),
    },
    { name: "package/cli.js", content: script },
    { name: "package/exec.js", content: script, mode: 0o755 },
    { name: "package/lib.js", content: script }, // not a bin target: left as published
  ]);
  for (const placeAt of [undefined, at]) {
    const result = await ingestTarball(
      tgz,
      cas,
      { label: "winbin@1.0.0", integrity: sri(tgz), placeAt },
      placer,
    );
    const fixed = "#!/usr/bin/env node\nconsole.log('hi')\r\n";
    for (const bin of ["cli.js", "exec.js"]) {
      const entry = result.files[bin];
      assert.equal(entry.digest, sha512Hex(fixed), `${bin} names the fixed content`);
      assert.equal(entry.size, fixed.length);
      assert.equal(entry.mode, 0o755);
      assert.equal(fs.readFileSync(c.get(T.layout).filePath(entry.digest, true), "utf8"), fixed);
      if (placeAt) {
        assert.equal(fs.readFileSync(`${placeAt}/${bin}`, "utf8"), fixed, `placed ${bin} is fixed`);
      }
    }
    assert.equal(result.files["lib.js"].digest, sha512Hex(script));
  }
  cleanup();
});
