import assert from "node:assert/strict";
import { test } from "node:test";
import type { PackageRecord } from "../../src/store/index_db.ts";
import { RowBatch } from "../../src/store/row_batch.ts";

const row = (key: string) => ({ key }) as PackageRecord;

test("rows queued together are written in one call, and each caller resumes only after it", async () => {
  const writes: string[][] = [];
  const rows = new RowBatch((records) => void writes.push(records.map((r) => r.key)), 5);
  const resumed: string[] = [];
  const all = ["a", "b", "c"].map((k) => rows.put(row(k)).then(() => resumed.push(k)));
  await Promise.resolve();
  assert.deepEqual(writes, [], "nothing is written before the batch closes");
  await Promise.all(all);
  assert.deepEqual(writes, [["a", "b", "c"]]);
  assert.deepEqual(resumed, ["a", "b", "c"]);
  await rows.put(row("d"));
  assert.deepEqual(writes, [["a", "b", "c"], ["d"]], "a later row starts a batch of its own");
});

test("a full batch is written at once, without waiting for the timer", () => {
  const writes: string[][] = [];
  const rows = new RowBatch((records) => void writes.push(records.map((r) => r.key)), 60_000, 2);
  rows.put(row("a"));
  rows.put(row("b"));
  assert.deepEqual(writes, [["a", "b"]]);
  const last = rows.put(row("c"));
  rows.flush(); // what Store.close does: nothing queued is left behind (and no timer keeps the process up)
  assert.deepEqual(writes, [["a", "b"], ["c"]]);
  return last;
});

test("a failed write fails every row of its batch, and the next batch is written", async () => {
  let fail = true;
  const written: string[] = [];
  const rows = new RowBatch((records) => {
    if (fail) throw new Error("SQLITE_FULL: database or disk is full");
    written.push(...records.map((r) => r.key));
  }, 1);
  const results = await Promise.allSettled([rows.put(row("a")), rows.put(row("b"))]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
  assert.match(String((results[0] as PromiseRejectedResult).reason), /disk is full/);
  fail = false;
  await rows.put(row("c"));
  assert.deepEqual(written, ["c"]);
});
