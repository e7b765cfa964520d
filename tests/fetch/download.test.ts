import { test } from "node:test";
import assert from "node:assert/strict";
import { downloadWithRetry, RegistryError, TransientFetchError } from "../../src/fetch/download.ts";
import { parseNpmrc, resolveNpmConfig } from "../../src/fetch/npmrc.ts";
import { RegistryClient } from "../../src/fetch/registry.ts";
import { SingleFlight } from "../../src/fetch/single_flight.ts";
import { startRegistry } from "../support/registry_server.ts";

// Big enough that "half the body" spans several chunks.
const tgz = Uint8Array.from({ length: 256 * 1024 }, (_, i) => (i * 7) & 0xff);
const PATH = "/a/-/a-1.0.0.tgz";

async function setup(options: { stallTimeoutMs?: number; maxAttempts?: number } = {}) {
  const server = await startRegistry({ packages: [{ name: "a", version: "1.0.0", tgz }] });
  const client = new RegistryClient({
    config: resolveNpmConfig([parseNpmrc(`registry=${server.url}\n`, {})]),
    backoffBaseMs: 0,
    ...options,
  });
  return { server, client, url: client.tarballUrl("a", "1.0.0") };
}

/** A streaming consumer like the tar ingester: reads chunk by chunk, records each attempt. */
function recordingConsumer(attempts: number[], errors: unknown[]) {
  return async (body: ReadableStream<Uint8Array>, attempt: number) => {
    attempts.push(attempt);
    const chunks: Uint8Array[] = [];
    try {
      for await (const chunk of body) chunks.push(chunk);
    } catch (err) {
      errors.push(err);
      throw err;
    }
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  };
}

for (const behaviour of ["truncate", "stall"] as const) {
  test(`a ${behaviour} mid-body re-runs download and consumer`, async () => {
    const { server, client, url } = await setup({ stallTimeoutMs: 150 });
    try {
      server.script(PATH, [behaviour]);
      const attempts: number[] = [];
      const errors: unknown[] = [];
      const bytes = await downloadWithRetry(client, url, recordingConsumer(attempts, errors), {
        package: "a@1.0.0",
      });
      assert.deepEqual(bytes, tgz);
      assert.deepEqual(attempts, [1, 2]);
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof TransientFetchError, String(errors[0]));
      if (behaviour === "stall") {
        assert.match((errors[0] as Error).message, /no data from the registry for 150 ms/);
      }
      assert.equal(server.requests.get(PATH), 2);
      assert.equal(client.active, 0);
    } finally {
      await server.close();
    }
  });
}

test("a connection reset is retried", async () => {
  const { server, client, url } = await setup();
  try {
    server.script(PATH, ["reset"]);
    const attempts: number[] = [];
    const errors: unknown[] = [];
    const bytes = await downloadWithRetry(client, url, recordingConsumer(attempts, errors), {
      package: "a@1.0.0",
    });
    assert.deepEqual(bytes, tgz);
    // An RST may discard data the client had not read yet, so the reset can surface before
    // the headers (no consumer call) or mid-body (consumer sees a TransientFetchError).
    assert.equal(attempts.at(-1), 2);
    for (const err of errors) assert.ok(err instanceof TransientFetchError, String(err));
    assert.equal(server.requests.get(PATH), 2);
    assert.equal(client.active, 0);
  } finally {
    await server.close();
  }
});

test("a consumer's own retryable error (e.g. truncated gzip) is retried; others are not", async () => {
  const { server, client, url } = await setup();
  try {
    let calls = 0;
    const result = await downloadWithRetry(client, url, async (body, attempt) => {
      calls++;
      await body.cancel();
      if (attempt === 1) {
        throw new Error("gzip ended early", { cause: new TransientFetchError("unexpected end") });
      }
      return "done";
    });
    assert.equal(result, "done");
    assert.equal(calls, 2);

    calls = 0;
    await assert.rejects(
      downloadWithRetry(client, url, async (body) => {
        calls++;
        await body.cancel();
        throw new Error("integrity mismatch");
      }),
      /integrity mismatch/,
    );
    assert.equal(calls, 1, "a non-retryable consumer error is not retried");
    assert.equal(client.active, 0);
  } finally {
    await server.close();
  }
});

test("a consumer that stops reading early still frees its slot", async () => {
  const { server, client, url } = await setup();
  try {
    const first = await downloadWithRetry(client, url, async (body) => {
      const reader = body.getReader();
      const { value } = await reader.read();
      return value?.byteLength ?? 0; // never reads the rest, never cancels
    });
    assert.ok(first > 0);
    assert.equal(client.active, 0);
  } finally {
    await server.close();
  }
});

test("truncated every time: a RegistryError after maxAttempts, naming the package", async () => {
  const { server, client, url } = await setup({ maxAttempts: 3 });
  try {
    server.script(PATH, ["truncate", "reset", "truncate"]);
    await assert.rejects(
      downloadWithRetry(client, url, recordingConsumer([], []), { package: "a@1.0.0" }),
      (err: RegistryError) => {
        assert.ok(err instanceof RegistryError);
        assert.match(err.message, /^a@1\.0\.0: failed after 3 attempts/);
        assert.ok(err.cause instanceof TransientFetchError);
        return true;
      },
    );
    assert.equal(server.requests.get(PATH), 3);
  } finally {
    await server.close();
  }
});

test("a 404 inside downloadWithRetry fails at once without calling the consumer", async () => {
  const { server, client } = await setup();
  try {
    let calls = 0;
    const url = client.tarballUrl("missing", "1.0.0");
    await assert.rejects(
      downloadWithRetry(client, url, () => {
        calls++;
        return Promise.resolve();
      }, { package: "missing@1.0.0" }),
      (err: RegistryError) => err.status === 404 && /missing@1\.0\.0/.test(err.message),
    );
    assert.equal(calls, 0);
    assert.equal(server.total(), 1);
  } finally {
    await server.close();
  }
});

test("single-flight over downloads: two importers of one tarball make one request", async () => {
  const { server, client, url } = await setup();
  try {
    const flights = new SingleFlight<string, Uint8Array>();
    const release = server.hold(PATH);
    const fetchIt = () =>
      flights.run("a@1.0.0", () => downloadWithRetry(client, url, recordingConsumer([], [])));
    const first = fetchIt();
    await server.waitForRequests(1);
    const second = fetchIt(); // arrives while the first is still downloading
    assert.equal(flights.size, 1);
    release();
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a, b);
    assert.deepEqual(a, tgz);
    assert.equal(server.requests.get(PATH), 1);
    assert.equal(flights.size, 0);
  } finally {
    await server.close();
  }
});
