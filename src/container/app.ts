/**
 * silo's wiring: the tokens of its modules and their default providers. Tests and
 * library users override any token before the first `get`.
 *
 * @module
 */
import process from "node:process";
import { loadRuntime, type Runtime } from "../runtime/mod.ts";
import { CasWriter } from "../store/cas.ts";
import { createNativeHasher, createWasmHasher, type Hasher } from "../store/hasher.ts";
import { loadSha512Hex } from "../runtime/libcrypto.ts";
import { StoreIndex } from "../store/index_db.ts";
import { KeyedMutex } from "../store/keyed_mutex.ts";
import { StoreLayout } from "../store/layout.ts";
import { GarbageCollector } from "../store/gc.ts";
import { LeaseTable } from "../store/leases.ts";
import { ProjectRegistry } from "../store/projects.ts";
import { Store } from "../store/store.ts";
import { Verifier } from "../store/verifier.ts";
import { Container, token } from "./container.ts";
import type { Flights } from "../fetch/package_fetcher.ts";
import { SingleFlight } from "../fetch/single_flight.ts";

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
  leases: token<LeaseTable>("leases"),
  projects: token<ProjectRegistry>("projects"),
  gc: token<GarbageCollector>("gc"),
  /** The in-flight downloads over this store: every fetcher joins them (invariant 4). */
  flights: token<Flights>("flights"),
} as const;

/** Options for {@linkcode createContainer}. */
export interface ContainerOptions {
  /** The store directory. */
  storeDir: string;
  /**
   * "native" (default: node:crypto, measured 1.5-2x faster than hash-wasm on both runtimes by
   * bench/micro.ts) or "hash-wasm". `SILO_HASHER` sets it from the environment.
   */
  hasher?: "hash-wasm" | "native";
  sqliteDriver?: "auto" | "ffi" | "builtin";
  /** Replace the runtime shim (tests: a runtime without FFI). */
  runtime?: Runtime;
}

/** `SILO_SQLITE_DRIVER` (auto, ffi or builtin); anything else is an error that says so. */
function sqliteDriverFromEnv(): "auto" | "ffi" | "builtin" {
  const value = process.env.SILO_SQLITE_DRIVER ?? "auto";
  if (value === "auto" || value === "ffi" || value === "builtin") return value;
  throw new Error(`SILO_SQLITE_DRIVER must be auto, ffi or builtin, not "${value}"`);
}

/** A container with silo's default wiring for one store. */
export async function createContainer(options: ContainerOptions): Promise<Container> {
  const runtime = options.runtime ?? await loadRuntime();
  const choice = options.hasher ?? (process.env.SILO_HASHER === "hash-wasm" ? "hash-wasm" : "native");
  const hasher = choice === "hash-wasm"
    ? await createWasmHasher()
    : createNativeHasher(await loadSha512Hex() ?? undefined);
  return new Container()
    .value(T.runtime, runtime)
    .value(T.hasher, hasher)
    .value(T.sqliteDriver, options.sqliteDriver ?? sqliteDriverFromEnv())
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
    .provide(T.store, (c) => new Store(c.get(T.layout), c.get(T.index), c.get(T.cas), c.get(T.verifier)))
    .provide(T.flights, () => new SingleFlight())
    .provide(T.leases, (c) => new LeaseTable(c.get(T.index).db))
    .provide(T.projects, (c) => new ProjectRegistry(c.get(T.index).db))
    .provide(
      T.gc,
      (c) =>
        new GarbageCollector(
          c.get(T.layout),
          c.get(T.index),
          c.get(T.leases),
          c.get(T.projects),
          c.get(T.mutex),
        ),
    );
}
