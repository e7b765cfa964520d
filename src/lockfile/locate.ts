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
