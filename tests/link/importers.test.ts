import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadLibc } from "../../src/runtime/libc.ts";
import { cloneImporter, copyImporter, hardlinkImporter } from "../../src/link/mod.ts";
import { ctimeOf, plainTempDir, removeDirs, storeFile, xfsTempDir } from "../support/xfs.ts";

const libc = await loadLibc();

// Long enough for a chmod to move ctime past stat(1)'s nanosecond display.
const tick = () => new Promise((r) => setTimeout(r, 20));

test("executables: a 0o555 store entry hard-linked stays 0o555, same inode, never chmod-ed", async () => {
  const dir = await plainTempDir();
  try {
    const src = storeFile(join(dir, "store"), "abcdef", "#!/bin/sh\necho hi\n", true);
    const before = statSync(src);
    hardlinkImporter().importFile(src, join(dir, "cli.js"));
    const [after, dest] = [statSync(src), statSync(join(dir, "cli.js"))];
    assert.equal(dest.ino, before.ino);
    assert.equal(dest.mode & 0o7777, 0o555);
    assert.equal(after.mode, before.mode);
    assert.equal(after.nlink, before.nlink + 1); // link(2) itself is the only change to the inode
    // link(2) moves ctime, so check "no chmod" from here on: a second link must leave mode untouched.
    hardlinkImporter().importFile(src, join(dir, "cli2.js"));
    assert.equal(statSync(src).mode, before.mode);
  } finally {
    removeDirs(dir);
  }
});

test("executables: clone and copy keep 0o555 and leave the store inode's mode and ctime alone", async () => {
  assert.ok(libc);
  for (const [name, mkdir] of [["clone", xfsTempDir], ["copy", plainTempDir]] as const) {
    const dir = await mkdir();
    try {
      const src = storeFile(join(dir, "store"), "abcdef", "#!/bin/sh\necho hi\n", true);
      const [mode, ctime] = [statSync(src).mode, await ctimeOf(src)];
      await tick();
      const importer = name === "clone" ? cloneImporter(libc) : copyImporter();
      importer.importFile(src, join(dir, "cli.js"));
      const dest = statSync(join(dir, "cli.js"));
      assert.notEqual(dest.ino, statSync(src).ino, name);
      assert.equal(dest.mode & 0o7777, 0o555, name);
      assert.equal(readFileSync(join(dir, "cli.js"), "utf8"), "#!/bin/sh\necho hi\n");
      assert.equal(statSync(src).mode, mode, name);
      assert.equal(await ctimeOf(src), ctime, `${name} must not touch the store inode`);
    } finally {
      removeDirs(dir);
    }
  }
});

test("regular store files import as 0o444 by every method", async () => {
  assert.ok(libc);
  const [xfs, plain] = [await xfsTempDir(), await plainTempDir()];
  try {
    const cases = [
      [cloneImporter(libc), xfs],
      [hardlinkImporter(), plain],
      [copyImporter(), plain],
    ] as const;
    for (const [importer, dir] of cases) {
      const src = storeFile(join(dir, "store"), `ab${importer.method}`, "data");
      importer.importFile(src, join(dir, importer.method));
      assert.equal(statSync(join(dir, importer.method)).mode & 0o7777, 0o444, importer.method);
    }
  } finally {
    removeDirs(xfs, plain);
  }
});

test("clone importer passes libc errors through with their errno names", async () => {
  assert.ok(libc);
  const dir = await xfsTempDir();
  try {
    const src = storeFile(join(dir, "store"), "abcdef", "x");
    const clone = cloneImporter(libc);
    clone.importFile(src, join(dir, "a"));
    assert.throws(() => clone.importFile(src, join(dir, "a")), { code: "EEXIST" });
    assert.throws(() => clone.importFile(join(dir, "nope"), join(dir, "b")), { code: "ENOENT" });
  } finally {
    removeDirs(dir);
  }
});
