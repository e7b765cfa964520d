/**
 * Shared types of the importers: how a store file becomes a file in node_modules.
 *
 * @module
 */

/** A way to materialize a store file: a copy-on-write clone, a hard link, or a plain copy. */
export type ImportMethod = "clone" | "hardlink" | "copy";

/** What the user asked for; "auto" picks the best method the filesystems allow. */
export type RequestedMethod = "auto" | ImportMethod;

/** Where warnings go (printed once, by the CLI or a test's collector). */
export type Warn = (message: string) => void;

/**
 * Puts one store file at a destination path. `dest` must not exist and its directory must.
 *
 * @example
 * ```ts ignore
 * importer.importFile("/store/v1/files/ab/cdef", "/proj/node_modules/pkg/index.js", 0o444);
 * ```
 */
export interface FileImporter {
  /** The method in use now (an auto importer may downgrade mid-install). */
  readonly method: ImportMethod;
  /**
   * Import `src` (a store file, never modified) as `dest`. `mode` is the store entry's permission
   * bits when the caller knows them; a clone uses it instead of a stat. Hardlinks and copies carry
   * the store inode's bits (0o444, or 0o555 for `-exec` entries) regardless.
   */
  importFile(src: string, dest: string, mode?: number): void;
  /**
   * True while importing is silo's own hard link (link(2) from the CAS path): then a caller holding the
   * folders open may make the same link with linkat(2) instead, and send only what that cannot do here.
   */
  readonly plainLink?: boolean;
}
