/**
 * A per-key async mutex. The CAS writer and the verifier take the same key (the CAS
 * path), so a verifier never judges or deletes a file a writer is still producing.
 *
 * @module
 */

/** Release function returned by {@linkcode KeyedMutex.lock}. */
export type Release = () => void;

/**
 * An in-process mutex per key.
 *
 * @example
 * ```ts
 * import { KeyedMutex } from "./keyed_mutex.ts";
 * const mutex = new KeyedMutex();
 * const result = await mutex.run("a", () => 42);
 * ```
 */
export class KeyedMutex {
  #tails = new Map<string, Promise<void>>();

  /** Wait for `key` and hold it until the returned function is called. */
  async lock(key: string): Promise<Release> {
    const previous = this.#tails.get(key);
    let release!: Release;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous ? previous.then(() => mine) : mine;
    this.#tails.set(key, tail);
    if (previous) await previous;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }

  /** Whether someone holds or waits for `key`. */
  isLocked(key: string): boolean {
    return this.#tails.has(key);
  }

  /** Run `fn` holding `key`. */
  async run<T>(key: string, fn: () => T | Promise<T>): Promise<T> {
    const release = await this.lock(key);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
