import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { LockfileError } from "../../src/lockfile/errors.ts";
import { parseDepPath, parsePnpmLockfile, pnpmDirName, refToDepPath } from "../../src/lockfile/pnpm.ts";
import { fixture } from "./_fixtures.ts";

const svelteText = fixture("svelte/pnpm-lock.yaml");
const svelte = parsePnpmLockfile(svelteText);
const raw = parse(svelteText) as {
  packages: Record<string, unknown>;
  snapshots: Record<string, { optional?: boolean } | null>;
};

const VITEST =
  "vitest@4.1.7(@types/node@20.19.17)(@vitest/coverage-v8@4.1.7)(jsdom@25.0.1)(vite@7.3.5(@types/node@20.19.17)(lightningcss@1.23.0)(sass@1.70.0)(terser@5.27.0))";

test("svelte: one node per snapshot, three importers, isolated layout", () => {
  assert.equal(Object.keys(raw.packages).length, 527);
  assert.equal(Object.keys(raw.snapshots).length, 529);
  assert.equal(svelte.packages.size, 529);
  assert.deepEqual(svelte.importers.map((i) => i.path), [".", "packages/svelte", "playgrounds/sandbox"]);
  assert.deepEqual(svelte.importers.map((i) => i.dependencies.length), [19, 33, 8]);
  assert.equal(svelte.layout, "isolated");
  assert.equal(svelte.source, "pnpm-lock.yaml");
  assert.deepEqual(svelte.warnings, []);
});

test("svelte: peer-suffixed ids on edges", () => {
  const root = svelte.importers[0];
  const vitest = root.dependencies.find((d) => d.alias === "vitest")!;
  assert.deepEqual(vitest.target, { kind: "package", id: VITEST });
  assert.equal(vitest.dev, true);
  const node = svelte.packages.get(VITEST)!;
  assert.equal(node.name, "vitest");
  assert.equal(node.version, "4.1.7");
  const vite = node.dependencies.find((d) => d.alias === "vite")!;
  assert.deepEqual(vite.target, {
    kind: "package",
    id: "vite@7.3.5(@types/node@20.19.17)(lightningcss@1.23.0)(sass@1.70.0)(terser@5.27.0)",
  });
  // Two instances of one package, told apart by their peers.
  assert.ok(svelte.packages.has("acorn-jsx@5.3.2(acorn@8.16.0)"));
  assert.ok(svelte.packages.has("acorn-jsx@5.3.2(acorn@8.17.0)"));
});

test("svelte: link: versions are link edges relative to the project root", () => {
  const [root, , sandbox] = svelte.importers;
  assert.deepEqual(root.dependencies.find((d) => d.alias === "svelte")!.target, {
    kind: "link",
    path: "packages/svelte",
  });
  // Written "link:../../packages/svelte" under playgrounds/sandbox.
  assert.deepEqual(sandbox.dependencies.find((d) => d.alias === "svelte")!.target, {
    kind: "link",
    path: "packages/svelte",
  });
  // Snapshots write links relative to the lockfile's folder.
  const plugin = svelte.packages.get("eslint-plugin-svelte@3.15.0(eslint@10.0.0)(svelte@packages+svelte)")!;
  assert.deepEqual(plugin.dependencies.find((d) => d.alias === "svelte")!.target, {
    kind: "link",
    path: "packages/svelte",
  });
});

test("svelte: optional flags match the lockfile, dev is computed by reachability", () => {
  for (const [id, snap] of Object.entries(raw.snapshots)) {
    assert.equal(svelte.packages.get(id)!.optional, snap?.optional === true, id);
  }
  assert.equal([...svelte.packages.values()].filter((n) => !n.dev).length, 22);
  assert.equal(svelte.packages.get("acorn@8.16.0")!.dev, false, "a dependency of packages/svelte");
  assert.equal(svelte.packages.get(VITEST)!.dev, true);
  assert.equal(svelte.packages.get("@esbuild/linux-x64@0.28.1")!.optional, true);
});

test("svelte: platform fields, hasBin and registry resolutions", () => {
  const linux = svelte.packages.get("@esbuild/linux-x64@0.28.1")!;
  assert.deepEqual([linux.os, linux.cpu], [["linux"], ["x64"]]);
  const esbuild = svelte.packages.get("esbuild@0.28.1")!;
  assert.equal(esbuild.hasBin, true);
  assert.equal(esbuild.dependencies.length, 26);
  assert.ok(esbuild.dependencies.every((d) => d.optional));
  assert.deepEqual(esbuild.resolution, {
    kind: "registry",
    integrity:
      "sha512-HrJrvZv5ayxBzPfwphOoNzkzOIIlifzk0KJrGK2c8R4+LKpMtpYLQeUdjnwjWv/LZlkH2laZk+4w78pi99D4Vw==",
  });
  assert.deepEqual(svelte.packages.get("fsevents@2.3.3")!.os, ["darwin"]);
});

test("pnpmDirName matches the folders pnpm created under node_modules/.pnpm", () => {
  const cases: [string, string][] = [
    ["acorn@8.16.0", "acorn@8.16.0"],
    ["@esbuild/linux-x64@0.28.1", "@esbuild+linux-x64@0.28.1"],
    ["@eslint/js@10.0.1(eslint@10.0.0)", "@eslint+js@10.0.1_eslint@10.0.0"],
    [
      "eslint-plugin-svelte@3.15.0(eslint@10.0.0)(svelte@packages+svelte)",
      "eslint-plugin-svelte@3.15.0_eslint@10.0.0_svelte@packages+svelte",
    ],
    [
      "vite-plugin-devtools-json@1.0.0(vite@7.3.5(@types/node@24.5.2)(lightningcss@1.23.0)(sass@1.70.0)(terser@5.27.0))",
      "vite-plugin-devtools-json@1.0.0_vite@7.3.5_@types+node@24.5.2_lightningcss@1.23.0_sass@1.70.0_terser@5.27.0_",
    ],
    [
      VITEST,
      "vitest@4.1.7_@types+node@20.19.17_@vitest+coverage-v8@4.1.7_jsdom@25.0.1_vite@7.3.5_@ty_d3871ac28b2b28351bb3b5ce2a0d9731",
    ],
    [
      "@sveltejs/eslint-config@9.0.0(@eslint/js@10.0.1(eslint@10.0.0))(@stylistic/eslint-plugin-js@1.8.0(eslint@10.0.0))(eslint-config-prettier@9.1.0(eslint@10.0.0))(eslint-plugin-n@17.24.0(eslint@10.0.0)(typescript@5.5.4))(eslint-plugin-svelte@3.15.0(eslint@10.0.0)(svelte@packages+svelte))(eslint@10.0.0)(typescript-eslint@8.56.0(eslint@10.0.0)(typescript@5.5.4))(typescript@5.5.4)",
      "@sveltejs+eslint-config@9.0.0_@eslint+js@10.0.1_eslint@10.0.0__@stylistic+eslint-plugin_d377f6856a25f78cd5ade91c53f3a698",
    ],
    // Uppercase names are hashed so they stay distinct on case-insensitive filesystems.
    ["JSONStream@1.3.5", "JSONStream@1.3.5_fb8f73c374dcf7070ffed90b688edabd"],
  ];
  for (const [depPath, dir] of cases) assert.equal(pnpmDirName(depPath), dir);
  // pnpm 9 shortened with an md5 in base32 (folders it made: JSONStream@1.3.5_r3os6ifnv5rfzwtsmjig3b325i).
  assert.equal(
    pnpmDirName("JSONStream@1.3.5", { hash: "md5-base32" }),
    "JSONStream@1.3.5_r3os6ifnv5rfzwtsmjig3b325i",
  );
  const long9 = pnpmDirName(VITEST, { hash: "md5-base32" });
  assert.equal(long9.length, 120);
  assert.match(long9, /^vitest@4\.1\.7_@types\+node@20\.19\.17_.{59}_[a-z2-7]{26}$/);
  // virtual-store-dir-max-length
  const short = pnpmDirName("@tanstack/react-query@5.59.0(react@18.3.1)", { maxLength: 40 });
  assert.match(short, /^@tansta_[0-9a-f]{32}$/);
  const names = [...svelte.packages.keys()].map((id) => pnpmDirName(id));
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.every((n) => n.length <= 120 && !n.includes("/")));
});

test("pnpmDirName names git and URL dependencies as pnpm 9, 10 and 12.21 did", () => {
  // Folders each pnpm made for these lockfile keys (git repos on file:// URLs, tarballs on loopback).
  const alpha = "alpha@git+file:///tmp/gitdeps/repos/alpha.git#3cc7e6625a5a50c3c2e7c6dfe62484a6456fc884";
  const mono =
    "mono-sub@git+file:///tmp/gitdeps/repos/mono.git#bcb15f35af24769d5b6ff58db74d8e349433ae9a&path:/packages/sub";
  const pnpm12 = { hashesAmbiguousUrls: true };
  assert.equal(
    pnpmDirName(alpha, pnpm12),
    "alpha@git+file++++tmp+gitdeps+repos+alpha.git+3cc7e6625a5a50c3c2e7c6dfe62484a6456fc884_e1718905e186b7ccf94332353d84e74d",
  );
  assert.equal(
    pnpmDirName(mono, pnpm12),
    "mono-sub@git+file++++tmp+gitdeps+repos+mono.git+bcb15f35af24769d5b6ff58db74d8e349433ae9_98d94b3543fc6cb9a536d5895da43fde",
  );
  assert.equal(
    pnpmDirName("is-number@http://127.0.0.1:4873/is-number/-/is-number-7.0.0.tgz", pnpm12),
    "is-number@http+++127.0.0.1+4873+is-number+-+is-number-7.0.0.tgz_6ad3f9680df39ff1612e4be8a9aa0795",
  );
  assert.equal(
    pnpmDirName("ms@http://127.0.0.1/ms/-/ms-2.1.3.tgz?x=1", pnpm12),
    "ms@http+++127.0.0.1+ms+-+ms-2.1.3.tgz+x=1_303d8ac37a48d4d0cd03cbd6726451a6",
  );
  // Nothing ambiguous past the scheme: no hash, in pnpm 12 either.
  assert.equal(
    pnpmDirName("is-number@http://127.0.0.1/is-number/-/is-number-7.0.0.tgz", pnpm12),
    "is-number@http+++127.0.0.1+is-number+-+is-number-7.0.0.tgz",
  );
  assert.equal(pnpmDirName("local@file:local", pnpm12), "local@file+local");
  // pnpm 10: `#` becomes `+`, no hash; pnpm 9 keeps `#`.
  assert.equal(
    pnpmDirName(mono),
    "mono-sub@git+file++++tmp+gitdeps+repos+mono.git+bcb15f35af24769d5b6ff58db74d8e349433ae9a&path++packages+sub",
  );
  assert.equal(
    pnpmDirName(alpha, { hash: "md5-base32" }),
    "alpha@git+file++++tmp+gitdeps+repos+alpha.git#3cc7e6625a5a50c3c2e7c6dfe62484a6456fc884",
  );
});

test("pnpm git dependencies: a repository, commit and subfolder; a host's archive (no integrity needed)", () => {
  const pnpm = parsePnpmLockfile(`lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      a:
        specifier: github:u/a
        version: https://codeload.github.com/u/a/tar.gz/0123abc
      b:
        specifier: git+https://example.com/b.git#path:/pkg
        version: git+https://example.com/b.git#0123abc&path:/pkg

packages:

  a@https://codeload.github.com/u/a/tar.gz/0123abc:
    resolution: {tarball: https://codeload.github.com/u/a/tar.gz/0123abc}
    version: 1.0.0

  b@git+https://example.com/b.git#0123abc&path:/pkg:
    resolution: {commit: 0123abc, path: /pkg, repo: https://example.com/b.git, type: git}
    version: 2.0.0

snapshots:

  a@https://codeload.github.com/u/a/tar.gz/0123abc: {}

  b@git+https://example.com/b.git#0123abc&path:/pkg: {}
`);
  assert.deepEqual(pnpm.packages.get("a@https://codeload.github.com/u/a/tar.gz/0123abc")!.resolution, {
    kind: "git",
    archive: "https://codeload.github.com/u/a/tar.gz/0123abc",
  });
  assert.deepEqual(pnpm.packages.get("b@git+https://example.com/b.git#0123abc&path:/pkg")!.resolution, {
    kind: "git",
    repo: "https://example.com/b.git",
    commit: "0123abc",
    path: "/pkg",
  });
});

test("parseDepPath and refToDepPath handle scopes, peers and aliases", () => {
  assert.deepEqual(parseDepPath("@s/a@1.0.0(b@2.0.0)(@t/c@3.0.0)"), {
    name: "@s/a",
    version: "1.0.0",
    suffix: "(b@2.0.0)(@t/c@3.0.0)",
  });
  assert.deepEqual(parseDepPath("a@https://x.test/a.tgz"), {
    name: "a",
    version: "https://x.test/a.tgz",
    suffix: "",
  });
  assert.equal(refToDepPath("b", "1.0.0(c@2.0.0)"), "b@1.0.0(c@2.0.0)");
  assert.equal(refToDepPath("b", "@s/real@1.0.0"), "@s/real@1.0.0");
  assert.equal(refToDepPath("b", "real@1.0.0(p@1.0.0)"), "real@1.0.0(p@1.0.0)");
  assert.equal(refToDepPath("b", "npm:real@1.0.0"), "real@1.0.0");
  assert.equal(refToDepPath("b", "file:../b"), "b@file:../b");
  assert.equal(refToDepPath("b", "link:../b"), null);
});

const SMALL = `lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      '@types/React':
        specifier: npm:@types/react@18.0.0
        version: '@types/react@18.0.0'
      other:
        specifier: npm:real@^1
        version: npm:real@1.0.0
      local:
        specifier: file:vendor/local
        version: file:vendor/local
      tgz:
        specifier: https://x.test/tgz-1.0.0.tgz
        version: https://x.test/tgz-1.0.0.tgz
      g:
        specifier: github:o/g
        version: https://codeload.github.com/o/g/tar.gz/abc
    optionalDependencies:
      '@s/opt':
        specifier: ^1
        version: 1.0.0(@types/react@18.0.0)

packages:

  '@types/react@18.0.0':
    resolution: {integrity: sha512-r}

  real@1.0.0:
    resolution: {integrity: sha512-real, tarball: https://npm.example.com/real/-/real-1.0.0.tgz}
    hasBin: true
    requiresBuild: true

  local@file:vendor/local:
    resolution: {directory: vendor/local, type: directory}
    name: local
    version: 0.1.0

  tgz@https://x.test/tgz-1.0.0.tgz:
    resolution: {tarball: https://x.test/tgz-1.0.0.tgz}
    version: 1.0.0

  g@https://codeload.github.com/o/g/tar.gz/abc:
    resolution: {type: git, repo: https://github.com/o/g.git, commit: abc}
    version: 2.0.0

  '@s/opt@1.0.0':
    resolution: {integrity: sha512-o}
    cpu: ['!x64']

snapshots:

  '@types/react@18.0.0': {}

  real@1.0.0:
    dependencies:
      '@types/React': '@types/react@18.0.0'

  local@file:vendor/local: {}

  tgz@https://x.test/tgz-1.0.0.tgz: {}

  g@https://codeload.github.com/o/g/tar.gz/abc: {}

  '@s/opt@1.0.0(@types/react@18.0.0)':
    optional: true
`;

test("small lockfile: aliases, scoped names and every resolution kind", () => {
  const g = parsePnpmLockfile(SMALL);
  const deps = Object.fromEntries(g.importers[0].dependencies.map((d) => [d.alias, d]));
  assert.deepEqual(deps["@types/React"].target, { kind: "package", id: "@types/react@18.0.0" });
  assert.deepEqual(deps.other.target, { kind: "package", id: "real@1.0.0" });
  assert.equal(deps["@s/opt"].optional, true);
  const node = (id: string) => g.packages.get(id)!;
  assert.deepEqual(node("real@1.0.0").resolution, {
    kind: "registry",
    tarball: "https://npm.example.com/real/-/real-1.0.0.tgz",
    integrity: "sha512-real",
  });
  assert.equal(node("real@1.0.0").hasInstallScript, true);
  assert.deepEqual(node("real@1.0.0").dependencies[0].target, { kind: "package", id: "@types/react@18.0.0" });
  assert.deepEqual(node("local@file:vendor/local").resolution, { kind: "directory", path: "vendor/local" });
  assert.equal(node("local@file:vendor/local").version, "0.1.0");
  assert.deepEqual(node("tgz@https://x.test/tgz-1.0.0.tgz").resolution, {
    kind: "tarball",
    url: "https://x.test/tgz-1.0.0.tgz",
  });
  assert.deepEqual(node("g@https://codeload.github.com/o/g/tar.gz/abc").resolution, {
    kind: "git",
    repo: "https://github.com/o/g.git",
    commit: "abc",
  });
  const opt = node("@s/opt@1.0.0(@types/react@18.0.0)");
  assert.deepEqual([opt.name, opt.version, opt.optional, opt.cpu], ["@s/opt", "1.0.0", true, ["!x64"]]);
  assert.deepEqual(g.warnings?.map((w) => [w.code, w.id]), [[
    "missing-integrity",
    "tgz@https://x.test/tgz-1.0.0.tgz",
  ]]);
  assert.equal(pnpmDirName("local@file:vendor/local"), "local@file+vendor+local");
});

test("rejects other pnpm lockfile versions", () => {
  for (const v of ["'6.0'", "'5.4'", "'10.0'"]) {
    assert.throws(
      () => parsePnpmLockfile(`lockfileVersion: ${v}\nimporters: {}\n`, "w/pnpm-lock.yaml"),
      (e) => {
        assert.ok(e instanceof LockfileError);
        assert.match(e.message, /^w\/pnpm-lock\.yaml: lockfileVersion/);
        assert.match(e.message, /pnpm-lock\.yaml v9/);
        return true;
      },
    );
  }
});

test("malformed YAML reports file, line and column", () => {
  const text = "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies: {a: 1\n\npackages: {}\n";
  assert.throws(() => parsePnpmLockfile(text, "pnpm-lock.yaml"), (e) => {
    assert.ok(e instanceof LockfileError);
    // The unclosed flow map opened on line 4 is detected where the next block starts.
    assert.deepEqual([e.line, e.column], [6, 1]);
    assert.match(
      e.message,
      /^pnpm-lock\.yaml:6:1: Flow map in block collection must be sufficiently indented/,
    );
    assert.match(e.message, /pnpm install --lockfile-only/);
    return true;
  });
  const dup = "lockfileVersion: '9.0'\nimporters: {}\nimporters: {}\n";
  assert.throws(() => parsePnpmLockfile(dup, "pnpm-lock.yaml"), /pnpm-lock\.yaml:3:1: /);
});

test("a leading env document (pnpm 10+) is skipped", () => {
  const text = "---\nlockfileVersion: '9.0'\nimporters:\n  .:\n    configDependencies: {}\n---\n" +
    SMALL;
  const g = parsePnpmLockfile(text);
  assert.equal(g.importers[0].dependencies.length, 6);
});
