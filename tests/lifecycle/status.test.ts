/**
 * `silo status` and edits through hardlinks: an edit in one project's node_modules lands in
 * the store's inode; status lists it, verify flags the store file, and the next install of
 * another project fetches a clean copy instead of spreading the edit.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import { startRegistry } from "../support/registry_server.ts";
import { packageTgz } from "../support/tarball.ts";
import { removeTempDirs } from "../support/store.ts";
import { runSilo, tempDir, writeProject } from "./_support.ts";

after(removeTempDirs);

test(
  "an edit through a hardlink: status lists it, verify flags the store file, the next install re-fetches",
  { timeout: 120_000 },
  async () => {
    const tgz = await packageTgz("m", "1.0.0", {
      "index.js": "module.exports = 1;\n",
      "lib/util.js": "exports.u = 1;\n",
    });
    const other = await packageTgz("n", "1.0.0", { "index.js": "module.exports = 2;\n" });
    const server = await startRegistry({
      packages: [{ name: "m", version: "1.0.0", tgz }, { name: "n", version: "1.0.0", tgz: other }],
    });
    const store = tempDir("silo-status-store-");
    const a = tempDir("silo-status-a-"), b = tempDir("silo-status-b-");
    writeProject(a, [{ name: "m", version: "1.0.0", tgz }, { name: "n", version: "1.0.0", tgz: other }]);
    writeProject(b, [{ name: "m", version: "1.0.0", tgz }]);
    const silo = (...args: string[]) => runSilo(["--store", store, ...args]);
    const tarball = "/m/-/m-1.0.0.tgz";

    const first = await silo("install", "--dir", a, "--registry", server.url, "--import-method", "hardlink");
    assert.equal(first.code, 0, first.stderr);
    const clean = await silo("status", "--dir", a);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /node_modules matches the store: 2 packages/);

    // Edit in place (as an editor that writes through the link would; root may write 0o444 files).
    const edited = path.join(a, "node_modules/m/index.js");
    fs.appendFileSync(edited, "console.log('debugging');\n");

    const status = await silo("status", "--dir", a, "--json");
    assert.equal(status.code, 1);
    const report = JSON.parse(status.stdout);
    assert.equal(report.modified.length, 1);
    assert.deepEqual(report.modified[0].files, [{ path: "index.js", reason: "modified" }]);
    assert.equal(report.modified[0].name, "m");
    assert.equal(report.modified[0].storeAffected, true, "the edit went into the store's inode");
    const text = await silo("status", "--dir", a);
    assert.match(text.stdout, /modified m@1\.0\.0 {2}node_modules\/m/);

    const verify = await silo("verify");
    assert.equal(verify.code, 1, "verify flags the edited store file");
    assert.match(verify.stdout, /bad m@1\.0\.0/);
    assert.match(verify.stdout, /index\.js: modified/);

    // Project b uses the same package: the install must not link the edited inode.
    assert.equal(server.requests.get(tarball), 1);
    const second = await silo("install", "--dir", b, "--registry", server.url, "--import-method", "hardlink");
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /m@1\.0\.0: the store's copy of index\.js was changed/);
    assert.equal(server.requests.get(tarball), 2, "the package was fetched again");
    assert.equal(fs.readFileSync(path.join(b, "node_modules/m/index.js"), "utf8"), "module.exports = 1;\n");
    assert.equal((await silo("verify")).code, 0, "the store is clean again");
    assert.equal((await silo("status", "--dir", b)).code, 0);
    // a keeps its edit (its own inode now), and status still says so.
    assert.match(fs.readFileSync(edited, "utf8"), /debugging/);
    const stillA = JSON.parse((await silo("status", "--dir", a, "--json")).stdout);
    assert.equal(stillA.modified.length, 1);
    assert.equal(stillA.modified[0].storeAffected, false);

    // A deleted file is listed too; `install --force` restores the project.
    fs.rmSync(path.join(a, "node_modules/m/lib/util.js"));
    const missing = JSON.parse((await silo("status", "--dir", a, "--json")).stdout);
    assert.deepEqual(missing.modified[0].files.map((f: { path: string }) => f.path).sort(), [
      "index.js",
      "lib/util.js",
    ]);
    const force = await silo("install", "--dir", a, "--registry", server.url, "--force");
    assert.equal(force.code, 0, force.stderr);
    assert.equal((await silo("status", "--dir", a)).code, 0);

    // A package folder that is gone is one line, not a list of its files; so is node_modules removed.
    fs.rmSync(path.join(a, "node_modules/n"), { recursive: true });
    const oneGone = await silo("status", "--dir", a);
    assert.equal(oneGone.code, 1);
    assert.match(oneGone.stdout, /^missing {2}n@1\.0\.0 {2}node_modules\/n$/m);
    assert.match(oneGone.stdout, /^1 missing: 2 packages/m);
    const goneJson = JSON.parse((await silo("status", "--dir", a, "--json")).stdout);
    assert.deepEqual(
      goneJson.modified.map((
        m: { name: string; gone: boolean; files: unknown[] },
      ) => [m.name, m.gone, m.files.length]),
      [["n", true, 0]],
    );
    fs.rmSync(path.join(a, "node_modules"), { recursive: true });
    const allGone = await silo("status", "--dir", a);
    assert.equal(allGone.code, 1);
    assert.deepEqual(allGone.stdout.trim().split("\n"), [
      "none of the 2 installed packages is in node_modules; `silo install` restores them",
    ]);

    const unknown = await silo("status", "--dir", tempDir());
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /was not installed with the store .*run `silo install` first/);
    await server.close();
    for (const d of [store, a, b]) fs.rmSync(d, { recursive: true, force: true });
  },
);
