/**
 * Install workers: tarballs are unpacked into the store, and whole packages imported from it, on other
 * threads. Both are mostly kernel work (file creation, mkdir, link, clone) plus hashing, which run on
 * the calling thread, so one JS thread leaves the other cores idle. Measured on the 2-CPU ext4 bench
 * machine (mocha's 2,349 mkdirs + 16,578 links replayed by a Python script right after `rm -rf`):
 * 1 thread 594-921 ms, 2 threads 352-543 ms.
 *
 * Each package goes to one worker whole (its package.json still lands last); two workers may create
 * the same parent folder, which the Materializer tolerates (EEXIST). Two workers storing the same file
 * is the cross-process case of the CAS writer: both publish complete content by rename.
 *
 * @module
 */
import os from "node:os";
import process from "node:process";
import type { ImporterSpec } from "../link/mod.ts";
import type { CasWriter } from "../store/cas.ts";
import type { Hasher } from "../store/hasher.ts";
import {
  type IngestOptions,
  type IngestResult,
  ingestTarball,
  TarballError,
  type TarballErrorKind,
  type TarballSource,
} from "../fetch/tar_ingest.ts";
import { TransientFetchError } from "../fetch/errors.ts";
import { fileCountOf, packedFilesOf, withPackedFiles } from "../store/packed_files.ts";
import type { FileNaming, ImportableRecord, Imported } from "./materialize.ts";

/** Main thread -> worker. */
export type PoolRequest =
  | { type: "init"; storeRoot: string; spec: ImporterSpec; hasher: Hasher["name"]; naming: FileNaming }
  | { type: "link"; jobs: LinkJob[] }
  | { type: "symlinks"; id: number; links: Symlink[] }
  | { type: "ingest"; id: number; tarball: Uint8Array; options: IngestOptions };

/** A package to import, its file map packed as the index stores it (see packed_files.ts). */
export type PackedRecord = Omit<ImportableRecord, "files"> & { files: string };

/** One package for a worker to import into `dir`. */
export interface LinkJob {
  id: number;
  record: PackedRecord;
  dir: string;
  check: boolean;
}

/** A symlink to create: the absolute path it points to, where it goes, and what it points at. */
export type Symlink = [target: string, at: string, kind: "dir" | "file"];

/** Worker -> main thread. */
export type PoolReply =
  | { type: "done"; id: number; imported: Imported; method: ImporterSpec["method"] }
  | { type: "symlinked"; id: number }
  | { type: "ingested"; id: number; result: Omit<IngestResult, "files">; files: string; count: number }
  /** `check` was set and a store file failed the verifier's fast path: nothing was linked. */
  | { type: "suspect"; id: number }
  /** The store lacks a file the row names. */
  | { type: "missing"; id: number; file: string }
  | {
    type: "failed";
    id: number;
    message: string;
    code?: string;
    name?: string;
    tarball?: { kind: TarballErrorKind; package: string };
  }
  | { type: "warn"; message: string }
  /** The replies to one `link` message, in order. */
  | { type: "batch"; replies: PoolReply[] };

/** What became of one package. */
export type LinkOutcome =
  | { kind: "done"; imported: Imported }
  | { kind: "suspect" }
  | { kind: "missing"; file: string };

type Outcome = LinkOutcome | { kind: "ingested"; result: IngestResult };

/**
 * Tarballs up to this size are read into memory and unpacked by a worker; a larger one is streamed
 * into the store on the main thread, so memory stays bounded by concurrency x this.
 */
export const WORKER_TARBALL_MAX = 16 * 1024 * 1024;

/**
 * Downloads outrun unpacking (mocha on loopback: 450 tarballs queued at once), so bodies wait in their
 * sockets, holding their download slots, while this many bytes of tarballs are queued for the workers.
 */
const QUEUED_BYTES_MAX = 64 * 1024 * 1024;

/**
 * Link jobs go out in messages of up to this many packages: each message costs both threads more than its
 * bytes. Mocha, hot, Bun binary: 638 messages become ~40; CPU 540 -> 520 ms, wall unchanged (the workers'
 * kernel work is what the install waits for).
 */
const LINK_BATCH = 16;

/** Packages below this count are linked on the main thread: starting workers would cost more. */
export const POOL_MIN_PACKAGES = 64;

/**
 * How many install workers to start: $SILO_WORKERS if set (0 turns them off), else one per core,
 * at most 4 (a guess: only 2 cores were measured; each worker is another isolate's memory).
 */
export function workerCount(env: Record<string, string | undefined> = process.env): number {
  const fromEnv = env.SILO_WORKERS;
  if (fromEnv !== undefined && fromEnv !== "") {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 0) {
      throw new Error(
        `SILO_WORKERS must be a whole number (0 does all the work on the main thread), not "${fromEnv}"`,
      );
    }
    return n;
  }
  return Math.min(4, os.availableParallelism?.() ?? os.cpus().length);
}

/**
 * Where the worker's module is. In a `bun build --compile` binary this module is bundled (its
 * import.meta.url names the binary) and the worker is an extra entry point (deno.json, compile:bun)
 * stored under its path below src/, the entry points' common folder.
 */
function workerUrl(): string {
  const bundled = !import.meta.url.endsWith("/worker_pool.ts");
  return new URL(bundled ? "./install/pool_worker.ts" : "./pool_worker.ts", import.meta.url).href;
}

/** The workers could not run (failed to load, or died): callers link on their own thread instead. */
export class WorkerPoolBroken extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkerPoolBroken";
  }
}

interface Pending {
  resolve(outcome: Outcome): void;
  reject(error: Error): void;
  worker: number;
  weight: number;
}

/**
 * A pool of install workers. Start it early (workers load while the lockfile is read), `configure` it
 * once the importer is chosen, then `ingest` tarballs and `link` packages; `close` when done (also on
 * failure).
 *
 * @example
 * ```ts ignore
 * const pool = WorkerPool.start(2);
 * pool.configure(layout.root, { method: "hardlink", auto: true }, "native", warn);
 * const outcome = await pool.link(record, "/proj/node_modules/ms", true);
 * pool.close();
 * ```
 */
export class WorkerPool {
  readonly #workers: Worker[];
  /** Which workers have answered once: only those are handed tarball bytes (see ingest). */
  readonly #alive: boolean[];
  readonly #load: number[];
  /** Link jobs not posted yet, per worker: sent when LINK_BATCH are waiting, or once this task ends. */
  readonly #outbox: LinkJob[][];
  #flushQueued = false;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #warn: (message: string) => void = () => {};
  #crashed: WorkerPoolBroken | undefined;
  #queuedBytes = 0;
  #unqueued: (() => void)[] = [];
  /** The method the workers last reported (an auto importer may downgrade mid-install). */
  method: ImporterSpec["method"] | undefined;

  private constructor(count: number, url: string) {
    this.#workers = Array.from({ length: count }, (_, i) => {
      const worker = new Worker(url, { type: "module" });
      worker.onmessage = (event: MessageEvent<PoolReply>) => {
        this.#alive[i] = true;
        this.#reply(event.data);
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        this.#crash(i, new WorkerPoolBroken(`an install worker failed: ${event.message}`));
      };
      return worker;
    });
    this.#alive = this.#workers.map(() => false);
    this.#load = this.#workers.map(() => 0);
    this.#outbox = this.#workers.map(() => []);
  }

  /** Start `count` workers (at least one); `url` names another worker module (tests). */
  static start(count: number, url = workerUrl()): WorkerPool {
    return new WorkerPool(Math.max(1, count), url);
  }

  /**
   * Tell the workers where the store is, how to import, which hasher to store with and how files are named
   * in node_modules; their warnings go to `warn`.
   */
  configure(
    storeRoot: string,
    spec: ImporterSpec,
    hasher: Hasher["name"],
    warn: (message: string) => void,
    naming: FileNaming = "packed",
  ): void {
    this.#warn = warn;
    this.method = spec.method;
    for (const w of this.#workers) {
      w.postMessage({ type: "init", storeRoot, spec, hasher, naming } satisfies PoolRequest);
    }
  }

  /**
   * Unpack a tarball into the store on a worker: the same {@linkcode ingestTarball}, same result and
   * errors (a {@linkcode TarballError} keeps its kind). A body over {@linkcode WORKER_TARBALL_MAX}, or
   * a pool that cannot run, is ingested here through `cas` instead. Bytes in an array that owns its buffer
   * may be handed to the worker (the caller's array is left empty); should that worker stop before it
   * answers, this rejects with a {@linkcode TransientFetchError}, so the download is made again.
   */
  async ingest(source: TarballSource, cas: CasWriter, options: IngestOptions): Promise<IngestResult> {
    while (this.#queuedBytes >= QUEUED_BYTES_MAX) await new Promise<void>((r) => this.#unqueued.push(r));
    const read = await readUpTo(source, WORKER_TARBALL_MAX);
    if ("rest" in read || this.#crashed) return await ingestTarball(read.rest ?? read.whole, cas, options);
    const whole = read.whole, size = whole.length;
    // Handed over, not copied, when the bytes own their buffer and the worker has shown it runs:
    // structured-cloning mocha's 90 MB of tarballs cost this thread 27-44 ms (Bun), a transfer 1 ms. The
    // caller's array is then empty.
    const owned = whole.byteOffset === 0 && whole.byteLength === whole.buffer.byteLength;
    this.#queuedBytes += size;
    try {
      const outcome = await this.#send(
        (id, worker) =>
          this.#workers[worker].postMessage(
            { type: "ingest", id, tarball: whole, options } satisfies PoolRequest,
            owned && this.#alive[worker] ? [whole.buffer as ArrayBuffer] : [],
          ),
        size / 4096 + 1,
      );
      return (outcome as Extract<Outcome, { kind: "ingested" }>).result;
    } catch (error) {
      if (!(error instanceof WorkerPoolBroken)) throw error;
      if (whole.length === size) return await ingestTarball(whole, cas, options);
      // The bytes went to the worker that stopped: download them again (then unpacked on this thread).
      throw new TransientFetchError(`${options.label}: the install worker stopped while unpacking it`, {
        package: options.label,
        cause: error,
      });
    } finally {
      this.#queuedBytes -= size;
      for (const wake of this.#unqueued.splice(0)) wake();
    }
  }

  /**
   * Import `record` into `dir` (absolute) on the least busy worker. With `check`, the worker first runs
   * the verifier's fast path on every store file and links nothing if one fails it ("suspect").
   * Import errors reject with the worker's message and code; a pool whose workers cannot run rejects
   * with {@linkcode WorkerPoolBroken}.
   */
  link(record: ImportableRecord, dir: string, check: boolean): Promise<LinkOutcome> {
    const { key, name, version } = record;
    const packed = { key, name, version, files: packedFilesOf(record) };
    return this.#send((id, worker) => {
      const outbox = this.#outbox[worker];
      outbox.push({ id, record: packed, dir, check });
      if (outbox.length >= LINK_BATCH) this.#flush(worker);
      else if (!this.#flushQueued) {
        this.#flushQueued = true;
        queueMicrotask(() => this.#flushAll());
      }
    }, fileCountOf(record) + 1) as Promise<LinkOutcome>;
  }

  #flush(worker: number): void {
    const jobs = this.#outbox[worker].splice(0);
    if (jobs.length) this.#workers[worker].postMessage({ type: "link", jobs } satisfies PoolRequest);
  }

  #flushAll(): void {
    this.#flushQueued = false;
    for (let w = 0; w < this.#workers.length; w++) this.#flush(w);
  }

  /**
   * Give a job to the least busy worker; `weight` estimates its work (files, or 4 KiB of tarball).
   * `post` sends it (a request, or a job for the worker's outbox).
   */
  #send(post: (id: number, worker: number) => void, weight: number): Promise<Outcome> {
    if (this.#crashed) return Promise.reject(this.#crashed);
    let worker = 0;
    for (let i = 1; i < this.#load.length; i++) if (this.#load[i] < this.#load[worker]) worker = i;
    const id = this.#next++;
    this.#load[worker] += weight;
    return new Promise<Outcome>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, worker, weight });
      post(id, worker);
    });
  }

  /**
   * Create `links` (replacing whatever is at each path), spread over the workers: a symlink is an inode
   * too, and a pnpm layout has thousands.
   */
  async symlinks(links: Symlink[]): Promise<void> {
    if (this.#crashed) throw this.#crashed;
    const n = this.#workers.length;
    await Promise.all(
      this.#workers.map((worker, w) => {
        const part = links.filter((_, i) => i % n === w);
        if (part.length === 0) return;
        const id = this.#next++;
        return new Promise<Outcome>((resolve, reject) => {
          this.#pending.set(id, { resolve, reject, worker: w, weight: part.length });
          this.#load[w] += part.length;
          worker.postMessage({ type: "symlinks", id, links: part } satisfies PoolRequest);
        });
      }),
    );
  }

  /** Stop the workers (pending jobs are rejected). */
  close(): void {
    for (const w of this.#workers) w.terminate();
    for (const outbox of this.#outbox) outbox.length = 0;
    const error = new Error("the worker pool was closed");
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    // Ingests still waiting for room unpack on their own thread (the fallback of a pool that cannot run).
    this.#crashed ??= new WorkerPoolBroken("the worker pool was closed");
    for (const wake of this.#unqueued.splice(0)) wake();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #reply(reply: PoolReply): void {
    if (reply.type === "warn") return this.#warn(reply.message);
    if (reply.type === "batch") {
      for (const one of reply.replies) this.#reply(one);
      return;
    }
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    this.#load[pending.worker] -= pending.weight;
    switch (reply.type) {
      case "done":
        this.method = reply.method;
        return pending.resolve({ kind: "done", imported: reply.imported });
      case "symlinked":
        return pending.resolve({ kind: "done", imported: { files: 0 } });
      case "ingested":
        return pending.resolve({
          kind: "ingested",
          result: withPackedFiles(reply.result, reply.files, reply.count),
        });
      case "suspect":
        return pending.resolve({ kind: "suspect" });
      case "missing":
        return pending.resolve({ kind: "missing", file: reply.file });
      case "failed":
        return pending.reject(rebuildError(reply));
    }
  }

  #crash(worker: number, error: WorkerPoolBroken): void {
    this.#crashed ??= error;
    for (const [id, p] of this.#pending) {
      if (p.worker !== worker) continue;
      this.#pending.delete(id);
      p.reject(error);
    }
  }
}

/** The worker's error as the main thread would have thrown it: message, code, name, a TarballError's kind. */
function rebuildError(reply: Extract<PoolReply, { type: "failed" }>): Error {
  const error = reply.tarball ? new TarballError(reply.tarball.kind, reply.tarball.package, "") : new Error();
  error.message = reply.message; // already names the package
  if (reply.name) error.name = reply.name;
  return Object.assign(error, { code: reply.code });
}

/**
 * The whole of `source` when it is at most `max` bytes; else the rest of it, as an iterable that replays
 * what was read first. Errors from the source (a reset download) propagate as they are.
 */
async function readUpTo(
  source: TarballSource,
  max: number,
): Promise<{ whole: Uint8Array; rest?: undefined } | { rest: TarballSource }> {
  if (source instanceof Uint8Array) return source.length <= max ? { whole: source } : { rest: source };
  const iterator = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const next = await iterator.next();
    if (next.done) break;
    chunks.push(next.value);
    total += next.value.length;
    if (total > max) {
      const rest = async function* () {
        yield* chunks;
        for (let n = await iterator.next(); !n.done; n = await iterator.next()) yield n.value;
      };
      return { rest: rest() };
    }
  }
  if (chunks.length === 1) return { whole: chunks[0] };
  const whole = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.length;
  }
  return { whole };
}
