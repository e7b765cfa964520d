import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import process from "node:process";
import { test } from "node:test";
import { libcryptoCandidates, libcryptoLoadError, loadSha512Hex } from "../../src/runtime/libcrypto.ts";

// Loaded once, outside any test, so Deno's resource sanitizer never sees the library handle.
const sha512Hex = await loadSha512Hex();

test("libcrypto's SHA512 loads on Linux and agrees with node:crypto, from empty input to megabytes", () => {
  if (process.platform !== "linux") {
    assert.equal(sha512Hex, null, "only Linux loads libcrypto");
    return;
  }
  assert.ok(sha512Hex, `libcrypto did not load: ${libcryptoLoadError()?.message}`);
  for (const size of [0, 1, 111, 112, 128, 4096, 3 * 1024 * 1024 + 7]) {
    const data = new Uint8Array(size).map((_, i) => (i * 31 + size) & 0xff);
    assert.equal(sha512Hex(data), createHash("sha512").update(data).digest("hex"), `${size} bytes`);
    // A view into a larger buffer hashes only its own bytes.
    const view = new Uint8Array(size + 10).fill(7).subarray(5, 5 + size);
    view.set(data);
    assert.equal(sha512Hex(view), createHash("sha512").update(data).digest("hex"), `${size}-byte view`);
  }
});

test("libcrypto candidates: the override alone, Linux's sonames, nothing where none may be loaded", () => {
  assert.deepEqual(libcryptoCandidates("linux", "/opt/ssl/libcrypto.so"), ["/opt/ssl/libcrypto.so"]);
  assert.deepEqual(libcryptoCandidates("linux"), ["libcrypto.so.3", "libcrypto.so"]);
  assert.deepEqual(libcryptoCandidates("darwin"), []);
});

test("a libcrypto that does not load leaves node:crypto in charge and says what was tried", async () => {
  process.env.SILO_LIBCRYPTO_PATH = "/nonexistent/libcrypto.so.9";
  try {
    assert.equal(await loadSha512Hex(), null);
    assert.match(libcryptoLoadError()?.message ?? "", /\/nonexistent\/libcrypto\.so\.9.*SILO_LIBCRYPTO_PATH/);
  } finally {
    delete process.env.SILO_LIBCRYPTO_PATH;
  }
});
