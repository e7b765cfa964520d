/**
 * What a package.json says that silo acts on: the commands a package provides
 * (npm's rules for `bin` and `directories.bin`).
 *
 * @module
 */
import path from "node:path";
import type { PackageManifest } from "./index_db.ts";

/** Command name -> path inside the package (posix, normalized). */
export type BinMap = Record<string, string>;

/** A package's files by path (only the paths are read): its file map, or a listing of a folder. */
type FilePaths = Record<string, unknown>;

/**
 * The commands of a package. `files` (when known) serves `directories.bin`, which
 * names a folder whose every file is a command; as a function it is called only then.
 */
export function binsOf(
  manifest: PackageManifest,
  files?: FilePaths | (() => FilePaths),
  /** The name a string `bin` gets instead of the package's (bun names it after the alias). */
  alias?: string,
): BinMap {
  const bins: BinMap = {};
  const add = (name: string, target: string) => {
    // npm strips scopes and path separators from command names, and keeps targets inside the package.
    const clean = path.posix.basename(name.replace(/\\/g, "/"));
    const rel = path.posix.normalize(target.replace(/\\/g, "/")).replace(/^(\.\/)+/, "");
    if (!clean || clean === "." || clean === ".." || rel.startsWith("../") || path.posix.isAbsolute(rel)) {
      return;
    }
    bins[clean] = rel;
  };
  if (typeof manifest.bin === "string") {
    const name = alias ?? manifest.name;
    if (name) add(name.replace(/^@[^/]+\//, ""), manifest.bin);
  } else if (manifest.bin && typeof manifest.bin === "object") {
    for (const [name, target] of Object.entries(manifest.bin)) {
      if (typeof target === "string") add(name, target);
    }
  } else if (manifest.directories?.bin && files) {
    const dir = path.posix.normalize(manifest.directories.bin).replace(/^(\.\/)+/, "").replace(/\/$/, "");
    for (const file of Object.keys(typeof files === "function" ? files() : files)) {
      if (file.startsWith(`${dir}/`)) add(path.posix.basename(file), file);
    }
  }
  return bins;
}
