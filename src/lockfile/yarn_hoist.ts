/**
 * yarn 1's node_modules layout for a {@link YarnProject}: a port of yarn's PackageHoister
 * (src/package-hoister.js in yarn 1.22), then the result as a hoisted {@link Graph} whose package ids are
 * their folders, as package-lock.json's are.
 *
 * Yarn places packages level by level (all dependencies of the root's dependencies, then theirs, ...),
 * each level in pattern order with packages that have peer dependencies last, and moves each one as high
 * as it can go without shadowing another version or rising above its peers. Before that, a package with
 * several versions gets the most used one seeded at the top. The order and the peer rule are why the
 * layout needs the packages' package.json files, not only the lockfile.
 *
 * Workspaces' `nohoist` globs (the root's and a private workspace's own, matched against the path of names
 * a package was first reached by, as yarn's NohoistResolver does) keep a package below its workspace.
 * Left out: `--focus`.
 *
 * @module
 */
import type { Dependency, Graph, Importer, PackageNode } from "./graph.ts";
import picomatch from "picomatch";
import semver from "semver";
import { resolveKey } from "./npm.ts";
import { refOf, type RootPattern, splitPattern, type YarnProject, type YarnRef } from "./yarn.ts";

/** What yarn reads from a package's own package.json. */
export interface YarnFacts {
  /** peerDependencies (name -> range). */
  peers: Record<string, string>;
  /** Why it cannot be installed here (os or cpu), or undefined. */
  misfit?: string;
  /** Its engines.node rules out this node: an optional package is skipped, a required one refused. */
  engine?: string;
}

/** Options of {@link hoistYarn}, as yarn's flags. */
export interface YarnHoistOptions {
  /** `--production`: the root's devDependencies are placed, then left out, with what only they need. */
  production?: boolean;
  /** `--ignore-optional`. */
  ignoreOptional?: boolean;
  /** Install required packages for another platform anyway. */
  force?: boolean;
}

/** The layout, and what was left out of it. */
export interface YarnLayout {
  graph: Graph;
  /** Optional packages that do not fit this platform (ref id -> why). */
  skipped: Map<string, string>;
  /** Required packages that do not fit (yarn stops): ref id -> why, and the flag that installs them. */
  misfits: Map<string, Misfit>;
  /**
   * Packages kept below their workspace by `nohoist` (location -> the folder whose .bin gets their commands,
   * yarn's parent bin link); the root's .bin gets none of their commands.
   */
  nohoist: Map<string, string>;
}

/** A required package yarn refuses: why, and the flag that installs it anyway. */
export interface Misfit {
  why: string;
  flag: "--force" | "--ignore-engines";
}

/** One placed instance (yarn's HoistManifest). */
interface Info {
  key: string;
  parts: string[];
  ref: YarnRef;
  isDirectRequire: boolean;
  isRequired: boolean;
  isIncompatible: boolean;
  /** yarn's NohoistResolver: the path of names it was first seeded under ("/_project_/ws/pkg"). */
  originalParentPath: string;
  nohoistList: string[];
  isNohoist: boolean;
}

const AGGREGATOR = "workspace-aggregator";
/** How nohoist paths name the workspace root (yarn's WS_ROOT_ALIAS). */
const WS_ROOT_ALIAS = "_project_";

/**
 * Compute yarn 1's layout. `facts(ref)` gives what the package's package.json says (see
 * {@link YarnFacts}); workspaces need none.
 *
 * @example
 * ```ts ignore
 * const { graph } = hoistYarn(project, (ref) => ({ peers: {} }), { production: false });
 * graph.packages.get("node_modules/ms")?.version;
 * ```
 */
export function hoistYarn(
  project: YarnProject,
  facts: (ref: YarnRef) => YarnFacts,
  options: YarnHoistOptions = {},
): YarnLayout {
  const hoister = new Hoister(project, facts, options);
  return hoister.layout();
}

class Hoister {
  readonly tree = new Map<string, Info>();
  readonly tainted = new Map<string, Info>();
  levelQueue: [string, Info][] = [];
  readonly optional: Set<YarnRef>;
  readonly ignored = new Set<YarnRef>();
  readonly skipped = new Map<string, string>();
  readonly misfits = new Map<string, Misfit>();
  /** The virtual package that depends on every workspace (yarn's workspace-aggregator). */
  readonly aggregator?: YarnRef;
  readonly patterns: string[];
  /** Dependency patterns per package, resolved peers included (see withPeers). */
  deps = new Map<YarnRef, string[]>();
  depsOf(ref: YarnRef): string[] {
    return this.deps.get(ref) ?? ref.deps;
  }

  constructor(
    readonly project: YarnProject,
    readonly facts: (ref: YarnRef) => YarnFacts,
    readonly options: YarnHoistOptions,
  ) {
    const { root, workspaces } = project;
    const of = (kind: RootPattern["kind"]) => root.filter((p) => p.kind === kind).map((p) => p.pattern);
    this.patterns = root.map((p) => p.pattern);
    if (workspaces.size > 0) {
      const wsPatterns = [...workspaces.values()].map((w) => `${w.name}@${w.node.version}`);
      const deps = [...of("dependencies"), ...wsPatterns, ...of("optionalDependencies")];
      if (!options.production) deps.push(...of("devDependencies"));
      this.aggregator = {
        id: AGGREGATOR,
        name: AGGREGATOR,
        node: {
          id: AGGREGATOR,
          name: AGGREGATOR,
          version: "1.0.0",
          resolution: { kind: "directory", path: "." },
          dependencies: [],
          dev: false,
          optional: false,
        },
        deps,
        optional: new Set(of("optionalDependencies")),
        workspace: ".",
        nohoist: project.nohoist,
      };
      this.patterns.push(`${AGGREGATOR}@1.0.0`);
    }
    // Under --production the root's devDependencies are resolved and placed, then marked ignored.
    if (options.production) {
      for (const p of root) if (p.kind === "devDependencies") this.ignored.add(this.resolve(p.pattern));
    }
    const { optional, reached } = this.requests();
    this.optional = optional;
    this.deps = this.withPeers(reached);
    for (const ref of reached) {
      if (ref.workspace !== undefined) continue;
      const { misfit, engine } = facts(ref);
      const why = misfit ?? engine;
      if (why === undefined) continue;
      // yarn checks every package's engines.node too (--ignore-engines turns that off: `engine` is unset).
      if (this.optional.has(ref)) {
        this.skipped.set(ref.id, why);
      } else if (misfit !== undefined && !options.force) {
        this.misfits.set(ref.id, { why: misfit, flag: "--force" });
      } else if (engine !== undefined) {
        this.misfits.set(ref.id, { why: engine, flag: "--ignore-engines" });
      }
    }
  }

  /**
   * Each package's dependency patterns, with its resolved peers' added (yarn's resolvePeerModules runs
   * before hoisting, so a peer is placed, counted and linked like a dependency): for each peer name, the
   * package of that name requested nearest above it on its shortest request path, if it satisfies the range.
   */
  withPeers(reached: Set<YarnRef>): Map<YarnRef, string[]> {
    // Request paths (names from the root). yarn resolves the root's dependencies one after another, each
    // one's subtree breadth first (its requests run concurrently, a tick per level); a package's own
    // requests go out from the first request that reaches it.
    const requests = new Map<YarnRef, string[][]>();
    const chain = new Map<YarnRef, string[]>();
    const starts = this.project.root.map((p) => this.resolve(p.pattern));
    if (this.aggregator) starts.push(this.aggregator);
    for (const start of starts) {
      const queue: [YarnRef, string[]][] = [[start, []]];
      for (let i = 0; i < queue.length; i++) {
        const [ref, parentNames] = queue[i];
        const list = requests.get(ref) ?? [];
        list.push(parentNames);
        requests.set(ref, list);
        if (chain.has(ref)) continue;
        chain.set(ref, parentNames);
        for (const dep of ref.deps) queue.push([this.resolve(dep), [...parentNames, ref.name]]);
      }
    }
    const byName = new Map<string, YarnRef[]>();
    for (const ref of reached) byName.set(ref.name, [...(byName.get(ref.name) ?? []), ref]);
    const patternsOf = new Map<YarnRef, string[]>();
    for (const [pattern, ref] of this.project.byPattern) {
      patternsOf.set(ref, [...(patternsOf.get(ref) ?? []), pattern]);
    }
    const deps = new Map<YarnRef, string[]>();
    for (const ref of reached) {
      const peers = ref.workspace === undefined ? this.facts(ref).peers : {};
      const added: string[] = [];
      const refTree = [...(requests.get(ref) ?? [])].sort((a, b) => a.length - b.length)[0] ?? [];
      for (const [name, range] of Object.entries(peers)) {
        let best = Infinity, chosen: YarnRef | undefined;
        for (const candidate of byName.get(name) ?? []) {
          let distance = Infinity;
          for (const req of requests.get(candidate) ?? []) {
            const d = refTree.length - req.length;
            if (d >= 0 && d < distance && req.every((n, i) => n === refTree[i])) distance = d;
          }
          if (Number.isFinite(distance) && distance < best && satisfiesPeer(range, candidate.node.version)) {
            best = distance;
            chosen = candidate;
          }
        }
        if (chosen) added.push(...(patternsOf.get(chosen) ?? [`${chosen.name}@${chosen.node.version}`]));
      }
      deps.set(ref, added.length > 0 ? [...ref.deps, ...added] : ref.deps);
    }
    return deps;
  }

  resolve(pattern: string): YarnRef {
    if (this.aggregator && pattern === `${AGGREGATOR}@1.0.0`) return this.aggregator;
    return refOf(this.project, pattern)!;
  }

  /** The refs the project reaches, and those every request of which is optional (yarn's ref.optional). */
  requests(): { optional: Set<YarnRef>; reached: Set<YarnRef> } {
    const required = new Set<YarnRef>();
    const reached = new Set<YarnRef>();
    const visit = (ref: YarnRef, optional: boolean) => {
      const seen = optional ? reached : required;
      if (seen.has(ref)) return;
      seen.add(ref);
      reached.add(ref);
      for (const dep of ref.deps) visit(this.resolve(dep), optional || ref.optional.has(dep));
    };
    for (const p of this.project.root) visit(this.resolve(p.pattern), p.kind === "optionalDependencies");
    if (this.aggregator) visit(this.aggregator, false);
    return { optional: new Set([...reached].filter((r) => !required.has(r))), reached };
  }

  readonly #peerNames = new Map<YarnRef, string[]>();
  /** Its peer dependencies' names (asked once per queued pattern and per hoist). */
  peers(ref: YarnRef): string[] {
    let names = this.#peerNames.get(ref);
    if (!names) {
      names = ref.workspace !== undefined ? [] : Object.keys(this.facts(ref).peers);
      this.#peerNames.set(ref, names);
    }
    return names;
  }

  layout(): YarnLayout {
    this.seed(this.patterns);
    return { ...this.toGraph(), skipped: this.skipped, misfits: this.misfits };
  }

  // --- yarn's PackageHoister, method by method ---

  taintKey(key: string, info: Info): boolean {
    const existing = this.tainted.get(key);
    if (existing && existing.ref !== info.ref) return false;
    this.tainted.set(key, info);
    return true;
  }

  /** Patterns without a second one for the same package (yarn's dedupePatterns). */
  dedupe(patterns: string[]): string[] {
    const seen = new Set<YarnRef>();
    return patterns.filter((p) => {
      const ref = this.resolve(p);
      if (seen.has(ref)) return false;
      seen.add(ref);
      return true;
    });
  }

  seed(patterns: string[]): void {
    this.prepass(patterns);
    for (const pattern of this.dedupe(patterns)) this.seedOne(pattern, true);
    for (;;) {
      let queue = this.levelQueue;
      if (queue.length === 0) break;
      this.levelQueue = [];
      queue = queue.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      // Packages without peer dependencies first; `available` holds patterns, which a peer's bare name
      // matches only when the pattern is a bare name too (yarn compares them so).
      let sorted: [string, Info][] = [];
      const available = new Set<string>();
      let changed = true;
      while (queue.length > 0 && changed) {
        changed = false;
        const copy = queue;
        queue = [];
        for (const item of copy) {
          if (this.peers(this.resolve(item[0])).every((peer) => available.has(peer))) {
            sorted.push(item);
            available.add(item[0]);
            changed = true;
          } else queue.push(item);
        }
      }
      sorted = sorted.concat(queue);
      for (const [pattern, parent] of sorted) {
        const info = this.seedOne(pattern, false, parent);
        if (info) this.hoist(info);
      }
    }
    this.propagateRequired();
  }

  seedOne(pattern: string, isDirectRequire: boolean, parent?: Info): Info | null {
    const ref = this.resolve(pattern);
    const isIncompatible = this.skipped.has(ref.id);
    const markedOptional = this.optional.has(ref) && !!this.options.ignoreOptional;
    let isRequired = isDirectRequire && !this.ignored.has(ref) && !isIncompatible && !markedOptional;
    let parentParts: string[] = [];
    if (parent) {
      if (!this.tree.has(parent.key)) return null;
      if (!isDirectRequire && !isIncompatible && parent.isRequired && !markedOptional) isRequired = true;
      parentParts = parent.parts;
    }
    const parts = [...parentParts, ref.name];
    const key = parts.join("#");
    const info: Info = {
      key,
      parts,
      ref,
      isDirectRequire,
      isRequired,
      isIncompatible,
      originalParentPath: "",
      nohoistList: [],
      isNohoist: false,
    };
    this.initNohoist(info, parent);
    this.tree.set(key, info);
    this.taintKey(key, info);
    const pushed = new Set<string>();
    for (const dep of this.depsOf(ref)) {
      if (!pushed.has(dep)) {
        this.levelQueue.push([dep, info]);
        pushed.add(dep);
      }
    }
    return info;
  }

  propagateRequired(): void {
    const toVisit = [...this.tree.values()].filter((i) => i.isRequired);
    while (toVisit.length > 0) {
      const info = toVisit.shift()!;
      for (const dep of this.depsOf(info.ref)) {
        const depInfo = this.lookupDependency(info, dep);
        if (!depInfo) continue;
        const markedOptional = this.optional.has(depInfo.ref) && !!this.options.ignoreOptional &&
          !(info.isRequired && !info.ref.optional.has(dep));
        if (!depInfo.isRequired && !depInfo.isIncompatible && !markedOptional) {
          depInfo.isRequired = true;
          toVisit.push(depInfo);
        }
      }
    }
  }

  lookupDependency(info: Info, pattern: string): Info | undefined {
    const name = this.resolve(pattern).name;
    for (let i = info.parts.length; i >= 0; i--) {
      const existing = this.tree.get([...info.parts.slice(0, i), name].join("#"));
      if (existing) return existing;
    }
    return undefined;
  }

  getNewParts(key: string, info: Info, parts: string[]): { parts: string[]; duplicate: boolean } {
    let stepUp = false;
    // A nohoist package never rises above the top of its branch (its workspace).
    const highest = info.isNohoist && info.parts.length > 1 ? 1 : 0;
    const stack: string[] = [];
    const name = parts.pop()!;
    for (let i = parts.length - 1; i >= highest; i--) {
      const checkParts = [...parts.slice(0, i), name];
      const checkKey = checkParts.join("#");
      const existing = this.tree.get(checkKey);
      if (existing) {
        if (existing.ref === info.ref) {
          if (!existing.isRequired && info.isRequired) existing.isRequired = true;
          return { parts: checkParts, duplicate: true };
        }
        break; // a collision: everything above is shadowed
      }
      const taint = this.tainted.get(checkKey);
      if (taint && taint.ref !== info.ref) break;
    }
    const peers = this.peers(info.ref);
    hoist: while (parts.length > highest) {
      // Never above a peer dependency.
      for (const peer of peers) {
        if (this.tree.has([...parts, peer].join("#"))) break hoist;
      }
      const checkKey = [...parts, name].join("#");
      if (this.tree.has(checkKey)) {
        stepUp = true;
        break;
      }
      if (key !== checkKey && this.tainted.has(checkKey)) {
        stepUp = true;
        break;
      }
      stack.push(parts.pop()!);
    }
    parts.push(name);
    const isValidPosition = (p: string[]) => {
      if (p.length <= highest) return false;
      const k = p.join("#");
      const existing = this.tree.get(k);
      if (existing && existing.ref === info.ref) return true;
      const taint = this.tainted.get(k);
      return !(taint && taint.ref !== info.ref);
    };
    if (!isValidPosition(parts)) stepUp = true;
    while (stepUp && stack.length > 0) {
      parts.pop();
      parts.push(stack.pop()!, name);
      if (isValidPosition(parts)) stepUp = false;
    }
    return { parts, duplicate: false };
  }

  hoist(info: Info): void {
    const { key: oldKey, parts: rawParts } = info;
    this.tree.delete(oldKey);
    const { parts, duplicate } = this.getNewParts(oldKey, info, rawParts.slice());
    const newKey = parts.join("#");
    if (duplicate) {
      this.taintParents(info, rawParts.slice(0, -1), parts.length - 1);
      return;
    }
    if (oldKey !== newKey) this.taintParents(info, rawParts.slice(0, -1), parts.length - 1);
    info.key = newKey;
    info.parts = parts;
    this.tree.set(newKey, info);
  }

  // --- yarn's NohoistResolver ---

  /** Whether the root or any workspace sets nohoist globs: else there is nothing to match. */
  get usesNohoist(): boolean {
    return this.#usesNohoist ??= this.project.nohoist.length > 0 ||
      [...this.project.workspaces.values()].some((ws) => (ws.nohoist?.length ?? 0) > 0);
  }
  #usesNohoist: boolean | undefined;

  /** The nohoist globs that apply below `info` (its own and its parent's), and whether it matches one. */
  initNohoist(info: Info, parent: Info | undefined): void {
    if (!this.usesNohoist) return;
    let inherited: string[] = [];
    if (parent) {
      inherited = parent.nohoistList;
      info.originalParentPath = this.originalPath(parent);
    } else if (this.aggregator && info.ref !== this.aggregator) {
      inherited = this.project.nohoist.map((glob) => nohoistPath(AGGREGATOR, glob));
      info.originalParentPath = AGGREGATOR;
    }
    const own = (info.ref.nohoist ?? []).map((glob) => nohoistPath(this.originalPath(info), glob));
    info.nohoistList = [...own, ...inherited];
    info.isNohoist = !this.isTopPackage(info) && info.nohoistList.length > 0 &&
      this.matcher(info.nohoistList)(this.originalPath(info));
  }

  originalPath(info: Info): string {
    return nohoistPath(info.originalParentPath, info.ref.name);
  }

  /** Seeded at the top, or directly under the workspace aggregator. */
  isTopPackage(info: Info): boolean {
    const parents = info.parts.length - 1;
    return parents <= 0 || (parents === 1 && !!this.aggregator && info.parts[0] === AGGREGATOR);
  }

  readonly #matchers = new Map<string, (path: string) => boolean>();
  /** yarn matches with micromatch; picomatch is its engine. */
  matcher(globs: string[]): (path: string) => boolean {
    const key = globs.join("\0");
    let match = this.#matchers.get(key);
    if (!match) this.#matchers.set(key, match = picomatch(globs));
    return match;
  }

  taintParents(info: Info, processParts: string[], start: number): void {
    for (let i = start; i < processParts.length; i++) {
      this.taintKey([...processParts.slice(0, i), info.ref.name].join("#"), info);
    }
  }

  /** A package with several versions: the most used one is seeded at the top first. */
  prepass(rootPatterns: string[]): void {
    const patterns = this.dedupe(rootPatterns).sort();
    const visited = new Set<string>();
    // name -> version -> the packages that depend on it, and the first pattern seen for it
    const occurrences = new Map<string, Map<string, { parents: Set<YarnRef>; pattern: string }>>();
    const visitAdd = (ref: YarnRef, parent: YarnRef | undefined, pattern: string) => {
      let versions = occurrences.get(ref.name);
      if (!versions) occurrences.set(ref.name, versions = new Map());
      let version = versions.get(ref.node.version);
      if (!version) versions.set(ref.node.version, version = { parents: new Set(), pattern });
      if (parent) version.parents.add(parent);
    };
    const add = (pattern: string, ancestry: YarnRef[]) => {
      const ref = this.resolve(pattern);
      if (ancestry.includes(ref)) return;
      const parent = ancestry[ancestry.length - 1];
      visitAdd(ref, parent, pattern);
      if (visited.has(pattern)) return;
      visited.add(pattern);
      for (const dep of this.depsOf(ref)) add(dep, [...ancestry, ref]);
    };
    const rootNames = new Set<string>();
    for (const pattern of patterns) {
      rootNames.add(this.resolve(pattern).name);
      add(pattern, []);
    }
    for (const name of [...occurrences.keys()].sort()) {
      const versions = occurrences.get(name)!;
      if (versions.size === 1 || this.tree.has(name) || rootNames.has(name)) continue;
      let most = 0, mostPattern: string | undefined;
      for (const version of [...versions.keys()].sort()) {
        const { parents, pattern } = versions.get(version)!;
        if (!most || parents.size > most) {
          most = parents.size;
          mostPattern = pattern;
        }
      }
      if (most > 1) this.seedOne(mostPattern!, false);
    }
  }

  // --- from yarn's tree to silo's graph ---

  /** The folder of a tree key (yarn's init()), relative to the project root; undefined when not placed. */
  locationOf(parts: string[]): string | undefined {
    const agg = this.aggregator;
    if (agg && parts[0] === AGGREGATOR) {
      // The aggregator and the workspaces that stayed under it are not placed; what stayed under a
      // workspace there lives in that workspace's folder.
      if (parts.length <= 2) return undefined;
      return nested(this.project.workspaces.get(parts[1])!.workspace!, parts.slice(2));
    }
    // Packages under a workspace's symlink are written through it: into the workspace's own folder.
    const top = this.tree.get(parts[0]);
    if (top?.ref.workspace !== undefined && parts.length > 1) {
      return nested(top.ref.workspace, parts.slice(1));
    }
    return nested("", parts);
  }

  /** The folder a tree entry is installed in: a workspace's own, else its location. */
  folderOf(parts: string[]): string | undefined {
    const info = this.tree.get(parts.join("#"));
    return info?.ref.workspace ?? this.locationOf(parts);
  }

  toGraph(): { graph: Graph; nohoist: Map<string, string> } {
    const placed = new Map<string, { info: Info; location: string }>();
    for (const info of this.tree.values()) {
      if (!info.isRequired) continue;
      const location = this.locationOf(info.parts);
      if (location !== undefined) placed.set(location, { info, location });
    }
    const keys = new Set(placed.keys());
    /** Edges for `deps`; those from `peersFrom` on are resolved peers. */
    const edgesFrom = (
      from: string,
      deps: string[],
      optional: Set<string>,
      dev?: Set<string>,
      peersFrom = deps.length,
    ) =>
      deps.flatMap((pattern, i): Dependency[] => {
        const alias = this.resolve(pattern).name;
        const id = resolveKey(keys, from, alias);
        if (id === undefined) return [];
        return [{
          alias,
          target: { kind: "package", id },
          dev: dev?.has(pattern) ?? false,
          optional: optional.has(pattern),
          ...(i >= peersFrom ? { peer: true as const } : {}),
        }];
      });
    const packages = new Map<string, PackageNode>();
    for (const { info, location } of placed.values()) {
      const { ref } = info;
      const node: PackageNode = { ...ref.node, id: location, location, dependencies: [] };
      // A workspace is a link: its dependencies are its importer's edges, from its own folder.
      if (ref.workspace !== undefined) node.resolution = { kind: "directory", path: ref.workspace };
      else {node.dependencies = edgesFrom(
          location,
          this.depsOf(ref),
          ref.optional,
          undefined,
          ref.deps.length,
        );}
      packages.set(location, node);
    }
    const importerOf = (dir: string, patterns: RootPattern[]): Importer => {
      const of = (kind: RootPattern["kind"]) =>
        new Set(patterns.filter((p) => p.kind === kind).map((p) => p.pattern));
      return {
        path: dir,
        dependencies: edgesFrom(
          dir === "." ? "" : dir,
          patterns.map((p) => p.pattern),
          of("optionalDependencies"),
          of("devDependencies"),
        ),
        specifiers: Object.fromEntries(patterns.map((p) => [p.name, splitPattern(p.pattern).range])),
      };
    };
    const importers = [
      importerOf(".", this.project.root),
      ...[...this.project.workspaceDeps].map(([dir, patterns]) => importerOf(dir, patterns)),
    ];
    // yarn links a nohoist package's commands into its parent's .bin (PackageLinker.getParentBinLoc).
    const nohoist = new Map<string, string>();
    for (const { info, location } of placed.values()) {
      const parent = info.isNohoist ? this.folderOf(info.parts.slice(0, -1)) : undefined;
      if (parent !== undefined) nohoist.set(location, parent);
    }
    const graph: Graph = {
      source: "yarn.lock",
      layout: "hoisted",
      importers,
      packages,
      allowedScripts: [],
      file: this.project.file,
    };
    return { graph, nohoist };
  }
}

/** The folder of packages `names`, each in the previous one's node_modules, under `folder` ("" = the root). */
function nested(folder: string, names: string[]): string {
  return [folder, ...names.map((n) => `node_modules/${n}`)].filter((p) => p !== "").join("/");
}

/** yarn's NohoistResolver._makePath: names joined by "/", the aggregator as `_project_`, from the root. */
function nohoistPath(...names: string[]): string {
  const joined = names.map((n) => (n === AGGREGATOR ? WS_ROOT_ALIAS : n)).join("/");
  return joined.startsWith("/") ? joined : `/${joined}`;
}

/** yarn's peer check: `*`, or the version satisfies the range, prereleases included. */
function satisfiesPeer(range: string, version: string): boolean {
  return range === "*" || semver.satisfies(version, range, { includePrerelease: true });
}
