/**
 * A package's file map as the index stores it: JSON of path -> [digest, mode, size, checkedAt]. The same
 * text travels to and from install workers, so a hot install never parses a map on the main thread
 * (measured on mocha, Bun: parsing, unpacking and cloning the maps cost the main thread ~90 ms of
 * ~400), and a cold one never clones one.
 *
 * @module
 */
import type { FileEntry, FileMap } from "./index_db.ts";

type Packed = Record<string, [digest: string, mode: number, size: number, checkedAt: number]>;

/** The index's text for `files`. */
export function packFiles(files: FileMap): string {
  const packed: Packed = {};
  for (const p in files) {
    const f = files[p];
    packed[p] = [f.digest, f.mode, f.size, f.checkedAt];
  }
  return JSON.stringify(packed);
}

/** The file map in `text` (from {@linkcode packFiles}). */
export function unpackFiles(text: string): FileMap {
  const packed = JSON.parse(text) as Packed;
  const files: FileMap = {};
  for (const p in packed) {
    const [digest, mode, size, checkedAt] = packed[p];
    files[p] = { digest, mode, size, checkedAt };
  }
  return files;
}

/** Text and file count of records whose `files` has not been read yet. */
const unread = new WeakMap<object, { text: string; count: number }>();

/**
 * Give `target` a `files` property that is parsed from `text` on first read (and is an ordinary property
 * from then on). Until then {@linkcode packedFilesOf} hands out `text` as it is.
 *
 * @example
 * ```ts
 * import { packedFilesOf, withPackedFiles } from "./packed_files.ts";
 * const record = withPackedFiles({ key: "k" }, '{"a.js":["ab",420,1,0]}', 1);
 * console.log(packedFilesOf(record).length, record.files["a.js"].size); // 23 1
 * ```
 */
export function withPackedFiles<T extends object>(
  target: T,
  text: string,
  count: number,
): T & { files: FileMap } {
  unread.set(target, { text, count });
  const settle = (self: object, files: FileMap) => {
    unread.delete(self); // the map may be changed from now on: its text is no longer the truth
    Object.defineProperty(self, "files", {
      value: files,
      writable: true,
      enumerable: true,
      configurable: true,
    });
    return files;
  };
  Object.defineProperty(target, "files", {
    get(this: object) {
      return settle(this, unpackFiles(text));
    },
    set(this: object, files: FileMap) {
      settle(this, files);
    },
    enumerable: true,
    configurable: true,
  });
  return target as T & { files: FileMap };
}

/** The packed text of `record.files`, without parsing it when it came in packed. */
export function packedFilesOf(record: { files: FileMap }): string {
  return unread.get(record)?.text ?? packFiles(record.files);
}

/** How many files `record` has, without parsing a packed map. */
export function fileCountOf(record: { files: FileMap }): number {
  return unread.get(record)?.count ?? Object.keys(record.files).length;
}

/**
 * Whether `record` has the file `rel`, without parsing a packed map: in the packed text a key is a JSON
 * string right after `{` or `,` (inside a string those characters are never followed by a bare `"`).
 *
 * @example
 * ```ts
 * import { hasFile, withPackedFiles } from "./packed_files.ts";
 * const record = withPackedFiles({ key: "k" }, '{"bin/x.js":["ab",493,1,0]}', 1);
 * console.log(hasFile(record, "bin/x.js"), hasFile(record, "x.js")); // true false
 * ```
 */
export function hasFile(record: { files: FileMap }, rel: string): boolean {
  const text = unread.get(record)?.text;
  if (text === undefined) return Object.hasOwn(record.files, rel);
  return entryAt(text, rel) >= 0;
}

/** Where the value of `rel`'s entry (its `[`) starts in the packed text, or -1. */
function entryAt(text: string, rel: string): number {
  const key = `${JSON.stringify(rel)}:[`;
  const at = text.startsWith(`{${key}`) ? 1 : text.indexOf(`,${key}`) + 1;
  return at === 0 ? -1 : at + key.length - 1;
}

/**
 * The entry of the file `rel` in `record`, reading only that entry of a packed map.
 *
 * @example
 * ```ts
 * import { fileEntryOf, withPackedFiles } from "./packed_files.ts";
 * const record = withPackedFiles({ key: "k" }, '{"package.json":["ab",420,2,0]}', 1);
 * console.log(fileEntryOf(record, "package.json")?.digest); // "ab"
 * ```
 */
export function fileEntryOf(record: { files: FileMap }, rel: string): FileEntry | undefined {
  const text = unread.get(record)?.text;
  if (text === undefined) return Object.hasOwn(record.files, rel) ? record.files[rel] : undefined;
  const start = entryAt(text, rel);
  if (start < 0) return undefined;
  const [digest, mode, size, checkedAt] = JSON.parse(text.slice(start, text.indexOf("]", start) + 1));
  return { digest, mode, size, checkedAt };
}

/** `target` given the file map of `source`: still packed if nobody has read it. */
export function withFilesOf<T extends object>(target: T, source: { files: FileMap }): T & { files: FileMap } {
  const packed = unread.get(source);
  return packed
    ? withPackedFiles(target, packed.text, packed.count)
    : Object.assign(target, { files: source.files });
}
