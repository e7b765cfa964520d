/**
 * bun's shortcut for launchers of native binaries: the command of esbuild (and of the packages a project's
 * package.json lists under `nativeDependencies`) is linked straight at the same file in the platform package
 * that was installed for it (`.bin/esbuild -> ../@esbuild/linux-x64/bin/esbuild`), skipping the JavaScript
 * launcher; when that package lacks the file, the package's own command is linked.
 *
 * @module
 */
import path from "node:path";
import type { Graph } from "../lockfile/graph.ts";
import { readJsonObject } from "../lockfile/json.ts";

/** Packages bun treats so without being asked (its default list). */
const BUN_NATIVE_DEPENDENCIES = ["esbuild", "@anthropic-ai/claude-code"];

/**
 * For a package of a bun.lock graph, where its command `relative` (a path inside the package) is linked from
 * instead: the folder of the installed optional dependency that has that file. Undefined for everything else.
 *
 * @example
 * ```ts ignore
 * const redirect = nativeBinRedirect(graph, "/app", installed, hasFile);
 * redirect("node_modules/esbuild", "bin/esbuild"); // "node_modules/@esbuild/linux-x64"
 * ```
 */
export function nativeBinRedirect(
  graph: Graph,
  projectDir: string,
  installed: (id: string) => boolean,
  hasFile: (id: string, relative: string) => boolean,
): (id: string, relative: string) => string | undefined {
  if (graph.source !== "bun.lock") return () => undefined;
  const listed = readJsonObject(path.join(projectDir, "package.json")).nativeDependencies;
  const native = new Set([
    ...BUN_NATIVE_DEPENDENCIES,
    ...(Array.isArray(listed) ? listed.filter((n) => typeof n === "string") : []),
  ]);
  return (id, relative) => {
    const node = graph.packages.get(id);
    if (!node || !native.has(node.name)) return undefined;
    for (const dep of node.dependencies) {
      const target = dep.target.id;
      if (
        dep.optional && dep.target.kind === "package" && target && installed(target) &&
        hasFile(target, relative)
      ) {
        return graph.packages.get(target)!.location;
      }
    }
    return undefined;
  };
}
