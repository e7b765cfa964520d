/**
 * Progress and summary text: pure functions of the install's state, so they are
 * tested without a terminal.
 *
 * @module
 */
import type { InstallProgress, InstallSummary } from "../install/install.ts";
import { formatBytes, formatDuration, plural } from "./format.ts";

/** One status line for a terminal `width` columns wide, redrawn in place (cut with "…" to fit). */
export function renderProgress(p: InstallProgress, width = 120): string {
  const parts = [
    `${p.phase}`,
    `${p.linked}/${p.total} packages linked`,
    `${p.cached} from store`,
    `${p.downloaded} downloaded (${formatBytes(p.downloadedBytes)})`,
  ];
  if (p.active) parts.push(`${p.active} in flight`);
  parts.push(`${p.files} files`);
  const line = parts.join(" · ");
  return line.length > width ? line.slice(0, width - 1) + "…" : line;
}

/** The one-line summary printed at the end. */
export function renderSummary(s: InstallSummary): string {
  if (s.upToDate) return `node_modules is up to date (${s.lockfile}) · ${formatDuration(s.ms)}`;
  const parts = [
    `installed ${plural(s.packages, "package")} from ${s.lockfile} in ${formatDuration(s.ms)}`,
    `${s.fromStore} from store, ${s.downloaded} downloaded (${formatBytes(s.downloadedBytes)})`,
    `${plural(s.files, "file")} by ${s.importMethod}`,
  ];
  if (s.skipped.length) parts.push(`${s.skipped.length} skipped`);
  return parts.join(" · ");
}

/** Where each package manager keeps the packages whose scripts may run. */
const ALLOW_FOR_GOOD: Record<string, string> = {
  "package-lock.json": 'package.json\'s "allowScripts" (npm approve-scripts)',
  "pnpm-lock.yaml": "pnpm-workspace.yaml's allowBuilds",
  "bun.lock": 'package.json\'s "trustedDependencies" (bun pm trust)',
  // yarn 1 runs every script and has no allow-list of its own: bun's field is read for it too.
  "yarn.lock": 'package.json\'s "trustedDependencies"',
};

/** Extra lines after the summary: skipped scripts and how to allow them. */
export function renderNotes(s: InstallSummary): string[] {
  const notes: string[] = [];
  if (s.scriptsSkipped.length) {
    notes.push(
      `lifecycle scripts not run for ${plural(s.scriptsSkipped.length, "package")}: ${
        s.scriptsSkipped.join(", ")
      }` +
        ` (allow with --allow-scripts ${s.scriptsSkipped.slice(0, 3).join(",")}${
          s.scriptsSkipped.length > 3 ? ",..." : ""
        }, or for good in ${ALLOW_FOR_GOOD[s.lockfile] ?? ALLOW_FOR_GOOD["package-lock.json"]})`,
    );
  }
  if (s.scriptsRun) notes.push(`ran ${plural(s.scriptsRun, "lifecycle script")}`);
  return notes;
}
