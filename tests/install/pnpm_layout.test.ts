import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import {
  ignoredSettingsWarnings,
  isolatedLayout,
  matchesPatterns,
  readPnpmLayout,
} from "../../src/install/pnpm_layout.ts";
import { checkUpToDate } from "../../src/install/state.ts";
import { pinnedManager } from "../../src/install/package_manager.ts";
import { scriptUserAgent } from "../../src/install/scripts.ts";
import { removeTempDirs, tempDir } from "../support/store.ts";

after(removeTempDirs);

function project(files: Record<string, string>): { dir: string; env: Record<string, string> } {
  const dir = tempDir("silo-pnpm-layout-");
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  // A user config of our own, so the machine's ~/.npmrc cannot leak in.
  const user = path.join(dir, "user.npmrc");
  if (!files["user.npmrc"]) fs.writeFileSync(user, "");
  return { dir, env: { npm_config_userconfig: user } };
}

test("matchesPatterns follows pnpm's matcher: whole-name globs, case-sensitive, ! excludes", () => {
  assert.ok(matchesPatterns(["*"], "anything"));
  assert.ok(matchesPatterns(["*eslint*"], "@typescript-eslint/parser"));
  assert.ok(!matchesPatterns(["eslint"], "eslint-plugin-x"), "the whole name must match");
  assert.ok(!matchesPatterns(["*ESLINT*"], "eslint"));
  assert.ok(!matchesPatterns(["*types*", "!@types/react"], "@types/react"));
  assert.ok(matchesPatterns(["*types*", "!@types/react"], "@types/node"));
  assert.ok(matchesPatterns(["!@types/react"], "vite"), "only exclusions: everything else matches");
  assert.ok(!matchesPatterns([], "vite"));
  assert.ok(matchesPatterns(["a.b"], "a.b") && !matchesPatterns(["a.b"], "axb"), "dots are literal");
});

test("readPnpmLayout: .npmrc arrays and flags, pnpm-workspace.yaml wins, defaults by pnpm version", async () => {
  const rc = project({
    ".npmrc": "public-hoist-pattern[]=*types*\npublic-hoist-pattern[]=!@types/react\nhoist=false\n",
    "package.json": "{}",
  });
  const fromRc = await readPnpmLayout(rc.dir, rc.env);
  assert.deepEqual(fromRc.publicHoistPattern, ["*types*", "!@types/react"]);
  assert.deepEqual(fromRc.hoistPattern, [], "hoist=false");

  const both = project({
    ".npmrc": "shamefully-hoist=true\n",
    "pnpm-workspace.yaml": "shamefullyHoist: false\nhoistPattern:\n  - '@babel/*'\n",
    "package.json": "{}",
  });
  const yaml = await readPnpmLayout(both.dir, both.env);
  assert.deepEqual(yaml.publicHoistPattern, [], "the workspace file wins over .npmrc");
  assert.deepEqual(yaml.hoistPattern, ["@babel/*"]);
  assert.equal(yaml.sources.shamefullyHoist, path.join(both.dir, "pnpm-workspace.yaml"));

  const user = project({ "user.npmrc": "shamefully-hoist=true\n", "package.json": "{}" });
  assert.deepEqual(
    (await readPnpmLayout(user.dir, user.env)).publicHoistPattern,
    ["*"],
    "the user's .npmrc counts",
  );

  const pnpm11 = project({
    ".npmrc": "shamefully-hoist=true\n",
    "package.json": JSON.stringify({ packageManager: "pnpm@11.2.0" }),
  });
  assert.deepEqual(
    (await readPnpmLayout(pnpm11.dir, pnpm11.env)).publicHoistPattern,
    [],
    "pnpm 11 ignores .npmrc",
  );

  const pnpm9 = project({ "package.json": JSON.stringify({ packageManager: "pnpm@9.15.9+sha512.abc" }) });
  const old = await readPnpmLayout(pnpm9.dir, pnpm9.env);
  assert.deepEqual(old.publicHoistPattern, ["*eslint*", "*prettier*"], "pnpm 9's default public pattern");
  assert.equal(old.alwaysMakeHoistDir, false);
  assert.equal(old.linksOwnBins, false);
  assert.equal(old.checksManifestPlatform, false);
  assert.equal(old.linksPeerBins, false);
  assert.equal(old.hoistsWorkspacesOverRootDeps, false);
  assert.equal(old.binConflictLesserName, false);
  assert.equal(old.binsOfLinkedDeps, true);
  assert.equal(old.folderHash, "md5-base32", "pnpm 9 shortens folder names with md5 in base32");
  const pnpm10 = project({ "package.json": JSON.stringify({ packageManager: "pnpm@10.34.9" }) });
  assert.equal((await readPnpmLayout(pnpm10.dir, pnpm10.env)).folderHash, "sha256");
  assert.equal((await readPnpmLayout(pnpm10.dir, pnpm10.env)).hashesAmbiguousUrls, false);
  assert.equal(old.hashesAmbiguousUrls, false);
  assert.equal((await readPnpmLayout(pnpm11.dir, pnpm11.env)).hashesAmbiguousUrls, false);
  for (const [version, hashes] of [["12.9.3", false], ["12.10.0", true], ["13.0.0", true]] as const) {
    const pinned = project({ "package.json": JSON.stringify({ packageManager: `pnpm@${version}` }) });
    assert.equal(
      (await readPnpmLayout(pinned.dir, pinned.env)).hashesAmbiguousUrls,
      hashes,
      `pnpm ${version}`,
    );
    fs.rmSync(pinned.dir, { recursive: true, force: true });
  }

  const settings = project({
    "package.json": "{}",
    "pnpm-workspace.yaml": "hoistWorkspacePackages: false\nvirtualStoreDirMaxLength: 60\n",
  });
  const set = await readPnpmLayout(settings.dir, settings.env);
  assert.equal(set.hoistWorkspacePackages, false);
  assert.equal(set.virtualStoreDirMaxLength, 60);

  const plain = project({ "package.json": "{}" });
  assert.deepEqual(await readPnpmLayout(plain.dir, plain.env), {
    nodeLinker: "isolated",
    hoistPattern: ["*"],
    publicHoistPattern: [],
    hoistWorkspacePackages: true,
    virtualStoreDirMaxLength: 120,
    folderHash: "sha256",
    hashesAmbiguousUrls: true,
    alwaysMakeHoistDir: true,
    linksOwnBins: true,
    linksPeerBins: true,
    hoistsWorkspacesOverRootDeps: true,
    binConflictLesserName: true,
    binsOfLinkedDeps: false,
    checksManifestPlatform: true,
    sources: {},
    unsupported: [],
  });
  for (const p of [rc, both, user, pnpm11, pnpm9, pnpm10, settings, plain]) {
    fs.rmSync(p.dir, { recursive: true, force: true });
  }
});

test("a project that asks pnpm for another node-linker gets an error naming the setting and its file", async () => {
  const p = project({ "pnpm-workspace.yaml": "nodeLinker: hoisted\n", "package.json": "{}" });
  await assert.rejects(
    () => isolatedLayout(p.dir, p.env),
    (e: Error) =>
      e.message.includes(path.join(p.dir, "pnpm-workspace.yaml")) && e.message.includes('"hoisted"'),
  );
  fs.rmSync(p.dir, { recursive: true, force: true });
});

test("settings silo does not implement: a tree elsewhere is refused, the rest named in a warning, defaults pass", async () => {
  const moved = project({ ".npmrc": "modules-dir=deps\n", "package.json": "{}" });
  await assert.rejects(
    () => isolatedLayout(moved.dir, moved.env),
    (e: Error) => e.message.startsWith(`${path.join(moved.dir, ".npmrc")} sets modulesDir;`),
  );
  const defaults = project({
    "package.json": "{}",
    "pnpm-workspace.yaml":
      "virtualStoreDir: node_modules/.pnpm\nmodulesDir: ./node_modules/\ndedupeDirectDeps: false\n",
  });
  const plain = await isolatedLayout(defaults.dir, defaults.env);
  assert.deepEqual(ignoredSettingsWarnings(plain), []);
  const dedupe = project({
    "package.json": "{}",
    "pnpm-workspace.yaml":
      "dedupeDirectDeps: true\nsharedWorkspaceLockfile: false\nconfigDependencies:\n  x: 1.0.0\n",
  });
  const yaml = path.join(dedupe.dir, "pnpm-workspace.yaml");
  assert.deepEqual(ignoredSettingsWarnings(await isolatedLayout(dedupe.dir, dedupe.env)), [
    `${yaml} sets dedupeDirectDeps, which silo does not implement: ` +
    "workspace projects keep links to the dependencies the root also has",
    `${yaml} sets sharedWorkspaceLockfile, which silo does not implement: ` +
    "only this project is installed; run silo install in each workspace project too",
    `${yaml} sets configDependencies, which silo does not implement: ` +
    "config dependencies are not installed (node_modules/.pnpm-config)",
  ]);
  // supportedArchitectures is read (pnpm-workspace.yaml over package.json's "pnpm" field, pnpm 10 and older).
  const arch = project({
    "package.json": JSON.stringify({ pnpm: { supportedArchitectures: { os: ["darwin"] } } }),
    "pnpm-workspace.yaml": "supportedArchitectures:\n  cpu: [current, arm64]\n",
  });
  assert.deepEqual((await isolatedLayout(arch.dir, arch.env)).supportedArchitectures, {
    cpu: ["current", "arm64"],
  });
  fs.rmSync(path.join(arch.dir, "pnpm-workspace.yaml"));
  assert.deepEqual((await isolatedLayout(arch.dir, arch.env)).supportedArchitectures, { os: ["darwin"] });
  for (const p of [moved, defaults, dedupe, arch]) fs.rmSync(p.dir, { recursive: true, force: true });
});

test("the up-to-date check sees a change to pnpm-workspace.yaml in a pnpm project", async () => {
  const p = project({
    "package.json": "{}",
    "pnpm-lock.yaml": "lockfileVersion: '9.0'\n\nimporters:\n\n  .: {}\n",
    "pnpm-workspace.yaml": "shamefullyHoist: false\n",
  });
  const before = await checkUpToDate(p.dir, {});
  fs.writeFileSync(path.join(p.dir, "pnpm-workspace.yaml"), "shamefullyHoist: true\n");
  const after = await checkUpToDate(p.dir, {});
  assert.notEqual(before.hash, after.hash);
  // In .npmrc only the hoisting lines count: a token there changes nothing.
  fs.writeFileSync(path.join(p.dir, ".npmrc"), "//registry.example/:_authToken=abc\n");
  assert.equal((await checkUpToDate(p.dir, {})).hash, after.hash);
  fs.writeFileSync(path.join(p.dir, ".npmrc"), "//registry.example/:_authToken=abc\nshamefully-hoist=true\n");
  assert.notEqual((await checkUpToDate(p.dir, {})).hash, after.hash);
  fs.rmSync(p.dir, { recursive: true, force: true });
});

test("scripts are told the package manager whose lockfile silo installs from, with the pinned version", () => {
  const p = project({ "package.json": JSON.stringify({ packageManager: "pnpm@10.33.4+sha512.abc" }) });
  const pinned = pinnedManager(p.dir);
  assert.deepEqual(pinned, { name: "pnpm", version: "10.33.4", major: 10 });
  assert.match(scriptUserAgent("pnpm-lock.yaml", pinned), /^pnpm\/10\.33\.4 node\/v\S+ \S+ \S+ silo$/);
  assert.match(
    scriptUserAgent("package-lock.json", pinned),
    /^npm\/0\.0\.0 /,
    "a pnpm pin says nothing of npm",
  );
  assert.match(scriptUserAgent("bun.lock", { name: "bun", version: "1.4.5", major: 1 }), /^bun\/1\.4\.5 /);
  assert.equal(pinnedManager(project({ "package.json": "{}" }).dir), undefined);
  fs.rmSync(p.dir, { recursive: true, force: true });
});
