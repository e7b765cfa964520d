/** pnpm patchedDependencies (applied to a private copy of the package, never to the store), and the up-to-date check over patch files, copied folders and workspace projects. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { T } from "../../src/container/app.ts";
import { install } from "../../src/install/install.ts";
import { sri } from "../support/tarball.ts";
import { base32 } from "../../src/lockfile/pnpm.ts";
import { makeProject, tarballOf } from "./_support.ts";

const spec = { name: "num", files: { "index.js": "module.exports = 1;\n" } };
const patch = `diff --git a/index.js b/index.js
--- a/index.js
+++ b/index.js
@@ -1 +1,2 @@
+// patched
 module.exports = 1;
`;

/** How the project records its patch: pnpm 10+ (sha256 hex) or pnpm 9 (md5 base32), and under which key. */
interface PatchSetup {
  hash?: (text: string) => string;
  key?: string;
  /** The patch text the lockfile's hash was made from (default: the usual one-line patch). */
  recorded?: string;
}

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

async function patchedProject(patchText = patch, setup: PatchSetup = {}) {
  const p = await makeProject([spec]);
  // The lockfile's hash is of the patch as written (LF), whatever `patchText` now holds.
  const hash = (setup.hash ?? sha256Hex)(setup.recorded ?? patch);
  const integrity = sri(await tarballOf(spec));
  fs.rmSync(path.join(p.projectDir, "package-lock.json"));
  fs.writeFileSync(
    path.join(p.projectDir, "package.json"),
    JSON.stringify({ dependencies: { num: "1.0.0" } }),
  );
  fs.mkdirSync(path.join(p.projectDir, "patches"));
  fs.writeFileSync(path.join(p.projectDir, "patches/num.patch"), patchText);
  fs.writeFileSync(
    path.join(p.projectDir, "pnpm-workspace.yaml"),
    `patchedDependencies:\n  '${setup.key ?? "num@1.0.0"}': patches/num.patch\n`,
  );
  fs.writeFileSync(
    path.join(p.projectDir, "pnpm-lock.yaml"),
    `lockfileVersion: '9.0'

patchedDependencies:
  num@1.0.0: ${hash}

importers:

  .:
    dependencies:
      num:
        specifier: 1.0.0
        version: 1.0.0(patch_hash=${hash})

packages:

  num@1.0.0:
    resolution: {integrity: ${integrity}}

snapshots:

  num@1.0.0(patch_hash=${hash}): {}
`,
  );
  return p;
}

test("a patched dependency gets the patch in a private copy; the store keeps the original", async () => {
  const p = await patchedProject();
  try {
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    const file = path.join(p.projectDir, "node_modules/num/index.js");
    assert.equal(fs.readFileSync(file, "utf8"), "// patched\nmodule.exports = 1;\n");
    const record = p.c.get(T.index).get(p.c.get(T.index).keys()[0])!;
    const stored = p.c.get(T.layout).filePath(record.files["index.js"].digest, false);
    assert.equal(fs.readFileSync(stored, "utf8"), "module.exports = 1;\n", "the store file is untouched");
    assert.notEqual(fs.statSync(file).ino, fs.statSync(stored).ino);
    assert.equal((await p.c.get(T.verifier).verifyAll()).bad.length, 0);
  } finally {
    await p.close();
  }
});

test("a patch file edited since the lockfile was written is an error that says to run pnpm install", async () => {
  const p = await patchedProject(patch.replace("// patched", "// edited"));
  try {
    await assert.rejects(
      install(p.c, { projectDir: p.projectDir, client: p.client }),
      /num@1\.0\.0: .*num\.patch changed since the lockfile was written.*pnpm install/,
    );
  } finally {
    await p.close();
  }
});

test("pnpm 9's patch hashes (md5 in base32), CRLF patch files and range keys find their patch", async () => {
  const installedText = async (p: Awaited<ReturnType<typeof patchedProject>>) => {
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    return fs.readFileSync(path.join(p.projectDir, "node_modules/num/index.js"), "utf8");
  };
  const cases: [string, string, PatchSetup][] = [
    ["pnpm 9", patch, { hash: (t) => base32(createHash("md5").update(t).digest()) }],
    // A Windows checkout: pnpm hashes the text with CRLF made LF, so the lockfile still matches.
    ["CRLF", patch.replaceAll("\n", "\r\n"), {}],
    ["range key", patch, { key: "num@^1.0.0" }],
  ];
  for (const [label, text, setup] of cases) {
    const p = await patchedProject(text, setup);
    try {
      assert.match(await installedText(p), /^\/\/ patched\r?\nmodule\.exports = 1;\r?\n$/, label);
    } finally {
      await p.close();
    }
  }
});

test("an edited patch file or copied folder makes the next install redo the work, not report up to date", async () => {
  const p = await patchedProject();
  try {
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal((await install(p.c, { projectDir: p.projectDir, client: p.client })).upToDate, true);
    fs.writeFileSync(path.join(p.projectDir, "patches/num.patch"), patch.replace("// patched", "// edited"));
    await assert.rejects(
      install(p.c, { projectDir: p.projectDir, client: p.client }),
      /num\.patch changed since the lockfile was written/,
    );
  } finally {
    await p.close();
  }

  // A file: folder pnpm copies into node_modules (as it does injected workspace packages).
  const q = await makeProject([]);
  try {
    const vendor = path.join(q.projectDir, "vendor/local");
    fs.mkdirSync(vendor, { recursive: true });
    fs.writeFileSync(path.join(vendor, "package.json"), JSON.stringify({ name: "local", version: "0.1.0" }));
    fs.writeFileSync(path.join(vendor, "index.js"), "one\n");
    fs.rmSync(path.join(q.projectDir, "package-lock.json"));
    fs.writeFileSync(
      path.join(q.projectDir, "package.json"),
      JSON.stringify({ dependencies: { local: "file:vendor/local" } }),
    );
    fs.writeFileSync(
      path.join(q.projectDir, "pnpm-lock.yaml"),
      `lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      local:
        specifier: file:vendor/local
        version: file:vendor/local

packages:

  local@file:vendor/local:
    resolution: {directory: vendor/local, type: directory}
    name: local
    version: 0.1.0

snapshots:

  local@file:vendor/local: {}
`,
    );
    const installed = path.join(q.projectDir, "node_modules/local/index.js");
    await install(q.c, { projectDir: q.projectDir, client: q.client });
    assert.equal(fs.readFileSync(installed, "utf8"), "one\n");
    assert.equal((await install(q.c, { projectDir: q.projectDir, client: q.client })).upToDate, true);
    fs.writeFileSync(path.join(vendor, "index.js"), "two, longer\n");
    const again = await install(q.c, { projectDir: q.projectDir, client: q.client });
    assert.equal(again.upToDate, false);
    assert.equal(fs.readFileSync(installed, "utf8"), "two, longer\n");
  } finally {
    await q.close();
  }
});

test("git's extended headers in a patch: a mode change, a new executable file, a rename", async () => {
  const modes = `diff --git a/index.js b/index.js
old mode 100644
new mode 100755
diff --git a/run.sh b/run.sh
new file mode 100755
--- /dev/null
+++ b/run.sh
@@ -0,0 +1 @@
+echo hi
`;
  const rename = `diff --git a/index.js b/lib/main.js
similarity index 100%
rename from index.js
rename to lib/main.js
`;
  for (const text of [modes, rename]) {
    const p = await patchedProject(text, { recorded: text });
    try {
      await install(p.c, { projectDir: p.projectDir, client: p.client });
      const dir = path.join(p.projectDir, "node_modules/num");
      const exec = (rel: string) => (fs.statSync(path.join(dir, rel)).mode & 0o111) !== 0;
      if (text === modes) {
        assert.equal(exec("index.js"), true, "old mode 100644 / new mode 100755");
        assert.equal(fs.readFileSync(path.join(dir, "run.sh"), "utf8"), "echo hi\n");
        assert.equal(exec("run.sh"), true, "new file mode 100755");
      } else {
        assert.equal(fs.existsSync(path.join(dir, "index.js")), false, "renamed away");
        assert.equal(fs.readFileSync(path.join(dir, "lib/main.js"), "utf8"), "module.exports = 1;\n");
      }
      assert.equal((await p.c.get(T.verifier).verifyAll()).bad.length, 0, "the store is untouched");
    } finally {
      await p.close();
    }
  }
});

test("an edited workspace project's package.json makes the next install check the lockfile again", async () => {
  const p = await makeProject([]);
  try {
    const write = (rel: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(p.projectDir, rel)), { recursive: true });
      fs.writeFileSync(path.join(p.projectDir, rel), text);
    };
    fs.rmSync(path.join(p.projectDir, "package-lock.json"));
    write("package.json", JSON.stringify({ name: "root", private: true }));
    write("pnpm-workspace.yaml", "packages:\n  - packages/*\n");
    write("packages/lib/package.json", JSON.stringify({ name: "lib", version: "1.0.0" }));
    write("packages/app/package.json", JSON.stringify({ name: "app", dependencies: { lib: "workspace:*" } }));
    write(
      "pnpm-lock.yaml",
      `lockfileVersion: '9.0'

importers:

  .: {}

  packages/app:
    dependencies:
      lib:
        specifier: workspace:*
        version: link:../lib

  packages/lib: {}
`,
    );
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    assert.equal((await install(p.c, { projectDir: p.projectDir, client: p.client })).upToDate, true);
    write(
      "packages/app/package.json",
      JSON.stringify({ name: "app", dependencies: { lib: "workspace:*", ms: "2.1.3" } }),
    );
    await assert.rejects(
      install(p.c, { projectDir: p.projectDir, client: p.client }),
      /ms@2\.1\.3 is in packages\/app\/package\.json but not in the lockfile/,
    );
  } finally {
    await p.close();
  }
});
