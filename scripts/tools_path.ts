/**
 * PATH with the pinned tools first: .ci/run installs deno, bun and pnpm into
 * `$SILO_TOOLS_DIR` (default `~/.cache/silo-tools`); the benchmark and the tree
 * comparison run those peers, not whatever else is on the machine.
 *
 * @module
 */
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
