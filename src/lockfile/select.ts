/**
 * Which packages of a graph to install, and why the others are skipped.
 *
 * @module
 */
import type { Graph } from "./graph.ts";
import { engineMismatch, type Platform, platformMismatch } from "./platform.ts";
import { reach, type WalkOptions } from "./walk.ts";

/** Options for {@link selectPackages}. */
export interface SelectOptions {
  /** Omit what only importers' devDependencies need (`--prod`). */
  prod: boolean;
  /** Omit what only optional dependencies need (npm's `--omit=optional`, pnpm's `--no-optional`). */
  omitOptional?: boolean;
  /** Peers are not dependencies (npm's `legacy-peer-deps`): what only a peer edge reaches is left out. */
  legacyPeerDeps?: boolean;
  /** The platform to install for. */
  platform: Platform;
}

/**
 * Why a package is not installed:
 * - "dev": only devDependencies need it, and `prod` is set;
 * - "optional": only optional dependencies need it, and `omitOptional` is set;
 * - "platform": optional here, and its os/cpu/libc do not fit;
 * - "depends-on-skipped": optional here, and needs (non-optionally) a package skipped for its platform
 *   (npm removes the whole optional set; pnpm keeps it, so this applies to package-lock graphs only);
 * - "only-via-skipped": reachable only through skipped packages;
 * - "unreachable": no importer reaches it (an extraneous lockfile entry);
 * - "bundled": its files ship inside the tarball of the package that bundles it.
 */
export type SkipReason =
  | "dev"
  | "optional"
  | "platform"
  | "depends-on-skipped"
  | "only-via-skipped"
  | "unreachable"
  | "bundled";

/** One skipped package. */
export interface Skipped {
  /** Why it is skipped. */
  reason: SkipReason;
  /** For "platform": what did not fit, e.g. "os linux not in [darwin]". */
  detail?: string;
}

/** The result of {@link selectPackages}. */
export interface Selection {
  /** Package ids to install (fetch and place). */
  install: Set<string>;
  /** Importer paths to install (the root, workspaces, and `file:` folders that are reached). */
  importers: Set<string>;
  /** Every package of the graph that is not installed, with the reason. */
  skipped: Map<string, Skipped>;
  /** Required packages whose os/cpu/libc do not fit: installed anyway, as npm does, with a warning. */
  platformMismatch: Map<string, string>;
  /** The edges installed (`followsEdge`): without importers' devDependencies under `prod`, and so on. */
  walk: WalkOptions;
}

/**
 * Every package and importer of a graph whose layout already is the install: yarn 1's, whose hoister placed
 * only what gets installed (dev, optional and platform choices made), including copies Node's lookup never
 * reaches (a package nohoist keeps in a workspace while its other copy rose to the root: yarn installs both).
 *
 * @example
 * ```ts ignore
 * const selection = selectAll(hoistYarn(project, facts).graph);
 * ```
 */
export function selectAll(graph: Graph): Selection {
  return {
    install: new Set(graph.packages.keys()),
    importers: new Set(graph.importers.map((i) => i.path)),
    skipped: new Map(),
    platformMismatch: new Map(),
    walk: {},
  };
}

/**
 * Choose the packages to install by walking edges from the importers (not by trusting flags).
 *
 * @example
 * ```ts
 * const sel = selectPackages(graph, { prod: true, platform: currentPlatform() });
 * for (const [id, why] of sel.skipped) console.log(id, why.reason);
 * ```
 */
export function selectPackages(graph: Graph, options: SelectOptions): Selection {
  const { prod, platform } = options;
  const skipped = new Map<string, Skipped>();
  const platformMismatch_ = new Map<string, string>();

  const legacyPeerDeps = !!options.legacyPeerDeps;
  const walk = { prod, requiredOnly: !!options.omitOptional, legacyPeerDeps };
  const reached = reach(graph, walk).packages;
  const required = reach(graph, { prod, requiredOnly: true, legacyPeerDeps }).packages;

  // Optional packages that do not fit are skipped; required ones are kept and reported (bun skips those
  // too, with what only they need). npm and pnpm skip an optional package whose engines.node rules out this
  // node too (a required one only gets a warning there).
  const bunLock = graph.source === "bun.lock";
  const bad = new Set<string>();
  for (const id of reached) {
    const node = graph.packages.get(id)!;
    const why = platformMismatch(node, platform) ??
      (required.has(id) ? null : engineMismatch(node, platform));
    if (why === null) continue;
    if (required.has(id) && !bunLock) platformMismatch_.set(id, why);
    else {
      bad.add(id);
      skipped.set(id, { reason: "platform", detail: why });
    }
  }

  if (graph.source === "package-lock.json" && bad.size > 0) {
    // npm drops an optional package's dependents up to the nearest optional edge.
    const dependents = new Map<string, string[]>();
    for (const id of reached) {
      for (const dep of graph.packages.get(id)!.dependencies) {
        if (dep.optional || dep.target.kind !== "package") continue;
        const list = dependents.get(dep.target.id) ?? [];
        list.push(id);
        dependents.set(dep.target.id, list);
      }
    }
    const queue = [...bad];
    while (queue.length > 0) {
      for (const parent of dependents.get(queue.pop()!) ?? []) {
        if (bad.has(parent) || required.has(parent)) continue;
        bad.add(parent);
        skipped.set(parent, { reason: "depends-on-skipped" });
        queue.push(parent);
      }
    }
  }

  // What npm marked extraneous (reached, if at all, only through an optional peer) npm ci prunes.
  // bun does not look inside a bundled package at all: what only it reaches stays as the bundler shipped it.
  const pruned = new Set([
    ...bad,
    ...[...graph.packages.values()].filter((n) => n.extraneous || (n.bundled && bunLock)).map((n) => n.id),
  ]);
  const final = reach(graph, pruned.size > 0 ? { ...walk, skip: pruned } : walk);
  const all = prod ? reach(graph, { legacyPeerDeps }).packages : reached;
  const withOptional = options.omitOptional ? reach(graph, { prod, legacyPeerDeps }).packages : reached;
  const install = new Set<string>();
  for (const node of graph.packages.values()) {
    const id = node.id;
    if (skipped.has(id)) continue;
    if (node.bundled && bunLock && reached.has(id)) skipped.set(id, { reason: "bundled" });
    else if (final.packages.has(id)) {
      if (node.bundled) skipped.set(id, { reason: "bundled" });
      else install.add(id);
    } else if (reached.has(id)) skipped.set(id, { reason: "only-via-skipped" });
    else if (withOptional.has(id)) skipped.set(id, { reason: "optional" });
    else if (all.has(id)) skipped.set(id, { reason: "dev" });
    else skipped.set(id, { reason: "unreachable" });
  }
  // npm links every workspace into node_modules, whether or not anything depends on it.
  const workspaces = new Set(
    graph.importers.filter((i) => i.path !== "." && !i.linkedOnly && final.importers.has(i.path)).map((i) =>
      i.path
    ),
  );
  for (const node of graph.packages.values()) {
    if (
      node.resolution.kind === "directory" && workspaces.has(node.resolution.path) && !install.has(node.id)
    ) {
      install.add(node.id);
      skipped.delete(node.id);
    }
  }
  return { install, importers: final.importers, skipped, platformMismatch: platformMismatch_, walk };
}
