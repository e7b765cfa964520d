/**
 * Test support for the importers: a reflink-capable XFS mount (set up on demand, never skipped),
 * temp dirs on it and on the ordinary root filesystem, and extent-sharing checks.
 *
 * @module
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("../../scripts/xfs-mount.sh", import.meta.url));
const ENV = { ...process.env, PATH: `${process.env.PATH ?? "/usr/bin:/bin"}:/usr/sbin:/sbin` };

/** Run a program and resolve with its stdout; reject with stderr in the message. */
export function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: ENV, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${cmd} ${args.join(" ")} failed: ${stderr || error.message}`, { cause: error }));
      } else resolve(String(stdout));
    });
  });
}

let mounting: Promise<string> | undefined;

/**
 * Make sure a reflink-capable XFS filesystem is mounted (scripts/xfs-mount.sh: installs xfsprogs,
 * creates and loop-mounts an image; needs root) and return its mount point.
 *
 * @example
 * ```ts ignore
 * const mnt = await ensureXfsMount(); // "/mnt/silo-xfs"
 * ```
 */
export function ensureXfsMount(): Promise<string> {
  mounting ??= run("bash", [SCRIPT, process.env.SILO_XFS_MOUNT ?? "/mnt/silo-xfs"]).then((out) => {
    const lines = out.trim().split("\n");
    return lines[lines.length - 1];
  });
  return mounting;
}

/** The filesystem type of `path` as `stat -f` names it ("xfs", "ext2/ext3", "tmpfs", ...). */
export async function fsType(path: string): Promise<string> {
  return (await run("stat", ["-f", "-c", "%T", path])).trim();
}

/** A fresh temp dir on the XFS mount. */
export async function xfsTempDir(prefix = "silo-test-"): Promise<string> {
  return mkdtempSync(join(await ensureXfsMount(), prefix));
}

/**
 * A fresh temp dir on the machine's ordinary filesystem (ext4 here and in CI), which has hard links
 * but no reflinks. Throws if the temp dir turns out to support reflinks, since the tests assume not.
 */
export async function plainTempDir(prefix = "silo-test-"): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const type = await fsType(dir);
  if (!["ext2/ext3", "tmpfs", "overlayfs"].includes(type)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`expected ${tmpdir()} on ext4 or tmpfs (no reflinks), found ${type}; set TMPDIR`);
  }
  return dir;
}

/** Remove test dirs (store files are read-only, which rm -rf does not mind as owner of the dirs). */
export function removeDirs(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/**
 * Put a file into a test store the way the CAS writer publishes it: `v1/files/ab/<name>[-exec]`,
 * 0o444 or 0o555. Returns its path.
 */
export function storeFile(
  storeDir: string,
  name: string,
  content: string | Uint8Array,
  exec = false,
): string {
  const dir = join(storeDir, "v1", "files", name.slice(0, 2));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, exec ? `${name}-exec` : name);
  writeFileSync(path, content);
  chmodSync(path, exec ? 0o555 : 0o444); // before publication, as the writer does
  return path;
}

/** `filefrag -v` output for `path` (the flags column says "shared" for reflinked extents). */
export function filefrag(path: string): Promise<string> {
  return run("filefrag", ["-v", path]);
}

/** Whether every extent of `path` is flagged "shared" by FIEMAP. */
export async function allExtentsShared(path: string): Promise<boolean> {
  const rows = (await filefrag(path)).split("\n").filter((l) => /^\s*\d+:/.test(l));
  return rows.length > 0 && rows.every((l) => /\bshared\b/.test(l));
}

/**
 * The inode change time of `path` with nanoseconds, from stat(1): Deno's node:fs reports ctime
 * rounded to whole seconds, too coarse to see a chmod.
 */
export async function ctimeOf(path: string): Promise<string> {
  return (await run("stat", ["-c", "%z", path])).trim();
}
