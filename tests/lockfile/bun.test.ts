import process from "node:process";
import { test } from "node:test";
import assert from "node:assert/strict";
import { bunKeyLocation, keyNames, parseBunLockfile } from "../../src/lockfile/bun.ts";
import { LockfileError } from "../../src/lockfile/errors.ts";
import type { Graph } from "../../src/lockfile/graph.ts";
import { currentPlatform, selectPackages } from "../../src/lockfile/mod.ts";

// As bun 1.4.5 wrote it for a single project (trailing commas and all), integrity shortened.
const SINGLE = `{
  "lockfileVersion": 2,
  "configVersion": 1,
  "workspaces": {
    "": {
      "name": "single",
      "dependencies": {
        "debug": "2.6.9",
        "ms": "2.1.3",
      },
      "devDependencies": {
        "semver": "^7",
      },
      "optionalDependencies": {
        "fsevents": "^2.3.3",
      },
    },
  },
  "packages": {
    "debug": ["debug@2.6.9", "", { "dependencies": { "ms": "2.0.0" } }, "sha512-debug=="],

    "fsevents": ["fsevents@2.3.3", "", { "os": "darwin" }, "sha512-fsevents=="],

    "ms": ["ms@2.1.3", "", {}, "sha512-ms3=="],

    "semver": ["semver@7.8.6", "", { "bin": { "semver": "bin/semver.js" } }, "sha512-semver=="],

    "debug/ms": ["ms@2.0.0", "", {}, "sha512-ms0=="],
  }
}
`;

// A workspace (bun's keys under a workspace start with its package name, here a scoped one).
const WORKSPACE = `{
  "lockfileVersion": 1,
  "workspaces": {
    "": { "name": "ws", "dependencies": { "debug": "4.3.4" } },
    "packages/a": {
      "name": "@s/a",
      "version": "1.0.0",
      "dependencies": { "@s/b": "workspace:*", "debug": "2.6.9" },
    },
    "packages/b": { "name": "@s/b", "version": "1.0.0" },
  },
  "packages": {
    "@s/a": ["@s/a@workspace:packages/a"],
    "@s/b": ["@s/b@workspace:packages/b"],
    "debug": ["debug@4.3.4", "", { "dependencies": { "ms": "2.1.2" }, "peerDependencies": { "supports-color": "*" }, "optionalPeers": ["supports-color"] }, "sha512-d4=="],
    "ms": ["ms@2.1.2", "", {}, "sha512-ms2=="],
    "@s/a/debug": ["debug@2.6.9", "", { "dependencies": { "ms": "2.0.0" } }, "sha512-d2=="],
    "@s/a/debug/ms": ["ms@2.0.0", "", {}, "sha512-ms0=="],
  }
}`;

function edge(g: Graph, from: string, alias: string) {
  const deps = g.packages.get(from)?.dependencies ?? g.importers.find((i) => i.path === from)?.dependencies;
  return deps?.find((d) => d.alias === alias);
}

function lockOf(packages: Record<string, unknown>, rootDeps: Record<string, string> = {}): string {
  return JSON.stringify({
    lockfileVersion: 1,
    workspaces: { "": { name: "p", dependencies: rootDeps } },
    packages,
  });
}

test("keys are install paths: scoped names whole, a workspace's name leads into its folder", () => {
  assert.deepEqual(keyNames("@s/a/debug/@t/ms"), ["@s/a", "debug", "@t/ms"]);
  const ws = new Map([["@s/a", "packages/a"]]);
  assert.equal(bunKeyLocation("debug/ms", ws), "node_modules/debug/node_modules/ms");
  assert.equal(bunKeyLocation("@s/a/debug/ms", ws), "packages/a/node_modules/debug/node_modules/ms");
  assert.equal(bunKeyLocation("@s/a", ws), "node_modules/@s/a", "the workspace's own link");
  assert.equal(bunKeyLocation("x/@s/a", ws), "node_modules/x/node_modules/@s/a", "only the first name");
});

test("a single project: nested versions win over hoisted ones, edges carry dev and optional", () => {
  const g = parseBunLockfile(SINGLE);
  assert.equal(g.source, "bun.lock");
  assert.equal(g.layout, "hoisted");
  assert.deepEqual([...g.packages.keys()].sort(), [
    "node_modules/debug",
    "node_modules/debug/node_modules/ms",
    "node_modules/fsevents",
    "node_modules/ms",
    "node_modules/semver",
  ]);
  assert.deepEqual(edge(g, "node_modules/debug", "ms")?.target, {
    kind: "package",
    id: "node_modules/debug/node_modules/ms",
  });
  assert.equal(g.packages.get("node_modules/debug/node_modules/ms")!.version, "2.0.0");
  assert.deepEqual(g.packages.get("node_modules/ms")!.resolution, {
    kind: "registry",
    integrity: "sha512-ms3==",
  });
  assert.equal(edge(g, ".", "semver")?.dev, true);
  assert.equal(edge(g, ".", "fsevents")?.optional, true);
  assert.deepEqual(g.packages.get("node_modules/fsevents")!.os, ["darwin"]);
  assert.deepEqual(g.packages.get("node_modules/semver")!.bin, { semver: "bin/semver.js" });
  assert.deepEqual(g.importers[0].specifiers, {
    semver: "^7",
    debug: "2.6.9",
    ms: "2.1.3",
    fsevents: "^2.3.3",
  });
  assert.equal(g.recordedSettings?.bunConfigVersion, 1);
  assert.deepEqual(g.warnings, []);
});

test("a workspace: members are links, their own dependencies sit in their folder", () => {
  const g = parseBunLockfile(WORKSPACE);
  assert.deepEqual(g.importers.map((i) => i.path), [".", "packages/a", "packages/b"]);
  assert.deepEqual(edge(g, "packages/a", "@s/b")?.target, {
    kind: "link",
    path: "packages/b",
    id: "node_modules/@s/b",
  });
  assert.deepEqual(edge(g, "packages/a", "debug")?.target, {
    kind: "package",
    id: "packages/a/node_modules/debug",
  });
  assert.deepEqual(edge(g, "packages/a/node_modules/debug", "ms")?.target, {
    kind: "package",
    id: "packages/a/node_modules/debug/node_modules/ms",
  });
  assert.deepEqual(edge(g, ".", "debug")?.target, { kind: "package", id: "node_modules/debug" });
  assert.equal(edge(g, "node_modules/debug", "supports-color"), undefined, "an absent optional peer");
  assert.deepEqual(g.warnings, [], "an absent optional peer is no warning");
  assert.deepEqual(g.packages.get("node_modules/@s/a")!.resolution, {
    kind: "directory",
    path: "packages/a",
  });
});

test("every entry shape: alias, custom registry, tarballs, folders, links, git", () => {
  const g = parseBunLockfile(lockOf({
    "alias": ["ms@2.1.3", "", {}, "sha512-a=="],
    "mine": ["mine@1.0.0", "https://r.example/npm/mine/-/mine-1.0.0.tgz", {}, "sha512-m=="],
    "cdn": ["cdn@1.0.0", "https://cdn.example/cdn.tgz", {}, "sha512-c=="],
    "remote": [
      "remote@https://host.example/remote-1.0.0.tgz",
      { "dependencies": { "alias": "npm:ms@*" } },
      "sha512-r==",
    ],
    "local": ["local@./vendor/local-1.0.0.tgz", {}],
    "folder": ["folder@file:./vendor/folder", { "bin": "cli.js" }],
    "linked": ["linked@link:./linked", {}],
    "gh": ["gh@github:owner/repo#main", {}, "owner-repo-0123abc"],
    "@s/tool": ["@s/tool@1.0.0", "", { "bin": "tool.js", "hasInstallScript": true, "bundled": true }, ""],
  }));
  const node = (key: string) => g.packages.get(`node_modules/${key}`)!;
  assert.equal(node("alias").name, "ms", "the folder is the alias, the name the package's");
  assert.deepEqual(node("mine").resolution, {
    kind: "registry",
    tarball: "https://r.example/npm/mine/-/mine-1.0.0.tgz",
    integrity: "sha512-m==",
  });
  assert.deepEqual(node("cdn").resolution, {
    kind: "tarball",
    url: "https://cdn.example/cdn.tgz",
    integrity: "sha512-c==",
  });
  assert.deepEqual(node("remote").resolution, {
    kind: "tarball",
    url: "https://host.example/remote-1.0.0.tgz",
    integrity: "sha512-r==",
  });
  assert.deepEqual(edge(g, "node_modules/remote", "alias")?.target, {
    kind: "package",
    id: "node_modules/alias",
  }, "by folder name");
  assert.deepEqual(node("local").resolution, { kind: "tarball", url: "./vendor/local-1.0.0.tgz" });
  assert.deepEqual(node("folder").resolution, { kind: "directory", path: "vendor/folder", copy: true });
  assert.deepEqual(node("folder").bin, { folder: "cli.js" });
  assert.deepEqual(node("linked").resolution, { kind: "directory", path: "linked" });
  assert.deepEqual(node("gh").resolution, {
    kind: "git",
    repo: "github:owner/repo",
    commit: "owner-repo-0123abc",
  });
  assert.deepEqual(node("@s/tool").bin, { tool: "tool.js" }, "a string bin is named without the scope");
  assert.equal(node("@s/tool").hasInstallScript, true);
  assert.equal(node("@s/tool").bundled, true);
  assert.deepEqual(g.warnings, [], "a bundled package needs no integrity");
});

test("a registry package without integrity is reported; a dependency of the root that is missing is fatal", () => {
  const g = parseBunLockfile(lockOf({ "ms": ["ms@2.1.3", "", {}, ""] }, { ms: "^2", gone: "^1" }));
  assert.deepEqual(g.warnings?.map((w) => [w.code, w.id, !!w.fatal]), [
    ["missing-integrity", "node_modules/ms", false],
    ["unresolved", "the root project", true],
  ]);
});

test("bad files name the file, the line and what to do", () => {
  assert.throws(
    () => parseBunLockfile('{\n  "lockfileVersion": 1,\n  "workspaces": {} }}', "/p/bun.lock"),
    (e: unknown) =>
      e instanceof LockfileError && e.line === 3 && /bun\.lock:3:\d+: invalid JSON/.test(e.message),
  );
  assert.throws(
    () => parseBunLockfile('{"lockfileVersion": 9, "workspaces": {"": {}}}', "bun.lock"),
    /lockfileVersion 9 is not supported; silo reads .*bun\.lock v0-v3\. Run `bun install`/,
  );
  assert.throws(
    () => parseBunLockfile('{"lockfileVersion": 1, "packages": {}}', "bun.lock"),
    /no "workspaces" entry for the root project/,
  );
  assert.throws(
    () => parseBunLockfile(lockOf({ "ms": "ms@2.1.3" }), "bun.lock"),
    /packages\["ms"\] is not a \["name@version", \.\.\.\] entry/,
  );
});

test("a required package for another platform is skipped with what only it needs, as bun does", () => {
  const other = process.platform === "win32" ? "linux" : "win32";
  const g = parseBunLockfile(lockOf({
    "lib": ["lib@1.0.0", "", { "dependencies": { "native": "1.0.0" } }, "sha512-l=="],
    "native": ["native@1.0.0", "", { "os": other, "dependencies": { "helper": "1.0.0" } }, "sha512-n=="],
    "helper": ["helper@1.0.0", "", {}, "sha512-h=="],
  }, { lib: "1.0.0" }));
  const sel = selectPackages(g, { prod: false, platform: currentPlatform() });
  assert.deepEqual([...sel.install], ["node_modules/lib"]);
  assert.equal(sel.skipped.get("node_modules/native")?.reason, "platform");
  assert.equal(sel.skipped.get("node_modules/helper")?.reason, "only-via-skipped");
  assert.equal(sel.platformMismatch.size, 0);
});
