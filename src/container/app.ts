/**
 * silo's wiring: the tokens of its modules and their default providers. Tests and
 * library users override any token before the first `get`.
 *
 * @module
 */
import { loadRuntime, type Runtime } from "../runtime/mod.ts";
import { CasWriter } from "../store/cas.ts";
import { createNativeHasher, createWasmHasher, type Hasher } from "../store/hasher.ts";
import { StoreIndex } from "../store/index_db.ts";
import { KeyedMutex } from "../store/keyed_mutex.ts";
import { StoreLayout } from "../store/layout.ts";
import { Store } from "../store/store.ts";
import { Verifier } from "../store/verifier.ts";
import { Container, token } from "./container.ts";

/** Tokens for silo's modules. */
export const T = {
  runtime: token<Runtime>("runtime"),
  hasher: token<Hasher>("hasher"),
  layout: token<StoreLayout>("layout"),
  mutex: token<KeyedMutex>("mutex"),
  index: token<StoreIndex>("index"),
  cas: token<CasWriter>("cas"),
  verifier: token<Verifier>("verifier"),
  store: token<Store>("store"),
  sqliteDriver: token<"auto" | "ffi" | "builtin">("sqliteDriver"),
} as const;

/** Options for {@linkcode createContainer}. */
export interface ContainerOptions {
  /** The store directory. */
  storeDir: string;
  /** "hash-wasm" (default) or the runtime's native node:crypto. */
  hasher?: "hash-wasm" | "native";
  sqliteDriver?: "auto" | "ffi" | "builtin";
  /** Replace the runtime shim (tests: a runtime without FFI). */
  runtime?: Runtime;
}

/** A container with silo's default wiring for one store. */
export async function createContainer(options: ContainerOptions): Promise<Container> {
  const runtime = options.runtime ?? await loadRuntime();
  const hasher = options.hasher === "native" ? createNativeHasher() : await createWasmHasher();
  return new Container()
    .value(T.runtime, runtime)
    .value(T.hasher, hasher)
    .value(T.sqliteDriver, options.sqliteDriver ?? "auto")
    .provide(T.layout, () => {
      const layout = new StoreLayout(options.storeDir);
      layout.ensure();
      return layout;
    })
    .provide(T.mutex, () => new KeyedMutex())
    .provide(
      T.index,
      (c) =>
        new StoreIndex(
          c.get(T.runtime).openSqlite(c.get(T.layout).indexDb, { driver: c.get(T.sqliteDriver) }),
        ),
    )
    .provide(T.cas, (c) => new CasWriter(c.get(T.layout), c.get(T.hasher), c.get(T.mutex)))
    .provide(
      T.verifier,
      (c) => new Verifier(c.get(T.layout), c.get(T.index), c.get(T.hasher), c.get(T.mutex)),
    )
    .provide(T.store, (c) => new Store(c.get(T.layout), c.get(T.index), c.get(T.cas), c.get(T.verifier)));
}
