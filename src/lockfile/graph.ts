/**
 * The one graph every lockfile parses into. The materializer reads only this,
 * never the lockfile it came from.
 *
 * @module
 */

/** Where a package's files come from. */
export type Resolution =
  /** A registry tarball. `tarball` is the lockfile's URL when it recorded one. */
  | { kind: "registry"; tarball?: string; integrity?: string }
  /** A tarball at an arbitrary URL (or a local .tgz path relative to the project root). */
  | { kind: "tarball"; url: string; integrity?: string }
  /**
   * A local directory, relative to the project root. Hoisted layout (npm `link: true`): the node's
   * `location` is a symlink to it. Isolated layout (pnpm `file:` folders, "injected"): its files are
   * placed like any package's. pnpm `link:` / `workspace:` deps are link edges, not nodes.
   */
  | {
    kind: "directory";
    path: string;
    /** Hoisted layout: its files are placed (bun's `file:` folders), not symlinked. */
    copy?: true;
  }
  /**
   * A git dependency: a commit of a repository (`repo` as the lockfile spells it), and/or the archive of it
   * a git host serves (pnpm records GitHub's, GitLab's and Bitbucket's so). `path` is the package's folder
   * inside the repository (pnpm's `#path:`); `integrity` covers the archive when the lockfile has one.
   */
  | { kind: "git"; repo?: string; commit?: string; archive?: string; path?: string; integrity?: string };

/**
 * Whether `r` is a folder the hoisted layout symlinks (npm's `link: true`, workspaces, yarn's `link:`),
 * not one whose files are placed (`copy`).
 *
 * @example
 * ```ts
 * isLinkedFolder({ kind: "directory", path: "packages/a" }); // true
 * isLinkedFolder({ kind: "directory", path: "vendor/b", copy: true }); // false
 * ```
 */
export function isLinkedFolder(r: Resolution): r is Extract<Resolution, { kind: "directory" }> {
  return r.kind === "directory" && !r.copy;
}

/** One edge: `alias` is the folder name the dependent sees in node_modules. */
export interface Dependency {
  /** Folder name under the dependent's node_modules (differs from the package name for aliases). */
  alias: string;
  /**
   * The id of a package in `Graph.packages`, or a directory to symlink to (relative to the project root).
   *
   * Links (npm `link: true` entries, pnpm `link:` versions) carry `path`. In the hoisted layout the
   * symlink itself is also a package node (resolution `directory`, with a `location`), and `id` names
   * it, so selection can tell which symlink folders to create. pnpm links have no node and no `id`:
   * the isolated layout creates the symlink `<dependent>/node_modules/<alias>` from the edge alone.
   */
  target: { kind: "package"; id: string } | { kind: "link"; path: string; id?: string };
  /** A devDependencies edge (importers only). */
  dev: boolean;
  /** An optionalDependencies edge, or an optional peer. */
  optional: boolean;
  /** Only a peerDependencies edge (npm lockfiles): not followed with `legacy-peer-deps`. */
  peer?: true;
}

/** One package instance in the graph. */
export interface PackageNode {
  /** Unique key: npm's lockfile path ("node_modules/a/node_modules/b") or pnpm's depPath ("a@1.0.0(b@2.0.0)"). */
  id: string;
  /** The package's real name (not the alias it is installed under). */
  name: string;
  /** Its version ("0.0.0" for an npm link whose folder entry has none). */
  version: string;
  /** Where its files come from. */
  resolution: Resolution;
  /** Resolved edges to other packages. */
  dependencies: Dependency[];
  /**
   * Reachable only through dev dependencies of an importer (omitted with --prod).
   * npm: the lockfile's `dev` flag. npm's `devOptional` (needed by the dev tree and by the optional
   * prod tree, so neither flag strictly holds) maps to dev=false, optional=false.
   * pnpm: computed by reachability from the importers. `select()` recomputes both per install mode.
   */
  dev: boolean;
  /** Reachable only through optional edges (a failed fetch or platform mismatch is skipped, not fatal). */
  optional: boolean;
  /** package.json `os`, npm syntax ("!win32" excludes). */
  os?: string[];
  /** package.json `cpu`. */
  cpu?: string[];
  /** package.json `libc` ("glibc" | "musl"); pnpm lockfiles often omit it. */
  libc?: string[];
  /** package.json `engines.node`, when the lockfile records it: an optional package that rules out this node is skipped. */
  nodeEngine?: string;
  /**
   * npm marked it `extraneous`: nothing needs it but an optional peer (npm ci prunes it, and so does silo).
   */
  extraneous?: boolean;
  /** bin map when the lockfile records it (npm does); pnpm only records `hasBin`, read package.json then. */
  bin?: Record<string, string>;
  /** The package declares bins (npm: `bin` is set; pnpm: `hasBin`). */
  hasBin?: boolean;
  /**
   * Names of its required (non-optional) peer dependencies, when the lockfile records them (pnpm does).
   * pnpm links the commands of these peers, as resolved for a direct dependency, into the importer's .bin.
   */
  requiredPeers?: string[];
  /** It has install scripts (npm `hasInstallScript`, pnpm `requiresBuild`). */
  hasInstallScript?: boolean;
  /** npm `inBundle`: the files ship inside the tarball of the package that bundles it; never fetched. */
  bundled?: boolean;
  /**
   * Its tarball ships bundled dependencies under node_modules/ that the lockfile does not list as
   * packages (pnpm records `bundledDependencies`); their commands are linked inside it.
   */
  bundlesDependencies?: boolean;
  /**
   * Hoisted layout only: the folder this package occupies, relative to the project root
   * (e.g. "node_modules/a/node_modules/b"). Isolated layouts derive locations from `id`.
   * When `resolution.kind` is "directory" the folder is a symlink to `resolution.path`
   * (npm workspaces and `file:` folder dependencies), not a copy.
   */
  location?: string;
}

/** A project in the lockfile: the root ("."), or a workspace member. */
export interface Importer {
  /** Directory relative to the project root, "." for the root. */
  path: string;
  /** Its resolved edges, devDependencies included (flagged `dev`). */
  dependencies: Dependency[];
  /**
   * True for a local folder that is only installed because a link edge reaches it (an npm `file:`
   * folder that is not a workspace). Other importers (the root, workspaces) are always installed.
   */
  linkedOnly?: boolean;
  /**
   * The dependency specifiers the lockfile was made from (`{ "ms": "^2.1.3" }`), devDependencies and
   * optionalDependencies included: compared with the importer's package.json to catch a stale lockfile.
   */
  specifiers?: Record<string, string>;
}

/** Something odd in the lockfile that is not fatal; the installer decides what to do with it. */
export interface GraphWarning {
  /** "missing-integrity": a registry/tarball package without integrity; "unresolved": an edge with no target. */
  code: "missing-integrity" | "unresolved";
  /** The package or importer it concerns. */
  id: string;
  /** Human-readable, names the package and the lockfile. */
  message: string;
  /**
   * The lockfile is broken here, so its package manager refuses it too (a project's dependency without an
   * entry, a pnpm snapshot without its package: a merge conflict resolved by hand): the install stops.
   */
  fatal?: true;
}

/** A parsed lockfile. */
export interface Graph {
  /** Which lockfile it was read from, for messages only. */
  source: "package-lock.json" | "pnpm-lock.yaml" | "bun.lock" | "yarn.lock";
  /** "hoisted": every package has a `location`. "isolated": pnpm's node_modules/.pnpm layout. */
  layout: "hoisted" | "isolated";
  /** The root first, then workspace members and local folders. */
  importers: Importer[];
  /** Every package instance, by id. */
  packages: Map<string, PackageNode>;
  /** Package names whose lifecycle scripts the project allows (trustedDependencies, onlyBuiltDependencies, allowBuilds). */
  allowedScripts: string[];
  /** The lockfile's path as read (e.g. ".../npm-shrinkwrap.json"), for messages. */
  file?: string;
  /** Non-fatal findings, e.g. registry packages without integrity. */
  warnings?: GraphWarning[];
  /**
   * pnpm: the settings the lockfile was made with, which `pnpm install --frozen-lockfile` compares with the
   * project's: `overrides` (selector -> specifier) and the catalog entries it used (catalog -> name -> specifier).
   */
  recordedSettings?: {
    overrides?: Record<string, string>;
    catalogs?: Record<string, Record<string, string>>;
    /** `settings.excludeLinksFromLockfile`: the importers' `link:` dependencies are only in package.json. */
    excludeLinksFromLockfile?: boolean;
    /** `settings.autoInstallPeers` (pnpm's default true). */
    autoInstallPeers?: boolean;
    /** bun.lock's `configVersion` (0 when absent): with 1, bun installs a workspace isolated. */
    bunConfigVersion?: number;
  };
}
