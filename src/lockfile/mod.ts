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
import type { Graph } from "./graph.ts";
import { locateLockfile } from "./locate.ts";
import { parseLockfile } from "./parse.ts";
import { readAllowedScripts } from "./scripts.ts";

export type { Dependency, Graph, GraphWarning, Importer, PackageNode, Resolution } from "./graph.ts";
export { LockfileError, SUPPORTED_FORMATS } from "./errors.ts";
export { nameFromKey, parseNpmLockfile, resolveKey } from "./npm.ts";
export { parseBunLockfile } from "./bun.ts";
export { readYarnProject, type YarnProject, type YarnRef } from "./yarn.ts";
export { hoistYarn, type YarnFacts, type YarnLayout } from "./yarn_hoist.ts";
export { type DepPath, parseDepPath, parsePnpmLockfile, refToDepPath } from "./pnpm.ts";
export { pnpmDirName } from "./pnpm_names.ts";
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
export {
  addExcludedLinks,
  assertLockfileInSync,
  findSettingMismatches,
  findSpecifierMismatches,
  type SpecifierMismatch,
} from "./manifest_sync.ts";
export { markDevOptional, reach, type Reached, type WalkOptions } from "./walk.ts";

export { type LocatedLockfile, locateLockfile, LOCKFILE_NAMES } from "./locate.ts";
export { parseLockfile } from "./parse.ts";

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
  const graph = await parseLockfile(locateLockfile(projectDir));
  graph.allowedScripts = await readAllowedScripts(projectDir);
  return graph;
}
