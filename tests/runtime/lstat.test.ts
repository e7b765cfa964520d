import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { lstatFile } from "../../src/runtime/lstat.ts";

test("lstatFile reads what node:fs reads, never follows a symlink, and is undefined for nothing", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "silo-lstat-"));
  try {
    const file = path.join(dir, "f");
    fs.writeFileSync(file, "12345");
    fs.chmodSync(file, 0o555);
    fs.utimesSync(file, 1_700_000_000, 1_700_000_000.25);
    const st = lstatFile(file);
    assert.ok(st?.isFile);
    assert.equal(st.size, 5);
    assert.equal(st.mode & 0o777, 0o555);
    assert.ok(Math.abs(st.mtimeMs - 1_700_000_000_250) < 1, String(st.mtimeMs));

    fs.symlinkSync(file, path.join(dir, "link"));
    assert.equal(lstatFile(path.join(dir, "link"))?.isFile, false);
    assert.equal(lstatFile(dir)?.isFile, false);
    assert.equal(lstatFile(path.join(dir, "missing")), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
