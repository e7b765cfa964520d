import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { Materializer, MissingStoreFileError } from "../../src/install/materialize.ts";
import type { ImportableRecord } from "../../src/install/materialize.ts";
import { copyImporter, hardlinkImporter } from "../../src/link/mod.ts";
import { loadLibc } from "../../src/runtime/libc.ts";
import type { DirCalls } from "../../src/runtime/types.ts";
import type { FileMap } from "../../src/store/index_db.ts";
import { StoreLayout } from "../../src/store/layout.ts";
import { filesPassFastPath } from "../../src/store/verifier.ts";
import { tempDir } from "../support/store.ts";

// Loaded once, outside any test, so Deno's resource sanitizer never sees the library handle.
const libc = await loadLibc();

/** libc's directory calls, counting what each is asked to do. */
function countingDirs(): { dirs: DirCalls; calls: Record<string, number> } {
  const real = libc?.dirs;
  assert.ok(real, "Linux libc has directory calls");
  const calls: Record<string, number> = { openDir: 0, mkdir: 0, link: 0, stat: 0, close: 0 };
  const dirs: DirCalls = {
    cwd: real.cwd,
    openDir: (fd, p) => (calls.openDir++, real.openDir(fd, p)),
    mkdir: (fd, p, mode) => (calls.mkdir++, real.mkdir(fd, p, mode)),
    link: (a, s, b, d) => (calls.link++, real.link(a, s, b, d)),
    stat: (fd, p) => (calls.stat++, real.stat(fd, p)),
    close: (fd) => (calls.close++, real.close(fd)),
  };
  return { dirs, calls };
}

/** A store holding `files` (path -> content; a `bin/` path is executable) and the row naming them. */
function storeWith(files: Record<string, string>) {
  const root = tempDir("silo-materialize-");
  const layout = new StoreLayout(path.join(root, "store"));
  layout.ensure();
  const map: FileMap = {};
  for (const [rel, content] of Object.entries(files)) {
    const digest = createHash("sha512").update(content).digest("hex");
    const exec = rel.startsWith("bin/");
    const at = layout.filePath(digest, exec);
    fs.writeFileSync(at, content, { mode: exec ? 0o555 : 0o444 });
    map[rel] = {
      digest,
      mode: exec ? 0o755 : 0o644,
      size: content.length,
      checkedAt: fs.statSync(at).mtimeMs,
    };
  }
  const record: ImportableRecord = { key: "k", name: "pkg", version: "1.0.0", files: map };
  return { root, layout, record, project: path.join(root, "project", "node_modules", "pkg") };
}

const FILES = {
  "package.json": '{"name":"pkg"}',
  "lib/index.js": "module.exports = 1;\n",
  "lib/deep/er.js": "deep\n",
  "bin/cli.js": "#!/usr/bin/env node\n",
  "stubs/.gitignore": "*.log\n",
};

test("with the store held open, hard links go by directory calls: the store's inodes, package.json last", () => {
  const { root, layout, record, project } = storeWith(FILES);
  const { dirs, calls } = countingDirs();
  try {
    const fsx = new Materializer(layout, hardlinkImporter(), "npm", dirs);
    let imported;
    {
      using _store = fsx.openStore();
      imported = fsx.importPackage(record, project);
    }
    assert.deepEqual(imported, { files: 5, last: "package.json" });
    assert.equal(calls.link, 5, "every file through linkat");
    assert.equal(calls.openDir, 2, "the store and the package folder");
    assert.equal(calls.close, 2, "both closed again");
    for (const [rel, entry] of Object.entries(record.files)) {
      const placed = rel === "stubs/.gitignore" ? "stubs/.npmignore" : rel; // npm's naming
      const st = fs.statSync(path.join(project, placed));
      const src = fs.statSync(layout.filePath(entry.digest, rel.startsWith("bin/")));
      assert.equal(st.ino, src.ino, `${placed} is the store's inode`);
    }
    assert.equal(fs.statSync(path.join(project, "bin", "cli.js")).mode & 0o777, 0o555);
    assert.ok(fs.statSync(path.join(project, "lib", "deep")).isDirectory());
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("what linkat cannot do falls to the general path: a stale file is replaced, a missing store file named", () => {
  const { root, layout, record, project } = storeWith(FILES);
  const { dirs, calls } = countingDirs();
  try {
    const fsx = new Materializer(layout, hardlinkImporter(), "packed", dirs);
    using _store = fsx.openStore();
    // A half-built folder from an interrupted install: a file of ours is already there.
    fs.mkdirSync(path.join(project, "lib"), { recursive: true });
    fs.writeFileSync(path.join(project, "lib", "index.js"), "stale");
    fsx.importPackage(record, project);
    assert.equal(fs.readFileSync(path.join(project, "lib", "index.js"), "utf8"), FILES["lib/index.js"]);
    assert.equal(calls.link, 5);

    const gone = record.files["lib/deep/er.js"];
    fs.rmSync(layout.filePath(gone.digest, false));
    assert.throws(
      () => fsx.importPackage(record, path.join(root, "again")),
      (e) =>
        e instanceof MissingStoreFileError && e.file === "lib/deep/er.js" && /pkg@1\.0\.0/.test(e.message),
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("without the store held open, or for copies, files go by absolute paths; the results are the same", () => {
  const { root, layout, record, project } = storeWith(FILES);
  const { dirs, calls } = countingDirs();
  try {
    const fsx = new Materializer(layout, hardlinkImporter(), "packed", dirs);
    assert.equal(fsx.storeStat, undefined, "nothing to stat through while the store is not held");
    fsx.importPackage(record, project);
    assert.equal(calls.link, 0);
    const entry = record.files["lib/index.js"];
    assert.equal(
      fs.statSync(path.join(project, "lib", "index.js")).ino,
      fs.statSync(layout.filePath(entry.digest, false)).ino,
    );

    const copies = path.join(root, "copies");
    using _store = fsx.openStore();
    fsx.importPackage(record, copies, copyImporter());
    assert.equal(calls.link, 0, "a copy never links");
    assert.notEqual(
      fs.statSync(path.join(copies, "lib", "index.js")).ino,
      fs.statSync(layout.filePath(entry.digest, false)).ino,
    );
    assert.equal(fs.readFileSync(path.join(copies, "lib", "index.js"), "utf8"), FILES["lib/index.js"]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("the verifier's fast path through the open store agrees with lstat by absolute path", () => {
  const { root, layout, record } = storeWith(FILES);
  const { dirs, calls } = countingDirs();
  try {
    const fsx = new Materializer(layout, hardlinkImporter(), "packed", dirs);
    using _store = fsx.openStore();
    const stat = fsx.storeStat;
    assert.ok(stat);
    assert.equal(filesPassFastPath(layout, record.files, stat), true);
    assert.equal(calls.stat, 5);
    assert.equal(filesPassFastPath(layout, record.files), true);
    // An edit through some project's hard link moves the mtime: both say "hash it".
    const entry = record.files["lib/index.js"];
    fs.utimesSync(layout.filePath(entry.digest, false), new Date(), new Date(Date.now() + 5000));
    assert.equal(filesPassFastPath(layout, record.files, stat), false);
    assert.equal(filesPassFastPath(layout, record.files), false);
    fs.rmSync(layout.filePath(entry.digest, false));
    assert.equal(filesPassFastPath(layout, record.files, stat), false, "a missing file fails too");
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
