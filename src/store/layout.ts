/**
 * Where things live inside a store directory (format v1), and where the default store is.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";

/** The store format version; a new layout gets a new folder beside this one. */
export const STORE_VERSION = "v1";

/** Paths inside one store. */
export class StoreLayout {
  /** The store root the user named. */
  readonly root: string;
  /** `<root>/v1` */
  readonly base: string;
  /** `<root>/v1/files` */
  readonly files: string;
  /** `<root>/v1/tmp`: temp files on the store's filesystem, for atomic publishes. */
  readonly tmp: string;
  /** `<root>/v1/trash`: removed files wait here until they are deleted off the lock. */
  readonly trash: string;
  /** `<root>/v1/index.db` */
  readonly indexDb: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.base = path.join(this.root, STORE_VERSION);
    this.files = path.join(this.base, "files");
    this.tmp = path.join(this.base, "tmp");
    this.trash = path.join(this.base, "trash");
    this.indexDb = path.join(this.base, "index.db");
  }

  /** The CAS path of a sha512 hex digest; executables are a separate inode with `-exec`. */
  filePath(digest: string, exec: boolean): string {
    // Concatenated, not path.join: called once or twice per file of every install, and nothing here needs
    // normalizing (`files` is resolved, a digest is hex).
    return `${this.files}${path.sep}${this.fileRel(digest, exec)}`;
  }

  /** {@linkcode filePath} relative to {@linkcode files}. */
  fileRel(digest: string, exec: boolean): string {
    const shard = `${digest.slice(0, 2)}${path.sep}${digest.slice(2)}`;
    return exec ? `${shard}-exec` : shard;
  }

  /** Create the folders (all 256 shards up front, so the write path never mkdirs). */
  ensure(): void {
    try {
      mkdirSync(this.tmp, { recursive: true });
      mkdirSync(this.trash, { recursive: true });
      for (let i = 0; i < 256; i++) {
        mkdirSync(path.join(this.files, i.toString(16).padStart(2, "0")), { recursive: true });
      }
    } catch (error) {
      const why = STORE_DIR_PROBLEMS[(error as { code?: string }).code ?? ""];
      if (!why) throw error;
      throw new StoreDirError(
        `cannot use ${this.root} as the store: ${why}. Pass --store DIR (or set SILO_STORE_DIR) to a ` +
          "writable folder, on the same filesystem as your projects so files can be hard-linked.",
        { cause: error },
      );
    }
  }
}

/** Why a store folder cannot be made, by errno. */
const STORE_DIR_PROBLEMS: Record<string, string> = {
  ENOTDIR: "it, or a folder above it, is a file",
  EEXIST: "a file is in the way",
  EROFS: "it is on a read-only filesystem",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is used up",
};

/** The store folder cannot be created or written. */
export class StoreDirError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreDirError";
  }
}

/** The default store: $SILO_STORE_DIR, else the platform cache dir. */
export function defaultStoreDir(
  env: Record<string, string | undefined> = process.env,
  platform = process.platform,
): string {
  if (env.SILO_STORE_DIR) return env.SILO_STORE_DIR;
  // An empty or relative value counts as unset (the XDG spec says so): a store in the current folder would
  // give every project its own.
  const absolute = (value: string | undefined) => value && path.isAbsolute(value) ? value : undefined;
  const home = absolute(env.HOME) ?? absolute(env.USERPROFILE) ?? os.homedir();
  if (platform === "darwin") return path.join(home, "Library", "Caches", "silo");
  if (platform === "win32") {
    return path.join(absolute(env.LOCALAPPDATA) ?? path.join(home, "AppData", "Local"), "silo");
  }
  return path.join(absolute(env.XDG_CACHE_HOME) ?? path.join(home, ".cache"), "silo");
}
