/**
 * pnpm's patched dependencies: the lockfile names each patched package (its snapshot id
 * carries `(patch_hash=<hash of the patch file>)`), the project's configuration says
 * where the patch file is (pnpm-workspace.yaml or package.json `pnpm.patchedDependencies`).
 * silo applies the patch to a private copy of the package, never to store files.
 *
 * @module
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { applyPatch, parsePatch } from "diff";
import semver from "semver";
import { parse as parseYaml } from "yaml";
import { readJsonObject } from "../lockfile/json.ts";
import { base32 } from "../lockfile/pnpm_names.ts";

/** A patch to apply to one package. */
export interface PatchFile {
  /** Absolute path of the .patch file. */
  file: string;
  /** Its hash as the lockfile records it (see {@linkcode patchFileHash}). */
  hash: string;
}

/**
 * The hash pnpm records for a patch file's `text`, in the form of `recorded`: pnpm 10+ writes the sha256
 * in hex (64 digits), pnpm 9 an md5 in base32 (26 characters); both hash the text with CRLF made LF.
 *
 * @example
 * ```ts
 * patchFileHash("--- a/x\r\n", "0".repeat(64)) === patchFileHash("--- a/x\n", "0".repeat(64)); // true
 * ```
 */
export function patchFileHash(text: string, recorded: string): string {
  const normalized = text.split("\r\n").join("\n");
  if (recorded.length === 26) return base32(createHash("md5").update(normalized).digest());
  return createHash("sha256").update(normalized).digest("hex");
}

/**
 * The patch file configured for `name@version`, as pnpm picks it: the exact `name@version` key, else the
 * one `name@<range>` key the version satisfies, else the bare `name`.
 */
function configuredPatch(config: Map<string, string>, name: string, version: string): string | undefined {
  const exact = config.get(`${name}@${version}`);
  if (exact) return exact;
  const prefix = `${name}@`;
  for (const [key, file] of config) {
    const range = key.startsWith(prefix) ? key.slice(prefix.length) : undefined;
    if (range && semver.validRange(range) && semver.satisfies(version, range)) return file;
  }
  return config.get(name);
}

/** `patchedDependencies` from pnpm-workspace.yaml and package.json (`pnpm` field): key -> patch path. */
export function readPatchConfig(projectDir: string): Map<string, string> {
  const entries = new Map<string, string>();
  const add = (map: unknown) => {
    for (const [key, value] of Object.entries((map ?? {}) as Record<string, unknown>)) {
      if (typeof value === "string") entries.set(key, path.resolve(projectDir, value));
    }
  };
  add(
    (readJsonObject(path.join(projectDir, "package.json")).pnpm as { patchedDependencies?: unknown })
      ?.patchedDependencies,
  );
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
 * The patch for `name@version` whose lockfile hash is `hash`: configured as "name@version", "name@<range>"
 * or "name", and its file's hash must be the lockfile's (else the lockfile is out of date).
 */
export function findPatch(
  config: Map<string, string>,
  name: string,
  version: string,
  hash: string,
): PatchFile {
  const file = configuredPatch(config, name, version);
  const label = `${name}@${version}`;
  if (!file) {
    throw new PatchError(
      `${label}: the lockfile says it is patched, but no patchedDependencies entry (pnpm-workspace.yaml or ` +
        `package.json "pnpm") names it. Restore the entry, or run \`pnpm install\` to update the lockfile.`,
    );
  }
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new PatchError(`${label}: its patch ${file} cannot be read. Restore it, or run \`pnpm install\`.`);
  }
  const actual = patchFileHash(text, hash);
  if (actual !== hash) {
    throw new PatchError(
      `${label}: ${file} changed since the lockfile was written (its hash is ${actual}, the lockfile has ${hash}). ` +
        "Run `pnpm install` to update the lockfile.",
    );
  }
  return { file, hash };
}

/**
 * Apply `patch` to the package folder `dir` (its files must be private copies). Git's extended headers
 * count, as in pnpm: a mode change (`new mode 100755`), a created executable, a rename or copy (with or
 * without content changes).
 */
export function applyPatchFile(patch: PatchFile, dir: string, label: string): void {
  const inside = (name: string | undefined) => {
    const file = path.join(dir, name ?? "");
    if (!file.startsWith(dir + path.sep)) {
      throw new PatchError(`${label}: ${patch.file} names a file outside the package`);
    }
    return file;
  };
  for (const diff of parsePatch(fs.readFileSync(patch.file, "utf8"))) {
    const strip = (name?: string) => name?.replace(/^[ab]\//, "");
    const from = strip(diff.oldFileName), to = strip(diff.newFileName);
    const created = diff.isCreate || diff.oldFileName === "/dev/null";
    const deleted = diff.isDelete || diff.newFileName === "/dev/null";
    if (deleted) {
      fs.rmSync(inside(from), { force: true });
      continue;
    }
    const source = created ? undefined : inside(from);
    const target = inside(to);
    const before = source ? fs.readFileSync(source, "utf8") : "";
    const after = diff.hunks.length > 0 ? applyPatch(before, diff) : before;
    if (after === false) {
      throw new PatchError(
        `${label}: ${patch.file} does not apply to ${to}. Update the patch (pnpm patch ${label}).`,
      );
    }
    const exec = diff.newMode !== undefined
      ? (parseInt(diff.newMode, 8) & 0o111) !== 0
      : source !== undefined && (fs.statSync(source).mode & 0o111) !== 0;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.rmSync(target, { force: true }); // a fresh inode: the copy may share extents with the store (reflink)
    fs.writeFileSync(target, after, { mode: exec ? 0o755 : 0o644 });
    if (diff.isRename && source !== undefined && source !== target) fs.rmSync(source, { force: true });
  }
}
