import { test } from "node:test";
import assert from "node:assert/strict";
import { parseNpmLockfile } from "../../src/lockfile/npm.ts";
import { parsePnpmLockfile, pnpmDirName } from "../../src/lockfile/pnpm.ts";
import { selectPackages, type SkipReason } from "../../src/lockfile/select.ts";
import { fixture, LINUX_X64 } from "./_fixtures.ts";

const mocha = parseNpmLockfile(fixture("mocha/package-lock.json"));
const svelte = parsePnpmLockfile(fixture("svelte/pnpm-lock.yaml"));

function count(reasons: Map<string, { reason: SkipReason }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { reason } of reasons.values()) out[reason] = (out[reason] ?? 0) + 1;
  return out;
}

test("mocha on linux-x64-glibc: the 639 packages `npm ci` installs", () => {
  const sel = selectPackages(mocha, { prod: false, platform: LINUX_X64 });
  assert.equal(sel.install.size, 639);
  assert.deepEqual(count(sel.skipped), { platform: 62, "only-via-skipped": 6 });
  assert.equal(sel.install.size + sel.skipped.size, mocha.packages.size);
  assert.ok(sel.install.has("node_modules/@rollup/rollup-linux-x64-gnu"));
  assert.deepEqual(sel.skipped.get("node_modules/@rollup/rollup-linux-x64-musl"), {
    reason: "platform",
    detail: "libc glibc not in [musl]",
  });
  assert.deepEqual(sel.skipped.get("node_modules/fsevents"), {
    reason: "platform",
    detail: "os linux not in [darwin]",
  });
  assert.ok(sel.install.has("node_modules/@test/esm-only-loader"));
  assert.deepEqual([...sel.importers], [".", "test/compiler-fixtures/esm-only-loader"]);
  assert.equal(sel.platformMismatch.size, 0);
});

test("mocha --prod: only what the 16 dependencies reach", () => {
  const sel = selectPackages(mocha, { prod: true, platform: LINUX_X64 });
  assert.equal(sel.install.size, 29);
  for (const id of sel.install) assert.equal(mocha.packages.get(id)!.dev, false, id);
  assert.equal(sel.skipped.get("node_modules/@test/esm-only-loader")?.reason, "dev");
  assert.equal(sel.skipped.get("node_modules/rollup")?.reason, "dev");
  assert.deepEqual([...sel.importers], ["."]);
});

test("mocha on darwin-arm64: fsevents in, linux binaries out", () => {
  const sel = selectPackages(mocha, { prod: false, platform: { os: "darwin", cpu: "arm64", libc: null } });
  assert.ok(sel.install.has("node_modules/fsevents"));
  assert.ok(sel.install.has("node_modules/@rollup/rollup-darwin-arm64"));
  assert.equal(sel.skipped.get("node_modules/@rollup/rollup-linux-x64-gnu")?.reason, "platform");
});

test("svelte on linux-x64-glibc: esbuild/rollup binaries for this platform only", () => {
  const sel = selectPackages(svelte, { prod: false, platform: LINUX_X64 });
  assert.ok(sel.install.has("@esbuild/linux-x64@0.28.1"));
  assert.ok(sel.install.has("@rollup/rollup-linux-x64-gnu@4.60.1"));
  assert.equal(sel.skipped.get("@esbuild/darwin-arm64@0.28.1")?.reason, "platform");
  assert.equal(sel.skipped.get("fsevents@2.3.3")?.reason, "platform");
  assert.deepEqual(count(sel.skipped), { platform: 105 });
  // pnpm installed 421 packages here. The three *-musl packages below have no `libc` in this
  // lockfile, so the graph cannot tell; the installer must re-check their package.json.
  const noLibc = [
    "@rollup/rollup-linux-x64-musl@4.60.1",
    "@rollup/rollup-linux-x64-musl@4.62.2",
    "lightningcss-linux-x64-musl@1.23.0",
  ];
  for (const id of noLibc) assert.ok(sel.install.has(id), id);
  assert.equal(sel.install.size, 421 + noLibc.length);
  for (const id of noLibc) assert.equal(svelte.packages.get(id)!.libc, undefined);
  assert.equal(pnpmDirName([...sel.install].find((id) => id.startsWith("vitest@"))!).length, 120);
});

test("svelte --prod: packages/svelte's dependencies, no dev tooling", () => {
  const sel = selectPackages(svelte, { prod: true, platform: LINUX_X64 });
  assert.equal(sel.install.size, 22);
  assert.ok(sel.install.has("acorn@8.16.0"));
  assert.equal(
    sel.skipped.get(
      "vitest@4.1.7(@types/node@20.19.17)(@vitest/coverage-v8@4.1.7)(jsdom@25.0.1)(vite@7.3.5(@types/node@20.19.17)(lightningcss@1.23.0)(sass@1.70.0)(terser@5.27.0))",
    )?.reason,
    "dev",
  );
  assert.deepEqual([...sel.importers], [".", "packages/svelte", "playgrounds/sandbox"]);
});

const lock = (packages: Record<string, unknown>) => JSON.stringify({ lockfileVersion: 3, packages });

test("a required package that does not fit the platform is installed and reported", () => {
  const g = parseNpmLockfile(lock({
    "": { dependencies: { mac: "1" } },
    "node_modules/mac": { version: "1.0.0", integrity: "sha512-m", os: ["darwin"] },
  }));
  const sel = selectPackages(g, { prod: false, platform: LINUX_X64 });
  assert.ok(sel.install.has("node_modules/mac"));
  assert.deepEqual([...sel.platformMismatch], [["node_modules/mac", "os linux not in [darwin]"]]);
});

test("npm drops an optional package's dependents up to the optional edge; pnpm does not", () => {
  const g = parseNpmLockfile(lock({
    "": { optionalDependencies: { wrapper: "1" }, dependencies: { solid: "1" } },
    "node_modules/wrapper": {
      version: "1.0.0",
      integrity: "sha512-w",
      optional: true,
      dependencies: { bin: "1", helper: "1" },
    },
    "node_modules/bin": { version: "1.0.0", integrity: "sha512-b", optional: true, os: ["darwin"] },
    "node_modules/helper": { version: "1.0.0", integrity: "sha512-h", optional: true },
    "node_modules/solid": { version: "1.0.0", integrity: "sha512-s", dependencies: { helper: "1" } },
    "node_modules/extra": { version: "1.0.0", integrity: "sha512-e", extraneous: true },
    "node_modules/solid/node_modules/inner": { version: "1.0.0", integrity: "sha512-i", inBundle: true },
  }));
  const sel = selectPackages(g, { prod: false, platform: LINUX_X64 });
  assert.equal(sel.skipped.get("node_modules/bin")?.reason, "platform");
  assert.equal(sel.skipped.get("node_modules/wrapper")?.reason, "depends-on-skipped");
  assert.equal(sel.skipped.get("node_modules/extra")?.reason, "unreachable");
  // helper is still needed by solid.
  assert.deepEqual([...sel.install].sort(), ["node_modules/helper", "node_modules/solid"]);

  const p = parsePnpmLockfile(`lockfileVersion: '9.0'
importers:
  .:
    optionalDependencies:
      wrapper: {specifier: '1', version: 1.0.0}
packages:
  wrapper@1.0.0: {resolution: {integrity: sha512-w}}
  bin@1.0.0: {resolution: {integrity: sha512-b}, os: [darwin]}
  only@1.0.0: {resolution: {integrity: sha512-o}}
snapshots:
  wrapper@1.0.0:
    dependencies: {bin: 1.0.0}
    optional: true
  bin@1.0.0:
    dependencies: {only: 1.0.0}
    optional: true
  only@1.0.0:
    optional: true
`);
  const ps = selectPackages(p, { prod: false, platform: LINUX_X64 });
  assert.deepEqual([...ps.install], ["wrapper@1.0.0"]);
  assert.equal(ps.skipped.get("bin@1.0.0")?.reason, "platform");
  assert.equal(ps.skipped.get("only@1.0.0")?.reason, "only-via-skipped");
});

test("bundled packages ship inside their parent's tarball", () => {
  const g = parseNpmLockfile(lock({
    "": { dependencies: { parent: "1" } },
    "node_modules/parent": { version: "1.0.0", integrity: "sha512-p", dependencies: { kid: "1" } },
    "node_modules/parent/node_modules/kid": { version: "1.0.0", inBundle: true },
  }));
  assert.deepEqual(g.warnings, [], "bundled packages need no integrity");
  const sel = selectPackages(g, { prod: false, platform: LINUX_X64 });
  assert.deepEqual([...sel.install], ["node_modules/parent"]);
  assert.equal(sel.skipped.get("node_modules/parent/node_modules/kid")?.reason, "bundled");
});

test("npm workspaces are linked into node_modules even when nothing depends on them", () => {
  const graph = parseNpmLockfile(JSON.stringify({
    lockfileVersion: 3,
    packages: {
      "": { name: "root", workspaces: ["packages/*"] },
      "node_modules/@ws/a": { resolved: "packages/a", link: true },
      "node_modules/@ws/b": { resolved: "packages/b", link: true },
      "packages/a": { name: "@ws/a", version: "1.0.0", dependencies: { "@ws/b": "*" } },
      "packages/b": { name: "@ws/b", version: "1.0.0" },
    },
  }));
  for (const prod of [false, true]) {
    const sel = selectPackages(graph, { prod, platform: LINUX_X64 });
    assert.ok(sel.install.has("node_modules/@ws/a"), `unreferenced workspace linked (prod: ${prod})`);
    assert.ok(sel.install.has("node_modules/@ws/b"));
  }
});

test("omitOptional: what only optional dependencies need is left out, with reason optional", () => {
  const all = selectPackages(mocha, { prod: false, platform: LINUX_X64 });
  const sel = selectPackages(mocha, { prod: false, omitOptional: true, platform: LINUX_X64 });
  assert.ok(all.install.has("node_modules/@rollup/rollup-linux-x64-gnu"));
  assert.equal(sel.skipped.get("node_modules/@rollup/rollup-linux-x64-gnu")?.reason, "optional");
  assert.ok(sel.install.size < all.install.size);
  for (const id of sel.install) {
    assert.ok(all.install.has(id), id);
    assert.equal(mocha.packages.get(id)!.optional, false, `${id} is needed without optional edges`);
  }
  assert.equal(sel.install.size + sel.skipped.size, mocha.packages.size);
  // pnpm graphs too: svelte's optional native builds go.
  const sv = selectPackages(svelte, { prod: false, omitOptional: true, platform: LINUX_X64 });
  const svAll = selectPackages(svelte, { prod: false, platform: LINUX_X64 });
  const optionalOnly = [...svAll.install].filter((id) => !sv.install.has(id));
  assert.ok(optionalOnly.length > 0 && optionalOnly.every((id) => svelte.packages.get(id)!.optional));
});

test("an optional package whose engines.node rules out this node is skipped, as npm and pnpm skip it", () => {
  const g = parseNpmLockfile(lock({
    "": { optionalDependencies: { frame: "1" }, dependencies: { tool: "1" } },
    "node_modules/frame": {
      version: "1.0.0",
      integrity: "sha512-f",
      optional: true,
      engines: { node: "^22.18.0 || >=24.11.0" },
      dependencies: { tokens: "1" },
    },
    "node_modules/tokens": { version: "1.0.0", integrity: "sha512-t", optional: true },
    "node_modules/tool": { version: "1.0.0", integrity: "sha512-o", engines: { node: ">=99" } },
    "node_modules/old": { version: "1.0.0", integrity: "sha512-x", engines: ["node >= 0.4"] },
  }));
  const on = (nodeVersion: string | undefined) =>
    selectPackages(g, { prod: false, platform: { ...LINUX_X64, nodeVersion: () => nodeVersion } });
  const node20 = on("20.20.2");
  assert.deepEqual(node20.skipped.get("node_modules/frame"), {
    reason: "platform",
    detail: "engine node ^22.18.0 || >=24.11.0 (node is 20.20.2)",
  });
  assert.equal(node20.skipped.get("node_modules/tokens")?.reason, "only-via-skipped");
  assert.ok(
    node20.install.has("node_modules/tool"),
    "a required package is installed whatever its engines say",
  );
  assert.equal(node20.platformMismatch.size, 0);
  assert.ok(on("24.11.0").install.has("node_modules/frame"));
  assert.ok(
    on("24.12.0-pre").install.has("node_modules/frame"),
    "prereleases count, as in npm-install-checks",
  );
  assert.ok(on(undefined).install.has("node_modules/frame"), "no node to ask: engines rule nothing out");

  const p = parsePnpmLockfile(`lockfileVersion: '9.0'
importers:
  .:
    optionalDependencies:
      frame: {specifier: '1', version: 1.0.0}
packages:
  frame@1.0.0: {resolution: {integrity: sha512-f}, engines: {node: '>=22'}}
snapshots:
  frame@1.0.0:
    optional: true
`);
  const ps = selectPackages(p, { prod: false, platform: { ...LINUX_X64, nodeVersion: () => "20.0.0" } });
  assert.deepEqual([...ps.install], []);
  assert.equal(ps.skipped.get("frame@1.0.0")?.reason, "platform");
});

test("npm: an entry marked extraneous is pruned even when an optional peer edge reaches it (npm ci prunes it)", () => {
  const entries = (extraneous: boolean) =>
    lock({
      "": { dependencies: { types: "7" } },
      "node_modules/types": {
        version: "7.40.0",
        integrity: "sha512-w",
        peerDependencies: { typescript: "^4.6.2" },
        peerDependenciesMeta: { typescript: { optional: true } },
      },
      "node_modules/typescript": {
        version: "4.9.5",
        integrity: "sha512-t",
        bin: { tsc: "bin/tsc" },
        ...(extraneous ? { extraneous: true } : {}),
      },
    });
  const pruned = selectPackages(parseNpmLockfile(entries(true)), { prod: false, platform: LINUX_X64 });
  assert.deepEqual([...pruned.install], ["node_modules/types"]);
  assert.equal(pruned.skipped.get("node_modules/typescript")?.reason, "only-via-skipped");
  const kept = selectPackages(parseNpmLockfile(entries(false)), { prod: false, platform: LINUX_X64 });
  assert.ok(kept.install.has("node_modules/typescript"), "without the flag the peer's target is installed");
});
