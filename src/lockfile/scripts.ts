/**
 * Which packages may run lifecycle scripts, from the project's own configuration.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/**
 * Names allowed to run install scripts: package.json `trustedDependencies` (bun) and
 * `pnpm.onlyBuiltDependencies`, pnpm-workspace.yaml `onlyBuiltDependencies` and the `true`
 * entries of `allowBuilds`. Missing or unreadable files contribute nothing: a malformed
 * package.json is reported by whoever needs it, not here.
 *
 * @example
 * ```ts
 * const allowed = await readAllowedScripts("."); // ["esbuild", "sharp"]
 * ```
 */
export function readAllowedScripts(projectDir: string): Promise<string[]> {
  const names = new Set<string>();
  const add = (list: unknown) => {
    if (Array.isArray(list)) { for (const n of list) if (typeof n === "string") names.add(n); }
  };
  const manifest = readOptional(join(projectDir, "package.json"), (t) => JSON.parse(t));
  if (manifest && typeof manifest === "object") {
    add(manifest.trustedDependencies);
    add(manifest.pnpm?.onlyBuiltDependencies);
  }
  const workspace = readOptional(join(projectDir, "pnpm-workspace.yaml"), (t) => parse(t));
  if (workspace && typeof workspace === "object") {
    add(workspace.onlyBuiltDependencies);
    const allow = workspace.allowBuilds;
    if (allow && typeof allow === "object" && !Array.isArray(allow)) {
      for (const [name, ok] of Object.entries(allow)) if (ok === true) names.add(name);
    }
  }
  return Promise.resolve([...names].sort());
}

// deno-lint-ignore no-explicit-any
function readOptional(path: string, parseText: (text: string) => any): any {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    return parseText(text);
  } catch {
    return undefined;
  }
}
