/**
 * Where pnpm reads a project's settings from. Its own module: the up-to-date check hashes these files
 * and must not load a YAML parser to do so.
 *
 * @module
 */
import path from "node:path";
import process from "node:process";
import { type Env, userNpmrcPath } from "../fetch/npmrc.ts";

/**
 * The files pnpm reads settings from for the project at `projectDir`, lowest precedence first: the user's
 * `.npmrc`, the project's `.npmrc`, then pnpm-workspace.yaml (pnpm 10+).
 *
 * @example
 * ```ts
 * import { pnpmSettingsFiles } from "./pnpm_settings_files.ts";
 * pnpmSettingsFiles("/app", { npm_config_userconfig: "/home/me/.npmrc" });
 * // ["/home/me/.npmrc", "/app/.npmrc", "/app/pnpm-workspace.yaml"]
 * ```
 */
export function pnpmSettingsFiles(projectDir: string, env: Env = process.env): string[] {
  const user = userNpmrcPath(env);
  const project = path.join(projectDir, ".npmrc");
  return [...(user === project ? [] : [user]), project, path.join(projectDir, "pnpm-workspace.yaml")];
}
