import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { locateLockfile, workspaceRootOf } from "../../src/lockfile/locate.ts";

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "silo-locate-"));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

test("workspaceRootOf: inside a workspace project, the workspace whose lockfile lists it; else the folder", () => {
  const pnpm = tree({
    "pnpm-lock.yaml":
      "lockfileVersion: '9.0'\n\nimporters:\n\n  .: {}\n\n  packages/ui:\n    dependencies: {}\n",
    "packages/ui/package.json": "{}",
    "packages/other/package.json": "{}",
    "packages/ui/src/x.js": "",
  });
  assert.equal(workspaceRootOf(path.join(pnpm, "packages/ui")), pnpm);
  assert.equal(workspaceRootOf(pnpm), pnpm, "a folder with a lockfile is its own root");
  assert.equal(
    workspaceRootOf(path.join(pnpm, "packages/other")),
    path.join(pnpm, "packages/other"),
    "not a project of that lockfile: the folder itself (the install then says no lockfile is there)",
  );
  // A folder inside a project (no package.json of its own) belongs to that project, as in npm and pnpm.
  assert.equal(workspaceRootOf(path.join(pnpm, "packages/ui/src")), pnpm);

  const npm = tree({
    "package-lock.json": JSON.stringify(
      {
        lockfileVersion: 3,
        packages: { "": {}, "apps/web": { name: "web" }, "node_modules/web": { link: true } },
      },
      null,
      2,
    ),
    "apps/web/package.json": "{}",
  });
  assert.equal(workspaceRootOf(path.join(npm, "apps/web")), npm);

  // The nearest lockfile decides: one further up is not looked at.
  const nested = tree({
    "pnpm-lock.yaml": "lockfileVersion: '9.0'\n\nimporters:\n\n  .: {}\n\n  inner/pkg: {}\n",
    "inner/package-lock.json": JSON.stringify({ lockfileVersion: 3, packages: { "": {} } }, null, 2),
    "inner/pkg/package.json": "{}",
  });
  assert.equal(workspaceRootOf(path.join(nested, "inner/pkg")), path.join(nested, "inner/pkg"));
  for (const dir of [pnpm, npm, nested]) fs.rmSync(dir, { recursive: true, force: true });
});

test("locateLockfile: a subfolder finds its project; a yarn.lock is read, a binary bun.lockb, other lockfiles and a file are named", () => {
  const npm = tree({ "package.json": "{}", "package-lock.json": "{}", "src/lib/x.js": "" });
  assert.equal(workspaceRootOf(path.join(npm, "src/lib")), npm);
  assert.equal(locateLockfile(npm).ignored, undefined);
  fs.writeFileSync(path.join(npm, "pnpm-lock.yaml"), "lockfileVersion: '9.0'\n");
  assert.deepEqual(locateLockfile(npm).ignored, ["pnpm-lock.yaml"]);
  fs.writeFileSync(path.join(npm, "bun.lock"), "{}");
  fs.writeFileSync(path.join(npm, "yarn.lock"), "");
  assert.deepEqual(locateLockfile(npm).ignored, ["pnpm-lock.yaml", "bun.lock", "yarn.lock"]);
  assert.throws(
    () => locateLockfile(path.join(npm, "package.json")),
    /package\.json: not a folder; give the project's folder/,
  );

  const yarn = tree({ "package.json": "{}", "yarn.lock": "" });
  assert.equal(locateLockfile(yarn).name, "yarn.lock");
  const bun = tree({ "package.json": "{}", "bun.lockb": "" });
  assert.throws(
    () => locateLockfile(bun),
    /bun\.lockb: bun's binary lockfile, .*`bun install --save-text-lockfile --frozen-lockfile --lockfile-only` writes the bun\.lock silo reads/,
  );
  fs.writeFileSync(path.join(bun, "bun.lock"), "{}");
  assert.equal(locateLockfile(bun).name, "bun.lock");
  for (const dir of [npm, yarn, bun]) fs.rmSync(dir, { recursive: true, force: true });
});
