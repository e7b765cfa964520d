/** pnpm's bundledDependencies: the commands of packages shipped inside a tarball are linked inside it. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { install } from "../../src/install/install.ts";
import { sri } from "../support/tarball.ts";
import { makeProject, tarballOf } from "./_support.ts";

const bundler = {
  name: "bundler",
  files: {
    "index.js": "module.exports = 1;\n",
    "node_modules/inner/package.json": JSON.stringify({
      name: "inner",
      version: "2.0.0",
      bin: { "inner-cli": "cli.js" },
    }),
    "node_modules/inner/cli.js": "#!/usr/bin/env node\n",
    "node_modules/@s/deep/package.json": JSON.stringify({ name: "@s/deep", version: "1.0.0", bin: "run.js" }),
    "node_modules/@s/deep/run.js": "#!/usr/bin/env node\n",
    "node_modules/inner/node_modules/nested/package.json": JSON.stringify({
      name: "nested",
      bin: { nested: "n.js" },
    }),
  },
};

async function bundlerProject(bundled: string) {
  const p = await makeProject([bundler]);
  fs.rmSync(path.join(p.projectDir, "package-lock.json"));
  fs.writeFileSync(
    path.join(p.projectDir, "package.json"),
    JSON.stringify({ dependencies: { bundler: "1.0.0" } }),
  );
  fs.writeFileSync(
    path.join(p.projectDir, "pnpm-lock.yaml"),
    `lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      bundler:
        specifier: 1.0.0
        version: 1.0.0

packages:

  bundler@1.0.0:
    resolution: {integrity: ${sri(await tarballOf(bundler))}}
${bundled}
snapshots:

  bundler@1.0.0: {}
`,
  );
  return p;
}

test("isolated layout: the commands of a package's bundled dependencies are linked inside it, as pnpm does", async () => {
  const p = await bundlerProject("    bundledDependencies:\n      - inner\n");
  try {
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    const pkg = path.join(p.projectDir, "node_modules/.pnpm/bundler@1.0.0/node_modules/bundler");
    const bin = path.join(pkg, "node_modules/.bin");
    assert.deepEqual(
      fs.readdirSync(bin).sort(),
      ["deep", "inner-cli"],
      "top-level bundled packages, not nested ones",
    );
    assert.equal(
      fs.realpathSync(path.join(bin, "inner-cli")),
      fs.realpathSync(path.join(pkg, "node_modules/inner/cli.js")),
    );
    assert.equal(
      fs.realpathSync(path.join(bin, "deep")),
      fs.realpathSync(path.join(pkg, "node_modules/@s/deep/run.js")),
    );
  } finally {
    await p.close();
  }
});

test("isolated layout: a tarball's node_modules gets no commands unless the lockfile says it bundles", async () => {
  const p = await bundlerProject("");
  try {
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    const pkg = path.join(p.projectDir, "node_modules/.pnpm/bundler@1.0.0/node_modules/bundler");
    assert.ok(fs.existsSync(path.join(pkg, "node_modules/inner/cli.js")));
    assert.equal(fs.existsSync(path.join(pkg, "node_modules/.bin")), false);
  } finally {
    await p.close();
  }
});
