import { test } from "node:test";
import assert from "node:assert/strict";
import { parseNpmrc, resolveNpmConfig } from "../../src/fetch/npmrc.ts";
import { RegistryClient, type RetryEvent } from "../../src/fetch/registry.ts";
import { RegistryError } from "../../src/fetch/errors.ts";
import { startRegistry } from "../support/registry_server.ts";

const TOKEN = "npm_TESTTOKEN_0123456789";
const tgz = new TextEncoder().encode("not really a tarball, but bytes to serve");

function clientFor(npmrc: string, extra: ConstructorParameters<typeof RegistryClient>[0] = {}) {
  return new RegistryClient({
    config: resolveNpmConfig([parseNpmrc(npmrc, {})]),
    backoffBaseMs: 0,
    ...extra,
  });
}

test("tarballUrl: built from registry, scoped registry, public lockfile URLs rewritten", () => {
  const client = clientFor(
    "registry=http://127.0.0.1:4873/mirror\n@acme:registry=https://npm.acme.dev/api/\n",
  );
  assert.equal(client.tarballUrl("ms", "2.1.3"), "http://127.0.0.1:4873/mirror/ms/-/ms-2.1.3.tgz");
  assert.equal(
    client.tarballUrl("@babel/core", "7.0.0"),
    "http://127.0.0.1:4873/mirror/@babel/core/-/core-7.0.0.tgz",
  );
  assert.equal(client.tarballUrl("@acme/ui", "1.0.0"), "https://npm.acme.dev/api/@acme/ui/-/ui-1.0.0.tgz");
  // Public registry URLs move onto the configured registry, path kept.
  assert.equal(
    client.tarballUrl("ms", "2.1.3", "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz"),
    "http://127.0.0.1:4873/mirror/ms/-/ms-2.1.3.tgz",
  );
  assert.equal(
    client.tarballUrl("@acme/ui", "1.0.0", "https://registry.yarnpkg.com/@acme/ui/-/ui-1.0.0.tgz"),
    "https://npm.acme.dev/api/@acme/ui/-/ui-1.0.0.tgz",
  );
  // Any other host is left alone.
  const custom = "https://cdn.example.com/files/ms-2.1.3.tgz";
  assert.equal(client.tarballUrl("ms", "2.1.3", custom), custom);

  const plain = clientFor("");
  const npmjs = "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz";
  assert.equal(plain.tarballUrl("ms", "2.1.3", npmjs), npmjs);
  assert.equal(plain.tarballUrl("ms", "2.1.3"), npmjs);
  // An old lockfile's http:// URL goes over the configured registry's https, as npm rewrites it.
  assert.equal(plain.tarballUrl("ms", "2.1.3", "http://registry.npmjs.org/ms/-/ms-2.1.3.tgz"), npmjs);
  assert.equal(plain.packumentUrl("@types/node"), "https://registry.npmjs.org/@types%2fnode");
});

test("the token goes only to its own host: 127.0.0.1 gets it, localhost does not", async () => {
  const server = await startRegistry({ packages: [{ name: "a", version: "1.0.0", tgz }] });
  try {
    const client = clientFor(`registry=${server.url}\n//127.0.0.1:${server.port}/:_authToken=${TOKEN}\n`);
    const viaIp = `${server.url}a/-/a-1.0.0.tgz`;
    const viaName = `http://localhost:${server.port}/a/-/a-1.0.0.tgz`;
    assert.equal(client.hasAuth(viaIp), true);
    assert.equal(client.hasAuth(viaName), false);

    await (await client.get(viaIp)).arrayBuffer();
    await (await client.get(viaName)).arrayBuffer();
    assert.equal(server.log.length, 2);
    assert.equal(server.log[0].authorization, `Bearer ${TOKEN}`);
    assert.equal(server.log[1].authorization, undefined);
    assert.match(server.log[1].host ?? "", /^localhost:/);

    // A redirect to another host must not carry the token along.
    server.script("/a/-/a-1.0.0.tgz", [{ redirect: viaName }]);
    const body = new Uint8Array(await (await client.get(viaIp)).arrayBuffer());
    assert.deepEqual(body, tgz);
    assert.equal(server.log[2].authorization, `Bearer ${TOKEN}`);
    assert.equal(server.log[3].authorization, undefined);
  } finally {
    await server.close();
  }
});

test("errors and retry events never contain the token", async () => {
  const server = await startRegistry();
  try {
    const events: RetryEvent[] = [];
    const client = clientFor(`//127.0.0.1:${server.port}/:_authToken=${TOKEN}\n`, {
      maxAttempts: 2,
      onRetry: (e) => events.push(e),
    });
    server.script("/missing", [500]);
    for (const host of ["127.0.0.1", "localhost"]) {
      const err = await client.get(`http://${host}:${server.port}/missing`, { package: "missing@1.0.0" })
        .then(
          () => assert.fail("expected an error"),
          (e: Error) => e,
        );
      assert.ok(err instanceof RegistryError);
      assert.equal(err.status, 404);
      for (const text of [err.message, err.stack ?? "", JSON.stringify(err), String(err.cause ?? "")]) {
        assert.ok(!text.includes(TOKEN), text);
      }
    }
    assert.equal(events.length, 1);
    assert.ok(!JSON.stringify(events.map((e) => [e.url, e.error.message])).includes(TOKEN));
  } finally {
    await server.close();
  }
});

test("401/403 name the host whose token to check", async () => {
  const server = await startRegistry();
  try {
    server.script("/p/-/p-1.0.0.tgz", [401, 403]);
    const anon = clientFor("");
    const url = `${server.url}p/-/p-1.0.0.tgz`;
    await assert.rejects(anon.get(url, { package: "p@1.0.0" }), (err: RegistryError) => {
      assert.equal(err.status, 401);
      assert.match(err.message, /p@1\.0\.0/);
      assert.match(err.message, new RegExp(`//127\\.0\\.0\\.1:${server.port}/p/-/:_authToken`));
      return true;
    });
    const authed = clientFor(`//127.0.0.1:${server.port}/:_authToken=${TOKEN}\n`);
    await assert.rejects(authed.get(url, { package: "p@1.0.0" }), (err: RegistryError) => {
      assert.equal(err.status, 403);
      assert.match(err.hint, /Check the auth token for \/\/127\.0\.0\.1:\d+\/p\/-\/ in \.npmrc/);
      assert.ok(!err.message.includes(TOKEN));
      return true;
    });
    assert.equal(server.total(), 2, "no retries on 401/403");
  } finally {
    await server.close();
  }
});

test("scoped registry: @scope packages go to their own registry", async () => {
  const main = await startRegistry({ packages: [{ name: "a", version: "1.0.0", tgz }] });
  const scoped = await startRegistry({ packages: [{ name: "@acme/ui", version: "2.0.0", tgz }] });
  try {
    const client = clientFor(
      `registry=${main.url}\n@acme:registry=${scoped.url}\n//127.0.0.1:${scoped.port}/:_authToken=${TOKEN}\n`,
    );
    const url = client.tarballUrl("@acme/ui", "2.0.0");
    assert.equal(url, `${scoped.url}@acme/ui/-/ui-2.0.0.tgz`);
    assert.deepEqual(new Uint8Array(await (await client.get(url)).arrayBuffer()), tgz);
    const packument = await (await client.get(client.packumentUrl("@acme/ui"))).json();
    assert.equal(packument.versions["2.0.0"].dist.tarball, url, "packument points back at its server");
    await (await client.get(client.tarballUrl("a", "1.0.0"))).arrayBuffer();
    assert.equal(scoped.total(), 2);
    assert.equal(main.total(), 1);
    assert.equal(scoped.log[0].authorization, `Bearer ${TOKEN}`);
    assert.equal(main.log[0].authorization, undefined, "the scoped registry's token stays there");
  } finally {
    await main.close();
    await scoped.close();
  }
});

test("retries 500 and 429, then succeeds; request counts match", async () => {
  const server = await startRegistry({ packages: [{ name: "a", version: "1.0.0", tgz }] });
  try {
    const events: RetryEvent[] = [];
    const client = clientFor(`registry=${server.url}\n`, { onRetry: (e) => events.push(e) });
    const path = "/a/-/a-1.0.0.tgz";
    server.script(path, [500, 429, 503]);
    const res = await client.get(client.tarballUrl("a", "1.0.0"), { package: "a@1.0.0" });
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), tgz);
    assert.equal(server.requests.get(path), 4);
    assert.deepEqual(events.map((e) => e.attempt), [1, 2, 3]);
    assert.equal(events[0].package, "a@1.0.0");
  } finally {
    await server.close();
  }
});

test("gives up after maxAttempts with a clear error", async () => {
  const server = await startRegistry({ packages: [{ name: "a", version: "1.0.0", tgz }] });
  try {
    const client = clientFor(`registry=${server.url}\n`, { maxAttempts: 3 });
    server.script("/a/-/a-1.0.0.tgz", [500, 500, 500]);
    await assert.rejects(
      client.get(client.tarballUrl("a", "1.0.0"), { package: "a@1.0.0" }),
      (err: RegistryError) => {
        assert.ok(err instanceof RegistryError);
        assert.equal(err.status, 500);
        assert.match(err.message, /^a@1\.0\.0: failed after 3 attempts: HTTP 500/);
        assert.match(err.message, /a-1\.0\.0\.tgz/);
        assert.match(err.hint, /try again later/);
        return true;
      },
    );
    assert.equal(server.total(), 3);
  } finally {
    await server.close();
  }
});

test("404 fails at once: one request, a message naming package, URL and what to do", async () => {
  const server = await startRegistry();
  try {
    const client = clientFor(`registry=${server.url}\n`);
    const url = client.tarballUrl("nope", "9.9.9");
    await assert.rejects(client.get(url, { package: "nope@9.9.9" }), (err: RegistryError) => {
      assert.equal(err.status, 404);
      assert.equal(err.package, "nope@9.9.9");
      assert.equal(err.url, url);
      assert.match(err.message, /nope@9\.9\.9: HTTP 404/);
      assert.ok(err.message.includes(url));
      assert.match(err.message, /Check the lockfile entry .* or the registry/);
      return true;
    });
    assert.equal(server.total(), 1);
  } finally {
    await server.close();
  }
});

test("network errors are retried: a refused connection, then a clear error", async () => {
  const server = await startRegistry();
  const url = `${server.url}gone`;
  await server.close(); // nothing listens on this port now
  const events: RetryEvent[] = [];
  const client = clientFor("", { maxAttempts: 2, onRetry: (e) => events.push(e) });
  await assert.rejects(client.get(url, { package: "gone@1.0.0" }), (err: RegistryError) => {
    assert.equal(err.status, 0);
    assert.match(err.message, /failed after 2 attempts/);
    assert.match(err.hint, /reachable/);
    return true;
  });
  assert.equal(events.length, 1);
});

test("stalled headers abort and retry", async () => {
  const server = await startRegistry({ packages: [{ name: "a", version: "1.0.0", tgz }] });
  try {
    const client = clientFor(`registry=${server.url}\n`, { stallTimeoutMs: 100 });
    server.script("/a/-/a-1.0.0.tgz", ["stall-headers"]);
    const res = await client.get(client.tarballUrl("a", "1.0.0"));
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), tgz);
    assert.equal(server.requests.get("/a/-/a-1.0.0.tgz"), 2);
  } finally {
    await server.close();
  }
});

test("concurrency limit is honoured while bodies are outstanding", async () => {
  const packages = Array.from({ length: 10 }, (_, i) => ({ name: `p${i}`, version: "1.0.0", tgz }));
  const server = await startRegistry({ packages });
  try {
    const client = clientFor(`registry=${server.url}\n`, { concurrency: 3 });
    const release = server.hold((path) => path.includes("/-/"));
    const all = Promise.all(
      packages.map(async (p) =>
        new Uint8Array(await (await client.get(client.tarballUrl(p.name, p.version))).arrayBuffer())
      ),
    );
    await server.waitForRequests(3);
    assert.equal(client.active, 3);
    assert.equal(client.queued, 7);
    assert.equal(server.inFlight(), 3);
    assert.equal(server.total(), 3, "no fourth request while three are held");
    release();
    const bodies = await all;
    assert.equal(bodies.length, 10);
    for (const b of bodies) assert.deepEqual(b, tgz);
    assert.equal(server.total(), 10);
    assert.equal(server.maxInFlight(), 3);
    assert.equal(client.active, 0);
  } finally {
    await server.close();
  }
});

test("an unread, cancelled body gives its slot back", async () => {
  const server = await startRegistry({ packages: [{ name: "a", version: "1.0.0", tgz }] });
  try {
    const client = clientFor(`registry=${server.url}\n`, { concurrency: 1 });
    const res = await client.get(client.tarballUrl("a", "1.0.0"));
    assert.equal(client.active, 1);
    await res.body?.cancel();
    assert.equal(client.active, 0);
    await (await client.get(client.tarballUrl("a", "1.0.0"))).arrayBuffer();
  } finally {
    await server.close();
  }
});

test("aborting the caller's signal rejects without retrying", async () => {
  const server = await startRegistry({ packages: [{ name: "a", version: "1.0.0", tgz }] });
  try {
    const client = clientFor(`registry=${server.url}\n`);
    const release = server.hold("/a/-/a-1.0.0.tgz");
    const ctrl = new AbortController();
    const pending = client.get(client.tarballUrl("a", "1.0.0"), { signal: ctrl.signal });
    await server.waitForRequests(1);
    ctrl.abort(new Error("user cancelled"));
    await assert.rejects(pending, /user cancelled/);
    release();
    assert.equal(server.total(), 1);
    assert.equal(client.active, 0);
  } finally {
    await server.close();
  }
});
