import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACCEPT_CORGI } from "../../src/fetch/registry.ts";
import { abbreviate, startRegistry } from "../support/registry_server.ts";

const tgz = new TextEncoder().encode("tarball bytes");

test("mirror directory: packuments rewritten to this server, tarballs, corgi, 404s", async () => {
  const dir = await mkdtemp(join(tmpdir(), "silo-mirror-"));
  try {
    await mkdir(join(dir, "@sc", "pkg", "-"), { recursive: true });
    await writeFile(join(dir, "@sc", "pkg", "-", "pkg-1.0.0.tgz"), tgz);
    await writeFile(
      join(dir, "@sc", "pkg", "packument.json"),
      JSON.stringify({
        name: "@sc/pkg",
        "dist-tags": { latest: "1.0.0" },
        time: { modified: "2024-01-01T00:00:00.000Z" },
        versions: {
          "1.0.0": {
            name: "@sc/pkg",
            version: "1.0.0",
            readme: "long text the abbreviated form drops",
            scripts: { postinstall: "node x" },
            dist: { tarball: "https://registry.npmjs.org/@sc/pkg/-/pkg-1.0.0.tgz", integrity: "sha512-x" },
          },
        },
      }),
    );
    const server = await startRegistry({ dir });
    try {
      const full = await (await fetch(`${server.url}@sc%2fpkg`)).json();
      assert.equal(full.versions["1.0.0"].dist.tarball, `${server.url}@sc/pkg/-/pkg-1.0.0.tgz`);
      assert.equal(full.versions["1.0.0"].readme, "long text the abbreviated form drops");

      const corgi = await (await fetch(`${server.url}@sc/pkg`, { headers: { accept: ACCEPT_CORGI } })).json();
      assert.equal(corgi.versions["1.0.0"].readme, undefined);
      assert.equal(corgi.versions["1.0.0"].hasInstallScript, true);
      assert.equal(corgi.modified, "2024-01-01T00:00:00.000Z");

      const res = await fetch(full.versions["1.0.0"].dist.tarball);
      assert.equal(res.status, 200);
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), tgz);

      for (
        const path of [
          "nope",
          "@sc/pkg/-/pkg-9.9.9.tgz",
          "@sc/pkg/-/..%2f..%2fpackument.json",
          "..%2f..%2fetc%2fpasswd",
        ]
      ) {
        const r = await fetch(`${server.url}${path}`);
        await r.body?.cancel();
        assert.equal(r.status, 404, path);
      }
      assert.equal(server.requests.get("/@sc/pkg"), 2, "both spellings of the scoped path count as one");
    } finally {
      await server.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("in-memory packages: packument with integrity and URLs pointing back here", async () => {
  const server = await startRegistry({
    packages: [
      { name: "a", version: "1.0.0", tgz },
      { name: "a", version: "1.1.0", tgz, manifest: { dependencies: { b: "^1" } } },
    ],
  });
  try {
    const doc = await (await fetch(`${server.url}a`)).json();
    assert.equal(doc["dist-tags"].latest, "1.1.0");
    assert.deepEqual(doc.versions["1.1.0"].dependencies, { b: "^1" });
    assert.equal(doc.versions["1.0.0"].dist.tarball, `${server.url}a/-/a-1.0.0.tgz`);
    assert.match(doc.versions["1.0.0"].dist.integrity, /^sha512-/);
    server.add({ name: "b", version: "1.0.0", tgz });
    const b = await fetch(`${server.url}b/-/b-1.0.0.tgz`);
    assert.deepEqual(new Uint8Array(await b.arrayBuffer()), tgz);
    assert.equal(server.total(), 2);
  } finally {
    await server.close();
  }
});

test("script: behaviours apply in order, then normal service", async () => {
  const server = await startRegistry({ packages: [{ name: "a", version: "1.0.0", tgz }] });
  try {
    const url = `${server.url}a/-/a-1.0.0.tgz`;
    server.script("/a/-/a-1.0.0.tgz", [404, 500, "ok"]);
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const r = await fetch(url);
      await r.body?.cancel();
      statuses.push(r.status);
    }
    assert.deepEqual(statuses, [404, 500, 200, 200]);
    assert.equal(server.requests.get("/a/-/a-1.0.0.tgz"), 4);
  } finally {
    await server.close();
  }
});

test("hold: the response waits until released; close ends held and stalled requests", async () => {
  const server = await startRegistry({ packages: [{ name: "a", version: "1.0.0", tgz }] });
  const release = server.hold("/a");
  let answered = false;
  const pending = fetch(`${server.url}a`).then(async (r) => {
    answered = true;
    return (await r.json()).name;
  });
  await server.waitForRequests(1, "/a");
  assert.equal(answered, false);
  assert.equal(server.inFlight(), 1);
  release();
  assert.equal(await pending, "a");

  server.script("/a/-/a-1.0.0.tgz", ["stall-headers"]);
  const stalled = fetch(`${server.url}a/-/a-1.0.0.tgz`).then(() => "answered", () => "closed");
  await server.waitForRequests(1, "/a/-/a-1.0.0.tgz");
  await server.close();
  assert.equal(await stalled, "closed");
});

test("abbreviate keeps what installers need", () => {
  const out = abbreviate({
    name: "x",
    "dist-tags": { latest: "1.0.0" },
    versions: { "1.0.0": { name: "x", version: "1.0.0", bin: { x: "x.js" }, description: "d", dist: {} } },
  });
  assert.deepEqual(out.versions, { "1.0.0": { name: "x", version: "1.0.0", bin: { x: "x.js" }, dist: {} } });
});
