/**
 * The import method an install picks, seen from the outside: clones on XFS (extents shared with the
 * store), hard links on ext4 (the store's inode), copies with one warning when the store and the
 * project are on different filesystems. Uses the loop-mounted XFS from scripts/xfs-mount.sh.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { T } from "../../src/container/app.ts";
import { install } from "../../src/install/install.ts";
import { sha512Hex } from "../support/tarball.ts";
import { allExtentsShared, plainTempDir, removeDirs, xfsTempDir } from "../support/xfs.ts";
import { makeProject, type PkgSpec } from "./_support.ts";

// Big enough to have real extents (filefrag shows none for inline or empty files).
const BIG = "x".repeat(256 * 1024);
const SPECS: PkgSpec[] = [
  { name: "big", files: { "data.txt": BIG }, execFiles: { "run.sh": "#!/bin/sh\necho hi\n" } },
  { name: "small", files: { "index.js": "small" } },
];

test("store and project on XFS: the install clones, and the files share extents with the store", async () => {
  const root = await xfsTempDir();
  const p = await makeProject(SPECS, { root });
  try {
    const summary = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(summary.importMethod, "clone");
    const file = path.join(p.projectDir, "node_modules", "big", "data.txt");
    const stored = p.c.get(T.layout).filePath(sha512Hex(BIG), false);
    assert.notEqual(fs.statSync(file).ino, fs.statSync(stored).ino, "a clone is its own inode");
    assert.ok(await allExtentsShared(file), "filefrag -v shows the extents as shared");
    assert.equal(fs.readFileSync(file, "utf8"), BIG);
    assert.ok(
      fs.statSync(path.join(p.projectDir, "node_modules", "big", "run.sh")).mode & 0o111,
      "exec bit kept",
    );
  } finally {
    await p.close();
  }
});

test("store and project on ext4: the install hard-links the store's inodes", async () => {
  const root = await plainTempDir();
  const p = await makeProject(SPECS, { root });
  try {
    const warnings: string[] = [];
    const summary = await install(p.c, {
      projectDir: p.projectDir,
      client: p.client,
      warn: (m) => warnings.push(m),
    });
    assert.equal(summary.importMethod, "hardlink");
    const layout = p.c.get(T.layout);
    const file = path.join(p.projectDir, "node_modules", "big", "data.txt");
    assert.equal(fs.statSync(file).ino, fs.statSync(layout.filePath(sha512Hex(BIG), false)).ino);
    const exec = path.join(p.projectDir, "node_modules", "big", "run.sh");
    assert.equal(
      fs.statSync(exec).ino,
      fs.statSync(layout.filePath(sha512Hex("#!/bin/sh\necho hi\n"), true)).ino,
    );
    assert.deepEqual(warnings, []);
  } finally {
    await p.close();
  }
});

test("store on XFS, project on ext4: the install copies, with exactly one warning", async () => {
  const [xfs, plain] = [await xfsTempDir(), await plainTempDir()];
  const p = await makeProject(SPECS, {
    storeDir: path.join(xfs, "store"),
    projectDir: path.join(plain, "project"),
  });
  try {
    const warnings: string[] = [];
    const summary = await install(p.c, {
      projectDir: p.projectDir,
      client: p.client,
      warn: (m) => warnings.push(m),
    });
    assert.equal(summary.importMethod, "copy");
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /different filesystems|copied/);
    const file = path.join(p.projectDir, "node_modules", "big", "data.txt");
    assert.notEqual(
      fs.statSync(file).ino,
      fs.statSync(p.c.get(T.layout).filePath(sha512Hex(BIG), false)).ino,
    );
    assert.equal(fs.readFileSync(file, "utf8"), BIG);
  } finally {
    await p.close();
    removeDirs(xfs, plain);
  }
});
