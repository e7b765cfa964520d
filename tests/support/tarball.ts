/**
 * Build .tgz files in tests, including hostile ones (absolute paths, "..", symlinks,
 * devices, setuid bits, bombs).
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";

/** One tar entry. */
export interface Entry {
  name: string;
  content?: string | Uint8Array;
  mode?: number;
  type?: "file" | "directory" | "symlink" | "link" | "character-device" | "block-device" | "fifo";
  linkname?: string;
  /** Declared size, when it should differ from the content (lying headers). */
  size?: number;
}

/** A tar archive (uncompressed) of `entries`. */
export async function tarOf(entries: Entry[]): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Uint8Array[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Uint8Array);
  })();
  for (const e of entries) {
    const content = typeof e.content === "string" ? new TextEncoder().encode(e.content) : e.content;
    const type = e.type ?? "file";
    const header = {
      name: e.name,
      mode: e.mode ?? 0o644,
      type,
      linkname: e.linkname,
      size: type === "file" ? e.size ?? content?.length ?? 0 : 0,
      // npm's fixed date: the same entries always make the same bytes (tests compute integrity twice).
      mtime: new Date("1985-10-26T08:15:00Z"),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (type === "file") pack.entry(header, Buffer.from(content ?? new Uint8Array()), done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

/** A gzipped tarball of `entries`. */
export async function tgzOf(entries: Entry[]): Promise<Uint8Array> {
  return new Uint8Array(gzipSync(await tarOf(entries)));
}

/** A package tarball with package.json plus `files` (paths relative to the package). */
export function packageTgz(
  name: string,
  version: string,
  files: Record<string, string> = {},
  extra: Entry[] = [],
) {
  const entries: Entry[] = [
    { name: "package/package.json", content: JSON.stringify({ name, version }) },
    ...Object.entries(files).map(([p, content]) => ({ name: `package/${p}`, content })),
    ...extra,
  ];
  return tgzOf(entries);
}

/** The sha512 SRI of bytes. */
export function sri(bytes: Uint8Array, algorithm: "sha512" | "sha1" = "sha512"): string {
  return `${algorithm}-${createHash(algorithm).update(bytes).digest("base64")}`;
}

/** sha512 hex of a string or bytes. */
export function sha512Hex(content: string | Uint8Array): string {
  return createHash("sha512").update(content).digest("hex");
}

/** Yield `bytes` in chunks, as a network body would arrive. */
export async function* chunked(bytes: Uint8Array, size = 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
