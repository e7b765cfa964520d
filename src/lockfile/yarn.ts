/**
 * yarn.lock (yarn 1, "classic") and the project's package.json files -> a {@link YarnProject}: every
 * package the lockfile pins, and the dependency patterns that lead to it.
 *
 * Unlike the other lockfiles, yarn 1's records no node_modules layout: yarn computes it on every install
 * from the patterns and from what the packages' own package.json files say (peerDependencies, os, cpu).
 * So reading the lockfile is the first half; yarn_hoist.ts builds the layout once the packages are in the
 * store.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import * as yarnLockfile from "@yarnpkg/lockfile";
import { LockfileError } from "./errors.ts";
import type { PackageNode, Resolution } from "./graph.ts";
import { GIT_RESOLVED, lockedResolution } from "./npm.ts";

/** One package the lockfile pins (yarn's package reference): one folder per place the layout puts it. */
export interface YarnRef {
  /** Unique: "name@version" (the lockfile's `resolved` is appended when two entries share that). */
  id: string;
  /** The folder name it is installed under (an npm: alias's own name). */
  name: string;
  /** What to fetch: the real package name, version and resolution. */
  node: PackageNode;
  /** Dependency patterns ("name@range"), `dependencies` first, then `optionalDependencies`. */
  deps: string[];
  /** The patterns of `deps` that come from `optionalDependencies`. */
  optional: Set<string>;
  /** A workspace package (symlinked from node_modules): its folder, relative to the project root. */
  workspace?: string;
  /** A workspace's own `workspaces.nohoist` globs (see {@link nohoistOf}). */
  nohoist?: string[];
}

/** A dependency of the root project or of a workspace, with the package.json field it is in. */
export interface RootPattern {
  pattern: string;
  name: string;
  kind: "dependencies" | "devDependencies" | "optionalDependencies";
}

/** What yarn 1 installs from: the refs, the root's patterns and the workspaces. */
export interface YarnProject {
  /** The lockfile's path, for messages. */
  file: string;
  refs: Map<string, YarnRef>;
  /** The ref each pattern resolves to (lockfile entries, and workspace names). */
  byPattern: Map<string, YarnRef>;
  /** The root package.json's dependencies, in yarn's order. */
  root: RootPattern[];
  /** Workspace packages by name, when the root declares `workspaces`. */
  workspaces: Map<string, YarnRef>;
  /** Each workspace's own dependencies (devDependencies included), by workspace folder. */
  workspaceDeps: Map<string, RootPattern[]>;
  /** The root's `workspaces.nohoist` globs: packages matched stay in their workspace's node_modules. */
  nohoist: string[];
}

/** A parsed lockfile entry. */
interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const FIELDS = ["dependencies", "devDependencies", "optionalDependencies"] as const;

// @yarnpkg/lockfile is a CommonJS bundle: Bun exposes `parse` on the namespace, Deno on its default export.
const parseLock = ((yarnLockfile as { parse?: unknown }).parse ??
  (yarnLockfile as unknown as { default: { parse: unknown } }).default.parse) as (
    text: string,
  ) => { type: "success" | "merge" | "conflict"; object: Record<string, LockEntry> };

/**
 * Split a yarn pattern into name and range, as yarn's normalizePattern does: the name ends at the first
 * `@` after a leading scope `@`.
 *
 * @example
 * ```ts
 * splitPattern("@babel/core@^7.0.0"); // { name: "@babel/core", range: "^7.0.0" }
 * splitPattern("lodash3@npm:lodash@3.10.1"); // { name: "lodash3", range: "npm:lodash@3.10.1" }
 * ```
 */
export function splitPattern(pattern: string): { name: string; range: string } {
  const at = pattern.indexOf("@", 1);
  return at < 0 ? { name: pattern, range: "" } : { name: pattern.slice(0, at), range: pattern.slice(at + 1) };
}

/**
 * Read yarn.lock's text and the project's package.json files (the root's, and its workspaces').
 * `file` names the lockfile in errors.
 *
 * @example
 * ```ts ignore
 * const project = readYarnProject(fs.readFileSync("yarn.lock", "utf8"), "yarn.lock", ".");
 * project.byPattern.get("ms@^2.1.3")?.node.version; // "2.1.3"
 * ```
 */
export function readYarnProject(text: string, file: string, projectDir: string): YarnProject {
  if (/^__metadata:/m.test(text)) {
    throw new LockfileError(
      file,
      "is a yarn 2+ (Berry) lockfile; silo reads yarn 1's yarn.lock only. Install this project with yarn.",
    );
  }
  let parsed: ReturnType<typeof parseLock>;
  try {
    parsed = parseLock(text);
  } catch (cause) {
    throw new LockfileError(file, `cannot be parsed (${(cause as Error).message}). Run \`yarn install\`.`, {
      cause,
    });
  }
  if (parsed.type === "conflict") {
    throw new LockfileError(file, "has merge conflict markers yarn cannot merge. Resolve them, then retry.");
  }
  const refs = new Map<string, YarnRef>();
  const byPattern = new Map<string, YarnRef>();
  const byIdentity = new Map<string, YarnRef>();
  // Several patterns written as one entry ("a@^1", "a@~1.2":) parse to one object.
  const byEntry = new Map<LockEntry, YarnRef>();
  for (const [pattern, entry] of Object.entries(parsed.object)) {
    const { name, range } = splitPattern(pattern);
    if (typeof entry?.version !== "string") {
      throw new LockfileError(file, `entry "${pattern}" has no version. Run \`yarn install\`.`);
    }
    // Entries written for one package under several patterns are one package.
    const identity = `${name}@${entry.version}#${entry.resolved ?? range}`;
    let ref = byEntry.get(entry) ?? byIdentity.get(identity);
    if (!ref) {
      const realName = range.startsWith("npm:") ? splitPattern(range.slice(4)).name : name;
      let id = `${name}@${entry.version}`;
      if (refs.has(id)) id = `${id}#${entry.resolved ?? refs.size}`;
      const deps = Object.entries(entry.dependencies ?? {}).map(([n, r]) => `${n}@${r}`);
      const optional = Object.entries(entry.optionalDependencies ?? {}).map(([n, r]) => `${n}@${r}`);
      ref = {
        id,
        name,
        node: {
          id,
          name: realName,
          version: entry.version,
          resolution: resolutionOf(realName, entry, range, file, pattern),
          dependencies: [],
          dev: false,
          optional: false,
        },
        deps: [...deps, ...optional],
        optional: new Set(optional),
      };
      byIdentity.set(identity, ref);
      byEntry.set(entry, ref);
      refs.set(id, ref);
    }
    byPattern.set(pattern, ref);
  }

  const rootManifest = readManifest(projectDir, file);
  const workspaces = new Map<string, YarnRef>();
  const workspaceDeps = new Map<string, RootPattern[]>();
  for (const dir of workspaceDirs(projectDir, rootManifest)) {
    const manifest = readManifest(path.join(projectDir, dir), file);
    // yarn ignores a workspace without a name or version (with a warning).
    if (typeof manifest.name !== "string" || typeof manifest.version !== "string") continue;
    if (workspaces.has(manifest.name)) {
      throw new LockfileError(file, `two workspaces are named "${manifest.name}"; yarn refuses this too.`);
    }
    const id = `${manifest.name}@workspace:${dir}`;
    const own = patternsOf(manifest, byPattern);
    const ref: YarnRef = {
      id,
      name: manifest.name,
      node: {
        id,
        name: manifest.name,
        version: manifest.version,
        resolution: { kind: "directory", path: dir },
        dependencies: [],
        dev: false,
        optional: false,
      },
      // A workspace's devDependencies are installed too (yarn's PackageRequest, for workspaces only).
      deps: [
        ...own.filter((p) => p.kind === "dependencies"),
        ...own.filter((p) => p.kind === "optionalDependencies"),
        ...own.filter((p) => p.kind === "devDependencies"),
      ].map((p) => p.pattern),
      optional: new Set(own.filter((p) => p.kind === "optionalDependencies").map((p) => p.pattern)),
      workspace: dir,
      nohoist: nohoistOf(manifest),
    };
    workspaces.set(manifest.name, ref);
    workspaceDeps.set(dir, own);
    refs.set(id, ref);
  }
  const project: YarnProject = {
    file,
    refs,
    byPattern,
    root: patternsOf(rootManifest, byPattern),
    workspaces,
    workspaceDeps,
    nohoist: nohoistOf(rootManifest),
  };
  // The aggregator's pattern for each workspace (yarn never locks workspaces; other ranges: refOf).
  for (const ws of workspaces.values()) byPattern.set(`${ws.name}@${ws.node.version}`, ws);
  assertComplete(project);
  return project;
}

/** The ref `pattern` resolves to: its lockfile entry, else the workspace of that name. */
export function refOf(project: YarnProject, pattern: string): YarnRef | undefined {
  return project.byPattern.get(pattern) ?? project.workspaces.get(splitPattern(pattern).name);
}

/** Every pattern must resolve, as `yarn install --frozen-lockfile` demands. */
function assertComplete(project: YarnProject): void {
  const missing = (pattern: string) => refOf(project, pattern) === undefined;
  const roots = [
    ...project.root.map((p) => p.pattern),
    ...[...project.workspaceDeps.values()].flat().map((p) => p.pattern),
  ];
  const lost = roots.find(missing);
  if (lost) {
    throw new LockfileError(
      project.file,
      `has no entry for "${lost}", which package.json asks for: the lockfile is out of date. Run \`yarn install\` to update it.`,
    );
  }
  for (const ref of project.refs.values()) {
    const dep = ref.deps.find(missing);
    if (dep) {
      throw new LockfileError(
        project.file,
        `${ref.id} depends on "${dep}", which has no entry. Run \`yarn install\` to repair the lockfile.`,
      );
    }
  }
}

/** The root's or a workspace's dependencies as patterns, in yarn's order (dependencies, dev, optional). */
function patternsOf(manifest: Manifest, locked: Map<string, YarnRef>): RootPattern[] {
  const out: RootPattern[] = [];
  const seen = new Set<string>();
  for (const kind of FIELDS) {
    for (const [name, range] of Object.entries(manifest[kind] ?? {})) {
      // yarn's manifest normalization keeps a name once: dependencies win over the rest.
      if (seen.has(name)) continue;
      seen.add(name);
      // A dependency saved with just its name is locked under the name (yarn's --save habit).
      const pattern = locked.has(name) ? name : `${name}@${range}`;
      out.push({ pattern, name, kind });
    }
  }
  return out;
}

interface Manifest {
  name?: unknown;
  version?: unknown;
  private?: unknown;
  workspaces?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function readManifest(dir: string, file: string): Manifest {
  const at = path.join(dir, "package.json");
  try {
    return JSON.parse(fs.readFileSync(at, "utf8"));
  } catch (cause) {
    throw new LockfileError(file, `needs ${at}, which cannot be read (${(cause as Error).message}).`, {
      cause,
    });
  }
}

/** `workspaces.nohoist` of a package.json; yarn ignores it (with a warning) unless the package is private. */
function nohoistOf(manifest: Manifest): string[] {
  const globs = (manifest.workspaces as { nohoist?: unknown } | undefined)?.nohoist;
  return manifest.private && Array.isArray(globs) ? globs.map(String) : [];
}

/** Folders (relative, posix) matching the root's `workspaces` globs that hold a package.json. */
function workspaceDirs(projectDir: string, root: Manifest): string[] {
  const ws = root.workspaces;
  const globs = Array.isArray(ws) ? ws : (ws as { packages?: unknown } | undefined)?.packages;
  if (!Array.isArray(globs)) return [];
  const found = new Set<string>();
  for (const glob of globs) {
    const segments = String(glob).replace(/^\.\//, "").replace(/\/+$/, "").split("/");
    for (const dir of expand(projectDir, "", segments)) {
      if (fs.existsSync(path.join(projectDir, dir, "package.json"))) found.add(dir);
    }
  }
  return [...found].sort();
}

/** Expand glob segments (`*`, `?`, `**`) under `dir`, never entering node_modules. */
function expand(root: string, dir: string, segments: string[]): string[] {
  if (segments.length === 0) return dir === "" ? [] : [dir];
  const [head, ...rest] = segments;
  const join = (name: string) => (dir === "" ? name : `${dir}/${name}`);
  if (!/[*?]/.test(head)) return expand(root, join(head), rest);
  const children = subfolders(path.join(root, dir));
  if (head === "**") {
    return [...expand(root, dir, rest), ...children.flatMap((c) => expand(root, join(c), segments))];
  }
  const re = new RegExp(
    `^${head.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`,
  );
  return children.filter((c) => re.test(c)).flatMap((c) => expand(root, join(c), rest));
}

function subfolders(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== "node_modules" && !e.name.startsWith("."))
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/**
 * Where an entry's files come from. yarn writes no `resolved` for local folders (`file:`, a bare `./`,
 * `../` or absolute path: copied; `link:`: symlinked) and appends `#<sha1>` to tarball URLs.
 */
function resolutionOf(
  name: string,
  entry: LockEntry,
  range: string,
  file: string,
  pattern: string,
): Resolution {
  const { resolved, integrity } = entry;
  if (resolved === undefined) {
    if (range.startsWith("link:")) return { kind: "directory", path: range.slice(5) };
    const folder = range.replace(/^file:/, "");
    if (folder !== range || isPath(range)) return { kind: "directory", path: folder, copy: true };
    throw new LockfileError(file, `entry "${pattern}" has no "resolved" URL. Run \`yarn install\`.`);
  }
  if (GIT_RESOLVED.test(resolved)) return lockedResolution(name, entry.version ?? "", resolved, integrity);
  const hash = resolved.indexOf("#");
  const url = hash < 0 ? resolved : resolved.slice(0, hash);
  const sha1 = hash < 0 ? undefined : resolved.slice(hash + 1);
  // A folder some tools write as `resolved "file:../dir"`: copied, as yarn does with a folder.
  if (url.startsWith("file:") && !/\.(tgz|tar\.gz|tar)$/.test(url)) {
    return { kind: "directory", path: url.slice(5), copy: true };
  }
  // Old lockfiles have no integrity field: the URL's sha1 is the check then.
  const check = integrity ?? (sha1 && /^[0-9a-f]{40}$/.test(sha1) ? `sha1-${hexToBase64(sha1)}` : undefined);
  return lockedResolution(name, entry.version ?? "", url, check);
}

/** yarn 1's FileResolver takes a range starting with `./`, `../` or `/` for a folder path. */
function isPath(range: string): boolean {
  return /^\.{1,2}\//.test(range) || path.isAbsolute(range);
}

function hexToBase64(hex: string): string {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return btoa(String.fromCharCode(...bytes));
}
