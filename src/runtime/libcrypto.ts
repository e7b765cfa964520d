/**
 * One-shot sha512 through the system's OpenSSL libcrypto, over FFI, for the store's per-file digests.
 *
 * On this project's benchmark machine (AMD EPYC, AVX-512), hashing mocha's 16,909 files (283 MB) took
 * 350-365 ms through libcrypto's `SHA512()` against 480-490 ms through node:crypto, on Bun (BoringSSL)
 * and Deno alike; a cold install hashes every file it stores. Linux only: macOS ships no libcrypto that
 * may be loaded (dlopen of its unversioned one aborts the process), and elsewhere node:crypto serves.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import process from "node:process";

/** sha512 of `data` as lowercase hex. */
export type Sha512Hex = (data: Uint8Array) => string;

const DENO_SYMBOLS = {
  SHA512: { parameters: ["buffer", "usize", "buffer"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

const BUN_SYMBOLS = {
  SHA512: { args: ["buffer", "u64", "buffer"], returns: "ptr" },
} as const;

// A plain string would let bundlers and `deno check` try to resolve the module.
const BUN_FFI: string = ["bun", "ffi"].join(":");

/** Library names to try, in order; `SILO_LIBCRYPTO_PATH` overrides. Empty where none may be loaded. */
export function libcryptoCandidates(platform: string, override?: string): string[] {
  if (override) return [override];
  return platform === "linux" ? ["libcrypto.so.3", "libcrypto.so"] : [];
}

let lastError: Error | undefined;

/** Why the last {@linkcode loadSha512Hex} returned null, if it did. */
export function libcryptoLoadError(): Error | undefined {
  return lastError;
}

/**
 * Load `SHA512()` from libcrypto with the running runtime's FFI; null when there is no FFI (or no
 * permission for it), no candidate library, or the library lacks the symbol.
 *
 * @example
 * ```ts ignore
 * const sha512Hex = await loadSha512Hex();
 * console.log(sha512Hex?.(new TextEncoder().encode("abc")));
 * ```
 */
export async function loadSha512Hex(): Promise<Sha512Hex | null> {
  const failures: unknown[] = [];
  const candidates = libcryptoCandidates(process.platform, process.env.SILO_LIBCRYPTO_PATH);
  const g = globalThis as { Bun?: unknown; Deno?: typeof Deno };
  const out = new Uint8Array(64);
  const hex = Buffer.from(out.buffer);
  for (const name of candidates) {
    try {
      if (g.Bun !== undefined) {
        const ffi = await import(BUN_FFI) as {
          dlopen(path: string, symbols: typeof BUN_SYMBOLS): {
            symbols: { SHA512(data: Uint8Array, length: number, out: Uint8Array): unknown };
          };
        };
        const { SHA512 } = ffi.dlopen(name, BUN_SYMBOLS).symbols;
        return (data) => (SHA512(data, data.length, out), hex.toString("hex"));
      }
      if (g.Deno !== undefined) {
        const { SHA512 } = g.Deno.dlopen(name, DENO_SYMBOLS).symbols;
        return (data) => (SHA512(data, BigInt(data.length), out), hex.toString("hex"));
      }
      return null;
    } catch (error) {
      failures.push(error);
    }
  }
  lastError = new Error(
    candidates.length
      ? `could not load libcrypto's SHA512 through FFI (tried ${
        candidates.join(", ")
      }; SILO_LIBCRYPTO_PATH names another)`
      : `no libcrypto is loaded on ${process.platform}`,
    { cause: new AggregateError(failures) },
  );
  return null;
}
