/**
 * Installing from a bun.lock: bun's hoisted tree from the lockfile's install paths, through the loopback
 * registry, and which layout bun would build (the isolated one is refused, naming why).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { test } from "node:test";
import { install } from "../../src/install/install.ts";
import { assertBunHoisted, bunLinker } from "../../src/install/bun_settings.ts";
import { nativeBinRedirect } from "../../src/install/bun_native_bins.ts";
import { parseBunLockfile } from "../../src/lockfile/bun.ts";
import { makeProject, type PkgSpec, replaceLockfile, tarballOf } from "./_support.ts";
import { sri } from "../support/tarball.ts";
import { tempDir } from "../support/store.ts";

const other = process.platform === "win32" ? "linux" : "win32";

/** Packages of the project below; two versions of `dep`, and three packages offering the command `tool`. */
const SPECS: PkgSpec[] = [
  { name: "lib", deps: { dep: "1.0.0", aaa: "1.0.0", native: "1.0.0" }, files: { "index.js": "lib" } },
  { name: "dep", version: "1.0.0", files: { "index.js": "dep 1" }, transitive: true },
  { name: "dep", version: "2.0.0", files: { "cli.js": "dep 2" }, bin: { tool: "cli.js" } },
  { name: "aaa", files: { "cli.js": "aaa" }, bin: { tool: "cli.js" }, transitive: true },
  { name: "native", files: { "index.js": "native" }, manifest: { os: [other] }, transitive: true },
  { name: "devtool", files: { "index.js": "devtool" }, dev: true },
];

/** The bun.lock bun writes for SPECS: `dep@1` nested under lib, the rest hoisted. */
async function bunLockOf(specs: PkgSpec[]): Promise<string> {
  const integrity = async (name: string, version = "1.0.0") =>
    sri(await tarballOf(specs.find((s) => s.name === name && (s.version ?? "1.0.0") === version)!));
  const entry = async (
    name: string,
    version: string,
    info: Record<string, unknown> = {},
  ) => [`${name}@${version}`, "", info, await integrity(name, version)];
  return JSON.stringify(
    {
      lockfileVersion: 1,
      workspaces: {
        "": {
          name: "app",
          dependencies: { dep: "2.0.0", lib: "1.0.0" },
          devDependencies: { devtool: "1.0.0" },
        },
      },
      packages: {
        aaa: await entry("aaa", "1.0.0", { bin: { tool: "cli.js" } }),
        dep: await entry("dep", "2.0.0", { bin: { tool: "cli.js" } }),
        devtool: await entry("devtool", "1.0.0"),
        lib: await entry("lib", "1.0.0", { dependencies: { dep: "1.0.0", aaa: "1.0.0", native: "1.0.0" } }),
        native: await entry("native", "1.0.0", { os: other }),
        "lib/dep": await entry("dep", "1.0.0"),
      },
    },
    null,
    2,
  );
}

test("a bun.lock installs bun's hoisted tree: nested versions, a folder's own dependency's command, platform skips", async () => {
  const p = await makeProject(SPECS);
  try {
    replaceLockfile(p.projectDir, {
      "bun.lock": await bunLockOf(SPECS),
      "package.json": {
        name: "app",
        dependencies: { dep: "2.0.0", lib: "1.0.0" },
        devDependencies: { devtool: "1.0.0" },
      },
    });
    const nm = (...rest: string[]) => path.join(p.projectDir, "node_modules", ...rest);
    const summary = await install(p.c, { projectDir: p.projectDir, client: p.client, prod: true });
    assert.equal(summary.lockfile, "bun.lock");
    assert.equal(fs.readFileSync(nm("dep", "cli.js"), "utf8"), "dep 2");
    assert.equal(fs.readFileSync(nm("lib", "node_modules", "dep", "index.js"), "utf8"), "dep 1");
    // bun skips a package for another OS even when it is required (npm would stop, pnpm install it).
    assert.equal(fs.existsSync(nm("native")), false);
    assert.ok(summary.skipped.some((s) => s.id === "node_modules/native"));
    assert.equal(fs.existsSync(nm("devtool")), false, "--prod");
    // `aaa` sorts first but was only hoisted here; the root's own dependency keeps the name, as in bun.
    assert.equal(fs.readlinkSync(nm(".bin", "tool")), path.join("..", "dep", "cli.js"));

    const full = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(full.upToDate, false);
    assert.ok(fs.existsSync(nm("devtool", "index.js")));
  } finally {
    await p.close();
  }
});

test("bun's linker: a configVersion 1 workspace is isolated unless bunfig.toml says hoisted; the refusal says what to do", () => {
  const dir = tempDir("silo-bunfig-");
  const env = { HOME: path.join(dir, "home") };
  try {
    const lock = (configVersion: number, workspace: boolean) =>
      parseBunLockfile(JSON.stringify({
        lockfileVersion: 1,
        configVersion,
        workspaces: { "": { name: "r" }, ...(workspace ? { "packages/a": { name: "a" } } : {}) },
        packages: {},
      }));
    assert.equal(bunLinker(dir, lock(1, false), env).linker, "hoisted");
    assert.equal(bunLinker(dir, lock(0, true), env).linker, "hoisted");
    assert.equal(bunLinker(dir, lock(1, true), env).linker, "isolated");
    assert.throws(
      () => assertBunHoisted(dir, lock(1, true)),
      /isolated linker \(bun's default for a workspace whose bun\.lock has configVersion 1\); silo builds bun's hoisted layout only\. Set linker = "hoisted" under \[install\] in bunfig\.toml/,
    );
    fs.writeFileSync(path.join(dir, "bunfig.toml"), '[install]\nlinker = "hoisted" # as npm\n');
    assert.equal(bunLinker(dir, lock(1, true), env).linker, "hoisted");
    fs.writeFileSync(path.join(dir, "bunfig.toml"), '[install]\nlinker = "isolated"\n');
    assert.match(bunLinker(dir, lock(0, false), env).from, /bunfig\.toml sets linker = "isolated"/);
    fs.writeFileSync(path.join(dir, "bunfig.toml"), "[install\n");
    assert.throws(() => bunLinker(dir, lock(0, false), env), /bunfig\.toml is not valid TOML/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("bun links esbuild's command (or nativeDependencies') at the installed platform package's binary", () => {
  const dir = tempDir("silo-native-");
  try {
    const graph = parseBunLockfile(JSON.stringify({
      lockfileVersion: 1,
      workspaces: { "": { name: "r", dependencies: { esbuild: "1.0.0", mytool: "1.0.0", other: "1.0.0" } } },
      packages: {
        esbuild: ["esbuild@1.0.0", "", {
          optionalDependencies: { "@esbuild/here": "1.0.0", "@esbuild/there": "1.0.0" },
          bin: { esbuild: "bin/esbuild" },
        }, "sha512-e"],
        "@esbuild/here": ["@esbuild/here@1.0.0", "", {}, "sha512-h"],
        "@esbuild/there": ["@esbuild/there@1.0.0", "", {}, "sha512-t"],
        mytool: ["mytool@1.0.0", "", {
          optionalDependencies: { "mytool-bin": "1.0.0" },
          bin: { mytool: "cli.js" },
        }, "sha512-m"],
        "mytool-bin": ["mytool-bin@1.0.0", "", {}, "sha512-b"],
        other: ["other@1.0.0", "", {
          optionalDependencies: { "mytool-bin": "1.0.0" },
          bin: { other: "cli.js" },
        }, "sha512-o"],
      },
    }));
    const installed = new Set([
      "node_modules/esbuild",
      "node_modules/@esbuild/here",
      "node_modules/mytool",
      "node_modules/mytool-bin",
      "node_modules/other",
    ]);
    const files = new Set([
      "node_modules/@esbuild/here:bin/esbuild",
      "node_modules/@esbuild/there:bin/esbuild",
      "node_modules/mytool-bin:cli.js",
    ]);
    const redirect = () =>
      nativeBinRedirect(graph, dir, (id) => installed.has(id), (id, file) => files.has(`${id}:${file}`));
    assert.equal(
      redirect()("node_modules/esbuild", "bin/esbuild"),
      "node_modules/@esbuild/here/bin/esbuild",
      "the installed one",
    );
    assert.equal(
      redirect()("node_modules/esbuild", "lib/main.js"),
      undefined,
      "a file the platform package lacks",
    );
    assert.equal(redirect()("node_modules/mytool", "cli.js"), undefined, "not listed");
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ nativeDependencies: ["mytool"] }));
    assert.equal(redirect()("node_modules/mytool", "cli.js"), "node_modules/mytool-bin/cli.js");
    assert.equal(
      redirect()("node_modules/mytool", "bin/cli.js"),
      "node_modules/mytool-bin/cli.js",
      "at its top",
    );
    assert.equal(redirect()("node_modules/esbuild", "bin/esbuild"), undefined, "the list replaces bun's");
    assert.equal(redirect()("node_modules/other", "cli.js"), undefined);
    assert.equal(
      nativeBinRedirect({ ...graph, source: "package-lock.json" }, dir, () => true, () => true)(
        "node_modules/esbuild",
        "bin/esbuild",
      ),
      undefined,
      "npm and pnpm link the launcher",
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
