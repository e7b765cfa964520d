import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { fastPnpmYaml } from "../../src/lockfile/pnpm_yaml.ts";
import { fixture } from "./_fixtures.ts";

test("fast reader: same value as the yaml library on the svelte lockfile and workspace file", () => {
  for (const file of ["svelte/pnpm-lock.yaml", "svelte/pnpm-workspace.yaml"]) {
    const text = fixture(file);
    const fast = fastPnpmYaml(text);
    assert.ok(fast, `${file} stays within the subset`);
    assert.deepEqual(fast, parse(text));
  }
});

test("fast reader: scalars typed like YAML 1.2 core, quoting and flow collections", () => {
  const text = [
    "a: 1",
    "b: 1.5",
    "c: 1.0.0",
    "d: true",
    "e: ~",
    "f: 'it''s: here'",
    'g: "tab\\tx"',
    "h: {integrity: sha512-x==, tarball: https://x.test/a.tgz}",
    "i: [x64, '!win32']",
    "j: {}",
    "k:",
    "  - one",
    "  - two",
    "l:",
    "m:",
    "  '@s/a@1.0.0(b@2.0.0)':",
    "    dependencies:",
    "      b: link:../b",
    "      c: 2.0.0(d@1.0.0)",
    "    engines: {node: ^18 || >=20, npm: '>=9'}",
    "n: ^1.2.3 || workspace:*",
    "",
  ].join("\n");
  const fast = fastPnpmYaml(text);
  assert.ok(fast);
  assert.deepEqual(fast, parse(text));
});

test("fast reader: anything outside the subset falls back to the full parser", () => {
  const outside = [
    "---\na: 1\n---\nb: 2\n", // several documents (pnpm 10+ env lockfile)
    "a: &x 1\nb: *x\n", // anchors and aliases
    "a: |\n  text\n", // block scalars
    "a:\n  - k: v\n", // a map inside a sequence
    "a: 1\na: 2\n", // duplicate keys: the full parser reports them
    "a: {b: 1\n", // an unclosed flow map
    "a:\n\tb: 1\n", // tabs
    "a: 0x1f\n", // non-decimal numbers
    "a: b\n   c\n", // a folded plain scalar
    "1.0: x\n", // a key YAML would type as a number
  ];
  for (const text of outside) assert.equal(fastPnpmYaml(text), undefined, JSON.stringify(text));
});
