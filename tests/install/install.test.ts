/**
 * The installer's behaviour on small in-memory projects: --prod, the up-to-date check, an
 * interrupted install, a store row whose file went missing, and lifecycle scripts.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { test } from "node:test";
import { T } from "../../src/container/app.ts";
import { install } from "../../src/install/install.ts";
import { patchPackageTargets } from "../../src/install/patch_package.ts";
import { projectStatus } from "../../src/install/modified.ts";
import { hardlinkImporter } from "../../src/link/mod.ts";
import { sha512Hex } from "../support/tarball.ts";
import { walkTree } from "../../scripts/compare-trees.ts";
import { editJson, makeProject, type PkgSpec } from "./_support.ts";
import { tempDir } from "../support/store.ts";

const nm = (projectDir: string, ...rest: string[]) => path.join(projectDir, "node_modules", ...rest);

test("--prod leaves out packages only devDependencies need", async () => {
  const p = await makeProject([
    { name: "lib", files: { "index.js": "lib" }, deps: { "lib-dep": "1.0.0" } },
    { name: "lib-dep", files: { "index.js": "lib-dep" }, transitive: true },
    { name: "tool", files: { "index.js": "tool" }, dev: true, deps: { "tool-dep": "1.0.0" } },
    { name: "tool-dep", files: { "index.js": "tool-dep" }, transitive: true },
  ]);
  try {
    const summary = await install(p.c, { projectDir: p.projectDir, client: p.client, prod: true });
    assert.equal(summary.packages, 2);
    for (const name of ["lib", "lib-dep"]) {
      assert.ok(fs.existsSync(nm(p.projectDir, name, "package.json")), name);
    }
    for (const name of ["tool", "tool-dep"]) assert.equal(fs.existsSync(nm(p.projectDir, name)), false, name);
    assert.equal(
      p.server.requests.get(p.tarballPath("tool")),
      undefined,
      "dev packages are not even downloaded",
    );

    // Without --prod the same project gets them (a different input: not "up to date").
    const full = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(full.upToDate, false);
    assert.equal(full.packages, 4);
    assert.ok(fs.existsSync(nm(p.projectDir, "tool-dep", "index.js")));
  } finally {
    await p.close();
  }
});

test("an optional package whose own package.json rules this machine out is skipped; a string field is one entry", async () => {
  // The lockfile entries carry no os (pnpm lockfiles drop libc): only the package.json says. Many give the
  // field as a plain string ("libc": "glibc"), which must not be read as a list of letters.
  const here = process.platform;
  const p = await makeProject([
    { name: "native-here", files: { "index.js": "here" }, optional: true, manifest: { os: here } },
    {
      name: "native-elsewhere",
      files: { "index.js": "elsewhere" },
      optional: true,
      manifest: { os: `!${here}` },
    },
    { name: "native-list", files: { "index.js": "list" }, optional: true, manifest: { os: [here] } },
  ]);
  try {
    const summary = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.ok(fs.existsSync(nm(p.projectDir, "native-here", "index.js")));
    assert.ok(fs.existsSync(nm(p.projectDir, "native-list", "index.js")));
    assert.equal(fs.existsSync(nm(p.projectDir, "native-elsewhere")), false);
    assert.deepEqual(
      summary.skipped.map((s) => [s.id, s.reason]),
      [["node_modules/native-elsewhere", `os ${here} not in [!${here}]`]],
    );
  } finally {
    await p.close();
  }
});

test("a required package for another platform stops the install as npm ci does; --force installs it with a warning", async () => {
  const p = await makeProject([{ name: "mac-only", files: { "index.js": "" } }]);
  try {
    editJson(path.join(p.projectDir, "package-lock.json"), (lock) => {
      lock.packages["node_modules/mac-only"].os = [`!${process.platform}`];
    });
    await assert.rejects(
      install(p.c, { projectDir: p.projectDir, client: p.client }),
      /node_modules\/mac-only is required but does not support this platform \(os .*\); npm ci stops here too\. Pass --force/,
    );
    assert.equal(fs.existsSync(nm(p.projectDir, "mac-only")), false);
    const warnings: string[] = [];
    await install(p.c, {
      projectDir: p.projectDir,
      client: p.client,
      force: true,
      warn: (w) => warnings.push(w),
    });
    assert.ok(fs.existsSync(nm(p.projectDir, "mac-only", "index.js")));
    assert.ok(
      warnings.some((w) => /mac-only does not support this platform .* as --force asks/.test(w)),
      warnings.join(),
    );
  } finally {
    await p.close();
  }
});

test("npm's layout names a packed .gitignore .npmignore, as npm unpacks it (a packed .npmignore wins); status agrees", async () => {
  const files = {
    ".gitignore": "top\n",
    "sub/.npmignore": "packed npmignore\n",
    "sub/.gitignore": "later\n",
  };
  const p = await makeProject([{ name: "ign", files }]);
  try {
    for (const workers of [1, 0]) { // cold on a worker (files placed while stored), then hot here
      fs.rmSync(nm(p.projectDir), { recursive: true, force: true });
      await install(p.c, { projectDir: p.projectDir, client: p.client, workers });
      const dir = nm(p.projectDir, "ign");
      assert.equal(fs.readFileSync(path.join(dir, ".npmignore"), "utf8"), "top\n", `workers: ${workers}`);
      assert.equal(fs.readFileSync(path.join(dir, "sub/.npmignore"), "utf8"), "packed npmignore\n");
      assert.equal(fs.existsSync(path.join(dir, ".gitignore")), false);
      assert.equal(fs.existsSync(path.join(dir, "sub/.gitignore")), false);
      const status = projectStatus({
        layout: p.c.get(T.layout),
        index: p.c.get(T.index),
        projects: p.c.get(T.projects),
        hasher: p.c.get(T.hasher),
      }, p.projectDir);
      assert.deepEqual(status.modified, []);
      assert.equal(
        status.files,
        3,
        "package.json and the two ignore files, each with the packed file it came from",
      );
    }
  } finally {
    await p.close();
  }
});

test("a second install is up to date and changes nothing; a deleted package folder or command is reinstalled", async () => {
  const p = await makeProject([
    { name: "a", files: { "index.js": "a" } },
    { name: "b", files: { "index.js": "b", "lib/x.js": "x" }, bin: { b: "lib/x.js" } },
  ]);
  try {
    const first = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(first.upToDate, false);
    const before = walkTree(nm(p.projectDir));
    const requests = p.server.total();

    const second = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(second.upToDate, true);
    assert.deepEqual(walkTree(nm(p.projectDir)), before, "the tree is untouched");
    assert.equal(p.server.total(), requests, "no requests");

    fs.rmSync(nm(p.projectDir, "b"), { recursive: true });
    const third = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(third.upToDate, false);
    assert.equal(third.fromStore, 2, "reinstalled from the store");
    assert.equal(p.server.total(), requests, "without downloading");
    assert.deepEqual(walkTree(nm(p.projectDir)), before);
    assert.equal((await install(p.c, { projectDir: p.projectDir, client: p.client })).upToDate, true);

    fs.rmSync(nm(p.projectDir, ".bin", "b"));
    assert.equal((await install(p.c, { projectDir: p.projectDir, client: p.client })).upToDate, false);
    assert.deepEqual(walkTree(nm(p.projectDir)), before, "a deleted command is made again");
  } finally {
    await p.close();
  }
});

test("an interrupted install leaves no package that looks complete but is not; the next one completes", async () => {
  const specs: PkgSpec[] = ["p1", "p2", "p3"].map((name) => ({
    name,
    files: Object.fromEntries([1, 2, 3, 4].map((i) => [`f${i}.js`, `${name} ${i}`])),
  }));
  const p = await makeProject(specs);
  try {
    await install(p.c, { projectDir: p.projectDir, client: p.client }); // fill the store
    fs.rmSync(nm(p.projectDir), { recursive: true });

    // Store hits are linked one package after another: failing on the 8th file stops inside p2.
    const real = hardlinkImporter();
    let imported = 0;
    const failing = {
      get method() {
        return real.method;
      },
      importFile(src: string, dest: string, mode?: number) {
        if (++imported === 8) throw new Error("simulated crash");
        real.importFile(src, dest, mode);
      },
    };
    await assert.rejects(
      install(p.c, { projectDir: p.projectDir, client: p.client, importer: failing }),
      /simulated crash/,
    );

    let complete = 0;
    let partial = 0;
    for (const spec of specs) {
      const dir = nm(p.projectDir, spec.name);
      const present = p.filesOf(spec.name).filter((f) => fs.existsSync(path.join(dir, f)));
      if (fs.existsSync(path.join(dir, "package.json"))) {
        assert.equal(
          present.length,
          p.filesOf(spec.name).length,
          `${spec.name} has package.json but misses files`,
        );
        complete++;
      } else if (present.length > 0) partial++;
    }
    assert.equal(complete, 1, "the package before the crash is complete");
    assert.equal(partial, 1, "the package being linked has files but no package.json");

    const next = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(next.upToDate, false, "an interrupted install is never up to date");
    for (const spec of specs) {
      for (const f of p.filesOf(spec.name)) {
        assert.ok(fs.existsSync(nm(p.projectDir, spec.name, f)), `${spec.name}/${f}`);
      }
    }
  } finally {
    await p.close();
  }
});

test("a store row whose file was deleted from the CAS is fetched again, not a crash", async () => {
  const p = await makeProject([{ name: "a", files: { "index.js": "a index" } }, {
    name: "b",
    files: { "index.js": "b" },
  }]);
  try {
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(p.server.requests.get(p.tarballPath("a")), 1);
    fs.rmSync(nm(p.projectDir), { recursive: true });
    const casFile = p.c.get(T.layout).filePath(sha512Hex("a index"), false);
    fs.rmSync(casFile);

    const summary = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(summary.packages, 2);
    assert.equal(fs.readFileSync(nm(p.projectDir, "a", "index.js"), "utf8"), "a index");
    assert.ok(fs.existsSync(casFile), "the file is back in the store");
    assert.equal(p.server.requests.get(p.tarballPath("a")), 2, "a was downloaded again");
    assert.equal(p.server.requests.get(p.tarballPath("b")), 1, "b came from the store");
  } finally {
    await p.close();
  }
});

// "app-tool" sorts before its dependency "zdep": scripts must still run dependencies first.
const SCRIPTED: PkgSpec[] = [
  {
    name: "app-tool",
    files: { "index.js": "tool" },
    deps: { zdep: "1.0.0" },
    scripts: { postinstall: "echo app-tool >> ../../order.log" },
  },
  {
    name: "zdep",
    files: { "index.js": "zdep" },
    transitive: true,
    scripts: {
      install: "echo zdep >> ../../order.log; echo zdep-output",
      postinstall: "echo built > built.txt",
    },
  },
  { name: "plain", files: { "index.js": "plain" } },
];

test("lifecycle scripts do not run unless allowed, and are reported as skipped", async () => {
  const p = await makeProject(SCRIPTED);
  try {
    const summary = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.deepEqual(summary.scriptsSkipped, ["app-tool", "zdep"]);
    assert.equal(summary.scriptsRun, 0);
    assert.equal(fs.existsSync(path.join(p.projectDir, "order.log")), false);
    assert.equal(fs.existsSync(nm(p.projectDir, "zdep", "built.txt")), false);
    // --ignore-scripts: nothing runs by request, so nothing is listed as something to allow.
    const ignored = await install(p.c, { projectDir: p.projectDir, client: p.client, ignoreScripts: true });
    assert.deepEqual(ignored.scriptsSkipped, []);
  } finally {
    await p.close();
  }
});

test("allowed scripts run in dependency order, in copies of the package (not links into the store)", async () => {
  const p = await makeProject(SCRIPTED);
  try {
    const summary = await install(p.c, {
      projectDir: p.projectDir,
      client: p.client,
      allowScripts: ["app-tool", "zdep"],
    });
    assert.deepEqual(summary.scriptsSkipped, []);
    assert.equal(summary.scriptsRun, 3);
    assert.equal(fs.readFileSync(path.join(p.projectDir, "order.log"), "utf8"), "zdep\napp-tool\n");
    assert.equal(fs.readFileSync(nm(p.projectDir, "zdep", "built.txt"), "utf8"), "built\n");

    const layout = p.c.get(T.layout);
    const ino = (file: string) => fs.statSync(file).ino;
    const storeIno = (content: string) => ino(layout.filePath(sha512Hex(content), false));
    assert.notEqual(ino(nm(p.projectDir, "zdep", "index.js")), storeIno("zdep"), "zdep's files are copies");
    assert.notEqual(ino(nm(p.projectDir, "app-tool", "index.js")), storeIno("tool"));
    if (summary.importMethod === "hardlink") {
      assert.equal(ino(nm(p.projectDir, "plain", "index.js")), storeIno("plain"), "others stay links");
    }
  } finally {
    await p.close();
  }
});

test("a failed install puts the previous node_modules back; the next one builds the new tree", async () => {
  const p = await makeProject([
    { name: "a", files: { "index.js": "a" } },
    { name: "b", dev: true, files: { "index.js": "b" } },
  ]);
  try {
    await install(p.c, { projectDir: p.projectDir, client: p.client, prod: true });
    const mark = path.join(p.projectDir, "node_modules", "only-in-the-old-tree");
    fs.writeFileSync(mark, "");
    const before = fs.statSync(nm(p.projectDir, "a", "index.js")).ino;
    p.server.script(p.tarballPath("b"), [404]);
    const warnings: string[] = [];
    await assert.rejects(
      install(p.c, { projectDir: p.projectDir, client: p.client, warn: (w) => warnings.push(w) }),
      /b@1\.0\.0/,
    );
    assert.ok(fs.existsSync(mark), "the old tree is back");
    assert.equal(fs.statSync(nm(p.projectDir, "a", "index.js")).ino, before);
    assert.equal(fs.existsSync(nm(p.projectDir, "b")), false, "nothing of the failed tree is left");
    assert.deepEqual(fs.readdirSync(p.projectDir).filter((n) => n.includes(".silo-old-")), []);
    assert.ok(warnings.some((w) => /node_modules was put back as it was/.test(w)), warnings.join("\n"));

    const next = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(next.upToDate, false, "the put-back tree is not taken for the new one");
    assert.equal(fs.readFileSync(nm(p.projectDir, "b", "index.js"), "utf8"), "b");
  } finally {
    await p.close();
  }
});

test("a reinstall moves the old node_modules aside, and clears ones a killed install left behind", async () => {
  const p = await makeProject([{ name: "a", files: { "index.js": "a" } }]);
  try {
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    const old = fs.statSync(nm(p.projectDir, "a", "index.js")).ino;
    // A killed install's leftover (its pid is long gone) and a live one's (ours) next to node_modules.
    const dead = path.join(p.projectDir, "node_modules.silo-old-999999999-x");
    const live = path.join(p.projectDir, `node_modules.silo-old-${process.pid}-y`);
    for (const dir of [dead, live]) fs.mkdirSync(path.join(dir, "pkg"), { recursive: true });

    const again = await install(p.c, { projectDir: p.projectDir, client: p.client, force: true });
    assert.equal(again.upToDate, false);
    assert.ok(fs.existsSync(nm(p.projectDir, "a", "package.json")), "the new tree is complete");
    assert.equal(fs.statSync(nm(p.projectDir, "a", "index.js")).ino, old, "still the store's inode");
    const leftovers = fs.readdirSync(p.projectDir).filter((n) => n.startsWith("node_modules.silo-old-"));
    assert.deepEqual(
      leftovers,
      [path.basename(live)],
      "the old tree and the dead install's leftover are gone",
    );
  } finally {
    await p.close();
  }
});

test("the project's own lifecycle scripts run after its dependencies' (unless --ignore-scripts); a failure says how to skip them", async () => {
  const p = await makeProject(SCRIPTED);
  const manifestFile = path.join(p.projectDir, "package.json");
  const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
  const log = path.join(p.projectDir, "order.log");
  const withScripts = (scripts: Record<string, string>) =>
    fs.writeFileSync(manifestFile, JSON.stringify({ ...manifest, scripts }));
  try {
    // Each sees node_modules complete: the dependency's built file, and .bin on PATH.
    withScripts({
      prepare: "echo prepare >> order.log; echo prepared; echo to-stderr >&2",
      postinstall: "test -f node_modules/zdep/built.txt && echo postinstall >> order.log",
      preinstall: "echo preinstall:$npm_lifecycle_event:${npm_config_user_agent%% *} >> order.log",
      test: "echo never >> order.log",
    });
    let shown = "";
    const summary = await install(p.c, {
      projectDir: p.projectDir,
      client: p.client,
      allowScripts: ["zdep"],
      onScriptOutput: (text) => void (shown += text),
    });
    assert.equal(
      fs.readFileSync(log, "utf8"),
      "preinstall:preinstall:npm/0.0.0\nzdep\npostinstall\nprepare\n",
      "the project's preinstall first, then the dependencies' scripts, then the project's others",
    );
    assert.match(shown, /prepared/, "the project's own script output is shown (stdout)");
    assert.match(shown, /to-stderr/, "and stderr");
    assert.doesNotMatch(shown, /zdep-output/, "a dependency's is not, as npm keeps it quiet");
    assert.equal(summary.scriptsRun, 2 + 3);

    fs.rmSync(log);
    await install(p.c, { projectDir: p.projectDir, client: p.client, ignoreScripts: true, force: true });
    assert.equal(fs.existsSync(log), false, "--ignore-scripts runs none of them");

    fs.writeFileSync(log, "");
    withScripts({ postinstall: "echo broken >&2; exit 3" });
    await assert.rejects(
      install(p.c, { projectDir: p.projectDir, client: p.client }),
      (e: Error) =>
        /app@1\.0\.0: postinstall script failed with exit code 3/.test(e.message) &&
        /broken/.test(e.message) &&
        /--ignore-scripts/.test(e.message),
    );
    // A preinstall that refuses (as `only-allow` does) stops the install before node_modules changes.
    const before = fs.readdirSync(path.join(p.projectDir, "node_modules")).sort();
    withScripts({ preinstall: "exit 1", postinstall: "echo never >> order.log" });
    await assert.rejects(
      install(p.c, { projectDir: p.projectDir, client: p.client }),
      /preinstall script failed/,
    );
    assert.deepEqual(fs.readdirSync(path.join(p.projectDir, "node_modules")).sort(), before);
    assert.equal(fs.readFileSync(log, "utf8"), "", "nothing after the refusal ran");

    withScripts({ postinstall: "echo again >> order.log" });
    const again = await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(again.upToDate, false, "a failed script leaves the install to be done again");
    assert.equal(fs.readFileSync(log, "utf8"), "again\n");
  } finally {
    await p.close();
  }
});

test("packages the project's patch-package rewrites get copies: the store keeps its bytes", async () => {
  const p = await makeProject(SCRIPTED);
  const manifestFile = path.join(p.projectDir, "package.json");
  const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
  // Stands in for patch-package: rewrites the file in place, as it does (not a new inode).
  const rewrite = "node -e \"require('fs').writeFileSync('node_modules/plain/index.js', 'patched')\"";
  fs.writeFileSync(
    manifestFile,
    JSON.stringify({
      ...manifest,
      scripts: { postinstall: `echo patch-package --patch-dir fixes && ${rewrite}` },
    }),
  );
  fs.mkdirSync(path.join(p.projectDir, "fixes"));
  fs.writeFileSync(path.join(p.projectDir, "fixes", "plain+1.0.0.patch"), "(a patch-package patch)");
  try {
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal(fs.readFileSync(nm(p.projectDir, "plain", "index.js"), "utf8"), "patched");
    const stored = p.c.get(T.layout).filePath(sha512Hex("plain"), false);
    assert.equal(fs.readFileSync(stored, "utf8"), "plain", "the store's file is untouched");
    assert.notEqual(fs.statSync(nm(p.projectDir, "plain", "index.js")).ino, fs.statSync(stored).ino);
    assert.equal((await p.c.get(T.verifier).verifyAll()).bad.length, 0);
  } finally {
    await p.close();
  }
});

test("patchPackageTargets reads patch-package's folder only when a root script calls it", () => {
  const dir = tempDir("silo-patch-package-");
  fs.mkdirSync(path.join(dir, "patches"));
  for (
    const f of [
      "react-native+0.72.0.patch",
      "@babel+core+7.0.0.patch",
      "a++@s+b+1.0.0+001+fix.patch",
      "x.txt",
    ]
  ) {
    fs.writeFileSync(path.join(dir, "patches", f), "");
  }
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ scripts: { test: "jest" } }));
  assert.deepEqual([...patchPackageTargets(dir)], []);
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ scripts: { postinstall: "patch-package" } }),
  );
  assert.deepEqual([...patchPackageTargets(dir)].sort(), ["@babel/core", "@s/b", "react-native"]);
  fs.rmSync(dir, { recursive: true, force: true });
});
