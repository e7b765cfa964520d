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
  /** A local directory (npm `file:` / `link: true`, pnpm `link:` / `workspace:`), relative to the project root. */
  | { kind: "directory"; path: string }
  /** A git dependency; silo reports these as unsupported rather than guessing. */
  | { kind: "git"; url: string; commit?: string };

/** One edge: `alias` is the folder name the dependent sees in node_modules. */
export interface Dependency {
  alias: string;
  /** The id of a package in `Graph.packages`, or a directory to symlink to (relative to the project root). */
  target: { kind: "package"; id: string } | { kind: "link"; path: string };
  dev: boolean;
  optional: boolean;
}

/** One package instance in the graph. */
export interface PackageNode {
  /** Unique key: npm's lockfile path ("node_modules/a/node_modules/b") or pnpm's depPath ("a@1.0.0(b@2.0.0)"). */
  id: string;
  name: string;
  version: string;
  resolution: Resolution;
  /** Resolved edges to other packages. */
  dependencies: Dependency[];
  /** Reachable only through dev dependencies of an importer (omitted with --prod). */
  dev: boolean;
  /** Reachable only through optional edges (a failed fetch or platform mismatch is skipped, not fatal). */
  optional: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  /** bin map when the lockfile records it (npm does); pnpm only records `hasBin`, read package.json then. */
  bin?: Record<string, string>;
  hasBin?: boolean;
  hasInstallScript?: boolean;
  /**
   * Hoisted layout only: the folder this package occupies, relative to the project root
   * (e.g. "node_modules/a/node_modules/b"). Isolated layouts derive locations from `id`.
   */
  location?: string;
}

/** A project in the lockfile: the root ("."), or a workspace member. */
export interface Importer {
  /** Directory relative to the project root, "." for the root. */
  path: string;
  dependencies: Dependency[];
}

/** A parsed lockfile. */
export interface Graph {
  /** Which lockfile it was read from, for messages only. */
  source: "package-lock.json" | "pnpm-lock.yaml";
  /** "hoisted": every package has a `location`. "isolated": pnpm's node_modules/.pnpm layout. */
  layout: "hoisted" | "isolated";
  importers: Importer[];
  packages: Map<string, PackageNode>;
  /** Package names whose lifecycle scripts the project allows (trustedDependencies, onlyBuiltDependencies, allowBuilds). */
  allowedScripts: string[];
}
