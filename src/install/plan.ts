/**
 * From a graph and a selection to what goes on disk: package folders (filled from
 * the store), symlinks, and .bin folders. Two layouts, one plan shape; the
 * materializer does not know which lockfile the plan came from.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import {
  type Dependency,
  type Graph,
  type Importer,
  isLinkedFolder,
  type PackageNode,
} from "../lockfile/graph.ts";
import { nameFromKey } from "../lockfile/npm.ts";
import { pnpmDirName } from "../lockfile/pnpm_names.ts";
import type { Selection } from "../lockfile/select.ts";
import { followsEdge } from "../lockfile/walk.ts";
import { DEFAULT_LAYOUT, matchesPatterns, type PnpmLayout } from "./pnpm_layout.ts";

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
  /** Folders made even when nothing lands in them (pnpm's hoisting folder). */
  dirs?: string[];
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
  const locationOf = (id: string) => graph.packages.get(id)!.location ?? id;
  // bun links a folder's commands in its tree's order, which lists the folder owner's own dependencies
  // before what was hoisted there: theirs keep a command name both offer.
  const own = graph.source === "bun.lock" ? ownDependencies(graph) : undefined;
  const rank = (id: string) => (own && !own.has(id) ? 1 : 0);
  const ids = [...selection.install].sort((a, b) =>
    rank(a) - rank(b) || locationOf(a).localeCompare(locationOf(b))
  );
  // npm links the commands of linked folders (workspaces, file: folders) after the registry packages',
  // and the first link made keeps a command name both offer.
  const linkedBins: BinPlan[] = [];
  for (const id of ids) {
    const node = graph.packages.get(id)!;
    const location = node.location;
    if (!location) {
      throw new Error(`the lockfile gives ${node.name}@${node.version} no location; it cannot be placed`);
    }
    const bin = { binDir: binDirOf(location), pkgDir: location, id };
    if (isLinkedFolder(node.resolution)) {
      plan.links.push({ path: location, target: node.resolution.path });
      linkedBins.push(bin);
    } else {
      plan.placements.push({ id, node, dir: location });
      plan.bins.push(bin);
    }
  }
  plan.bins.push(...linkedBins);
  // Bundled packages arrive inside their bundler's tarball; npm still links their commands. Their
  // package.json is read from disk once the bundler is in place (no id: no store row of their own).
  const placed = new Set(plan.placements.map((p) => p.dir));
  for (const [id, why] of graph.source === "bun.lock" ? [] : selection.skipped) {
    const location = graph.packages.get(id)?.location;
    if (why.reason !== "bundled" || !location) continue;
    const parts = location.split("/node_modules/");
    const inPlacedBundler = parts.some((_, i) =>
      i > 0 && placed.has(parts.slice(0, i).join("/node_modules/"))
    );
    if (inPlacedBundler) plan.bins.push({ binDir: binDirOf(location), pkgDir: location });
  }
  return plan;
}

/** Packages that sit in the node_modules of the importer or package that depends on them. */
function ownDependencies(graph: Graph): Set<string> {
  const own = new Set<string>();
  const add = (from: string, deps: Graph["importers"][number]["dependencies"]) => {
    for (const dep of deps) {
      const id = dep.target.id;
      if (id !== undefined && id === posix.join(from, "node_modules", dep.alias)) own.add(id);
    }
  };
  for (const importer of graph.importers) add(importer.path, importer.dependencies);
  for (const node of graph.packages.values()) add(node.location ?? node.id, node.dependencies);
  return own;
}

/**
 * The commands of dependencies bundled inside a package that the lockfile does not list (pnpm's
 * `bundledDependencies`): pnpm links those of every package at the top of the bundler's own node_modules
 * (transitive bundled ones too) into its node_modules/.bin. Which packages are there is known once the
 * bundler's file list is: `filesOf` gives it for a placed package. Their package.json is read from disk.
 */
export function planBundledBins(
  placements: Placement[],
  filesOf: (id: string) => Iterable<string> | undefined,
): BinPlan[] {
  const bins: BinPlan[] = [];
  for (const { id, node, dir } of placements) {
    if (!node.bundlesDependencies) continue;
    for (const file of filesOf(id) ?? []) {
      const bundled = /^node_modules\/((?:@[^/]+\/)?[^/@][^/]*)\/package\.json$/.exec(file)?.[1];
      if (bundled) {
        bins.push({
          binDir: posix.join(dir, "node_modules", ".bin"),
          pkgDir: posix.join(dir, "node_modules", bundled),
        });
      }
    }
  }
  return bins;
}

/** Extra inputs of {@linkcode planIsolated} that are not in the lockfile. */
export interface IsolatedOptions {
  /** Workspace importers' package names (importer path -> package.json `name`), for hoisting them as pnpm does. */
  importerNames?: Map<string, string>;
  /** The project's pnpm settings and version habits (see pnpm_layout.ts); the newest pnpm's defaults when absent. */
  layout?: Omit<PnpmLayout, "nodeLinker" | "sources" | "checksManifestPlatform">;
}

/**
 * The package.json names of a graph's importers other than the root, read from `projectDir`.
 *
 * @example
 * ```ts ignore
 * planIsolated(graph, selection, { importerNames: readImporterNames(projectDir, graph) });
 * ```
 */
export function readImporterNames(projectDir: string, graph: Graph): Map<string, string> {
  const names = new Map<string, string>();
  for (const importer of graph.importers) {
    if (importer.path === ".") continue;
    try {
      const name =
        JSON.parse(fs.readFileSync(path.join(projectDir, importer.path, "package.json"), "utf8")).name;
      if (typeof name === "string" && name) names.set(importer.path, name);
    } catch {
      // No readable package.json: nothing to hoist under a name.
    }
  }
  return names;
}

/** pnpm's isolated layout: node_modules/.pnpm/<dir>/node_modules/<name>, dependencies as symlinks. */
export function planIsolated(graph: Graph, selection: Selection, options: IsolatedOptions = {}): InstallPlan {
  const plan: InstallPlan = {
    layout: "isolated",
    placements: [],
    links: [],
    bins: [],
    roots: importerRoots(graph, selection),
  };
  const {
    linksOwnBins,
    linksPeerBins,
    folderHash,
    virtualStoreDirMaxLength,
    binsOfLinkedDeps,
    hashesAmbiguousUrls,
  } = options.layout ?? DEFAULT_LAYOUT;
  const naming = { hash: folderHash, maxLength: virtualStoreDirMaxLength, hashesAmbiguousUrls };
  const folderOf = (id: string) => `node_modules/.pnpm/${pnpmDirName(id, naming)}`;
  const dirOf = (id: string) => `${folderOf(id)}/node_modules/${graph.packages.get(id)!.name}`;
  // An edge the selection leaves out (an importer's devDependency under --prod, an optional one under
  // --no-optional) gets no symlink, even when its package is installed for another dependent.
  const targetOf = (dep: Dependency): { dir: string; id?: string } | undefined => {
    if (!followsEdge(dep, selection.walk)) return undefined;
    if (dep.target.kind === "link") return { dir: dep.target.path };
    return selection.install.has(dep.target.id)
      ? { dir: dirOf(dep.target.id), id: dep.target.id }
      : undefined;
  };

  for (const id of selection.install) {
    const node = graph.packages.get(id)!;
    const dir = dirOf(id);
    plan.placements.push({ id, node, dir });
    // pnpm 11+ links a package's own commands next to its dependencies', so its scripts can call them.
    if (linksOwnBins) plan.bins.push({ binDir: posix.join(dir, "node_modules", ".bin"), pkgDir: dir, id });
    const depsDir = `${folderOf(id)}/node_modules`;
    for (const dep of node.dependencies) {
      const target = targetOf(dep);
      if (!target || dep.alias === node.name && target.id === id) continue;
      plan.links.push({ path: posix.join(depsDir, dep.alias), target: target.dir });
      // A link: dependency (a workspace package) gets its commands here only from pnpm 10 and older.
      if (target.id || binsOfLinkedDeps) {
        plan.bins.push({
          binDir: posix.join(dir, "node_modules", ".bin"),
          pkgDir: target.dir,
          id: target.id,
        });
      }
    }
  }

  const importers = graph.importers.filter((i) => selection.importers.has(i.path));
  const peerBins: BinPlan[] = [];
  for (const importer of importers) {
    const binDir = posix.join(importer.path, "node_modules", ".bin");
    for (const dep of importer.dependencies) {
      const target = targetOf(dep);
      if (!target) continue;
      plan.links.push({ path: posix.join(importer.path, "node_modules", dep.alias), target: target.dir });
      plan.bins.push({ binDir, pkgDir: target.dir, id: target.id });
      // pnpm 11+ also links the commands of the required peers a direct dependency was resolved with
      // (vitest -> vite), not of its optional peers (vite -> sass).
      if (!target.id || !linksPeerBins) continue;
      const node = graph.packages.get(target.id)!;
      const peers = new Set(node.requiredPeers ?? []);
      for (const peerDep of node.dependencies) {
        const peer = peers.has(peerDep.alias) ? targetOf(peerDep) : undefined;
        if (peer) peerBins.push({ binDir, pkgDir: peer.dir, id: peer.id });
      }
    }
  }
  hoistDependencies(graph, selection, importers, dirOf, plan, options);
  // Last: a command a package in node_modules provides (a dependency, or one hoisted there) keeps it.
  plan.bins.push(...peerBins);
  return plan;
}

/**
 * pnpm's hoisting. Every package name not taken by the root importer that matches the hoist pattern ("*"
 * by default) is linked once into node_modules/.pnpm/node_modules, so undeclared ("phantom") imports
 * inside the virtual store still resolve; a name matching the public hoist pattern (shamefully-hoist:
 * "*") is linked into the root node_modules instead, commands included. Which version gets a name
 * follows pnpm's @pnpm/hoist exactly, since the result is observable: first (depth -1) the workspace
 * packages under their package.json names (hoist-workspace-packages), then the importers' direct
 * dependencies, a direct dependency taking the place of a workspace package of its name; then packages by
 * the depth pnpm's lockfile walker assigns (a depth-first walk that visits each package once, so a package
 * can land deeper than its shortest path), ties broken by depPath; each package offers its children in
 * lockfile order. A hoisted workspace package keeps its name against any later package: pnpm links both
 * and replaces a link into the virtual store with the workspace's.
 */
function hoistDependencies(
  graph: Graph,
  selection: Selection,
  importers: Importer[],
  dirOf: (id: string) => string,
  plan: InstallPlan,
  options: IsolatedOptions,
): void {
  const isPackage = (dep: Dependency): dep is Dependency & { target: { kind: "package" } } =>
    dep.target.kind === "package" && graph.packages.has(dep.target.id) && followsEdge(dep, selection.walk);
  // Packages not installed here (wrong platform, dev with --prod) are never walked, as in pnpm.
  const walked = new Set<string>([...graph.packages.keys()].filter((id) => !selection.install.has(id)));
  const step = (ids: string[]) => {
    const out: string[] = [];
    for (const id of ids) {
      if (walked.has(id)) continue;
      walked.add(id);
      out.push(id);
    }
    return out;
  };
  /** A name offered for hoisting: a package (`id`) or a workspace folder (`workspace`). */
  type Child = { alias: string; id?: string; workspace?: string };
  const nodes: { id: string; depth: number; children: Child[] }[] = [];
  const visit = (ids: string[], depth: number) => {
    const next: string[][] = [];
    for (const id of ids) {
      const children = graph.packages.get(id)!.dependencies.filter(isPackage);
      nodes.push({ id, depth, children: children.map((d) => ({ alias: d.alias, id: d.target.id })) });
      next.push(step(children.map((d) => d.target.id)));
    }
    for (const ids of next) visit(ids, depth + 1);
  };
  const layout = options.layout ?? DEFAULT_LAYOUT;
  const first = new Map<string, Child>();
  if (layout.hoistWorkspacePackages) {
    for (const importer of importers) {
      const name = options.importerNames?.get(importer.path);
      if (name) first.set(name, { alias: name, workspace: importer.path });
    }
  }
  const direct = importers.flatMap((i) => i.dependencies.filter(isPackage));
  const directSeen = new Set<string>();
  for (const dep of direct) {
    if (directSeen.has(dep.alias)) continue;
    directSeen.add(dep.alias);
    first.set(dep.alias, { alias: dep.alias, id: dep.target.id });
  }
  nodes.push({ id: "", depth: -1, children: [...first.values()] });
  visit(step(direct.map((d) => d.target.id)), 0);
  nodes.sort((a, b) => a.depth - b.depth || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const { hoistPattern, publicHoistPattern, alwaysMakeHoistDir, hoistsWorkspacesOverRootDeps } = layout;
  const hoistTo = (alias: string) =>
    matchesPatterns(publicHoistPattern, alias)
      ? "node_modules"
      : matchesPatterns(hoistPattern, alias)
      ? "node_modules/.pnpm/node_modules"
      : undefined;
  const root = graph.importers.find((i) => i.path === ".");
  // pnpm 11+ does not count the root's link: dependencies here (they are not in its dependency graph).
  const rootDeps = (root?.dependencies ?? []).filter((d) =>
    followsEdge(d, selection.walk) && (!hoistsWorkspacesOverRootDeps || d.target.kind === "package")
  );
  const taken = new Set(rootDeps.map((d) => d.alias.toLowerCase()));
  const toWorkspace = new Set<string>();
  let hoistedAny = false;
  for (const node of nodes) {
    for (const child of node.children) {
      const modulesDir = hoistTo(child.alias);
      const alias = child.alias.toLowerCase();
      if (!modulesDir || taken.has(alias)) continue;
      if (child.workspace !== undefined) {
        // pnpm does not mark the name taken (the folder is no package of its graph), but its link wins.
        toWorkspace.add(alias);
        hoistedAny = true;
        plan.links.push({ path: `${modulesDir}/${child.alias}`, target: child.workspace });
        // Its commands land in the root's .bin when hoisted publicly, not in the private folder's.
        if (modulesDir === "node_modules") {
          plan.bins.push({ binDir: "node_modules/.bin", pkgDir: child.workspace });
        }
        continue;
      }
      taken.add(alias);
      if (!selection.install.has(child.id!) || toWorkspace.has(alias)) continue;
      hoistedAny = true;
      plan.links.push({ path: `${modulesDir}/${child.alias}`, target: dirOf(child.id!) });
      // pnpm links the commands of hoisted packages, not of hoisted workspace folders.
      plan.bins.push({ binDir: `${modulesDir}/.bin`, pkgDir: dirOf(child.id!), id: child.id });
    }
  }
  // pnpm 11+ makes the private hoisting folder once anything was hoisted, even if only publicly.
  if (hoistPattern.length > 0 && alwaysMakeHoistDir && hoistedAny) {
    plan.dirs = ["node_modules/.pnpm/node_modules"];
  }
}

/**
 * yarn 1's .bin folders (PackageLinker.copyModules): every placed package gets a node_modules/.bin of its
 * own dependencies' commands, and the root's holds the commands of the first package of each name in path
 * order, the root's own dependencies' last. yarn overwrites as it goes, so the last link made wins; claims
 * here are first-wins, hence the reversed lists. A workspace's folder stands for its symlink.
 */
export function planYarnBins(
  graph: Graph,
  selection: Selection,
  nohoist: Map<string, string> = new Map(),
): BinPlan[] {
  const folderOf = (node: PackageNode) =>
    isLinkedFolder(node.resolution) ? node.resolution.path : node.location!;
  const ids = [...selection.install].sort((a, b) =>
    graph.packages.get(a)!.location!.localeCompare(graph.packages.get(b)!.location!)
  );
  const importers = new Map(graph.importers.map((i) => [i.path, i]));
  const binOf = (binDir: string, id: string): BinPlan => ({
    binDir,
    pkgDir: folderOf(graph.packages.get(id)!),
    id,
  });
  const nested: BinPlan[] = [];
  for (const id of ids) {
    const node = graph.packages.get(id)!;
    const folder = folderOf(node);
    const deps = isLinkedFolder(node.resolution)
      ? importers.get(folder)?.dependencies ?? []
      : node.dependencies;
    const binDir = posix.join(folder, "node_modules", ".bin");
    const own = deps.flatMap((d) =>
      d.target.kind === "package" && selection.install.has(d.target.id) ? [binOf(binDir, d.target.id)] : []
    );
    nested.push(...own.reverse());
  }
  const direct = new Set(
    importers.get(".")?.dependencies.flatMap((d) => (d.target.kind === "package" ? [d.target.id] : [])),
  );
  const first = new Map<string, string>();
  for (const id of ids) {
    if (nohoist.has(id)) continue; // yarn links nohoist packages' commands at their parent only
    const name = nameFromKey(graph.packages.get(id)!.location!);
    if (direct.has(id) || !first.has(name)) first.set(name, id);
  }
  const top = [...first.values()];
  const order = [...top.filter((id) => !direct.has(id)), ...top.filter((id) => direct.has(id))];
  // A nohoist package's commands go into its parent's .bin, overwriting (so claiming first) what is there.
  const parents = ids.flatMap((id) => {
    const parent = nohoist.get(id);
    return parent === undefined ? [] : [binOf(posix.join(parent, "node_modules", ".bin"), id)];
  });
  return [...order.reverse().map((id) => binOf("node_modules/.bin", id)), ...parents, ...nested];
}
