import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { checkIntegrity, main, packageLockTarballs, pnpmLockTarballs } from "../../scripts/mirror.ts";
import { startRegistry } from "../support/registry_server.ts";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "shared", "fixtures");
const sri = (bytes: Uint8Array) => `sha512-${createHash("sha512").update(bytes).digest("base64")}`;

test("lockfile readers find every registry package in the fixtures", async (t) => {
  let npm: string, pnpm: string;
  try {
    npm = await readFile(join(fixtures, "mocha", "package-lock.json"), "utf8");
    pnpm = await readFile(join(fixtures, "svelte", "pnpm-lock.yaml"), "utf8");
  } catch {
    t.skip("shared/fixtures not next to the repo");
    return;
  }
  const fromNpm = packageLockTarballs(JSON.parse(npm));
  assert.equal(fromNpm.length, 706); // 709 entries less the root, the link and its target folder
  assert.ok(fromNpm.every((p) => p.integrity && p.version && !p.name.includes("node_modules")));
  const fromPnpm = pnpmLockTarballs(parseYaml(pnpm));
  assert.equal(fromPnpm.length, 527);
  assert.ok(fromPnpm.some((p) => p.name === "@babel/parser" && p.version === "7.29.3"));
});

test("lockfile readers skip links, bundled, file: and git entries", () => {
  const npm = packageLockTarballs({
    lockfileVersion: 3,
    packages: {
      "": { name: "root" },
      "node_modules/a": { version: "1.0.0", integrity: "sha512-a" },
      "node_modules/a/node_modules/@s/b": {
        version: "2.0.0",
        resolved: "https://registry.npmjs.org/@s/b/-/b-2.0.0.tgz",
      },
      "node_modules/alias": { name: "real", version: "3.0.0" },
      "node_modules/linked": { resolved: "packages/linked", link: true },
      "node_modules/bundled": { version: "1.0.0", inBundle: true },
      "node_modules/local": { version: "1.0.0", resolved: "file:../local" },
      "node_modules/g": { version: "1.0.0", resolved: "git+ssh://git@github.com/x/g.git#abc" },
      "packages/linked": { version: "0.0.0" },
    },
  });
  assert.deepEqual(npm.map((p) => `${p.name}@${p.version}`), ["a@1.0.0", "@s/b@2.0.0", "real@3.0.0"]);
  const pnpm = pnpmLockTarballs({
    lockfileVersion: "9.0",
    packages: {
      "@s/b@2.0.0": { resolution: { integrity: "sha512-b" } },
      "c@1.0.0": { resolution: { tarball: "https://cdn.example/c.tgz" } },
      "d@file:../d": { resolution: { type: "directory" } as unknown as Record<string, string> },
    },
  });
  assert.deepEqual(pnpm.map((p) => `${p.name}@${p.version}`), ["@s/b@2.0.0", "c@1.0.0"]);
  assert.throws(() => pnpmLockTarballs({ lockfileVersion: "6.0" }), /need 9/);
  assert.throws(() => packageLockTarballs({ lockfileVersion: 1 }), /need v2 or v3/);
});

test("checkIntegrity picks the strongest hash and reports mismatches", () => {
  const bytes = new TextEncoder().encode("hello");
  const sha1 = `sha1-${createHash("sha1").update(bytes).digest("base64")}`;
  assert.equal(checkIntegrity(bytes, sri(bytes)), undefined);
  assert.equal(checkIntegrity(bytes, sha1), undefined);
  assert.equal(checkIntegrity(bytes, `${sha1} ${sri(bytes)}`), undefined);
  assert.match(
    checkIntegrity(bytes, `${sri(new Uint8Array([1]))} ${sha1}`) ?? "",
    /integrity mismatch: expected sha512/,
  );
  assert.match(checkIntegrity(bytes, "md5-xyz") ?? "", /unsupported/);
});

test("mirror end to end against the loopback registry: fetch, verify, skip on re-run", async () => {
  const good = new TextEncoder().encode("good tarball");
  const server = await startRegistry({
    packages: [{ name: "a", version: "1.0.0", tgz: good }, { name: "@s/b", version: "2.0.0", tgz: good }],
  });
  const dir = await mkdtemp(join(tmpdir(), "silo-mirror-run-"));
  try {
    const lock = join(dir, "package-lock.json");
    await writeFile(
      lock,
      JSON.stringify({
        lockfileVersion: 3,
        packages: {
          "": {},
          "node_modules/a": { version: "1.0.0", integrity: sri(good) },
          "node_modules/@s/b": { version: "2.0.0", integrity: sri(good) },
        },
      }),
    );
    const out = join(dir, "out");
    const lines: string[] = [];
    const io = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
    const args = ["--out", out, "--registry", server.url, "--concurrency", "2", lock];
    assert.equal(await main(args, io), 0);
    assert.deepEqual(new Uint8Array(await readFile(join(out, "@s", "b", "-", "b-2.0.0.tgz"))), good);
    assert.ok((await stat(join(out, "a", "packument.json"))).isFile());
    const requests = server.total();
    assert.equal(requests, 4);

    assert.equal(await main(args, io), 0);
    assert.equal(server.total(), requests, "second run downloads nothing");
    assert.match(lines.join("\n"), /tarballs: 0 fetched \(0\.0 MB\), 2 already there/);

    // A tarball that does not match the lockfile is refused and not written.
    await writeFile(
      lock,
      JSON.stringify({
        lockfileVersion: 3,
        packages: { "node_modules/c": { version: "1.0.0", integrity: sri(new Uint8Array([0])) } },
      }),
    );
    server.add({ name: "c", version: "1.0.0", tgz: good });
    assert.equal(await main(["--out", out, "--registry", server.url, "--no-packuments", lock], io), 1);
    assert.match(lines.at(-1) ?? "", /^FAILED c@1\.0\.0: integrity mismatch/);
    await assert.rejects(stat(join(out, "c", "-", "c-1.0.0.tgz")), { code: "ENOENT" });
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
