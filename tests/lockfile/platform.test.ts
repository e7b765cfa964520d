import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  currentPlatform,
  matchesPlatform,
  nodeBinaryId,
  platformMismatch,
  withSupportedArchitectures,
} from "../../src/lockfile/platform.ts";
import { LINUX_X64 } from "./_fixtures.ts";

test("os/cpu lists: plain, negated, mixed and any", () => {
  assert.equal(matchesPlatform({}, LINUX_X64), true);
  assert.equal(matchesPlatform({ os: ["linux"], cpu: ["x64"] }, LINUX_X64), true);
  assert.equal(matchesPlatform({ os: ["darwin", "win32"] }, LINUX_X64), false);
  assert.equal(matchesPlatform({ os: ["!win32"] }, LINUX_X64), true);
  assert.equal(matchesPlatform({ os: ["!linux"] }, LINUX_X64), false);
  assert.equal(matchesPlatform({ cpu: ["!arm64", "!ia32"] }, LINUX_X64), true);
  // A positive entry next to negations still requires a match, as in npm.
  assert.equal(matchesPlatform({ cpu: ["arm64", "!ia32"] }, LINUX_X64), false);
  assert.equal(matchesPlatform({ os: ["any"] }, LINUX_X64), true);
  assert.equal(matchesPlatform({ os: [] }, LINUX_X64), true);
  assert.equal(platformMismatch({ os: ["darwin"] }, LINUX_X64), "os linux not in [darwin]");
  assert.equal(platformMismatch({ cpu: ["arm64"] }, LINUX_X64), "cpu x64 not in [arm64]");
});

test("libc: compared on Linux only; any libc constraint fails elsewhere", () => {
  assert.equal(matchesPlatform({ libc: ["glibc"] }, LINUX_X64), true);
  assert.equal(platformMismatch({ libc: ["musl"] }, LINUX_X64), "libc glibc not in [musl]");
  const musl = { ...LINUX_X64, libc: "musl" as const };
  assert.equal(matchesPlatform({ libc: ["musl"] }, musl), true);
  assert.equal(matchesPlatform({ libc: ["glibc"] }, { ...LINUX_X64, libc: null }), false);
  const mac = { os: "darwin", cpu: "arm64", libc: null };
  assert.equal(matchesPlatform({ libc: ["glibc"] }, mac), false);
  assert.equal(matchesPlatform({ os: ["darwin"], cpu: ["arm64"] }, mac), true);
});

test("a field given as one string (as package.json files often do) is a one-entry list", () => {
  // sass-embedded-linux-x64's package.json says "libc": "glibc": read as a list of letters, it failed.
  assert.equal(platformMismatch({ libc: "glibc" }, LINUX_X64), null);
  assert.equal(platformMismatch({ libc: "musl" }, LINUX_X64), "libc glibc not in [musl]");
  assert.equal(platformMismatch({ os: "linux", cpu: "x64" }, LINUX_X64), null);
  assert.equal(platformMismatch({ os: "!linux" }, LINUX_X64), "os linux not in [!linux]");
  assert.equal(platformMismatch({ cpu: "arm64" }, LINUX_X64), "cpu x64 not in [arm64]");
  // Other types constrain nothing, as in npm-install-checks.
  assert.equal(platformMismatch({ os: 42 } as never, LINUX_X64), null);
});

test("pnpm's supportedArchitectures: each field's list replaces the machine's value, 'current' standing for it", () => {
  const wide = withSupportedArchitectures(LINUX_X64, { cpu: ["current", "arm64"], libc: ["glibc", "musl"] });
  assert.deepEqual(wide.supported, { cpu: ["x64", "arm64"], libc: ["glibc", "musl"] });
  assert.equal(platformMismatch({ os: ["linux"], cpu: ["arm64"], libc: ["musl"] }, wide), null);
  assert.equal(platformMismatch({ os: ["darwin"], cpu: ["arm64"] }, wide), "os linux not in [darwin]");
  assert.equal(platformMismatch({ cpu: ["!arm64"] }, wide), "cpu x64|arm64 not in [!arm64]");
  // Without "current", this machine is not installed for.
  const macOnly = withSupportedArchitectures(LINUX_X64, { os: ["darwin"] });
  assert.equal(platformMismatch({ os: ["linux"] }, macOnly), "os darwin not in [linux]");
  assert.equal(withSupportedArchitectures(LINUX_X64, undefined), LINUX_X64);
});

test("currentPlatform: injectable probes for glibc, musl and non-Linux", () => {
  const none = () => [];
  const { nodeVersion, ...glibc } = currentPlatform({
    platform: "linux",
    arch: "arm64",
    report: () => ({ header: { glibcVersionRuntime: "2.36" } }),
    nodeVersion: () => "20.1.0",
  });
  assert.deepEqual(glibc, { os: "linux", cpu: "arm64", libc: "glibc" });
  assert.equal(nodeVersion?.(), "20.1.0");
  const musl = currentPlatform({
    platform: "linux",
    arch: "x64",
    report: () => ({ header: {} }),
    readdir: (d) => d === "/lib" ? ["ld-musl-x86_64.so.1", "libc.musl-x86_64.so.1"] : [],
  });
  assert.equal(musl.libc, "musl");
  const throwing = currentPlatform({
    platform: "linux",
    arch: "x64",
    report: () => {
      throw new Error("not implemented");
    },
    readdir: (d) => d === "/lib64" ? ["ld-linux-x86-64.so.2"] : [],
  });
  assert.equal(throwing.libc, "glibc");
  const unknown = currentPlatform({
    platform: "linux",
    arch: "x64",
    report: () => undefined,
    readdir: none,
    exists: () => false,
  });
  assert.equal(unknown.libc, null);
  assert.equal(currentPlatform({ platform: "darwin", arch: "arm64" }).libc, null);
  // The real machine: whatever it is, it is consistent with process.
  const here = currentPlatform();
  assert.equal(typeof here.os, "string");
  if (here.os !== "linux") assert.equal(here.libc, null);
});

test("the node on PATH is asked for its version (not this runtime's own process.version)", () => {
  const version = currentPlatform().nodeVersion?.();
  const r = spawnSync("node", ["--version"], { encoding: "utf8" });
  assert.equal(version, r.stdout.trim().replace(/^v/, ""));
});

test("the node on PATH is asked its version once per binary: the cache answers until the binary changes", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "silo-node-"));
  try {
    // A stand-in `node` that counts its runs; an earlier PATH entry without one is passed over.
    const node = path.join(dir, "bin", "node");
    fs.mkdirSync(path.dirname(node));
    fs.mkdirSync(path.join(dir, "empty"));
    const runs = path.join(dir, "runs");
    const script = (version: string) =>
      fs.writeFileSync(node, `#!/bin/sh\necho x >> '${runs}'\necho v${version}\n`, { mode: 0o755 });
    script("18.1.0");
    const searchPath = [path.join(dir, "empty"), path.dirname(node)].join(path.delimiter);
    const cache = new Map<string, string>();
    const nodeVersions = {
      get: (id: string) => cache.get(id),
      set: (id: string, v: string) => void cache.set(id, v),
    };
    const ask = () => currentPlatform({ path: searchPath, nodeVersions }).nodeVersion?.();
    const ran = () => fs.existsSync(runs) ? fs.readFileSync(runs, "utf8").split("\n").length - 1 : 0;

    const platform = currentPlatform({ path: searchPath, nodeVersions });
    assert.equal(platform.nodeVersion?.(), "18.1.0");
    assert.equal(platform.nodeVersion?.(), "18.1.0");
    assert.equal(ran(), 1, "asked once per install");
    assert.deepEqual([...cache], [[nodeBinaryId(node, fs.statSync(node)), "18.1.0"]]);

    assert.equal(ask(), "18.1.0", "a later install takes it from the cache");
    assert.equal(ran(), 1);

    // An upgrade in place (same path, same size) changes the mtime: asked again.
    const { mtime } = fs.statSync(node);
    script("20.5.1");
    fs.utimesSync(node, mtime, new Date(mtime.getTime() + 2000));
    assert.equal(ask(), "20.5.1");
    assert.equal(ran(), 2);
    assert.equal(cache.size, 2);

    // Nothing on PATH: no version, so engines rule nothing out; nothing is cached.
    assert.equal(currentPlatform({ path: path.join(dir, "empty"), nodeVersions }).nodeVersion?.(), undefined);
    assert.equal(cache.size, 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
