/**
 * A located lockfile -> its {@link Graph}, loading only the parser its format needs (an install of an npm
 * project does not load the YAML, JSONC or yarn parsers).
 *
 * @module
 */
import path from "node:path";
import type { Graph } from "./graph.ts";
import type { LocatedLockfile } from "./locate.ts";

/**
 * Parse a located lockfile with the parser for its kind.
 *
 * @example
 * ```ts ignore
 * const graph = await parseLockfile(locateLockfile("."));
 * ```
 */
export async function parseLockfile(located: LocatedLockfile): Promise<Graph> {
  switch (located.name) {
    case "pnpm-lock.yaml":
      return (await import("./pnpm.ts")).parsePnpmLockfile(located.text, located.file);
    case "bun.lock":
      return (await import("./bun.ts")).parseBunLockfile(located.text, located.file);
    case "yarn.lock": {
      // Without the packages' package.json files (the installer reads them from the store), so peer
      // dependencies cannot hold a package back: the layout may differ from yarn's where they would.
      const [{ readYarnProject }, { hoistYarn }] = await Promise.all([
        import("./yarn.ts"),
        import("./yarn_hoist.ts"),
      ]);
      const project = readYarnProject(located.text, located.file, path.dirname(located.file));
      return hoistYarn(project, () => ({ peers: {} })).graph;
    }
    default:
      return (await import("./npm.ts")).parseNpmLockfile(located.text, located.file);
  }
}
