/**
 * npm's own settings that change which packages `npm ci` installs or where: `omit`/`include` (what to
 * leave out), `legacy-peer-deps` (peers are not dependencies) and `install-strategy` (the layout). npm
 * reads them from the user's `.npmrc`, the project's `.npmrc` and `npm_config_*` variables, later ones
 * winning; flags on the command line win over all of them.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { type Env, parseNpmrc, userNpmrcPath } from "../fetch/npmrc.ts";

/** The settings, with the file or variable each came from (for messages). */
export interface NpmSettings {
  /**
   * What `omit` leaves out ("dev", "optional", "peer"), less what `include` brings back; the older
   * `production=true`, `only=prod[uction]` and `optional=false` add to it, as npm 11 still reads them.
   */
  omit: string[];
  /** Set when `include` names something: the command line's --omit is then also narrowed by it. */
  include: string[];
  legacyPeerDeps: boolean;
  /** `bin-links=false`: npm writes no `.bin` entries. */
  binLinks: boolean;
  /** `install-strategy` when set, and where. */
  installStrategy?: { value: string; from: string };
}

/**
 * Read npm's settings for the project at `projectDir`.
 *
 * @example
 * ```ts ignore
 * readNpmSettings("/app", { npm_config_omit: "dev" }).omit; // ["dev"]
 * ```
 */
export function readNpmSettings(projectDir: string, env: Env = process.env): NpmSettings {
  const values = new Map<string, { value: string; list?: string[]; from: string }>();
  const user = userNpmrcPath(env);
  const project = path.join(projectDir, ".npmrc");
  for (const file of user === project ? [project] : [user, project]) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      continue;
    }
    const lists = new Map<string, string[]>();
    for (const [key, value] of parseNpmrc(text, env, { lists })) {
      values.set(key, { value, list: lists.get(key), from: file });
    }
  }
  for (const [name, value] of Object.entries(env)) {
    const key = /^npm_config_(.+)$/i.exec(name)?.[1]?.toLowerCase().replaceAll("_", "-");
    if (key && value !== undefined) values.set(key, { value, from: `$${name}` });
  }
  const list = (key: string) => {
    const v = values.get(key);
    if (!v) return [];
    return (v.list ?? [v.value]).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
  };
  const include = list("include");
  const value = (key: string) => values.get(key)?.value;
  const omitted = new Set(list("omit"));
  if (value("production") === "true" || /^prod(uction)?$/.test(value("only") ?? "")) omitted.add("dev");
  if (value("optional") === "false") omitted.add("optional");
  const omit = [...omitted].filter((o) => !include.includes(o));
  const strategy = values.get("install-strategy");
  return {
    omit,
    include,
    legacyPeerDeps: value("legacy-peer-deps") === "true",
    binLinks: value("bin-links") !== "false",
    installStrategy: strategy && { value: strategy.value, from: strategy.from },
  };
}
