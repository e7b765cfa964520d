/**
 * Lifecycle scripts. Those of dependencies do not run unless allowed (--allow-scripts, or the
 * project's trustedDependencies / onlyBuiltDependencies / allowBuilds); allowed ones
 * run preinstall, install, postinstall in dependency order (dependencies first). The project's
 * own (the root's and its workspace projects') run afterwards, as npm, pnpm and bun run them,
 * unless --ignore-scripts.
 *
 * @module
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { managerOf } from "../lockfile/locate.ts";
import type { PinnedManager } from "./package_manager.ts";

/** The install-time scripts npm runs for a dependency, in order. */
export const LIFECYCLE = ["preinstall", "install", "postinstall"] as const;

/** The scripts npm, pnpm and bun run for the project itself after installing, in order. */
export const PROJECT_LIFECYCLE = [...LIFECYCLE, "preprepare", "prepare", "postprepare"] as const;

/** One package whose scripts may run. */
export interface ScriptJob {
  id: string;
  name: string;
  version: string;
  /** Absolute package folder. */
  dir: string;
  scripts: Partial<Record<(typeof PROJECT_LIFECYCLE)[number], string>>;
  /** Which scripts run, in order; {@linkcode LIFECYCLE} when absent. */
  events?: readonly (typeof PROJECT_LIFECYCLE)[number][];
  /** Ids of its dependencies (for ordering). */
  deps: string[];
  /** .bin folders to put on PATH, nearest first. */
  binDirs: string[];
  /** What the error says to do when a script fails. */
  hint?: string;
}

/**
 * Jobs for the lifecycle scripts of the project's own folders (`importers`: paths relative to
 * `projectDir`, workspace projects before the root, as listed), read from their package.json files.
 *
 * @example
 * ```ts ignore
 * await runScripts(projectScriptJobs("/app", ["packages/ui", "."]));
 * ```
 */
export function projectScriptJobs(projectDir: string, importers: string[]): ScriptJob[] {
  const jobs: ScriptJob[] = [];
  for (const importer of importers) {
    const dir = path.join(projectDir, importer);
    let manifest: { name?: unknown; version?: unknown; scripts?: Record<string, unknown> };
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    } catch {
      continue; // no package.json (a lockfile-only root): nothing to run
    }
    const scripts: ScriptJob["scripts"] = {};
    for (const event of PROJECT_LIFECYCLE) {
      const script = manifest.scripts?.[event];
      if (typeof script === "string" && script.trim()) scripts[event] = script;
    }
    if (Object.keys(scripts).length === 0) continue;
    jobs.push({
      id: `project:${importer}`,
      name: typeof manifest.name === "string" ? manifest.name : importer,
      version: typeof manifest.version === "string" ? manifest.version : "",
      dir,
      scripts,
      events: PROJECT_LIFECYCLE,
      deps: [],
      binDirs: [
        ...new Set([path.join(dir, "node_modules", ".bin"), path.join(projectDir, "node_modules", ".bin")]),
      ],
      hint: "Fix the cause above, or install with --ignore-scripts to skip the project's own scripts.",
    });
  }
  return jobs;
}

/** Whether `scripts` has anything npm would run at install time. */
export function hasLifecycle(scripts: Record<string, string> | undefined): boolean {
  return !!scripts && LIFECYCLE.some((s) => typeof scripts[s] === "string" && scripts[s].length > 0);
}

/** Dependencies first; cycles are broken by order of appearance. */
export function dependencyOrder(jobs: ScriptJob[]): ScriptJob[] {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const done = new Set<string>(), visiting = new Set<string>(), order: ScriptJob[] = [];
  const visit = (job: ScriptJob) => {
    if (done.has(job.id) || visiting.has(job.id)) return;
    visiting.add(job.id);
    for (const dep of job.deps) {
      const d = byId.get(dep);
      if (d) visit(d);
    }
    visiting.delete(job.id);
    done.add(job.id);
    order.push(job);
  };
  jobs.forEach(visit);
  return order;
}

/** A script that exited non-zero. */
export class ScriptError extends Error {
  /** `output`: the script's last output, when it was not shown as it ran. */
  constructor(job: ScriptJob, event: string, code: number | null, output: string) {
    super(
      `${job.name}${job.version ? `@${job.version}` : ""}: ${event} script failed with exit code ${code}: ${
        job.scripts[event as "install"]
      }\n${output.trim() ? `${output.trim()}\n` : ""}` +
        (job.hint ??
          `Fix the cause above, or install without running this package's scripts (drop it from --allow-scripts).`),
    );
    this.name = "ScriptError";
  }
}

/** How {@linkcode runScripts} runs them. */
export interface RunScriptsOptions {
  /** Told before each script starts. */
  onStart?: (job: ScriptJob, event: string) => void;
  /** Added to every script's environment (see {@linkcode scriptUserAgent}). */
  env?: Record<string, string>;
  /**
   * Given the scripts' output as it comes (stdout and stderr), as npm and pnpm show the project's own
   * scripts. Without it the output is kept quiet, as npm does for dependencies, and shown if one fails.
   */
  onOutput?: (text: string) => void;
}

/** Run the jobs' scripts one after another, in dependency order; returns how many ran. */
export async function runScripts(jobs: ScriptJob[], options: RunScriptsOptions = {}): Promise<number> {
  let ran = 0;
  for (const job of dependencyOrder(jobs)) {
    for (const event of job.events ?? LIFECYCLE) {
      const script = job.scripts[event];
      if (!script) continue;
      options.onStart?.(job, event);
      await runOne(job, event, script, options);
      ran++;
    }
  }
  return ran;
}

/**
 * The `npm_config_user_agent` scripts see: the package manager whose lockfile silo installed from (with the
 * version the project pins, if it pins that manager), as npm and pnpm set it, and silo. Scripts ask it
 * which package manager runs them (`npx only-allow pnpm` in a pnpm project's `preinstall`); silo installs
 * exactly what that manager's lockfile says, so it answers with that manager.
 *
 * @example
 * ```ts
 * import { scriptUserAgent } from "./scripts.ts";
 * scriptUserAgent("pnpm-lock.yaml", { name: "pnpm", version: "10.33.4", major: 10 });
 * // "pnpm/10.33.4 node/v22.0.0 linux x64 silo"
 * ```
 */
export function scriptUserAgent(lockfile: string, pinned?: PinnedManager): string {
  const manager = managerOf(lockfile);
  const version = pinned?.name === manager ? pinned.version : "0.0.0";
  return `${manager}/${version} node/${process.version} ${process.platform} ${process.arch} silo`;
}

function runOne(job: ScriptJob, event: string, script: string, options: RunScriptsOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = {
      ...process.env,
      ...options.env,
      PATH: [...job.binDirs, process.env.PATH ?? ""].join(path.delimiter),
      npm_lifecycle_event: event,
      npm_package_name: job.name,
      npm_package_version: job.version,
      INIT_CWD: process.cwd(),
    };
    const child = spawn("sh", ["-c", script], { cwd: job.dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = () => {
      const decoder = new TextDecoder(); // one per stream: a character may be split between chunks
      return (chunk: Uint8Array) => {
        const text = decoder.decode(chunk, { stream: true });
        if (options.onOutput) options.onOutput(text);
        else output = (output + text).slice(-4000);
      };
    };
    child.stdout.on("data", collect());
    child.stderr.on("data", collect());
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new ScriptError(job, event, code, output))));
  });
}
