/**
 * The content-addressed writer. A CAS path only ever shows complete content: bytes go
 * to a temp file in v1/tmp, get their final mode while still private, and are then
 * published with link(2), which never replaces an inode someone may already have
 * linked into a project (first writer wins, across processes too).
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import type { Hasher } from "./hasher.ts";
import type { KeyedMutex } from "./keyed_mutex.ts";
import type { StoreLayout } from "./layout.ts";

/** A file as it sits in the store. */
export interface StoredFile {
  /** sha512 hex of the content. */
  digest: string;
  exec: boolean;
  size: number;
  /** mtime (ms) of the CAS file when it was last known good: the verifier's fast-path reference. */
  checkedAt: number;
  /** Whether this call published the file (false: it was already there). */
  written: boolean;
}

/** The mode a published CAS file has: read-only, executable ones a separate 0o555 inode. */
export const casMode = (exec: boolean): number => (exec ? 0o555 : 0o444);

/** Seams for tests that simulate a crash or a racing writer. */
export interface CasHooks {
  /** Publishes `tmp` at `dest`; throws EEXIST when dest exists. Default: fs.linkSync. */
  publish?: (tmp: string, dest: string) => void;
}

let tempCounter = 0;
const tempPrefix = `${process.pid}-${Date.now().toString(36)}`;

/**
 * Writes file content into the store under its sha512.
 *
 * @example
 * ```ts ignore
 * const file = await cas.writeBytes(new TextEncoder().encode("hi"), false);
 * console.log(file.digest);
 * ```
 */
export class CasWriter {
  readonly layout: StoreLayout;
  readonly hasher: Hasher;
  readonly mutex: KeyedMutex;
  #publish: (tmp: string, dest: string) => void;
  // Creating with the final mode is enough unless the umask strips read/exec bits.
  #umaskStrips = (process.umask() & 0o555) !== 0;

  constructor(layout: StoreLayout, hasher: Hasher, mutex: KeyedMutex, hooks: CasHooks = {}) {
    this.layout = layout;
    this.hasher = hasher;
    this.mutex = mutex;
    this.#publish = hooks.publish ?? fs.linkSync;
  }

  /** A fresh temp path on the store's filesystem. */
  tempPath(): string {
    return path.join(this.layout.tmp, `${tempPrefix}-${(tempCounter++).toString(36)}`);
  }

  /** Store `bytes`; a second write of the same content is a no-op. */
  async writeBytes(bytes: Uint8Array, exec: boolean): Promise<StoredFile> {
    const digest = this.hasher.sha512Hex(bytes);
    const dest = this.layout.filePath(digest, exec);
    const present = statIfComplete(dest, bytes.length);
    if (present) return { digest, exec, size: bytes.length, checkedAt: present.mtimeMs, written: false };
    return await this.mutex.run(dest, () => {
      const again = statIfComplete(dest, bytes.length);
      if (again) return { digest, exec, size: bytes.length, checkedAt: again.mtimeMs, written: false };
      const tmp = this.tempPath();
      fs.writeFileSync(tmp, bytes, { mode: casMode(exec), flag: "wx" });
      return this.#publishLocked(tmp, dest, digest, exec, bytes.length);
    });
  }

  /**
   * Publish a temp file the caller filled and hashed (large files are streamed, not buffered).
   * The temp file is consumed either way.
   */
  async publishTemp(tmp: string, digest: string, size: number, exec: boolean): Promise<StoredFile> {
    const dest = this.layout.filePath(digest, exec);
    return await this.mutex.run(dest, () => {
      const present = statIfComplete(dest, size);
      if (present) {
        fs.rmSync(tmp, { force: true });
        return { digest, exec, size, checkedAt: present.mtimeMs, written: false };
      }
      fs.chmodSync(tmp, casMode(exec)); // still private: nobody can have linked it yet
      return this.#publishLocked(tmp, dest, digest, exec, size);
    });
  }

  #publishLocked(tmp: string, dest: string, digest: string, exec: boolean, size: number): StoredFile {
    try {
      if (this.#umaskStrips) fs.chmodSync(tmp, casMode(exec));
      const { mtimeMs } = fs.statSync(tmp);
      try {
        this.#publish(tmp, dest);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        // Another process won the race, or a stale wrong-size file is there: never overwrite a
        // published inode. A wrong one is moved aside (we hold its lock) and we publish again.
        const existing = statIfComplete(dest, size);
        if (existing) return { digest, exec, size, checkedAt: existing.mtimeMs, written: false };
        fs.renameSync(dest, path.join(this.layout.trash, path.basename(tmp)));
        this.#publish(tmp, dest);
      }
      return { digest, exec, size, checkedAt: mtimeMs, written: true };
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
}

/** lstat `p`; the stats when it is a regular file of `size` bytes, else undefined. */
function statIfComplete(p: string, size: number): fs.Stats | undefined {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  return st && st.isFile() && st.size === size ? st : undefined;
}
