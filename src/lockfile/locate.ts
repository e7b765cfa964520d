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
export const LOCKFILE_NAMES = ["npm-shrinkwrap.json", "package-lock.json", "pnpm-lock.yaml"] as const;

/** A lockfile found on disk. */
export interface LocatedLockfile {
  /** Absolute path. */
  file: string;
  name: (typeof LOCKFILE_NAMES)[number];
  text: string;
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
  for (const name of LOCKFILE_NAMES) {
    const file = path.join(projectDir, name);
    try {
      return { file, name, text: fs.readFileSync(file, "utf8") };
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") continue;
      throw new LockfileError(file, `cannot be read (${(e as Error).message}). Check its permissions.`, {
        cause: e,
      });
    }
  }
  throw new LockfileError(
    projectDir,
    `no lockfile found (looked for ${LOCKFILE_NAMES.join(", ")}). silo restores node_modules from an ` +
      "existing lockfile: run `npm install --package-lock-only` or `pnpm install --lockfile-only` first.",
  );
}

/**
 * The folder to install for `dir`: `dir` itself when it holds a lockfile; else, as npm and pnpm do inside a
 * workspace project, the nearest folder above it with a lockfile that lists `dir` as one of its projects.
 * Otherwise `dir` (and {@linkcode locateLockfile} says what is missing).
 *
 * @example
 * ```ts ignore
 * workspaceRootOf("/repo/packages/ui"); // "/repo" (its pnpm-lock.yaml has an importer "packages/ui")
 * ```
 */
export function workspaceRootOf(dir: string): string {
  const has = (d: string, name: string) => fs.existsSync(path.join(d, name));
  if (LOCKFILE_NAMES.some((name) => has(dir, name))) return dir;
  for (let up = path.dirname(dir);; up = path.dirname(up)) {
    const name = LOCKFILE_NAMES.find((n) => has(up, n));
    if (name) {
      const rel = path.relative(up, dir).split(path.sep).join("/");
      let text = "";
      try {
        text = fs.readFileSync(path.join(up, name), "utf8");
      } catch { /* unreadable: not this one */ }
      // One of its projects: a key of package-lock.json's `packages`, or of pnpm-lock.yaml's `importers`.
      const listed = name === "pnpm-lock.yaml"
        ? text.includes(`\n  ${rel}:`) || text.includes(`\n  '${rel}':`)
        : text.includes(`\n    ${JSON.stringify(rel)}: {`);
      return listed ? up : dir;
    }
    if (path.dirname(up) === up) return dir;
  }
}
