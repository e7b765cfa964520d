import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import { removeTempDirs, tempDir } from "../support/store.ts";
import { FIXTURES } from "./_fixtures.ts";

after(removeTempDirs);
import {
  addExcludedLinks,
  assertLockfileInSync,
  findSettingMismatches,
  findSpecifierMismatches,
  LockfileError,
  readLockfile,
} from "../../src/lockfile/mod.ts";

function project(files: Record<string, unknown>): string {
  const dir = tempDir("silo-sync-");
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), typeof content === "string" ? content : JSON.stringify(content));
  }
  return dir;
}

/** The packages and snapshots sections of the pnpm lockfiles below: one package, ms@2.1.3. */
const MS_PACKAGES = `packages:

  ms@2.1.3:
    resolution: {integrity: sha512-x}

snapshots:

  ms@2.1.3: {}
`;

const npmLock = (rootDeps: Record<string, string>, devDeps: Record<string, string> = {}) => ({
  name: "app",
  lockfileVersion: 3,
  packages: {
    "": { name: "app", dependencies: rootDeps, devDependencies: devDeps },
    "node_modules/ms": { version: "2.1.3", integrity: "sha512-x" },
    "node_modules/is-number": { version: "7.0.0", integrity: "sha512-y", dev: true },
  },
});

test("package-lock: package.json in sync passes; a changed, added or removed dependency is named", async () => {
  const ok = project({
    "package.json": { dependencies: { ms: "^2.1.3" }, devDependencies: { "is-number": "7.0.0" } },
    "package-lock.json": npmLock({ ms: "^2.1.3" }, { "is-number": "7.0.0" }),
  });
  assert.deepEqual(findSpecifierMismatches(ok, await readLockfile(ok)), []);

  const stale = project({
    "package.json": { dependencies: { ms: "^3.0.0", semver: "^7.0.0" } },
    "package-lock.json": npmLock({ ms: "^2.1.3" }, { "is-number": "7.0.0" }),
  });
  const graph = await readLockfile(stale);
  assert.deepEqual(
    findSpecifierMismatches(stale, graph).map((m) => [m.name, m.manifest, m.lockfile]).sort(),
    [["is-number", undefined, "7.0.0"], ["ms", "^3.0.0", "^2.1.3"], ["semver", "^7.0.0", undefined]],
  );
  await assert.rejects(
    () => assertLockfileInSync(stale, graph, path.join(stale, "package-lock.json")),
    (e) =>
      e instanceof LockfileError &&
      /ms is \^3\.0\.0 in package\.json but \^2\.1\.3 in the lockfile/.test(e.message) &&
      /semver@\^7\.0\.0 is in package\.json but not in the lockfile/.test(e.message) &&
      /npm install/.test(e.message),
  );
});

test("package-lock: a changed range the locked version still satisfies passes, as npm ci accepts it", async () => {
  const dir = project({
    "package.json": { dependencies: { ms: "~2.1.0" }, devDependencies: { "is-number": ">=7" } },
    "package-lock.json": npmLock({ ms: "^2.1.3" }, { "is-number": "7.0.0" }),
  });
  assert.deepEqual(findSpecifierMismatches(dir, await readLockfile(dir)), []);
  const alias = project({
    "package.json": {
      dependencies: { ms: "npm:other@^2" },
      devDependencies: { "is-number": "npm:is-number@^7" },
    },
    "package-lock.json": npmLock({ ms: "^2.1.3" }, { "is-number": "7.0.0" }),
  });
  // An alias must name the locked package: ms@2.1.3 is not other@^2.
  assert.deepEqual(findSpecifierMismatches(alias, await readLockfile(alias)).map((m) => m.name), ["ms"]);
  for (const d of [dir, alias]) fs.rmSync(d, { recursive: true, force: true });
});

test("pnpm-lock: every importer's package.json is compared, workspaces included", async () => {
  const lock = `lockfileVersion: '9.0'

importers:

  .:
    devDependencies:
      ms:
        specifier: ^2.1.3
        version: 2.1.3

  packages/a:
    dependencies:
      ms:
        specifier: 2.1.3
        version: 2.1.3

${MS_PACKAGES}`;
  const dir = project({
    "package.json": { devDependencies: { ms: "^2.1.3" } },
    "packages/a/package.json": { dependencies: { ms: "2.1.3" } },
    "pnpm-lock.yaml": lock,
  });
  assert.deepEqual(findSpecifierMismatches(dir, await readLockfile(dir)), []);
  fs.writeFileSync(
    path.join(dir, "packages/a/package.json"),
    JSON.stringify({ dependencies: { ms: "^2.0.0" } }),
  );
  const graph = await readLockfile(dir);
  assert.deepEqual(findSpecifierMismatches(dir, graph), [
    { importer: "packages/a", name: "ms", manifest: "^2.0.0", lockfile: "2.1.3" },
  ]);
  await assert.rejects(
    () => assertLockfileInSync(dir, graph, "pnpm-lock.yaml"),
    /packages\/a\/package\.json.*pnpm install/s,
  );
});

test("an importer without a package.json on disk is not compared", async () => {
  const dir = project({ "package-lock.json": npmLock({ ms: "^2.1.3" }) });
  assert.deepEqual(findSpecifierMismatches(dir, await readLockfile(dir)), []);
});

for (const fixture of ["mocha", "svelte"]) {
  test(`the ${fixture} fixture's package.json files agree with its lockfile`, async () => {
    const dir = path.join(FIXTURES, fixture);
    assert.deepEqual(findSpecifierMismatches(dir, await readLockfile(dir)), []);
  });
}

test("pnpm records a project's own peerDependencies as dependencies (autoInstallPeers): not a mismatch", async () => {
  const lock = `lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      ms:
        specifier: ^2.1.0
        version: 2.1.3

${MS_PACKAGES}`;
  const dir = project({ "package.json": { peerDependencies: { ms: "^2.1.0" } }, "pnpm-lock.yaml": lock });
  assert.deepEqual(findSpecifierMismatches(dir, await readLockfile(dir)), []);
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ peerDependencies: { ms: "^3.0.0" } }));
  assert.equal(
    findSpecifierMismatches(dir, await readLockfile(dir)).length,
    1,
    "a changed peer range still is",
  );
});

test("pnpm-lock: changed overrides and catalog entries are drift, as pnpm --frozen-lockfile says", async () => {
  const lock = `lockfileVersion: '9.0'

catalogs:
  default:
    ms:
      specifier: ^2.1.0
      version: 2.1.3
  old:
    ms:
      specifier: ^2.0.0
      version: 2.1.3

overrides:
  ansi-regex: 5.0.1

importers:

  .:
    dependencies:
      ms:
        specifier: 'catalog:'
        version: 2.1.3

${MS_PACKAGES}`;
  const manifest = { name: "app", dependencies: { ms: "catalog:" } };
  const inSync =
    "catalog:\n  ms: ^2.1.0\n  unused: ^1.0.0\ncatalogs:\n  old:\n    ms: ^2.0.0\noverrides:\n  ansi-regex: 5.0.1\n";
  const ok = project({ "package.json": manifest, "pnpm-lock.yaml": lock, "pnpm-workspace.yaml": inSync });
  assert.deepEqual(await findSettingMismatches(ok, await readLockfile(ok)), []);

  const drifted = project({
    "package.json": { ...manifest, pnpm: { overrides: { "ansi-regex": "5.0.1" } } },
    "pnpm-lock.yaml": lock,
    "pnpm-workspace.yaml":
      "catalog:\n  ms: ^2.0.0\ncatalogs:\n  old: {}\noverrides:\n  ansi-regex: 6.0.1\n  new-one: 1.0.0\n",
  });
  const graph = await readLockfile(drifted);
  assert.deepEqual(await findSettingMismatches(drifted, graph), [
    "overrides: ansi-regex is 6.0.1 in pnpm-workspace.yaml but 5.0.1 in the lockfile",
    "overrides: new-one@1.0.0 is in pnpm-workspace.yaml but not in the lockfile",
    "the default catalog: ms is ^2.0.0 in pnpm-workspace.yaml but ^2.1.0 in the lockfile",
    "catalog old: ms@^2.0.0 is in the lockfile but not in pnpm-workspace.yaml",
  ]);
  await assert.rejects(
    () => assertLockfileInSync(drifted, graph, path.join(drifted, "pnpm-lock.yaml")),
    (e: Error) =>
      e instanceof LockfileError && /overrides: ansi-regex is 6\.0\.1/.test(e.message) &&
      e.message.includes("Run `pnpm install`"),
  );
  for (const dir of [ok, drifted]) fs.rmSync(dir, { recursive: true, force: true });
});

test("pnpm-lock with excludeLinksFromLockfile: the link: dependencies come from package.json, not a mismatch", async () => {
  const dir = project({
    "package.json": { name: "app", dependencies: { ms: "2.1.3", loc: "link:./vendor/loc" } },
    "pnpm-lock.yaml": `lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: true

importers:

  .:
    dependencies:
      ms:
        specifier: 2.1.3
        version: 2.1.3

${MS_PACKAGES}`,
  });
  const graph = await readLockfile(dir);
  assert.equal(findSpecifierMismatches(dir, graph).length, 1, "without the links added, loc is missing");
  addExcludedLinks(dir, graph);
  assert.deepEqual(findSpecifierMismatches(dir, graph), []);
  const loc = graph.importers[0].dependencies.find((d) => d.alias === "loc");
  assert.deepEqual(loc?.target, { kind: "link", path: "vendor/loc" });
  fs.rmSync(dir, { recursive: true, force: true });
});
