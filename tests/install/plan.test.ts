import assert from "node:assert/strict";
import { test } from "node:test";
import {
  currentPlatform,
  parseNpmLockfile,
  parsePnpmLockfile,
  selectPackages,
} from "../../src/lockfile/mod.ts";
import { type IsolatedOptions, planHoisted, planIsolated } from "../../src/install/plan.ts";
import { DEFAULT_LAYOUT } from "../../src/install/pnpm_layout.ts";

test("hoisted plan: bundled packages are not placed, but their commands are linked inside the bundler", () => {
  const graph = parseNpmLockfile(JSON.stringify({
    lockfileVersion: 3,
    packages: {
      "": { name: "app", dependencies: { tool: "1.0.0" } },
      "node_modules/tool": {
        version: "1.0.0",
        integrity: "sha512-t",
        bundleDependencies: ["helper"],
        dependencies: { helper: "2.0.0" },
      },
      "node_modules/tool/node_modules/helper": {
        version: "2.0.0",
        inBundle: true,
        bin: { helper: "cli.js" },
      },
    },
  }));
  const selection = selectPackages(graph, { prod: false, platform: currentPlatform() });
  const plan = planHoisted(graph, selection);
  assert.deepEqual(
    plan.placements.map((p) => p.dir),
    ["node_modules/tool"],
    "only the bundler is fetched and placed",
  );
  assert.deepEqual(
    plan.bins.find((b) => b.pkgDir === "node_modules/tool/node_modules/helper"),
    { binDir: "node_modules/tool/node_modules/.bin", pkgDir: "node_modules/tool/node_modules/helper" },
  );
});

test("isolated plan: workspace folders are hoisted into .pnpm/node_modules without their commands", () => {
  const graph = parsePnpmLockfile(`lockfileVersion: '9.0'

importers:

  .: {}

  packages/app:
    dependencies:
      '@pws/ui':
        specifier: workspace:*
        version: link:../ui

  packages/ui:
    dependencies:
      clsx:
        specifier: ^2.1.0
        version: 2.1.1

packages:

  clsx@2.1.1:
    resolution: {integrity: sha512-x}

snapshots:

  clsx@2.1.1: {}
`);
  const selection = selectPackages(graph, { prod: false, platform: currentPlatform() });
  const plan = planIsolated(graph, selection, {
    importerNames: new Map([["packages/ui", "@pws/ui"], ["packages/app", "@pws/app"]]),
  });
  const hoisted = plan.links.filter((l) => l.path.startsWith("node_modules/.pnpm/node_modules/")).map((l) =>
    l.path
  );
  assert.ok(hoisted.includes("node_modules/.pnpm/node_modules/@pws/ui"), hoisted.join());
  assert.ok(hoisted.includes("node_modules/.pnpm/node_modules/clsx"));
  const hoistedBins = plan.bins.filter((b) => b.binDir === "node_modules/.pnpm/node_modules/.bin").map((b) =>
    b.pkgDir
  );
  assert.ok(!hoistedBins.includes("packages/ui"), "no commands for a hoisted workspace folder");
  assert.ok(hoistedBins.some((d) => d.includes("clsx@2.1.1")), "commands of hoisted packages are linked");
});

const HOISTING_LOCK = `lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      vitest:
        specifier: 2.0.0
        version: 2.0.0(vite@5.0.0)
      eslint-plugin-x:
        specifier: 1.0.0
        version: 1.0.0

packages:

  vitest@2.0.0:
    resolution: {integrity: sha512-v}
    peerDependencies:
      vite: '*'

  vite@5.0.0:
    resolution: {integrity: sha512-w}

  '@types/estree@1.0.0':
    resolution: {integrity: sha512-e}

  eslint-plugin-x@1.0.0:
    resolution: {integrity: sha512-x}

snapshots:

  vitest@2.0.0(vite@5.0.0):
    dependencies:
      vite: 5.0.0
      '@types/estree': 1.0.0

  vite@5.0.0: {}

  '@types/estree@1.0.0': {}

  eslint-plugin-x@1.0.0: {}
`;

test("isolated plan: public hoist patterns link into the root node_modules, the rest stay private", () => {
  const graph = parsePnpmLockfile(HOISTING_LOCK);
  const selection = selectPackages(graph, { prod: false, platform: currentPlatform() });
  const linksOf = (hoisting?: Partial<NonNullable<IsolatedOptions["layout"]>>) => {
    const plan = planIsolated(graph, selection, { layout: hoisting && { ...DEFAULT_LAYOUT, ...hoisting } });
    return {
      plan,
      paths: plan.links.map((l) => l.path).filter((p) => !p.startsWith("node_modules/.pnpm/v")),
    };
  };

  const defaults = linksOf(undefined).paths;
  assert.ok(defaults.includes("node_modules/.pnpm/node_modules/vite"));
  assert.ok(defaults.includes("node_modules/.pnpm/node_modules/@types/estree"));
  assert.ok(!defaults.includes("node_modules/vite"), "nothing public by default");

  const shameful = linksOf({ hoistPattern: ["*"], publicHoistPattern: ["*"], alwaysMakeHoistDir: true });
  assert.ok(shameful.paths.includes("node_modules/vite"));
  assert.ok(shameful.paths.includes("node_modules/@types/estree"));
  assert.ok(!shameful.paths.some((p) => p.startsWith("node_modules/.pnpm/node_modules/")));
  assert.deepEqual(
    shameful.plan.dirs,
    ["node_modules/.pnpm/node_modules"],
    "pnpm 11+ makes the folder anyway",
  );
  // vite's command in the root .bin comes from the hoisted vite first, then the peer rule (same folder here).
  const rootBins = shameful.plan.bins.filter((b) => b.binDir === "node_modules/.bin").map((b) => b.pkgDir);
  assert.ok(
    rootBins.indexOf("node_modules/.pnpm/vite@5.0.0/node_modules/vite") <
      rootBins.lastIndexOf("node_modules/.pnpm/vite@5.0.0/node_modules/vite"),
    "the hoisted package claims its commands before the peer of a direct dependency does",
  );

  const mixed = linksOf({
    hoistPattern: ["vi*"],
    publicHoistPattern: ["*types*", "!@types/react"],
    alwaysMakeHoistDir: false,
  });
  assert.ok(mixed.paths.includes("node_modules/@types/estree"));
  assert.ok(mixed.paths.includes("node_modules/.pnpm/node_modules/vite"));
  assert.equal(mixed.plan.dirs, undefined);

  const off = linksOf({ hoistPattern: [], publicHoistPattern: [], alwaysMakeHoistDir: true });
  assert.ok(
    !off.paths.some((p) => p.includes("node_modules/.pnpm/node_modules")),
    "hoist=false hoists nothing",
  );
  assert.equal(off.plan.dirs, undefined);
});

test("isolated plan: a package's own commands go into its node_modules/.bin only for pnpm 11 and later", () => {
  const graph = parsePnpmLockfile(HOISTING_LOCK);
  const selection = selectPackages(graph, { prod: false, platform: currentPlatform() });
  const own = (linksOwnBins: boolean) =>
    planIsolated(graph, selection, {
      layout: { ...DEFAULT_LAYOUT, linksOwnBins },
    }).bins.filter((b) => b.binDir === `${b.pkgDir}/node_modules/.bin`).map((b) => b.pkgDir);
  assert.ok(own(true).includes("node_modules/.pnpm/vite@5.0.0/node_modules/vite"));
  assert.deepEqual(own(false), []);
});

test("isolated plan: pnpm 10 links no peer commands and lets the root's dependencies hide a workspace name", () => {
  const graph = parsePnpmLockfile(`lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      ui:
        specifier: workspace:*
        version: link:packages/ui
      vitest:
        specifier: 2.0.0
        version: 2.0.0(vite@5.0.0)

  packages/ui: {}

packages:

  vitest@2.0.0:
    resolution: {integrity: sha512-v}
    peerDependencies:
      vite: '*'

  vite@5.0.0:
    resolution: {integrity: sha512-w}

snapshots:

  vitest@2.0.0(vite@5.0.0):
    dependencies:
      vite: 5.0.0

  vite@5.0.0: {}
`);
  const selection = selectPackages(graph, { prod: false, platform: currentPlatform() });
  const plan = (pnpm11: boolean) =>
    planIsolated(graph, selection, {
      importerNames: new Map([["packages/ui", "ui"]]),
      layout: { ...DEFAULT_LAYOUT, linksPeerBins: pnpm11, hoistsWorkspacesOverRootDeps: pnpm11 },
    });
  const peerBin = (p: ReturnType<typeof plan>) =>
    p.bins.some((b) => b.binDir === "node_modules/.bin" && b.pkgDir.endsWith("/node_modules/vite"));
  const hoistedUi = (p: ReturnType<typeof plan>) =>
    p.links.some((l) => l.path === "node_modules/.pnpm/node_modules/ui");
  assert.ok(peerBin(plan(true)) && hoistedUi(plan(true)));
  assert.ok(!peerBin(plan(false)) && !hoistedUi(plan(false)));
});

test("isolated plan: --prod and --no-optional leave out the importers' dev and optional edges, not the packages others need", () => {
  const graph = parsePnpmLockfile(`lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      debug:
        specifier: 4.3.7
        version: 4.3.7
    devDependencies:
      ms:
        specifier: 2.1.3
        version: 2.1.3
      cli:
        specifier: workspace:*
        version: link:packages/cli
    optionalDependencies:
      fsevents-like:
        specifier: 1.0.0
        version: 1.0.0

  packages/cli: {}

packages:

  debug@4.3.7:
    resolution: {integrity: sha512-d}

  ms@2.1.3:
    resolution: {integrity: sha512-m}

  fsevents-like@1.0.0:
    resolution: {integrity: sha512-f}

snapshots:

  debug@4.3.7:
    dependencies:
      ms: 2.1.3

  ms@2.1.3: {}

  fsevents-like@1.0.0:
    optional: true
`);
  const linksOf = (options: { prod: boolean; omitOptional?: boolean }) => {
    const selection = selectPackages(graph, { ...options, platform: currentPlatform() });
    const plan = planIsolated(graph, selection, { importerNames: new Map([["packages/cli", "cli"]]) });
    return new Set(plan.links.map((l) => l.path));
  };
  const all = linksOf({ prod: false });
  for (const name of ["debug", "ms", "cli", "fsevents-like"]) {
    assert.ok(all.has(`node_modules/${name}`), name);
  }
  assert.ok(!all.has("node_modules/.pnpm/node_modules/ms"), "the root's own ms hides the name from hoisting");

  const prod = linksOf({ prod: true });
  assert.ok(prod.has("node_modules/debug"));
  assert.ok(!prod.has("node_modules/ms"), "a devDependency gets no link under --prod");
  assert.ok(!prod.has("node_modules/cli"), "nor does a workspace devDependency");
  assert.ok(prod.has("node_modules/.pnpm/debug@4.3.7/node_modules/ms"), "debug still gets its ms");
  assert.ok(
    prod.has("node_modules/.pnpm/node_modules/ms"),
    "and ms is hoisted as any dependency's dependency",
  );

  const noOptional = linksOf({ prod: false, omitOptional: true });
  assert.ok(!noOptional.has("node_modules/fsevents-like"));
  assert.ok(noOptional.has("node_modules/ms") && noOptional.has("node_modules/debug"));
});

const WORKSPACE_NAMED_MS = `lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      debug:
        specifier: 4.3.7
        version: 4.3.7

  packages/ms: {}

packages:

  debug@4.3.7:
    resolution: {integrity: sha512-d}

  ms@2.1.3:
    resolution: {integrity: sha512-m}

snapshots:

  debug@4.3.7:
    dependencies:
      ms: 2.1.3

  ms@2.1.3: {}
`;

test("isolated plan: workspace packages are offered for hoisting before any dependency's dependencies", () => {
  // pnpm: .pnpm/node_modules/ms -> packages/ms, not debug's ms@2.1.3.
  const graph = parsePnpmLockfile(WORKSPACE_NAMED_MS);
  const selection = selectPackages(graph, { prod: false, platform: currentPlatform() });
  const plan = (layout: IsolatedOptions["layout"]) =>
    planIsolated(graph, selection, { importerNames: new Map([["packages/ms", "ms"]]), layout });
  const hoistedMs = (p: ReturnType<typeof plan>) =>
    p.links.filter((l) => l.path === "node_modules/.pnpm/node_modules/ms").map((l) => l.target);
  assert.deepEqual(hoistedMs(plan(DEFAULT_LAYOUT)), ["packages/ms"]);
  // hoist-workspace-packages=false: debug's ms takes the name.
  assert.deepEqual(hoistedMs(plan({ ...DEFAULT_LAYOUT, hoistWorkspacePackages: false })), [
    "node_modules/.pnpm/ms@2.1.3/node_modules/ms",
  ]);
});

test("isolated plan: pnpm 11+ makes the hoisting folder only once something is hoisted", () => {
  const graph = parsePnpmLockfile(`lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      ms:
        specifier: 2.1.3
        version: 2.1.3

packages:

  ms@2.1.3:
    resolution: {integrity: sha512-m}

snapshots:

  ms@2.1.3: {}
`);
  const selection = selectPackages(graph, { prod: false, platform: currentPlatform() });
  assert.equal(planIsolated(graph, selection).dirs, undefined, "nothing to hoist: no empty folder");
  const withDebug = parsePnpmLockfile(WORKSPACE_NAMED_MS);
  const all = selectPackages(withDebug, { prod: false, platform: currentPlatform() });
  // Everything hoisted publicly (shamefully-hoist): the private folder is still made, empty.
  const plan = planIsolated(withDebug, all, { layout: { ...DEFAULT_LAYOUT, publicHoistPattern: ["*"] } });
  assert.deepEqual(plan.dirs, ["node_modules/.pnpm/node_modules"]);
  assert.ok(plan.links.some((l) => l.path === "node_modules/ms"));
});

test("isolated plan: folder names follow the pnpm version's hash and virtual-store-dir-max-length", () => {
  const graph = parsePnpmLockfile(`lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      JSONStream:
        specifier: 1.3.5
        version: 1.3.5

packages:

  JSONStream@1.3.5:
    resolution: {integrity: sha512-j}

snapshots:

  JSONStream@1.3.5: {}
`);
  const selection = selectPackages(graph, { prod: false, platform: currentPlatform() });
  const dir = (layout: IsolatedOptions["layout"]) =>
    planIsolated(graph, selection, { layout }).placements[0].dir;
  assert.equal(
    dir({ ...DEFAULT_LAYOUT, folderHash: "md5-base32" }),
    "node_modules/.pnpm/JSONStream@1.3.5_r3os6ifnv5rfzwtsmjig3b325i/node_modules/JSONStream",
  );
  assert.equal(
    dir(DEFAULT_LAYOUT),
    "node_modules/.pnpm/JSONStream@1.3.5_fb8f73c374dcf7070ffed90b688edabd/node_modules/JSONStream",
  );
});

test("isolated plan: workspace commands: publicly hoisted ones reach the root .bin; a virtual-store package gets a link: dependency's only from pnpm 10 and older", () => {
  const graph = parsePnpmLockfile(`lockfileVersion: '9.0'

settings:
  autoInstallPeers: false

importers:

  .:
    dependencies:
      a:
        specifier: workspace:*
        version: file:packages/a

  packages/a:
    dependencies:
      b:
        specifier: workspace:*
        version: link:../b

  packages/b: {}

packages:

  a@file:packages/a:
    resolution: {directory: packages/a, type: directory}

snapshots:

  a@file:packages/a:
    dependencies:
      b: link:packages/b
`);
  assert.equal(graph.recordedSettings?.autoInstallPeers, false);
  const selection = selectPackages(graph, { prod: false, platform: currentPlatform() });
  const plan = (layout: IsolatedOptions["layout"]) =>
    planIsolated(graph, selection, {
      importerNames: new Map([["packages/a", "a"], ["packages/b", "b"]]),
      layout,
    });
  const binsOf = (p: ReturnType<typeof plan>, pkgDir: string) =>
    p.bins.filter((b) => b.pkgDir === pkgDir).map((b) => b.binDir);
  const injected = "node_modules/.pnpm/a@file+packages+a/node_modules/a/node_modules/.bin";
  assert.ok(
    !binsOf(plan(DEFAULT_LAYOUT), "packages/b").includes(injected),
    "pnpm 11+: none in the injected copy",
  );
  assert.ok(binsOf(plan({ ...DEFAULT_LAYOUT, binsOfLinkedDeps: true }), "packages/b").includes(injected));
  const shameful = plan({ ...DEFAULT_LAYOUT, publicHoistPattern: ["*"] });
  assert.ok(shameful.links.some((l) => l.path === "node_modules/b" && l.target === "packages/b"));
  assert.ok(binsOf(shameful, "packages/b").includes("node_modules/.bin"), "b's commands in the root .bin");
  assert.ok(!binsOf(plan(DEFAULT_LAYOUT), "packages/b").includes("node_modules/.pnpm/node_modules/.bin"));
});
