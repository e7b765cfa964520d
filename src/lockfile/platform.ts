/**
 * Does a package's os/cpu/libc fit the machine? Same rules as npm's npm-install-checks.
 *
 * @module
 */
import { existsSync, readdirSync } from "node:fs";
import process from "node:process";

/** The machine a tree is installed for. */
export interface Platform {
  /** process.platform: "linux", "darwin", "win32", ... */
  os: string;
  /** process.arch: "x64", "arm64", ... */
  cpu: string;
  /** C library family on Linux; null elsewhere or when unknown. */
  libc: "glibc" | "musl" | null;
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
  return { os, cpu, libc: os === "linux" ? detectLibc(probe) : null };
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

/** npm's list check: "any" matches all, "!x" excludes x, otherwise the value must be listed. */
function checkList(value: string | null, list: string[]): boolean {
  if (list.length === 1 && list[0] === "any") return true;
  let negated = 0;
  let match = false;
  for (const entry of list) {
    if (entry.startsWith("!")) {
      negated++;
      if (value === entry.slice(1)) return false;
    } else if (value === entry) match = true;
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
  if (os.length > 0 && !checkList(platform.os, os)) {
    return `os ${platform.os} not in [${os.join(", ")}]`;
  }
  if (cpu.length > 0 && !checkList(platform.cpu, cpu)) {
    return `cpu ${platform.cpu} not in [${cpu.join(", ")}]`;
  }
  if (libc.length > 0 && (platform.os !== "linux" || !checkList(platform.libc, libc))) {
    return `libc ${platform.libc ?? "unknown"} not in [${libc.join(", ")}]`;
  }
  return null;
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
