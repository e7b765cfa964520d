import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { workspaceRootOf } from "../../src/lockfile/locate.ts";

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
  assert.equal(workspaceRootOf(path.join(pnpm, "packages/ui/src")), path.join(pnpm, "packages/ui/src"));

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
