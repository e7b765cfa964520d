import assert from "node:assert/strict";
import { test } from "node:test";
import { failureReport } from "../../src/install/restore.ts";

test("failureReport gives one line per cause, naming the first packages it hit", () => {
  const failures = [
    ...Array.from({ length: 634 }, (_, i) => ({
      id: `p${i}@1.0.0`,
      error: new Error(`p${i}@1.0.0: ENOSPC: no space left on device`),
    })),
    { id: "odd@2.0.0", error: new Error("odd@2.0.0: integrity mismatch") },
    { id: "bare@3.0.0", error: "a thrown string" },
  ];
  const lines = failureReport(failures).split("\n");
  assert.deepEqual(lines, [
    "636 packages failed to install:",
    "  p0@1.0.0, p1@1.0.0, p2@1.0.0 and 631 more: ENOSPC: no space left on device",
    "  odd@2.0.0: integrity mismatch",
    "  bare@3.0.0: a thrown string",
  ]);
});

test("failureReport takes causes that differ only in each package's URL for one", () => {
  const down = (name: string) => ({
    id: `${name}@1.0.0`,
    error: new Error(
      `${name}@1.0.0: network error: connection refused (http://127.0.0.1:9/${name}/-/${name}-1.0.0.tgz). ` +
        "Check that http://127.0.0.1:9 is reachable.",
    ),
  });
  const lines = failureReport([down("a"), down("b"), down("c"), down("d")]).split("\n");
  assert.deepEqual(lines, [
    "4 packages failed to install:",
    "  a@1.0.0, b@1.0.0, c@1.0.0 and 1 more: network error: connection refused (http://127.0.0.1:9/…). " +
    "Check that http://127.0.0.1:9 is reachable.",
  ]);
  assert.match(
    failureReport([down("solo")]),
    /\(http:\/\/127\.0\.0\.1:9\/solo\/-\/solo-1\.0\.0\.tgz\)/,
    "one keeps its URL",
  );
});

test("failureReport caps the causes it lists", () => {
  const failures = Array.from(
    { length: 15 },
    (_, i) => ({ id: `p${i}@1.0.0`, error: new Error(`cause ${i}`) }),
  );
  const lines = failureReport(failures, 10).split("\n");
  assert.equal(lines.length, 1 + 10 + 1);
  assert.equal(lines[1], "  p0@1.0.0: cause 0");
  assert.equal(lines.at(-1), "  (5 more causes not shown)");
});
