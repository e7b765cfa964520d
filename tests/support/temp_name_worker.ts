/**
 * A worker for tests/store/cas.test.ts: loads its own copy of the CAS writer with the clock frozen, as
 * two install workers starting in the same millisecond would, and reports the first temp path it makes.
 *
 * @module
 */
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<string>) => void) | null;
  postMessage(message: string): void;
};

scope.onmessage = async ({ data: storeRoot }) => {
  Date.now = () => 1_700_000_000_000;
  const { CasWriter } = await import("../../src/store/cas.ts");
  const { StoreLayout } = await import("../../src/store/layout.ts");
  const { KeyedMutex } = await import("../../src/store/keyed_mutex.ts");
  const { createNativeHasher } = await import("../../src/store/hasher.ts");
  const cas = new CasWriter(new StoreLayout(storeRoot), createNativeHasher(), new KeyedMutex());
  scope.postMessage(cas.tempPath());
};
