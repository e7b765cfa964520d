/**
 * A stand-in install worker for tests/install/worker_pool.test.ts: answers `init` with a warning (so the
 * pool knows it runs), then dies on the first tarball it is given, reporting how many bytes it got.
 *
 * @module
 */
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<{ type: string; tarball?: Uint8Array }>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = ({ data }) => {
  if (data.type === "init") return scope.postMessage({ type: "warn", message: "dying worker ready" });
  if (data.type === "ingest") {
    scope.postMessage({ type: "warn", message: `got ${data.tarball?.length} bytes` });
    setTimeout(() => {
      throw new Error("the dying worker stops");
    });
  }
};
