/**
 * bun's shortcut for launchers of native binaries: the command of esbuild (or, when the project's
 * package.json has `nativeDependencies`, of the packages it lists instead) is linked straight at the binary
 * in the platform package that was installed for it, skipping the JavaScript launcher: the same path
 * (`.bin/esbuild -> ../@esbuild/linux-x64/bin/esbuild`), else a file named like it at the platform package's
 * top (`.bin/biome -> ../@biomejs/cli-linux-x64/biome`). Without either, the package's own command is linked.
 *
 * @module
 */
import path from "node:path";
import type { Graph } from "../lockfile/graph.ts";
import { readJsonObject } from "../lockfile/json.ts";

/** Packages bun treats so without being asked (its default list). */
const BUN_NATIVE_DEPENDENCIES = ["esbuild", "@anthropic-ai/claude-code"];

/**
 * For a package of a bun.lock graph, what its command `relative` (a path inside the package) is linked at
 * instead: a file of the installed optional dependency, relative to the project. Undefined for everything else.
 *
 * @example
 * ```ts ignore
 * const redirect = nativeBinRedirect(graph, "/app", installed, hasFile);
 * redirect("node_modules/esbuild", "bin/esbuild"); // "node_modules/@esbuild/linux-x64/bin/esbuild"
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
  const native = new Set(
    Array.isArray(listed) ? listed.filter((n) => typeof n === "string") : BUN_NATIVE_DEPENDENCIES,
  );
  return (id, relative) => {
    const node = graph.packages.get(id);
    if (!node || !native.has(node.name)) return undefined;
    const top = path.posix.basename(relative);
    for (const dep of node.dependencies) {
      const target = dep.target.id;
      if (!dep.optional || dep.target.kind !== "package" || !target || !installed(target)) continue;
      const file = [relative, top].find((f) => hasFile(target, f));
      if (file) return `${graph.packages.get(target)!.location}/${file}`;
    }
    return undefined;
  };
}
