/**
 * The up-to-date check. After a complete install, node_modules/.silo-state.json
 * records a hash of the lockfile and the options, and the files whose presence
 * proves each package folder and link complete. A second install with the same
 * inputs stats those and stops.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { type LocatedLockfile, locateLockfile } from "../lockfile/locate.ts";
import type { ProjectRegistry } from "../store/projects.ts";
import { localInputs, readOrEmpty } from "./local_inputs.ts";
import { layoutLines, pnpmSettingsFiles } from "./pnpm_settings_files.ts";

/** The file's name inside the root node_modules. */
export const STATE_FILE = ".silo-state.json";

/** What the state file holds. */
export interface InstallState {
  version: 1;
  /** sha256 of the lockfile text, the root package.json and the options that change the tree. */
  inputHash: string;
  /** Paths (relative to the project root) that exist after a complete install. */
  sentinels: string[];
  /**
   * The workspace projects' package.json files (relative paths) and a hash of their text: an edit there
   * makes the lockfile stale as much as one in the root package.json (which `inputHash` covers).
   */
  manifests?: { paths: string[]; hash: string };
}

/**
 * Bumped when silo builds a different node_modules from the same inputs (2: commands of pnpm's bundled
 * dependencies), so a tree an older silo built is rebuilt rather than found up to date.
 */
export const TREE_REVISION = 2;

/**
 * Hash of the inputs that determine node_modules. WebCrypto, not node:crypto: loading that module costs
 * Bun ~7 ms of start-up, a third of a no-op install (measured on compiled binaries).
 */
export async function inputHash(lockfileText: string, options: Record<string, unknown>): Promise<string> {
  return await sha256Hex(`${lockfileText}\0${JSON.stringify(options)}\0${TREE_REVISION}`);
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** {@linkcode InstallState.manifests} for the package.json files at `paths` (relative to `projectDir`). */
export async function manifestsState(
  projectDir: string,
  paths: string[],
): Promise<NonNullable<InstallState["manifests"]>> {
  const text = paths.map((p) => `${p}\0${readOrEmpty(path.join(projectDir, p))}`).join("\0");
  return { paths, hash: await sha256Hex(text) };
}

/** Whether node_modules already matches `hash`: the state agrees, every sentinel exists, no project changed. */
export async function isUpToDate(projectDir: string, hash: string): Promise<boolean> {
  const file = path.join(projectDir, "node_modules", STATE_FILE);
  let state: InstallState;
  try {
    state = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return false;
  }
  if (state.version !== 1 || state.inputHash !== hash) return false;
  const complete = state.sentinels.every((p) =>
    fs.lstatSync(path.join(projectDir, p), { throwIfNoEntry: false }) !== undefined
  );
  if (!complete || !state.manifests) return complete;
  return (await manifestsState(projectDir, state.manifests.paths)).hash === state.manifests.hash;
}

/** Remove the state before changing node_modules, so an interrupted install is never "up to date". */
export function clearState(projectDir: string): void {
  fs.rmSync(path.join(projectDir, "node_modules", STATE_FILE), { force: true });
}

/**
 * After `verify --repair` removed the packages `keys` from the store: every live project that had one
 * installs in full next time, not "up to date" (its node_modules may still hold the bad file through a
 * hardlink). Returns those projects' folders.
 */
export function invalidateProjectsUsing(projects: ProjectRegistry, keys: Iterable<string>): string[] {
  const removed = new Set(keys);
  const stale = projects.partition().live.filter((p) =>
    Object.values(p.packages).some((k) => removed.has(k))
  );
  for (const p of stale) clearState(p.path);
  return stale.map((p) => p.path);
}

/** Record a complete install (the last write of an install). */
export function writeState(projectDir: string, state: InstallState): void {
  const file = path.join(projectDir, "node_modules", STATE_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state));
  fs.renameSync(tmp, file);
}

/** The inputs of an install and whether node_modules already reflects them. */
export interface UpToDateCheck {
  lock: LocatedLockfile;
  hash: string;
  upToDate: boolean;
}

/** Read the lockfile and compare with the state file: all a no-op install does. */
export async function checkUpToDate(
  projectDir: string,
  options: Record<string, unknown>,
): Promise<UpToDateCheck> {
  const lock = locateLockfile(projectDir);
  // package.json too: an edit there makes the lockfile stale, which the install then reports (a lockfile
  // without package.json installs as it is).
  const manifest = readOrEmpty(path.join(projectDir, "package.json"));
  // A pnpm project's layout also follows its settings (pnpm-workspace.yaml, the layout lines of .npmrc),
  // its patch files and the folders it copies.
  const settings = lock.name === "pnpm-lock.yaml"
    ? [
      ...pnpmSettingsFiles(projectDir).map((file) =>
        file.endsWith(".yaml") ? readOrEmpty(file) : layoutLines(readOrEmpty(file))
      ),
      await localInputs(projectDir, lock.text),
    ].join("\0")
    : "";
  const hash = await inputHash(`${lock.text}\0${manifest}\0${settings}`, options);
  return { lock, hash, upToDate: await isUpToDate(projectDir, hash) };
}
