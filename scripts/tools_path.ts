/**
 * PATH with the pinned tools first: .ci/run installs deno, bun and pnpm into
 * `$SILO_TOOLS_DIR` (default `~/.cache/silo-tools`); the benchmark and the tree
 * comparison run those peers, not whatever else is on the machine.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";

/** PATH with `<tools>/node_modules/.bin` first, for each tools folder that exists. */
export function toolsPath(): string {
  const dirs = [process.env.SILO_TOOLS_DIR, path.join(os.homedir(), ".cache", "silo-tools")]
    .filter((d): d is string => !!d)
    .map((d) => path.join(d, "node_modules", ".bin"))
    .filter((d) => fs.existsSync(d));
  return [...dirs, process.env.PATH ?? ""].join(path.delimiter);
}

/** The pnpm the comparison builds reference trees with (the same pin as .ci/run). */
export const PNPM_VERSION = "12.21.0";

/**
 * Make sure a pnpm is installed; returns the command to run it. The pinned one (the default) goes on
 * {@linkcode toolsPath}: installed from the npm registry into `$SILO_TOOLS_DIR` (default
 * `~/.cache/silo-tools`) when missing, so a fresh machine with only Node.js and npm can run the
 * comparison. Another version (a fixture's own `packageManager` pin) gets a folder of its own there.
 */
export function ensurePnpm(version = PNPM_VERSION): string {
  const tools = process.env.SILO_TOOLS_DIR ?? path.join(os.homedir(), ".cache", "silo-tools");
  const dir = version === PNPM_VERSION ? tools : path.join(tools, `pnpm-${version}`);
  const command = version === PNPM_VERSION ? "pnpm" : path.join(dir, "node_modules", ".bin", "pnpm");
  const probe = spawnSync(command, ["--version"], {
    env: { ...process.env, PATH: toolsPath(), COREPACK_ENABLE_STRICT: "0" },
    encoding: "utf8",
  });
  if (probe.status === 0 && probe.stdout.trim() === version) return command;
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(path.join(dir, "package.json"))) {
    fs.writeFileSync(path.join(dir, "package.json"), '{"private":true}\n');
  }
  const install = spawnSync(
    "npm",
    ["install", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error", `pnpm@${version}`],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  if (install.status !== 0) throw new Error(`could not install pnpm@${version} into ${dir} with npm`);
  return command;
}
