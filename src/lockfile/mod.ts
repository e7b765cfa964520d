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
import path from "node:path";
import type { Graph } from "./graph.ts";
import { type LocatedLockfile, locateLockfile } from "./locate.ts";
import { parseBunLockfile } from "./bun.ts";
import { parseNpmLockfile } from "./npm.ts";
import { parsePnpmLockfile } from "./pnpm.ts";
import { readAllowedScripts } from "./scripts.ts";
import { readYarnProject } from "./yarn.ts";
import { hoistYarn } from "./yarn_hoist.ts";

export type { Dependency, Graph, GraphWarning, Importer, PackageNode, Resolution } from "./graph.ts";
export { LockfileError, SUPPORTED_FORMATS } from "./errors.ts";
export { nameFromKey, parseNpmLockfile, resolveKey } from "./npm.ts";
export { parseBunLockfile } from "./bun.ts";
export { readYarnProject, type YarnProject, type YarnRef } from "./yarn.ts";
export { hoistYarn, type YarnFacts, type YarnLayout } from "./yarn_hoist.ts";
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
export {
  addExcludedLinks,
  assertLockfileInSync,
  findSettingMismatches,
  findSpecifierMismatches,
  type SpecifierMismatch,
} from "./manifest_sync.ts";
export { markDevOptional, reach, type Reached, type WalkOptions } from "./walk.ts";

export { type LocatedLockfile, locateLockfile, LOCKFILE_NAMES } from "./locate.ts";

/** Parse a located lockfile with the parser for its kind. */
export function parseLockfile(located: LocatedLockfile): Graph {
  switch (located.name) {
    case "pnpm-lock.yaml":
      return parsePnpmLockfile(located.text, located.file);
    case "bun.lock":
      return parseBunLockfile(located.text, located.file);
    case "yarn.lock":
      // Without the packages' package.json files (the installer reads them from the store), so peer
      // dependencies cannot hold a package back: the layout may differ from yarn's where they would.
      return hoistYarn(readYarnProject(located.text, located.file, path.dirname(located.file)), () => ({
        peers: {},
      })).graph;
    default:
      return parseNpmLockfile(located.text, located.file);
  }
}

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
  const graph = parseLockfile(locateLockfile(projectDir));
  graph.allowedScripts = await readAllowedScripts(projectDir);
  return graph;
}
