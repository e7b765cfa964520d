/**
 * Driver choice shared by both adapters: FFI to the system libsqlite3 first, the
 * runtime's node:sqlite when FFI cannot load (or when SILO_SQLITE_DRIVER says so).
 *
 * @module
 */
import process from "node:process";
import type { SqliteDatabase } from "./sqlite/types.ts";
import type { SqliteOpenOptions } from "./types.ts";

type Open = (path: string, readonly: boolean) => SqliteDatabase;

/** Compose an `openSqlite` from the two drivers. */
export function sqliteOpener(
  openFfi: Open,
  openBuiltin: Open,
): (path: string, options?: SqliteOpenOptions) => SqliteDatabase {
  let ffiBroken: unknown;
  return (path, options = {}) => {
    const driver = options.driver ?? (process.env.SILO_SQLITE_DRIVER as SqliteOpenOptions["driver"]) ??
      "auto";
    const readonly = options.readonly ?? false;
    if (driver === "builtin") return openBuiltin(path, readonly);
    if (driver === "ffi") return openFfi(path, readonly);
    if (ffiBroken === undefined) {
      try {
        return openFfi(path, readonly);
      } catch (error) {
        // Only a library that will not load sends us to the fallback; an unopenable file is reported.
        if (!String((error as Error).message).startsWith("could not load libsqlite3")) throw error;
        ffiBroken = error;
      }
    }
    return openBuiltin(path, readonly);
  };
}
