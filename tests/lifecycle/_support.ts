/**
 * Helpers for the lifecycle tests: run the real CLI in child processes (on the runtime
 * running the tests), build small projects whose lockfile names packages served by the
 * loopback registry, and copy the real fixtures.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { tempDir as storeTempDir } from "../support/store.ts";
import { sri } from "../support/tarball.ts";

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The CLI entry point. */
export const MAIN = path.join(ROOT, "src/cli/main.ts");
/** The registry mirror of both fixtures (scripts/mirror.ts). */
export const MIRROR = path.join(ROOT, "bench/.mirror");
/** The shared fixtures. */
export const FIXTURES = path.resolve(ROOT, "../shared/fixtures");

/** argv prefix that runs a TypeScript file on the runtime running this test. */
export function runtimeArgv(script: string): string[] {
  return process.versions.bun ? [process.execPath, script] : [process.execPath, "run", "-A", script];
}

/** The outcome of one CLI run. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Start `silo ...args` as a child process; `done` resolves when it exits. */
export function spawnSilo(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): { child: ChildProcess; done: Promise<RunResult> } {
  const [cmd, ...rest] = runtimeArgv(MAIN);
  const child = spawn(cmd, [...rest, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NODE_ENV: "", NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "", stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Run `silo ...args` to completion. */
export function runSilo(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  return spawnSilo(args, options).done;
}

/** A fresh temp directory (see tests/support/store.ts's `removeTempDirs`). */
export function tempDir(prefix = "silo-life-"): string {
  return storeTempDir(prefix);
}

/** One registry package of a generated lockfile. */
export interface LockedPackage {
  name: string;
  version: string;
  /** The tarball, to compute the integrity from (unless `integrity` is given or null). */
  tgz?: Uint8Array;
  /** Explicit integrity; null leaves it out of the lockfile. */
  integrity?: string | null;
}

/** Write package.json and a package-lock.json v3 that depends on `packages` (all top level). */
export function writeProject(dir: string, packages: LockedPackage[]): void {
  fs.mkdirSync(dir, { recursive: true });
  const dependencies = Object.fromEntries(packages.map((p) => [p.name, p.version]));
  const lock: Record<string, unknown> = {
    name: "app",
    version: "1.0.0",
    lockfileVersion: 3,
    requires: true,
    packages: {
      "": { name: "app", version: "1.0.0", dependencies },
      ...Object.fromEntries(packages.map((p) => {
        const integrity = p.integrity === null ? undefined : p.integrity ?? (p.tgz ? sri(p.tgz) : undefined);
        return [`node_modules/${p.name}`, { version: p.version, ...(integrity ? { integrity } : {}) }];
      })),
    },
  };
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "app", version: "1.0.0", dependencies }, null, 2),
  );
  fs.writeFileSync(path.join(dir, "package-lock.json"), JSON.stringify(lock, null, 2));
}

/** Copy a fixture project (manifests and lockfile only) to a fresh folder. */
export function copyFixture(name: "mocha" | "svelte", dest: string): string {
  fs.cpSync(path.join(FIXTURES, name), dest, { recursive: true });
  return dest;
}

/** Whether the mirror holds both fixtures (scripts/mirror.ts fills it; the network is needed once). */
export function mirrorReady(): boolean {
  // One package from each fixture's lockfile; the mirror script fills both or fails.
  return fs.existsSync(path.join(MIRROR, "chai", "packument.json")) &&
    fs.existsSync(path.join(MIRROR, "esbuild", "packument.json"));
}

/** Fill the mirror from both fixture lockfiles if it is missing. */
export async function ensureMirror(): Promise<void> {
  if (mirrorReady()) return;
  const [cmd, ...rest] = runtimeArgv(path.join(ROOT, "scripts/mirror.ts"));
  const child = spawn(cmd, [
    ...rest,
    "--out",
    MIRROR,
    path.join(FIXTURES, "mocha/package-lock.json"),
    path.join(FIXTURES, "svelte/pnpm-lock.yaml"),
  ], { stdio: "inherit" });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`scripts/mirror.ts exited ${code}: the lifecycle tests need bench/.mirror`);
}

/** Run a shell command (mount, umount); throws with its stderr on failure. */
export function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on(
      "close",
      (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")}: ${err.trim()}`))),
    );
  });
}

/** Mount a tmpfs of `size` at `dir` (root only); returns an unmount function. */
export async function mountTmpfs(dir: string, size: string): Promise<() => Promise<void>> {
  fs.mkdirSync(dir, { recursive: true });
  await sh("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  return async () => {
    await sh("umount", ["-l", dir]).catch(() => {});
  };
}
