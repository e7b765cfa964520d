/**
 * How pnpm names things under node_modules/.pnpm: package folders (long or uppercase names shortened with
 * a hash) and the patch hash a snapshot id carries. Kept apart from the lockfile parser so the installer
 * can name folders without loading the YAML library.
 *
 * @module
 */
import { createHash } from "node:crypto";

/**
 * The patch_hash a pnpm snapshot id carries, if any.
 *
 * @example
 * ```ts
 * patchHashOf("lodash@4.17.21(patch_hash=abc123)"); // "abc123"
 * ```
 */
export function patchHashOf(id: string): string | undefined {
  return /\(patch_hash=([0-9a-z]+)\)/.exec(id)?.[1];
}

/**
 * How a pnpm version shortens folder names: pnpm 10 and later with the first 32 hex digits of a sha256;
 * pnpm 9 and older with an md5 in base32 (26 characters) and without escaping `#`.
 */
export type PnpmFolderHash = "sha256" | "md5-base32";

/** How {@linkcode pnpmDirName} names folders: the pnpm version's scheme and its length limit. */
export interface PnpmFolderNaming {
  /** Default "sha256" (pnpm 10+). */
  hash?: PnpmFolderHash;
  /** virtual-store-dir-max-length; default 120. */
  maxLength?: number;
  /**
   * pnpm 12.10+: a URL or path dependency with `+`, `#`, `:` or `?` in its URL past the scheme always gets
   * the hash (of the depPath as it is), so it cannot share a folder with one that has `/` there.
   */
  hashesAmbiguousUrls?: boolean;
}

/**
 * pnpm's folder name for a depPath under node_modules/.pnpm (pnpm's depPathToFilename): '/' and
 * other unsafe characters become '+', peer parentheses become '_', and names longer than
 * `maxLength` (pnpm's virtual-store-dir-max-length, 120) or with uppercase letters are truncated
 * and suffixed with a hash, so they stay unique on case-insensitive filesystems.
 *
 * @example
 * ```ts
 * pnpmDirName("@s/a@1.0.0(b@2.0.0)"); // "@s+a@1.0.0_b@2.0.0"
 * pnpmDirName("JSONStream@1.3.5", { hash: "md5-base32" }); // "JSONStream@1.3.5_r3os6ifnv5rfzwtsmjig3b325i"
 * ```
 */
export function pnpmDirName(depPath: string, naming: PnpmFolderNaming = {}): string {
  const { hash = "sha256", maxLength = 120 } = naming;
  let name = depPath.startsWith("file:") ? depPath.replace(":", "+") : depPath;
  name = name.replace(hash === "sha256" ? /[\\/:*?"<>|#]/g : /[\\/:*?"<>|]/g, "+");
  if (name.includes("(")) name = name.replace(/\)$/, "").replace(/\)\(|\(|\)/g, "_");
  if (naming.hashesAmbiguousUrls && hash === "sha256" && ambiguousUrl(depPath)) {
    return `${name.slice(0, maxLength - 33)}_${
      createHash("sha256").update(depPath).digest("hex").slice(0, 32)
    }`;
  }
  if (name.length > maxLength || (name !== name.toLowerCase() && !name.startsWith("file+"))) {
    if (hash === "md5-base32") {
      return `${name.slice(0, maxLength - 27)}_${base32(createHash("md5").update(name).digest())}`;
    }
    return `${name.slice(0, maxLength - 33)}_${createHash("sha256").update(name).digest("hex").slice(0, 32)}`;
  }
  return name;
}

/** Whether a depPath's version is a URL or `file:` path with `+`, `#`, `:` or `?` past its scheme. */
function ambiguousUrl(depPath: string): boolean {
  const version = depPath.slice(depPath.indexOf("@", 1) + 1);
  const scheme = version.startsWith("file:") ? "file:" : /^[a-z][a-z0-9+.-]*:\/\//i.exec(version)?.[0];
  return scheme !== undefined && /[+#:?]/.test(version.slice(scheme.length));
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/**
 * RFC 4648 base32, lowercase, without padding: pnpm 9's createBase32Hash (folder names, patch hashes).
 *
 * @example
 * ```ts
 * base32(new TextEncoder().encode("f")); // "my"
 * ```
 */
export function base32(bytes: Uint8Array): string {
  let out = "", bits = 0, value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xfff; // at most 4 bits left over + 8 new
    bits += 8;
    while (bits >= 5) out += BASE32[(value >>> (bits -= 5)) & 31];
  }
  return bits > 0 ? out + BASE32[(value << (5 - bits)) & 31] : out;
}
