/**
 * De-duplicates in-flight work by key (invariant 4: one download per tarball).
 *
 * @module
 */

/**
 * Concurrent `run` calls with the same key share one promise. The slot is cleared when the
 * work settles, either way: a failure wakes every waiter with the error and a later call
 * starts afresh; a success is remembered by the store, not here.
 *
 * @example
 * ```ts
 * const flights = new SingleFlight<string, Uint8Array>();
 * const [a, b] = await Promise.all([
 *   flights.run("ms@2.1.3", () => download("ms@2.1.3")),
 *   flights.run("ms@2.1.3", () => download("ms@2.1.3")), // waits on the first; no second download
 * ]);
 * ```
 */
export class SingleFlight<K, V> {
  readonly #flights = new Map<K, Promise<V>>();

  /** Run `fn` for `key`, or join the flight already running for it. */
  run(key: K, fn: () => Promise<V>): Promise<V> {
    const existing = this.#flights.get(key);
    if (existing) return existing;
    let flight: Promise<V>;
    try {
      // A synchronous throw from fn becomes a rejection, like an async failure.
      flight = Promise.resolve(fn());
    } catch (err) {
      flight = Promise.reject(err);
    }
    const tracked = flight.finally(() => {
      // Only clear our own slot; a later flight may already own the key.
      if (this.#flights.get(key) === tracked) this.#flights.delete(key);
    });
    this.#flights.set(key, tracked);
    return tracked;
  }

  /** The promise in flight for `key`, if any (for tests and diagnostics). */
  inFlight(key: K): Promise<V> | undefined {
    return this.#flights.get(key);
  }

  /** True when work for `key` is in flight. */
  has(key: K): boolean {
    return this.#flights.has(key);
  }

  /** How many keys are in flight. */
  get size(): number {
    return this.#flights.size;
  }
}
