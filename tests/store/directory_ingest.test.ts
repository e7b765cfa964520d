/** A package folder is stored as `npm pack` would publish it, which is what pnpm copies for file: folders. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { T } from "../../src/container/app.ts";
import { tempDir, testContainer } from "../support/store.ts";

function folder(files: Record<string, string>): string {
  const dir = tempDir("silo-dir-");
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

test("a folder is stored as npm pack would publish it: `files` when set, else all but what .npmignore (or .gitignore) drops", async () => {
  const { c, cleanup } = await testContainer();
  const common = {
    "dist/index.js": "x",
    "src/a.ts": "s",
    "test/t.js": "t",
    ".env": "SECRET=1",
    ".gitignore": "dist",
    "debug.log": "l",
    "README.md": "r",
    "LICENSE": "L",
    "node_modules/dep/index.js": "d",
  };
  const withFiles = folder({
    ...common,
    "package.json": JSON.stringify({ name: "lib", version: "1.0.0", files: ["dist"], main: "dist/index.js" }),
  });
  const withIgnore = folder({
    ...common,
    "package.json": JSON.stringify({ name: "lib", version: "1.0.0" }),
    ".npmignore": "test/\n*.log\n",
  });
  try {
    const store = c.get(T.store);
    const stored = async (dir: string) => Object.keys((await store.addDirectory(dir)).record.files).sort();
    assert.deepEqual(await stored(withFiles), ["LICENSE", "README.md", "dist/index.js", "package.json"]);
    // .npmignore replaces .gitignore (which would have dropped dist/), and is not published itself.
    assert.deepEqual(await stored(withIgnore), [
      ".env",
      "LICENSE",
      "README.md",
      "dist/index.js",
      "package.json",
      "src/a.ts",
    ]);
  } finally {
    cleanup();
    for (const dir of [withFiles, withIgnore]) fs.rmSync(dir, { recursive: true, force: true });
  }
});
