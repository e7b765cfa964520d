/**
 * A stale lockfile check, as `npm ci` and `pnpm install --frozen-lockfile` make: every
 * importer's package.json must list the same dependencies, with the same specifiers, as
 * the lockfile recorded. silo never rewrites a lockfile, so installing a stale one would
 * quietly give a tree the project no longer asks for.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { LockfileError } from "./errors.ts";
import type { Graph } from "./graph.ts";

/** One dependency on which package.json and the lockfile disagree. */
export interface SpecifierMismatch {
  /** Importer folder, relative to the project root ("." for the root). */
  importer: string;
  name: string;
  /** The specifier in package.json, or undefined when package.json does not list it. */
  manifest?: string;
  /** The specifier the lockfile recorded, or undefined when it does not list it. */
  lockfile?: string;
}

const FIELDS = ["devDependencies", "dependencies", "optionalDependencies"] as const;

/** Every mismatch between the importers' package.json files (those present) and the lockfile. */
export function findSpecifierMismatches(projectDir: string, graph: Graph): SpecifierMismatch[] {
  const mismatches: SpecifierMismatch[] = [];
  for (const importer of graph.importers) {
    if (!importer.specifiers || importer.linkedOnly) continue;
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(projectDir, importer.path, "package.json"), "utf8"));
    } catch {
      continue; // no readable package.json: nothing to compare with
    }
    const wanted: Record<string, string> = {};
    for (const field of FIELDS) {
      for (const [name, spec] of Object.entries((manifest[field] ?? {}) as Record<string, unknown>)) {
        wanted[name] = String(spec);
      }
    }
    // pnpm (autoInstallPeers) records a project's own peerDependencies as dependencies.
    const peers = (manifest.peerDependencies ?? {}) as Record<string, unknown>;
    const locked = importer.specifiers;
    for (const name of new Set([...Object.keys(wanted), ...Object.keys(locked)])) {
      if (wanted[name] === undefined && peers[name] !== undefined && String(peers[name]) === locked[name]) {
        continue;
      }
      if (wanted[name] !== locked[name]) {
        mismatches.push({ importer: importer.path, name, manifest: wanted[name], lockfile: locked[name] });
      }
    }
  }
  return mismatches;
}

/** Throw a {@linkcode LockfileError} listing the mismatches, when there are any. */
export function assertLockfileInSync(projectDir: string, graph: Graph, lockfile: string): void {
  const mismatches = findSpecifierMismatches(projectDir, graph);
  if (mismatches.length === 0) return;
  const describe = (m: SpecifierMismatch) => {
    const where = m.importer === "." ? "package.json" : `${m.importer}/package.json`;
    if (m.lockfile === undefined) return `${m.name}@${m.manifest} is in ${where} but not in the lockfile`;
    if (m.manifest === undefined) return `${m.name}@${m.lockfile} is in the lockfile but not in ${where}`;
    return `${m.name} is ${m.manifest} in ${where} but ${m.lockfile} in the lockfile`;
  };
  const shown = mismatches.slice(0, 10).map((m) => `  ${describe(m)}`).join("\n");
  const more = mismatches.length > 10 ? `\n  ... and ${mismatches.length - 10} more` : "";
  const fix = graph.source === "pnpm-lock.yaml" ? "pnpm install" : "npm install";
  throw new LockfileError(
    lockfile,
    `is out of date with package.json:\n${shown}${more}\n` +
      `Run \`${fix}\` to update the lockfile (silo never changes it), then run silo install again.`,
  );
}
