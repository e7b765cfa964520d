import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { LockfileError, readAllowedScripts, readLockfile } from "../../src/lockfile/mod.ts";
import { scriptsAllowed } from "../../src/lockfile/scripts.ts";
import { FIXTURES, tempProject } from "./_fixtures.ts";

const V3 = JSON.stringify({
  lockfileVersion: 3,
  packages: {
    "": { dependencies: { a: "1" } },
    "node_modules/a": { version: "1.0.0", integrity: "sha512-a" },
  },
});

test("readLockfile: the mocha fixture (package-lock.json)", async () => {
  const g = await readLockfile(join(FIXTURES, "mocha"));
  assert.equal(g.source, "package-lock.json");
  assert.equal(g.file, join(FIXTURES, "mocha", "package-lock.json"));
  assert.equal(g.packages.size, 707);
  assert.deepEqual(g.allowedScripts, []);
});

test("readLockfile: the svelte fixture (pnpm-lock.yaml)", async () => {
  const g = await readLockfile(join(FIXTURES, "svelte"));
  assert.equal(g.source, "pnpm-lock.yaml");
  assert.equal(g.packages.size, 529);
  assert.equal(g.importers.length, 3);
});

test("readLockfile: npm-shrinkwrap.json wins over package-lock.json", async () => {
  const shrink = V3.replace('"a"', '"b"').replace("node_modules/a", "node_modules/b");
  const p = tempProject({ "npm-shrinkwrap.json": shrink, "package-lock.json": V3 });
  try {
    const g = await readLockfile(p.dir);
    assert.ok(g.packages.has("node_modules/b"));
    assert.equal(g.file, join(p.dir, "npm-shrinkwrap.json"));
  } finally {
    p.cleanup();
  }
});

test("readLockfile: no lockfile names what was looked for", async () => {
  const p = tempProject({ "package.json": "{}" });
  try {
    await assert.rejects(readLockfile(p.dir), (e) => {
      assert.ok(e instanceof LockfileError);
      assert.match(
        e.message,
        /no lockfile found \(looked for npm-shrinkwrap\.json, package-lock\.json, pnpm-lock\.yaml, bun\.lock, yarn\.lock\)/,
      );
      assert.ok(e.message.startsWith(p.dir));
      return true;
    });
  } finally {
    p.cleanup();
  }
});

test("readLockfile: a malformed lockfile names its path, line and column", async () => {
  const p = tempProject({ "package-lock.json": '{\n  "lockfileVersion": 3,\n  "packages": [1 2]\n}' });
  try {
    await assert.rejects(readLockfile(p.dir), (e) => {
      assert.ok(e instanceof LockfileError);
      assert.equal(e.file, join(p.dir, "package-lock.json"));
      assert.deepEqual([e.line, e.column], [3, 18]);
      assert.match(e.message, /package-lock\.json:3:18: expected ',' or '\]', found '2'/);
      return true;
    });
  } finally {
    p.cleanup();
  }
});

test("allowedScripts: trustedDependencies, pnpm.onlyBuiltDependencies, workspace onlyBuiltDependencies and allowBuilds", async () => {
  const p = tempProject({
    "package-lock.json": V3,
    "package.json": JSON.stringify({
      trustedDependencies: ["esbuild"],
      pnpm: { onlyBuiltDependencies: ["sharp"] },
    }),
    "pnpm-workspace.yaml":
      "packages: ['packages/*']\nonlyBuiltDependencies:\n  - better-sqlite3\nallowBuilds:\n  core-js: false\n  '@swc/core': true\n",
  });
  try {
    assert.deepEqual(await readAllowedScripts(p.dir), ["@swc/core", "better-sqlite3", "esbuild", "sharp"]);
    assert.deepEqual((await readLockfile(p.dir)).allowedScripts, [
      "@swc/core",
      "better-sqlite3",
      "esbuild",
      "sharp",
    ]);
  } finally {
    p.cleanup();
  }
});

test("allowedScripts: npm's package.json allowScripts, by name or pinned to versions", async () => {
  const p = tempProject({
    "package-lock.json": V3,
    "package.json": JSON.stringify({
      allowScripts: { esbuild: true, "sharp@0.33.5": true, "canvas@2 || 3": true, "core-js": false },
    }),
  });
  try {
    const allowed = new Set(await readAllowedScripts(p.dir));
    assert.deepEqual([...allowed], ["canvas@2 || 3", "esbuild", "sharp@0.33.5"]);
    const cases: [string, string, boolean][] = [
      ["esbuild", "0.25.2", true],
      ["sharp", "0.33.5", true],
      ["sharp", "0.34.0", false],
      ["canvas", "3.1.0", true],
      ["canvas", "1.6.0", false],
      ["core-js", "3.40.0", false],
      ["esbuild-wasm", "0.25.2", false],
    ];
    for (const [name, version, ok] of cases) {
      assert.equal(scriptsAllowed(allowed, name, version), ok, `${name}@${version}`);
    }
  } finally {
    p.cleanup();
  }
});
