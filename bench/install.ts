/**
 * Whole-process install benchmark: silo (on Deno, on Bun, and as the single binary that
 * `deno task compile:bun` builds) against `npm ci`, `pnpm install --frozen-lockfile` and
 * `bun install --frozen-lockfile`, all with `--ignore-scripts`, plus two floors of a hot install: `cp -al`
 * of the finished tree, and bench/link_floor.c replaying the system calls silo's install cannot avoid.
 *
 * ```
 * deno task bench:install [--runs N] [--fixture mocha|svelte] [--scenario hot|cold|noop] [--quick]
 * ```
 *
 * Scenarios (DESIGN.md, Performance):
 * - cold: every tool's store/cache emptied and node_modules removed before each run; tarballs
 *   come from a loopback registry serving bench/.mirror (filled by scripts/mirror.ts if missing);
 * - hot: store/cache warm from an earlier run of the same tool, node_modules removed;
 * - noop: node_modules left as the same tool's previous run wrote it.
 *
 * Every tool gets its own copy of the fixture and its own cache under one temp folder, and
 * is pointed at the loopback registry (flags, .npmrc, bunfig.toml). Runs of the tools are
 * interleaved (run 1 of every tool, then run 2, ...) so a noisy machine hurts them alike.
 * Wall time is measured around the whole process, peak RSS with GNU time (`%M`: the largest
 * resident set of the process and any child it waited for), else by polling /proc.
 * Results are printed as a markdown table of medians and ratios; nothing here asserts a time.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import { toolsPath } from "../scripts/tools_path.ts";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type RegistryServer, startRegistry } from "../tests/support/registry_server.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const MIRROR = path.join(ROOT, "bench", ".mirror");
const CLI = path.join(ROOT, "src", "cli", "main.ts");
const LINK_FLOOR_C = path.join(ROOT, "bench", "link_floor.c");
const LINK_FLOOR = "link floor (C)";
const FLOORS = ["cp -al", LINK_FLOOR];

type Scenario = "cold" | "hot" | "noop";
const SCENARIOS: Scenario[] = ["cold", "hot", "noop"];

interface Fixture {
  name: string;
  dir: string;
  lockfile: "package-lock.json" | "pnpm-lock.yaml";
}

/** One process we time: how to prepare its project, how to run it, and what to empty for "cold". */
interface Tool {
  id: string;
  /** A peer (npm, pnpm, bun) as opposed to silo itself or the floor. */
  peer: boolean;
  /** Only timed in these scenarios. */
  scenarios: Scenario[];
  project: string;
  caches: string[];
  argv: string[];
  env: Record<string, string>;
  /** A check of the run's output (silo --json: the scenario really was what it claims). */
  check?: (scenario: Scenario, stdout: string) => string | undefined;
  cacheWarm: boolean;
  installed: boolean;
}

interface Measurement {
  ms: number;
  rssKiB?: number;
}

interface RunResult extends Measurement {
  code: number | null;
  stdout: string;
  stderr: string;
}

const log = (message: string) => console.error(message);

function which(cmd: string, envPath: string): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function version(cmd: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, ["--version"], { env, encoding: "utf8" });
  return (r.stdout ?? "").trim().split("\n")[0] || "?";
}

function rmrf(p: string): void {
  // rm(1) is much faster than a JS recursive delete on trees of 10,000+ files.
  spawnSync("rm", ["-rf", p]);
}

/** node_modules folders of a project: the root's and every workspace package's (not nested ones). */
function nodeModulesDirs(project: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const p = path.join(dir, entry.name);
      if (entry.name === "node_modules") out.push(p);
      else if (depth < 3 && !entry.name.startsWith(".")) walk(p, depth + 1);
    }
  };
  walk(project, 0);
  return out;
}

function removeNodeModules(project: string): void {
  for (const dir of nodeModulesDirs(project)) rmrf(dir);
}

/**
 * The list bench/link_floor.c replays (its header has the format): every folder, store file and symlink of
 * the node_modules folders of `project`, whose files are hard links into `storeFiles`. Files that are no
 * store links (the package managers' own state files) are left out.
 */
function writeLinkFloorList(project: string, storeFiles: string, listFile: string): number {
  const stored = new Map<number, string>();
  for (const shard of fs.readdirSync(storeFiles)) {
    for (const name of fs.readdirSync(path.join(storeFiles, shard))) {
      stored.set(fs.lstatSync(path.join(storeFiles, shard, name)).ino, `${shard}/${name}`);
    }
  }
  const lines: string[] = [];
  const walk = (dir: string) => {
    lines.push(`D\t${path.relative(project, dir)}`);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isSymbolicLink()) lines.push(`S\t${fs.readlinkSync(p)}\t${path.relative(project, p)}`);
      else {
        const from = stored.get(fs.lstatSync(p).ino);
        if (from) lines.push(`F\t${from}\t${path.relative(project, p)}`);
      }
    }
  };
  for (const dir of nodeModulesDirs(project)) walk(dir);
  fs.writeFileSync(listFile, lines.join("\n") + "\n");
  return lines.length;
}

/** Copy the fixture (read-only on disk) into a writable project folder. */
function copyFixture(fixture: Fixture, dest: string, registry: string): void {
  rmrf(dest);
  fs.cpSync(fixture.dir, dest, { recursive: true });
  spawnSync("chmod", ["-R", "u+w", dest]);
  const pkgFile = path.join(dest, "package.json");
  const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
  if (pkg.packageManager) {
    // It pins another pnpm; pnpm would try to switch to it (a download).
    delete pkg.packageManager;
    fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2) + "\n");
  }
  fs.writeFileSync(path.join(dest, ".npmrc"), `registry=${registry}\n`);
  fs.writeFileSync(path.join(dest, "bunfig.toml"), `[install]\nregistry = "${registry}"\n`);
}

const hasGnuTime = fs.existsSync("/usr/bin/time");

/** Peak RSS (KiB) of a process tree by polling /proc: the fallback when GNU time is missing. */
function pollRss(pid: number): { stop: () => number | undefined } {
  let peak: number | undefined;
  const tree = (): number[] => {
    const children = new Map<number, number[]>();
    for (const name of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
      } catch {
        // gone
      }
    }
    const out = [pid];
    for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
    return out;
  };
  const sample = () => {
    let sum = 0;
    for (const p of tree()) {
      try {
        const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, "utf8"));
        if (m) sum += Number(m[1]);
      } catch {
        // gone
      }
    }
    if (sum > 0) peak = Math.max(peak ?? 0, sum);
  };
  const timer = setInterval(sample, 25);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

/** Run one process to completion; wall time around the whole process, peak RSS. */
function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 900_000): Promise<RunResult> {
  const rssFile = path.join(
    os.tmpdir(),
    `silo-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`,
  );
  const full = hasGnuTime ? ["/usr/bin/time", "-f", "%M", "-o", rssFile, ...argv] : argv;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(full[0], full.slice(1), { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const poller = hasGnuTime || child.pid === undefined ? undefined : pollRss(child.pid);
    let stdout = "";
    let stderr = "";
    // Keep the head (silo --json) and tail (errors) of chatty outputs.
    child.stdout!.on("data", (d) => void (stdout.length < 1_000_000 && (stdout += d)));
    child.stderr!.on("data", (d) => void (stderr = (stderr + d).slice(-20_000)));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      let rssKiB = poller?.stop();
      if (hasGnuTime) {
        try {
          const text = fs.readFileSync(rssFile, "utf8").trim().split("\n");
          rssKiB = Number(text[text.length - 1]) || undefined;
        } catch {
          // time(1) did not write it
        }
        fs.rmSync(rssFile, { force: true });
      }
      resolve({ ms, rssKiB, code, stdout, stderr });
    });
  });
}

/** The commit silo runs from, and whether src/ differs from it. */
function siloRevision(): string {
  const head = spawnSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout
    ?.trim();
  const dirty = spawnSync("git", ["-C", ROOT, "status", "--porcelain", "--", "src"], { encoding: "utf8" })
    .stdout?.trim();
  return `${head || "?"}${dirty ? " (+ uncommitted changes in src/)" : ""}`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const fmtRatio = (r: number) => `${r.toFixed(2)}×`;

/** silo --json must say the scenario happened: all from the store when hot, nothing stored when cold. */
function checkSilo(scenario: Scenario, stdout: string): string | undefined {
  let s: { upToDate: boolean; packages: number; fromStore: number; downloaded: number };
  try {
    s = JSON.parse(stdout.slice(stdout.indexOf("{")));
  } catch {
    return "no JSON summary";
  }
  if (scenario === "noop" && !s.upToDate) return "no-op run was not up to date";
  // fromStore counts store hits per placement; it may exceed `packages` (platform-skipped ones).
  if (scenario === "hot" && (s.upToDate || s.downloaded !== 0 || s.fromStore === 0)) {
    return `hot run: upToDate=${s.upToDate} downloaded=${s.downloaded} fromStore=${s.fromStore}/${s.packages}`;
  }
  if (scenario === "cold" && (s.upToDate || s.fromStore !== 0)) {
    return `cold run: upToDate=${s.upToDate} fromStore=${s.fromStore}`;
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: "string" },
      fixture: { type: "string", multiple: true },
      scenario: { type: "string", multiple: true },
      tool: { type: "string", multiple: true },
      quick: { type: "boolean", default: false },
      fixtures: { type: "string", default: path.resolve(ROOT, "..", "shared", "fixtures") },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: bench/install.ts [--runs N] [--fixture mocha|svelte]... [--scenario cold|hot|noop]... " +
        "[--tool ID]... [--quick (1 run)] [--fixtures DIR] [--keep (keep the temp folder)]",
    );
    return 0;
  }
  const runs = values.runs ? Number(values.runs) : values.quick ? 1 : 3;
  if (!(runs >= 1)) throw new Error("--runs must be a positive number");
  const scenarios = (values.scenario?.flatMap((s) => s.split(",")) ?? SCENARIOS).map((s) =>
    s === "no-op" ? "noop" : s
  ) as Scenario[];
  for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario "${s}"`);
  const allFixtures: Fixture[] = [
    { name: "mocha", dir: path.join(values.fixtures, "mocha"), lockfile: "package-lock.json" },
    { name: "svelte", dir: path.join(values.fixtures, "svelte"), lockfile: "pnpm-lock.yaml" },
  ];
  const wanted = values.fixture?.flatMap((f) => f.split(","));
  const fixtures = allFixtures.filter((f) => !wanted || wanted.includes(f.name));
  if (fixtures.length === 0) throw new Error(`no fixture matches ${wanted}`);

  // The pinned peers first on PATH (see scripts/tools_path.ts).
  const envPath = toolsPath();
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: envPath,
    // No update checks or telemetry: the timed runs talk to the loopback registry only.
    DENO_NO_UPDATE_CHECK: "1",
    npm_config_update_notifier: "false",
    pnpm_config_update_notifier: "false",
    DO_NOT_TRACK: "1",
    NO_COLOR: "1",
  };
  const bin = (name: string) => {
    const p = which(name, envPath);
    if (!p) throw new Error(`${name} is not on PATH (${envPath})`);
    return p;
  };
  const deno = bin("deno");
  const bunBin = bin("bun");
  const npm = bin("npm");
  const pnpm = bin("pnpm");

  // The mirror: filled from the public registry only when something is missing (idempotent).
  {
    log(`checking ${MIRROR} (scripts/mirror.ts)...`);
    const lockfiles = allFixtures.map((f) => path.join(f.dir, f.lockfile));
    const mirror = spawnSync(deno, [
      "run",
      "-A",
      path.join(ROOT, "scripts", "mirror.ts"),
      "--out",
      MIRROR,
      ...lockfiles,
    ], {
      env: baseEnv,
      stdio: ["ignore", 2, 2], // its progress goes to stderr: stdout is the table
    });
    if (mirror.status !== 0) throw new Error("scripts/mirror.ts failed; the mirror is incomplete");
  }

  const registry: RegistryServer = await startRegistry({ dir: MIRROR, log: false });
  const reg = registry.url;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "silo-bench-"));
  log(`registry ${reg}, work folder ${work}`);

  // The single binary users download: built once per bench run, run from outside the repo.
  let siloBinary: string | undefined;
  if (!values.tool || values.tool.includes("silo (binary)")) {
    log("building the single binary (deno task compile:bun)...");
    const built = spawnSync(deno, ["task", "compile:bun"], {
      cwd: ROOT,
      env: baseEnv,
      stdio: ["ignore", 2, 2],
    });
    if (built.status !== 0) throw new Error("deno task compile:bun failed");
    siloBinary = path.join(work, "silo");
    fs.copyFileSync(path.join(ROOT, "dist", "silo-bun"), siloBinary);
    fs.chmodSync(siloBinary, 0o755);
  }

  // The C floor, built with the system's C compiler (the kernel work alone, no runtime), on every core.
  const floorThreads = os.availableParallelism?.() ?? os.cpus().length;
  let linkFloor: string | undefined;
  if (!values.tool || values.tool.includes(LINK_FLOOR)) {
    linkFloor = path.join(work, "link_floor");
    const cc = spawnSync(process.env.CC || "cc", ["-O2", "-pthread", "-o", linkFloor, LINK_FLOOR_C], {
      stdio: ["ignore", 2, 2],
    });
    if (cc.status !== 0) {
      throw new Error(
        `building ${LINK_FLOOR_C} failed: install a C compiler (cc, or set CC), or name the tools to time with --tool`,
      );
    }
  }

  const loadStart = os.loadavg()[0];
  const revStart = siloRevision();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "?",
    memGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    fs:
      spawnSync("findmnt", ["-n", "-o", "FSTYPE,SOURCE", "-T", work], { encoding: "utf8" }).stdout?.trim() ||
      spawnSync("stat", ["-f", "-c", "%T", work], { encoding: "utf8" }).stdout.trim(),
    kernel: os.release(),
  };
  const versions = {
    deno: version(deno, baseEnv),
    bun: version(bunBin, baseEnv),
    npm: version(npm, baseEnv),
    pnpm: version(pnpm, baseEnv),
    node: version(bin("node"), baseEnv),
  };

  type Key = `${string}|${Scenario}|${string}`;
  const results = new Map<Key, Measurement[]>();
  const failures: string[] = [];
  const commands = new Map<string, string>();
  const notes: string[] = [];

  try {
    for (const fixture of fixtures) {
      const base = path.join(work, fixture.name);
      fs.mkdirSync(base, { recursive: true });
      const tools: Tool[] = [];
      const add = (t: Omit<Tool, "cacheWarm" | "installed" | "project"> & { project?: string }) => {
        const project = t.project ?? path.join(base, t.id.replace(/[^a-z0-9]+/gi, "-"));
        if (!FLOORS.includes(t.id)) copyFixture(fixture, project, reg);
        tools.push({ ...t, project, cacheWarm: false, installed: false });
      };
      const siloArgs = (store: string) => [
        CLI,
        "--store",
        store,
        "install",
        "--ignore-scripts",
        "--registry",
        reg,
        "--json",
      ];
      const siloDenoStore = path.join(base, "cache", "silo-deno");
      add({
        id: "silo (deno)",
        peer: false,
        scenarios: SCENARIOS,
        caches: [siloDenoStore],
        argv: [deno, "run", "-A", ...siloArgs(siloDenoStore)],
        env: {},
        check: checkSilo,
      });
      const siloBunStore = path.join(base, "cache", "silo-bun");
      add({
        id: "silo (bun)",
        peer: false,
        scenarios: SCENARIOS,
        caches: [siloBunStore],
        argv: [bunBin, ...siloArgs(siloBunStore)],
        env: {},
        check: checkSilo,
      });
      if (siloBinary) {
        const store = path.join(base, "cache", "silo-binary");
        add({
          id: "silo (binary)",
          peer: false,
          scenarios: SCENARIOS,
          caches: [store],
          argv: [siloBinary, ...siloArgs(store).slice(1)],
          env: {},
          check: checkSilo,
        });
        // The safety check's price, measured as DESIGN.md asks: one stat per store file before linking.
        add({
          id: "silo (binary, --no-verify-store-integrity)",
          peer: false,
          scenarios: ["hot"],
          caches: [store],
          argv: [siloBinary, ...siloArgs(store).slice(1), "--no-verify-store-integrity"],
          env: {},
          check: checkSilo,
        });
      }
      if (fixture.lockfile === "package-lock.json") {
        const cache = path.join(base, "cache", "npm");
        add({
          id: "npm ci",
          peer: true,
          scenarios: SCENARIOS,
          caches: [cache],
          argv: [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--registry", reg],
          env: { npm_config_cache: cache },
        });
      }
      if (fixture.lockfile === "pnpm-lock.yaml") {
        const store = path.join(base, "cache", "pnpm-store");
        const cache = path.join(base, "cache", "pnpm-cache");
        add({
          id: "pnpm",
          peer: true,
          scenarios: SCENARIOS,
          caches: [store, cache],
          argv: [
            pnpm,
            "install",
            "--frozen-lockfile",
            "--ignore-scripts",
            "--registry",
            reg,
            "--store-dir",
            store,
            "--cache-dir",
            cache,
          ],
          env: {},
        });
      }
      {
        const cache = path.join(base, "cache", "bun");
        add({
          id: "bun",
          peer: true,
          scenarios: SCENARIOS,
          caches: [cache],
          argv: [bunBin, "install", "--frozen-lockfile", "--ignore-scripts"],
          env: { BUN_INSTALL_CACHE_DIR: cache },
        });
      }
      const floorSrc = path.join(base, "floor-src");
      const floorDst = path.join(base, "floor-dst");
      add({
        id: "cp -al",
        peer: false,
        scenarios: ["hot"],
        project: base,
        caches: [],
        argv: ["cp", "-al", floorSrc, floorDst],
        env: {},
      });
      const linkFloorList = path.join(base, "link-floor.list");
      const linkFloorDst = path.join(base, "link-floor-dst");
      if (linkFloor) {
        add({
          id: LINK_FLOOR,
          peer: false,
          scenarios: ["hot"],
          project: base,
          caches: [],
          argv: [
            linkFloor,
            String(floorThreads),
            path.join(siloDenoStore, "v1", "files"),
            linkFloorList,
            linkFloorDst,
          ],
          env: {},
        });
      }
      const active = tools.filter((t) => !values.tool || values.tool.includes(t.id));
      for (const t of active) {
        const shown = t.argv.map((
          a,
        ) => (a === reg ? "$REGISTRY" : a.startsWith(work) ? a.replace(work, "$TMP") : a));
        const env = Object.entries(t.env).map(([k, v]) => `${k}=${v.replace(work, "$TMP")} `).join("");
        commands.set(t.id + (commands.has(t.id) ? ` (${fixture.name})` : ""), env + shown.join(" "));
      }

      // An untimed install, for a scenario that needs a warm cache or a finished tree first.
      const installUntimed = async (t: Tool, why: string) => {
        log(`  [${fixture.name}] ${t.id}: untimed install (${why})`);
        const r = await run(t.argv, t.project, { ...baseEnv, ...t.env });
        if (r.code !== 0) {
          throw new Error(`${t.id} on ${fixture.name} failed (${r.code}):\n${r.stderr.slice(-3000)}`);
        }
        t.cacheWarm = t.installed = true;
      };
      const silo = active.find((t) => t.id === "silo (deno)");
      // The floors start from silo's finished tree (on Deno: its store is the one the link floor names).
      const finishedTree = async (why: string) => {
        const from = silo ?? tools[0];
        if (!from.installed) await installUntimed(from, why);
        return from;
      };
      const floorReady = async () => {
        if (fs.existsSync(floorSrc)) return;
        // The floor copies silo's finished tree: every node_modules folder, hardlinked, in place.
        const from = await finishedTree("tree for the cp -al floor");
        for (const dir of nodeModulesDirs(from.project)) {
          const dest = path.join(floorSrc, path.relative(from.project, dir));
          fs.mkdirSync(path.dirname(dest), { recursive: true });
          spawnSync("cp", ["-al", dir, dest]);
        }
      };

      // Warm-up: the first spawn of each runtime pays for loading it from disk; do that untimed.
      for (const t of active.filter((t) => t.peer || t.id.startsWith("silo"))) {
        spawnSync(t.argv[0], t.argv[0] === deno ? ["eval", "0"] : ["--version"], { env: baseEnv });
      }

      for (const scenario of scenarios) {
        for (let i = 0; i < runs; i++) {
          for (const t of active) {
            if (!t.scenarios.includes(scenario)) continue;
            // Prepare, outside the timed region.
            if (t.id === "cp -al") {
              await floorReady();
              rmrf(floorDst);
            } else if (t.id === LINK_FLOOR) {
              if (!fs.existsSync(linkFloorList)) {
                const from = await finishedTree("tree for the link floor");
                const n = writeLinkFloorList(
                  from.project,
                  path.join(from.caches[0], "v1", "files"),
                  linkFloorList,
                );
                log(`  [${fixture.name}] ${LINK_FLOOR}: ${n} calls to replay on ${floorThreads} threads`);
              }
              rmrf(linkFloorDst);
            } else if (scenario === "cold") {
              for (const c of t.caches) rmrf(c);
              removeNodeModules(t.project);
              t.cacheWarm = t.installed = false;
            } else if (scenario === "hot") {
              if (!t.cacheWarm) await installUntimed(t, "warm the cache");
              removeNodeModules(t.project);
              t.installed = false;
            } else if (!t.installed) {
              await installUntimed(t, "a finished tree");
            }
            spawnSync("sync");
            const r = await run(t.argv, t.project, { ...baseEnv, ...t.env });
            const tag = `[${fixture.name}] ${scenario} ${i + 1}/${runs} ${t.id}`;
            if (r.code !== 0) {
              failures.push(`${tag}: exit ${r.code}\n${r.stderr.slice(-2000)}`);
              log(`  ${tag}: FAILED (exit ${r.code})`);
              t.cacheWarm = t.installed = false;
              continue;
            }
            const bad = t.check?.(scenario, r.stdout);
            if (bad) failures.push(`${tag}: ${bad}`);
            t.cacheWarm = t.installed = true;
            const key: Key = `${fixture.name}|${scenario}|${t.id}`;
            results.set(key, [...(results.get(key) ?? []), { ms: r.ms, rssKiB: r.rssKiB }]);
            log(
              `  ${tag}: ${fmtMs(r.ms)}${r.rssKiB ? `, ${(r.rssKiB / 1024).toFixed(0)} MiB` : ""}${
                bad ? ` (CHECK FAILED: ${bad})` : ""
              }`,
            );
          }
        }
      }
      if (active.some((t) => t.id === "bun")) {
        const proj = tools.find((t) => t.id === "bun")!.project;
        const made = ["bun.lock", "bun.lockb"].filter((f) => fs.existsSync(path.join(proj, f)));
        notes.push(
          made.length
            ? `bun wrote ${made.join(", ")} into its copy of ${fixture.name}`
            : `bun read ${fixture.lockfile} of ${fixture.name} directly (migrated in memory; no bun.lock written or needed)`,
        );
      }
    }
  } catch (error) {
    if (!values.keep) rmrf(work);
    throw error;
  } finally {
    await registry.close();
  }

  // The table.
  const lines: string[] = [];
  lines.push(`## silo install benchmark (${new Date().toISOString()})`, "");
  lines.push(
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memGiB} GiB RAM, work folder on ${machine.fs}, ` +
      `Linux ${machine.kernel}. Runs per cell: ${runs} (median shown, interleaved across tools). ` +
      `Load average (1 min) at start ${loadStart.toFixed(1)}, at end ${os.loadavg()[0].toFixed(1)}: ` +
      "other work on the machine shows up as spread between runs.",
    `silo: ${revStart}${
      siloRevision() === revStart ? "" : ` at start, ${siloRevision()} at end (src/ changed during the run)`
    }.`,
  );
  lines.push(
    `Versions: deno ${
      versions.deno.replace(/^deno (\S+).*/, "$1")
    }, bun ${versions.bun}, npm ${versions.npm}, ` +
      `pnpm ${versions.pnpm}, node ${versions.node}. Registry: loopback (tests/support/registry_server.ts over bench/.mirror).`,
    "",
  );
  lines.push(
    "| fixture | scenario | tool | median | runs | peak RSS | × fastest peer | × silo (deno) |",
    "|---|---|---|---:|---|---:|---:|---:|",
  );
  for (const fixture of fixtures) {
    for (const scenario of SCENARIOS.filter((s) => scenarios.includes(s))) {
      const rows = [...results].filter(([k]) => k.startsWith(`${fixture.name}|${scenario}|`)).map((
        [k, ms],
      ) => ({
        tool: k.split("|")[2],
        med: median(ms.map((m) => m.ms)),
        all: ms.map((m) => m.ms),
        rss: Math.max(...ms.map((m) => m.rssKiB ?? 0)),
      }));
      if (rows.length === 0) continue;
      const peers = rows.filter((r) => ["npm ci", "pnpm", "bun"].includes(r.tool));
      const fastest = peers.length ? Math.min(...peers.map((r) => r.med)) : undefined;
      const fastestName = peers.find((r) => r.med === fastest)?.tool;
      const silo = rows.find((r) => r.tool === "silo (deno)")?.med;
      for (const r of rows) {
        const tool = r.tool === "cp -al"
          ? "cp -al (floor)"
          : r.tool === LINK_FLOOR
          ? `link floor (C, ${floorThreads} threads)`
          : r.tool === "npm ci" && scenario === "noop"
          ? "npm ci (always wipes)"
          : r.tool;
        lines.push(
          `| ${fixture.name} | ${scenario} | ${tool} | ${fmtMs(r.med)} | ${r.all.map(fmtMs).join(", ")} | ${
            r.rss ? `${(r.rss / 1024).toFixed(0)} MiB` : "n/a"
          } | ${
            fastest ? fmtRatio(r.med / fastest) + (r.med === fastest ? ` (${fastestName})` : "") : "–"
          } | ${silo ? fmtRatio(r.med / silo) : "–"} |`,
        );
      }
    }
  }
  lines.push("", "Commands (run in each tool's own copy of the fixture; $TMP is a fresh temp folder):", "");
  for (const [id, cmd] of commands) lines.push(`- ${id}: \`${cmd}\``);
  lines.push(
    "",
    "Every copy also has `.npmrc` and `bunfig.toml` pointing at $REGISTRY; a `packageManager` field is removed.",
    "cold: the tool's caches above are deleted and node_modules removed before each run; hot: node_modules removed, " +
      "caches kept; noop: node_modules as the tool's previous run left it. `cp -al` copies silo's finished tree " +
      "(every node_modules folder) as the floor of a hardlinked restore; the link floor (bench/link_floor.c) " +
      "replays only the calls silo's default hot install must make for that tree (mkdir, statx of each store " +
      "file, link, symlink) on every core, with no runtime around them. Peak RSS: GNU time %M (largest process " +
      "of the tree), else summed /proc VmRSS samples.",
  );
  for (const n of notes) lines.push(`- ${n}`);
  if (failures.length) {
    lines.push("", "Failures:", "");
    for (const f of failures) lines.push("```", f, "```");
  }
  console.log(lines.join("\n"));
  if (!values.keep) rmrf(work);
  else log(`kept ${work}`);
  return failures.length ? 1 : 0;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
