/**
 * Which packages may run lifecycle scripts, from the project's own configuration.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import satisfies from "semver/functions/satisfies.js";
import { parseYaml } from "./yaml.ts";

/**
 * Packages allowed to run install scripts: package.json `trustedDependencies` (bun),
 * `pnpm.onlyBuiltDependencies` and the `true` entries of `allowScripts` (npm 11's `npm approve-scripts`),
 * pnpm-workspace.yaml `onlyBuiltDependencies` and the `true` entries of `allowBuilds`. An entry is a name,
 * or `name@version` / `name@range` (see {@linkcode scriptsAllowed}). Missing or unreadable files contribute nothing: a malformed
 * package.json is reported by whoever needs it, not here.
 *
 * @example
 * ```ts
 * const allowed = await readAllowedScripts("."); // ["esbuild", "sharp"]
 * ```
 */
export async function readAllowedScripts(projectDir: string): Promise<string[]> {
  const names = new Set<string>();
  const add = (list: unknown) => {
    if (Array.isArray(list)) { for (const n of list) if (typeof n === "string") names.add(n); }
  };
  const addTrue = (map: unknown) => {
    if (map && typeof map === "object" && !Array.isArray(map)) {
      for (const [name, ok] of Object.entries(map)) if (ok === true) names.add(name);
    }
  };
  const manifest = await readOptional(join(projectDir, "package.json"), (t) => JSON.parse(t));
  if (manifest && typeof manifest === "object") {
    add(manifest.trustedDependencies);
    add(manifest.pnpm?.onlyBuiltDependencies);
    addTrue(manifest.allowScripts);
  }
  const workspace = await readOptional(join(projectDir, "pnpm-workspace.yaml"), parseYaml);
  if (workspace && typeof workspace === "object") {
    add(workspace.onlyBuiltDependencies);
    addTrue(workspace.allowBuilds);
  }
  return [...names].sort();
}

/**
 * Whether the allow-list `allowed` lets `name@version` run its scripts: an entry naming the package, or
 * `name@<version or range>` that the version satisfies (npm writes `esbuild@0.25.0`, pnpm accepts the same).
 *
 * @example
 * ```ts
 * scriptsAllowed(new Set(["esbuild@0.25.x", "sharp"]), "esbuild", "0.25.2"); // true
 * ```
 */
export function scriptsAllowed(allowed: ReadonlySet<string>, name: string, version: string): boolean {
  if (allowed.has(name)) return true;
  for (const entry of allowed) {
    if (entry.length > name.length + 1 && entry.startsWith(`${name}@`)) {
      const range = entry.slice(name.length + 1);
      if (range === version || satisfies(version, range, { loose: true })) return true;
    }
  }
  return false;
}

// deno-lint-ignore no-explicit-any
async function readOptional(path: string, parseText: (text: string) => unknown): Promise<any> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    return await parseText(text);
  } catch {
    return undefined;
  }
}
