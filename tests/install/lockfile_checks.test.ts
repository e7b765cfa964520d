/**
 * What an install refuses or redoes: a lockfile missing what the project depends on (npm ci and pnpm refuse
 * those too), and a change in which scripts run (not answered with "up to date").
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { T } from "../../src/container/app.ts";
import { main } from "../../src/cli/main.ts";
import { install } from "../../src/install/install.ts";
import { sri } from "../support/tarball.ts";
import { editJson, makeProject, replaceLockfile, tarballOf } from "./_support.ts";

test("npm: a dependency of the project without its lockfile entry stops the install, as npm ci does", async () => {
  const p = await makeProject([{ name: "a" }, { name: "b" }]);
  try {
    editJson(path.join(p.projectDir, "package-lock.json"), (doc) => delete doc.packages["node_modules/a"]);
    await assert.rejects(
      install(p.c, { projectDir: p.projectDir, client: p.client }),
      /package-lock\.json: is incomplete \(a merge conflict resolved by hand\?\):\n {2}the root package depends on a, which the lockfile does not contain\nRun `npm install` to repair it/,
    );
    assert.equal(fs.existsSync(path.join(p.projectDir, "node_modules", "b")), false, "nothing was installed");
    assert.equal((await p.c.get(T.verifier).verifyAll()).bad.length, 0);
  } finally {
    await p.close();
  }
});

test("pnpm: an importer's dependency without a snapshot stops the install, as pnpm does", async () => {
  const spec = { name: "a" };
  const p = await makeProject([spec]);
  try {
    replaceLockfile(p.projectDir, {
      "package.json": { dependencies: { a: "1.0.0" } },
      // The snapshots section lost in a merge.
      "pnpm-lock.yaml": `lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      a:
        specifier: 1.0.0
        version: 1.0.0

packages:

  a@1.0.0:
    resolution: {integrity: ${sri(await tarballOf(spec))}}
`,
    });
    await assert.rejects(
      install(p.c, { projectDir: p.projectDir, client: p.client }),
      /pnpm-lock\.yaml: is incomplete .*\n {2}importer \. depends on a@1\.0\.0, which has no snapshot\nRun `pnpm install`/,
    );
  } finally {
    await p.close();
  }
});

test("allowing a dependency's scripts, or ignoring them, is not answered with 'up to date'", async () => {
  const p = await makeProject([{ name: "tool", scripts: { postinstall: "echo built > built.txt" } }]);
  try {
    const built = path.join(p.projectDir, "node_modules", "tool", "built.txt");
    const first = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.deepEqual(first.scriptsSkipped, ["tool"]);
    assert.equal(fs.existsSync(built), false);

    // What the skipped-scripts notice tells the user to run.
    const allowed = await install(p.c, {
      projectDir: p.projectDir,
      client: p.client,
      allowScripts: ["tool"],
    });
    assert.equal(allowed.upToDate, false);
    assert.equal(fs.existsSync(built), true, "the newly allowed script ran");
    const again = await install(p.c, { projectDir: p.projectDir, client: p.client, allowScripts: ["tool"] });
    assert.equal(again.upToDate, true, "the same flags: nothing to do");

    const ignored = await install(p.c, { projectDir: p.projectDir, client: p.client, ignoreScripts: true });
    assert.equal(ignored.upToDate, false);
    assert.equal(fs.existsSync(built), false);
  } finally {
    await p.close();
  }
});

test("after verify --repair removed a package, a project that had it installs again in full", async () => {
  const p = await makeProject([{ name: "a", files: { "index.js": "original\n" } }]);
  try {
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    // Edited in place through the project's hardlink: the store's inode changes too.
    const file = path.join(p.projectDir, "node_modules", "a", "index.js");
    fs.chmodSync(file, 0o644);
    fs.appendFileSync(file, "edited\n");
    const out: string[] = [];
    const code = await main(["verify", "--repair", "--store", p.storeDir], {
      out: (line) => out.push(line),
      err: (line) => out.push(line),
      isTTY: false,
      write: () => {},
    });
    assert.equal(code, 0);
    assert.match(out.join("\n"), /1 project had them in node_modules and will be installed again in full/);
    const again = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(again.upToDate, false, "not 'up to date' with the edited file still there");
    assert.equal(fs.readFileSync(file, "utf8"), "original\n");
    assert.equal((await p.c.get(T.verifier).verifyAll()).bad.length, 0);
  } finally {
    await p.close();
  }
});
