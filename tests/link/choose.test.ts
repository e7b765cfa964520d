import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadLibc } from "../../src/runtime/libc.ts";
import { chooseImporter, ImportError, ProbeCache, probeMethods } from "../../src/link/mod.ts";
import {
  allExtentsShared,
  filefrag,
  plainTempDir,
  removeDirs,
  storeFile,
  xfsTempDir,
} from "../support/xfs.ts";

const libc = await loadLibc();

function collector(): { warn: (m: string) => void; messages: string[] } {
  const messages: string[] = [];
  return { warn: (m) => messages.push(m), messages };
}

function thrown(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ImportError, `expected an ImportError, got ${err}`);
    return err;
  }
  assert.fail("expected a throw");
}

test("auto picks clone on XFS and clones share extents", async () => {
  assert.ok(libc);
  const dir = await xfsTempDir();
  try {
    const store = join(dir, "store");
    const target = join(dir, "node_modules");
    const src = storeFile(store, "abcdef", "module.exports = 1;\n".repeat(500));
    const { warn, messages } = collector();
    const importer = chooseImporter({ requested: "auto", storeDir: store, targetDir: target, libc, warn });
    assert.equal(importer.method, "clone");
    mkdirSync(target, { recursive: true });
    importer.importFile(src, join(target, "index.js"));
    assert.equal(importer.method, "clone");
    const [s, d] = [statSync(src), statSync(join(target, "index.js"))];
    assert.notEqual(d.ino, s.ino);
    assert.equal(d.mode & 0o777, 0o444);
    assert.deepEqual(readFileSync(join(target, "index.js")), readFileSync(src));
    assert.ok(await allExtentsShared(join(target, "index.js")), await filefrag(join(target, "index.js")));
    assert.deepEqual(messages, []);
  } finally {
    removeDirs(dir);
  }
});

test("auto picks hardlink on ext4 (no reflinks): the import is the store inode", async () => {
  const dir = await plainTempDir();
  try {
    const store = join(dir, "store");
    const target = join(dir, "node_modules");
    const src = storeFile(store, "abcdef", "x");
    const { warn, messages } = collector();
    const importer = chooseImporter({ requested: "auto", storeDir: store, targetDir: target, libc, warn });
    assert.equal(importer.method, "hardlink");
    mkdirSync(target);
    importer.importFile(src, join(target, "x.js"));
    assert.equal(statSync(join(target, "x.js")).ino, statSync(src).ino);
    assert.deepEqual(messages, []);
  } finally {
    removeDirs(dir);
  }
});

test("auto without libc picks hardlink even on XFS", async () => {
  const dir = await xfsTempDir();
  try {
    const importer = chooseImporter({
      requested: "auto",
      storeDir: join(dir, "store"),
      targetDir: join(dir, "nm"),
      libc: null,
      warn: () => assert.fail("no warning expected"),
    });
    assert.equal(importer.method, "hardlink");
  } finally {
    removeDirs(dir);
  }
});

test("store on XFS, project on ext4: EXDEV -> copy, one warning for many files and installs", async () => {
  const [xfs, plain] = [await xfsTempDir(), await plainTempDir()];
  try {
    const store = join(xfs, "store");
    const { warn, messages } = collector();
    const cache = new ProbeCache();
    for (let install = 0; install < 2; install++) {
      const target = join(plain, `project${install}`, "node_modules");
      const importer = chooseImporter({
        requested: "auto",
        storeDir: store,
        targetDir: target,
        libc,
        warn,
        cache,
      });
      assert.equal(importer.method, "copy");
      mkdirSync(target, { recursive: true });
      for (let i = 0; i < 300; i++) {
        const name = `f${String(i).padStart(5, "0")}`;
        const src = storeFile(store, `${name}${install}`, `content ${i}`, i % 10 === 0);
        importer.importFile(src, join(target, `${i}.js`));
        assert.equal(readFileSync(join(target, `${i}.js`), "utf8"), `content ${i}`);
        assert.equal(statSync(join(target, `${i}.js`)).mode & 0o777, i % 10 === 0 ? 0o555 : 0o444);
      }
      assert.equal(importer.method, "copy");
    }
    assert.equal(messages.length, 1, messages.join("\n"));
    assert.match(messages[0], /different filesystems/);
    assert.match(messages[0], /SILO_STORE_DIR/);
    assert.ok(messages[0].includes(store));
    assert.equal(cache.probes, 2, "clone and hardlink probed once for the filesystem pair");
  } finally {
    removeDirs(xfs, plain);
  }
});

test("probing leaves nothing behind in the store tmp dir or the target", async () => {
  const dir = await xfsTempDir();
  try {
    const store = join(dir, "store");
    chooseImporter({ requested: "auto", storeDir: store, targetDir: dir, libc, warn: () => {} });
    assert.deepEqual(readdirSync(join(store, "v1", "tmp")), []);
    assert.deepEqual(readdirSync(dir), ["store"]);
  } finally {
    removeDirs(dir);
  }
});

test("a target dir that does not exist yet is probed through its nearest ancestor, not created", async () => {
  const dir = await plainTempDir();
  try {
    const target = join(dir, "proj", "node_modules");
    const importer = chooseImporter({
      requested: "auto",
      storeDir: join(dir, "store"),
      targetDir: target,
      libc,
      warn: () => {},
    });
    assert.equal(importer.method, "hardlink");
    assert.equal(existsSync(join(dir, "proj")), false);
  } finally {
    removeDirs(dir);
  }
});

test("explicit clone on ext4 fails clearly", async () => {
  const dir = await plainTempDir();
  try {
    const store = join(dir, "store");
    const err = thrown(() =>
      chooseImporter({ requested: "clone", storeDir: store, targetDir: dir, libc, warn: () => {} })
    );
    assert.equal(err.method, "clone");
    assert.equal(err.code, "EOPNOTSUPP");
    assert.ok(err.message.includes(store) && err.message.includes(dir), err.message);
    assert.match(err.message, /does not support reflinks/);
  } finally {
    removeDirs(dir);
  }
});

test("explicit clone without libc fails clearly", async () => {
  const dir = await xfsTempDir();
  try {
    assert.throws(
      () => chooseImporter({ requested: "clone", storeDir: dir, targetDir: dir, libc: null, warn: () => {} }),
      /clone was requested .* libc could not be loaded/,
    );
  } finally {
    removeDirs(dir);
  }
});

test("explicit hardlink across filesystems fails clearly (EXDEV)", async () => {
  const [xfs, plain] = [await xfsTempDir(), await plainTempDir()];
  try {
    const err = thrown(() =>
      chooseImporter({ requested: "hardlink", storeDir: xfs, targetDir: plain, libc, warn: () => {} })
    );
    assert.equal(err.method, "hardlink");
    assert.equal(err.code, "EXDEV");
    assert.match(err.message, /different filesystems.*SILO_STORE_DIR/);
  } finally {
    removeDirs(xfs, plain);
  }
});

test("explicit methods wrap per-file errors with the method, paths and advice", async () => {
  const dir = await plainTempDir();
  try {
    const store = join(dir, "store");
    const src = storeFile(store, "abcdef", "x");
    for (const requested of ["hardlink", "copy"] as const) {
      const importer = chooseImporter({ requested, storeDir: store, targetDir: dir, libc, warn: () => {} });
      importer.importFile(src, join(dir, requested));
      const err = thrown(() => importer.importFile(src, join(dir, requested)));
      assert.equal(err.code, "EEXIST", requested);
      assert.equal(err.method, requested);
      assert.equal(err.dest, join(dir, requested));
      assert.match(err.message, /already exists/);
    }
    const importer = chooseImporter({
      requested: "copy",
      storeDir: store,
      targetDir: dir,
      libc,
      warn: () => {},
    });
    const err = thrown(() => importer.importFile(join(store, "missing"), join(dir, "m")));
    assert.equal(err.code, "ENOENT");
  } finally {
    removeDirs(dir);
  }
});

test("probeMethods reports what the store's filesystem supports", async () => {
  const [xfs, plain] = [await xfsTempDir(), await plainTempDir()];
  try {
    assert.deepEqual(probeMethods(xfs, libc), { clone: true, hardlink: true });
    assert.deepEqual(probeMethods(xfs, null), { clone: false, hardlink: true });
    assert.deepEqual(probeMethods(plain, libc), { clone: false, hardlink: true });
    assert.deepEqual(readdirSync(join(xfs, "v1", "tmp")), []);
  } finally {
    removeDirs(xfs, plain);
  }
});

test("auto: a full disk is an error that says so, not a silent switch to copying", async () => {
  const { mountTmpfs } = await import("../lifecycle/_support.ts");
  const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const root = mkdtempSync(join(tmpdir(), "silo-full-probe-"));
  const unmount = await mountTmpfs(root, "64k");
  try {
    const storeDir = join(root, "store"), targetDir = join(root, "project", "node_modules");
    mkdirSync(join(storeDir, "v1", "tmp"), { recursive: true });
    mkdirSync(targetDir, { recursive: true });
    try {
      writeFileSync(join(root, "filler"), new Uint8Array(1 << 20));
    } catch (error) {
      assert.equal((error as { code?: string }).code, "ENOSPC", "the filler fills the disk");
    }
    const { warn, messages } = collector();
    const err = thrown(() =>
      chooseImporter({ requested: "auto", storeDir, targetDir, libc, warn, cache: new ProbeCache() })
    );
    assert.equal(err.code, "ENOSPC");
    assert.match(err.message, /the disk is full/);
    assert.deepEqual(messages, [], "no copy warning");
  } finally {
    await unmount();
    rmSync(root, { recursive: true, force: true });
  }
});
