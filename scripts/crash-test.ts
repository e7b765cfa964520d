/**
 * Crash test: kill -9 a cold install at random moments, many times. After each kill the
 * store must verify clean (or `silo verify --repair` must make it clean), and a rerun must
 * produce a complete tree (`silo status` finds every file of every package, and the
 * package count matches an uninterrupted install).
 *
 * ```
 * deno run -A scripts/crash-test.ts [--kills 20] [--fixture mocha|svelte] [--seed N] [--json]
 * bun scripts/crash-test.ts --kills 5
 * ```
 *
 * Each round uses a fresh store and a fresh copy of the fixture, served by the loopback
 * registry from bench/.mirror (filled by scripts/mirror.ts). Kill moments are drawn from
 * a seeded generator over the length of one uninterrupted cold install, measured first.
 *
 * @module
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startRegistry } from "../tests/support/registry_server.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const MAIN = path.join(ROOT, "src/cli/main.ts");

/** Options for {@linkcode crashTest}. */
export interface CrashTestOptions {
  /** Kills to attempt. */
  kills: number;
  fixture: "mocha" | "svelte";
  /** Seed of the kill moments, for a reproducible run. */
  seed: number;
  /** Registry mirror (default bench/.mirror). */
  mirror?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** One round. */
export interface CrashRound {
  round: number;
  /** When the kill was sent, ms after start. */
  killAtMs: number;
  /** False when the install finished before the kill landed (not counted as a kill). */
  killed: boolean;
  /** Whether `silo verify` was clean right after the kill, before any repair. */
  cleanAfterKill: boolean;
  /** Whether --repair was needed and made it clean. */
  repaired: boolean;
  /** Whether the rerun produced a complete tree and a clean store. */
  survived: boolean;
  detail?: string;
}

/** The whole run. */
export interface CrashReport {
  fixture: string;
  seed: number;
  /** Length of one uninterrupted cold install (ms), the range kill moments are drawn from. */
  coldMs: number;
  packages: number;
  kills: number;
  survived: number;
  rounds: CrashRound[];
}

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function argvFor(args: string[]): [string, string[]] {
  const runtime = process.versions.bun ? [MAIN] : ["run", "-A", MAIN];
  return [process.execPath, [...runtime, ...args]];
}

function start(args: string[]): { kill: () => void; done: Promise<Run> } {
  const [cmd, argv] = argvFor(args);
  const child = spawn(cmd, argv, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stdout = "", stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return {
    kill: () => child.kill("SIGKILL"),
    done: new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    }),
  };
}

const silo = (args: string[]) => start(args).done;

/** mulberry32: a small seeded generator, so a failing run can be replayed with its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Check the tree: every registered package folder is complete, and the count is right. */
async function treeComplete(store: string, dir: string, packages: number): Promise<string | undefined> {
  const status = await silo(["--store", store, "status", "--dir", dir, "--json"]);
  let report: { packages: number; modified: unknown[]; unknown: string[] };
  try {
    report = JSON.parse(status.stdout);
  } catch {
    return `silo status failed: ${status.stderr.trim()}`;
  }
  if (status.code !== 0) return `silo status: ${JSON.stringify(report.modified).slice(0, 500)}`;
  if (report.packages !== packages) return `tree has ${report.packages} packages, expected ${packages}`;
  return undefined;
}

/**
 * Run the crash test.
 *
 * @example
 * ```ts ignore
 * const report = await crashTest({ kills: 5, fixture: "svelte", seed: 1 });
 * console.log(`${report.survived}/${report.kills} kills survived`);
 * ```
 */
export async function crashTest(options: CrashTestOptions): Promise<CrashReport> {
  const log = options.log ?? (() => {});
  const mirror = options.mirror ?? path.join(ROOT, "bench/.mirror");
  const fixture = path.resolve(ROOT, "../shared/fixtures", options.fixture);
  if (!fs.existsSync(mirror)) {
    throw new Error(`no registry mirror at ${mirror}: run scripts/mirror.ts first (see its header)`);
  }
  const server = await startRegistry({ dir: mirror, log: false });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "silo-crash-"));
  const rand = random(options.seed);
  try {
    const fresh = (name: string) => {
      const store = path.join(work, `${name}-store`), dir = path.join(work, `${name}-project`);
      fs.rmSync(store, { recursive: true, force: true });
      fs.rmSync(dir, { recursive: true, force: true });
      fs.cpSync(fixture, dir, { recursive: true });
      return {
        store,
        dir,
        // The peers run with --ignore-scripts too; the svelte fixture's own `prepare` needs files it lacks.
        install: [
          "install",
          "--ignore-scripts",
          "--store",
          store,
          "--dir",
          dir,
          "--registry",
          server.url,
          "--json",
        ],
      };
    };

    // One uninterrupted cold install: its length bounds the kill moments, its tree is the reference.
    const ref = fresh("reference");
    const t0 = performance.now();
    const cold = await silo(ref.install);
    const coldMs = performance.now() - t0;
    if (cold.code !== 0) throw new Error(`the reference install failed: ${cold.stderr}`);
    const packages = JSON.parse(cold.stdout).packages as number;
    log(`reference: ${options.fixture}, ${packages} packages, cold install ${Math.round(coldMs)} ms`);
    fs.rmSync(ref.store, { recursive: true, force: true });
    fs.rmSync(ref.dir, { recursive: true, force: true });

    const report: CrashReport = {
      fixture: options.fixture,
      seed: options.seed,
      coldMs,
      packages,
      kills: 0,
      survived: 0,
      rounds: [],
    };
    for (let round = 1; report.kills < options.kills; round++) {
      if (round > options.kills * 3) {
        throw new Error("installs keep finishing before the kill; is the fixture too small?");
      }
      const { store, dir, install } = fresh("round");
      const killAtMs = Math.round(coldMs * (0.02 + 0.9 * rand()));
      const run = start(install);
      const timer = setTimeout(run.kill, killAtMs);
      const result = await run.done;
      clearTimeout(timer);
      const killed = result.signal === "SIGKILL";
      const r: CrashRound = {
        round,
        killAtMs,
        killed,
        cleanAfterKill: false,
        repaired: false,
        survived: false,
      };
      report.rounds.push(r);
      if (!killed) {
        log(
          `round ${round}: the install finished (exit ${result.code}) before the kill at ${killAtMs} ms; not counted`,
        );
        continue;
      }
      report.kills++;
      const verify = await silo(["--store", store, "verify"]);
      r.cleanAfterKill = verify.code === 0;
      if (!r.cleanAfterKill) {
        const repair = await silo(["--store", store, "verify", "--repair"]);
        const again = await silo(["--store", store, "verify"]);
        r.repaired = repair.code === 0 && again.code === 0;
        if (!r.repaired) {
          r.detail = `verify --repair left the store bad: ${again.stdout.slice(0, 500)}`;
          log(`round ${round}: killed at ${killAtMs} ms: FAILED: ${r.detail}`);
          continue;
        }
      }
      const rerun = await silo(install);
      const verifyAfter = await silo(["--store", store, "verify"]);
      r.detail = rerun.code !== 0
        ? `the rerun failed: ${rerun.stderr.trim().slice(0, 500)}`
        : verifyAfter.code !== 0
        ? `verify after the rerun: ${verifyAfter.stdout.slice(0, 500)}`
        : await treeComplete(store, dir, packages);
      r.survived = r.detail === undefined;
      if (r.survived) report.survived++;
      log(
        `round ${round}: killed at ${killAtMs} ms; verify ${
          r.cleanAfterKill ? "clean" : r.repaired ? "clean after --repair" : "bad"
        }; ` +
          `rerun ${r.survived ? "complete" : `FAILED: ${r.detail}`}`,
      );
    }
    return report;
  } finally {
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      kills: { type: "string", default: "20" },
      fixture: { type: "string", default: "mocha" },
      seed: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const fixture = values.fixture as CrashTestOptions["fixture"];
  if (fixture !== "mocha" && fixture !== "svelte") {
    throw new Error(`--fixture must be mocha or svelte, not ${fixture}`);
  }
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
  const report = await crashTest({
    kills: Number(values.kills),
    fixture,
    seed,
    log: values.json ? undefined : (line) => console.log(line),
  });
  if (values.json) console.log(JSON.stringify(report, null, 2));
  console.log(`${report.survived}/${report.kills} kills survived (fixture ${fixture}, seed ${seed})`);
  process.exitCode = report.survived === report.kills ? 0 : 1;
}
