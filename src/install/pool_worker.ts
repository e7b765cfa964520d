/**
 * An install worker: unpacks tarballs into the store and imports whole packages from it into
 * node_modules on its own thread, so hashing and the kernel's per-inode work (create, mkdir, link,
 * clone) run on every core. See worker_pool.ts for the protocol. Imports only light modules: it starts
 * while the main thread is still reading the lockfile.
 *
 * @module
 */
import { type FileImporter, importerFromSpec } from "../link/mod.ts";
import { StoreLayout } from "../store/layout.ts";
import { packFiles, unpackFiles } from "../store/packed_files.ts";
import { filesPassFastPath } from "../store/verifier.ts";
import { type FileNaming, Materializer, MissingStoreFileError } from "./materialize.ts";
import type { LinkJob, PoolReply, PoolRequest } from "./worker_pool.ts";
import type { IngestResult, TarballError } from "../fetch/tar_ingest.ts";
import { preferShortRuns } from "../runtime/jit.ts";

preferShortRuns();

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<PoolRequest>) => void) | null;
  postMessage(message: PoolReply): void;
};

let layout: StoreLayout | undefined;
let fsx: Materializer | undefined;
let importer: FileImporter | undefined;
let hasherName: Extract<PoolRequest, { type: "init" }>["hasher"] = "native";
let ingester: Promise<(job: Extract<PoolRequest, { type: "ingest" }>) => Promise<IngestResult>> | undefined;
/** Requests that arrive while libc is loading wait here, in order. */
let ready: Promise<void> = Promise.resolve();

scope.onmessage = ({ data }) => {
  switch (data.type) {
    case "init":
      hasherName = data.hasher;
      ready = init(data.storeRoot, data.spec, data.naming);
      return;
    case "ingest":
      // Unpacking awaits between chunks: links queued behind it wait, so one chain keeps replies in order.
      ready = ready.then(async () => scope.postMessage(await ingest(data)));
      return;
    default:
      ready = ready.then(() =>
        scope.postMessage(data.type === "link" ? linkBatch(data.jobs) : symlinks(data))
      );
  }
};

async function ingest(job: Extract<PoolRequest, { type: "ingest" }>): Promise<PoolReply> {
  try {
    ingester ??= loadIngester();
    const { files, ...result } = await (await ingester)(job);
    return {
      type: "ingested",
      id: job.id,
      result,
      files: packFiles(files),
      count: Object.keys(files).length,
    };
  } catch (error) {
    return failed(job.id, error);
  }
}

/**
 * The unpacking code (tar, gzip, hashing) loads on the first tarball: a hot install has none, and every
 * module a worker loads delays its first link.
 */
async function loadIngester() {
  const [
    { CasWriter },
    { createNativeHasher, createWasmHasher },
    { KeyedMutex },
    { ingestTarball },
    { loadSha512Hex },
  ] = await Promise
    .all([
      import("../store/cas.ts"),
      import("../store/hasher.ts"),
      import("../store/keyed_mutex.ts"),
      import("../fetch/tar_ingest.ts"),
      import("../runtime/libcrypto.ts"),
    ]);
  const hasher = hasherName === "hash-wasm"
    ? await createWasmHasher()
    : createNativeHasher(await loadSha512Hex() ?? undefined);
  // Its own in-process lock: across workers, the CAS writer's cross-process rules hold (temp + rename, or a
  // link of a complete file, which never replaces).
  const cas = new CasWriter(layout!, hasher, new KeyedMutex());
  // Placing files while storing them links them: only for the hardlink importer.
  const placer = importer?.method === "hardlink" ? fsx : undefined;
  return (job: Extract<PoolRequest, { type: "ingest" }>) =>
    ingestTarball(job.tarball, cas, job.options, placer);
}

async function init(
  storeRoot: string,
  spec: Extract<PoolRequest, { type: "init" }>["spec"],
  naming: FileNaming,
): Promise<void> {
  // Clones need libc; hard links go faster with its directory calls (see Materializer).
  const libc = spec.method === "copy" ? null : await (await import("../runtime/libc.ts")).loadLibc();
  layout = new StoreLayout(storeRoot);
  importer = importerFromSpec(spec, libc, (message) => scope.postMessage({ type: "warn", message }));
  fsx = new Materializer(layout, importer, naming, libc?.dirs);
}

function symlinks(job: Extract<PoolRequest, { type: "symlinks" }>): PoolReply {
  try {
    for (const [target, at, kind] of job.links) fsx!.symlink(target, at, kind);
    return { type: "symlinked", id: job.id };
  } catch (error) {
    return failed(job.id, error);
  }
}

function failed(id: number, error: unknown): PoolReply {
  const e = error as { message?: string; code?: string; name?: string };
  // A TarballError (by shape: its module loads lazily) keeps its kind, so the main thread can rebuild it.
  const tarball = e.name === "TarballError"
    ? { kind: (error as TarballError).kind, package: (error as TarballError).package }
    : undefined;
  return { type: "failed", id, message: String(e.message ?? error), code: e.code, name: e.name, tarball };
}

function linkBatch(jobs: LinkJob[]): PoolReply {
  using _store = fsx!.openStore();
  return { type: "batch", replies: jobs.map(link) };
}

function link(job: LinkJob): PoolReply {
  const { id, dir } = job;
  try {
    const record = { ...job.record, files: unpackFiles(job.record.files) };
    // A store file edited through some project's hardlink must not spread: the main thread re-checks.
    if (job.check && !filesPassFastPath(layout!, record.files, fsx!.storeStat)) {
      return { type: "suspect", id };
    }
    return { type: "done", id, imported: fsx!.importPackage(record, dir), method: importer!.method };
  } catch (error) {
    if (error instanceof MissingStoreFileError) return { type: "missing", id, file: error.file };
    return failed(id, error);
  }
}
