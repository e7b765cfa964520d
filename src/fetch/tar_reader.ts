/**
 * A synchronous reader for a whole, already-gunzipped tar archive in memory: ustar, GNU and pax headers.
 *
 * Hand-written, not tar-stream, for the case that matters: a worker holding a whole tarball. tar-stream's
 * stream and event machinery (streamx, an async iterator per entry) is what a cold install spent its
 * JavaScript time on; JavaScriptCore compiled its header decoder with the optimizing JIT three times per
 * run, and that compile time alone was a fifth of the install's CPU (mocha, Bun binary, measured with
 * `BUN_JSC_reportFTLCompileTimes`). Streams (tarballs too big to hold) still go through tar-stream.
 *
 * @module
 */

/** Entry types, named as tar-stream names them. */
export type TarEntryType =
  | "file"
  | "contiguous-file"
  | "directory"
  | "symlink"
  | "link"
  | "character-device"
  | "block-device"
  | "fifo"
  | "other";

/** One entry; `body` is a view into the archive (no copy). */
export interface TarEntry {
  name: string;
  type: TarEntryType;
  mode: number;
  size: number;
  linkname: string;
  body: Uint8Array;
}

/** Why an archive could not be read: `truncated` when it ends inside an entry, `corrupt` otherwise. */
export class TarFormatError extends Error {
  readonly kind: "truncated" | "corrupt";
  constructor(kind: "truncated" | "corrupt", message: string) {
    super(message);
    this.name = "TarFormatError";
    this.kind = kind;
  }
}

const BLOCK = 512;
const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "contiguous-file",
  "5": "directory",
  "2": "symlink",
  "1": "link",
  "3": "character-device",
  "4": "block-device",
  "6": "fifo",
};
const utf8 = new TextDecoder();

/**
 * The entries of `tar`, in order (a plain function, not a generator: JavaScriptCore's optimizing JIT took
 * 96 ms to compile the generator version, per run). Pax (`x`) and GNU long-name (`L`, `K`) records are applied to the
 * entry they precede and not returned; pax global records (`g`) carry nothing a package uses.
 *
 * @example
 * ```ts ignore
 * for (const entry of readTar(gunzipSync(tgz))) console.log(entry.name, entry.size);
 * ```
 */
export function readTar(tar: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Map<string, string> | undefined;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    offset += BLOCK;
    if (isZeroBlock(header)) continue; // end-of-archive marker (tar-stream also reads on past one)
    checkChecksum(header, offset - BLOCK);
    const flag = String.fromCharCode(header[156]);
    const meta = flag === "x" || flag === "g" || flag === "L" || flag === "K";
    const size = !meta && pax?.has("size") ? Number(pax.get("size")) : readNumber(header, 124, 12);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new TarFormatError("corrupt", `tar header at byte ${offset - BLOCK} has an invalid size`);
    }
    if (offset + size > tar.length) {
      throw new TarFormatError(
        "truncated",
        `tar entry "${readString(header, 0, 100)}" ends early (${size} bytes declared, ${
          tar.length - offset
        } left)`,
      );
    }
    const body = tar.subarray(offset, offset + size);
    offset += Math.ceil(size / BLOCK) * BLOCK;
    switch (flag) {
      case "x":
        pax = parsePax(body, pax);
        continue;
      case "g":
        continue;
      case "L":
        longName = readString(body, 0, body.length);
        continue;
      case "K":
        longLink = readString(body, 0, body.length);
        continue;
    }
    const name = pax?.get("path") ?? longName ?? fullName(header);
    let type = TYPES[flag] ?? "other";
    // Old tars mark directories with a trailing slash only.
    if (type === "file" && name.endsWith("/")) type = "directory";
    entries.push({
      name,
      type,
      mode: readNumber(header, 100, 8),
      size,
      linkname: pax?.get("linkpath") ?? longLink ?? readString(header, 157, 100),
      body,
    });
    longName = longLink = pax = undefined;
  }
  if (offset < tar.length && !isZeroBlock(tar.subarray(offset))) {
    throw new TarFormatError(
      "truncated",
      `the tar archive ends inside a header (${tar.length - offset} bytes)`,
    );
  }
  return entries;
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** The checksum counts its own field as spaces; some old tars summed signed bytes, so accept either. */
function checkChecksum(header: Uint8Array, at: number): void {
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    unsigned += header[i];
    signed += header[i] > 127 ? header[i] - 256 : header[i];
  }
  const recorded = readNumber(header, 148, 8);
  if (recorded !== unsigned && recorded !== signed) {
    throw new TarFormatError(
      "corrupt",
      `tar header at byte ${at} has a bad checksum (not a tar archive, or a damaged one)`,
    );
  }
}

/** ustar splits long paths into prefix and name; GNU tar uses that space for times. */
function fullName(header: Uint8Array): string {
  const name = readString(header, 0, 100);
  const ustar = header[257] === 0x75 && header[262] === 0 && header[263] === 0x30; // "ustar\0" "00"
  if (!ustar || header[345] === 0) return name;
  return `${readString(header, 345, 155)}/${name}`;
}

function readString(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  const limit = Math.min(start + length, bytes.length);
  while (end < limit && bytes[end] !== 0) end++;
  let ascii = true;
  for (let i = start; i < end; i++) if (bytes[i] > 127) ascii = false;
  if (!ascii) return utf8.decode(bytes.subarray(start, end));
  // Nearly every tar name is ASCII: building the string directly skips the decoder's call overhead.
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** An octal field (NUL- or space-terminated), or GNU's base-256 for values past octal's range. */
function readNumber(bytes: Uint8Array, start: number, length: number): number {
  if (bytes[start] & 0x80) {
    let value = bytes[start] & 0x3f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + bytes[i];
    return bytes[start] & 0x40 ? -value : value;
  }
  let value = 0;
  let i = start;
  const end = start + length;
  while (i < end && bytes[i] === 0x20) i++;
  for (; i < end; i++) {
    const c = bytes[i];
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) return NaN;
    value = value * 8 + (c - 0x30);
  }
  return value;
}

/** Pax records: "<length> <key>=<value>\n", the length counting the whole record. */
function parsePax(body: Uint8Array, into = new Map<string, string>()): Map<string, string> {
  let offset = 0;
  while (offset < body.length) {
    let space = offset;
    while (space < body.length && body[space] !== 0x20) space++;
    const length = Number(utf8.decode(body.subarray(offset, space)));
    if (!Number.isInteger(length) || length <= 0 || offset + length > body.length) {
      if (body[offset] === 0) break; // padding
      throw new TarFormatError("corrupt", "a pax header record is malformed");
    }
    const record = utf8.decode(body.subarray(space + 1, offset + length - 1));
    const eq = record.indexOf("=");
    if (eq > 0) into.set(record.slice(0, eq), record.slice(eq + 1));
    offset += length;
  }
  return into;
}
