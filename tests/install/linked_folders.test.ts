/** Linked folders as npm ci treats them: which package gets a command, which commands exist, whose scripts run. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { install } from "../../src/install/install.ts";
import { addFileFolder, makeProject } from "./_support.ts";

test("npm layout: registry commands beat a linked folder's, directories.bin and a package's missing files give none, linked command files become runnable", async () => {
  const p = await makeProject([
    { name: "semver-like", files: { "bin.js": "#!/usr/bin/env node\n" }, bin: { semver: "bin.js" } },
    // Only directories.bin: npm ci links nothing (the lockfile's entry has no `bin`).
    { name: "dir-bins", files: { "bin/one": "#!/bin/sh\n" }, manifest: { directories: { bin: "bin" } } },
    { name: "ghost", files: { "index.js": "" }, bin: { ghost: "bin/nope.js", real: "index.js" } },
  ]);
  try {
    // A file: folder that offers `semver` too, and a command of its own whose file is 0644 with a CRLF `#!`.
    const tool = path.join(p.projectDir, "a-tool");
    fs.mkdirSync(tool);
    // `later` is built by the project (dist/ does not exist yet): its link is made, to work once built.
    const manifest = {
      name: "a-tool",
      version: "1.0.0",
      bin: { semver: "cli.js", "a-tool": "run.js", later: "dist/later.js" },
    };
    fs.writeFileSync(path.join(tool, "package.json"), JSON.stringify(manifest));
    fs.writeFileSync(path.join(tool, "cli.js"), "#!/usr/bin/env node\n");
    fs.writeFileSync(path.join(tool, "run.js"), "#!/usr/bin/env node\r\nconsole.log(1)\r\n", { mode: 0o644 });
    addFileFolder(p.projectDir, "a-tool", "a-tool", { version: "1.0.0", bin: manifest.bin });

    await install(p.c, { projectDir: p.projectDir, client: p.client });
    const bin = path.join(p.projectDir, "node_modules", ".bin");
    assert.deepEqual(fs.readdirSync(bin).sort(), ["a-tool", "later", "real", "semver"]);
    assert.equal(fs.readlinkSync(path.join(bin, "later")), "../a-tool/dist/later.js");
    assert.equal(
      fs.readlinkSync(path.join(bin, "semver")),
      "../semver-like/bin.js",
      "the registry package keeps it",
    );
    const run = path.join(tool, "run.js");
    assert.equal(fs.statSync(run).mode & 0o111, 0o111, "the linked folder's command file is executable");
    assert.equal(
      fs.readFileSync(run, "utf8"),
      "#!/usr/bin/env node\nconsole.log(1)\r\n",
      "with an LF #! line",
    );
  } finally {
    await p.close();
  }
});

test("a linked file: folder's own scripts run when allowed by name, like a dependency's, and are listed otherwise", async () => {
  const p = await makeProject([{ name: "plain", files: { "index.js": "" } }]);
  try {
    const lib = path.join(p.projectDir, "lib");
    fs.mkdirSync(lib);
    fs.writeFileSync(
      path.join(lib, "package.json"),
      JSON.stringify({ name: "lib", version: "1.0.0", scripts: { postinstall: "echo built > built.txt" } }),
    );
    addFileFolder(p.projectDir, "lib", "lib", { version: "1.0.0", hasInstallScript: true });

    const first = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.deepEqual(first.scriptsSkipped, ["lib"]);
    assert.equal(fs.existsSync(path.join(lib, "built.txt")), false);
    const allowed = await install(p.c, {
      projectDir: p.projectDir,
      client: p.client,
      allowScripts: ["lib"],
      force: true,
    });
    assert.deepEqual(allowed.scriptsSkipped, []);
    assert.equal(fs.readFileSync(path.join(lib, "built.txt"), "utf8").trim(), "built");
  } finally {
    await p.close();
  }
});
