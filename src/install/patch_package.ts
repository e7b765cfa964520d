/**
 * patch-package (https://github.com/ds300/patch-package), run from the project's own `postinstall`,
 * rewrites files of the packages it has patches for, in place. Through a hard link that would write into
 * the store's inode, which every other project shares; so those packages get copies, as packages whose
 * own scripts run do.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { readJsonObject } from "../lockfile/json.ts";

/**
 * The names of the packages the project's patch-package run will rewrite: empty unless one of the
 * root's scripts calls patch-package; else one per `<name>+<version>[...].patch` file in its patch folder
 * (`patches`, or `--patch-dir`). A nested patch (`a++b+1.0.0.patch`) names its last package.
 *
 * @example
 * ```ts ignore
 * patchPackageTargets("/app"); // Set { "react-native", "@babel/core" }
 * ```
 */
export function patchPackageTargets(projectDir: string): Set<string> {
  const targets = new Set<string>();
  const scripts = readJsonObject(path.join(projectDir, "package.json")).scripts;
  const calls = Object.values(scripts && typeof scripts === "object" ? scripts : {}).filter((
    s,
  ): s is string => typeof s === "string")
    .filter((s) => s.includes("patch-package"));
  if (calls.length === 0) return targets;
  const dirs = new Set(
    calls.map((s) => /patch-package\b[^;&|]*--patch-dir[= ]+("?)([^\s"]+)\1/.exec(s)?.[2] ?? "patches"),
  );
  for (const dir of dirs) {
    let files: string[];
    try {
      files = fs.readdirSync(path.join(projectDir, dir));
    } catch {
      continue;
    }
    for (const file of files) {
      if (!file.endsWith(".patch")) continue;
      const last = file.slice(0, -".patch".length).split("++").at(-1)!;
      const parts = last.split("+");
      const name = parts[0].startsWith("@") && parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0];
      if (name) targets.add(name);
    }
  }
  return targets;
}
