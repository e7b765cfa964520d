/**
 * pnpm-lock.yaml (lockfileVersion '9.0') -> {@link Graph}, and pnpm's folder names under
 * node_modules/.pnpm.
 *
 * Node ids are snapshot keys (depPaths such as "a@1.0.0(b@2.0.0)"). `link:` versions become link
 * edges: relative to the importer for importers, to the lockfile's folder for snapshots (as pnpm
 * writes them). `dev`/`optional` are computed by reachability, since v9 does not record `dev`.
 *
 * @module
 */
import { posix } from "node:path";
import { parseAllDocuments } from "yaml";
import { LockfileError, unsupportedVersion } from "./errors.ts";
import type { Dependency, Graph, GraphWarning, Importer, PackageNode, Resolution } from "./graph.ts";
import { fastPnpmYaml } from "./pnpm_yaml.ts";
import { markDevOptional } from "./walk.ts";

export { base32, pnpmDirName, type PnpmFolderHash, type PnpmFolderNaming } from "./pnpm_names.ts";

const UPGRADE = "pnpm install --lockfile-only";

/** One importer's `{ alias: { specifier, version } }` maps. */
type ImporterDeps = Record<string, { specifier?: string; version?: string } | string>;

/** The fields of a `packages` entry silo reads. */
interface PnpmPackage {
  name?: string;
  version?: string;
  resolution?: {
    integrity?: string;
    tarball?: string;
    directory?: string;
    type?: string;
    repo?: string;
    commit?: string;
    path?: string;
  };
  os?: string[] | string;
  cpu?: string[] | string;
  libc?: string[] | string;
  engines?: Record<string, string>;
  hasBin?: boolean;
  requiresBuild?: boolean;
  bin?: Record<string, string> | string;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  bundledDependencies?: string[] | boolean;
}

/** The fields of a `snapshots` entry silo reads. */
interface PnpmSnapshot {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  optional?: boolean;
}

/** The parts of a depPath. */
export interface DepPath {
  /** The package name, scope included. */
  name: string;
  /** The version, or a non-registry reference ("file:...", a URL); no peer suffix. */
  version: string;
  /** The peer/patch suffix as written, e.g. "(b@2.0.0)(c@1.0.0)", or "". */
  suffix: string;
}

/**
 * Split a depPath into name, version and suffix; handles scoped names.
 *
 * @example
 * ```ts
 * parseDepPath("@s/a@1.0.0(b@2.0.0)"); // { name: "@s/a", version: "1.0.0", suffix: "(b@2.0.0)" }
 * ```
 */
export function parseDepPath(depPath: string): DepPath {
  const at = depPath.indexOf("@", 1);
  if (at < 0) return { name: depPath, version: "", suffix: "" };
  const name = depPath.slice(0, at);
  const rest = depPath.slice(at + 1);
  const paren = rest.indexOf("(");
  return paren < 0
    ? { name, version: rest, suffix: "" }
    : { name, version: rest.slice(0, paren), suffix: rest.slice(paren) };
}

/**
 * The depPath a dependency reference points at, or null for `link:` references.
 * A reference is either a version (with peer suffix) of the alias's own package, or a full
 * depPath of another package (an npm: alias), optionally written "npm:name@version".
 *
 * @example
 * ```ts
 * refToDepPath("b", "1.0.0(c@2.0.0)"); // "b@1.0.0(c@2.0.0)"
 * refToDepPath("b", "@s/real@1.0.0");  // "@s/real@1.0.0"
 * ```
 */
export function refToDepPath(alias: string, ref: string): string | null {
  if (ref.startsWith("link:")) return null;
  if (ref.startsWith("npm:")) ref = ref.slice(4);
  if (ref.startsWith("@")) return ref;
  // Same rule as pnpm's refToRelative: an '@' before any ':' or '(' means a full depPath.
  const at = ref.indexOf("@");
  const colon = ref.indexOf(":");
  const paren = ref.indexOf("(");
  if (at > 0 && (colon < 0 || at < colon) && (paren < 0 || at < paren)) return ref;
  return `${alias}@${ref}`;
}

/**
 * Parse the text of a pnpm-lock.yaml v9. `file` is used in error messages only.
 *
 * @example
 * ```ts
 * const graph = parsePnpmLockfile(await readFile("pnpm-lock.yaml", "utf8"));
 * graph.importers.map((i) => i.path); // [".", "packages/a"]
 * ```
 */
export function parsePnpmLockfile(text: string, file = "pnpm-lock.yaml"): Graph {
  const lock = loadYaml(text, file);
  if (lock.lockfileVersion !== "9.0" && lock.lockfileVersion !== 9) {
    throw unsupportedVersion(file, lock.lockfileVersion, UPGRADE);
  }
  const warnings: GraphWarning[] = [];
  const pkgs = (lock.packages ?? {}) as Record<string, PnpmPackage>;
  const snapshots = (lock.snapshots ?? {}) as Record<string, PnpmSnapshot>;
  const importersRaw = (lock.importers ?? { ".": lock }) as Record<string, Record<string, ImporterDeps>>;

  const importers: Importer[] = [];
  for (const [path, imp] of Object.entries(importersRaw)) {
    const deps: Dependency[] = [];
    // Later kinds win for an alias listed twice, as pnpm reads a manifest.
    const kinds = [
      ["devDependencies", true, false],
      ["dependencies", false, false],
      ["optionalDependencies", false, true],
    ] as const;
    const byAlias = new Map<string, Dependency>();
    const specifiers: Record<string, string> = {};
    for (const [field, dev, optional] of kinds) {
      for (const [alias, spec] of Object.entries(imp?.[field] ?? {})) {
        if (typeof spec !== "string" && spec?.specifier !== undefined) {
          specifiers[alias] = String(spec.specifier);
        }
        const ref = typeof spec === "string" ? spec : String(spec?.version ?? "");
        const dep = edge(alias, ref, path, dev, optional, snapshots, warnings);
        if (dep) byAlias.set(alias, dep);
      }
    }
    deps.push(...byAlias.values());
    importers.push({ path, dependencies: deps, specifiers });
  }

  const packages = new Map<string, PackageNode>();
  // v9 has one snapshot per installed instance; fall back to `packages` if a file lacks snapshots.
  const ids = lock.snapshots ? Object.keys(snapshots) : Object.keys(pkgs);
  for (const id of ids) {
    const snap = snapshots[id] ?? {};
    const parsed = parseDepPath(id);
    const pkgKey = `${parsed.name}@${parsed.version}`;
    const pkg = pkgs[pkgKey] ?? pkgs[id] ?? {};
    if (!pkgs[pkgKey] && !pkgs[id]) {
      warnings.push({
        code: "unresolved",
        id,
        message: `snapshot ${id} has no entry in packages of ${file}`,
        fatal: true,
      });
    }
    const dependencies: Dependency[] = [];
    for (const [field, optional] of [["dependencies", false], ["optionalDependencies", true]] as const) {
      for (const [alias, ref] of Object.entries(snap[field] ?? {})) {
        const dep = edge(alias, String(ref), ".", false, optional, snapshots, warnings, id);
        if (dep) dependencies.push(dep);
      }
    }
    const node: PackageNode = {
      id,
      name: pkg.name ?? parsed.name,
      version: pkg.version ?? parsed.version,
      resolution: resolution(pkg, parsed),
      dependencies,
      dev: false,
      optional: snap.optional === true,
    };
    for (const field of ["os", "cpu", "libc"] as const) {
      const v = pkg[field];
      if (v !== undefined) node[field] = Array.isArray(v) ? v.map(String) : [String(v)];
    }
    if (typeof pkg.engines?.node === "string") node.nodeEngine = pkg.engines.node;
    if (pkg.hasBin) node.hasBin = true;
    if (typeof pkg.bin === "string") node.bin = { [node.name.replace(/^@[^/]+\//, "")]: pkg.bin };
    else if (pkg.bin) node.bin = pkg.bin;
    if (pkg.requiresBuild) node.hasInstallScript = true;
    const bundled = pkg.bundledDependencies;
    if (bundled === true || (Array.isArray(bundled) && bundled.length > 0)) node.bundlesDependencies = true;
    const peers = Object.keys(pkg.peerDependencies ?? {}).filter((p) =>
      pkg.peerDependenciesMeta?.[p]?.optional !== true
    );
    if (peers.length) node.requiredPeers = peers;
    const r = node.resolution;
    if ((r.kind === "registry" || r.kind === "tarball") && !r.integrity) {
      warnings.push({ code: "missing-integrity", id, message: `${id} has no integrity in ${file}` });
    }
    packages.set(id, node);
  }

  const graph: Graph = {
    source: "pnpm-lock.yaml",
    layout: "isolated",
    importers,
    packages,
    allowedScripts: [],
    file,
    warnings,
    recordedSettings: recordedSettings(lock),
  };
  markDevOptional(graph);
  return graph;
}

/** The lockfile's `overrides` and `catalogs` sections as plain specifier maps. */
function recordedSettings(lock: Record<string, unknown>): Graph["recordedSettings"] {
  const asStrings = (map: unknown) =>
    Object.fromEntries(
      Object.entries((map ?? {}) as Record<string, unknown>).map(([k, v]) => [
        k,
        String(typeof v === "object" && v !== null ? (v as { specifier?: unknown }).specifier : v),
      ]),
    );
  const catalogs = Object.fromEntries(
    Object.entries((lock.catalogs ?? {}) as Record<string, unknown>).map((
      [name, entries],
    ) => [name, asStrings(entries)]),
  );
  const settings = (lock.settings ?? {}) as Record<string, unknown>;
  return {
    overrides: asStrings(lock.overrides),
    catalogs,
    excludeLinksFromLockfile: settings.excludeLinksFromLockfile === true,
    autoInstallPeers: settings.autoInstallPeers !== false,
  };
}

/** Parse YAML, reporting the first error with line and column; picks the main document. */
function loadYaml(text: string, file: string): Record<string, unknown> {
  const fast = fastPnpmYaml(text);
  if (fast) return fast;
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      throw new LockfileError(
        file,
        `${
          err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")
        }. Fix the file or regenerate it with \`${UPGRADE}\`.`,
        { line: pos?.line, column: pos?.col, cause: err },
      );
    }
  }
  // pnpm 10+ may prepend an "env" document (config dependencies); the project's lockfile is last.
  const value = list.length > 0 ? list[list.length - 1].toJS() : null;
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw unsupportedVersion(file, undefined, UPGRADE);
  }
  return value as Record<string, unknown>;
}

/** One edge from an importer (at `from`) or a snapshot (`owner`); null when nothing to point at. */
function edge(
  alias: string,
  ref: string,
  from: string,
  dev: boolean,
  optional: boolean,
  snapshots: Record<string, PnpmSnapshot>,
  warnings: GraphWarning[],
  owner?: string,
): Dependency | null {
  if (ref.startsWith("link:")) {
    const path = posix.normalize(posix.join(from, ref.slice(5))).replace(/\/$/, "");
    return { alias, target: { kind: "link", path }, dev, optional };
  }
  const id = refToDepPath(alias, ref);
  if (id === null || !(id in snapshots)) {
    warnings.push({
      code: "unresolved",
      id: owner ?? from,
      message: `${owner ?? `importer ${from}`} depends on ${alias}@${ref}, which has no snapshot`,
      fatal: true,
    });
    return null;
  }
  return { alias, target: { kind: "package", id }, dev, optional };
}

/**
 * Whether a tarball URL is a git host's archive of a commit (pnpm's isGitHostedPkgUrl): pnpm records
 * GitHub, GitLab and Bitbucket dependencies this way, without integrity (the host may re-create the
 * archive), and publishes only what `npm pack` would from it.
 */
function isGitHostedArchive(url: string): boolean {
  return /^https:\/\/(codeload\.github\.com|bitbucket\.org|gitlab\.com)\//.test(url) &&
    url.includes("tar.gz");
}

/** Where a pnpm package's files come from. */
function resolution(pkg: PnpmPackage, parsed: DepPath): Resolution {
  const r = pkg.resolution ?? {};
  const integrity = r.integrity ? { integrity: r.integrity } : {};
  if (r.type === "directory" || r.directory !== undefined) {
    return { kind: "directory", path: r.directory ?? "" };
  }
  const sub = r.path ? { path: r.path } : {};
  if (r.type === "git" || r.repo !== undefined) {
    return { kind: "git", repo: r.repo, commit: r.commit, ...sub };
  }
  if (r.tarball !== undefined) {
    if (r.tarball.startsWith("file:")) return { kind: "tarball", url: r.tarball.slice(5), ...integrity };
    if (isGitHostedArchive(r.tarball)) return { kind: "git", archive: r.tarball, ...integrity, ...sub };
    // A semver-like version means a registry package whose tarball URL pnpm recorded.
    if (!parsed.version.includes(":")) return { kind: "registry", tarball: r.tarball, ...integrity };
    return { kind: "tarball", url: r.tarball, ...integrity };
  }
  return { kind: "registry", ...integrity };
}
