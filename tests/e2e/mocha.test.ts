/**
 * End to end on a real, bigger lockfile: mocha's (709 entries, a `file:` dependency, npm
 * aliases, platform-specific optionals). Its tarballs come from a local mirror, too big to
 * keep in the repo: the test fills it from the npm registry once when it lacks them.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { startRegistry } from "../support/registry_server.ts";
import {
  copyProject,
  E2E_TIMEOUT,
  ensureMirror,
  FIXTURES,
  packageDirs,
  silo,
  siloJson,
  workspace,
} from "./support.ts";

const MOCHA = path.join(FIXTURES, "mocha");
const LOCKFILE = path.join(MOCHA, "package-lock.json");

interface LockEntry {
  version?: string;
  link?: boolean;
  resolved?: string;
  dev?: boolean;
  optional?: boolean;
}

/**
 * The lockfile's top-level entries: `all` of them, and the `required` ones (not optional).
 * Optional entries may be left out (wrong os/cpu/libc, or only needed by such a package),
 * so the test pins the required ones exactly and the rest as a bound.
 */
function topLevel(prod: boolean): { all: Set<string>; required: string[] } {
  const lock = JSON.parse(fs.readFileSync(LOCKFILE, "utf8")) as { packages: Record<string, LockEntry> };
  const all = new Set<string>();
  const required: string[] = [];
  for (const [key, entry] of Object.entries(lock.packages)) {
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(key);
    // A link's dev flag lives on its target's entry.
    const dev = entry.link && entry.resolved ? lock.packages[entry.resolved]?.dev : entry.dev;
    if (!m || (prod && dev)) continue;
    all.add(m[1]);
    if (!entry.optional) required.push(m[1]);
  }
  return { all, required };
}

/** Assert node_modules holds every required top-level package and nothing the lockfile does not name. */
function assertTopLevel(nm: string, prod: boolean): void {
  const { all, required } = topLevel(prod);
  const actual = packageDirs(nm);
  assert.deepEqual(required.filter((p) => !actual.includes(p)), [], "required packages missing");
  assert.deepEqual(actual.filter((p) => !all.has(p)), [], "packages the lockfile does not name");
}

test("e2e: install the mocha fixture into a fresh store; no-op; hot reinstall; verify", {
  timeout: E2E_TIMEOUT,
}, async () => {
  const mirror = await ensureMirror(LOCKFILE);
  const ws = workspace();
  const registry = await startRegistry({ dir: mirror, log: false });
  try {
    const project = copyProject(MOCHA, path.join(ws.root, "mocha"));
    const flags = ["--store", ws.store, "--registry", registry.url];

    const cold = await siloJson<Record<string, number | boolean | string>>(["install", ...flags], {
      cwd: project,
    });
    assert.equal(cold.upToDate, false);
    assert.equal(cold.fromStore, 0);
    assert.ok((cold.packages as number) > 600, `packages ${cold.packages}`);
    // Packages placed at several paths share one tarball: one download each, however many placements.
    const tarballs = [...registry.requests].filter(([p]) => p.endsWith(".tgz"));
    assert.equal(cold.downloaded, tarballs.length);
    for (const [p, n] of tarballs) assert.equal(n, 1, `${p} requested ${n} times`);
    assert.ok((cold.bins as number) > 20, `bins ${cold.bins}`);

    const nm = path.join(project, "node_modules");
    assertTopLevel(nm, false);
    // The `file:` dependency is a link to the folder in the project.
    const local = path.join(nm, "@test", "esm-only-loader");
    assert.ok(fs.lstatSync(local).isSymbolicLink());
    assert.equal(fs.realpathSync(local), path.join(project, "test", "compiler-fixtures", "esm-only-loader"));
    // npm: aliases land under the alias name with the real package inside.
    const alias = JSON.parse(fs.readFileSync(path.join(nm, "string-width-cjs", "package.json"), "utf8"));
    assert.equal(alias.name, "string-width");
    for (const bin of ["eslint", "nyc", "rimraf", "tsc"]) {
      assert.ok(fs.existsSync(path.join(nm, ".bin", bin)), `.bin/${bin}`);
    }

    const again = await silo(["install", ...flags], { cwd: project });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /up to date/);

    fs.rmSync(nm, { recursive: true });
    const hot = await siloJson<Record<string, number>>(["install", ...flags], { cwd: project });
    assert.equal(hot.downloaded, 0);
    assert.equal(hot.fromStore, cold.packages);
    assertTopLevel(nm, false);

    const prod = await siloJson<Record<string, number>>(["install", "--prod", ...flags], { cwd: project });
    assert.ok(prod.packages < hot.packages);
    assertTopLevel(nm, true);

    const verify = await silo(["verify", "--store", ws.store], { cwd: ws.root });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  } finally {
    await registry.close();
    ws.cleanup();
  }
});
