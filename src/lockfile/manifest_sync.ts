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
import satisfies from "semver/functions/satisfies.js";
import validRange from "semver/ranges/valid.js";
import { LockfileError } from "./errors.ts";
import { readJsonObject } from "./json.ts";
import { managerOf } from "./locate.ts";
import type { Graph, Importer } from "./graph.ts";
import { parseYaml } from "./yaml.ts";

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
      if (wanted[name] === locked[name]) continue;
      // npm ci accepts a changed range its locked version still satisfies; pnpm compares the text.
      if (graph.source === "package-lock.json" && lockedSatisfies(graph, importer, name, wanted[name])) {
        continue;
      }
      mismatches.push({ importer: importer.path, name, manifest: wanted[name], lockfile: locked[name] });
    }
  }
  return mismatches;
}

/** Whether the package the importer's `name` edge resolves to satisfies `spec` (a range, or `npm:pkg@range`). */
function lockedSatisfies(graph: Graph, importer: Importer, name: string, spec: string | undefined): boolean {
  const target = importer.dependencies.find((d) => d.alias === name)?.target;
  const node = target?.kind === "package" ? graph.packages.get(target.id) : undefined;
  if (!node || spec === undefined) return false;
  let range = spec;
  if (spec.startsWith("npm:")) {
    const at = spec.lastIndexOf("@");
    if (at <= 4 || spec.slice(4, at) !== node.name) return false;
    range = spec.slice(at + 1);
  }
  return validRange(range) !== null &&
    satisfies(node.version, range, { includePrerelease: false });
}

/**
 * Where a pnpm project's `overrides` and catalogs differ from what its lockfile recorded, as sentences
 * ("overrides: ms is 2.1.2 in pnpm-workspace.yaml but 2.1.3 in the lockfile"). pnpm reads overrides from
 * pnpm-workspace.yaml and (pnpm 10 and older) package.json's `pnpm.overrides`; catalogs from
 * pnpm-workspace.yaml's `catalog` (the default one) and `catalogs`. The lockfile lists only the catalog
 * entries the projects use, so only those are compared. Overrides that refer to a dependency's version
 * (`$name`) are recorded resolved and are left aside. Only certain drift is reported: a false alarm would
 * stop an install pnpm makes.
 */
export async function findSettingMismatches(projectDir: string, graph: Graph): Promise<string[]> {
  const recorded = graph.recordedSettings;
  if (!recorded) return [];
  const yaml = await readYamlObject(path.join(projectDir, "pnpm-workspace.yaml"));
  const manifest = readJsonObject(path.join(projectDir, "package.json"));
  const pnpmField = (manifest.pnpm ?? {}) as Record<string, unknown>;
  const found: string[] = [];
  const overrides: Record<string, { spec: string; file: string }> = {};
  for (
    const [map, file] of [[pnpmField.overrides, "package.json"], [
      yaml.overrides,
      "pnpm-workspace.yaml",
    ]] as const
  ) {
    for (const [key, spec] of Object.entries((map ?? {}) as Record<string, unknown>)) {
      overrides[key] = { spec: String(spec), file };
    }
  }
  // A recorded override nothing here configures may come from elsewhere (package.json `resolutions`), and
  // package.json's own ones are not read by pnpm 11+: only contradictions, and new pnpm-workspace.yaml
  // entries, are reported.
  const lockOverrides = recorded.overrides ?? {};
  for (const [key, mine] of Object.entries(overrides)) {
    const theirs = lockOverrides[key];
    if (mine.spec.startsWith("$") || mine.spec === theirs) continue;
    if (theirs !== undefined) {
      found.push(`overrides: ${key} is ${mine.spec} in ${mine.file} but ${theirs} in the lockfile`);
    } else if (mine.file === "pnpm-workspace.yaml") {
      found.push(`overrides: ${key}@${mine.spec} is in ${mine.file} but not in the lockfile`);
    }
  }
  const catalogs = (yaml.catalogs ?? {}) as Record<string, Record<string, unknown>>;
  const catalogOf = (name: string) => ({
    ...(name === "default" ? yaml.catalog as object : {}),
    ...catalogs[name],
  });
  for (const [name, entries] of Object.entries(recorded.catalogs ?? {})) {
    const configured = catalogOf(name) as Record<string, unknown>;
    for (const [dep, spec] of Object.entries(entries)) {
      const mine = configured[dep] === undefined ? undefined : String(configured[dep]);
      if (mine === spec) continue;
      const label = name === "default" ? "the default catalog" : `catalog ${name}`;
      found.push(
        mine === undefined
          ? `${label}: ${dep}@${spec} is in the lockfile but not in pnpm-workspace.yaml`
          : `${label}: ${dep} is ${mine} in pnpm-workspace.yaml but ${spec} in the lockfile`,
      );
    }
  }
  return found;
}

async function readYamlObject(file: string): Promise<Record<string, unknown>> {
  try {
    const doc = await parseYaml(fs.readFileSync(file, "utf8"));
    return doc && typeof doc === "object" ? doc as Record<string, unknown> : {};
  } catch {
    return {}; // absent or unreadable: pnpm itself reports a malformed file
  }
}

/**
 * A pnpm lockfile made with `excludeLinksFromLockfile` leaves the importers' `link:` dependencies out:
 * pnpm links them from package.json. Add those edges (and their specifiers) to `graph`.
 */
export function addExcludedLinks(projectDir: string, graph: Graph): void {
  if (!graph.recordedSettings?.excludeLinksFromLockfile) return;
  for (const importer of graph.importers) {
    const manifest = readJsonObject(path.join(projectDir, importer.path, "package.json"));
    const have = new Set(importer.dependencies.map((d) => d.alias));
    for (const field of FIELDS) {
      for (const [alias, spec] of Object.entries((manifest[field] ?? {}) as Record<string, unknown>)) {
        if (typeof spec !== "string" || !spec.startsWith("link:") || have.has(alias)) continue;
        const target = path.posix.normalize(path.posix.join(importer.path, spec.slice(5))).replace(/\/$/, "");
        importer.dependencies.push({
          alias,
          target: { kind: "link", path: target },
          dev: field === "devDependencies",
          optional: field === "optionalDependencies",
        });
        if (importer.specifiers) importer.specifiers[alias] = spec;
        have.add(alias);
      }
    }
  }
}

/** Throw (reject with) a {@linkcode LockfileError} listing the mismatches, when there are any. */
export async function assertLockfileInSync(
  projectDir: string,
  graph: Graph,
  lockfile: string,
): Promise<void> {
  const describe = (m: SpecifierMismatch) => {
    const where = m.importer === "." ? "package.json" : `${m.importer}/package.json`;
    if (m.lockfile === undefined) return `${m.name}@${m.manifest} is in ${where} but not in the lockfile`;
    if (m.manifest === undefined) return `${m.name}@${m.lockfile} is in the lockfile but not in ${where}`;
    return `${m.name} is ${m.manifest} in ${where} but ${m.lockfile} in the lockfile`;
  };
  const mismatches = [
    ...findSpecifierMismatches(projectDir, graph).map(describe),
    ...await findSettingMismatches(projectDir, graph),
  ];
  if (mismatches.length === 0) return;
  const what = graph.source === "pnpm-lock.yaml"
    ? "the project's package.json files and settings"
    : "package.json";
  throw new LockfileError(
    lockfile,
    lockfileProblems(`is out of date with ${what}`, mismatches, graph, "update the lockfile"),
  );
}

/**
 * Throw a {@linkcode LockfileError} when the lockfile lacks what the project depends on (the graph's fatal
 * warnings): its package manager refuses such a file too.
 */
export function assertLockfileComplete(graph: Graph, lockfile: string): void {
  const broken = (graph.warnings ?? []).filter((w) => w.fatal).map((w) => w.message);
  if (broken.length === 0) return;
  throw new LockfileError(
    lockfile,
    lockfileProblems("is incomplete (a merge conflict resolved by hand?)", broken, graph, "repair it"),
  );
}

/** The message for problems of a lockfile: the first ten, and the package manager command that fixes it. */
function lockfileProblems(what: string, problems: string[], graph: Graph, action: string): string {
  const shown = problems.slice(0, 10).map((p) => `  ${p}`).join("\n");
  const more = problems.length > 10 ? `\n  ... and ${problems.length - 10} more` : "";
  // The lockfile's package manager rewrites it from package.json.
  const fix = `${managerOf(graph.source)} install`;
  return `${what}:\n${shown}${more}\n` +
    `Run \`${fix}\` to ${action} (silo never changes it), then run silo install again.`;
}
