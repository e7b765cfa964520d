import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadLibc } from "../../src/runtime/libc.ts";
import { cloneImporter, type FileImporter, importerFor, ImportError } from "../../src/link/mod.ts";
import { plainTempDir, removeDirs, storeFile, xfsTempDir } from "../support/xfs.ts";

const libc = await loadLibc();

test("a mid-install EXDEV downgrades clone -> copy once, with one warning", async () => {
  assert.ok(libc);
  const [xfs, plain] = [await xfsTempDir(), await plainTempDir()];
  try {
    const store = join(xfs, "store");
    const messages: string[] = [];
    const importer = importerFor(cloneImporter(libc), { libc, warn: (m) => messages.push(m) });
    // Most of node_modules is on the store's filesystem...
    mkdirSync(join(xfs, "nm"));
    for (let i = 0; i < 50; i++) {
      importer.importFile(storeFile(store, `a${i}`, `a${i}`), join(xfs, "nm", `${i}`));
    }
    assert.equal(importer.method, "clone");
    assert.deepEqual(messages, []);
    // ...then one directory turns out to be another mount: clone and hardlink both say EXDEV.
    for (let i = 0; i < 200; i++) {
      importer.importFile(storeFile(store, `b${i}`, `b${i}`), join(plain, `${i}`));
      assert.equal(readFileSync(join(plain, `${i}`), "utf8"), `b${i}`);
    }
    assert.equal(importer.method, "copy");
    assert.equal(messages.length, 1, messages.join("\n"));
    assert.match(messages[0], /clone failed for .* \(EXDEV\); using copy for the rest of this install/);
    assert.match(messages[0], /SILO_STORE_DIR/);
  } finally {
    removeDirs(xfs, plain);
  }
});

test("a mid-install EOPNOTSUPP on clone downgrades to hardlink", async () => {
  assert.ok(libc);
  const dir = await plainTempDir();
  try {
    const src = storeFile(join(dir, "store"), "abcdef", "x");
    const messages: string[] = [];
    const importer = importerFor(cloneImporter(libc), { libc, warn: (m) => messages.push(m) });
    importer.importFile(src, join(dir, "a"));
    importer.importFile(src, join(dir, "b"));
    assert.equal(importer.method, "hardlink");
    assert.equal(statSync(join(dir, "b")).ino, statSync(src).ino);
    assert.equal(messages.length, 1);
    assert.match(messages[0], /\(EOPNOTSUPP\); using hardlink/);
  } finally {
    removeDirs(dir);
  }
});

test("other errors are not downgraded: they throw an ImportError naming method and paths", async () => {
  const dir = await plainTempDir();
  try {
    const src = storeFile(join(dir, "store"), "abcdef", "x");
    const importer = importerFor(cloneImporter(libc!), { libc, warn: () => assert.fail("no warning") });
    const dest = join(dir, "missing-dir", "x");
    // clone hits ENOENT opening dest before any filesystem question comes up.
    assert.throws(() => importer.importFile(src, dest), (err: unknown) => {
      assert.ok(err instanceof ImportError);
      assert.equal(err.code, "ENOENT");
      assert.equal(err.method, "clone");
      assert.equal(err.src, src);
      assert.equal(err.dest, dest);
      return true;
    });
    assert.equal(importer.method, "clone");
  } finally {
    removeDirs(dir);
  }
});

test("EMLINK (hard link limit) copies just that file and warns once", async () => {
  const dir = await plainTempDir();
  try {
    const src = storeFile(join(dir, "store"), "abcdef", "popular LICENSE text");
    const full: FileImporter = {
      method: "hardlink",
      importFile: () => {
        throw Object.assign(new Error("EMLINK: too many links"), { code: "EMLINK" });
      },
    };
    const messages: string[] = [];
    const importer = importerFor(full, { libc: null, warn: (m) => messages.push(m) });
    for (let i = 0; i < 3; i++) importer.importFile(src, join(dir, `LICENSE${i}`));
    assert.equal(importer.method, "hardlink", "the limit is per inode: keep hard-linking other files");
    assert.equal(readFileSync(join(dir, "LICENSE2"), "utf8"), "popular LICENSE text");
    assert.notEqual(statSync(join(dir, "LICENSE2")).ino, statSync(src).ino);
    assert.equal(messages.length, 1);
    assert.match(messages[0], /hard link limit/);
  } finally {
    removeDirs(dir);
  }
});
