/**
 * The restore: lockfile -> graph -> plan -> (store hit | one download per tarball)
 * -> node_modules. Packages already in the store are linked while downloads of
 * others are still running; there is no barrier between the phases.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { T } from "../container/app.ts";
import type { Container } from "../container/container.ts";
import { PackageFetcher } from "../fetch/package_fetcher.ts";
import { loadNpmConfig } from "../fetch/npmrc.ts";
import { RegistryClient } from "../fetch/registry.ts";
import type { Graph, PackageNode } from "../lockfile/graph.ts";
import { nameFromKey } from "../lockfile/npm.ts";
import { parseLockfile } from "../lockfile/parse.ts";
import { readAllowedScripts, scriptsAllowed } from "../lockfile/scripts.ts";
import { addExcludedLinks, assertLockfileComplete, assertLockfileInSync } from "../lockfile/manifest_sync.ts";
import { LockfileError } from "../lockfile/errors.ts";
import { currentPlatform, platformMismatch, withSupportedArchitectures } from "../lockfile/platform.ts";
import { selectAll, selectPackages } from "../lockfile/select.ts";
import { chooseImporter, copyImporter } from "../link/mod.ts";
import type { PackageManifest, PackageRecord } from "../store/index_db.ts";
import { pidAlive } from "../store/leases.ts";
import { filesPassFastPath } from "../store/verifier.ts";
import { hasFile } from "../store/packed_files.ts";
import { type BinMap, binsOf } from "../store/manifest.ts";
import { unixShebang } from "../store/executable_bins.ts";
import { folderFiles } from "./local_inputs.ts";
import { placedKeys, storeFilesIntact } from "./modified.ts";
import {
  BinClaims,
  claimBins,
  type FileNaming,
  type Imported,
  Materializer,
  MissingStoreFileError,
} from "./materialize.ts";
import { POOL_MIN_PACKAGES, type Symlink, workerCount, WorkerPool, WorkerPoolBroken } from "./worker_pool.ts";
import {
  type InstallPlan,
  type Placement,
  planBundledBins,
  planHoisted,
  planIsolated,
  planYarnBins,
  readImporterNames,
} from "./plan.ts";
import { pinnedManager } from "./package_manager.ts";
import { patchPackageTargets } from "./patch_package.ts";
import type { NpmSettings } from "./npm_settings.ts";
import { ignoredSettingsWarnings, isolatedLayout } from "./pnpm_layout.ts";
import { nativeBinRedirect } from "./bun_native_bins.ts";
import { patchHashOf } from "../lockfile/pnpm_names.ts";
import {
  hasLifecycle,
  PROJECT_LIFECYCLE,
  projectScriptJobs,
  runScripts,
  type ScriptJob,
  scriptUserAgent,
} from "./scripts.ts";
import { clearState, type InstallState, manifestsState, writeState } from "./state.ts";
import type { InstallOptions, InstallProgress, InstallSummary } from "./install.ts";
import type { LocatedLockfile } from "../lockfile/locate.ts";

/** What the up-to-date check already worked out. */
export interface RestoreInputs {
  projectDir: string;
  lock: LocatedLockfile;
  hash: InstallState["inputHash"];
  started: number;
  summary: InstallSummary;
  /** npm's settings, as install() read them for the project. */
  npm: NpmSettings;
}

/** Rebuild node_modules for an out-of-date project. Called by `install()` in install.ts. */
export async function restore(
  c: Container,
  options: InstallOptions,
  inputs: RestoreInputs,
): Promise<InstallSummary> {
  const { projectDir, lock, hash, started, summary, npm } = inputs;
  const warn = options.warn ?? (() => {});
  // yarn 1's lockfile records no layout: it is computed below, once the packages are in the store.
  // The yarn modules load only for a yarn project: yarn's lockfile parser alone is 280 KB of JS.
  const yarn = lock.name === "yarn.lock"
    ? (await import("../lockfile/yarn.ts")).readYarnProject(lock.text, lock.file, projectDir)
    : undefined;
  const parsed = yarn ? undefined : await parseLockfile(lock);
  const npmLock = parsed?.source === "package-lock.json";
  if (parsed) assertLockfileComplete(parsed, lock.file);
  // Workers start loading now, while the lockfile is checked and planned and the store looked up (see
  // worker_pool.ts); every package of the lockfile is a fair guess at how many will be placed.
  const workers = options.importer ? 0 : options.workers ??
    ((parsed?.packages.size ?? yarn!.refs.size) >= POOL_MIN_PACKAGES ? workerCount() : 0);
  using pool = workers > 0 ? WorkerPool.start(workers) : undefined;
  if (parsed) {
    addExcludedLinks(projectDir, parsed);
    await assertLockfileInSync(projectDir, parsed, lock.file);
  }
  const pnpmLayout = parsed?.layout === "isolated" ? await isolatedLayout(projectDir) : undefined;
  for (const w of pnpmLayout ? ignoredSettingsWarnings(pnpmLayout) : []) warn(w);
  const index = c.get(T.index);
  const nodeVersions = {
    get: (id: string) => index.getMeta(`node-version ${id}`),
    set: (id: string, version: string) => index.setMeta(`node-version ${id}`, version),
  };
  const detected = withSupportedArchitectures(
    currentPlatform({ nodeVersions }),
    pnpmLayout?.supportedArchitectures,
  );
  // With no node version to compare, no engines.node rules a package out.
  const platform = options.ignoreEngines ? { ...detected, nodeVersion: undefined } : detected;

  const store = c.get(T.store);
  const layout = c.get(T.layout);
  const client = options.client ?? new RegistryClient({
    config: await loadNpmConfig({ projectDir, registry: options.registry }),
    concurrency: options.concurrency,
    stallTimeoutMs: options.networkTimeoutMs,
  });
  for (const w of client.config.warnings) warn(w);
  const fetcher = new PackageFetcher(store, client, {
    projectDir,
    offline: options.offline,
    allowMissingIntegrity: options.allowMissingIntegrity,
    flights: c.get(T.flights),
    ingest: pool && ((source, cas, ingestOptions) => pool.ingest(source, cas, ingestOptions)),
    warn,
  });

  // Chosen before anything is fetched: the workers unpack tarballs with it (a yarn project's all come first).
  const importer = options.importer ?? chooseImporter({
    requested: options.importMethod ?? "auto",
    storeDir: layout.root,
    targetDir: path.join(projectDir, "node_modules"),
    libc: c.get(T.runtime).libc,
    warn,
  });
  // npm renames a packed .gitignore to .npmignore; pnpm, bun and yarn keep files as packed.
  const naming: FileNaming = npmLock ? "npm" : "packed";
  pool?.configure(
    layout.root,
    { method: importer.method, auto: (options.importMethod ?? "auto") === "auto" },
    c.get(T.hasher).name,
    warn,
    naming,
  );
  const progress: InstallProgress = {
    phase: "resolving",
    total: yarn?.refs.size ?? 0,
    cached: 0,
    downloaded: 0,
    downloadedBytes: 0,
    active: 0,
    linked: 0,
    files: 0,
  };
  const report = () => {
    progress.downloaded = fetcher.stats.downloads;
    progress.downloadedBytes = fetcher.stats.bytes;
    progress.active = fetcher.stats.active;
    options.onProgress?.(progress);
  };

  let graph: Graph;
  /** yarn: the packages downloaded before planning (so not "from the store"). */
  let prefetched: Set<string> | undefined;
  /** yarn: packages `nohoist` keeps in a workspace -> the folder whose .bin gets their commands. */
  let nohoist: Map<string, string> | undefined;
  if (yarn) {
    const { layoutYarn } = await import("./yarn_layout.ts");
    const laid = await layoutYarn(yarn, {
      projectDir,
      fetcher,
      layout,
      platform,
      production: !!options.prod,
      ignoreOptional: !!options.omitOptional,
      force: !!options.force,
      onStored: report,
    });
    graph = laid.graph;
    prefetched = laid.downloaded;
    nohoist = laid.nohoist;
    for (const [id, why] of laid.skipped) summary.skipped.push({ id, reason: why });
  } else graph = parsed!;
  graph.allowedScripts = await readAllowedScripts(projectDir);
  summary.layout = graph.layout;
  const selection = yarn ? selectAll(graph) : selectPackages(graph, {
    prod: !!options.prod,
    omitOptional: options.omitOptional,
    legacyPeerDeps: options.legacyPeerDeps,
    platform,
  });
  for (const [id, why] of selection.skipped) {
    if (why.reason !== "unreachable" && why.reason !== "bundled") {
      summary.skipped.push({ id, reason: why.detail ?? why.reason });
    }
  }
  // A required package for another platform: npm ci stops (EBADPLATFORM) unless --force; pnpm warns.
  const misfits = [...selection.platformMismatch];
  if (npmLock && !options.force && misfits.length > 0) {
    const [id, why] = misfits[0];
    throw new LockfileError(
      lock.file,
      `${id} is required but does not support this platform (${why})${
        misfits.length > 1 ? `, nor do ${misfits.length - 1} more` : ""
      }; npm ci stops here too. Pass --force to install it anyway.`,
    );
  }
  for (const [id, why] of misfits) {
    warn(
      `${id} does not support this platform (${why}); installing it anyway, as ${
        npmLock ? "--force asks" : "pnpm does"
      }`,
    );
  }
  if (graph.source === "bun.lock") (await import("./bun_settings.ts")).assertBunHoisted(projectDir, graph);
  const strategy = npmLock ? npm.installStrategy : undefined;
  // npm ci builds the lockfile's tree whatever the strategy, except "linked" (an isolated .store layout).
  if (strategy?.value === "linked") {
    throw new Error(
      `${strategy.from} sets install-strategy to "linked"; silo builds npm's hoisted layout (the one ` +
        "package-lock.json records) only. Install this project with npm, or remove the setting.",
    );
  }
  const plan: InstallPlan = pnpmLayout
    ? planIsolated(graph, selection, {
      importerNames: readImporterNames(projectDir, graph),
      // Without auto-installed peers pnpm links no peer's commands for a direct dependency.
      layout: graph.recordedSettings?.autoInstallPeers === false
        ? { ...pnpmLayout, linksPeerBins: false }
        : pnpmLayout,
    })
    : planHoisted(graph, selection);
  if (yarn) {
    plan.bins = planYarnBins(graph, selection, nohoist);
    // yarn makes the parent's .bin of every nohoist package, commands or not.
    const parentBins = [...new Set(nohoist?.values())].map((folder) =>
      path.join(folder, "node_modules", ".bin")
    );
    plan.dirs = [...plan.dirs ?? [], ...parentBins];
  }
  // yarn 1 checked the manifests already, and knows no libc.
  const checksManifestPlatform = pnpmLayout?.checksManifestPlatform ?? !yarn;

  // Invariant 7: lease every key before linking starts; dropped however this function ends (a killed
  // process's lease is reclaimed once its pid is gone).
  using _lease = c.get(T.leases).take(plan.placements.map((p) => fetcher.keyOf(p.node)));

  progress.total = plan.placements.length;

  // The project's own scripts: `preinstall` before anything changes (it may refuse the install, as
  // `npx only-allow pnpm` does), the rest after the dependencies' scripts and before the state is written
  // (a failed one makes the next install run them again).
  // A linked `file:` folder is a dependency: its scripts run when allowed by name, like any dependency's,
  // first (the projects depend on it); otherwise it is listed as skipped.
  const allowed = new Set([...graph.allowedScripts, ...(options.allowScripts ?? [])]);
  const scriptsSkipped = new Set<string>();
  const projectJobs: ScriptJob[] = [];
  if (!options.ignoreScripts) {
    const linkedOnly = new Set(graph.importers.filter((i) => i.linkedOnly).map((i) => i.path));
    const installed = [...selection.importers];
    for (const job of projectScriptJobs(projectDir, installed.filter((p) => linkedOnly.has(p)))) {
      if (scriptsAllowed(allowed, job.name, job.version)) projectJobs.push(job);
      else scriptsSkipped.add(job.name);
    }
    const projects = installed.filter((p) => p !== "." && !linkedOnly.has(p));
    projectJobs.push(
      ...projectScriptJobs(projectDir, selection.importers.has(".") ? [...projects, "."] : projects),
    );
  }
  const scriptOptions = {
    env: { npm_config_user_agent: scriptUserAgent(lock.name, pinnedManager(projectDir)) },
    onStart: options.onScript &&
      ((job: ScriptJob, event: string) =>
        options.onScript!({
          name: job.name,
          version: job.version,
          event,
          command: job.scripts[event as "install"] ?? "",
        })),
  };
  // The project's own scripts are shown as they run (npm and pnpm do); dependencies' only if they fail.
  const projectStage = (events: readonly (typeof PROJECT_LIFECYCLE)[number][]) =>
    runScripts(projectJobs.map((job) => ({ ...job, events })), {
      ...scriptOptions,
      onOutput: options.onScriptOutput,
    });
  summary.scriptsRun += await projectStage(["preinstall"]);

  // Out-of-date node_modules go aside at once; they are deleted once the new ones are built, because
  // freeing thousands of inodes while creating thousands more slows every mkdir (ext4 with discard).
  clearState(projectDir);
  const moved = plan.roots.map((root) => moveAside(path.join(projectDir, root)));
  const remove = (dirs: string[]) =>
    Promise.all(dirs.map((dir) => fs.promises.rm(dir, { recursive: true, force: true })));
  const removeAsides = () => remove(moved.flatMap((m) => m.aside ? [m.aside, ...m.stale] : m.stale));
  // A failed install puts the previous node_modules back and removes what it built: a flaky registry
  // must not cost the project a working tree. (It has no state file, so the next install rebuilds it.)
  const putBack = async () => {
    const built: string[] = [];
    for (const { dir, aside } of moved) {
      if (!aside) continue;
      if (fs.existsSync(dir)) fs.renameSync(dir, `${aside}-failed`), built.push(`${aside}-failed`);
      fs.renameSync(aside, dir);
    }
    if (moved.some((m) => m.aside)) warn("the install failed, so node_modules was put back as it was");
    await remove([...built, ...moved.flatMap((m) => m.stale)]);
  };

  const copier = copyImporter();
  const rewritten = options.ignoreScripts ? new Set<string>() : patchPackageTargets(projectDir);
  const fsx = new Materializer(layout, importer, naming, c.get(T.runtime).libc?.dirs);
  using _storeOpen = fsx.openStore();
  const records = new Map<string, PackageRecord>();
  /** Per placed package, the file imported last: it exists only once the folder is complete. */
  const lastFiles = new Map<string, string>();
  const scriptJobs: ScriptJob[] = [];
  // pnpm's patches (and the diff library) load only for a lockfile with patched packages.
  const patches = plan.placements.some((p) => patchHashOf(p.id)) ? await import("./patches.ts") : undefined;
  const patchConfig = patches?.readPatchConfig(projectDir);

  // Workers that cannot run (a runtime without them, a binary built without the worker) cost speed, not
  // the install: say so once and link on this thread.
  let brokenSaid = false;
  const poolBroken = (error: unknown): undefined => {
    if (!(error instanceof WorkerPoolBroken)) throw error;
    if (!brokenSaid) warn(`${error.message}; linking on the main thread instead`);
    brokenSaid = true;
    return undefined;
  };

  const makeSymlinks = async (list: Symlink[]): Promise<void> => {
    if (pool && list.length > 0) {
      const made = await pool.symlinks(list).then(() => true, poolBroken);
      if (made) return;
    }
    for (const [target, at, kind] of list) fsx.symlink(target, at, kind);
  };

  /** How a package will be placed, from its row; undefined when it is skipped (wrong platform). */
  const prepare = (placement: Placement, record: PackageRecord) => {
    // Lockfiles may omit os/cpu/libc (pnpm drops libc): an optional package whose own package.json rules
    // this machine out is skipped, as npm and pnpm 11+ do. Nothing links to an unplaced package.
    const misfit = placement.node.optional && checksManifestPlatform
      ? platformMismatch(record.manifest, platform)
      : null;
    if (misfit) {
      summary.skipped.push({ id: placement.id, reason: misfit });
      return undefined;
    }
    const runs = !options.ignoreScripts &&
      scriptsAllowed(allowed, placement.node.name, placement.node.version) &&
      hasLifecycle(record.manifest.scripts);
    // Under --ignore-scripts nothing runs by request: no list of what --allow-scripts could allow.
    if (
      !runs && !options.ignoreScripts &&
      (placement.node.hasInstallScript || hasLifecycle(record.manifest.scripts))
    ) {
      scriptsSkipped.add(placement.node.name);
    }
    const patchHash = patchHashOf(placement.id);
    const patch = patchHash
      ? patches!.findPatch(
        patchConfig!,
        placement.node.name,
        placement.node.version,
        patchHash,
      )
      : undefined;
    // Written to after linking (its scripts, a pnpm patch, the project's patch-package): a copy, never
    // links into the store.
    const copy = runs || !!patch || rewritten.has(placement.node.name);
    return { dir: path.join(projectDir, placement.dir), runs, patch, copy };
  };

  /**
   * Import one package. With `check`, its store files must pass the verifier's fast path first, else
   * nothing is linked and the result is "suspect". Throws MissingStoreFileError when a file is gone.
   */
  const importOne = async (
    placement: Placement,
    record: PackageRecord,
    check: boolean,
  ): Promise<"done" | "suspect"> => {
    const prep = prepare(placement, record);
    if (!prep) return "done";
    let imported: Imported;
    // The few copies (see prepare) are made here; the rest by the install workers, if any.
    const outcome = pool && !prep.copy
      ? await pool.link(record, prep.dir, check).catch(poolBroken)
      : undefined;
    if (outcome) {
      if (outcome.kind === "suspect") return "suspect";
      if (outcome.kind === "missing") throw new MissingStoreFileError(record, outcome.file);
      imported = outcome.imported;
    } else {
      if (check && !filesPassFastPath(layout, record.files, fsx.storeStat)) return "suspect";
      imported = fsx.importPackage(record, prep.dir, prep.copy ? copier : undefined);
    }
    placed(placement, record, prep, imported);
    return "done";
  };

  /** Account for a package now complete in its folder (imported here, or placed by its download). */
  const placed = (
    placement: Placement,
    record: PackageRecord,
    { dir, runs, patch }: NonNullable<ReturnType<typeof prepare>>,
    imported: Imported,
  ) => {
    progress.files += imported.files;
    if (imported.last) lastFiles.set(placement.id, imported.last);
    if (patch) patches!.applyPatchFile(patch, dir, `${placement.node.name}@${placement.node.version}`);
    records.set(placement.id, record);
    if (runs) {
      scriptJobs.push({
        id: placement.id,
        name: placement.node.name,
        version: placement.node.version,
        dir,
        scripts: record.manifest.scripts ?? {},
        deps: placement.node.dependencies.flatMap((d) => (d.target.kind === "package" ? [d.target.id] : [])),
        binDirs: [path.join(dir, "node_modules", ".bin"), path.join(projectDir, "node_modules", ".bin")],
      });
    }
    progress.linked++;
  };

  // A download may fill its package's folder as it stores the files (one write and one link per file,
  // instead of a temp file, a rename and a link: see CasWriter.writeBytesAt), when the folder would get
  // hard links anyway: the workers hardlink, nothing writes to the package later (see prepare: those get
  // copies), and it is not optional (its manifest may yet rule this platform out).
  const placeAtFor = (placement: Placement): string | undefined =>
    pool?.method === "hardlink" && !placement.node.optional &&
      !scriptsAllowed(allowed, placement.node.name, placement.node.version) &&
      !patchHashOf(placement.id) && !rewritten.has(placement.node.name)
      ? path.join(projectDir, placement.dir)
      : undefined;

  /** Place a store hit (`check`) or a package just fetched, re-fetching when the store lets us down. */
  const place = async (placement: Placement, record: PackageRecord, check: boolean): Promise<void> => {
    try {
      if (await importOne(placement, record, check) === "done") return;
      // A store file failed the fast path: hash it under the lock. One edited through some project's
      // hardlink must not spread, so then a clean copy is fetched.
      if (await storeFilesIntact(c, record, warn)) await importOne(placement, record, false);
      else await importOne(placement, await fetcher.fetch(placement.node), false);
    } catch (error) {
      if (!(error instanceof MissingStoreFileError)) throw error;
      // The row is a cache miss after all: fetch again (that re-publishes the files) and import again
      // over the same folder (files already there are replaced; nested packages are left alone).
      warn(`${error.message}; fetching it again`);
      await importOne(placement, await fetcher.fetch(placement.node), false);
    }
  };

  const failures: Failure[] = [];
  const optionalFailure = (node: PackageNode, error: unknown) => {
    if (!node.optional) throw error;
    warn(`skipping optional ${node.name}@${node.version}: ${(error as Error).message}`);
    summary.skipped.push({ id: `${node.name}@${node.version}`, reason: "fetch failed (optional)" });
  };

  // Misses start downloading first; hits are linked while those downloads run (by the workers as soon as
  // they are found, else afterwards on this thread).
  // Store hits pass the verifier's fast path before they are linked, unless the user opted out (as pnpm's
  // verify-store-integrity=false does): one stat per file (mocha, hot, Bun binary: 305 vs 240 ms wall).
  const verify = options.verifyStoreIntegrity !== false;
  const hits: [Placement, PackageRecord][] = [];
  let found: (PackageRecord | undefined)[] = [];
  const pending: Promise<void>[] = [];
  const settle = (placement: Placement, work: Promise<void>): Promise<void> => {
    const settled = work
      .catch((error) => optionalFailure(placement.node, error))
      .catch((error) => void failures.push({ id: `${placement.node.name}@${placement.node.version}`, error }))
      .finally(report);
    pending.push(settled);
    return settled;
  };
  // Looked up a batch at a time, so the workers start linking before the last lookup.
  const LOOKUP_BATCH = 64;
  for (const [i, placement] of plan.placements.entries()) {
    if (i % LOOKUP_BATCH === 0) {
      found = fetcher.lookupAll(plan.placements.slice(i, i + LOOKUP_BATCH).map((p) => p.node));
    }
    const hit = found[i % LOOKUP_BATCH];
    if (!hit) {
      settle(
        placement,
        fetcher.ensureAt(placement.node, placeAtFor(placement)).then(({ record, placed: files }) => {
          const prep = files && prepare(placement, record);
          return prep ? placed(placement, record, prep, files!) : place(placement, record, false);
        }),
      );
    } else if (pool) {
      // The workers start on it now, while the rest is looked up.
      progress.cached++;
      settle(placement, place(placement, hit, verify));
    } else hits.push([placement, hit]);
  }
  progress.cached += hits.length;
  if (prefetched) {
    progress.cached -= plan.placements.filter((p) =>
      prefetched.has(`${p.node.name}@${p.node.version}`)
    ).length;
  }
  progress.phase = "linking";
  report();
  // Without workers: one package at a time on this thread (a failure stops the rest), letting downloads
  // make progress between batches.
  let sinceYield = 0;
  for (const [placement, hit] of hits) {
    if (failures.length) break; // the install fails anyway: stop linking
    await settle(placement, place(placement, hit, verify));
    if (++sinceYield >= 32) {
      sinceYield = 0;
      report();
      await new Promise((r) => setImmediate(r));
    }
  }
  await Promise.all(pending);
  if (failures.length) {
    await putBack();
    throw failures.length === 1
      ? failures[0].error
      : new AggregateError(failures.map((f) => f.error), failureReport(failures));
  }

  // Symlinks: workspaces, link: deps, and the isolated layout's dependency links.
  const failed = new Set(plan.placements.filter((p) => !records.has(p.id)).map((p) => p.dir));
  const links = plan.links.filter((link) => !failed.has(link.target));
  await makeSymlinks(
    links.map((l) => [path.resolve(projectDir, l.target), path.join(projectDir, l.path), "dir"]),
  );
  summary.links = links.length;
  for (const dir of plan.dirs ?? []) fsx.ensureDir(path.join(projectDir, dir));

  // .bin links, from the row's manifest (or package.json on disk for linked folders). Claims are settled
  // in plan order first (who owns a command), then the links are created.
  const claims = pnpmLayout
    ? new BinClaims("pnpm", pnpmLayout.binConflictLesserName)
    : new BinClaims("first");
  const binLinks = new Map<string, string>();
  const bundledBins = planBundledBins(plan.placements, (id) => {
    const files = records.get(id)?.files;
    return files && Object.keys(files);
  });
  // npm ci takes commands from the lockfile's `bin`, which never lists `directories.bin`; pnpm and bun read it.
  const expandsBinDir = !npmLock;
  /** Commands of linked folders (workspaces, file: folders): their files are the project's own. */
  const linkedTargets = new Set<string>();
  const nativeBin = nativeBinRedirect(
    graph,
    projectDir,
    (id) => records.has(id),
    (id, relative) => hasFile(records.get(id)!, relative),
  );
  // npm's bin-links=false: no .bin entries at all.
  const binPlans = npmLock && !npm.binLinks ? [] : [...plan.bins, ...bundledBins];
  for (const bin of binPlans) {
    const record = bin.id ? records.get(bin.id) : undefined;
    // A linked folder: npm's link node, or pnpm's link: target (no id, outside node_modules). A bundled
    // package (no id, inside its bundler's folder) is read from disk too, but its files are the store's.
    const linked = !record &&
      (bin.id
        ? graph.packages.get(bin.id)?.resolution.kind === "directory"
        : !bin.pkgDir.split("/").includes("node_modules"));
    const fromDisk = linked || (!record && !bin.id);
    const bins = record
      ? existingBins(
        binsOf(
          record.manifest,
          expandsBinDir ? () => record.files : undefined,
          graph.source === "bun.lock" ? nameFromKey(bin.pkgDir) : undefined,
        ),
        record,
      )
      : fromDisk
      ? readBinsFromDisk(path.join(projectDir, bin.pkgDir), expandsBinDir, linked)
      : undefined;
    if (!bins) continue;
    const owned = claimBins(
      bins,
      path.join(projectDir, bin.pkgDir),
      path.join(projectDir, bin.binDir),
      claims,
    ).map(([at, target]): [string, string] => {
      const relative = path.relative(path.join(projectDir, bin.pkgDir), target);
      const native = bin.id === undefined ? undefined : nativeBin(bin.id, relative.split(path.sep).join("/"));
      return [at, native === undefined ? target : path.join(projectDir, native)];
    });
    for (const [at, target] of owned) {
      binLinks.set(at, target);
      if (linked) linkedTargets.add(target);
    }
  }
  // As npm and pnpm do, a linked folder's command file is made executable (and its `#!` line LF) in place:
  // the store's files get this when stored, the project's own files only here.
  for (const target of linkedTargets) makeRunnable(target);
  await makeSymlinks([...binLinks].map(([at, target]) => [target, at, "file"]));
  summary.bins = binLinks.size;

  if (scriptJobs.length || projectJobs.length) {
    progress.phase = "scripts";
    report();
    summary.scriptsRun += await runScripts(scriptJobs, scriptOptions);
    summary.scriptsRun += await projectStage(PROJECT_LIFECYCLE.filter((e) => e !== "preinstall"));
    // A command file the projects' scripts just built (prepare) becomes runnable too.
    for (const target of linkedTargets) makeRunnable(target);
  }

  store.index.touch(new Set([...records.values()].map((r) => r.key)), Date.now());
  await removeAsides();
  // The .bin links too: a deleted command is as much a broken tree as a deleted package.
  const sentinels = [
    ...sentinelsOf(plan, records, lastFiles),
    ...[...binLinks.keys()].map((at) => path.relative(projectDir, at)),
  ];
  const manifests = await manifestsState(
    projectDir,
    graph.importers.filter((i) => i.path !== "." && selection.importers.has(i.path)).map((i) =>
      path.posix.join(i.path, "package.json")
    ),
  );
  writeState(projectDir, { version: 1, inputHash: hash, sentinels, manifests });
  c.get(T.projects).register({
    path: projectDir,
    lockfile: lock.name,
    lockfileHash: hash,
    lastUsed: Date.now(),
    packages: placedKeys(plan.placements, records),
  });

  progress.phase = "done";
  report();
  Object.assign(summary, {
    packages: records.size,
    fromStore: progress.cached,
    downloaded: fetcher.stats.downloads,
    downloadedBytes: fetcher.stats.bytes,
    files: progress.files,
    importMethod: pool?.method ?? fsx.method,
    scriptsSkipped: [...scriptsSkipped].sort(),
    ms: performance.now() - started,
  });
  return summary;
}

/**
 * Move an existing node_modules aside (one rename), to be deleted once the new one is built, or put back if
 * the install fails. `stale`: folders left aside by an install that was killed before it could delete them
 * (its pid is gone).
 */
function moveAside(dir: string): { dir: string; aside?: string; stale: string[] } {
  const parent = path.dirname(dir), base = path.basename(dir);
  const stale = fs.readdirSync(parent)
    .filter((name) => name.startsWith(`${base}.silo-old-`) && !pidAlive(Number(name.split("-")[2])))
    .map((name) => path.join(parent, name));
  if (!fs.existsSync(dir)) return { dir, stale };
  const aside = `${dir}.silo-old-${process.pid}-${Date.now().toString(36)}`;
  fs.renameSync(dir, aside);
  return { dir, aside, stale };
}

/**
 * The commands of the folder `dir` (a linked one, or a bundled package) whose files exist. A linked folder
 * keeps a command whose file is not built yet (a workspace CLI's `dist/cli.js`), as pnpm does: the link
 * works once the project's build makes it.
 */
function readBinsFromDisk(dir: string, expandsBinDir: boolean, keepMissing: boolean): BinMap | undefined {
  let manifest: PackageManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  } catch {
    return undefined;
  }
  const files = expandsBinDir && manifest.directories?.bin
    ? Object.fromEntries(folderFiles(dir).map((f) => [f, true]))
    : undefined;
  const bins = binsOf(manifest, files);
  for (const [name, target] of Object.entries(bins)) {
    const st = fs.statSync(path.join(dir, target), { throwIfNoEntry: false });
    if (st ? !st.isFile() : !keepMissing) delete bins[name];
  }
  return bins;
}

/**
 * The commands whose file the package has: npm and pnpm skip one that names a missing file. Asked of the
 * packed map: parsing every map on this thread cost mocha's hot install 24 ms (see packed_files.ts).
 */
function existingBins(bins: BinMap, record: PackageRecord): BinMap {
  for (const [name, target] of Object.entries(bins)) if (!hasFile(record, target)) delete bins[name];
  return bins;
}

/** Make the project's own command file `file` executable, with an LF `#!` line (npm's and pnpm's fixBin). */
function makeRunnable(file: string): void {
  try {
    const mode = fs.statSync(file).mode & 0o7777;
    const bytes = fs.readFileSync(file);
    const fixed = unixShebang(bytes);
    if (fixed) fs.writeFileSync(file, fixed);
    if ((mode & 0o111) !== 0o111) fs.chmodSync(file, mode | 0o111);
  } catch {
    // A file we may not change (read-only checkout): the link is still made, as npm does.
  }
}

/** Paths that exist only once the install completed: each package's last file (package.json) and each link. */
function sentinelsOf(
  plan: InstallPlan,
  records: Map<string, PackageRecord>,
  lastFiles: Map<string, string>,
): string[] {
  // Links to packages that were not placed (platform-skipped optional ones) are never created.
  const failed = new Set(plan.placements.filter((p) => !records.has(p.id)).map((p) => p.dir));
  const sentinels: string[] = [];
  for (const p of plan.placements) {
    const last = lastFiles.get(p.id);
    if (last) sentinels.push(path.posix.join(p.dir, last));
  }
  for (const link of plan.links) if (!failed.has(link.target)) sentinels.push(link.path);
  return sentinels;
}

/** A package that failed to install, and why. */
export interface Failure {
  /** "name@version". */
  id: string;
  error: unknown;
}

/**
 * The message of a failed install: one line per distinct cause, naming the first packages it hit, so a
 * failure that hits every package (a full disk, a registry down) is one line, not hundreds.
 */
export function failureReport(failures: Failure[], maxCauses = 10): string {
  // Causes that differ only in the package's own URL (every tarball from a registry that is down) are one.
  const byCause = new Map<string, { ids: string[]; first: string }>();
  for (const { id, error } of failures) {
    const message = error instanceof Error ? error.message : String(error);
    const cause = message.startsWith(`${id}: `) ? message.slice(id.length + 2) : message;
    const key = cause.replace(/\b(https?:\/\/[^/\s)]+)\/[^\s)]*/g, "$1/…");
    const group = byCause.get(key);
    if (group) group.ids.push(id);
    else byCause.set(key, { ids: [id], first: cause });
  }
  const lines = [...byCause].slice(0, maxCauses).map(([key, { ids, first }]) =>
    `  ${ids.slice(0, 3).join(", ")}${ids.length > 3 ? ` and ${ids.length - 3} more` : ""}: ${
      ids.length === 1 ? first : key
    }`
  );
  if (byCause.size > maxCauses) lines.push(`  (${byCause.size - maxCauses} more causes not shown)`);
  return `${failures.length} packages failed to install:\n${lines.join("\n")}`;
}
