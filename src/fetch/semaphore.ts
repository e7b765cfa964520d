/**
 * A counting semaphore: at most `limit` holders at once, the rest wait in FIFO order.
 *
 * @module
 */

/**
 * Bounds concurrent work. `acquire` resolves to a release function that is safe to call
 * more than once (only the first call counts).
 *
 * @example
 * ```ts
 * const sem = new Semaphore(16);
 * const release = await sem.acquire();
 * try { await work(); } finally { release(); }
 * ```
 */
export class Semaphore {
  readonly #limit: number;
  #active = 0;
  readonly #waiters: Array<{ grant: () => void; reject: (e: unknown) => void }> = [];

  /** @param limit the number of concurrent holders, at least 1. */
  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`concurrency must be an integer >= 1, got ${limit}`);
    }
    this.#limit = limit;
  }

  /** The configured limit. */
  get limit(): number {
    return this.#limit;
  }

  /** How many holders are active now. */
  get active(): number {
    return this.#active;
  }

  /** How many callers are waiting for a slot. */
  get pending(): number {
    return this.#waiters.length;
  }

  /** Wait for a slot; rejects with the signal's reason if aborted while waiting. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#active < this.#limit) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(this.#releaser());
        },
        reject,
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i !== -1) this.#waiters.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      // Hand the slot straight to the next waiter so nobody can jump the queue.
      if (next) next.grant();
      else this.#active--;
    };
  }
}
