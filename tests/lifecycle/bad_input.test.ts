/**
 * The bad-input matrix, end to end: each input goes through the real CLI in a child process
 * (the stalled registry goes through the library, to shorten the stall timeout). Each gets
 * a clear error naming the package or file and what to do, a non-zero exit, and a store
 * that still verifies clean. Set SILO_MATRIX_OUT=file to append each observed outcome as a
 * JSON line (the report's table is built from it).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { createContainer, T } from "../../src/container/app.ts";
import { RegistryClient } from "../../src/fetch/registry.ts";
import { install } from "../../src/install/install.ts";
import { type RegistryServer, startRegistry } from "../support/registry_server.ts";
import { packageTgz, sri, tarOf, tgzOf } from "../support/tarball.ts";
import { mountTmpfs, type RunResult, runSilo, tempDir, writeProject } from "./_support.ts";

/** Record one observed outcome (for the report) and check the common expectations. */
async function expectClearFailure(
  input: string,
  result: RunResult,
  store: string,
  message: RegExp,
): Promise<void> {
  const verify = await runSilo(["--store", store, "verify"]);
  const excerpt =
    (result.stderr.trim().split("\n").find((l) => l.startsWith("silo:")) ?? result.stderr.trim()).slice(
      0,
      240,
    );
  if (process.env.SILO_MATRIX_OUT) {
    fs.appendFileSync(
      process.env.SILO_MATRIX_OUT,
      JSON.stringify({
        input,
        code: result.code,
        message: excerpt,
        verify: verify.code === 0 ? "clean" : verify.stdout.trim(),
      }) + "\n",
    );
  }
  assert.notEqual(result.code, 0, `${input}: expected a non-zero exit; stdout: ${result.stdout}`);
  assert.match(result.stderr, message, `${input}: stderr was: ${result.stderr}`);
  assert.doesNotMatch(result.stderr, /^\s+at /m, `${input}: no stack trace for bad input`);
  assert.equal(verify.code, 0, `${input}: the store must verify clean: ${verify.stdout}`);
}

/** A store, a project naming `packages`, and a registry serving `served`. */
async function scenario(
  served: { name: string; version: string; tgz: Uint8Array }[],
  locked: Parameters<typeof writeProject>[1],
  storeDir?: string,
): Promise<
  { server: RegistryServer; store: string; project: string; args: string[]; done: () => Promise<void> }
> {
  const server = await startRegistry({ packages: served });
  const store = storeDir ?? tempDir("silo-bad-store-");
  const project = tempDir("silo-bad-project-");
  writeProject(project, locked);
  return {
    server,
    store,
    project,
    args: ["--store", store, "install", "--dir", project, "--registry", server.url],
    done: async () => {
      await server.close();
      fs.rmSync(project, { recursive: true, force: true });
      if (!storeDir) fs.rmSync(store, { recursive: true, force: true });
    },
  };
}

const good = await packageTgz("good", "1.0.0", { "index.js": "module.exports = 'good';" });
const goodPkg = { name: "good", version: "1.0.0", tgz: good };

/** A tarball case: `evil@1.0.0` is served as `tgz` and locked with its real integrity. */
async function tarballCase(
  input: string,
  tgz: Uint8Array,
  message: RegExp,
  integrity?: string,
): Promise<void> {
  const s = await scenario([goodPkg, { name: "evil", version: "1.0.0", tgz }], [goodPkg, {
    name: "evil",
    version: "1.0.0",
    tgz,
    integrity,
  }]);
  const result = await runSilo(s.args);
  await expectClearFailure(input, result, s.store, message);
  assert.equal(fs.existsSync(path.join(s.project, "node_modules/evil/package.json")), false);
  await s.done();
}

const pkgJson = { name: "package/package.json", content: JSON.stringify({ name: "evil", version: "1.0.0" }) };

test(
  "integrity mismatch: names the package, the expected and actual hashes",
  { timeout: 120_000 },
  async () => {
    const tgz = await packageTgz("evil", "1.0.0", { "index.js": "x" });
    await tarballCase(
      "integrity mismatch",
      tgz,
      /evil@1\.0\.0.*integrity/s,
      sri(new TextEncoder().encode("other")),
    );
  },
);

test("truncated gzip (the published tarball itself is cut short)", { timeout: 120_000 }, async () => {
  const full = await packageTgz("evil", "1.0.0", { "index.js": randomBytes(20_000).toString("hex") });
  const cut = full.subarray(0, Math.floor(full.length / 2));
  await tarballCase("truncated gzip", cut, /evil@1\.0\.0.*(truncat|unexpected end|incomplete)/is);
});

test("tar path traversal (../ entry)", { timeout: 120_000 }, async () => {
  const tgz = await tgzOf([pkgJson, { name: "package/../../escape.js", content: "pwned" }]);
  await tarballCase("tar path traversal", tgz, /evil@1\.0\.0.*(\.\.|outside|travers)/is);
  assert.equal(fs.existsSync("/tmp/escape.js"), false);
});

test("symlink escaping the package: refused, named, store clean", { timeout: 120_000 }, async () => {
  const tgz = await tgzOf([pkgJson, { name: "package/index.js", content: "1" }, {
    name: "package/evil",
    type: "symlink",
    linkname: "../../../../etc/passwd",
  }]);
  await tarballCase(
    "symlink escape",
    tgz,
    /evil@1\.0\.0: .*symlink to "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd", outside the package/,
  );
});

test("setuid entry: refused, named, store clean", { timeout: 120_000 }, async () => {
  const tgz = await tgzOf([pkgJson, { name: "package/run.js", content: "#!/bin/sh", mode: 0o4755 }]);
  await tarballCase("setuid entry", tgz, /evil@1\.0\.0: .*setuid\/setgid/);
});

test("tar bomb (unpacks far past its compressed size)", { timeout: 120_000 }, async () => {
  const tgz = new Uint8Array(
    gzipSync(await tarOf([pkgJson, { name: "package/zeros", content: new Uint8Array(80 * 1024 * 1024) }])),
  );
  await tarballCase("tar bomb", tgz, /evil@1\.0\.0.*(bomb|too large|unpack)/is);
});

test("malformed lockfile: names the file, line and column", { timeout: 120_000 }, async () => {
  const s = await scenario([goodPkg], [goodPkg]);
  const lock = path.join(s.project, "package-lock.json");
  fs.writeFileSync(
    lock,
    '{\n  "lockfileVersion": 3,\n  "packages": {\n    "": { "name": "app" ,, }\n  }\n}\n',
  );
  const result = await runSilo(s.args);
  await expectClearFailure("malformed lockfile", result, s.store, /package-lock\.json:4:\d+/);
  await s.done();
});

test(
  "missing integrity in the lockfile: refused with the way out; --allow-missing-integrity installs it",
  { timeout: 120_000 },
  async () => {
    const s = await scenario([goodPkg], [{ ...goodPkg, integrity: null }]);
    const result = await runSilo(s.args);
    await expectClearFailure(
      "missing integrity",
      result,
      s.store,
      /good@1\.0\.0: the lockfile records no integrity.*--allow-missing-integrity/s,
    );
    const allowed = await runSilo([...s.args, "--allow-missing-integrity"]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.ok(fs.existsSync(path.join(s.project, "node_modules/good/package.json")));
    // The unchecked copy now in the store is no way around the refusal for an install without the flag.
    fs.rmSync(path.join(s.project, "node_modules"), { recursive: true, force: true });
    const again = await runSilo(s.args);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /good@1\.0\.0: the lockfile records no integrity/);
    await s.done();
  },
);

for (
  const [input, behaviours, message] of [
    ["registry 404", [404, 404, 404, 404, 404], /good@1\.0\.0.*404/s],
    ["registry 500", [500, 500, 500, 500, 500], /good@1\.0\.0.*500/s],
    ["registry truncated body", ["truncate", "truncate", "truncate", "truncate", "truncate"], /good@1\.0\.0/],
  ] as const
) {
  test(`${input}: named package, non-zero exit, clean store`, { timeout: 120_000 }, async () => {
    const s = await scenario([goodPkg], [goodPkg]);
    s.server.script("/good/-/good-1.0.0.tgz", [...behaviours]);
    const result = await runSilo(s.args);
    await expectClearFailure(input, result, s.store, message);
    await s.done();
  });
}

test("registry stalls mid-body: the stall timeout names the package (library, short timeout)", {
  timeout: 120_000,
}, async () => {
  const s = await scenario([goodPkg], [goodPkg]);
  s.server.script("/good/-/good-1.0.0.tgz", ["stall", "stall"]);
  const c = await createContainer({ storeDir: s.store });
  const client = new RegistryClient({
    config: { registry: s.server.url, scopes: {}, credentials: [], warnings: [], files: [] },
    stallTimeoutMs: 300,
    maxAttempts: 2,
    backoffBaseMs: 10,
  });
  const error = await install(c, { projectDir: s.project, client }).then(() => undefined, (e) => e as Error);
  c.get(T.index).close();
  assert.ok(error, "the install fails");
  await expectClearFailure(
    "registry stalled",
    { code: 1, signal: null, stdout: "", stderr: `silo: ${error.message}` },
    s.store,
    /good@1\.0\.0.*(stall|no .* from the registry)/is,
  );
  await s.done();
});

test(
  "full disk: the store's filesystem fills up mid-install",
  { timeout: 120_000 },
  async () => {
    const store = tempDir("silo-full-");
    const unmount = await mountTmpfs(store, "1m");
    try {
      const big = await packageTgz("big", "1.0.0", { "blob.bin": randomBytes(1_500_000).toString("base64") });
      const s = await scenario([goodPkg, { name: "big", version: "1.0.0", tgz: big }], [goodPkg, {
        name: "big",
        version: "1.0.0",
        tgz: big,
      }], store);
      const result = await runSilo(s.args);
      await expectClearFailure(
        "full disk",
        result,
        store,
        /big@1\.0\.0: could not store the package: the disk holding the store .* is full.*ENOSPC/s,
      );
      assert.match(
        result.stderr,
        new RegExp(store.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
        "names the store",
      );
      await s.done();
    } finally {
      await unmount();
      fs.rmSync(store, { recursive: true, force: true });
    }
  },
);

test("read-only store: install says the store is not writable", { timeout: 120_000 }, async () => {
  const store = tempDir("silo-ro-");
  const unmount = await mountTmpfs(store, "16m");
  try {
    const first = await scenario([goodPkg], [goodPkg], store);
    assert.equal((await runSilo(first.args)).code, 0);
    await first.done();
    const { sh } = await import("./_support.ts");
    await sh("mount", ["-o", "remount,ro", store]);
    const other = await packageTgz("other", "1.0.0", { "index.js": "1" });
    const s = await scenario([goodPkg, { name: "other", version: "1.0.0", tgz: other }], [goodPkg, {
      name: "other",
      version: "1.0.0",
      tgz: other,
    }], store);
    const result = await runSilo(s.args);
    await expectClearFailure("read-only store", result, store, /(read-only|readonly|not writable|EROFS)/i);
    assert.match(result.stderr, new RegExp(store.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), "names the store");
    await s.done();
  } finally {
    await unmount();
    fs.rmSync(store, { recursive: true, force: true });
  }
});

test(
  "store on another filesystem (EXDEV): copies, with exactly one warning",
  { timeout: 120_000 },
  async () => {
    const store = tempDir("silo-xdev-");
    const unmount = await mountTmpfs(store, "16m");
    try {
      const second = await packageTgz("second", "1.0.0", {
        "index.js": "2",
        "lib/a.js": "a",
        "lib/b.js": "b",
      });
      const s = await scenario([goodPkg, { name: "second", version: "1.0.0", tgz: second }], [goodPkg, {
        name: "second",
        version: "1.0.0",
        tgz: second,
      }], store);
      // Asking for hardlinks explicitly is refused with a clear error; auto falls back to copies.
      const strict = await runSilo([...s.args, "--import-method", "hardlink"]);
      await expectClearFailure(
        "EXDEV with --import-method hardlink",
        strict,
        store,
        /EXDEV.*different filesystems.*SILO_STORE_DIR/s,
      );
      const result = await runSilo(s.args);
      if (process.env.SILO_MATRIX_OUT) {
        fs.appendFileSync(
          process.env.SILO_MATRIX_OUT,
          JSON.stringify({
            input: "store on another filesystem (EXDEV)",
            code: result.code,
            message: result.stderr.trim(),
            verify: (await runSilo(["--store", store, "verify"])).code === 0 ? "clean" : "bad",
          }) + "\n",
        );
      }
      assert.equal(result.code, 0, result.stderr);
      const warnings = result.stderr.split("\n").filter((l) => l.startsWith("warning:"));
      assert.equal(warnings.length, 1, `exactly one warning: ${result.stderr}`);
      assert.match(warnings[0], /different filesystems.*copied/i);
      assert.equal(fs.readFileSync(path.join(s.project, "node_modules/second/lib/b.js"), "utf8"), "b");
      const st = fs.statSync(path.join(s.project, "node_modules/second/lib/b.js"));
      assert.equal(st.nlink, 1, "a copy, not a link");
      assert.equal((await runSilo(["--store", store, "verify"])).code, 0);
      await s.done();
    } finally {
      await unmount();
      fs.rmSync(store, { recursive: true, force: true });
    }
  },
);
