/**
 * Ingest a package from a directory (`silo add ./dir`, pnpm's `file:` folders and injected workspace
 * packages): the files `npm pack` would publish go into the CAS, as pnpm copies them. npm-packlist 5.1.3,
 * the version pnpm uses, decides: `files` in package.json, else `.npmignore` (or `.gitignore`) in each
 * folder, always package.json, README and LICENSE, never node_modules (bundled ones aside), .git, lockfiles,
 * or symlinks.
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

/** Store the files of the package at `dir` that `npm pack` would publish. */
export async function ingestDirectory(dir: string, cas: CasWriter): Promise<DirectoryIngestResult> {
  const result: DirectoryIngestResult = {
    files: {},
    manifest: {},
    unpackedSize: 0,
    contentIntegrity: "",
    skipped: [],
    written: 0,
  };
  // Loaded here: most installs store no folder, and a hot one should not pay for glob and minimatch.
  const { default: packlist } = await import("npm-packlist");
  const listed: string[] = await packlist({ path: dir });
  // Sorted, so the file map (and its package.json-last import order) does not depend on the walk.
  for (const rel of listed.map((f) => f.replace(/^\.[/\\]/, "").replaceAll("\\", "/")).sort()) {
    const full = path.join(dir, rel);
    const st = fs.lstatSync(full, { throwIfNoEntry: false });
    if (!st?.isFile()) {
      result.skipped.push({ path: rel, reason: st?.isSymbolicLink() ? "symlink" : "other" });
      continue;
    }
    const exec = (st.mode & 0o111) !== 0;
    const stored = await cas.writeBytes(fs.readFileSync(full), exec);
    if (stored.written) result.written++;
    result.unpackedSize += stored.size;
    result.files[rel] = {
      digest: stored.digest,
      mode: exec ? 0o755 : 0o644,
      size: stored.size,
      checkedAt: stored.checkedAt,
    };
  }
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
