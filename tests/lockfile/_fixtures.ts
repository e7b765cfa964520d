/** Paths and small helpers shared by the lockfile tests. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** shared/fixtures beside the repository (as in CI: a clone of main with shared/ next to it). */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "shared", "fixtures");

/** Text of a fixture file. */
export function fixture(path: string): string {
  return readFileSync(join(FIXTURES, path), "utf8");
}

/** A temp project with the given files; returns its path and a cleanup. */
export function tempProject(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "silo-lockfile-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Linux x64 glibc, the platform most assertions are written for. */
export const LINUX_X64 = { os: "linux", cpu: "x64", libc: "glibc" as const };
