/**
 * The content-addressed writer. A CAS path only ever shows complete content: bytes go
 * to a temp file in v1/tmp, get their final mode while still private, and are then
 * renamed onto the final path. A rename replaces the directory entry, never the
 * bytes of an inode a project may have linked: two processes racing on the same
 * content both leave a complete file, and the older inode stays valid where linked.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { linkFromCas } from "./cas_link.ts";
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
  /** Publishes `tmp` at `dest` atomically. Default: fs.renameSync. */
  publish?: (tmp: string, dest: string) => void;
}

let tempCounter = 0;
// pid and time name the writer for whoever cleans up; the random part keeps two copies of this module
// apart: install workers share the pid and may load it in the same millisecond (seen: EEXIST on a temp
// file in a cold install, two workers writing the same name).
const tempPrefix = `${process.pid}-${Date.now().toString(36)}-${
  Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0")).join("")
}`;

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
  /** CAS paths {@linkcode writeBytesAt} published or found, with their checkedAt: a repeat is one link. */
  #placed = new Map<string, number>();

  constructor(layout: StoreLayout, hasher: Hasher, mutex: KeyedMutex, hooks: CasHooks = {}) {
    this.layout = layout;
    this.hasher = hasher;
    this.mutex = mutex;
    this.#publish = hooks.publish ?? fs.renameSync;
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
    // Look again under the lock only if someone held it: an uncontended lock means no writer in this
    // process ran since the check above (a publish from another process is harmless: same bytes).
    const contended = this.mutex.isLocked(dest);
    return await this.mutex.run(dest, () => {
      const again = contended ? statIfComplete(dest, bytes.length) : undefined;
      if (again) return { digest, exec, size: bytes.length, checkedAt: again.mtimeMs, written: false };
      const tmp = this.tempPath();
      writeNew(tmp, bytes, casMode(exec));
      // The kernel stamped mtime during the write, a moment ago: close enough for the verifier's
      // 100 ms window, and a stat saved per file. If we were descheduled, the verifier re-hashes once.
      return this.#publishLocked(tmp, dest, digest, exec, bytes.length, Date.now());
    });
  }

  /**
   * Store `bytes` and make `dest` (a new path on the store's filesystem, in a project) a hard link of the
   * stored file. The bytes are written once, into `dest`, and linked into the CAS only when complete: a
   * link never replaces a name, so the CAS path still only ever shows complete content (invariant 1), and
   * a cold install skips the temp file, the rename and the second link of writing then importing.
   * Content already stored is linked to `dest` instead, so projects share one inode. Where the store
   * cannot be linked to (another filesystem), `dest` keeps its own copy and the CAS gets one the usual way.
   */
  async writeBytesAt(bytes: Uint8Array, exec: boolean, dest: string): Promise<StoredFile> {
    const digest = this.hasher.sha512Hex(bytes);
    const file = this.layout.filePath(digest, exec);
    const size = bytes.length;
    const known = this.#placed.get(file);
    if (known !== undefined && linkReplacing(file, dest)) {
      return { digest, exec, size, checkedAt: known, written: false };
    }
    writeNew(dest, bytes, casMode(exec), true);
    if (this.#umaskStrips) fs.chmodSync(dest, casMode(exec)); // nothing links `dest` yet
    const checkedAt = Date.now(); // as in writeBytes: the write just stamped mtime
    try {
      fs.linkSync(dest, file);
      this.#placed.set(file, checkedAt);
      return { digest, exec, size, checkedAt, written: true };
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") return await this.writeBytes(bytes, exec);
    }
    const present = statIfComplete(file, size);
    if (present && linkReplacing(file, dest)) {
      this.#placed.set(file, present.mtimeMs);
      return { digest, exec, size, checkedAt: present.mtimeMs, written: false };
    }
    // The CAS path holds something else (a damaged file) or just vanished: ours replaces it, as in
    // writeBytes (rename under the lock); `dest` keeps its copy.
    return await this.mutex.run(file, () => {
      const tmp = this.tempPath();
      fs.linkSync(dest, tmp);
      return this.#publishLocked(tmp, file, digest, exec, size, checkedAt);
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
      return this.#publishLocked(tmp, dest, digest, exec, size, fs.statSync(tmp).mtimeMs);
    });
  }

  #publishLocked(
    tmp: string,
    dest: string,
    digest: string,
    exec: boolean,
    size: number,
    checkedAt: number,
  ): StoredFile {
    try {
      if (this.#umaskStrips) fs.chmodSync(tmp, casMode(exec));
      this.#publish(tmp, dest);
      return { digest, exec, size, checkedAt, written: true };
    } catch (error) {
      fs.rmSync(tmp, { force: true });
      throw error;
    }
  }
}

/**
 * Create `file` (it must not exist, unless `replace`) holding `bytes`. Not fs.writeFileSync: on Bun that
 * adds an ftruncate, on Deno a chmod, per file (seen in strace and a CPU profile; the CAS writes one per
 * file it stores).
 */
function writeNew(file: string, bytes: Uint8Array, mode: number, replace = false): void {
  let fd: number;
  try {
    fd = fs.openSync(file, "wx", mode);
  } catch (error) {
    if (!replace || (error as { code?: string }).code !== "EEXIST") throw error;
    fs.rmSync(file, { force: true }); // a project's file from an earlier attempt: never a CAS path
    fd = fs.openSync(file, "wx", mode);
  }
  try {
    for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Hard-link `src` (a CAS path) at `dest`, replacing a file already there (a project's, from an earlier
 * attempt). False when `src` is gone.
 */
export function linkReplacing(src: string, dest: string): boolean {
  try {
    linkFromCas(src, dest);
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT" && !fs.existsSync(src)) return false;
    if (code !== "EEXIST") throw error;
  }
  fs.rmSync(dest, { force: true });
  linkFromCas(src, dest);
  return true;
}

/** lstat `p`; the stats when it is a regular file of `size` bytes, else undefined. */
function statIfComplete(p: string, size: number): fs.Stats | undefined {
  // existsSync first: on Deno a failed lstat builds an error object, which cost more than the stat itself.
  if (!fs.existsSync(p)) return undefined;
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  return st && st.isFile() && st.size === size ? st : undefined;
}
