import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { gunzipWhole, TOO_LARGE_CODE } from "../../src/runtime/gunzip.ts";

const sample = (n: number) => {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 7919) % 251 ^ (i >> 9);
  return bytes;
};

/** Byte equality, whatever the view type (Buffer from node:zlib, Uint8Array from Bun's libdeflate). */
const same = (actual: Uint8Array, expected: Uint8Array) =>
  assert.ok(
    Buffer.from(actual).equals(Buffer.from(expected)),
    `${actual.length} bytes differ from ${expected.length}`,
  );

test("gunzipWhole returns what gzip packed", () => {
  const data = sample(300_000);
  same(gunzipWhole(gzipSync(data), 1 << 20), data);
});

test("gunzipWhole reads every member of a multi-member file, as node:zlib does", () => {
  const a = sample(5000);
  const b = sample(7000).reverse();
  const both = Buffer.concat([gzipSync(a), gzipSync(b)]);
  same(gunzipWhole(both, 1 << 20), Buffer.concat([a, b]));
});

test("gunzipWhole refuses a trailer whose size is wrong, as zlib does, whichever way it is wrong", () => {
  const data = sample(100_000);
  for (const isize of [10, 200_000]) {
    const gz = new Uint8Array(gzipSync(data));
    new DataView(gz.buffer, gz.byteOffset).setUint32(gz.length - 4, isize, true);
    assert.throws(() => gunzipWhole(gz, 1 << 20), /length|size/i, `ISIZE ${isize}`);
  }
});

test("gunzipWhole refuses output past the limit, and a cut-short stream", () => {
  const gz = gzipSync(new Uint8Array(2_000_000));
  assert.throws(() => gunzipWhole(gz, 1_000_000), (e) => (e as { code?: string }).code === TOO_LARGE_CODE);
  assert.throws(() => gunzipWhole(gz.subarray(0, gz.length - 20), 4_000_000));
});
