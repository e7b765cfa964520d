/**
 * Hard links from CAS paths, safe against writers in other processes.
 *
 * Writers publish by renaming a complete file onto its CAS path, and two processes that both found the
 * path empty both publish (same bytes, different inodes). When such a rename lands between link(2)'s
 * lookup of the CAS path and the link itself, the inode it found has just lost its last name, and Linux
 * refuses with ENOENT although the path exists (holding the newer inode). Seen as a failed install in the
 * 4-process concurrent test; a process linking in a loop while another renames copies onto the path gets
 * ENOENT from ~15% of its links (Bun and Deno alike). Opening the file is not affected: copies and clones
 * hold the inode they opened.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";

/**
 * How often a link is looked up again. Each loss needs another rename onto the same path, and an install
 * has a few writers at most; a process republishing one path in a tight loop made some links lose 85
 * times in a row (the test's adversary).
 */
const ATTEMPTS = 1000;

/**
 * `link(src, dest)` where `src` is a CAS path: an ENOENT while `src` and the folder of `dest` exist is the
 * race above, so the link is tried again. Throws what link(2) threw otherwise (ENOENT with `src` gone,
 * EEXIST, ...).
 * Returns how many attempts it took (tests count the races).
 *
 * @example
 * ```ts ignore
 * linkFromCas(layout.filePath(digest, false), "/proj/node_modules/ms/index.js");
 * ```
 */
export function linkFromCas(
  src: string,
  dest: string,
  link: (src: string, dest: string) => void = fs.linkSync,
): number {
  for (let attempt = 1;; attempt++) {
    try {
      link(src, dest);
      return attempt;
    } catch (error) {
      const raced = (error as { code?: string }).code === "ENOENT" && attempt < ATTEMPTS &&
        fs.existsSync(src) && fs.existsSync(path.dirname(dest));
      if (!raced) throw error;
    }
  }
}
