/**
 * Fill a local registry mirror from lockfiles, for benchmarks against the loopback registry
 * (tests/support/registry_server.ts serves this layout).
 *
 * ```
 * deno run -A scripts/mirror.ts --out bench/.mirror \
 *   ../shared/fixtures/mocha/package-lock.json ../shared/fixtures/svelte/pnpm-lock.yaml
 * ```
 *
 * Layout: `OUT/<name>/packument.json` (the full packument, as the registry served it) and
 * `OUT/<name>/-/<basename>-<version>.tgz`. Idempotent: files already there are skipped
 * (`--verify` re-checks their integrity). Every tarball is checked against the lockfile's
 * SRI integrity before it is published (written to a temp file, then renamed).
 *
 * Lockfiles are parsed minimally here on purpose: this script must not depend on the
 * installer's parsers it is used to benchmark.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { downloadWithRetry } from "../src/fetch/download.ts";
import { resolveNpmConfig } from "../src/fetch/npmrc.ts";
import { RegistryClient } from "../src/fetch/registry.ts";
import { Semaphore } from "../src/fetch/semaphore.ts";

/** One registry tarball a lockfile names. */
export interface LockedTarball {
  name: string;
  version: string;
  integrity?: string;
  /** The lockfile's URL, when it recorded one. */
  resolved?: string;
}

/**
 * The registry tarballs in a package-lock.json (v2/v3): every `packages` entry under
 * node_modules that is not a link, bundled, or a non-registry source.
 *
 * @example
 * ```ts
 * packageLockTarballs(JSON.parse(await readFile("package-lock.json", "utf8")));
 * ```
 */
export function packageLockTarballs(
  lock: { lockfileVersion?: number; packages?: Record<string, Record<string, unknown>> },
): LockedTarball[] {
  if (!lock.packages) {
    throw new Error(`package-lock.json v${lock.lockfileVersion ?? "?"} has no "packages" map; need v2 or v3`);
  }
  const out: LockedTarball[] = [];
  for (const [key, entry] of Object.entries(lock.packages)) {
    const at = key.lastIndexOf("node_modules/");
    if (at === -1 || entry.link || entry.inBundle || typeof entry.version !== "string") continue;
    const resolved = typeof entry.resolved === "string" ? entry.resolved : undefined;
    if (resolved && !/^https?:\/\//.test(resolved)) continue; // file:, git+...: not a registry package
    const name = typeof entry.name === "string" ? entry.name : key.slice(at + "node_modules/".length);
    out.push({ name, version: entry.version, integrity: entry.integrity as string | undefined, resolved });
  }
  return out;
}

/**
 * The registry tarballs in a pnpm-lock.yaml (v9): `packages` keys are `name@version`, and a
 * resolution without `type` (directory, git) is a registry or tarball resolution.
 *
 * @example
 * ```ts
 * pnpmLockTarballs(parseYaml(await readFile("pnpm-lock.yaml", "utf8")));
 * ```
 */
export function pnpmLockTarballs(
  lock: { lockfileVersion?: string; packages?: Record<string, { resolution?: Record<string, string> }> },
): LockedTarball[] {
  if (!String(lock.lockfileVersion ?? "").startsWith("9")) {
    throw new Error(`pnpm-lock.yaml lockfileVersion ${lock.lockfileVersion} is not supported; need 9.x`);
  }
  const out: LockedTarball[] = [];
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    const at = key.indexOf("@", 1); // skip a scope's leading "@"
    const resolution = entry.resolution ?? {};
    if (at === -1 || resolution.type) continue;
    const name = key.slice(0, at);
    const version = key.slice(at + 1);
    if (resolution.tarball && !/^https?:\/\//.test(resolution.tarball)) continue;
    if (!resolution.tarball && !/^\d/.test(version)) continue; // link:, file: and the like
    out.push({ name, version, integrity: resolution.integrity, resolved: resolution.tarball });
  }
  return out;
}

/**
 * Check bytes against an SRI string ("sha512-... sha1-..."), using the strongest algorithm
 * it names. Returns an error message, or undefined when it matches.
 *
 * @example
 * ```ts
 * checkIntegrity(bytes, "sha512-abc..."); // undefined when good
 * ```
 */
export function checkIntegrity(bytes: Uint8Array, sri: string): string | undefined {
  const rank = ["sha512", "sha384", "sha256", "sha1"];
  const entries = sri.trim().split(/\s+/).map((s) => {
    const dash = s.indexOf("-");
    return { algo: s.slice(0, dash), digest: s.slice(dash + 1).replace(/\?.*$/, "") };
  }).filter((e) => rank.includes(e.algo)).sort((a, b) => rank.indexOf(a.algo) - rank.indexOf(b.algo));
  if (entries.length === 0) return `unsupported integrity "${sri}"`;
  const algo = entries[0].algo;
  const actual = createHash(algo).update(bytes).digest("base64");
  if (entries.some((e) => e.algo === algo && e.digest === actual)) return undefined;
  return `integrity mismatch: expected ${algo}-${entries[0].digest}, got ${algo}-${actual}`;
}

/** Where a tarball lives in the mirror: the registry path of its URL. */
export function mirrorTarballPath(out: string, pkg: LockedTarball): string {
  const base = pkg.name.startsWith("@") ? pkg.name.slice(pkg.name.indexOf("/") + 1) : pkg.name;
  return join(out, pkg.name, "-", `${base}-${pkg.version}.tgz`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Write via a temp file and rename, so an interrupted run never leaves a partial file. */
async function publish(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

async function collect(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Run the mirror with command-line arguments; resolves to the exit code (1 if anything failed).
 *
 * @example
 * ```ts
 * await main(["--out", "bench/.mirror", "package-lock.json"]);
 * ```
 */
export async function main(
  argv: string[],
  io: { log: (line: string) => void; error: (line: string) => void } = console,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      registry: { type: "string", default: "https://registry.npmjs.org/" },
      concurrency: { type: "string", default: "16" },
      verify: { type: "boolean", default: false },
      "no-packuments": { type: "boolean", default: false },
    },
  });
  if (!values.out || positionals.length === 0) {
    io.error("usage: mirror.ts --out DIR [--registry URL] [--concurrency N] [--verify] LOCKFILE...");
    return 2;
  }
  const out = values.out;
  const client = new RegistryClient({
    config: resolveNpmConfig([new Map([["registry", values.registry]])]),
    concurrency: Number(values.concurrency),
    onRetry: (e) => io.error(`retry ${e.package ?? e.url} after attempt ${e.attempt}: ${e.error.message}`),
  });

  const wanted = new Map<string, LockedTarball>();
  for (const file of positionals) {
    const text = await readFile(file, "utf8");
    const list = file.endsWith(".yaml") || file.endsWith(".yml")
      ? pnpmLockTarballs(parseYaml(text))
      : packageLockTarballs(JSON.parse(text));
    for (const pkg of list) wanted.set(`${pkg.name}@${pkg.version}`, pkg);
    io.log(`${file}: ${list.length} registry packages`);
  }
  const names = [...new Set([...wanted.values()].map((p) => p.name))];
  io.log(
    `${wanted.size} unique tarballs, ${values["no-packuments"] ? 0 : names.length} packuments -> ${out}`,
  );

  const stats = {
    tarballs: 0,
    tarballsSkipped: 0,
    tarballBytes: 0,
    packuments: 0,
    packumentsSkipped: 0,
    packumentBytes: 0,
  };
  const failures: string[] = [];
  const started = Date.now();
  let done = 0;
  const totalJobs = wanted.size + (values["no-packuments"] ? 0 : names.length);
  const tick = () => {
    done++;
    if (done % 100 === 0 || done === totalJobs) {
      const mb = ((stats.tarballBytes + stats.packumentBytes) / 1e6).toFixed(1);
      io.log(`  ${done}/${totalJobs} done, ${mb} MB fetched, ${failures.length} failed`);
    }
  };
  // Bounds queued work so thousands of closures are not all waiting inside the client at once.
  const jobs = new Semaphore(Number(values.concurrency) * 2);
  const run = async (job: () => Promise<void>) => {
    const release = await jobs.acquire();
    try {
      await job();
    } finally {
      release();
      tick();
    }
  };

  const tasks: Promise<void>[] = [];
  for (const pkg of wanted.values()) {
    tasks.push(run(async () => {
      const id = `${pkg.name}@${pkg.version}`;
      const path = mirrorTarballPath(out, pkg);
      if (await exists(path)) {
        stats.tarballsSkipped++;
        if (values.verify && pkg.integrity) {
          const bad = checkIntegrity(new Uint8Array(await readFile(path)), pkg.integrity);
          if (bad) failures.push(`${id}: ${path}: ${bad} (delete it and re-run)`);
        }
        return;
      }
      try {
        const url = client.tarballUrl(pkg.name, pkg.version, pkg.resolved);
        const bytes = await downloadWithRetry(client, url, (body) => collect(body), { package: id });
        const bad = pkg.integrity ? checkIntegrity(bytes, pkg.integrity) : undefined;
        if (bad) throw new Error(`${bad} (${url}); the lockfile or the registry is wrong`);
        await publish(path, bytes);
        stats.tarballs++;
        stats.tarballBytes += bytes.byteLength;
      } catch (err) {
        failures.push(`${id}: ${(err as Error).message}`);
      }
    }));
  }
  if (!values["no-packuments"]) {
    for (const name of names) {
      tasks.push(run(async () => {
        const path = join(out, name, "packument.json");
        if (await exists(path)) {
          stats.packumentsSkipped++;
          return;
        }
        try {
          // The full document (not the abbreviated one): the server derives the short form.
          const url = client.packumentUrl(name);
          const bytes = await downloadWithRetry(client, url, (body) => collect(body), {
            package: name,
            accept: "application/json",
          });
          JSON.parse(new TextDecoder().decode(bytes)); // refuse to publish a broken document
          await publish(path, bytes);
          stats.packuments++;
          stats.packumentBytes += bytes.byteLength;
        } catch (err) {
          failures.push(`${name} (packument): ${(err as Error).message}`);
        }
      }));
    }
  }
  await Promise.all(tasks);

  const secs = ((Date.now() - started) / 1000).toFixed(1);
  io.log(
    `tarballs: ${stats.tarballs} fetched (${
      (stats.tarballBytes / 1e6).toFixed(1)
    } MB), ${stats.tarballsSkipped} already there; ` +
      `packuments: ${stats.packuments} fetched (${
        (stats.packumentBytes / 1e6).toFixed(1)
      } MB), ${stats.packumentsSkipped} already there; ` +
      `${failures.length} failed; ${secs} s`,
  );
  for (const f of failures) io.error(`FAILED ${f}`);
  return failures.length ? 1 : 0;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
