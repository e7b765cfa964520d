/**
 * YAML for the configuration files written in it (pnpm-workspace.yaml), with the library loaded on first
 * use: npm, bun and yarn projects have none, and loading it cost every install ~17 ms (measured under Deno)
 *
 * @module
 */

/**
 * Parse one YAML document; throws the library's error on malformed text.
 *
 * @example
 * ```ts
 * const doc = await parseYaml("onlyBuiltDependencies: [esbuild]");
 * console.log(doc); // { onlyBuiltDependencies: ["esbuild"] }
 * ```
 */
export async function parseYaml(text: string): Promise<unknown> {
  const { parse } = await import("yaml");
  return parse(text);
}
