/**
 * package-lock.json / npm-shrinkwrap.json (lockfileVersion 2 and 3) -> {@link Graph}.
 *
 * npm's layout is hoisted: every `packages` key is a folder. Keys under node_modules are packages
 * (id = location = key); other keys ("" and e.g. "packages/foo") are importers. Entries with
 * `link: true` are symlinks to a folder: they become a package node with a `directory` resolution
 * and a location, and edges to them are `link` targets that carry the node's id.
 *
 * @module
 */
import { unsupportedVersion } from "./errors.ts";
import type { Dependency, Graph, GraphWarning, Importer, PackageNode, Resolution } from "./graph.ts";
import { parseJson } from "./json.ts";

/** The fields of a `packages` entry silo reads. */
interface NpmEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  inBundle?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  bin?: Record<string, string> | string;
  hasInstallScript?: boolean;
  os?: string[] | string;
  cpu?: string[] | string;
  libc?: string[] | string;
  /** An object in lockfiles from npm 7+; some old packages declare an array, which npm ignores. */
  engines?: Record<string, string> | string[];
  extraneous?: boolean;
}

const UPGRADE = "npm install --package-lock-only";

/**
 * Parse the text of a package-lock.json (or npm-shrinkwrap.json) v2/v3.
 * `file` is used in error messages only.
 *
 * @example
 * ```ts
 * const graph = parseNpmLockfile(await readFile("package-lock.json", "utf8"), "package-lock.json");
 * graph.packages.get("node_modules/ms")?.version;
 * ```
 */
export function parseNpmLockfile(text: string, file = "package-lock.json"): Graph {
  const hint = `Fix the file or regenerate it with \`${UPGRADE}\`.`;
  const lock = parseJson(text, file, hint) as { lockfileVersion?: unknown; packages?: unknown };
  if (!lock || typeof lock !== "object" || Array.isArray(lock)) {
    throw unsupportedVersion(file, undefined, UPGRADE);
  }
  if (lock.lockfileVersion !== 2 && lock.lockfileVersion !== 3) {
    throw unsupportedVersion(file, lock.lockfileVersion, UPGRADE);
  }
  const entries = (lock.packages ?? {}) as Record<string, NpmEntry>;
  if (typeof entries !== "object" || !entries[""]) {
    throw unsupportedVersion(file, lock.lockfileVersion, UPGRADE);
  }

  const warnings: GraphWarning[] = [];
  const packages = new Map<string, PackageNode>();
  const importers: Importer[] = [];
  const linkTargets = new Set<string>();
  for (const entry of Object.values(entries)) {
    if (entry.link && entry.resolved !== undefined) linkTargets.add(entry.resolved);
  }
  const keys = new Set(Object.keys(entries));

  for (const [key, entry] of Object.entries(entries)) {
    if (!isPackageKey(key)) {
      importers.push({
        path: key === "" ? "." : key,
        dependencies: edges(entries, keys, key, entry, true, warnings),
        // A folder reached only through a `file:` link (not the root, not a workspace member).
        ...(key !== "" && linkTargets.has(key) && !isWorkspace(entries[""], key) ? { linkedOnly: true } : {}),
        specifiers: specifiersOf(entry),
      });
      continue;
    }
    const target = entry.link ? entries[entry.resolved ?? ""] ?? {} : entry;
    const node: PackageNode = {
      id: key,
      name: entry.name ?? target.name ?? nameFromKey(key),
      version: target.version ?? entry.version ?? "0.0.0",
      resolution: entry.link ? { kind: "directory", path: entry.resolved ?? "" } : resolution(key, entry),
      // A link's own dependencies are installed for the folder it points at (an importer).
      dependencies: entry.link ? [] : edges(entries, keys, key, entry, false, warnings),
      // npm puts a link's flags on the folder entry it points at.
      dev: (entry.dev ?? target.dev) === true,
      optional: (entry.optional ?? target.optional) === true,
      location: key,
    };
    copyMeta(node, target);
    if (entry.inBundle) node.bundled = true;
    if (entry.hasInstallScript) node.hasInstallScript = true;
    const r = node.resolution;
    if ((r.kind === "registry" || r.kind === "tarball") && !r.integrity && !entry.inBundle) {
      warnings.push({
        code: "missing-integrity",
        id: key,
        message: `${key} (${node.name}@${node.version}) has no integrity in ${file}`,
      });
    }
    packages.set(key, node);
  }

  return {
    source: "package-lock.json",
    layout: "hoisted",
    importers,
    packages,
    allowedScripts: [],
    file,
    warnings,
  };
}

/** True for keys that are folders under some node_modules (packages), false for importers. */
function isPackageKey(key: string): boolean {
  return key.startsWith("node_modules/") || key.includes("/node_modules/");
}

/**
 * The package name a folder key implies: what follows its last "node_modules/".
 *
 * @example
 * ```ts
 * nameFromKey("node_modules/a/node_modules/@s/b"); // "@s/b"
 * ```
 */
export function nameFromKey(key: string): string {
  const i = key.lastIndexOf("node_modules/");
  return i < 0 ? key : key.slice(i + "node_modules/".length);
}

/**
 * Node's module resolution over lockfile keys: the key `name` resolves to from folder `from`
 * (look in `<from>/node_modules/<name>`, then in each ancestor that is not itself a node_modules folder).
 *
 * @example
 * ```ts
 * const keys = new Set(["node_modules/a", "node_modules/a/node_modules/c", "node_modules/c"]);
 * resolveKey(keys, "node_modules/a/node_modules/b", "c"); // "node_modules/a/node_modules/c"
 * ```
 */
export function resolveKey(keys: ReadonlySet<string>, from: string, name: string): string | undefined {
  const parts = from === "" ? [] : from.split("/");
  for (let n = parts.length; n >= 0; n--) {
    if (n > 0 && parts[n - 1] === "node_modules") continue;
    const dir = parts.slice(0, n).join("/");
    const key = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (keys.has(key)) return key;
  }
  return undefined;
}

/** Resolve an entry's declared dependencies to edges. Dev edges only for importers. */
function edges(
  entries: Record<string, NpmEntry>,
  keys: ReadonlySet<string>,
  from: string,
  entry: NpmEntry,
  importer: boolean,
  warnings: GraphWarning[],
): Dependency[] {
  const wanted = new Map<string, { dev: boolean; optional: boolean; peer?: true }>();
  const peerMeta = entry.peerDependenciesMeta ?? {};
  // Later kinds win for a name listed twice, in the order npm's Arborist loads them (Node#loadDeps):
  // peers, dependencies, optionalDependencies, then (importers only) devDependencies, so a package in
  // both dependencies and devDependencies is a dev dependency (--omit dev leaves it out).
  for (const name of Object.keys(entry.peerDependencies ?? {})) {
    wanted.set(name, { dev: false, optional: peerMeta[name]?.optional === true, peer: true });
  }
  for (const name of Object.keys(entry.dependencies ?? {})) wanted.set(name, { dev: false, optional: false });
  for (const name of Object.keys(entry.optionalDependencies ?? {})) {
    wanted.set(name, { dev: false, optional: true });
  }
  if (importer) {
    for (const name of Object.keys(entry.devDependencies ?? {})) {
      wanted.set(name, { dev: true, optional: false });
    }
  }

  const out: Dependency[] = [];
  for (const [alias, flags] of wanted) {
    const key = resolveKey(keys, from, alias);
    if (key === undefined || !isPackageKey(key)) {
      // Optional deps and optional peers may be legitimately absent; anything else is recorded.
      // The root's own dependency missing is what npm ci refuses ("Missing: x from lock file").
      if (!flags.optional) {
        warnings.push({
          code: "unresolved",
          id: from === "" ? "." : from,
          message: `${
            from === "" ? "the root package" : from
          } depends on ${alias}, which the lockfile does not contain`,
          ...(from === "" && !flags.peer ? { fatal: true } : {}),
        });
      }
      continue;
    }
    const found = entries[key];
    out.push({
      alias,
      target: found.link
        ? { kind: "link", path: found.resolved ?? "", id: key }
        : { kind: "package", id: key },
      ...flags,
    });
  }
  return out;
}

/** Where an npm entry's files come from. */
function resolution(key: string, entry: NpmEntry): Resolution {
  const { resolved, integrity } = entry;
  if (resolved === undefined) return { kind: "registry", ...(integrity ? { integrity } : {}) };
  return lockedResolution(entry.name ?? nameFromKey(key), entry.version ?? "", resolved, integrity);
}

/** A `resolved` value that names a git repository (a commit after `#`), not a tarball. */
export const GIT_RESOLVED: RegExp = /^(git\+|git:|github:|gitlab:|bitbucket:)/;

/**
 * Where a package a lockfile resolved to `resolved` comes from: a git commit, a registry or other tarball
 * URL, or a local tarball (relative to the project root).
 *
 * @example
 * ```ts
 * lockedResolution("ms", "2.1.3", "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz").kind; // "registry"
 * ```
 */
export function lockedResolution(
  name: string,
  version: string,
  resolved: string,
  integrity?: string,
): Resolution {
  const withIntegrity = integrity ? { integrity } : {};
  if (GIT_RESOLVED.test(resolved)) {
    const hash = resolved.indexOf("#");
    return hash < 0 ? { kind: "git", repo: resolved } : {
      kind: "git",
      repo: resolved.slice(0, hash),
      commit: resolved.slice(hash + 1),
    };
  }
  if (/^https?:\/\//.test(resolved)) return registryOrTarball(name, version, resolved, integrity);
  // `file:` tarballs (and bare relative paths) are relative to the project root.
  return { kind: "tarball", url: resolved.replace(/^file:/, ""), ...withIntegrity };
}

/**
 * A package downloaded from `url`: a registry package when the URL has the registry's tarball shape
 * (`<registry>/<name>/-/<basename>-<version>.tgz`, so an overridden registry applies), else a tarball.
 *
 * @example
 * ```ts
 * registryOrTarball("ms", "2.1.3", "https://r.example/ms/-/ms-2.1.3.tgz").kind; // "registry"
 * ```
 */
export function registryOrTarball(
  name: string,
  version: string,
  url: string,
  integrity?: string,
): Resolution {
  const withIntegrity = integrity ? { integrity } : {};
  const base = name.startsWith("@") ? name.slice(name.indexOf("/") + 1) : name;
  const onRegistry = decodeURIComponent(new URL(url).pathname).endsWith(`/${name}/-/${base}-${version}.tgz`);
  return onRegistry
    ? { kind: "registry", tarball: url, ...withIntegrity }
    : { kind: "tarball", url, ...withIntegrity };
}

/** Copy platform, bin and script metadata from a lockfile entry onto a node. */
function copyMeta(node: PackageNode, entry: NpmEntry): void {
  for (const field of ["os", "cpu", "libc"] as const) {
    const v = entry[field];
    if (v !== undefined) node[field] = Array.isArray(v) ? v : [v];
  }
  const engines = entry.engines;
  if (engines && !Array.isArray(engines) && typeof engines.node === "string") node.nodeEngine = engines.node;
  if (entry.extraneous === true) node.extraneous = true;
  if (typeof entry.bin === "string") {
    // A string bin is named after the package (without scope), as npm does.
    node.bin = { [node.name.replace(/^@[^/]+\//, "")]: entry.bin };
  } else if (entry.bin) node.bin = entry.bin;
  if (node.bin) node.hasBin = true;
}

/** Whether `path` is a workspace of the root entry (matches one of its `workspaces` globs). */
function isWorkspace(root: NpmEntry & { workspaces?: unknown }, path: string): boolean {
  const ws = root.workspaces;
  const globs = Array.isArray(ws) ? ws : (ws as { packages?: string[] } | undefined)?.packages ?? [];
  return globs.some((g) => globToRegExp(String(g)).test(path));
}

/** A RegExp for a workspace glob: `*` within a segment, `**` across segments. */
function globToRegExp(glob: string): RegExp {
  const clean = glob.replace(/^\.\//, "").replace(/\/+$/, "");
  let re = "";
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i];
    if (c === "*" && clean[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The package.json dependency fields npm copies into a folder's lockfile entry. */
function specifiersOf(entry: NpmEntry): Record<string, string> {
  const raw = entry as Record<string, unknown>;
  const specs: Record<string, string> = {};
  for (const field of ["devDependencies", "dependencies", "optionalDependencies"]) {
    for (const [name, spec] of Object.entries((raw[field] ?? {}) as Record<string, unknown>)) {
      specs[name] = String(spec);
    }
  }
  return specs;
}
