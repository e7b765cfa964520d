/**
 * npm and pnpm make every bin target executable. Files in the store are never chmod-ed (invariant 5),
 * so a non-executable target gets its own `-exec` entry, written once like any other, and the file map
 * points at that. Ingests run this before they return, so a row never names a file that is not there.
 *
 * A target whose `#!` line ends in CRLF (published from Windows) cannot run on Linux or macOS ("env:
 * node\r: No such file"), and silo's .bin entries are symlinks that run the target itself: its `-exec`
 * entry gets the line with LF, as npm's bin-links and pnpm up to 10 rewrite it (pnpm 12 leaves it, its
 * .bin shims run `node <target>`).
 *
 * @module
 */
import fs from "node:fs";
import type { CasWriter } from "./cas.ts";
import type { FileMap, PackageManifest } from "./index_db.ts";
import { binsOf } from "./manifest.ts";

/**
 * `bytes` with a CRLF at the end of a leading `#!` line turned into LF, or undefined when there is none.
 *
 * @example
 * ```ts
 * import { unixShebang } from "./executable_bins.ts";
 * unixShebang(new TextEncoder().encode("#!/usr/bin/env node\r\nrun()\r\n")); // "#!/usr/bin/env node\nrun()\r\n"
 * ```
 */
export function unixShebang(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes[0] !== 0x23 || bytes[1] !== 0x21) return undefined; // "#!"
  const newline = bytes.indexOf(0x0a);
  if (newline < 1 || bytes[newline - 1] !== 0x0d) return undefined;
  const fixed = new Uint8Array(bytes.length - 1);
  fixed.set(bytes.subarray(0, newline - 1));
  fixed.set(bytes.subarray(newline), newline - 1);
  return fixed;
}

/**
 * Point every bin target in `files` at an executable store entry with a runnable `#!` line, writing the
 * ones that are missing: the package's own commands and those of the packages it bundles (npm and pnpm
 * link and chmod those too). Returns the paths whose entry changed.
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
  const targets = Object.values(binsOf(manifest, files));
  for (const root of bundlesPackages(cas, files) ? bundledRoots(files) : []) {
    const bundled = readManifest(cas, files[`${root}package.json`]);
    const own = () =>
      Object.fromEntries(
        Object.entries(files).filter(([rel]) => rel.startsWith(root)).map((
          [rel, e],
        ) => [rel.slice(root.length), e]),
      );
    if (bundled) targets.push(...Object.values(binsOf(bundled, own)).map((target) => root + target));
  }
  for (const target of targets) {
    const entry = files[target];
    if (!entry) continue;
    const exec = (entry.mode & 0o111) !== 0;
    const bytes = fs.readFileSync(cas.layout.filePath(entry.digest, exec));
    const fixed = unixShebang(bytes);
    if (exec && !fixed) continue;
    const stored = await cas.writeBytes(fixed ?? bytes, true);
    files[target] = { digest: stored.digest, mode: 0o755, size: stored.size, checkedAt: stored.checkedAt };
    changed.push(target);
  }
  return changed;
}

/**
 * Whether the package ships packages of its own (`bundleDependencies`, read from its package.json: the
 * stored manifest leaves it out). A tarball's node_modules without it gets no commands, so no chmod.
 */
function bundlesPackages(cas: CasWriter, files: FileMap): boolean {
  if (!Object.keys(files).some((rel) => rel.startsWith("node_modules/"))) return false;
  const own = readManifest(cas, files["package.json"]) as
    | { bundleDependencies?: unknown; bundledDependencies?: unknown }
    | undefined;
  const bundles = own?.bundleDependencies ?? own?.bundledDependencies;
  return bundles === true || (Array.isArray(bundles) && bundles.length > 0);
}

/** The folders (`node_modules/a/`, `node_modules/a/node_modules/@s/b/`) of the packages a package bundles. */
function bundledRoots(files: FileMap): string[] {
  const roots: string[] = [];
  for (const rel in files) {
    const root = /^((?:.+\/)?node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/)package\.json$/.exec(rel)?.[1];
    if (root) roots.push(root);
  }
  return roots;
}

/** A bundled package's package.json from the store; undefined when it is not a JSON object. */
function readManifest(cas: CasWriter, entry: FileMap[string] | undefined): PackageManifest | undefined {
  if (!entry) return undefined;
  try {
    const parsed = JSON.parse(
      fs.readFileSync(cas.layout.filePath(entry.digest, (entry.mode & 0o111) !== 0), "utf8"),
    );
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
