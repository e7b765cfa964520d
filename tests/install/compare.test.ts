/**
 * silo's node_modules must be the tree npm or pnpm builds: the fixtures are installed by the real
 * tools (npm ci / pnpm install --frozen-lockfile, scripts off) and by silo, from one loopback registry
 * serving bench/.mirror (filled first if anything is missing), and compared entry by entry
 * (scripts/compare-trees.ts). Also checks that the comparison itself sees differences.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import {
  compareFixture,
  compareTrees,
  ensureMirror,
  formatResult,
  MIRROR,
  shimTarget,
} from "../../scripts/compare-trees.ts";
import { startRegistry } from "../support/registry_server.ts";
import { tempDir } from "../support/store.ts";

// npm ci of mocha's 640 packages takes most of this; silo's own install is a few seconds.
const TIMEOUT = 240_000;

const BUILDER = { mocha: "npm", svelte: "pnpm", "svelte-pnpm10": "its own pnpm (10.33.4)" };

for (const fixture of ["mocha", "svelte", "svelte-pnpm10"] as const) {
  test(`${fixture}: silo's node_modules is the tree ${BUILDER[fixture]} builds`, {
    timeout: TIMEOUT,
  }, async () => {
    await ensureMirror(fixture);
    const server = await startRegistry({ dir: MIRROR, log: false });
    try {
      const { result } = await compareFixture(fixture, server.url);
      assert.deepEqual(result.differences, [], formatResult(fixture, result));
      // Guard against comparing two empty trees.
      assert.ok(result.files > 5000 && result.dirs > 1000 && result.bins > 50, formatResult(fixture, result));
      if (fixture !== "mocha") assert.equal(result.roots.length, 3, "the root and both workspace importers");
    } finally {
      await server.close();
    }
  });
}

test("compareTrees reports content, exec bit, symlink, missing and extra entries; ignores metadata", () => {
  const root = tempDir("silo-compare-unit-");
  try {
    const make = (name: string) => {
      const nm = path.join(root, name, "node_modules");
      fs.mkdirSync(path.join(nm, "a", "bin"), { recursive: true });
      fs.mkdirSync(path.join(nm, ".bin"));
      fs.writeFileSync(path.join(nm, "a", "index.js"), "same");
      fs.writeFileSync(path.join(nm, "a", "bin", "cli.js"), "cli", { mode: 0o755 });
      fs.symlinkSync("../a/bin/cli.js", path.join(nm, ".bin", "a"));
      return nm;
    };
    const ref = make("ref");
    const mine = make("mine");
    assert.deepEqual(compareTrees(path.join(root, "ref"), path.join(root, "mine")).differences, []);

    fs.writeFileSync(path.join(ref, ".package-lock.json"), "{}");
    fs.writeFileSync(path.join(mine, ".silo-state.json"), "{}");
    assert.deepEqual(
      compareTrees(path.join(root, "ref"), path.join(root, "mine")).differences,
      [],
      "metadata ignored",
    );

    fs.writeFileSync(path.join(mine, "a", "index.js"), "changed");
    fs.chmodSync(path.join(mine, "a", "bin", "cli.js"), 0o644);
    fs.rmSync(path.join(mine, ".bin", "a"));
    fs.symlinkSync("../a/index.js", path.join(mine, ".bin", "a"));
    fs.writeFileSync(path.join(mine, "a", "extra.js"), "");
    fs.writeFileSync(path.join(ref, "a", "missing.js"), "");
    const result = compareTrees(path.join(root, "ref"), path.join(root, "mine"));
    assert.deepEqual(result.differences.map((d) => d.split(":")[0]), [
      "node_modules/.bin/a",
      "node_modules/a/bin/cli.js",
      "node_modules/a/extra.js",
      "node_modules/a/index.js",
      "node_modules/a/missing.js",
    ]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("shimTarget reads the command of pnpm's shell shims, old and new", () => {
  assert.equal(shimTarget(`exec node  "$basedir/../pkg/bin.js" "$@"`), "../pkg/bin.js");
  assert.equal(
    shimTarget(`exec "$basedir/node"  "$basedir_abs"/'../.pnpm/x/bin.js' "$@"`),
    "../.pnpm/x/bin.js",
  );
  assert.equal(shimTarget(`#!/bin/sh\n...\n# cmd-shim-target=../.pnpm/y/cli.mjs\n`), "../.pnpm/y/cli.mjs");
  // pnpm 9 converts the folder on Cygwin first: that quoted "$basedir" is not the command.
  const pnpm9 = `basedir=$(dirname "$(echo "$0" | sed -e 's,\\\\,/,g')")\n\ncase \`uname\` in\n` +
    `    *CYGWIN*) basedir=\`cygpath -w "$basedir"\`;;\nesac\n\n` +
    `if [ -x "$basedir/node" ]; then\n  exec "$basedir/node"  "$basedir/../../bin/node-which" "$@"\n`;
  assert.equal(shimTarget(pnpm9), "../../bin/node-which");
});
