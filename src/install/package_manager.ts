/**
 * The package manager a project pins in package.json's `packageManager` field (Corepack's format,
 * `pnpm@10.33.4+sha512...`): silo builds the tree that version would, and tells scripts who it stands in for.
 *
 * @module
 */
import path from "node:path";
import { readJsonObject } from "../lockfile/json.ts";

/** A pinned package manager. */
export interface PinnedManager {
  name: string;
  /** The version as written, without the `+hash` part. */
  version: string;
  major: number;
}

/**
 * The `packageManager` pin of the project at `projectDir`; undefined without a readable one.
 *
 * @example
 * ```ts ignore
 * pinnedManager("/app"); // { name: "pnpm", version: "10.33.4", major: 10 }
 * ```
 */
export function pinnedManager(projectDir: string): PinnedManager | undefined {
  const field = readJsonObject(path.join(projectDir, "package.json")).packageManager;
  const match = typeof field === "string" ? /^(@?[a-z0-9][\w.-]*)@((\d+)[^+\s]*)/.exec(field) : null;
  return match ? { name: match[1], version: match[2], major: Number(match[3]) } : undefined;
}
