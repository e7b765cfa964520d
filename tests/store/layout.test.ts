import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { defaultStoreDir, StoreDirError, StoreLayout } from "../../src/store/layout.ts";

test("defaultStoreDir: SILO_STORE_DIR, else the cache dir; empty or relative variables count as unset", () => {
  assert.equal(defaultStoreDir({ SILO_STORE_DIR: "/s", HOME: "/h" }, "linux"), "/s");
  assert.equal(defaultStoreDir({ XDG_CACHE_HOME: "/c", HOME: "/h" }, "linux"), path.join("/c", "silo"));
  // An empty XDG_CACHE_HOME once made a store named `silo` in whatever folder silo ran in.
  for (const xdg of ["", "relative/cache"]) {
    assert.equal(
      defaultStoreDir({ XDG_CACHE_HOME: xdg, HOME: "/h" }, "linux"),
      path.join("/h", ".cache", "silo"),
    );
  }
  assert.equal(defaultStoreDir({ HOME: "/h" }, "darwin"), path.join("/h", "Library", "Caches", "silo"));
  assert.ok(path.isAbsolute(defaultStoreDir({ HOME: "" }, "linux")), "an empty HOME falls back to the OS's");
});

test("a store path that cannot be a folder gets an error that names it and says what to do", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "silo-layout-"));
  try {
    const file = path.join(dir, "a-file");
    fs.writeFileSync(file, "");
    for (const root of [file, path.join(file, "below")]) {
      assert.throws(() => new StoreLayout(root).ensure(), (e: Error) =>
        e instanceof StoreDirError &&
        e.message.startsWith(`cannot use ${root} as the store: it, or a folder above it, is a file.`) &&
        /Pass --store DIR \(or set SILO_STORE_DIR\)/.test(e.message));
    }
    new StoreLayout(path.join(dir, "store")).ensure(); // a writable folder is fine
    assert.ok(fs.statSync(path.join(dir, "store", "v1", "files", "ff")).isDirectory());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
