/**
 * pnpm's patched dependencies: the lockfile names each patched package (its snapshot id
 * carries `(patch_hash=<sha256 of the patch file>)`), the project's configuration says
 * where the patch file is (pnpm-workspace.yaml or package.json `pnpm.patchedDependencies`).
 * silo applies the patch to a private copy of the package, never to store files.
 *
 * @module
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { applyPatch, parsePatch } from "diff";
import { parse as parseYaml } from "yaml";

/** A patch to apply to one package. */
export interface PatchFile {
  /** Absolute path of the .patch file. */
  file: string;
  /** sha256 (hex) of its content, as the lockfile records it. */
  hash: string;
}

/** The patch_hash a pnpm snapshot id carries, if any. */
export function patchHashOf(id: string): string | undefined {
  return /\(patch_hash=([0-9a-f]+)\)/.exec(id)?.[1];
}

/** `patchedDependencies` from pnpm-workspace.yaml and package.json (`pnpm` field): key -> patch path. */
export function readPatchConfig(projectDir: string): Map<string, string> {
  const entries = new Map<string, string>();
  const add = (map: unknown) => {
    for (const [key, value] of Object.entries((map ?? {}) as Record<string, unknown>)) {
      if (typeof value === "string") entries.set(key, path.resolve(projectDir, value));
    }
  };
  try {
    add(
      JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8"))?.pnpm?.patchedDependencies,
    );
  } catch { /* no package.json: nothing configured there */ }
  try {
    add(
      parseYaml(fs.readFileSync(path.join(projectDir, "pnpm-workspace.yaml"), "utf8"))?.patchedDependencies,
    );
  } catch { /* no workspace file */ }
  return entries;
}

/** A patch that cannot be found, does not match the lockfile, or does not apply. */
export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PatchError";
  }
}

/**
 * The patch for `name@version` whose lockfile hash is `hash`: configured as "name@version" or
 * "name", and its file's sha256 must be the lockfile's (else the lockfile is out of date).
 */
export function findPatch(
  config: Map<string, string>,
  name: string,
  version: string,
  hash: string,
): PatchFile {
  const file = config.get(`${name}@${version}`) ?? config.get(name);
  const label = `${name}@${version}`;
  if (!file) {
    throw new PatchError(
      `${label}: the lockfile says it is patched, but no patchedDependencies entry (pnpm-workspace.yaml or ` +
        `package.json "pnpm") names it. Restore the entry, or run \`pnpm install\` to update the lockfile.`,
    );
  }
  let text: Uint8Array;
  try {
    text = fs.readFileSync(file);
  } catch {
    throw new PatchError(`${label}: its patch ${file} cannot be read. Restore it, or run \`pnpm install\`.`);
  }
  const actual = createHash("sha256").update(text).digest("hex");
  if (actual !== hash) {
    throw new PatchError(
      `${label}: ${file} changed since the lockfile was written (sha256 ${actual}, the lockfile has ${hash}). ` +
        "Run `pnpm install` to update the lockfile.",
    );
  }
  return { file, hash };
}

/** Apply `patch` to the package folder `dir` (its files must be private copies). */
export function applyPatchFile(patch: PatchFile, dir: string, label: string): void {
  for (const diff of parsePatch(fs.readFileSync(patch.file, "utf8"))) {
    const strip = (name?: string) => name?.replace(/^[ab]\//, "");
    const from = strip(diff.oldFileName), to = strip(diff.newFileName);
    const created = diff.oldFileName === "/dev/null", deleted = diff.newFileName === "/dev/null";
    const target = path.join(dir, (deleted ? from : to) ?? "");
    if (!target.startsWith(dir + path.sep)) {
      throw new PatchError(`${label}: ${patch.file} names a file outside the package`);
    }
    if (deleted) {
      fs.rmSync(target, { force: true });
      continue;
    }
    const source = path.join(dir, from ?? "");
    const before = created ? "" : fs.readFileSync(source, "utf8");
    const exec = !created && (fs.statSync(source).mode & 0o111) !== 0;
    const after = applyPatch(before, diff);
    if (after === false) {
      throw new PatchError(
        `${label}: ${patch.file} does not apply to ${to}. Update the patch (pnpm patch ${label}).`,
      );
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.rmSync(target, { force: true }); // a fresh inode: the copy may share extents with the store (reflink)
    fs.writeFileSync(target, after, { mode: exec ? 0o755 : 0o644 });
  }
}
