/**
 * Lockfiles -> one {@link Graph}: detection, parsing, and choosing what to install.
 *
 * @example
 * ```ts
 * import { currentPlatform, readLockfile, selectPackages } from "./src/lockfile/mod.ts";
 * const graph = await readLockfile(".");
 * const { install, skipped } = selectPackages(graph, { prod: false, platform: currentPlatform() });
 * ```
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LockfileError } from "./errors.ts";
import type { Graph } from "./graph.ts";
import { parseNpmLockfile } from "./npm.ts";
import { parsePnpmLockfile } from "./pnpm.ts";
import { readAllowedScripts } from "./scripts.ts";

export type { Dependency, Graph, GraphWarning, Importer, PackageNode, Resolution } from "./graph.ts";
export { LockfileError, SUPPORTED_FORMATS } from "./errors.ts";
export { nameFromKey, parseNpmLockfile, resolveKey } from "./npm.ts";
export { type DepPath, parseDepPath, parsePnpmLockfile, pnpmDirName, refToDepPath } from "./pnpm.ts";
export {
  currentPlatform,
  matchesPlatform,
  type Platform,
  platformMismatch,
  type PlatformProbe,
} from "./platform.ts";
export {
  type Selection,
  type SelectOptions,
  selectPackages,
  type Skipped,
  type SkipReason,
} from "./select.ts";
export { readAllowedScripts } from "./scripts.ts";
export { markDevOptional, reach, type Reached, type WalkOptions } from "./walk.ts";

/** Lockfiles looked for, in order of preference (npm-shrinkwrap.json wins over package-lock.json, as in npm). */
export const LOCKFILE_NAMES = ["npm-shrinkwrap.json", "package-lock.json", "pnpm-lock.yaml"] as const;

/**
 * Find and parse the project's lockfile, and fill `allowedScripts` from its configuration.
 * Throws a {@link LockfileError} when none exists, or when it is malformed or of an unsupported version.
 *
 * @example
 * ```ts
 * const graph = await readLockfile("/path/to/project");
 * console.log(graph.source, graph.packages.size);
 * ```
 */
export async function readLockfile(projectDir: string): Promise<Graph> {
  for (const name of LOCKFILE_NAMES) {
    const file = join(projectDir, name);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") continue;
      throw new LockfileError(file, `cannot be read (${(e as Error).message}). Check its permissions.`, {
        cause: e,
      });
    }
    const graph = name === "pnpm-lock.yaml" ? parsePnpmLockfile(text, file) : parseNpmLockfile(text, file);
    graph.allowedScripts = await readAllowedScripts(projectDir);
    return graph;
  }
  throw new LockfileError(
    projectDir,
    `no lockfile found (looked for ${LOCKFILE_NAMES.join(", ")}). silo restores node_modules from an ` +
      "existing lockfile: run `npm install --package-lock-only` or `pnpm install --lockfile-only` first.",
  );
}
