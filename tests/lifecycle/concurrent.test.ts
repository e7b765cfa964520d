/**
 * Invariant 8: many processes share one store. Four real CLI processes install the two
 * fixtures (two project copies each) into one fresh store at the same time, against the
 * loopback registry serving bench/.mirror. All succeed, every tree is complete (every file
 * of every package the install registered is present and matches the store), and the
 * store verifies clean.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { startRegistry } from "../support/registry_server.ts";
import { copyFixture, ensureMirror, MIRROR, runSilo, spawnSilo, tempDir } from "./_support.ts";

test("4 processes install mocha and svelte (2 copies each) into one fresh store at once", {
  timeout: 600_000,
}, async () => {
  await ensureMirror();
  const server = await startRegistry({ dir: MIRROR, log: false });
  const root = tempDir("silo-concurrent-");
  const store = path.join(root, "store");
  const projects = [
    copyFixture("mocha", path.join(root, "mocha-1")),
    copyFixture("svelte", path.join(root, "svelte-1")),
    copyFixture("mocha", path.join(root, "mocha-2")),
    copyFixture("svelte", path.join(root, "svelte-2")),
  ];
  const runs = projects.map((dir) =>
    spawnSilo([
      "install",
      "--ignore-scripts",
      "--store",
      store,
      "--dir",
      dir,
      "--registry",
      server.url,
      "--json",
    ]).done
  );
  const results = await Promise.all(runs);
  for (const [i, r] of results.entries()) assert.equal(r.code, 0, `${projects[i]}: ${r.stderr}`);
  const summaries = results.map((r) => JSON.parse(r.stdout));
  assert.equal(summaries[0].packages, summaries[2].packages, "both mocha copies got the same tree");
  assert.equal(summaries[1].packages, summaries[3].packages, "both svelte copies got the same tree");

  for (const [i, dir] of projects.entries()) {
    const status = await runSilo(["--store", store, "status", "--dir", dir, "--json"]);
    const report = JSON.parse(status.stdout);
    assert.equal(status.code, 0, `${dir}: ${JSON.stringify(report.modified.slice(0, 3))}`);
    assert.equal(
      report.packages,
      summaries[i].packages,
      `${dir}: every package folder is registered and complete`,
    );
    assert.deepEqual(report.unknown, []);
    // Every package folder has its package.json, and the state file says the install completed.
    assert.ok(fs.existsSync(path.join(dir, "node_modules", ".silo-state.json")));
  }
  const verify = await runSilo(["--store", store, "verify", "--json"]);
  assert.equal(verify.code, 0, verify.stdout.slice(0, 2000));
  assert.equal(JSON.parse(verify.stdout).bad.length, 0);
  const noop = await runSilo([
    "--store",
    store,
    "install",
    "--ignore-scripts",
    "--dir",
    projects[0],
    "--registry",
    server.url,
    "--json",
  ]);
  assert.equal(JSON.parse(noop.stdout).upToDate, true, "a rerun finds the tree up to date");
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});
