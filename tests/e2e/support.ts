/**
 * Helpers for the end-to-end tests: run the silo CLI as a child process, the way a user
 * does, from temp directories outside the repo, against a loopback registry.
 *
 * The command comes from `SILO_E2E_CMD` (split on spaces), e.g. `bun src/cli/main.ts`
 * or `dist/silo-bun`. Without it, the CLI runs from source under the runtime running the
 * tests: `deno run -A src/cli/main.ts` under `deno test`, `bun src/cli/main.ts` under
 * `bun test`.
 *
 * @module
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const REPO: string = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** The e2e fixtures folder. */
export const FIXTURES: string = path.join(REPO, "tests", "e2e", "fixtures");

/** Per-test time limit: a cold install of the big fixture spawns a runtime and links thousands of files. */
export const E2E_TIMEOUT = 180_000;

/** The command line that runs silo, as argv. */
export function siloCommand(): string[] {
  const configured = process.env.SILO_E2E_CMD?.trim();
  if (configured) {
    // Relative paths (dist/silo-bun) are relative to the repo, since tests run from elsewhere.
    const [first, ...rest] = configured.split(/\s+/);
    const resolved = first.includes("/") ? path.resolve(REPO, first) : first;
    return [resolved, ...rest.map((a) => (a.endsWith(".ts") ? path.resolve(REPO, a) : a))];
  }
  const main = path.join(REPO, "src", "cli", "main.ts");
  return process.versions.bun ? [process.execPath, main] : [process.execPath, "run", "-A", main];
}

/** The runtime the CLI under test should report in `store status`. */
export function expectedRuntime(): "deno" | "bun" {
  const env = process.env.SILO_E2E_RUNTIME;
  if (env === "deno" || env === "bun") return env;
  // The executable's own name (bun, silo-bun), not its folder: "/home/ubuntu" contains "bun" too.
  return /bun/.test(path.basename(siloCommand()[0])) ? "bun" : "deno";
}

/** What a CLI run produced. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `silo ...args` in `cwd`; never throws on a non-zero exit. */
export function silo(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<RunResult> {
  const [cmd, ...pre] = siloCommand();
  // Tests name their store with --store; an inherited SILO_STORE_DIR must not leak into them.
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  delete env.SILO_STORE_DIR;
  delete env.NODE_ENV; // production would leave devDependencies out (tests set it where they mean it)
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...pre, ...args], {
      cwd: options.cwd,
      env: { ...env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Run silo and parse its stdout as JSON; fails with both streams when it exits non-zero. */
export async function siloJson<T = Record<string, unknown>>(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<T> {
  const result = await silo([...args, "--json"], options);
  if (result.code !== 0) {
    throw new Error(
      `silo ${args.join(" ")} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  }
  return JSON.parse(result.stdout) as T;
}

/** A temp directory outside the repo, with a `store` path inside it; `cleanup` removes both. */
export function workspace(): { root: string; store: string; cleanup: () => void } {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "silo-e2e-")));
  return {
    root,
    store: path.join(root, "store"),
    cleanup: () => {
      // Store files are read-only; their folders are not, so rm works.
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Copy a project (package.json, lockfile, local deps) into `dest`. */
export function copyProject(from: string, dest: string): string {
  fs.cpSync(from, dest, { recursive: true, filter: (src) => !src.includes(`${path.sep}node_modules`) });
  return dest;
}

/**
 * The mirror that holds the big fixture's tarballs: `$SILO_E2E_MIRROR`, else bench/.mirror
 * (filled by `deno run -A scripts/mirror.ts --out bench/.mirror LOCKFILE`), or undefined.
 */
export function mirrorDir(): string {
  return process.env.SILO_E2E_MIRROR ?? path.join(REPO, "bench", ".mirror");
}

/**
 * The mirror with every registry tarball `lockfile` names: what is missing is fetched once
 * (scripts/mirror.ts, from the npm registry) so the test runs against a loopback registry.
 */
export async function ensureMirror(lockfile: string): Promise<string> {
  const dir = mirrorDir();
  if (fs.existsSync(dir) && missingTarballs(lockfile, dir).length === 0) return dir;
  const script = path.join(REPO, "scripts", "mirror.ts");
  const argv = process.versions.bun ? [process.execPath, script] : [process.execPath, "run", "-A", script];
  const child = spawn(argv[0], [...argv.slice(1), "--out", dir, lockfile], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const missing = missingTarballs(lockfile, dir);
  if (code !== 0 || missing.length) {
    throw new Error(
      `could not fill the mirror ${dir} (scripts/mirror.ts exited ${code}; missing e.g. ${missing[0]})`,
    );
  }
  return dir;
}

/** Registry tarballs of a package-lock.json missing from `mirror` (npm: aliases count as their real name). */
export function missingTarballs(lockfile: string, mirror: string): string[] {
  const lock = JSON.parse(fs.readFileSync(lockfile, "utf8")) as {
    packages: Record<string, { version?: string; link?: boolean; resolved?: string; name?: string }>;
  };
  const missing: string[] = [];
  for (const [key, entry] of Object.entries(lock.packages)) {
    const at = key.lastIndexOf("node_modules/");
    if (at === -1 || entry.link || !entry.version) continue;
    if (entry.resolved && !/^https?:/.test(entry.resolved)) continue;
    const name = entry.name ?? key.slice(at + "node_modules/".length);
    const file = path.join(mirror, name, "-", `${name.split("/").pop()}-${entry.version}.tgz`);
    if (!fs.existsSync(file)) missing.push(`${name}@${entry.version}`);
  }
  return missing;
}

/** Names of the folders directly in `dir` (scoped packages as `@scope/name`), sorted. */
export function packageDirs(dir: string): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(".")) continue;
    if (name.startsWith("@")) {
      for (const sub of fs.readdirSync(path.join(dir, name))) out.push(`${name}/${sub}`);
    } else out.push(name);
  }
  return out.sort();
}
