/** A fresh store in a temp dir, wired like production, for tests. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createContainer, T } from "../../src/container/app.ts";
import type { Container } from "../../src/container/container.ts";

/** A temp directory removed by the returned cleanup. */
export function tempDir(prefix = "silo-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
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
