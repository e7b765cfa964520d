import { test } from "node:test";
import assert from "node:assert/strict";
import { SingleFlight } from "../../src/fetch/single_flight.ts";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test("two callers of one key: fn runs once, both get the value, slot cleared", async () => {
  const flights = new SingleFlight<string, number>();
  const gate = deferred<number>();
  let calls = 0;
  const fn = () => {
    calls++;
    return gate.promise;
  };
  const a = flights.run("k", fn);
  const b = flights.run("k", fn);
  assert.equal(calls, 1);
  assert.equal(flights.size, 1);
  assert.ok(flights.inFlight("k"));
  gate.resolve(42);
  assert.deepEqual(await Promise.all([a, b]), [42, 42]);
  assert.equal(flights.size, 0);
  assert.equal(flights.inFlight("k"), undefined);
});

test("failure wakes every waiter with the error and clears the slot for a retry", async () => {
  const flights = new SingleFlight<string, string>();
  const gate = deferred<string>();
  const boom = new Error("registry 500");
  const a = flights.run("k", () => gate.promise);
  const b = flights.run("k", () => Promise.resolve("never called"));
  gate.reject(boom);
  const results = await Promise.allSettled([a, b]);
  for (const r of results) {
    assert.equal(r.status, "rejected");
    assert.equal((r as PromiseRejectedResult).reason, boom);
  }
  assert.equal(flights.has("k"), false);
  let calls = 0;
  assert.equal(await flights.run("k", () => (calls++, Promise.resolve("ok"))), "ok");
  assert.equal(calls, 1, "a later call starts a new flight");
});

test("different keys run independently", async () => {
  const flights = new SingleFlight<string, string>();
  const slow = deferred<string>();
  const a = flights.run("slow", () => slow.promise);
  // A fast key completes while the slow one is still in flight: no global barrier.
  assert.equal(await flights.run("fast", () => Promise.resolve("fast")), "fast");
  assert.equal(flights.has("slow"), true);
  slow.resolve("slow");
  assert.equal(await a, "slow");
});

test("a synchronous throw becomes a rejection and clears the slot", async () => {
  const flights = new SingleFlight<number, number>();
  await assert.rejects(
    flights.run(1, () => {
      throw new Error("sync");
    }),
    /sync/,
  );
  assert.equal(flights.size, 0);
});

test("after success the slot is cleared, so the next call runs fn again", async () => {
  const flights = new SingleFlight<string, number>();
  let calls = 0;
  await flights.run("k", () => Promise.resolve(++calls));
  await flights.run("k", () => Promise.resolve(++calls));
  assert.equal(calls, 2);
});
