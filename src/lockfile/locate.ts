/**
 * Finding the project's lockfile. Kept apart from the parsers so the up-to-date
 * check can hash the text without loading them.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { LockfileError } from "./errors.ts";

/** Lockfiles looked for, in order of preference (npm-shrinkwrap.json wins over package-lock.json, as in npm). */
export const LOCKFILE_NAMES = [
  "npm-shrinkwrap.json",
  "package-lock.json",
  "pnpm-lock.yaml",
  "bun.lock",
  "yarn.lock",
] as const;

/** The package manager that writes each lockfile. */
const MANAGERS: Record<(typeof LOCKFILE_NAMES)[number], "npm" | "pnpm" | "bun" | "yarn"> = {
  "npm-shrinkwrap.json": "npm",
  "package-lock.json": "npm",
  "pnpm-lock.yaml": "pnpm",
  "bun.lock": "bun",
  "yarn.lock": "yarn",
};

/**
 * The package manager whose lockfile `lockfile` (a file name) is; npm for a name silo does not know.
 *
 * @example
 * ```ts
 * import { managerOf } from "./locate.ts";
 * managerOf("yarn.lock"); // "yarn"
 * ```
 */
export function managerOf(lockfile: string): "npm" | "pnpm" | "bun" | "yarn" {
  return MANAGERS[lockfile as keyof typeof MANAGERS] ?? "npm";
}

/** bun's binary lockfile, which silo does not read: named in the error instead of "none". */
const BUN_LOCKB = "bun.lockb";

/** A lockfile found on disk. */
export interface LocatedLockfile {
  /** Absolute path. */
  file: string;
  name: (typeof LOCKFILE_NAMES)[number];
  text: string;
  /** Other lockfiles silo reads that are in the folder too (the first of LOCKFILE_NAMES is used). */
  ignored?: string[];
}

/**
 * Read the first lockfile of {@linkcode LOCKFILE_NAMES} in `projectDir`.
 *
 * @example
 * ```ts ignore
 * const { name, text } = locateLockfile(".");
 * ```
 */
export function locateLockfile(projectDir: string): LocatedLockfile {
  if (!fs.statSync(projectDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new LockfileError(projectDir, "not a folder; give the project's folder (--dir)");
  }
  for (const name of LOCKFILE_NAMES) {
    const file = path.join(projectDir, name);
    try {
      const text = fs.readFileSync(file, "utf8");
      // npm-shrinkwrap.json beside package-lock.json is npm's own rule; another package manager's lockfile
      // beside it is a choice silo makes, so it says so.
      const ignored = LOCKFILE_NAMES.slice(LOCKFILE_NAMES.indexOf(name) + 1).filter((other) =>
        other !== "package-lock.json" && fs.existsSync(path.join(projectDir, other))
      );
      return { file, name, text, ...(ignored.length > 0 ? { ignored } : {}) };
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") continue;
      throw new LockfileError(file, `cannot be read (${(e as Error).message}). Check its permissions.`, {
        cause: e,
      });
    }
  }
  if (fs.existsSync(path.join(projectDir, BUN_LOCKB))) {
    throw new LockfileError(
      path.join(projectDir, BUN_LOCKB),
      `bun's binary lockfile, which silo does not read (it reads ${LOCKFILE_NAMES.join(", ")}). ` +
        "`bun install --save-text-lockfile --frozen-lockfile --lockfile-only` writes the bun.lock silo reads " +
        "without resolving versions anew.",
    );
  }
  throw new LockfileError(
    projectDir,
    `no lockfile found (looked for ${LOCKFILE_NAMES.join(", ")}). silo restores node_modules from an ` +
      "existing lockfile: run `npm install --package-lock-only`, `pnpm install --lockfile-only` or " +
      "`bun install --lockfile-only` or `yarn install` first.",
  );
}

/**
 * The folder to install for `dir`: the project it is in (`dir`, or the nearest folder above with a
 * package.json, as npm finds its prefix); then, as npm and pnpm do inside a workspace project, the nearest
 * folder above that with a lockfile that lists it as one of its projects. Otherwise that project (and
 * {@linkcode locateLockfile} says what is missing).
 *
 * @example
 * ```ts ignore
 * workspaceRootOf("/repo/packages/ui"); // "/repo" (its pnpm-lock.yaml has an importer "packages/ui")
 * ```
 */
export function workspaceRootOf(dir: string): string {
  const has = (d: string, name: string) => fs.existsSync(path.join(d, name));
  if (LOCKFILE_NAMES.some((name) => has(dir, name))) return dir;
  // A folder inside a project (src/lib) belongs to the nearest one above with a package.json, as npm's prefix.
  for (let up = dir; !has(dir, "package.json") && path.dirname(up) !== up;) {
    up = path.dirname(up);
    if (has(up, "package.json")) dir = up;
  }
  if (LOCKFILE_NAMES.some((name) => has(dir, name))) return dir;
  for (let up = path.dirname(dir);; up = path.dirname(up)) {
    const name = LOCKFILE_NAMES.find((n) => has(up, n));
    if (name) {
      const rel = path.relative(up, dir).split(path.sep).join("/");
      let text = "";
      try {
        text = fs.readFileSync(path.join(up, name), "utf8");
      } catch { /* unreadable: not this one */ }
      // One of its projects: a key of package-lock.json's `packages`, of pnpm-lock.yaml's `importers`, or of
      // bun.lock's `workspaces` (indented as package-lock.json's keys).
      const listed = name === "pnpm-lock.yaml"
        ? text.includes(`\n  ${rel}:`) || text.includes(`\n  '${rel}':`)
        : text.includes(`\n    ${JSON.stringify(rel)}: {`);
      return listed ? up : dir;
    }
    if (path.dirname(up) === up) return dir;
  }
}
