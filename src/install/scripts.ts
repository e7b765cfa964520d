/**
 * Lifecycle scripts of dependencies. None run unless allowed (--allow-scripts, or the
 * project's trustedDependencies / onlyBuiltDependencies / allowBuilds); allowed ones
 * run preinstall, install, postinstall in dependency order (dependencies first).
 *
 * @module
 */
import { spawn } from "node:child_process";
import path from "node:path";
import process from "node:process";

/** The install-time scripts npm runs for a dependency, in order. */
export const LIFECYCLE = ["preinstall", "install", "postinstall"] as const;

/** One package whose scripts may run. */
export interface ScriptJob {
  id: string;
  name: string;
  version: string;
  /** Absolute package folder. */
  dir: string;
  scripts: Partial<Record<(typeof LIFECYCLE)[number], string>>;
  /** Ids of its dependencies (for ordering). */
  deps: string[];
  /** .bin folders to put on PATH, nearest first. */
  binDirs: string[];
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
  constructor(job: ScriptJob, event: string, code: number | null, output: string) {
    super(
      `${job.name}@${job.version}: ${event} script failed with exit code ${code}: ${
        job.scripts[event as "install"]
      }\n${output.trim()}\n` +
        `Fix the cause above, or install without running this package's scripts (drop it from --allow-scripts).`,
    );
    this.name = "ScriptError";
  }
}

/** Run the jobs' scripts one after another, in dependency order. */
export async function runScripts(
  jobs: ScriptJob[],
  onStart?: (job: ScriptJob, event: string) => void,
): Promise<number> {
  let ran = 0;
  for (const job of dependencyOrder(jobs)) {
    for (const event of LIFECYCLE) {
      const script = job.scripts[event];
      if (!script) continue;
      onStart?.(job, event);
      await runOne(job, event, script);
      ran++;
    }
  }
  return ran;
}

function runOne(job: ScriptJob, event: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = {
      ...process.env,
      PATH: [...job.binDirs, process.env.PATH ?? ""].join(path.delimiter),
      npm_lifecycle_event: event,
      npm_package_name: job.name,
      npm_package_version: job.version,
      INIT_CWD: process.cwd(),
    };
    const child = spawn("sh", ["-c", script], { cwd: job.dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Uint8Array) => {
      output = (output + new TextDecoder().decode(chunk)).slice(-4000);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new ScriptError(job, event, code, output))));
  });
}
