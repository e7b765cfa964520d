/**
 * Importers: how files from the store land in node_modules (reflink, hardlink or copy).
 *
 * @example
 * ```ts ignore
 * import { chooseImporter } from "./src/link/mod.ts";
 * const importer = chooseImporter({ requested: "auto", storeDir, targetDir, libc, warn: console.warn });
 * importer.importFile(storeFile, dest);
 * ```
 *
 * @module
 */
export type { FileImporter, ImportMethod, RequestedMethod, Warn } from "./types.ts";
export { adviceFor, errorCode, ImportError, UNSUPPORTED } from "./errors.ts";
export { cloneImporter, copyImporter, hardlinkImporter, importerForMethod } from "./importers.ts";
export { type FallbackOptions, importerFor } from "./fallback.ts";
export {
  chooseImporter,
  type ChooseImporterOptions,
  importerFromSpec,
  type ImporterSpec,
  ProbeCache,
  probeMethods,
  type StoreMethods,
} from "./choose.ts";
