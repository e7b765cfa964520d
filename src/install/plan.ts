/**
 * From a graph and a selection to what goes on disk: package folders (filled from
 * the store), symlinks, and .bin folders. Two layouts, one plan shape; the
 * materializer does not know which lockfile the plan came from.
 *
 * @module
 */
import path from "node:path";
import type { Dependency, Graph, PackageNode } from "../lockfile/graph.ts";
import { pnpmDirName } from "../lockfile/pnpm.ts";
import type { Selection } from "../lockfile/select.ts";

/** A package folder to fill from the store. Paths are relative to the project root, posix. */
export interface Placement {
  id: string;
  node: PackageNode;
  dir: string;
}

/** A symlink at `path` pointing to the folder `target` (both relative to the project root). */
export interface LinkPlan {
  path: string;
  target: string;
}

/** Bins of the package at `pkgDir` go into `binDir`. `node` is absent for linked folders (read their package.json). */
export interface BinPlan {
  binDir: string;
  pkgDir: string;
  id?: string;
}

/** Everything the materializer creates. */
export interface InstallPlan {
  layout: Graph["layout"];
  placements: Placement[];
  links: LinkPlan[];
  bins: BinPlan[];
  /** The node_modules folders this install owns (rebuilt when out of date). */
  roots: string[];
}

const posix = path.posix;

/** The node_modules/.bin folder that serves a package at `location` (".../node_modules/[@s/]name"). */
export function binDirOf(location: string): string {
  const at = location.lastIndexOf("node_modules/");
  return posix.join(location.slice(0, at), "node_modules", ".bin");
}

function importerRoots(graph: Graph, selection: Selection): string[] {
  return graph.importers.filter((i) => selection.importers.has(i.path)).map((i) =>
    posix.join(i.path, "node_modules")
  );
}

/** npm's hoisted layout: every package sits at the location the lockfile gives it. */
export function planHoisted(graph: Graph, selection: Selection): InstallPlan {
  const plan: InstallPlan = {
    layout: "hoisted",
    placements: [],
    links: [],
    bins: [],
    roots: importerRoots(graph, selection),
  };
  const ids = [...selection.install].sort((a, b) =>
    (graph.packages.get(a)!.location ?? a).localeCompare(graph.packages.get(b)!.location ?? b)
  );
  for (const id of ids) {
    const node = graph.packages.get(id)!;
    const location = node.location;
    if (!location) {
      throw new Error(`the lockfile gives ${node.name}@${node.version} no location; it cannot be placed`);
    }
    if (node.resolution.kind === "directory") {
      plan.links.push({ path: location, target: node.resolution.path });
    } else plan.placements.push({ id, node, dir: location });
    plan.bins.push({ binDir: binDirOf(location), pkgDir: location, id });
  }
  return plan;
}

/** pnpm's isolated layout: node_modules/.pnpm/<dir>/node_modules/<name>, dependencies as symlinks. */
export function planIsolated(graph: Graph, selection: Selection): InstallPlan {
  const plan: InstallPlan = {
    layout: "isolated",
    placements: [],
    links: [],
    bins: [],
    roots: importerRoots(graph, selection),
  };
  const dirOf = (id: string) =>
    `node_modules/.pnpm/${pnpmDirName(id)}/node_modules/${graph.packages.get(id)!.name}`;
  const targetOf = (dep: Dependency): { dir: string; id?: string } | undefined => {
    if (dep.target.kind === "link") return { dir: dep.target.path };
    return selection.install.has(dep.target.id)
      ? { dir: dirOf(dep.target.id), id: dep.target.id }
      : undefined;
  };

  for (const id of selection.install) {
    const node = graph.packages.get(id)!;
    const dir = dirOf(id);
    plan.placements.push({ id, node, dir });
    const depsDir = `node_modules/.pnpm/${pnpmDirName(id)}/node_modules`;
    for (const dep of node.dependencies) {
      const target = targetOf(dep);
      if (!target || dep.alias === node.name && target.id === id) continue;
      plan.links.push({ path: posix.join(depsDir, dep.alias), target: target.dir });
      plan.bins.push({ binDir: posix.join(dir, "node_modules", ".bin"), pkgDir: target.dir, id: target.id });
    }
  }

  const rootAliases = new Set<string>();
  for (const importer of graph.importers) {
    if (!selection.importers.has(importer.path)) continue;
    for (const dep of importer.dependencies) {
      const target = targetOf(dep);
      if (!target) continue;
      if (importer.path === ".") rootAliases.add(dep.alias);
      plan.links.push({ path: posix.join(importer.path, "node_modules", dep.alias), target: target.dir });
      plan.bins.push({
        binDir: posix.join(importer.path, "node_modules", ".bin"),
        pkgDir: target.dir,
        id: target.id,
      });
    }
  }

  // pnpm hoists every other package, once per name (shallowest first), into node_modules/.pnpm/node_modules
  // so that undeclared ("phantom") imports inside the store layout still resolve.
  const hoisted = new Set(rootAliases);
  let frontier: Dependency[] = graph.importers.filter((i) => selection.importers.has(i.path)).flatMap((i) =>
    i.dependencies
  );
  const visited = new Set<string>();
  while (frontier.length) {
    const next: Dependency[] = [];
    for (const dep of frontier) {
      if (
        dep.target.kind !== "package" || !selection.install.has(dep.target.id) || visited.has(dep.target.id)
      ) continue;
      visited.add(dep.target.id);
      const node = graph.packages.get(dep.target.id)!;
      if (!hoisted.has(node.name)) {
        hoisted.add(node.name);
        plan.links.push({
          path: `node_modules/.pnpm/node_modules/${node.name}`,
          target: dirOf(dep.target.id),
        });
        plan.bins.push({
          binDir: "node_modules/.pnpm/node_modules/.bin",
          pkgDir: dirOf(dep.target.id),
          id: dep.target.id,
        });
      }
      next.push(...node.dependencies);
    }
    frontier = next;
  }
  return plan;
}
