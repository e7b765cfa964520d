import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { defaultStoreDir } from "../../src/store/layout.ts";

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
