/** npm's own settings that change what npm ci installs: omit/include, legacy-peer-deps, install-strategy. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { install } from "../../src/install/install.ts";
import { readNpmSettings } from "../../src/install/npm_settings.ts";
import { tempDir } from "../support/store.ts";
import { editJson, makeProject } from "./_support.ts";

test("readNpmSettings: user .npmrc, project .npmrc, then npm_config_* variables; include takes back omit", () => {
  const dir = tempDir("silo-npmrc-");
  try {
    const user = path.join(dir, "user.npmrc");
    fs.writeFileSync(user, "omit[]=optional\nlegacy-peer-deps=true\n");
    fs.writeFileSync(path.join(dir, ".npmrc"), "omit=dev\ninstall-strategy=linked\n");
    const env = { npm_config_userconfig: user };
    assert.deepEqual(readNpmSettings(dir, env), {
      omit: ["dev"],
      include: [],
      legacyPeerDeps: true,
      binLinks: true,
      installStrategy: { value: "linked", from: path.join(dir, ".npmrc") },
    });
    // npm 11 still reads the older spellings (Heroku and Docker images set NPM_CONFIG_PRODUCTION).
    const old = readNpmSettings(dir, { ...env, NPM_CONFIG_PRODUCTION: "true", npm_config_optional: "false" });
    assert.deepEqual(old.omit.sort(), ["dev", "optional"]);
    assert.equal(readNpmSettings(dir, { ...env, npm_config_bin_links: "false" }).binLinks, false);
    const fromEnv = readNpmSettings(dir, {
      ...env,
      npm_config_omit: "dev optional",
      NPM_CONFIG_INCLUDE: "optional",
    });
    assert.deepEqual([fromEnv.omit, fromEnv.include], [["dev"], ["optional"]]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("install follows .npmrc's omit and legacy-peer-deps unless told otherwise; install-strategy=linked is refused", async () => {
  const p = await makeProject([
    { name: "lib", files: { "index.js": "" } },
    { name: "tool", files: { "index.js": "" }, dev: true },
    // Reached only as lib's peer: npm ci --legacy-peer-deps leaves it out.
    { name: "peer-only", files: { "index.js": "" }, transitive: true },
  ]);
  const nm = (name: string) => fs.existsSync(path.join(p.projectDir, "node_modules", name, "package.json"));
  try {
    editJson(path.join(p.projectDir, "package-lock.json"), (lock) => {
      lock.packages["node_modules/lib"].peerDependencies = { "peer-only": "1.0.0" };
      lock.packages["node_modules/peer-only"].peer = true;
      delete lock.packages["node_modules/peer-only"].dev;
    });
    const npmrc = path.join(p.projectDir, ".npmrc");

    fs.writeFileSync(npmrc, "omit=dev\n");
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.deepEqual([nm("lib"), nm("tool"), nm("peer-only")], [true, false, true]);
    await install(p.c, { projectDir: p.projectDir, client: p.client, prod: false });
    assert.equal(nm("tool"), true, "the command line (--include dev) wins");

    fs.writeFileSync(npmrc, "legacy-peer-deps=true\n");
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.deepEqual([nm("lib"), nm("tool"), nm("peer-only")], [true, true, false]);

    fs.writeFileSync(npmrc, "omit=peer\n");
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(nm("peer-only"), false, "omit=peer leaves out what only peer edges reach");

    fs.writeFileSync(npmrc, "install-strategy=nested\n"); // npm ci builds the lockfile's tree anyway
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(nm("peer-only"), true);

    fs.writeFileSync(npmrc, "install-strategy=linked\n");
    await assert.rejects(
      install(p.c, { projectDir: p.projectDir, client: p.client }),
      /\.npmrc sets install-strategy to "linked"; silo builds npm's hoisted layout/,
    );
  } finally {
    await p.close();
  }
});
