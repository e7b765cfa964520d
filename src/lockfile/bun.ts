/**
 * bun.lock (bun's text lockfile, lockfileVersion 0 to 3) -> {@link Graph}, for bun's hoisted layout.
 *
 * Every `packages` key is an install path written with package names: `a/debug/ms` is
 * node_modules/a/node_modules/debug/node_modules/ms, and a key that starts with a workspace's name (and goes
 * on) is inside that workspace's folder (`@s/a/debug` is packages/a/node_modules/debug). bun rebuilds the
 * same tree from the graph when it installs, so the keys are used as locations, like npm's, and edges are
 * bound by Node's lookup over them (bun walks up the key the same way).
 *
 * Entry shapes (bun writes them as arrays, see bun's `bun.lock` stringifier):
 * - registry: `["name@1.2.3", registry, INFO, integrity]`, registry "" for the default one, else the
 *   tarball's URL;
 * - workspace `["name@workspace:path"]`, root `["name@root:", ...]`;
 * - folder `["name@file:path", INFO]` (a copy), link `["name@link:path", INFO]` (a symlink);
 * - tarball `["name@https://...tgz" | "name@./x.tgz", INFO, integrity?]`;
 * - git `["name@git+url#ref" | "name@github:o/r#ref", INFO, commit, integrity?]`.
 *
 * @module
 */
import { parse, type ParseError, printParseErrorCode } from "jsonc-parser";
import { lineCol, LockfileError, unsupportedVersion } from "./errors.ts";
import {
  type Dependency,
  type Graph,
  type GraphWarning,
  type Importer,
  isLinkedFolder,
  type PackageNode,
  type Resolution,
} from "./graph.ts";
import { registryOrTarball, resolveKey } from "./npm.ts";

/** A package's metadata object (INFO), and a workspace's entry under `workspaces`. */
interface Info {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalPeers?: string[];
  bundled?: boolean;
  os?: string | string[];
  cpu?: string | string[];
  libc?: string | string[];
  hasInstallScript?: boolean;
  bin?: string | Record<string, string>;
  binDir?: string;
}

/** What a parsed entry is, before its edges are bound. */
interface Entry {
  node: PackageNode;
  info: Info;
}

const UPGRADE = "bun install";
const VERSIONS = [0, 1, 2, 3];

/**
 * Parse the text of a bun.lock. `file` is used in error messages only.
 *
 * @example
 * ```ts
 * const graph = parseBunLockfile(`{
 *   "lockfileVersion": 1,
 *   "workspaces": { "": { "name": "app", "dependencies": { "ms": "^2.1.3" } } },
 *   "packages": { "ms": ["ms@2.1.3", "", {}, "sha512-..."] },
 * }`);
 * graph.packages.get("node_modules/ms")?.version; // "2.1.3"
 * ```
 */
export function parseBunLockfile(text: string, file = "bun.lock"): Graph {
  const lock = parseJsonc(text, file);
  if (!VERSIONS.includes(lock.lockfileVersion as number)) {
    throw unsupportedVersion(file, lock.lockfileVersion, UPGRADE);
  }
  const workspaces = lock.workspaces as Record<string, Info> | undefined;
  if (!isObject(workspaces) || !isObject(workspaces[""])) {
    throw new LockfileError(file, `has no "workspaces" entry for the root project (""). Run \`${UPGRADE}\`.`);
  }
  const rawPackages = lock.packages ?? {};
  if (!isObject(rawPackages)) {
    throw new LockfileError(file, `"packages" is not an object. Run \`${UPGRADE}\`.`);
  }

  // A key's first name is a workspace's when it names one: what follows is inside that workspace.
  const workspaceDirs = new Map<string, string>();
  for (const [dir, ws] of Object.entries(workspaces)) {
    if (dir !== "" && typeof ws?.name === "string") workspaceDirs.set(ws.name, dir);
  }

  const warnings: GraphWarning[] = [];
  const entries = new Map<string, Entry>();
  for (const [key, tuple] of Object.entries(rawPackages as Record<string, unknown>)) {
    const entry = parseEntry(key, tuple, workspaceDirs, file);
    if (!entry) continue;
    entries.set(entry.node.id, entry);
    const r = entry.node.resolution;
    if (r.kind === "registry" && !r.integrity && !entry.info.bundled) {
      warnings.push({
        code: "missing-integrity",
        id: entry.node.id,
        message: `${key} (${entry.node.name}@${entry.node.version}) has no integrity in ${file}`,
      });
    }
  }

  const locations = new Set(entries.keys());
  const bind = (from: string, info: Info, dev: boolean, owner: string): Dependency[] => {
    const out: Dependency[] = [];
    for (const { alias, ...flags } of wantedOf(info, dev)) {
      const id = resolveKey(locations, from, alias);
      const target = id === undefined ? undefined : entries.get(id)!.node;
      if (!target) {
        if (!flags.optional) {
          warnings.push({
            code: "unresolved",
            id: owner,
            message: `${owner} depends on ${alias}, which ${file} does not contain`,
            ...(owner === "the root project" && !flags.peer ? { fatal: true } : {}),
          });
        }
        continue;
      }
      const r = target.resolution;
      out.push({
        alias,
        target: isLinkedFolder(r)
          ? { kind: "link", path: r.path, id: target.id }
          : { kind: "package", id: target.id },
        ...flags,
      });
    }
    return out;
  };

  const packages = new Map<string, PackageNode>();
  for (const { node, info } of entries.values()) {
    // A symlinked folder's own dependencies belong to it (bun records none for link: folders).
    if (!isLinkedFolder(node.resolution)) {
      node.dependencies = bind(node.location!, info, false, node.id);
    }
    packages.set(node.id, node);
  }
  const importers: Importer[] = Object.entries(workspaces).map(([dir, ws]) => ({
    path: dir === "" ? "." : dir,
    dependencies: bind(dir, ws, true, dir === "" ? "the root project" : `workspace ${dir}`),
    specifiers: specifiersOf(ws),
  }));
  return {
    source: "bun.lock",
    layout: "hoisted",
    importers,
    packages,
    allowedScripts: [],
    file,
    warnings,
    recordedSettings: { bunConfigVersion: typeof lock.configVersion === "number" ? lock.configVersion : 0 },
  };
}

function parseJsonc(text: string, file: string): Record<string, unknown> {
  const errors: ParseError[] = [];
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lock = parse(body, errors, { allowTrailingComma: true });
  if (errors.length > 0) {
    const { line, column } = lineCol(body, errors[0].offset);
    throw new LockfileError(
      file,
      `invalid JSON (${
        printParseErrorCode(errors[0].error)
      }). Fix the file or regenerate it with \`${UPGRADE}\`.`,
      { line, column },
    );
  }
  if (!isObject(lock)) throw unsupportedVersion(file, undefined, UPGRADE);
  return lock;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The names of an install path, scoped ones whole.
 *
 * @example
 * ```ts
 * keyNames("@s/a/debug/@t/ms"); // ["@s/a", "debug", "@t/ms"]
 * ```
 */
export function keyNames(key: string): string[] {
  const parts = key.split("/");
  const names: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    names.push(parts[i].startsWith("@") && i + 1 < parts.length ? `${parts[i]}/${parts[++i]}` : parts[i]);
  }
  return names;
}

/**
 * The folder (relative to the project root) of a `packages` key: node_modules/a/node_modules/b for `a/b`, or
 * inside a workspace's folder when the first name is a workspace's and more follow (bun prefixes "./" when a
 * root package has that name too).
 */
export function bunKeyLocation(key: string, workspaceDirs: ReadonlyMap<string, string>): string {
  // "./ms/debug": inside the workspace named ms, written so when a root package is named ms too.
  const names = keyNames(key.replace(/^\.\//, ""));
  const inside = names.length > 1 ? workspaceDirs.get(names[0]) : undefined;
  const rest = inside === undefined ? names : names.slice(1);
  return [...(inside === undefined ? [] : [inside]), ...rest.map((n) => `node_modules/${n}`)].join("/");
}

/** Split "name@ref" at the @ after the name (a scoped name starts with one). */
function splitSpec(spec: string): { name: string; ref: string } | undefined {
  const at = spec.indexOf("@", 1);
  return at <= 0 ? undefined : { name: spec.slice(0, at), ref: spec.slice(at + 1) };
}

function parseEntry(
  key: string,
  tuple: unknown,
  workspaceDirs: ReadonlyMap<string, string>,
  file: string,
): Entry | undefined {
  const bad = (what: string) =>
    new LockfileError(file, `packages["${key}"] ${what}. Fix the file or regenerate it with \`${UPGRADE}\`.`);
  if (!Array.isArray(tuple) || typeof tuple[0] !== "string") {
    throw bad(`is not a ["name@version", ...] entry`);
  }
  const spec = splitSpec(tuple[0]);
  if (!spec) throw bad(`names no package ("${tuple[0]}")`);
  const { name, ref } = spec;
  if (ref.startsWith("root:")) return undefined; // the root project itself
  const location = bunKeyLocation(key, workspaceDirs);
  const infoAt = (i: number): Info => (isObject(tuple[i]) ? tuple[i] as Info : {});
  const stringAt = (
    i: number,
  ) => (typeof tuple[i] === "string" && tuple[i] !== "" ? tuple[i] as string : undefined);
  let resolution: Resolution;
  let version = "0.0.0";
  let info: Info;
  if (ref.startsWith("workspace:")) {
    resolution = { kind: "directory", path: ref.slice("workspace:".length) };
    info = {};
  } else if (ref.startsWith("link:")) {
    resolution = { kind: "directory", path: folderPath(ref.slice("link:".length)) };
    info = infoAt(1);
  } else if (ref.startsWith("file:")) {
    // bun copies a folder dependency into node_modules (it places it like a package; its files are read
    // when installing).
    resolution = { kind: "directory", path: folderPath(ref.slice("file:".length)), copy: true };
    info = infoAt(1);
  } else if (/^(git\+|git:|github:|gitlab:|bitbucket:)/.test(ref)) {
    const hash = ref.indexOf("#");
    // The third element is the commit bun resolved the ref to.
    const commit = stringAt(2) ?? (hash >= 0 ? ref.slice(hash + 1) : undefined);
    resolution = { kind: "git", repo: hash < 0 ? ref : ref.slice(0, hash), ...(commit ? { commit } : {}) };
    info = infoAt(1);
  } else if (/^https?:\/\//.test(ref) || /\.(tgz|tar\.gz|tar)$/.test(ref)) {
    const integrity = stringAt(2);
    resolution = { kind: "tarball", url: ref.replace(/^file:/, ""), ...(integrity ? { integrity } : {}) };
    info = infoAt(1);
  } else {
    version = ref;
    info = infoAt(2);
    const registry = stringAt(1);
    const integrity = stringAt(3);
    resolution = registry
      ? registryOrTarball(name, version, registry, integrity)
      : { kind: "registry", ...(integrity ? { integrity } : {}) };
  }
  const node: PackageNode = {
    id: location,
    name,
    version: info.version ?? version,
    resolution,
    dependencies: [],
    dev: false,
    optional: false,
    location,
  };
  for (const field of ["os", "cpu", "libc"] as const) {
    const v = info[field];
    if (v !== undefined) node[field] = Array.isArray(v) ? v : [v];
  }
  if (typeof info.bin === "string") {
    // Named after the folder (an alias's), as bun links it.
    node.bin = { [keyNames(key).at(-1)!.replace(/^@[^/]+\//, "")]: info.bin };
  } else if (isObject(info.bin)) node.bin = info.bin;
  if (node.bin || info.binDir) node.hasBin = true;
  if (info.hasInstallScript) node.hasInstallScript = true;
  if (info.bundled) node.bundled = true;
  return { node, info };
}

/** bun writes folder paths relative to the root, sometimes with a leading "./". */
function folderPath(p: string): string {
  return p.replace(/^\.\/+/, "").replace(/\/+$/, "") || ".";
}

/** The edges an entry declares; devDependencies only for workspaces (bun records no others). */
function wantedOf(
  info: Info,
  dev: boolean,
): Array<{ alias: string; dev: boolean; optional: boolean; peer?: true }> {
  const wanted = new Map<string, { dev: boolean; optional: boolean; peer?: true }>();
  const optionalPeers = new Set(info.optionalPeers ?? []);
  for (const alias of Object.keys(info.peerDependencies ?? {})) {
    wanted.set(alias, { dev: false, optional: optionalPeers.has(alias), peer: true });
  }
  for (const alias of Object.keys(info.dependencies ?? {})) {
    wanted.set(alias, { dev: false, optional: false });
  }
  for (const alias of Object.keys(info.optionalDependencies ?? {})) {
    wanted.set(alias, { dev: false, optional: true });
  }
  if (dev) {
    // A name that is also a peer stays one: bun installs it under --production too.
    for (const alias of Object.keys(info.devDependencies ?? {})) {
      if (!wanted.get(alias)?.peer) wanted.set(alias, { dev: true, optional: false });
    }
  }
  return [...wanted].map(([alias, flags]) => ({ alias, ...flags }));
}

/** A workspace's dependency specifiers as bun recorded them from its package.json. */
function specifiersOf(ws: Info): Record<string, string> {
  const specs: Record<string, string> = {};
  for (const field of ["devDependencies", "dependencies", "optionalDependencies"] as const) {
    for (const [name, spec] of Object.entries(ws[field] ?? {})) specs[name] = String(spec);
  }
  return specs;
}
