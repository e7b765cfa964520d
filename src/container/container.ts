/**
 * A tiny dependency-injection container: typed tokens, lazy singletons, and
 * overrides so tests can swap one part (a fake clock, a slow registry, a runtime
 * without FFI) and keep the rest real.
 *
 * @module
 */

/** A typed key for one service. */
export interface Token<T> {
  readonly name: string;
  /** Phantom field carrying the type; never set. */
  readonly __type?: T;
}

/** Create a token. */
export function token<T>(name: string): Token<T> {
  return { name };
}

type Factory<T> = (c: Container) => T;

/**
 * Lazily builds each service once, from the factory registered last for its token.
 *
 * @example
 * ```ts
 * import { Container, token } from "./container.ts";
 * const Greeting = token<string>("greeting");
 * const c = new Container().provide(Greeting, () => "hello");
 * console.log(c.get(Greeting));
 * ```
 */
export class Container {
  #factories = new Map<Token<unknown>, Factory<unknown>>();
  #instances = new Map<Token<unknown>, unknown>();
  #building = new Set<Token<unknown>>();

  /** Register (or replace) how `t` is built. */
  provide<T>(t: Token<T>, factory: Factory<T>): this {
    this.#factories.set(t, factory);
    this.#instances.delete(t);
    return this;
  }

  /** Register a ready value. */
  value<T>(t: Token<T>, value: T): this {
    this.#factories.set(t, () => value);
    this.#instances.set(t, value);
    return this;
  }

  /** Whether `t` has a provider. */
  has(t: Token<unknown>): boolean {
    return this.#factories.has(t);
  }

  /** The instance for `t`, built on first use. */
  get<T>(t: Token<T>): T {
    if (this.#instances.has(t)) return this.#instances.get(t) as T;
    const factory = this.#factories.get(t);
    if (!factory) throw new Error(`nothing provides "${t.name}" in the container`);
    if (this.#building.has(t)) throw new Error(`"${t.name}" depends on itself`);
    this.#building.add(t);
    try {
      const instance = factory(this) as T;
      this.#instances.set(t, instance);
      return instance;
    } finally {
      this.#building.delete(t);
    }
  }
}
