/**
 * npm and pnpm make every bin target executable. Files in the store are never chmod-ed (invariant 5),
 * so a non-executable target gets its own `-exec` entry, written once like any other, and the file map
 * points at that. Ingests run this before they return, so a row never names a file that is not there.
 *
 * @module
 */
import fs from "node:fs";
import type { CasWriter } from "./cas.ts";
import type { FileMap, PackageManifest } from "./index_db.ts";
import { binsOf } from "./manifest.ts";

/**
 * Point every bin target in `files` at an executable store entry, writing the ones that are missing.
 * Returns the paths whose entry changed.
 *
 * @example
 * ```ts ignore
 * await publishExecutableBins(cas, result.files, result.manifest);
 * ```
 */
export async function publishExecutableBins(
  cas: CasWriter,
  files: FileMap,
  manifest: PackageManifest,
): Promise<string[]> {
  const changed: string[] = [];
  for (const target of Object.values(binsOf(manifest, files))) {
    const entry = files[target];
    if (!entry || entry.mode & 0o111) continue;
    const bytes = fs.readFileSync(cas.layout.filePath(entry.digest, false));
    const stored = await cas.writeBytes(bytes, true);
    files[target] = { ...entry, mode: 0o755, checkedAt: stored.checkedAt };
    changed.push(target);
  }
  return changed;
}
