/**
 * End to end: the silo CLI as a child process, from a temp dir outside the repo, against a
 * loopback registry that serves examples/hello's tarballs (kept in tests/e2e/fixtures/registry,
 * so these tests need no network and no mirror).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import type { InstallResult } from "../../mod.ts";
import { startRegistry } from "../support/registry_server.ts";
import {
  copyProject,
  E2E_TIMEOUT,
  expectedRuntime,
  FIXTURES,
  packageDirs,
  REPO,
  silo,
  siloJson,
  workspace,
} from "./support.ts";

const HELLO = path.join(REPO, "examples", "hello");
const HELLO_PACKAGES = [
  "ansi-styles",
  "chalk",
  "color-convert",
  "color-name",
  "has-flag",
  "is-number",
  "ms",
  "semver",
  "supports-color",
];

/** An empty store folder under `root`. */
function tempStore(root: string): string {
  return fs.mkdtempSync(path.join(root, "store-"));
}

/** A hello project in a fresh workspace and a registry for it; `done` tears both down. */
async function helloSetup() {
  const ws = workspace();
  const registry = await startRegistry({ dir: path.join(FIXTURES, "registry") });
  const project = copyProject(HELLO, path.join(ws.root, "hello"));
  const flags = ["--store", ws.store, "--registry", registry.url];
  return {
    ws,
    registry,
    project,
    flags,
    done: async () => {
      await registry.close();
      ws.cleanup();
    },
  };
}

test("e2e: install examples/hello into a fresh store, then no-op, hot reinstall, verify, store status", {
  timeout: E2E_TIMEOUT,
}, async () => {
  const { project, flags, registry, ws, done } = await helloSetup();
  try {
    // npm and pnpm command lines work unchanged.
    const cold = await siloJson<InstallResult>(
      ["install", "--frozen-lockfile", "--no-audit", "--no-fund", "--loglevel", "error", ...flags],
      { cwd: project },
    );
    assert.equal(cold.upToDate, false);
    assert.equal(cold.lockfile, "package-lock.json");
    assert.equal(cold.layout, "hoisted");
    assert.equal(cold.packages, HELLO_PACKAGES.length);
    assert.equal(cold.fromStore, 0);
    assert.equal(cold.downloaded, HELLO_PACKAGES.length);
    assert.ok(cold.downloadedBytes > 10_000, `downloadedBytes ${cold.downloadedBytes}`);
    assert.ok(cold.files >= 90, `files ${cold.files}`);
    assert.equal(cold.bins, 1);
    assert.ok(["clone", "hardlink", "copy"].includes(cold.importMethod), cold.importMethod);

    // Every tarball came from the loopback registry, once.
    const tarballs = [...registry.requests].filter(([p]) => p.endsWith(".tgz"));
    assert.equal(tarballs.length, HELLO_PACKAGES.length);
    for (const [p, n] of tarballs) assert.equal(n, 1, `${p} requested ${n} times`);

    const nm = path.join(project, "node_modules");
    assert.deepEqual(packageDirs(nm), HELLO_PACKAGES);
    const chalk = JSON.parse(fs.readFileSync(path.join(nm, "chalk", "package.json"), "utf8"));
    assert.equal(chalk.version, "4.1.2");
    assert.ok(fs.statSync(path.join(nm, "chalk", "source", "index.js")).isFile());
    const bin = path.join(nm, ".bin", "semver");
    assert.ok(fs.lstatSync(bin).isSymbolicLink());
    assert.equal(fs.realpathSync(bin), fs.realpathSync(path.join(nm, "semver", "bin", "semver.js")));
    assert.ok(fs.statSync(bin).mode & 0o111, "the bin target is executable");

    // Second install: nothing to do, and it says so, without asking the registry anything.
    const requestsBefore = registry.total();
    const again = await silo(["install", ...flags], { cwd: project });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /node_modules is up to date \(package-lock\.json\)/);
    const noop = await siloJson<InstallResult>(["install", ...flags], { cwd: project });
    assert.equal(noop.upToDate, true);
    assert.equal(registry.total(), requestsBefore, "a no-op install makes no requests");

    // No node_modules, warm store: everything from the store, nothing downloaded.
    fs.rmSync(nm, { recursive: true });
    const before = registry.total();
    const hot = await siloJson<InstallResult>(["install", "--dir", project, ...flags], { cwd: ws.root });
    assert.equal(hot.fromStore, HELLO_PACKAGES.length);
    assert.equal(hot.downloaded, 0);
    assert.equal(registry.total(), before, "a hot install makes no requests");
    assert.deepEqual(packageDirs(nm), HELLO_PACKAGES);

    const verify = await silo(["verify", "--store", ws.store], { cwd: ws.root });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /store ok: 9 packages/);

    const status = await siloJson<Record<string, unknown>>(["store", "status", "--store", ws.store], {
      cwd: ws.root,
    });
    assert.equal(status.store, ws.store);
    assert.equal(status.packages, HELLO_PACKAGES.length);
    assert.ok((status.files as number) > 0 && (status.bytes as number) > 0);
    assert.equal(status.runtime, expectedRuntime());
    assert.equal((status.importMethods as Record<string, boolean>).copy, true);
    assert.ok(["ffi", "builtin"].includes((status.index as { driver: string }).driver));

    const where = await silo(["store", "path", "--store", ws.store], { cwd: ws.root });
    assert.equal(where.stdout.trim(), ws.store);
  } finally {
    await done();
  }
});

test("e2e: --prod, --omit dev and NODE_ENV=production leave devDependencies out; --include dev keeps them", {
  timeout: E2E_TIMEOUT,
}, async () => {
  const { project, flags, done } = await helloSetup();
  const nm = path.join(project, "node_modules");
  const prodOnly = HELLO_PACKAGES.filter((p) => p !== "is-number");
  try {
    const summary = await siloJson<InstallResult>(["install", "--prod", ...flags], { cwd: project });
    assert.equal(summary.packages, HELLO_PACKAGES.length - 1);
    assert.deepEqual(packageDirs(nm), prodOnly);

    const all = await siloJson<InstallResult>(["install", ...flags], { cwd: project });
    assert.equal(all.packages, HELLO_PACKAGES.length, "without the flag the tree is rebuilt with dev deps");
    const omit = await siloJson<InstallResult>(["install", "--omit", "dev", ...flags], { cwd: project });
    assert.equal(omit.packages, HELLO_PACKAGES.length - 1);
    assert.deepEqual(packageDirs(nm), prodOnly);

    // The project's own scripts run, and the CLI names each on stderr, as npm does.
    const manifestFile = path.join(project, "package.json");
    const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
    fs.writeFileSync(
      manifestFile,
      JSON.stringify({ ...manifest, scripts: { postinstall: "echo done > ran.txt" } }),
    );
    const env = { NODE_ENV: "production" };
    const byEnv = await silo(["install", "--force", ...flags], { cwd: project, env });
    assert.equal(byEnv.code, 0, byEnv.stderr);
    assert.match(byEnv.stderr, /NODE_ENV=production: devDependencies are left out/);
    assert.match(byEnv.stderr, /^> silo-example-hello@1\.0\.0 postinstall: echo done > ran\.txt$/m);
    assert.equal(fs.readFileSync(path.join(project, "ran.txt"), "utf8"), "done\n");
    assert.deepEqual(packageDirs(nm), prodOnly);
    const included = await siloJson<InstallResult>(["install", "--include", "dev", ...flags], {
      cwd: project,
      env,
    });
    assert.equal(included.packages, HELLO_PACKAGES.length);

    const bad = await silo(["install", "--omit", "types", ...flags], { cwd: project });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--omit takes dev or optional or peer, not "types"/);
  } finally {
    await done();
  }
});

test(
  "e2e: npm's, pnpm's, bun's and yarn's flags: -P, -C, --prefix, --cwd, --store-dir, --silent, --loglevel, --backend",
  {
    timeout: E2E_TIMEOUT,
  },
  async () => {
    const { ws, registry, project, done } = await helloSetup();
    const nm = path.join(project, "node_modules");
    try {
      // From the workspace's root, as `pnpm -C hello install -P --silent` would be typed.
      const quiet = await silo(
        ["install", "-C", "hello", "-P", "--silent", "--store-dir", ws.store, "--registry", registry.url],
        { cwd: ws.root },
      );
      assert.equal(quiet.code, 0, quiet.stderr);
      assert.equal(quiet.stdout + quiet.stderr, "", "--silent prints nothing when all is well");
      assert.deepEqual(packageDirs(nm), HELLO_PACKAGES.filter((p) => p !== "is-number"));

      const copied = await siloJson<InstallResult>(
        [
          "install",
          "--prefix",
          "hello",
          "--backend",
          "copyfile",
          "--store",
          ws.store,
          "--registry",
          registry.url,
        ],
        { cwd: ws.root },
      );
      assert.equal(copied.importMethod, "copy", "bun's --backend copyfile is silo's copy");
      assert.equal(copied.packages, HELLO_PACKAGES.length);

      // A CI line written for yarn 1.
      const yarnLine = [
        "install",
        "--cwd",
        "hello",
        "--frozen-lockfile",
        "--pure-lockfile",
        "--non-interactive",
      ];
      const yarnFlags = ["--ignore-optional", "--ignore-engines", "--network-timeout", "100000", "--force"];
      const yarnStyle = await siloJson<InstallResult>(
        [...yarnLine, ...yarnFlags, "--store", ws.store, "--registry", registry.url],
        { cwd: ws.root },
      );
      assert.equal(yarnStyle.packages, HELLO_PACKAGES.length);
      const badTimeout = await silo(["install", "--network-timeout", "soon", "--store", ws.store], {
        cwd: project,
      });
      assert.equal(badTimeout.code, 1);
      assert.match(badTimeout.stderr, /--network-timeout takes milliseconds, a positive number, not "soon"/);

      const env = { NODE_ENV: "production" };
      const flags = ["--force", "--store", ws.store, "--registry", registry.url];
      const noisy = await silo(["install", ...flags], { cwd: project, env });
      assert.match(noisy.stderr, /warning: NODE_ENV=production/);
      assert.match(noisy.stdout, /packages/, "the summary");
      const errorsOnly = await silo(["install", "--loglevel", "error", ...flags], { cwd: project, env });
      assert.equal(errorsOnly.code, 0, errorsOnly.stderr);
      assert.doesNotMatch(errorsOnly.stderr, /warning/);
      assert.match(errorsOnly.stdout, /packages/, "--loglevel error keeps the summary");
      const reporter = await silo(["install", "--reporter=silent", ...flags], { cwd: project, env });
      assert.equal(reporter.stdout + reporter.stderr, "", "pnpm's --reporter silent");

      const failing = await silo(["install", "--silent", "--offline", "--store", tempStore(ws.root)], {
        cwd: project,
      });
      assert.equal(failing.code, 1);
      assert.match(failing.stderr, /^silo: /, "--silent still says why it failed");
    } finally {
      await done();
    }
  },
);

test(
  "e2e: silo add stores a directory and a tarball; adding again writes nothing",
  { timeout: E2E_TIMEOUT },
  async () => {
    const { ws, done } = await helloSetup();
    try {
      const pkg = path.join(ws.root, "greet");
      fs.mkdirSync(path.join(pkg, "bin"), { recursive: true });
      fs.writeFileSync(
        path.join(pkg, "package.json"),
        JSON.stringify({ name: "greet", version: "1.2.3", bin: { greet: "bin/greet.js" } }),
      );
      fs.writeFileSync(path.join(pkg, "bin", "greet.js"), "#!/usr/bin/env node\nconsole.log('hi');\n");
      type Added = { key: string; name: string; version: string; files: number; written: number }[];

      // hash-wasm (the WASM hasher, embedded in the compiled binary) must agree with the native one.
      const wasm = { SILO_HASHER: "hash-wasm" };
      const [dir] = await siloJson<Added>(["add", "greet", "--store", ws.store], { cwd: ws.root, env: wasm });
      const hasher = await siloJson<{ hasher: string }>(["store", "status", "--store", ws.store], {
        cwd: ws.root,
        env: wasm,
      });
      assert.equal(hasher.hasher, "hash-wasm");
      assert.equal(dir.name, "greet");
      assert.equal(dir.version, "1.2.3");
      assert.equal(dir.files, 2);
      assert.ok(dir.written >= 2);
      const [same] = await siloJson<Added>(["add", pkg, "--store", ws.store], { cwd: ws.root });
      assert.equal(same.key, dir.key);
      assert.equal(same.written, 0);

      const tgz = path.join(FIXTURES, "registry", "ms", "-", "ms-2.1.3.tgz");
      const integrity =
        "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==";
      const [ms] = await siloJson<Added>(["add", tgz, "--integrity", integrity, "--store", ws.store], {
        cwd: ws.root,
      });
      assert.equal(ms.name, "ms");
      assert.equal(ms.version, "2.1.3");
      assert.ok(ms.key.includes(integrity), ms.key);

      const text = await silo(["add", tgz, "--store", ws.store], { cwd: ws.root });
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^added ms@2\.1\.3 .* 0 new\)/m);

      const wrong = await silo(["add", tgz, "--integrity", "sha512-AAAA", "--store", ws.store], {
        cwd: ws.root,
      });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /integrity/i);

      const status = await siloJson<{ packages: number }>(["store", "status", "--store", ws.store], {
        cwd: ws.root,
      });
      assert.equal(status.packages, 2);
      const verify = await silo(["verify", "--store", ws.store], { cwd: ws.root });
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    } finally {
      await done();
    }
  },
);

test("e2e: a corrupted store file fails verify; --repair removes it and the next install fetches it again", {
  timeout: E2E_TIMEOUT,
}, async () => {
  const { project, flags, ws, done } = await helloSetup();
  try {
    await siloJson(["install", "--import-method", "copy", ...flags], { cwd: project });
    // Damage one stored file (as a failing disk or a stray editor would), with a new mtime.
    const stored = path.join(ws.store, "v1", "files");
    const shard = fs.readdirSync(stored).find((s) => fs.readdirSync(path.join(stored, s)).length > 0)!;
    const victim = path.join(stored, shard, fs.readdirSync(path.join(stored, shard))[0]);
    const mode = fs.statSync(victim).mode;
    fs.chmodSync(victim, 0o644);
    fs.appendFileSync(victim, "\n// tampered\n");
    fs.chmodSync(victim, mode & 0o777);
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(victim, later, later);

    const bad = await silo(["verify", "--store", ws.store], { cwd: ws.root });
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stdout, /modified/);
    assert.match(bad.stdout, /silo verify --repair/);

    const repaired = await siloJson<{ ok: boolean; removedRows: number }>([
      "verify",
      "--repair",
      "--store",
      ws.store,
    ], {
      cwd: ws.root,
    });
    assert.equal(repaired.ok, false);
    assert.ok(repaired.removedRows >= 1);
    const clean = await silo(["verify", "--store", ws.store], { cwd: ws.root });
    assert.equal(clean.code, 0, clean.stdout);

    const refetch = await siloJson<InstallResult>(["install", "--force", ...flags], { cwd: project });
    assert.ok(refetch.downloaded >= 1, `downloaded ${refetch.downloaded}`);
    assert.equal(refetch.packages, HELLO_PACKAGES.length);
    const after = await silo(["verify", "--store", ws.store], { cwd: ws.root });
    assert.equal(after.code, 0, after.stdout);
  } finally {
    await done();
  }
});

test("e2e: errors exit non-zero with a message that says what to do", { timeout: E2E_TIMEOUT }, async () => {
  const { project, flags, registry, ws, done } = await helloSetup();
  try {
    const empty = path.join(ws.root, "empty");
    fs.mkdirSync(empty);
    const noLock = await silo(["install", ...flags], { cwd: empty });
    assert.equal(noLock.code, 1);
    assert.match(noLock.stderr, /no lockfile found/);
    assert.match(noLock.stderr, /package-lock\.json/);
    assert.match(noLock.stderr, /--package-lock-only/);
    assert.ok(!fs.existsSync(path.join(empty, "node_modules")));

    const unknown = await silo(["frobnicate"], { cwd: ws.root });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);

    const method = await silo(["install", "--import-method", "teleport", ...flags], { cwd: project });
    assert.equal(method.code, 1);
    assert.match(method.stderr, /--import-method must be one of/);

    const offline = await silo(["install", "--offline", ...flags], { cwd: project });
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /offline/i);

    registry.script("/ms/-/ms-2.1.3.tgz", [404]);
    const missing = await silo(["install", ...flags], { cwd: project });
    assert.equal(missing.code, 1, missing.stdout);
    assert.match(missing.stderr, /ms@2\.1\.3/);
    assert.match(missing.stderr, /404/);

    const malformed = path.join(ws.root, "malformed");
    fs.mkdirSync(malformed);
    fs.writeFileSync(path.join(malformed, "package-lock.json"), "{ not json");
    const parse = await silo(["install", ...flags], { cwd: malformed });
    assert.equal(parse.code, 1);
    assert.match(parse.stderr, /package-lock\.json/);

    // Whatever failed above, the store still verifies clean.
    const verify = await silo(["verify", "--store", ws.store], { cwd: ws.root });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);

    const help = await silo(["--help"], { cwd: ws.root });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: silo <command>/);
    const version = await silo(["--version"], { cwd: ws.root });
    assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
  } finally {
    await done();
  }
});

test("e2e: silo status and silo gc keep what a live project uses, remove the rest", {
  timeout: E2E_TIMEOUT,
}, async () => {
  const { project, flags, ws, done } = await helloSetup();
  try {
    await siloJson(["install", "--import-method", "copy", ...flags], { cwd: project });
    const clean = await silo(["status", "--store", ws.store], { cwd: project });
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /node_modules matches the store/);

    // A copied file edited in place: status names it and exits 1; the store is untouched.
    fs.appendFileSync(path.join(project, "node_modules", "ms", "index.js"), "\n// edited\n");
    const edited = await silo(["status", "--json", "--store", ws.store], { cwd: project });
    assert.equal(edited.code, 1);
    const report = JSON.parse(edited.stdout) as {
      ok: boolean;
      modified: { name: string; storeAffected: boolean }[];
    };
    assert.equal(report.ok, false);
    assert.deepEqual(report.modified.map((m) => [m.name, m.storeAffected]), [["ms", false]]);
    assert.equal((await silo(["verify", "--store", ws.store], { cwd: ws.root })).code, 0);

    const other = path.join(ws.root, "other");
    fs.mkdirSync(other);
    const unknown = await silo(["status", "--dir", other, "--store", ws.store], { cwd: ws.root });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /run `silo install` first/);

    type Gc = { packages: { name: string; reason: string }[]; liveProjects: number; bytesFreed: number };
    const kept = await siloJson<Gc>(["gc", "--store", ws.store], { cwd: ws.root });
    assert.deepEqual(kept.packages, []);
    assert.equal(kept.liveProjects, 1);

    // The project is gone: everything it used goes, and the store still verifies.
    fs.rmSync(project, { recursive: true });
    const dry = await siloJson<Gc>(["gc", "--dry-run", "--store", ws.store], { cwd: ws.root });
    assert.equal(dry.packages.length, HELLO_PACKAGES.length);
    const swept = await siloJson<Gc>(["gc", "--store", ws.store], { cwd: ws.root });
    assert.deepEqual(swept.packages.map((p) => p.name).sort(), HELLO_PACKAGES);
    assert.ok(swept.packages.every((p) => p.reason === "unused"));
    assert.ok(swept.bytesFreed > 0);
    const status = await siloJson<{ packages: number }>(["store", "status", "--store", ws.store], {
      cwd: ws.root,
    });
    assert.equal(status.packages, 0);
    assert.equal((await silo(["verify", "--store", ws.store], { cwd: ws.root })).code, 0);
  } finally {
    await done();
  }
});
