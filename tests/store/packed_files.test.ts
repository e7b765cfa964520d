import assert from "node:assert/strict";
import { test } from "node:test";
import type { FileMap } from "../../src/store/index_db.ts";
import {
  fileCountOf,
  hasFile,
  packedFilesOf,
  packFiles,
  unpackFiles,
  withFilesOf,
  withPackedFiles,
} from "../../src/store/packed_files.ts";

const files: FileMap = {
  "package.json": { digest: "ab".repeat(64), mode: 0o644, size: 12, checkedAt: 1700000000123 },
  "bin/cli.js": { digest: "cd".repeat(64), mode: 0o755, size: 3, checkedAt: 1700000000456 },
};

test("a packed map unpacks to the same map, in the same order", () => {
  const back = unpackFiles(packFiles(files));
  assert.deepEqual(back, files);
  assert.deepEqual(Object.keys(back), Object.keys(files));
});

test("a packed record hands out its text and count without parsing, and parses once on first read", () => {
  const text = packFiles(files);
  const record = withPackedFiles({ key: "k" }, text, 2);
  assert.equal(packedFilesOf(record), text);
  assert.equal(fileCountOf(record), 2);
  assert.equal(record.files["bin/cli.js"].mode, 0o755);
  assert.equal(record.files, record.files, "parsed once: the same object on every read");
});

test("once read, the map may change, and the text follows the change", () => {
  const record = withPackedFiles({ key: "k" }, packFiles(files), 2);
  record.files["extra.js"] = { digest: "ef".repeat(64), mode: 0o644, size: 1, checkedAt: 1 };
  assert.equal(fileCountOf(record), 3);
  assert.deepEqual(Object.keys(unpackFiles(packedFilesOf(record))), [
    "package.json",
    "bin/cli.js",
    "extra.js",
  ]);
  record.files = {};
  assert.equal(fileCountOf(record), 0);
  assert.equal(packedFilesOf(record), "{}");
});

test("withFilesOf passes a map on still packed, or as it is", () => {
  const text = packFiles(files);
  const packed = withFilesOf({ key: "a" }, withPackedFiles({}, text, 2));
  assert.equal(packedFilesOf(packed), text);
  const plain = withFilesOf({ key: "b" }, { files });
  assert.equal(plain.files, files);
  assert.deepEqual({ ...packed }, { key: "a", files }, "spreading a packed record reads its files");
});

test("hasFile answers from the packed text as the parsed map would, without parsing it", () => {
  const odd: FileMap = {
    'odd",["x.js': { digest: "ab", mode: 0o644, size: 1, checkedAt: 0 },
    "bin/cli.js": { digest: "cd", mode: 0o755, size: 2, checkedAt: 0 },
    'a/"quoted".js': { digest: "ef", mode: 0o644, size: 3, checkedAt: 0 },
  };
  const packed = packFiles(odd);
  for (
    const rel of ["bin/cli.js", 'a/"quoted".js', 'odd",["x.js', "x.js", "cli.js", "bin", 'quoted".js', "ab"]
  ) {
    const record = withPackedFiles({}, packed, 3);
    assert.equal(hasFile(record, rel), Object.hasOwn(odd, rel), rel);
    assert.ok(Object.getOwnPropertyDescriptor(record, "files")?.get, `asking for ${rel} parsed the map`);
  }
  const parsed = withPackedFiles({}, packed, 3);
  void parsed.files;
  assert.equal(hasFile(parsed, "bin/cli.js"), true);
  assert.equal(hasFile(parsed, "x.js"), false);
});
