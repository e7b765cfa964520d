/**
 * Where pnpm reads a project's layout settings from, and their names. Its own module: the up-to-date
 * check hashes these files and must not load a YAML parser to do so.
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

/** The settings that shape the isolated layout: `.npmrc` name -> pnpm-workspace.yaml name. */
export const LAYOUT_SETTINGS: Readonly<Record<string, string>> = {
  "node-linker": "nodeLinker",
  "hoist": "hoist",
  "hoist-pattern": "hoistPattern",
  "public-hoist-pattern": "publicHoistPattern",
  "shamefully-hoist": "shamefullyHoist",
  "hoist-workspace-packages": "hoistWorkspacePackages",
  "virtual-store-dir-max-length": "virtualStoreDirMaxLength",
};

/**
 * Settings that change where or what pnpm installs which silo does not implement (`.npmrc` name ->
 * pnpm-workspace.yaml name), with what silo does about them: "refuse" when the tree would be somewhere else
 * than the project expects it, "ignore" (with a warning) when silo's tree still serves this machine.
 */
export const UNSUPPORTED_SETTINGS: Readonly<Record<string, { name: string; action: "refuse" | "ignore" }>> = {
  "modules-dir": { name: "modulesDir", action: "refuse" },
  "virtual-store-dir": { name: "virtualStoreDir", action: "refuse" },
  "enable-modules-dir": { name: "enableModulesDir", action: "refuse" },
  "dedupe-direct-deps": { name: "dedupeDirectDeps", action: "ignore" },
  "shared-workspace-lockfile": { name: "sharedWorkspaceLockfile", action: "ignore" },
  "enable-global-virtual-store": { name: "enableGlobalVirtualStore", action: "ignore" },
  "config-dependencies": { name: "configDependencies", action: "ignore" },
};

/**
 * The lines of `.npmrc` text that set a layout setting (a token elsewhere in the file is no reason to
 * reinstall).
 *
 * @example
 * ```ts
 * import { layoutLines } from "./pnpm_settings_files.ts";
 * layoutLines("//r/:_authToken=x\nshamefully-hoist=true\n"); // "shamefully-hoist=true"
 * ```
 */
export function layoutLines(npmrc: string): string {
  return npmrc.split("\n").filter((line) => {
    const key = line.split("=")[0].trim().replace(/\[\]$/, "");
    return key in LAYOUT_SETTINGS || key in UNSUPPORTED_SETTINGS;
  }).join("\n");
}
