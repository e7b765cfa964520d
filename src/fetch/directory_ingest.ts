/**
 * Ingest a package from a directory (silo add ./dir): every regular file below it goes
 * into the CAS. The walk uses lstat and never follows symlinks (they are skipped, as
 * in a tarball); node_modules and .git are not part of a package.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import type { CasWriter } from "../store/cas.ts";
import { publishExecutableBins } from "../store/executable_bins.ts";
import type { FileMap, PackageManifest } from "../store/index_db.ts";
import { manifestOf, type SkippedEntry } from "./tar_ingest.ts";

/** The stored result of a directory. */
export interface DirectoryIngestResult {
  files: FileMap;
  manifest: PackageManifest;
  unpackedSize: number;
  /** sha512 over the sorted file map: the same tree always gets the same key. */
  contentIntegrity: string;
  skipped: SkippedEntry[];
  written: number;
}

const IGNORED = new Set(["node_modules", ".git"]);

/** Store every file under `dir`. */
export async function ingestDirectory(dir: string, cas: CasWriter): Promise<DirectoryIngestResult> {
  const result: DirectoryIngestResult = {
    files: {},
    manifest: {},
    unpackedSize: 0,
    contentIntegrity: "",
    skipped: [],
    written: 0,
  };
  const walk = async (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const rel = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!IGNORED.has(entry.name)) await walk(rel);
      } else if (entry.isFile()) {
        const full = path.join(dir, rel);
        const exec = (fs.lstatSync(full).mode & 0o111) !== 0;
        const stored = await cas.writeBytes(fs.readFileSync(full), exec);
        if (stored.written) result.written++;
        result.unpackedSize += stored.size;
        result.files[rel] = {
          digest: stored.digest,
          mode: exec ? 0o755 : 0o644,
          size: stored.size,
          checkedAt: stored.checkedAt,
        };
      } else {
        result.skipped.push({ path: rel, reason: entry.isSymbolicLink() ? "symlink" : "other" });
      }
    }
  };
  await walk("");
  if (result.files["package.json"]) {
    result.manifest = manifestOf(fs.readFileSync(path.join(dir, "package.json")));
  }
  const listing = Object.keys(result.files).sort().map((p) =>
    `${p}\0${result.files[p].digest}\0${result.files[p].mode}`
  ).join("\n");
  result.contentIntegrity = `sha512-${cas.hasher.sha512Hex(new TextEncoder().encode(listing))}`;
  // After the key is made from the tree as it is: a bin target's -exec entry does not change its key.
  await publishExecutableBins(cas, result.files, result.manifest);
  return result;
}
