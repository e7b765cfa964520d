/**
 * Does a package's os/cpu/libc fit the machine? Same rules as npm's npm-install-checks.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import process from "node:process";
// Only the functions used: all of semver (index.js) is ~50 modules, a few ms of every install under Deno
import satisfies from "semver/functions/satisfies.js";
import valid from "semver/functions/valid.js";

/** The machine a tree is installed for. */
export interface Platform {
  /** process.platform: "linux", "darwin", "win32", ... */
  os: string;
  /** process.arch: "x64", "arm64", ... */
  cpu: string;
  /** C library family on Linux; null elsewhere or when unknown. */
  libc: "glibc" | "musl" | null;
  /**
   * The platforms to install for instead, field by field (pnpm's `supportedArchitectures`, "current"
   * already replaced by this machine's value): a package fits when each of its fields admits one of them.
   */
  supported?: { os?: string[]; cpu?: string[]; libc?: string[] };
  /**
   * The version of the `node` that will run the project ("20.20.2"), asked only when a package's `engines.node`
   * needs checking; undefined when unknown (then engines rule nothing out).
   */
  nodeVersion?: () => string | undefined;
}

/** What {@link currentPlatform} looks at; tests replace any part. */
export interface PlatformProbe {
  /** Instead of process.platform. */
  platform?: string;
  /** Instead of process.arch. */
  arch?: string;
  /** process.report.getReport, whose header names the glibc version when glibc is in use. */
  report?: () => unknown;
  /** Lists a directory's names (used to look for /lib/ld-musl-*). */
  readdir?: (dir: string) => string[];
  /** Whether a path exists (used to look for /etc/alpine-release). */
  exists?: (path: string) => boolean;
  /** Instead of asking the `node` on PATH for its version. */
  nodeVersion?: () => string | undefined;
  /** The PATH to find `node` on (default: the environment's). */
  path?: string;
  /** Versions of node binaries asked before (by other processes too): asking again costs a process. */
  nodeVersions?: NodeVersionCache;
}

/**
 * Versions of node binaries, each named by {@linkcode nodeBinaryId} (its path, size, mtime and inode,
 * so a replaced or upgraded binary is asked again).
 */
export interface NodeVersionCache {
  get(binaryId: string): string | undefined;
  set(binaryId: string, version: string): void;
}

/**
 * The platform this process runs on.
 *
 * @example
 * ```ts
 * currentPlatform(); // { os: "linux", cpu: "x64", libc: "glibc" }
 * currentPlatform({ platform: "linux", arch: "arm64", readdir: () => ["ld-musl-aarch64.so.1"], report: () => ({}) });
 * ```
 */
export function currentPlatform(probe: PlatformProbe = {}): Platform {
  const os = probe.platform ?? process.platform;
  const cpu = probe.arch ?? process.arch;
  return {
    os,
    cpu,
    libc: os === "linux" ? detectLibc(probe) : null,
    nodeVersion: probe.nodeVersion ??
      once(() => nodeOnPath(probe.path ?? process.env.PATH, probe.nodeVersions)),
  };
}

function once<T>(f: () => T): () => T {
  let done = false, value: T;
  return () => done ? value : (done = true, value = f());
}

/**
 * The version of the `node` on `searchPath`. Not this process's own: under Deno or Bun, process.version
 * names their Node compatibility level, not the node that runs the project. Running `node --version`
 * cost a hot install ~5 ms before its first link, so known binaries are looked up in `cache`.
 */
function nodeOnPath(searchPath: string | undefined, cache: NodeVersionCache | undefined): string | undefined {
  // Windows finds `node.exe` through PATHEXT: left to spawn, and not cached.
  const found = process.platform === "win32" ? { binary: "node" } : findNode(searchPath ?? "/bin:/usr/bin");
  if (found === undefined) return undefined;
  const { binary, id } = found;
  const known = id && cache?.get(id);
  if (known) return known;
  const r = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 10_000 });
  const version = r.status === 0 ? valid(String(r.stdout).trim()) ?? undefined : undefined;
  if (id && version) cache?.set(id, version);
  return version;
}

/** The `node` a command would run, found as execvp(3) finds it (POSIX), and its {@linkcode nodeBinaryId}. */
function findNode(searchPath: string): { binary: string; id?: string } | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    const file = path.resolve(dir || ".", "node");
    try {
      accessSync(file, constants.X_OK);
      const st = statSync(file);
      if (st.isFile()) return { binary: file, id: nodeBinaryId(file, st) };
    } catch { /* not here */ }
  }
  return undefined;
}

/**
 * What names one node binary for {@linkcode NodeVersionCache}: its path, and the size, mtime and inode of
 * the file that path leads to (`st`, its stat).
 *
 * @example
 * ```ts ignore
 * nodeBinaryId("/usr/bin/node", statSync("/usr/bin/node")); // "/usr/bin/node 96441208 1714000000000 393502"
 * ```
 */
export function nodeBinaryId(binary: string, st: { size: number; mtimeMs: number; ino: number }): string {
  return `${binary} ${st.size} ${st.mtimeMs} ${st.ino}`;
}

/**
 * Why `pkg`'s `engines.node` rules out the node in `platform`, or null when it does not (or either is unknown).
 * Same test as npm's npm-install-checks and pnpm: satisfies, prereleases included; a range that does not
 * parse rules it out.
 *
 * @example
 * ```ts
 * const linux = { os: "linux", cpu: "x64", libc: "glibc" as const, nodeVersion: () => "20.1.0" };
 * engineMismatch({ nodeEngine: ">=22" }, linux); // "engine node >=22 (node is 20.1.0)"
 * ```
 */
export function engineMismatch(pkg: { nodeEngine?: string }, platform: Platform): string | null {
  if (pkg.nodeEngine === undefined) return null;
  const version = platform.nodeVersion?.();
  if (version === undefined || satisfies(version, pkg.nodeEngine, { includePrerelease: true })) {
    return null;
  }
  return `engine node ${pkg.nodeEngine} (node is ${version})`;
}

function detectLibc(probe: PlatformProbe): "glibc" | "musl" | null {
  const report = probe.report ?? (() => process.report?.getReport?.());
  try {
    const header = (report() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
    if (header?.glibcVersionRuntime) return "glibc";
  } catch {
    // Some runtimes do not implement reports; fall back to the loader files.
  }
  const readdir = probe.readdir ?? ((dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  });
  const exists = probe.exists ?? existsSync;
  if (readdir("/lib").some((f) => f.startsWith("ld-musl-"))) return "musl";
  if (["/lib", "/lib64"].some((d) => readdir(d).some((f) => f.startsWith("ld-linux")))) return "glibc";
  return exists("/etc/alpine-release") ? "musl" : null;
}

/**
 * npm's list check, over the values installed for (pnpm's, with several): "any" matches all, "!x" excludes
 * x, otherwise a value must be listed.
 */
function checkList(values: readonly (string | null)[], list: string[]): boolean {
  if (list.length === 1 && list[0] === "any") return true;
  let negated = 0;
  let match = false;
  for (const entry of list) {
    if (entry.startsWith("!")) {
      negated++;
      if (values.includes(entry.slice(1))) return false;
    } else if (values.includes(entry)) match = true;
  }
  return match || negated === list.length;
}

/** A package's os/cpu/libc field as package.json may give it: a list, or one name as a string. */
export type PlatformField = string[] | string;

/** The constraints of a package (its lockfile entry or its own package.json). */
export interface PlatformConstraints {
  os?: PlatformField;
  cpu?: PlatformField;
  libc?: PlatformField;
}

/** A field as a list: npm-install-checks treats a string as a one-entry list and ignores other types. */
function listOf(field: unknown): string[] {
  if (typeof field === "string") return [field];
  return Array.isArray(field) ? field.map(String) : [];
}

/**
 * Why a package does not fit `platform` (e.g. "os linux not in [darwin]"), or null when it fits.
 * A libc constraint never fits a non-Linux platform, as in npm. Fields may be lists or single strings
 * (`"libc": "glibc"` is common in package.json files).
 *
 * @example
 * ```ts
 * platformMismatch({ os: ["darwin"] }, { os: "linux", cpu: "x64", libc: "glibc" }); // "os linux not in [darwin]"
 * platformMismatch({ libc: "glibc" }, { os: "linux", cpu: "x64", libc: "glibc" }); // null
 * ```
 */
export function platformMismatch(pkg: PlatformConstraints, platform: Platform): string | null {
  const os = listOf(pkg.os), cpu = listOf(pkg.cpu), libc = listOf(pkg.libc);
  const { supported } = platform;
  const osValues = supported?.os ?? [platform.os];
  const cpuValues = supported?.cpu ?? [platform.cpu];
  const libcValues = supported?.libc ?? [platform.libc];
  if (os.length > 0 && !checkList(osValues, os)) {
    return `os ${osValues.join("|")} not in [${os.join(", ")}]`;
  }
  if (cpu.length > 0 && !checkList(cpuValues, cpu)) {
    return `cpu ${cpuValues.join("|")} not in [${cpu.join(", ")}]`;
  }
  // A libc constraint never fits another OS (npm), unless a libc to install for was named.
  if (libc.length > 0 && ((platform.os !== "linux" && !supported?.libc) || !checkList(libcValues, libc))) {
    return `libc ${libcValues.map((v) => v ?? "unknown").join("|")} not in [${libc.join(", ")}]`;
  }
  return null;
}

/**
 * `platform` extended by pnpm's `supportedArchitectures` setting: each field's list replaces the machine's
 * value, "current" standing for it; absent fields keep it.
 *
 * @example
 * ```ts
 * const linux = { os: "linux", cpu: "x64", libc: "glibc" as const };
 * withSupportedArchitectures(linux, { cpu: ["current", "arm64"] }).supported; // { cpu: ["x64", "arm64"] }
 * ```
 */
export function withSupportedArchitectures(
  platform: Platform,
  setting: { os?: string[]; cpu?: string[]; libc?: string[] } | undefined,
): Platform {
  if (!setting) return platform;
  const supported: NonNullable<Platform["supported"]> = {};
  for (const field of ["os", "cpu", "libc"] as const) {
    const list = setting[field];
    if (!Array.isArray(list) || list.length === 0) continue;
    const values = list.map((v) => String(v) === "current" ? platform[field] ?? "unknown" : String(v));
    supported[field] = [...new Set(values)];
  }
  return Object.keys(supported).length > 0 ? { ...platform, supported } : platform;
}

/**
 * True when the package's os/cpu/libc fit `platform`.
 *
 * @example
 * ```ts
 * matchesPlatform({ cpu: ["!arm64"] }, { os: "linux", cpu: "x64", libc: null }); // true
 * ```
 */
export function matchesPlatform(pkg: PlatformConstraints, platform: Platform): boolean {
  return platformMismatch(pkg, platform) === null;
}
