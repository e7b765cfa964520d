/**
 * Installing from a yarn.lock (yarn 1) through the loopback registry: the packages' own package.json files
 * (read from the store) decide the layout, and yarn's .bin folders appear.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { test } from "node:test";
import { T } from "../../src/container/app.ts";
import { install } from "../../src/install/install.ts";
import { makeProject, type PkgSpec, replaceLockfile, tarballOf } from "./_support.ts";
import { sri } from "../support/tarball.ts";

const other = process.platform === "win32" ? "linux" : "win32";

/**
 * `lib` needs react 15 (nested: the root has 18) and `plugin`, whose package.json peer-depends on react:
 * yarn keeps plugin beside lib's react. `tool` has a command lib's .bin links. `native` is optional and
 * for another OS.
 */
const SPECS: PkgSpec[] = [
  { name: "react", version: "18.0.0", files: { "index.js": "react 18" } },
  { name: "react", version: "15.0.0", files: { "index.js": "react 15" }, transitive: true },
  { name: "lib", deps: { react: "15.0.0", plugin: "1.0.0", tool: "1.0.0" }, files: { "index.js": "lib" } },
  {
    name: "plugin",
    files: { "index.js": "plugin" },
    manifest: { peerDependencies: { react: "*" } },
    transitive: true,
  },
  { name: "tool", files: { "cli.js": "#!/usr/bin/env node\n" }, bin: { tool: "cli.js" }, transitive: true },
  { name: "native", files: { "index.js": "native" }, manifest: { os: [other] }, optional: true },
];

async function yarnLockOf(url: string): Promise<string> {
  const blocks: string[] = [];
  for (const spec of SPECS) {
    const version = spec.version ?? "1.0.0";
    const lines = [
      `${spec.name}@${version}:`,
      `  version "${version}"`,
      `  resolved "${url}${spec.name}/-/${spec.name}-${version}.tgz"`,
      `  integrity ${sri(await tarballOf(spec))}`,
    ];
    if (spec.deps) {
      lines.push("  dependencies:");
      for (const [n, v] of Object.entries(spec.deps)) lines.push(`    ${n} "${v}"`);
    }
    blocks.push(lines.join("\n"));
  }
  return `# yarn lockfile v1\n\n\n${blocks.join("\n\n")}\n`;
}

test("a yarn.lock installs yarn 1's layout: peers hold a package back, nested .bin folders, platform skips", async () => {
  const p = await makeProject(SPECS);
  try {
    replaceLockfile(p.projectDir, {
      "yarn.lock": await yarnLockOf(p.server.url),
      "package.json": {
        name: "app",
        dependencies: { react: "18.0.0", lib: "1.0.0" },
        optionalDependencies: { native: "1.0.0" },
      },
    });
    const nm = (...rest: string[]) => path.join(p.projectDir, "node_modules", ...rest);
    const summary = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(summary.lockfile, "yarn.lock");
    assert.equal(fs.readFileSync(nm("react", "index.js"), "utf8"), "react 18");
    assert.equal(fs.readFileSync(nm("lib", "node_modules", "react", "index.js"), "utf8"), "react 15");
    // plugin's peer (react) is in lib's node_modules, so plugin stays there too.
    assert.ok(fs.existsSync(nm("lib", "node_modules", "plugin", "index.js")));
    assert.equal(fs.existsSync(nm("plugin")), false);
    // tool is hoisted; lib gets a .bin for its dependency's command, and so does the root.
    assert.equal(fs.readlinkSync(nm("lib", "node_modules", ".bin", "tool")), "../../../tool/cli.js");
    assert.equal(fs.readlinkSync(nm(".bin", "tool")), "../tool/cli.js");
    assert.equal(fs.existsSync(nm("native")), false);
    assert.deepEqual(summary.skipped.map((s) => s.id), ["native@1.0.0"]);
    assert.equal(summary.downloaded, 6, "yarn fetches every package, the skipped one too");
    assert.equal(summary.fromStore, 0);

    // A second install over a changed tree is served from the store.
    fs.rmSync(nm(), { recursive: true });
    const again = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(again.downloaded, 0);
    assert.equal(again.fromStore, again.packages);
  } finally {
    await p.close();
  }
});

/** A project whose one dependency, `native`, has the given package.json fields. */
async function oneDependency(manifest: Record<string, unknown>) {
  const specs: PkgSpec[] = [{ name: "native", files: { "index.js": "x" }, manifest }];
  const p = await makeProject(specs);
  const tgz = await tarballOf(specs[0]);
  replaceLockfile(p.projectDir, {
    "yarn.lock":
      `native@1.0.0:\n  version "1.0.0"\n  resolved "${p.server.url}native/-/native-1.0.0.tgz"\n  integrity ${
        sri(tgz)
      }\n`,
    "package.json": { name: "app", dependencies: { native: "1.0.0" } },
  });
  return p;
}

test("a required package for another platform stops a yarn.lock install, naming it", async () => {
  const p = await oneDependency({ os: [other] });
  try {
    await assert.rejects(
      install(p.c, { projectDir: p.projectDir, client: p.client }),
      new RegExp(
        `native@1\\.0\\.0 does not support this platform \\(os .* not in \\[${other}\\]\\).*--force`,
      ),
    );
    assert.equal(fs.existsSync(path.join(p.projectDir, "node_modules", "native")), false);
    await install(p.c, { projectDir: p.projectDir, client: p.client, force: true });
    assert.ok(fs.existsSync(path.join(p.projectDir, "node_modules", "native", "index.js")));
  } finally {
    await p.close();
  }
});

test("a required package whose engines.node rules out this node stops a yarn.lock install, unless --ignore-engines", async () => {
  // No node is older than 0.1: whichever node is on PATH, yarn would refuse this.
  const p = await oneDependency({ engines: { node: "<0.1" } });
  try {
    await assert.rejects(
      install(p.c, { projectDir: p.projectDir, client: p.client, force: true }),
      /native@1\.0\.0 needs engine node <0\.1 \(node is \d+\.\d+\.\d+\); yarn stops here too\. Pass --ignore-engines/,
    );
    assert.equal(fs.existsSync(path.join(p.projectDir, "node_modules", "native")), false);
    // The store remembers the node it asked, so the next install need not run it again.
    const asked = p.c.get(T.index).db.prepare("SELECT key, value FROM meta WHERE key LIKE 'node-version %'")
      .all();
    const real = spawnSync("node", ["--version"], { encoding: "utf8" }).stdout.trim();
    assert.deepEqual(asked.map((row) => row.value), [real.slice(1)]);
    await install(p.c, { projectDir: p.projectDir, client: p.client, ignoreEngines: true });
    assert.ok(fs.existsSync(path.join(p.projectDir, "node_modules", "native", "index.js")));
  } finally {
    await p.close();
  }
});

test("a yarn.lock's local folders: a bare path or file: is copied, link: is symlinked, a file: tarball is unpacked", async () => {
  const specs: PkgSpec[] = [{ name: "packed", files: { "index.js": "packed" } }];
  const p = await makeProject(specs);
  try {
    const dir = (...rest: string[]) => path.join(p.projectDir, ...rest);
    for (const name of ["copied", "linked"]) {
      fs.mkdirSync(dir("vendor", name), { recursive: true });
      fs.writeFileSync(dir("vendor", name, "package.json"), JSON.stringify({ name, version: "0.0.0" }));
      fs.writeFileSync(dir("vendor", name, "index.js"), name);
    }
    const tgz = await tarballOf(specs[0]);
    fs.writeFileSync(dir("vendor", "packed-1.0.0.tgz"), tgz);
    const sha1 = crypto.createHash("sha1").update(tgz).digest("hex");
    // As yarn 1 writes them: no `resolved` for folders, the sha1 after a local tarball's path.
    replaceLockfile(p.projectDir, {
      "yarn.lock": [
        `"copied@./vendor/copied":\n  version "0.0.0"`,
        `"linked@link:./vendor/linked":\n  version "0.0.0"`,
        `"packed@file:./vendor/packed-1.0.0.tgz":\n  version "1.0.0"\n  resolved "file:./vendor/packed-1.0.0.tgz#${sha1}"`,
      ].join("\n\n") + "\n",
      "package.json": {
        name: "app",
        dependencies: {
          copied: "./vendor/copied",
          linked: "link:./vendor/linked",
          packed: "file:./vendor/packed-1.0.0.tgz",
        },
      },
    });
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    const nm = (...rest: string[]) => dir("node_modules", ...rest);
    assert.equal(fs.lstatSync(nm("copied")).isDirectory(), true);
    assert.equal(fs.readFileSync(nm("copied", "index.js"), "utf8"), "copied");
    assert.equal(fs.lstatSync(nm("linked")).isSymbolicLink(), true);
    assert.equal(fs.realpathSync(nm("linked")), fs.realpathSync(dir("vendor", "linked")));
    assert.equal(fs.readFileSync(nm("packed", "index.js"), "utf8"), "packed");
  } finally {
    await p.close();
  }
});
