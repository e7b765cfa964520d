/**
 * Files outside the lockfile whose edits change a pnpm project's tree: its patch files, and the folders
 * pnpm copies into node_modules (`file:` directories, injected workspace packages). pnpm re-applies and
 * re-copies them on every install; the up-to-date check folds them into its hash so an edit is seen.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";

/**
 * A fingerprint of the patch files and copied folders `lockText` (a pnpm-lock.yaml) uses: the patch files'
 * text, and each folder's file paths, sizes and mtimes (node_modules and .git aside). Empty when it uses
 * neither, the common case, which costs two substring searches.
 *
 * @example
 * ```ts ignore
 * const before = await localInputs("/app", lockText);
 * // ... edit /app/vendor/lib/index.js ...
 * (await localInputs("/app", lockText)) !== before; // true
 * ```
 */
export async function localInputs(projectDir: string, lockText: string): Promise<string> {
  const parts: string[] = [];
  if (lockText.includes("patch_hash=")) {
    // Only projects with patches load the patch module (and its YAML parser).
    const { readPatchConfig } = await import("./patches.ts");
    for (const file of new Set(readPatchConfig(projectDir).values())) {
      parts.push(`${file}\0${readOrEmpty(file)}`);
    }
  }
  for (const match of lockText.matchAll(/\bdirectory: ([^,}\n]+)/g)) {
    const dir = path.resolve(projectDir, match[1].trim().replace(/^(['"])(.*)\1$/, "$2"));
    parts.push(`${dir}\0${folderFingerprint(dir)}`);
  }
  return parts.join("\0");
}

/** Every file under `dir` (not following symlinks, skipping node_modules and .git) as path, size, mtime. */
function folderFingerprint(dir: string): string {
  return folderFiles(dir).map((name) => {
    const st = fs.lstatSync(path.join(dir, name), { throwIfNoEntry: false });
    // Not the mode: installing makes a linked command file executable, which is no edit.
    return st ? `${name} ${st.size} ${st.mtimeMs}` : "";
  }).sort().join("\n");
}

/**
 * The files under the project's folder `dir` (relative, posix), not following symlinks, node_modules and
 * .git aside; none when it cannot be read.
 *
 * @example
 * ```ts ignore
 * folderFiles("/app/packages/cli"); // ["bin/cli.js", "package.json"]
 * ```
 */
export function folderFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (at: string, rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(at, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name === "node_modules" || entry.name === ".git") continue;
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(at, entry.name), name);
      else if (entry.isFile()) files.push(name);
    }
  };
  walk(dir, "");
  return files;
}

/** The text of `file`, or "" when it cannot be read. */
export function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
