import { test } from "node:test";
import assert from "node:assert/strict";
import { LockfileError } from "../../src/lockfile/errors.ts";
import type { Graph } from "../../src/lockfile/graph.ts";
import { parseNpmLockfile, resolveKey } from "../../src/lockfile/npm.ts";
import { fixture } from "./_fixtures.ts";

const mochaText = fixture("mocha/package-lock.json");
const mocha = parseNpmLockfile(mochaText);

/** Build a v3 lockfile from its `packages` map. */
function lock(packages: Record<string, unknown>, version: unknown = 3): string {
  return JSON.stringify({ name: "p", lockfileVersion: version, requires: true, packages }, null, 2);
}

function edge(g: Graph, from: string, alias: string) {
  const deps = from === "." || !g.packages.has(from)
    ? g.importers.find((i) => i.path === from)?.dependencies
    : g.packages.get(from)!.dependencies;
  return deps?.find((d) => d.alias === alias);
}

test("mocha: every node_modules entry is a package, the others are importers", () => {
  const entries = Object.keys(JSON.parse(mochaText).packages);
  assert.equal(entries.length, 709);
  assert.equal(mocha.packages.size, 707);
  assert.deepEqual(mocha.importers.map((i) => i.path), [".", "test/compiler-fixtures/esm-only-loader"]);
  assert.equal(mocha.source, "package-lock.json");
  assert.equal(mocha.layout, "hoisted");
  for (const node of mocha.packages.values()) assert.equal(node.location, node.id);
  assert.deepEqual(mocha.warnings, []);
});

test("mocha: root importer has 16 prod and 37 dev edges, all resolved to node_modules/<name>", () => {
  const root = mocha.importers[0];
  assert.equal(root.dependencies.filter((d) => !d.dev).length, 16);
  assert.equal(root.dependencies.filter((d) => d.dev).length, 37);
  assert.deepEqual(edge(mocha, ".", "debug")?.target, { kind: "package", id: "node_modules/debug" });
  assert.equal(edge(mocha, ".", "debug")?.dev, false);
  assert.equal(edge(mocha, ".", "rollup")?.dev, true);
});

test("mocha: the file: dependency is a link edge and a directory node with a location", () => {
  const dep = edge(mocha, ".", "@test/esm-only-loader")!;
  assert.deepEqual(dep.target, {
    kind: "link",
    path: "test/compiler-fixtures/esm-only-loader",
    id: "node_modules/@test/esm-only-loader",
  });
  assert.equal(dep.dev, true);
  const node = mocha.packages.get("node_modules/@test/esm-only-loader")!;
  assert.deepEqual(node.resolution, { kind: "directory", path: "test/compiler-fixtures/esm-only-loader" });
  assert.equal(node.name, "@test/esm-only-loader");
  assert.equal(node.location, "node_modules/@test/esm-only-loader");
  assert.equal(node.dev, true, "flags come from the folder entry the link points at");
  const target = mocha.importers.find((i) => i.path === "test/compiler-fixtures/esm-only-loader")!;
  assert.equal(target.linkedOnly, true);
});

test("mocha: nested node_modules win over hoisted copies", () => {
  assert.deepEqual(edge(mocha, "node_modules/@babel/core", "semver")?.target, {
    kind: "package",
    id: "node_modules/@babel/core/node_modules/semver",
  });
  assert.deepEqual(edge(mocha, "node_modules/@isaacs/cliui", "string-width")?.target, {
    kind: "package",
    id: "node_modules/@isaacs/cliui/node_modules/string-width",
  });
  // glob has no nested minimatch: it resolves up to the root copy.
  assert.deepEqual(edge(mocha, "node_modules/glob", "minimatch")?.target, {
    kind: "package",
    id: "node_modules/minimatch",
  });
});

test("mocha: aliased folders keep the real package name", () => {
  const node = mocha.packages.get("node_modules/string-width-cjs")!;
  assert.equal(node.name, "string-width");
  assert.deepEqual(edge(mocha, "node_modules/@isaacs/cliui", "string-width-cjs")?.target, {
    kind: "package",
    id: "node_modules/string-width-cjs",
  });
});

test("mocha: bin maps, install scripts, platform fields and flags are copied", () => {
  const yaml = mocha.packages.get("node_modules/js-yaml")!;
  assert.deepEqual(yaml.bin, { "js-yaml": "bin/js-yaml.mjs" });
  assert.equal(yaml.hasBin, true);
  assert.deepEqual(yaml.resolution, {
    kind: "registry",
    integrity:
      "sha512-zfLtNfQqxVqq3uaTqSkh4x4hZw3KHobGUA0fJUj4wawW8bsQLTVqpHdXSIzidh7o+4lEW36tANuAGdaFx6Zgnw==",
  });
  assert.equal(yaml.dev, false);
  const fsevents = mocha.packages.get("node_modules/fsevents")!;
  assert.deepEqual(fsevents.os, ["darwin"]);
  assert.equal(fsevents.hasInstallScript, true);
  assert.equal(fsevents.dev, true);
  assert.equal(fsevents.optional, true);
  const musl = mocha.packages.get("node_modules/@rollup/rollup-linux-x64-musl")!;
  assert.deepEqual([musl.os, musl.cpu, musl.libc], [["linux"], ["x64"], ["musl"]]);
  const withBins = [...mocha.packages.values()].filter((n) => n.bin).length;
  assert.equal(withBins, 51, "52 entries carry bin, one of them the root package");
});

test("rejects lockfile v1 and unknown versions with what to do", () => {
  for (const v of [1, 4, undefined]) {
    assert.throws(
      () => parseNpmLockfile(JSON.stringify({ lockfileVersion: v, dependencies: {} }), "x/package-lock.json"),
      (e) => {
        assert.ok(e instanceof LockfileError);
        assert.match(e.message, /^x\/package-lock\.json: lockfileVersion/);
        assert.match(e.message, /package-lock\.json v2\/v3, pnpm-lock\.yaml v9 and bun\.lock v0-v3/);
        assert.match(e.message, /npm install --package-lock-only/);
        return true;
      },
    );
  }
});

test("malformed JSON reports file, line and column", () => {
  const text = '{\n  "lockfileVersion": 3,\n  "packages": {\n    "": {},\n  }\n}\n';
  assert.throws(() => parseNpmLockfile(text, "package-lock.json"), (e) => {
    assert.ok(e instanceof LockfileError);
    assert.equal(e.line, 5);
    assert.equal(e.column, 3);
    assert.match(e.message, /^package-lock\.json:5:3: expected a string key, found '}'/);
    assert.match(e.message, /regenerate it with `npm install --package-lock-only`/);
    return true;
  });
  assert.throws(
    () => parseNpmLockfile('{"lockfileVersion": 3, "packages": {"": {"name": "a}}}', "l.json"),
    /l\.json:1:/,
  );
});

test("resolved: absent, registry URL, foreign URL, file: tarball, git", () => {
  const g = parseNpmLockfile(lock({
    "": { dependencies: { a: "1", "@s/b": "1", c: "1", d: "1", e: "1" } },
    "node_modules/a": { version: "1.0.0", integrity: "sha512-a" },
    "node_modules/@s/b": {
      version: "2.0.0",
      resolved: "https://registry.example.com/@s/b/-/b-2.0.0.tgz",
      integrity: "sha512-b",
    },
    "node_modules/c": { version: "1.0.0", resolved: "https://cdn.example.com/c.tgz", integrity: "sha512-c" },
    "node_modules/d": { version: "1.0.0", resolved: "file:vendor/d-1.0.0.tgz", integrity: "sha512-d" },
    "node_modules/e": { version: "1.0.0", resolved: "git+ssh://git@github.com/x/e.git#abc123" },
  }));
  const r = (id: string) => g.packages.get(id)!.resolution;
  assert.deepEqual(r("node_modules/a"), { kind: "registry", integrity: "sha512-a" });
  assert.deepEqual(r("node_modules/@s/b"), {
    kind: "registry",
    tarball: "https://registry.example.com/@s/b/-/b-2.0.0.tgz",
    integrity: "sha512-b",
  });
  assert.equal(g.packages.get("node_modules/@s/b")!.name, "@s/b");
  assert.deepEqual(r("node_modules/c"), {
    kind: "tarball",
    url: "https://cdn.example.com/c.tgz",
    integrity: "sha512-c",
  });
  assert.deepEqual(r("node_modules/d"), {
    kind: "tarball",
    url: "vendor/d-1.0.0.tgz",
    integrity: "sha512-d",
  });
  assert.deepEqual(r("node_modules/e"), {
    kind: "git",
    repo: "git+ssh://git@github.com/x/e.git",
    commit: "abc123",
  });
});

test("v2 is read; missing integrity is kept in the graph and recorded as a warning", () => {
  const g = parseNpmLockfile(
    lock({ "": { dependencies: { a: "1" } }, "node_modules/a": { version: "1.0.0" } }, 2),
  );
  assert.deepEqual(g.packages.get("node_modules/a")!.resolution, { kind: "registry" });
  assert.equal(g.warnings?.length, 1);
  assert.equal(g.warnings?.[0].code, "missing-integrity");
  assert.equal(g.warnings?.[0].id, "node_modules/a");
});

test("node resolution walks up, skipping node_modules folders themselves", () => {
  const keys = new Set([
    "node_modules/a",
    "node_modules/a/node_modules/b",
    "node_modules/c",
    "node_modules/a/node_modules/c",
  ]);
  assert.equal(resolveKey(keys, "node_modules/a/node_modules/b", "c"), "node_modules/a/node_modules/c");
  assert.equal(resolveKey(keys, "node_modules/a/node_modules/b", "a"), "node_modules/a");
  assert.equal(resolveKey(keys, "node_modules/c", "b"), undefined);
  assert.equal(resolveKey(keys, "", "c"), "node_modules/c");
  const deep = new Set(["node_modules/@s/x/node_modules/y", "node_modules/y"]);
  assert.equal(resolveKey(deep, "node_modules/@s/x/node_modules/z", "y"), "node_modules/@s/x/node_modules/y");
});

test("workspaces: source entries are importers, their links are directory nodes", () => {
  const g = parseNpmLockfile(lock({
    "": { workspaces: ["packages/*"], dependencies: { left: "1" } },
    "packages/a": {
      name: "a",
      version: "1.0.0",
      dependencies: { left: "^2" },
      devDependencies: { right: "1" },
    },
    "packages/a/node_modules/left": { version: "2.0.0", integrity: "sha512-l2", bin: "cli.js" },
    "node_modules/a": { resolved: "packages/a", link: true },
    "node_modules/left": { version: "1.0.0", integrity: "sha512-l1", dependencies: { a: "*" } },
    "node_modules/right": { version: "1.0.0", integrity: "sha512-r", dev: true },
  }));
  assert.deepEqual(g.importers.map((i) => [i.path, i.linkedOnly]), [[".", undefined], [
    "packages/a",
    undefined,
  ]]);
  const ws = g.importers[1];
  assert.deepEqual(ws.dependencies.map((d) => [d.alias, d.target, d.dev]), [
    ["left", { kind: "package", id: "packages/a/node_modules/left" }, false],
    ["right", { kind: "package", id: "node_modules/right" }, true],
  ]);
  assert.deepEqual(g.packages.get("node_modules/a")!.resolution, { kind: "directory", path: "packages/a" });
  assert.equal(g.packages.get("node_modules/a")!.version, "1.0.0");
  assert.deepEqual(edge(g, "node_modules/left", "a")?.target, {
    kind: "link",
    path: "packages/a",
    id: "node_modules/a",
  });
  // A string bin is named after the package.
  assert.deepEqual(g.packages.get("packages/a/node_modules/left")!.bin, { left: "cli.js" });
});

test("dependency kinds: dev beats optional and prod, optional beats prod (npm's load order), optional peers may be absent", () => {
  const g = parseNpmLockfile(lock({
    "": {
      dependencies: { a: "1", b: "1", c: "1" },
      devDependencies: { a: "1", c: "1" },
      optionalDependencies: { b: "1", c: "1" },
    },
    "node_modules/c": { version: "1.0.0", integrity: "sha512-c", dev: true },
    "node_modules/a": {
      version: "1.0.0",
      integrity: "sha512-a",
      peerDependencies: { b: "1", gone: "1", missing: "1" },
      peerDependenciesMeta: { gone: { optional: true } },
    },
    "node_modules/b": { version: "1.0.0", integrity: "sha512-b", devOptional: true },
  }));
  // npm ci --omit dev leaves out a package listed in both dependencies and devDependencies.
  assert.deepEqual(edge(g, ".", "a")?.dev, true);
  assert.deepEqual(edge(g, ".", "b")?.optional, true);
  assert.deepEqual([edge(g, ".", "c")?.dev, edge(g, ".", "c")?.optional], [true, false]);
  const peers = g.packages.get("node_modules/a")!.dependencies;
  assert.deepEqual(peers.map((d) => d.alias), ["b"]);
  const b = g.packages.get("node_modules/b")!;
  assert.deepEqual([b.dev, b.optional], [false, false], "devOptional maps to neither flag");
  assert.deepEqual(g.warnings?.map((w) => [w.code, w.id]), [["unresolved", "node_modules/a"]]);
  assert.match(g.warnings![0].message, /depends on missing/);
});
