import assert from "node:assert/strict";
import { test } from "node:test";
import { formatBytes, formatDuration, plural } from "../../src/cli/format.ts";
import { renderNotes, renderProgress, renderSummary } from "../../src/cli/progress.ts";
import type { InstallProgress, InstallSummary } from "../../src/install/install.ts";

const progress: InstallProgress = {
  phase: "linking",
  total: 700,
  cached: 600,
  downloaded: 12,
  downloadedBytes: 3 * 1024 * 1024,
  active: 4,
  linked: 612,
  files: 15000,
};

const summary: InstallSummary = {
  upToDate: false,
  lockfile: "pnpm-lock.yaml",
  layout: "isolated",
  packages: 424,
  fromStore: 108,
  downloaded: 315,
  downloadedBytes: 45 * 1024 * 1024,
  files: 9558,
  links: 1089,
  bins: 194,
  importMethod: "hardlink",
  skipped: [{ id: "fsevents@2.3.3", reason: "os darwin" }],
  scriptsSkipped: ["esbuild"],
  scriptsRun: 0,
  ms: 4770,
};

test("the progress line shows each counter and fits the width it is given", () => {
  const line = renderProgress(progress, 200);
  for (
    const part of [
      "linking",
      "612/700 packages linked",
      "600 from store",
      "12 downloaded (3.0 MiB)",
      "4 in flight",
      "15000 files",
    ]
  ) {
    assert.ok(line.includes(part), `${part} in "${line}"`);
  }
  const narrow = renderProgress(progress, 40);
  assert.equal(narrow.length, 40);
  assert.ok(narrow.endsWith("…"));
  assert.ok(
    !renderProgress({ ...progress, active: 0 }).includes("in flight"),
    "no in-flight count when idle",
  );
});

test("the summary says what was installed, from where, how, and how long it took", () => {
  assert.equal(
    renderSummary(summary),
    "installed 424 packages from pnpm-lock.yaml in 4.77s · 108 from store, 315 downloaded (45 MiB) · 9558 files by hardlink · 1 skipped",
  );
  assert.equal(
    renderSummary({ ...summary, upToDate: true, ms: 12.4 }),
    "node_modules is up to date (pnpm-lock.yaml) · 12ms",
  );
});

test("notes name the packages whose scripts did not run and how to allow them", () => {
  assert.deepEqual(renderNotes(summary), [
    "lifecycle scripts not run for 1 package: esbuild (allow with --allow-scripts esbuild, or for good in pnpm-workspace.yaml's allowBuilds)",
  ]);
  assert.match(
    renderNotes({ ...summary, lockfile: "package-lock.json" })[0],
    /or for good in package\.json's "allowScripts" \(npm approve-scripts\)\)$/,
  );
  const many = renderNotes({ ...summary, scriptsSkipped: ["a", "b", "c", "d"], scriptsRun: 2 });
  assert.match(many[0], /4 packages: a, b, c, d \(allow with --allow-scripts a,b,c,\.\.\., or for good/);
  assert.equal(many[1], "ran 2 lifecycle scripts");
  assert.deepEqual(renderNotes({ ...summary, scriptsSkipped: [] }), []);
});

test("formatters: bytes, durations, plurals", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(45 * 1024 * 1024), "45 MiB");
  assert.equal(formatDuration(87.4), "87ms");
  assert.equal(formatDuration(1234), "1.23s");
  assert.equal(plural(1, "file"), "1 file");
  assert.equal(plural(2, "package"), "2 packages");
});
