/**
 * A link worker: imports whole packages from the store into node_modules on its own thread, so the
 * kernel's per-inode work (mkdir, link, clone) runs on every core. See link_pool.ts for the protocol.
 * Imports only light modules: it starts while the main thread is still reading the lockfile.
 *
 * @module
 */
import { importerFromSpec } from "../link/mod.ts";
import type { FileImporter } from "../link/mod.ts";
import type { Libc } from "../runtime/types.ts";
import { StoreLayout } from "../store/layout.ts";
import { fastPathOk } from "../store/verifier.ts";
import { Materializer, MissingStoreFileError } from "./materialize.ts";
import type { LinkReply, LinkRequest } from "./link_pool.ts";

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<LinkRequest>) => void) | null;
  postMessage(message: LinkReply): void;
};

let layout: StoreLayout | undefined;
let fsx: Materializer | undefined;
let importer: FileImporter | undefined;
/** Requests that arrive while libc is loading wait here, in order. */
let ready: Promise<void> = Promise.resolve();

scope.onmessage = ({ data }) => {
  if (data.type === "init") {
    ready = init(data.storeRoot, data.spec);
    return;
  }
  ready = ready.then(() => scope.postMessage(data.type === "link" ? link(data) : symlinks(data)));
};

async function init(storeRoot: string, spec: Extract<LinkRequest, { type: "init" }>["spec"]): Promise<void> {
  let libc: Libc | null = null;
  if (spec.method === "clone") libc = (await (await import("../runtime/mod.ts")).loadRuntime()).libc;
  layout = new StoreLayout(storeRoot);
  importer = importerFromSpec(spec, libc, (message) => scope.postMessage({ type: "warn", message }));
  fsx = new Materializer(layout, importer);
}

function symlinks(job: Extract<LinkRequest, { type: "symlinks" }>): LinkReply {
  try {
    for (const [target, at, kind] of job.links) fsx!.symlink(target, at, kind);
    return { type: "symlinked", id: job.id };
  } catch (error) {
    return failed(job.id, error);
  }
}

function failed(id: number, error: unknown): LinkReply {
  const e = error as { message?: string; code?: string; name?: string };
  return { type: "failed", id, message: String(e.message ?? error), code: e.code, name: e.name };
}

function link(job: Extract<LinkRequest, { type: "link" }>): LinkReply {
  const { id, record, dir } = job;
  try {
    // A store file edited through some project's hardlink must not spread: the main thread re-checks.
    if (job.check && !Object.values(record.files).every((entry) => fastPathOk(layout!, entry))) {
      return { type: "suspect", id };
    }
    const files = fsx!.importPackage(record, dir);
    return { type: "done", id, files, method: importer!.method };
  } catch (error) {
    if (error instanceof MissingStoreFileError) return { type: "missing", id, file: error.file };
    return failed(id, error);
  }
}
