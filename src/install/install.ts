/**
 * The install entry point: the up-to-date check (which loads nothing heavy), then the
 * restore itself (restore.ts) only when node_modules is out of date.
 *
 * @module
 */
import path from "node:path";
import type { Container } from "../container/container.ts";
import type { RegistryClient } from "../fetch/registry.ts";
import type { Graph } from "../lockfile/graph.ts";
import type { FileImporter, RequestedMethod } from "../link/mod.ts";
import { workspaceRootOf } from "../lockfile/locate.ts";
import { readNpmSettings } from "./npm_settings.ts";
import { checkUpToDate } from "./state.ts";

/** What to install and how. */
export interface InstallOptions {
  /** The project root (holds the lockfile). */
  projectDir: string;
  /** Omit devDependencies. Unset: as npm's `omit` setting says (.npmrc, `npm_config_omit`). */
  prod?: boolean;
  /** Omit optional dependencies (and what only they need). Unset: as npm's `omit` setting says. */
  omitOptional?: boolean;
  /**
   * Peers are not dependencies (npm's `legacy-peer-deps`): in an npm lockfile, what only peer edges reach
   * is left out, as `npm ci --legacy-peer-deps` does. Unset: as npm's setting says.
   */
  legacyPeerDeps?: boolean;
  /** Never download: everything must be in the store. */
  offline?: boolean;
  /** Download lockfile entries that record no integrity (otherwise they are an error). */
  allowMissingIntegrity?: boolean;
  /** clone (reflink), hardlink, copy, or auto (the best the filesystems allow). */
  importMethod?: RequestedMethod;
  /** Packages whose lifecycle scripts may run, besides the project's own allow-lists. */
  allowScripts?: string[];
  /** Run no scripts at all, even allowed ones. */
  ignoreScripts?: boolean;
  /** Registry override (--registry). */
  registry?: string;
  /** Concurrent downloads. */
  concurrency?: number;
  /** A download that stalls this long (ms) is retried (default 30 s). */
  networkTimeoutMs?: number;
  /**
   * Redo the install even when node_modules looks up to date; install required packages for another
   * platform (npm ci's and yarn's refusal is lifted).
   */
  force?: boolean;
  /**
   * Do not check packages' engines.node (yarn's `--ignore-engines`): yarn.lock installs then do not stop
   * at a required package that rules out this node, and no lockfile's optional packages are skipped for it.
   */
  ignoreEngines?: boolean;
  /** Progress callback, called often; render from the state it is given. */
  onProgress?: (progress: InstallProgress) => void;
  /** Told as each lifecycle script starts (the CLI prints `> name@version event: command`). */
  onScript?: (script: { name: string; version: string; event: string; command: string }) => void;
  /** The output of the project's own scripts as they run (dependencies' scripts stay quiet unless they fail). */
  onScriptOutput?: (text: string) => void;
  /** Warnings (printed once each by the CLI). */
  warn?: (message: string) => void;
  /** Injected registry client (tests: a counting loopback registry). */
  client?: RegistryClient;
  /**
   * Check every store file a hit links (size, mode, mtime against the index: one stat each) so a file
   * edited through some project's hardlink is caught and re-fetched instead of spread. Default true;
   * false trusts the store, as pnpm's `verify-store-integrity=false` does.
   */
  verifyStoreIntegrity?: boolean;
  /** Injected file importer instead of the probed one (tests: one that fails midway). Links on this thread. */
  importer?: FileImporter;
  /**
   * Threads that unpack downloaded tarballs into the store and link packages into node_modules; 0 does
   * both on the calling thread. Default: $SILO_WORKERS, else one per core (at most 4) for installs of 64
   * packages or more.
   */
  workers?: number;
}

/** Live counters. */
export interface InstallProgress {
  phase: "resolving" | "linking" | "scripts" | "done";
  total: number;
  /** Packages found in the store. */
  cached: number;
  downloaded: number;
  downloadedBytes: number;
  /** Downloads in flight. */
  active: number;
  linked: number;
  files: number;
}

/** What an install did. */
export interface InstallSummary {
  /** True when node_modules already matched the lockfile and nothing was done. */
  upToDate: boolean;
  /** The lockfile's file name. */
  lockfile: string;
  /** "hoisted" (npm) or "isolated" (pnpm); "unknown" when up to date. */
  layout: Graph["layout"] | "unknown";
  /** Packages placed in node_modules. */
  packages: number;
  /** Of those, how many were already in the store. */
  fromStore: number;
  /** Tarballs downloaded. */
  downloaded: number;
  /** Compressed bytes downloaded. */
  downloadedBytes: number;
  /** Files placed. */
  files: number;
  /** Symlinks made (workspaces, `link:` deps, the isolated layout). */
  links: number;
  /** `.bin` entries made. */
  bins: number;
  /** How files were placed: "clone", "hardlink", "copy" (or "none" when up to date). */
  importMethod: string;
  /** Packages left out, and why (platform, optional fetch failures). */
  skipped: { id: string; reason: string }[];
  /** Packages with lifecycle scripts that were not allowed to run. */
  scriptsSkipped: string[];
  /** Lifecycle scripts that ran. */
  scriptsRun: number;
  /** Wall time in milliseconds. */
  ms: number;
}

/**
 * Restore node_modules for `options.projectDir` through the store in `c`.
 *
 * @example
 * ```ts ignore
 * const summary = await install(await createContainer({ storeDir }), { projectDir: "." });
 * console.log(summary.packages, summary.downloaded);
 * ```
 */
export async function install(
  container: Container | (() => Promise<Container>),
  options: InstallOptions,
): Promise<InstallSummary> {
  const started = performance.now();
  const asked = path.resolve(options.projectDir);
  // Inside a workspace project, the workspace is installed, as npm and pnpm do.
  const projectDir = workspaceRootOf(asked);
  if (projectDir !== asked) {
    options.warn?.(`installing the project at ${projectDir}, which ${asked} is part of`);
  }
  // What the command line leaves unsaid, npm's settings decide (as npm ci reads them).
  const npm = readNpmSettings(projectDir);
  options = {
    ...options,
    prod: options.prod ?? npm.omit.includes("dev"),
    omitOptional: options.omitOptional ?? npm.omit.includes("optional"),
    // `omit=peer` leaves out what only peer edges reach: the same walk as legacy-peer-deps.
    legacyPeerDeps: options.legacyPeerDeps ?? (npm.legacyPeerDeps || npm.omit.includes("peer")),
  };
  const { lock, hash, upToDate } = await checkUpToDate(projectDir, {
    prod: options.prod,
    omitOptional: options.omitOptional,
    legacyPeerDeps: options.legacyPeerDeps,
    ignoreEngines: !!options.ignoreEngines,
    method: options.importMethod ?? "auto",
    // npm's settings that change the tree or whether it is built.
    npm: { binLinks: npm.binLinks, installStrategy: npm.installStrategy?.value },
    // Which scripts run: allowing one more (or ignoring them) must not be answered with "up to date".
    scripts: options.ignoreScripts ? "none" : [...new Set(options.allowScripts ?? [])].sort(),
  });
  for (const other of lock.ignored ?? []) {
    options.warn?.(
      `${other} is there too; silo installs from ${lock.name}. Remove the lockfile of the package manager the project does not use.`,
    );
  }
  const summary: InstallSummary = {
    upToDate: false,
    lockfile: lock.name,
    layout: "unknown",
    packages: 0,
    fromStore: 0,
    downloaded: 0,
    downloadedBytes: 0,
    files: 0,
    links: 0,
    bins: 0,
    importMethod: "none",
    skipped: [],
    scriptsSkipped: [],
    scriptsRun: 0,
    ms: 0,
  };
  if (!options.force && upToDate) {
    summary.upToDate = true;
    summary.ms = performance.now() - started;
    return summary;
  }

  // Only now open the store and load the installer: a no-op install never pays for either.
  const c = typeof container === "function" ? await container() : container;
  const { restore } = await import("./restore.ts");
  return await restore(c, options, { projectDir, lock, hash, started, summary, npm });
}
