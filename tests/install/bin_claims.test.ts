/** Who gets a .bin entry two packages offer: npm's first claim, pnpm's rule by version. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { BinClaims } from "../../src/install/materialize.ts";
import { tempDir } from "../support/store.ts";

function packages(
  specs: [dir: string, name: string, version: string][],
): { root: string; dir: (d: string) => string } {
  const root = tempDir("silo-bins-");
  for (const [dir, name, version] of specs) {
    fs.mkdirSync(path.join(root, dir), { recursive: true });
    fs.writeFileSync(path.join(root, dir, "package.json"), JSON.stringify({ name, version }));
  }
  return { root, dir: (d) => path.join(root, d) };
}

/** The package that ends up owning `.bin/cmd` when `dirs` claim it in this order. */
function winner(claims: BinClaims, dirs: string[], cmd = "cmd"): string {
  let owner = "";
  for (const dir of dirs) if (claims.claim(`/bin/${cmd}`, cmd, dir)) owner = dir;
  return owner;
}

test("pnpm: the package named after the command wins; else pnpm 10 takes the greater name, pnpm 11+ the lesser", () => {
  const { root, dir } = packages([
    ["aaa", "aaa", "1.0.0"],
    ["zzz", "zzz", "1.0.0"],
    ["cmd", "cmd", "0.1.0"],
    ["zzz2", "zzz", "2.0.0"],
  ]);
  try {
    for (const order of [["aaa", "zzz"], ["zzz", "aaa"]]) {
      const dirs = order.map(dir);
      assert.equal(winner(new BinClaims("pnpm", false), dirs), dir("zzz"), `pnpm 10, ${order}`);
      assert.equal(winner(new BinClaims("pnpm", true), dirs), dir("aaa"), `pnpm 11+, ${order}`);
      assert.equal(winner(new BinClaims("first"), dirs), dirs[0], `npm, ${order}`);
    }
    for (const lesser of [false, true]) {
      assert.equal(winner(new BinClaims("pnpm", lesser), [dir("cmd"), dir("aaa"), dir("zzz")]), dir("cmd"));
      assert.equal(winner(new BinClaims("pnpm", lesser), [dir("aaa"), dir("zzz"), dir("cmd")]), dir("cmd"));
      assert.equal(
        winner(new BinClaims("pnpm", lesser), [dir("zzz2"), dir("zzz")]),
        dir("zzz2"),
        "greater version",
      );
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
