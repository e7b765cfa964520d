/** pnpm's bundledDependencies: the commands of packages shipped inside a tarball are linked inside it. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { install } from "../../src/install/install.ts";
import { sri } from "../support/tarball.ts";
import { makeProject, type PkgSpec, replaceLockfile, tarballOf } from "./_support.ts";

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

async function bundlerProject(bundled: string, spec: PkgSpec = bundler) {
  const p = await makeProject([spec]);
  replaceLockfile(p.projectDir, {
    "package.json": { dependencies: { bundler: "1.0.0" } },
    "pnpm-lock.yaml": `lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      bundler:
        specifier: 1.0.0
        version: 1.0.0

packages:

  bundler@1.0.0:
    resolution: {integrity: ${sri(await tarballOf(spec))}}
${bundled}
snapshots:

  bundler@1.0.0: {}
`,
  });
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

test("the command files of bundled packages are executable, as npm and pnpm make them, when the package bundles", async () => {
  // Packed 0644, as tarballs made by other tools than npm may have them.
  const declared = { ...bundler, manifest: { bundleDependencies: ["inner", "@s/deep"] } };
  for (const [spec, executable] of [[declared, true], [bundler, false]] as const) {
    const p = await bundlerProject("    bundledDependencies:\n      - inner\n", spec);
    try {
      await install(p.c, { projectDir: p.projectDir, client: p.client });
      const pkg = path.join(p.projectDir, "node_modules/.pnpm/bundler@1.0.0/node_modules/bundler");
      for (const file of ["node_modules/inner/cli.js", "node_modules/@s/deep/run.js"]) {
        assert.equal((fs.statSync(path.join(pkg, file)).mode & 0o111) !== 0, executable, file);
      }
      assert.equal(fs.statSync(path.join(pkg, "index.js")).mode & 0o111, 0, "other files keep their mode");
    } finally {
      await p.close();
    }
  }
});
