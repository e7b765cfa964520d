/**
 * Tarball ingest: gunzip -> tar -> hash -> CAS. A tarball in memory (a worker's job) has its integrity
 * checked first and is then unpacked whole (tar_reader.ts); a stream (a tarball too big to hold) goes
 * through gunzip and tar-stream chunk by chunk, its integrity checked over the compressed bytes as they
 * pass. Either way the caller writes the index row only after this resolves.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, gunzipSync } from "node:zlib";
import { gunzipWhole, TOO_LARGE_CODE } from "../runtime/gunzip.ts";
import { readTar, type TarEntry, type TarEntryType, TarFormatError } from "./tar_reader.ts";
import { type CasWriter, linkReplacing } from "../store/cas.ts";
import { publishExecutableBins } from "../store/executable_bins.ts";
import type { FileMap, PackageManifest } from "../store/index_db.ts";

/** Why an ingest failed. `truncated` may be a network hiccup; the fetcher retries those. */
export type TarballErrorKind =
  | "integrity"
  | "truncated"
  | "corrupt"
  | "unsafe-path"
  | "unsafe-entry"
  | "too-large";

/** A tarball silo refuses, naming the package and what to do. */
export class TarballError extends Error {
  readonly kind: TarballErrorKind;
  readonly package: string;
  constructor(kind: TarballErrorKind, pkg: string, message: string, options?: ErrorOptions) {
    super(`${pkg}: ${message}`, options);
    this.name = "TarballError";
    this.kind = kind;
    this.package = pkg;
  }
}

/** An entry the ingest skipped instead of storing, and why. */
export interface SkippedEntry {
  path: string;
  reason: "symlink" | "hardlink" | "device" | "other";
}

/** What the caller knows about the tarball. */
export interface IngestOptions {
  /** For messages: "name@version". */
  label: string;
  /** Expected SRI ("sha512-..." or "sha1-...", possibly several); checked before success. */
  integrity?: string;
  /** Refuse when the unpacked total passes this many bytes. Default: 100x the compressed size, at least 64 MiB. */
  maxUnpackedBytes?: number;
  /** The "at least" of that default (64 MiB); tests lower it to exercise the ratio with small tarballs. */
  ratioFloor?: number;
  /**
   * A package folder (absolute, on the store's filesystem) to fill while storing: each file is written
   * there and hard-linked into the store (see CasWriter.writeBytesAt), package.json last. Honoured only
   * for a tarball already in memory, whose integrity is checked before anything is written, and with a
   * {@linkcode Placer}; `IngestResult.placed` says whether it was.
   */
  placeAt?: string;
}

/** Says where a placed package's files go (the install's Materializer). */
export interface Placer {
  /** The path of `relative` (a checked tar path) in the package folder `dir` (absolute), its folder made. */
  fileIn(dir: string, relative: string): string;
}

/** What a placing ingest put in its folder: how many files, and the one written last. */
export interface PlacedFiles {
  files: number;
  last?: string;
}

/** Tarball bytes: a network body, a file stream, or bytes already in memory. */
export type TarballSource = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | Uint8Array;

/** The stored result. */
export interface IngestResult {
  files: FileMap;
  manifest: PackageManifest;
  unpackedSize: number;
  /** sha512 SRI of the compressed bytes (the verified one, or the computed one when none was given). */
  integrity: string;
  skipped: SkippedEntry[];
  /** Files this ingest newly published (the rest were already in the store). */
  written: number;
  compressedBytes: number;
  /** Set when the files were also placed at `IngestOptions.placeAt`. */
  placed?: PlacedFiles;
}

// Files above this are streamed to a temp file instead of buffered.
const STREAM_THRESHOLD = 8 * 1024 * 1024;
const RATIO_LIMIT = 100;
const RATIO_FLOOR = 64 * 1024 * 1024;

/** Parse an SRI string into the strongest algorithm silo can check. */
export function parseIntegrity(sri: string): { algorithm: "sha512" | "sha1"; digest: string } | undefined {
  const parts = sri.trim().split(/\s+/).map((p) => p.match(/^(sha512|sha1)-([A-Za-z0-9+/=]+)/)).filter((m) =>
    m
  );
  const best = parts.find((m) => m![1] === "sha512") ?? parts.find((m) => m![1] === "sha1");
  return best ? { algorithm: best[1] as "sha512" | "sha1", digest: best[2] } : undefined;
}

/**
 * The path a tar entry lands at inside the package: the first segment stripped, whatever it is (as npm's
 * tar does: `./index.js` of a hand-made `tar czf x.tgz -C dir .` is `index.js`), then `.` and empty
 * segments dropped. "" for an entry at the top level (the root folder itself, or a stray file beside
 * `package/`), which npm skips. Throws on absolute paths and `..`.
 */
export function entryPath(name: string, label: string): string {
  if (name.startsWith("/") || /^[a-zA-Z]:[\\/]/.test(name) || name.startsWith("\\")) {
    throw new TarballError(
      "unsafe-path",
      label,
      `tar entry "${name}" has an absolute path; refusing the tarball`,
    );
  }
  const segments = name.split("/").slice(1).filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) {
    throw new TarballError(
      "unsafe-path",
      label,
      `tar entry "${name}" escapes the package with ".."; refusing the tarball`,
    );
  }
  return segments.join("/");
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

/**
 * Stream a .tgz into the store.
 *
 * @example
 * ```ts ignore
 * const res = await fetch(url);
 * const result = await ingestTarball(res.body!, cas, { label: "a@1.0.0", integrity });
 * ```
 */
export async function ingestTarball(
  source: TarballSource,
  cas: CasWriter,
  options: IngestOptions,
  placer?: Placer,
): Promise<IngestResult> {
  const { label } = options;
  const expected = options.integrity ? parseIntegrity(options.integrity) : undefined;
  if (options.integrity && !expected) {
    throw new TarballError(
      "integrity",
      label,
      `unsupported integrity "${options.integrity}" (silo checks sha512 and sha1)`,
    );
  }
  const tarballHash = await cas.hasher.create(expected?.algorithm ?? "sha512");
  let compressedBytes = 0;
  let actual: string | undefined;
  const checkIntegrity = (digest = tarballHash.digestBytes()) => {
    actual = toBase64(digest);
    if (expected && actual !== expected.digest) {
      throw new TarballError(
        "integrity",
        label,
        `integrity mismatch: the lockfile expects ${expected.algorithm}-${expected.digest} but the tarball is ${expected.algorithm}-${actual}. ` +
          "The registry served different bytes than the lockfile recorded; check the registry, or update the lockfile if the change is expected.",
      );
    }
  };
  const tap = async function* () {
    // Only streams come through here: bytes in memory are hashed above and unpacked whole.
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      tarballHash.update(chunk);
      compressedBytes += chunk.length;
      yield chunk;
    }
  };

  const result: IngestResult = {
    files: {},
    manifest: {},
    unpackedSize: 0,
    integrity: "",
    skipped: [],
    written: 0,
    compressedBytes: 0,
  };
  // The bomb guard counts bytes as they come out of gunzip, against the compressed bytes read so
  // far: a header may declare a 130 MB native binary long before its compressed bytes have arrived.
  let unpackedRead = 0;
  const limit = () =>
    options.maxUnpackedBytes ?? Math.max(options.ratioFloor ?? RATIO_FLOOR, compressedBytes * RATIO_LIMIT);
  const tooLarge = (bytes: number) =>
    new TarballError(
      "too-large",
      label,
      `unpacks to more than ${limit()} bytes (${bytes} so far from ${compressedBytes} compressed); refusing a likely tar bomb`,
    );
  // Bytes in memory are checked before anything is unpacked: a bad tarball writes nothing.
  if (source instanceof Uint8Array) {
    compressedBytes = source.length;
    try {
      // sha512 in one call: the hasher's one-shot digest may be faster than its incremental one.
      if ((expected?.algorithm ?? "sha512") === "sha512") {
        checkIntegrity(fromHex(cas.hasher.sha512Hex(source)));
      } else {
        tarballHash.update(source);
        checkIntegrity();
      }
    } catch (error) {
      throw truncatedInstead(source, label, limit()) ?? error;
    }
  }
  const place = options.placeAt && placer && source instanceof Uint8Array
    ? { dir: options.placeAt, placer, done: [] as string[] }
    : undefined;
  async function* guarded(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      unpackedRead += chunk.length;
      if (unpackedRead > limit()) throw tooLarge(unpackedRead);
      yield chunk;
    }
  }

  /** Store one entry; `body` is the whole file when the tarball is in memory, else the stream of it. */
  const add = async (entry: EntryHeader, body: Uint8Array | AsyncIterable<Uint8Array>) => {
    const { name, type, mode, size } = entry;
    if (type !== "file" && type !== "contiguous-file") {
      checkNonFile(name, type, entry.linkname, label);
      if (type !== "directory") result.skipped.push({ path: name, reason: skipReason(type) });
      return;
    }
    if (mode & 0o6000) {
      throw new TarballError(
        "unsafe-entry",
        label,
        `tar entry "${name}" has the setuid/setgid bit, which no package needs; refusing the tarball. ` +
          "Report it to the package's maintainers or registry.",
      );
    }
    const relative = entryPath(name, label);
    if (!relative) {
      // A file at the tarball's top level, beside the package's folder: npm skips it too.
      if (!(body instanceof Uint8Array)) { for await (const _ of guarded(body)) { /* drained */ } }
      result.skipped.push({ path: name, reason: "other" });
      return;
    }
    result.unpackedSize += size;
    if (options.maxUnpackedBytes !== undefined && result.unpackedSize > options.maxUnpackedBytes) {
      throw tooLarge(result.unpackedSize);
    }
    // Only "executable or not" survives into the store (the sticky bit and the rest are dropped).
    const exec = (mode & 0o111) !== 0;
    // Placed files go straight to their folder, except package.json: it is linked last (below).
    const dest = place && relative !== "package.json" ? placedPath(place, relative) : undefined;
    let stored;
    if (!(body instanceof Uint8Array) && size > STREAM_THRESHOLD) {
      stored = await streamToStore(guarded(body), cas, exec, size, label);
    } else {
      const bytes = body instanceof Uint8Array ? body : await readEntry(guarded(body), size, label, relative);
      stored = dest ? await cas.writeBytesAt(bytes, exec, dest) : await cas.writeBytes(bytes, exec);
      if (relative === "package.json") result.manifest = manifestOf(bytes);
    }
    if (dest && !result.files[relative]) place!.done.push(relative);
    if (stored.written) result.written++;
    result.files[relative] = {
      digest: stored.digest,
      mode: exec ? 0o755 : 0o644,
      size: stored.size,
      checkedAt: stored.checkedAt,
    };
  };

  // tar-stream only for a stream: a worker's tarball in memory goes through tar_reader.ts.
  const extract = source instanceof Uint8Array ? undefined : (await import("tar-stream")).default.extract();
  try {
    if (source instanceof Uint8Array) {
      // A worker's job: gunzipped in one native call and read in place, each entry's body whole.
      for (const entry of readTar(unpackWhole(source))) await add(entry, entry.body);
    } else {
      const piping = pipeline(Readable.from(tap()), createGunzip(), extract!);
      piping.catch(() => {}); // surfaced through the entry loop and the await below
      for await (const entry of extract!) {
        const { name, type, mode, size, linkname } = entry.header;
        const header = { name, type: (type ?? "file") as TarEntryType, mode: mode ?? 0o644, size: size ?? 0 };
        await add({ ...header, linkname: linkname ?? "" }, entry as AsyncIterable<Uint8Array>);
        entry.resume(); // drains what `add` did not read
      }
      await piping;
      checkIntegrity();
    }
    const execBins = await publishExecutableBins(cas, result.files, result.manifest);
    if (place) result.placed = finishPlacing(place, cas, result.files, execBins);
  } catch (error) {
    extract?.destroy();
    if (place) unplace(place);
    throw classify(error, label);
  }

  function unpackWhole(bytes: Uint8Array): Uint8Array {
    try {
      return gunzipWhole(bytes, limit() + 1);
    } catch (error) {
      throw (error as { code?: string }).code === TOO_LARGE_CODE ? tooLarge(limit() + 1) : error;
    }
  }

  result.compressedBytes = compressedBytes;
  result.integrity = expected ? `${expected.algorithm}-${actual}` : `sha512-${actual}`;
  return result;
}

/** What `add` needs of a tar header, from either reader. */
type EntryHeader = Omit<TarEntry, "body">;

type Placing = { dir: string; placer: Placer; done: string[] };

const placedPath = (place: Placing, relative: string) => place.placer.fileIn(place.dir, relative);

/**
 * A body cut short fails the integrity check too; gunzip tells the two apart, and a truncated download is
 * retried where a mismatch is not. Runs only on a mismatch.
 */
function truncatedInstead(gz: Uint8Array, label: string, maxOutputLength: number): TarballError | undefined {
  try {
    gunzipSync(gz, { maxOutputLength });
  } catch (error) {
    const failure = classify(error, label);
    if (failure instanceof TarballError && failure.kind === "truncated") return failure;
  }
  return undefined;
}

/** Bin targets that got `-exec` entries are linked to those; then package.json, which marks the folder complete. */
function finishPlacing(place: Placing, cas: CasWriter, files: FileMap, execBins: string[]): PlacedFiles {
  const link = (relative: string) => {
    const entry = files[relative];
    const src = cas.layout.filePath(entry.digest, (entry.mode & 0o111) !== 0);
    if (!linkReplacing(src, placedPath(place, relative))) {
      // Stored moments ago by this ingest: only someone deleting store files by hand gets here.
      throw new Error(`store file ${src} (${relative}) vanished while it was being placed; install again`);
    }
  };
  for (const relative of execBins) if (relative !== "package.json") link(relative);
  // npm's naming places a .gitignore as .npmignore: where the package packs both, its own .npmignore is
  // the one left, whichever came first in the tarball (placing as packed, this links the same file again).
  for (const relative in files) {
    if (relative.endsWith(".npmignore") && `${relative.slice(0, -".npmignore".length)}.gitignore` in files) {
      link(relative);
    }
  }
  if (files["package.json"]) {
    link("package.json");
    place.done.push("package.json");
  }
  return { files: place.done.length, last: place.done.at(-1) };
}

/** A failed ingest takes back the files it placed (nested packages in the folder are not its to remove). */
function unplace(place: Placing): void {
  for (const relative of place.done) fs.rmSync(placedPath(place, relative), { force: true });
}

/**
 * npm installs no links from tarballs, so silo skips them too; but a link that points outside the
 * package, and any device or fifo, only appears in a hostile tarball: those refuse the whole tarball.
 */
function checkNonFile(name: string, type: string, linkname: string, label: string): void {
  if (type === "character-device" || type === "block-device" || type === "fifo") {
    throw new TarballError(
      "unsafe-entry",
      label,
      `tar entry "${name}" is a ${type}, which no package contains; refusing the tarball. Report it to the package's maintainers or registry.`,
    );
  }
  const escapes = (() => {
    if (type === "symlink") {
      if (linkname.startsWith("/") || /^[a-zA-Z]:[\\/]/.test(linkname)) return true;
      const from = entryPath(name, label);
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(from), linkname));
      return resolved === ".." || resolved.startsWith("../");
    }
    if (type === "link") {
      entryPath(linkname, label); // throws for absolute paths and ".."
    }
    return false;
  })();
  if (escapes) {
    throw new TarballError(
      "unsafe-path",
      label,
      `tar entry "${name}" is a symlink to "${linkname}", outside the package; refusing the tarball`,
    );
  }
}

function skipReason(type: string): SkippedEntry["reason"] {
  if (type === "symlink") return "symlink";
  if (type === "link") return "hardlink";
  if (type === "character-device" || type === "block-device" || type === "fifo") return "device";
  return "other";
}

async function readEntry(
  entry: AsyncIterable<Uint8Array>,
  size: number,
  label: string,
  name: string,
): Promise<Uint8Array> {
  let bytes: Uint8Array | undefined;
  let offset = 0;
  for await (const chunk of entry) {
    // A streaming gunzip's buffers belong to the runtime's zlib, so chunks are copied.
    bytes ??= new Uint8Array(size);
    if (offset + chunk.length > size) {
      throw new TarballError("corrupt", label, `tar entry ${name} is longer than its header says`);
    }
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  if (offset !== size) throw new TarballError("truncated", label, `tar entry ${name} ended early`);
  return bytes ?? new Uint8Array(0);
}

async function streamToStore(
  entry: AsyncIterable<Uint8Array>,
  cas: CasWriter,
  exec: boolean,
  size: number,
  label: string,
) {
  const tmp = cas.tempPath();
  const hash = await cas.hasher.create("sha512");
  const fd = fs.openSync(tmp, "wx", 0o600);
  let written = 0;
  try {
    for await (const chunk of entry) {
      hash.update(chunk);
      fs.writeSync(fd, chunk);
      written += chunk.length;
    }
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  if (written !== size) {
    fs.rmSync(tmp, { force: true });
    throw new TarballError("truncated", label, `a ${size}-byte tar entry ended after ${written} bytes`);
  }
  const digest = Array.from(hash.digestBytes(), (b) => b.toString(16).padStart(2, "0")).join("");
  return await cas.publishTemp(tmp, digest, size, exec);
}

/** The fields of package.json the index keeps. */
export function manifestOf(bytes: Uint8Array): PackageManifest {
  try {
    const { name, version, bin, directories, scripts, os, cpu, libc } =
      JSON.parse(new TextDecoder().decode(bytes)) ?? {};
    return { name, version, bin, directories, scripts, os, cpu, libc };
  } catch {
    return {}; // a broken package.json is the package's problem; npm installs it too
  }
}

function classify(error: unknown, label: string): Error {
  if (error instanceof TarballError) return error;
  if (error instanceof TarFormatError) {
    return new TarballError(error.kind, label, error.message, { cause: error });
  }
  const e = error as { code?: string; message?: string };
  const message = String(e?.message ?? error);
  if (e?.code === "Z_BUF_ERROR" || /unexpected end|premature|truncat/i.test(message)) {
    return new TarballError(
      "truncated",
      label,
      `the tarball ends early (truncated download or file): ${message}`,
      {
        cause: error,
      },
    );
  }
  if (e?.code?.startsWith?.("Z_") || /incorrect header|invalid|checksum/i.test(message)) {
    return new TarballError("corrupt", label, `the tarball is not a valid .tgz: ${message}`, {
      cause: error,
    });
  }
  return error as Error;
}
