/** A fresh store in a temp dir, wired like production, for tests. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createContainer, T } from "../../src/container/app.ts";
import type { Container } from "../../src/container/container.ts";

const made: string[] = [];

/** A fresh temp directory; a test file that does not remove its own calls `after(removeTempDirs)`. */
export function tempDir(prefix = "silo-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Remove every directory {@linkcode tempDir} made (in this test file: Bun runs files one at a time). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A container over a fresh store directory. */
export async function testContainer(
  options: { driver?: "ffi" | "builtin"; hasher?: "hash-wasm" | "native"; storeDir?: string } = {},
): Promise<{ c: Container; dir: string; cleanup: () => void }> {
  const dir = options.storeDir ?? tempDir();
  const c = await createContainer({
    storeDir: dir,
    sqliteDriver: options.driver ?? "ffi",
    hasher: options.hasher,
  });
  return {
    c,
    dir,
    cleanup: () => {
      if (c.has(T.index)) {
        try {
          c.get(T.index).close();
        } catch { /* already closed */ }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
