/**
 * Reachability over a {@link Graph}: which packages the importers reach, following edges rather than
 * trusting the lockfile's flags.
 *
 * @module
 */
import type { Dependency, Graph } from "./graph.ts";

/** Which edges a walk follows. */
export interface WalkOptions {
  /** Skip importers' devDependencies. */
  prod?: boolean;
  /** Follow only non-optional edges. */
  requiredOnly?: boolean;
  /** Do not follow peer edges (npm's `legacy-peer-deps`). */
  legacyPeerDeps?: boolean;
  /** Package ids never entered (and not reported as reached). */
  skip?: ReadonlySet<string>;
}

/**
 * Whether a walk with `options` follows `dep` (its `skip` list aside).
 *
 * @example
 * ```ts
 * const dep = { alias: "ms", target: { kind: "package", id: "ms@2.1.3" }, dev: true, optional: false } as const;
 * followsEdge(dep, { prod: true }); // false
 * ```
 */
export function followsEdge(dep: Dependency, options: WalkOptions): boolean {
  return !((options.prod && dep.dev) || (options.requiredOnly && dep.optional) ||
    (options.legacyPeerDeps && dep.peer));
}

/** What a walk reached. */
export interface Reached {
  /** Package ids reached, including hoisted link nodes. */
  packages: Set<string>;
  /** Importer paths reached: the roots plus link-only folders that a followed link points at. */
  importers: Set<string>;
}

/**
 * Walk from every importer that is always installed (all but `linkedOnly` ones).
 *
 * @example
 * ```ts
 * const { packages } = reach(graph, { prod: true });
 * packages.has("node_modules/ms");
 * ```
 */
export function reach(graph: Graph, options: WalkOptions = {}): Reached {
  const byPath = new Map(graph.importers.map((i) => [i.path, i]));
  const packages = new Set<string>();
  const importers = new Set<string>();
  const queue: Dependency[][] = [];
  const visitImporter = (path: string) => {
    const imp = byPath.get(path);
    if (!imp || importers.has(path)) return;
    importers.add(path);
    queue.push(imp.dependencies);
  };
  for (const imp of graph.importers) if (!imp.linkedOnly) visitImporter(imp.path);

  while (queue.length > 0) {
    for (const dep of queue.pop()!) {
      if (!followsEdge(dep, options)) continue;
      const t = dep.target;
      if (t.kind === "link") {
        if (t.id !== undefined && !options.skip?.has(t.id)) packages.add(t.id);
        visitImporter(t.path);
        continue;
      }
      if (packages.has(t.id) || options.skip?.has(t.id)) continue;
      const node = graph.packages.get(t.id);
      if (!node) continue;
      packages.add(t.id);
      queue.push(node.dependencies);
    }
  }
  return { packages, importers };
}

/**
 * Set every node's `dev` and `optional` from reachability: dev when no prod path reaches it,
 * optional when every path to it crosses an optional edge.
 *
 * @example
 * ```ts
 * markDevOptional(graph); // pnpm lockfiles do not record `dev`
 * ```
 */
export function markDevOptional(graph: Graph): void {
  const prod = reach(graph, { prod: true }).packages;
  const required = reach(graph, { requiredOnly: true }).packages;
  for (const node of graph.packages.values()) {
    node.dev = !prod.has(node.id);
    node.optional = !required.has(node.id);
  }
}
