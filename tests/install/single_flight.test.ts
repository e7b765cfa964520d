/**
 * DESIGN invariant 4, through the installer: one download per tarball whichever phase asks (a prefetch
 * and the install), no barrier (other packages link while one download is held), and a failed flight
 * wakes every waiter with its error and clears the slot. Deterministic: the registry holds the
 * response and counts requests; nothing sleeps.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { T } from "../../src/container/app.ts";
import { PackageFetcher } from "../../src/fetch/package_fetcher.ts";
import { install, type InstallProgress } from "../../src/install/install.ts";
import { parseNpmLockfile } from "../../src/lockfile/mod.ts";
import { makeProject, type PkgSpec, signal } from "./_support.ts";

const SPECS: PkgSpec[] = [
  { name: "fast-a", files: { "index.js": "a" } },
  { name: "fast-b", files: { "index.js": "b" } },
  { name: "slow", files: { "index.js": "slow" } },
];

function slowNode(projectDir: string) {
  const file = path.join(projectDir, "package-lock.json");
  const graph = parseNpmLockfile(fs.readFileSync(file, "utf8"), file);
  return graph.packages.get("node_modules/slow")!;
}

test("a prefetch and the install share one download; the others link while it is held", async () => {
  const p = await makeProject(SPECS);
  try {
    const tarball = p.tarballPath("slow");
    const release = p.server.hold(tarball);
    const fetcher = new PackageFetcher(p.c.get(T.store), p.client, {
      projectDir: p.projectDir,
      flights: p.c.get(T.flights),
    });
    const prefetch = fetcher.ensure(slowNode(p.projectDir));
    await p.server.waitForRequests(1, tarball);

    const twoLinked = signal();
    const running = install(p.c, {
      projectDir: p.projectDir,
      client: p.client,
      onProgress: (progress: InstallProgress) => {
        if (progress.linked >= 2) twoLinked.resolve();
      },
    });
    await twoLinked.promise;
    // No barrier: the fast packages are complete while the slow download is still held.
    for (const name of ["fast-a", "fast-b"]) {
      assert.ok(fs.existsSync(path.join(p.projectDir, "node_modules", name, "package.json")), name);
    }
    assert.equal(fs.existsSync(path.join(p.projectDir, "node_modules", "slow", "package.json")), false);
    assert.ok(
      fetcher.inFlight(slowNode(p.projectDir)),
      "the prefetch's flight is the one the install waits on",
    );

    release();
    const [record, summary] = await Promise.all([prefetch, running]);
    assert.equal(record.name, "slow");
    assert.equal(p.server.requests.get(tarball), 1, "exactly one GET for the shared tarball");
    assert.equal(summary.packages, 3);
    assert.equal(
      fs.readFileSync(path.join(p.projectDir, "node_modules", "slow", "index.js"), "utf8"),
      "slow",
    );
    assert.equal(fetcher.inFlight(slowNode(p.projectDir)), false);
  } finally {
    await p.close();
  }
});

test("a failed flight wakes all its waiters with the error and clears the slot", async () => {
  const p = await makeProject(SPECS);
  try {
    const tarball = p.tarballPath("slow");
    const release = p.server.hold(tarball);
    p.server.script(tarball, [404]);
    const node = slowNode(p.projectDir);
    const fetcher = new PackageFetcher(p.c.get(T.store), p.client, {
      projectDir: p.projectDir,
      flights: p.c.get(T.flights),
    });
    const first = fetcher.ensure(node);
    const second = new PackageFetcher(p.c.get(T.store), p.client, {
      projectDir: p.projectDir,
      flights: p.c.get(T.flights),
    }).ensure(node);
    // The install reports "linking" once it has asked for every missing package: then it waits on the flight.
    const joined = signal();
    const installing = install(p.c, {
      projectDir: p.projectDir,
      client: p.client,
      onProgress: (progress) => progress.phase === "linking" && joined.resolve(),
    });
    // Settle-collect each, so no rejection goes unobserved while the response is held.
    const outcomes = Promise.allSettled([first, second, installing]);
    await Promise.all([p.server.waitForRequests(1, tarball), joined.promise]);
    assert.ok(fetcher.inFlight(node));

    release();
    const results = await outcomes;
    const errors = results.map((r) => (r.status === "rejected" ? r.reason as Error : undefined));
    assert.ok(errors.every((e) => e !== undefined), "every waiter fails");
    assert.equal(errors[0], errors[1], "both fetch waiters get the same error object");
    assert.match(errors[2]!.message, /404|not found/i);
    assert.match(errors[2]!.message, /slow/);
    assert.equal(p.server.requests.get(tarball), 1, "one request, however many waiters");
    assert.equal(fetcher.inFlight(node), false, "the slot is cleared");

    // A later ensure starts a new flight (the script is used up, so this one succeeds).
    const record = await fetcher.ensure(node);
    assert.equal(record.name, "slow");
    assert.equal(p.server.requests.get(tarball), 2);
  } finally {
    await p.close();
  }
});
