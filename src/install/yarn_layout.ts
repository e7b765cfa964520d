/**
 * yarn 1 projects: every package of the lockfile goes into the store first (yarn fetches them all too,
 * packages for other platforms included), because yarn's layout depends on what their package.json files
 * say; then the layout is computed (yarn_hoist.ts) and installed like any hoisted one.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import type { PackageFetcher } from "../fetch/package_fetcher.ts";
import type { Graph } from "../lockfile/graph.ts";
import { engineMismatch, type Platform, platformMismatch } from "../lockfile/platform.ts";
import type { YarnProject, YarnRef } from "../lockfile/yarn.ts";
import { hoistYarn, type YarnFacts, type YarnHoistOptions } from "../lockfile/yarn_hoist.ts";
import type { PackageRecord } from "../store/index_db.ts";
import type { StoreLayout } from "../store/layout.ts";
import { fileEntryOf } from "../store/packed_files.ts";

/** What {@link layoutYarn} needs besides the project. */
export interface YarnLayoutOptions extends YarnHoistOptions {
  projectDir: string;
  fetcher: PackageFetcher;
  layout: StoreLayout;
  platform: Platform;
  /** Called as each package is in the store. */
  onStored?: () => void;
}

/** The layout as a graph, and the optional packages left out for this platform (id -> why). */
export interface YarnInstall {
  graph: Graph;
  skipped: Map<string, string>;
  /** "name@version" of the packages this step downloaded (the rest were in the store). */
  downloaded: Set<string>;
  /** Packages kept in their workspace by `nohoist` -> the folder whose .bin gets their commands. */
  nohoist: Map<string, string>;
}

/**
 * Store every package of `project`, read their package.json files and compute yarn 1's layout. Throws
 * when a required package does not fit this platform or cannot be fetched (yarn stops there too).
 *
 * @example
 * ```ts ignore
 * const { graph } = await layoutYarn(project, { projectDir, fetcher, layout, platform });
 * ```
 */
export async function layoutYarn(project: YarnProject, options: YarnLayoutOptions): Promise<YarnInstall> {
  const facts = new Map<YarnRef, YarnFacts>();
  const failed = new Map<string, unknown>();
  const downloaded = new Set<string>();
  const refs = [...project.refs.values()].filter((ref) => ref.workspace === undefined);
  const stored = options.fetcher.lookupAll(refs.map((ref) => ref.node));
  await Promise.all(refs.map(async (ref, i) => {
    try {
      const manifest = ref.node.resolution.kind === "directory"
        ? readJson(path.resolve(options.projectDir, ref.node.resolution.path, "package.json"))
        : storedManifest(
          stored[i] ??
            await options.fetcher.ensure(ref.node).finally(() =>
              downloaded.add(`${ref.node.name}@${ref.node.version}`)
            ),
          options.layout,
        );
      facts.set(ref, factsOf(manifest, options.platform));
    } catch (error) {
      // Skipped if only optional dependencies lead to it; else the install fails with this error.
      failed.set(ref.id, error);
      facts.set(ref, { peers: {}, misfit: `could not be fetched: ${(error as Error).message}` });
    }
    options.onStored?.();
  }));
  const { graph, skipped, misfits, nohoist } = hoistYarn(
    project,
    (ref) => facts.get(ref) ?? { peers: {} },
    options,
  );
  const fetchError = [...misfits.keys()].find((id) => failed.has(id));
  if (fetchError) throw failed.get(fetchError);
  if (misfits.size > 0) {
    const [[id, { why, flag }], ...more] = misfits;
    const problem = flag === "--force" ? `does not support this platform (${why})` : `needs ${why}`;
    throw new Error(
      `${id} ${problem}${
        more.length > 0 ? `, and ${more.length} more do not fit` : ""
      }; yarn stops here too. Pass ${flag} to install ${more.length > 0 ? "them" : "it"} anyway.`,
    );
  }
  return { graph, skipped, downloaded, nohoist };
}

/** What yarn reads from a package.json: peers, and whether it fits (os and cpu; yarn 1 knows no libc). */
function factsOf(manifest: Record<string, unknown>, platform: Platform): YarnFacts {
  const peers = Object.fromEntries(
    Object.entries((manifest.peerDependencies ?? {}) as Record<string, unknown>).map((
      [n, r],
    ) => [n, String(r)]),
  );
  const os = manifest.os as string[] | undefined, cpu = manifest.cpu as string[] | undefined;
  const misfit = platformMismatch({ os, cpu }, platform);
  const engines = manifest.engines as { node?: unknown } | undefined;
  const engine = typeof engines?.node === "string"
    ? engineMismatch({ nodeEngine: engines.node }, platform)
    : null;
  return {
    peers,
    ...(misfit ? { misfit } : {}),
    ...(engine ? { engine } : {}),
  };
}

/** The package.json of a stored package, read from the store file. */
function storedManifest(record: PackageRecord, layout: StoreLayout): Record<string, unknown> {
  const entry = fileEntryOf(record, "package.json");
  if (!entry) return {};
  return readJson(layout.filePath(entry.digest, (entry.mode & 0o111) !== 0));
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) ?? {};
  } catch {
    return {}; // a broken package.json is the package's problem: yarn reads it as empty too
  }
}
