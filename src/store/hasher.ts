/**
 * The hasher behind an interface: hash-wasm (the default, per the design) or the
 * runtime's native node:crypto. bench/micro.ts compares them.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { IHasher } from "hash-wasm";

/** An incremental hash. */
export interface IncrementalHash {
  update(data: Uint8Array): void;
  /** The digest as raw bytes (for SRI, base64) — the hash cannot be updated afterwards. */
  digestBytes(): Uint8Array;
}

/** One-shot and incremental sha512 (and sha1 for old integrity strings). */
export interface Hasher {
  readonly name: "hash-wasm" | "native";
  /** sha512 of `data` as lowercase hex: the CAS name of a file. */
  sha512Hex(data: Uint8Array): string;
  /** A fresh incremental hash for `algorithm`. */
  create(algorithm: "sha512" | "sha1"): Promise<IncrementalHash>;
}

/** The hash-wasm hasher; one instance serves every sync one-shot call (JS runs them one at a time). */
export async function createWasmHasher(): Promise<Hasher> {
  // Loaded only when asked for: the native hasher is the default.
  const { createSHA1, createSHA512 } = await import("hash-wasm");
  const shared = await createSHA512();
  return {
    name: "hash-wasm",
    sha512Hex(data) {
      shared.init();
      shared.update(data);
      return shared.digest("hex");
    },
    async create(algorithm) {
      const h: IHasher = algorithm === "sha512" ? await createSHA512() : await createSHA1();
      h.init();
      return {
        update: (data) => void h.update(data),
        digestBytes: () => h.digest("binary"),
      };
    },
  };
}

/**
 * The runtime's native hasher (node:crypto). `sha512Hex` replaces its one-shot digest, the per-file one
 * (src/runtime/libcrypto.ts: the system's libcrypto, where it loads).
 */
export function createNativeHasher(
  sha512Hex: (data: Uint8Array) => string = (data) => createHash("sha512").update(data).digest("hex"),
): Hasher {
  return {
    name: "native",
    sha512Hex,
    create(algorithm) {
      const h = createHash(algorithm);
      return Promise.resolve({
        update: (data) => void h.update(data),
        digestBytes: () => new Uint8Array(h.digest()),
      });
    },
  };
}
