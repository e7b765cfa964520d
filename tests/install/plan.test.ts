import assert from "node:assert/strict";
import { test } from "node:test";
import { currentPlatform, parseNpmLockfile, selectPackages } from "../../src/lockfile/mod.ts";
import { planHoisted } from "../../src/install/plan.ts";

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
