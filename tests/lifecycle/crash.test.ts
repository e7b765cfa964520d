/**
 * The short form of scripts/crash-test.ts for CI: kill -9 a cold install at a few random
 * (seeded) moments; after each, the store verifies clean (or --repair makes it clean) and a
 * rerun produces a complete tree.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { crashTest } from "../../scripts/crash-test.ts";
import { ensureMirror } from "./_support.ts";

test("kill -9 during cold installs: verify is clean or repairable, reruns complete the tree", {
  timeout: 900_000,
}, async () => {
  await ensureMirror();
  const report = await crashTest({ kills: 3, fixture: "svelte", seed: 20261121 });
  assert.equal(report.kills, 3);
  for (const round of report.rounds.filter((r) => r.killed)) {
    assert.ok(round.survived, `round ${round.round} (kill at ${round.killAtMs} ms): ${round.detail}`);
  }
  assert.equal(report.survived, report.kills);
});
