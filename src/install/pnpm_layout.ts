/**
 * What shapes a pnpm project's isolated node_modules beyond the lockfile. Settings: which packages are
 * hoisted into node_modules/.pnpm/node_modules (`hoist-pattern`, `hoist`, `hoist-workspace-packages`),
 * which into the root node_modules (`public-hoist-pattern`, `shamefully-hoist`), how long folder names get
 * (`virtual-store-dir-max-length`), and whether the layout is isolated at all (`node-linker`, and the
 * settings silo refuses or warns about: UNSUPPORTED_SETTINGS); pnpm reads them from `.npmrc` (user, then
 * project) and, since pnpm 10, from pnpm-workspace.yaml, which wins. And the pnpm version's own habits,
 * seen by comparing trees that pnpm 9, 10 and 12 built from one lockfile with `--frozen-lockfile`. "pnpm 11+" below means what pnpm 12 does
 * and pnpm 10 does not: pnpm 11 itself was not run (it needs Node.js 22 to start).
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { type Env, parseNpmrc } from "../fetch/npmrc.ts";
import { readJsonObject } from "../lockfile/json.ts";
import type { PnpmFolderHash } from "../lockfile/pnpm_names.ts";
import { parseYaml } from "../lockfile/yaml.ts";
import { pinnedManager } from "./package_manager.ts";
import { LAYOUT_SETTINGS, pnpmSettingsFiles, UNSUPPORTED_SETTINGS } from "./pnpm_settings_files.ts";

/** The isolated layout a pnpm project gets. */
export interface PnpmLayout {
  /** "isolated" (pnpm's default), "hoisted" (an npm-like tree) or "pnp" (no node_modules). */
  nodeLinker: string;
  /** Names linked into node_modules/.pnpm/node_modules; `[]` with hoist=false. Default `["*"]`. */
  hoistPattern: string[];
  /** Names linked into the root node_modules; `["*"]` with shamefully-hoist. Default `[]` (pnpm 10+). */
  publicHoistPattern: string[];
  /** Workspace packages are hoisted under their names (`hoist-workspace-packages`). Default true. */
  hoistWorkspacePackages: boolean;
  /** Folder names under node_modules/.pnpm longer than this are shortened (`virtual-store-dir-max-length`). */
  virtualStoreDirMaxLength: number;
  /** How folder names are shortened: pnpm 10+ sha256, pnpm 9 and older md5 in base32. */
  folderHash: PnpmFolderHash;
  /** pnpm 12.10+ hashes the folder name of a git or URL dependency with `#`, `+`, `:` or `?` in it. */
  hashesAmbiguousUrls: boolean;
  /**
   * pnpm 11+ makes node_modules/.pnpm/node_modules once anything is hoisted, even if only publicly (then it
   * stays empty); older pnpm makes it only for what lands there.
   */
  alwaysMakeHoistDir: boolean;
  /** pnpm 11+ links a package's own commands into its node_modules/.bin, next to its dependencies'. */
  linksOwnBins: boolean;
  /** pnpm 11+ links the commands of the required peers a direct dependency was resolved with (vitest -> vite). */
  linksPeerBins: boolean;
  /**
   * pnpm 11+ hoists a workspace package under its name even when the root depends on that name through
   * `link:` (the root's registry dependencies still hide it); older pnpm lets any root dependency hide it.
   */
  hoistsWorkspacesOverRootDeps: boolean;
  /** pnpm 11+ gives a command two packages offer (neither named after it) to the lesser package name. */
  binConflictLesserName: boolean;
  /**
   * pnpm 10 and older link the commands of a virtual-store package's `link:` dependencies (workspace
   * packages) into its node_modules/.bin; pnpm 11+ only those of its virtual-store dependencies.
   */
  binsOfLinkedDeps: boolean;
  /**
   * pnpm 11+ also skips an optional package whose own package.json rules this machine out; pnpm 10 and
   * older go by the lockfile alone, which omits libc (so they install musl builds on glibc).
   */
  checksManifestPlatform: boolean;
  /** `supportedArchitectures`: platforms to install optional packages for besides (or instead of) this one. */
  supportedArchitectures?: { os?: string[]; cpu?: string[]; libc?: string[] };
  /** Where a setting came from, for messages: setting name -> file. */
  sources: Record<string, string>;
  /** Settings silo does not implement that the project sets to something other than pnpm's default. */
  unsupported: { setting: string; file: string; action: "refuse" | "ignore" }[];
}

/** pnpm's defaults, as the newest pnpm has them (pnpm 9 also hoisted `*eslint*` and `*prettier*` publicly). */
export const DEFAULT_LAYOUT: PnpmLayout = {
  nodeLinker: "isolated",
  hoistPattern: ["*"],
  publicHoistPattern: [],
  hoistWorkspacePackages: true,
  virtualStoreDirMaxLength: 120,
  folderHash: "sha256",
  hashesAmbiguousUrls: true,
  alwaysMakeHoistDir: true,
  linksOwnBins: true,
  linksPeerBins: true,
  hoistsWorkspacesOverRootDeps: true,
  binConflictLesserName: true,
  binsOfLinkedDeps: false,
  checksManifestPlatform: true,
  sources: {},
  unsupported: [],
};

/** The public hoist pattern pnpm 9 and older used by default. */
const PNPM9_PUBLIC_HOIST_PATTERN = ["*eslint*", "*prettier*"];

/**
 * Read the layout of the pnpm project at `projectDir`. The project's `packageManager` field says which
 * pnpm's rules apply: pnpm 11 and later read settings from pnpm-workspace.yaml only, pnpm 9 and older
 * hoisted eslint and prettier packages publicly by default, and pnpm 10 and older lack the habits
 * {@linkcode PnpmLayout} lists as pnpm 11+. Without the field, .npmrc counts and the
 * newest pnpm's habits apply. Unreadable or malformed files count as absent: pnpm itself reports
 * those when it runs.
 *
 * @example
 * ```ts ignore
 * const layout = await readPnpmLayout("/app"); // shamefully-hoist=true in /app/.npmrc
 * layout.publicHoistPattern; // ["*"]
 * ```
 */
export async function readPnpmLayout(projectDir: string, env: Env = process.env): Promise<PnpmLayout> {
  const settings: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  const set = (key: string, value: unknown, file: string) => {
    settings[key] = value;
    sources[key] = file;
  };
  const pinned = pinnedManager(projectDir);
  const major = pinned?.name === "pnpm" ? pinned.major : undefined;
  // pnpm 10 and older also read settings from package.json's "pnpm" field (below pnpm-workspace.yaml).
  if (major === undefined || major < 11) {
    const manifest = readJsonObject(path.join(projectDir, "package.json"));
    const fromManifest = (manifest.pnpm as Record<string, unknown> | undefined)?.supportedArchitectures;
    if (fromManifest !== undefined) {
      set("supportedArchitectures", fromManifest, path.join(projectDir, "package.json"));
    }
  }
  const files = pnpmSettingsFiles(projectDir, env);
  for (const file of major !== undefined && major >= 11 ? files.filter((f) => f.endsWith(".yaml")) : files) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      continue;
    }
    if (file.endsWith(".yaml")) {
      let doc: unknown;
      try {
        doc = await parseYaml(text);
      } catch {
        continue;
      }
      if (!doc || typeof doc !== "object") continue;
      const yaml = doc as Record<string, unknown>;
      for (const key of Object.values(LAYOUT_SETTINGS)) {
        if (yaml[key] !== undefined) set(key, yaml[key], file);
      }
      for (
        const name of [...Object.values(UNSUPPORTED_SETTINGS).map((u) => u.name), "supportedArchitectures"]
      ) {
        if (yaml[name] !== undefined) set(name, yaml[name], file);
      }
      continue;
    }
    const lists = new Map<string, string[]>();
    const values = parseNpmrc(text, env, { lists });
    for (const [key, name] of Object.entries(LAYOUT_SETTINGS)) {
      if (lists.has(key)) set(name, lists.get(key), file);
      else if (values.has(key)) set(name, values.get(key), file);
    }
    for (const [key, { name }] of Object.entries(UNSUPPORTED_SETTINGS)) {
      if (values.has(key)) set(name, values.get(key), file);
    }
  }
  const unsupported = Object.values(UNSUPPORTED_SETTINGS).filter(({ name }) =>
    settings[name] !== undefined && !isDefault(name, settings[name])
  ).map(({ name, action }) => ({ setting: name, file: sources[name], action }));
  const layout: PnpmLayout = { ...DEFAULT_LAYOUT, sources, unsupported };
  if (major !== undefined && (major < 12 || (major === 12 && Number(pinned!.version.split(".")[1]) < 10))) {
    layout.hashesAmbiguousUrls = false;
  }
  if (major !== undefined && major < 10) {
    layout.publicHoistPattern = PNPM9_PUBLIC_HOIST_PATTERN;
    layout.folderHash = "md5-base32";
  }
  if (major !== undefined && major < 11) {
    layout.alwaysMakeHoistDir = layout.linksOwnBins = layout.linksPeerBins = false;
    layout.binsOfLinkedDeps = true;
    layout.hoistsWorkspacesOverRootDeps =
      layout.checksManifestPlatform =
      layout.binConflictLesserName =
        false;
  }
  if (typeof settings.nodeLinker === "string") layout.nodeLinker = settings.nodeLinker;
  if (settings.hoistPattern !== undefined) layout.hoistPattern = patternList(settings.hoistPattern);
  if (settings.publicHoistPattern !== undefined) {
    layout.publicHoistPattern = patternList(settings.publicHoistPattern);
  }
  if (isFalse(settings.hoist)) layout.hoistPattern = [];
  if (isFalse(settings.hoistWorkspacePackages)) layout.hoistWorkspacePackages = false;
  const arch = settings.supportedArchitectures;
  if (arch && typeof arch === "object") {
    layout.supportedArchitectures = arch as PnpmLayout["supportedArchitectures"];
  }
  const maxLength = Number(settings.virtualStoreDirMaxLength);
  if (Number.isInteger(maxLength) && maxLength > 33) layout.virtualStoreDirMaxLength = maxLength;
  // shamefully-hoist decides the public pattern either way when it is set (as pnpm's config does).
  if (isTrue(settings.shamefullyHoist)) layout.publicHoistPattern = ["*"];
  else if (isFalse(settings.shamefullyHoist)) layout.publicHoistPattern = [];
  return layout;
}

/** Whether an unsupported setting's value is what pnpm does anyway (then silo's tree is right). */
function isDefault(name: string, value: unknown): boolean {
  const dir = typeof value === "string" ? value.replace(/^\.\//, "").replace(/\/+$/, "") : value;
  switch (name) {
    case "modulesDir":
      return dir === "node_modules";
    case "virtualStoreDir":
      return dir === "node_modules/.pnpm";
    case "enableModulesDir":
      return !isFalse(value);
    case "dedupeDirectDeps":
    case "enableGlobalVirtualStore":
      return !isTrue(value);
    case "sharedWorkspaceLockfile":
      return !isFalse(value);
    default:
      return value === null || (typeof value === "object" && Object.keys(value).length === 0);
  }
}

const isTrue = (v: unknown) => v === true || v === "true";
const isFalse = (v: unknown) => v === false || v === "false";

/** A setting's value as a list of patterns: an array, or one string (an empty string is no pattern). */
function patternList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string" && v !== "");
  return typeof value === "string" && value !== "" ? [value] : [];
}

/**
 * pnpm's name matcher (@pnpm/matcher): `*` matches any run of characters, the whole name must match,
 * case matters; a `!pattern` excludes what earlier patterns included.
 *
 * @example
 * ```ts
 * import { matchesPatterns } from "./pnpm_layout.ts";
 * matchesPatterns(["*eslint*", "!eslint-config-x"], "eslint-plugin-react"); // true
 * ```
 */
export function matchesPatterns(patterns: string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith("!")) {
      if (matched && globMatch(pattern.slice(1), name)) matched = false;
    } else if (!matched && globMatch(pattern, name)) matched = true;
  }
  // Only exclusions: everything they do not exclude.
  if (patterns.length > 0 && patterns.every((p) => p.startsWith("!"))) {
    return !patterns.some((p) => globMatch(p.slice(1), name));
  }
  return matched;
}

const compiled = new Map<string, RegExp>(); // the planner asks once per dependency edge

function globMatch(pattern: string, name: string): boolean {
  if (pattern === "*") return true;
  let re = compiled.get(pattern);
  if (!re) {
    const source = pattern.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*");
    compiled.set(pattern, re = new RegExp(`^${source}$`));
  }
  return re.test(name);
}

/**
 * The layout of the pnpm project at `projectDir`, for planning its isolated tree. A project that asks
 * pnpm for another layout (`node-linker=hoisted` or `pnp`) gets an error naming the setting and its file:
 * silo builds pnpm's isolated layout only, and a different tree would break what the setting is there for.
 *
 * @example
 * ```ts ignore
 * planIsolated(graph, selection, { layout: await isolatedLayout(projectDir) });
 * ```
 */
export async function isolatedLayout(projectDir: string, env: Env = process.env): Promise<PnpmLayout> {
  const layout = await readPnpmLayout(projectDir, env);
  if (layout.nodeLinker !== "isolated") {
    throw new Error(
      `${layout.sources.nodeLinker} sets node-linker to "${layout.nodeLinker}"; silo builds pnpm's isolated ` +
        "layout only. Install this project with pnpm, or remove the setting to get the isolated layout.",
    );
  }
  const refused = layout.unsupported.find((u) => u.action === "refuse");
  if (refused) {
    throw new Error(
      `${refused.file} sets ${refused.setting}; silo builds node_modules/.pnpm inside node_modules only, so the ` +
        "tree would not be where this project expects it. Install this project with pnpm, or remove the setting.",
    );
  }
  return layout;
}

/**
 * Warnings for the settings silo leaves aside on `layout` (its tree still serves this machine).
 *
 * @example
 * ```ts ignore
 * for (const w of ignoredSettingsWarnings(layout)) console.warn(w);
 * ```
 */
export function ignoredSettingsWarnings(layout: PnpmLayout): string[] {
  return layout.unsupported.filter((u) => u.action === "ignore").map((u) =>
    `${u.file} sets ${u.setting}, which silo does not implement: ${IGNORED_BECAUSE[u.setting] ?? "ignored"}`
  );
}

const IGNORED_BECAUSE: Record<string, string> = {
  dedupeDirectDeps: "workspace projects keep links to the dependencies the root also has",
  sharedWorkspaceLockfile: "only this project is installed; run silo install in each workspace project too",
  enableGlobalVirtualStore: "node_modules/.pnpm is built inside the project",
  configDependencies: "config dependencies are not installed (node_modules/.pnpm-config)",
};
