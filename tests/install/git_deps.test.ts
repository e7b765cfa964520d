/**
 * Git dependencies, against real repositories (git on a file:// URL) and a loopback host for archives:
 * the pinned commit's packed files (as npm and pnpm publish them), one fetch per commit, a store hit
 * afterwards, and clear errors that leave the store clean.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { Buffer } from "node:buffer";
import { test } from "node:test";
import { T } from "../../src/container/app.ts";
import { fetchGitTree } from "../../src/fetch/git_source.ts";
import { PackageFetcher } from "../../src/fetch/package_fetcher.ts";
import { install } from "../../src/install/install.ts";
import type { PackageNode } from "../../src/lockfile/graph.ts";
import { gitRepo } from "../support/git_repo.ts";
import { sri } from "../support/tarball.ts";
import { editJson, makeProject } from "./_support.ts";

const alphaV1 = {
  "package.json": JSON.stringify({
    name: "alpha",
    version: "1.0.0",
    bin: { alpha: "bin/alpha.js" },
    dependencies: { dep: "1.0.0" },
  }),
  "index.js": "module.exports = 'v1';\n",
  "bin/alpha.js": "#!/usr/bin/env node\nrequire('..');\n", // 0644 in git, as many repositories have it
  "test/alpha.test.js": "throw new Error('not published');\n",
  ".npmignore": "test/\n",
  ".gitignore": "coverage/\n",
};

/** Point the npm project's lockfile and package.json at `spec` for `name`, with its lockfile entry. */
function addNpmGitDep(projectDir: string, name: string, spec: string, entry: Record<string, unknown>) {
  for (const file of ["package.json", "package-lock.json"]) {
    editJson(path.join(projectDir, file), (doc) => {
      const root = file === "package.json" ? doc : doc.packages[""];
      root.dependencies = { ...root.dependencies, [name]: spec };
      if (file === "package-lock.json") doc.packages[`node_modules/${name}`] = entry;
    });
  }
}

test("npm: a git dependency installs the pinned commit's packed files, and later installs take it from the store", async () => {
  const p = await makeProject([{ name: "dep", files: { "index.js": "" } }]);
  try {
    const repo = gitRepo(p.projectDir, "alpha", [alphaV1, { "index.js": "module.exports = 'v2';\n" }]);
    const resolved = `git+${repo.url}#${repo.shas[0]}`; // the first commit, not HEAD
    addNpmGitDep(p.projectDir, "alpha", resolved, {
      version: "1.0.0",
      resolved,
      dependencies: { dep: "1.0.0" },
      bin: { alpha: "bin/alpha.js" },
    });
    const warnings: string[] = [];
    const summary = await install(p.c, {
      projectDir: p.projectDir,
      client: p.client,
      warn: (w) => warnings.push(w),
    });
    const alpha = path.join(p.projectDir, "node_modules", "alpha");
    assert.equal(fs.readFileSync(path.join(alpha, "index.js"), "utf8"), "module.exports = 'v1';\n");
    // npm pack's list: .npmignore drops test/, and neither ignore file is published.
    assert.deepEqual(fs.readdirSync(alpha).sort(), ["bin", "index.js", "package.json"]);
    assert.ok(
      fs.statSync(path.join(alpha, "bin", "alpha.js")).mode & 0o100,
      "the command file is executable",
    );
    assert.equal(
      fs.readlinkSync(path.join(p.projectDir, "node_modules", ".bin", "alpha")),
      "../alpha/bin/alpha.js",
    );
    assert.equal(summary.downloaded, 2, "dep's tarball and alpha's commit");
    assert.deepEqual(warnings, []);

    // Another project with the same lockfile: the commit comes from the store, the repository is not needed.
    fs.renameSync(repo.bare, `${repo.bare}.gone`);
    const other = path.join(p.projectDir, "..", "other");
    fs.mkdirSync(other);
    for (const f of ["package.json", "package-lock.json"]) {
      fs.copyFileSync(path.join(p.projectDir, f), path.join(other, f));
    }
    const again = await install(p.c, { projectDir: other, client: p.client });
    assert.equal(again.downloaded, 0);
    assert.equal(
      fs.readFileSync(path.join(other, "node_modules/alpha/index.js"), "utf8"),
      "module.exports = 'v1';\n",
    );
    assert.equal((await p.c.get(T.verifier).verifyAll()).bad.length, 0);
  } finally {
    await p.close();
  }
});

test("pnpm: a package in a repository's subfolder, pinned by a short commit id, gets pnpm 12's hashed folder", async () => {
  const p = await makeProject([]);
  try {
    const repo = gitRepo(p.projectDir, "mono", [{
      "package.json": JSON.stringify({ name: "mono-root", private: true, workspaces: ["packages/*"] }),
      "packages/sub/package.json": JSON.stringify({
        name: "mono-sub",
        version: "0.1.0",
        files: ["index.js"],
      }),
      "packages/sub/index.js": "module.exports = 'sub';\n",
      "packages/sub/notes.md": "not in files\n",
    }]);
    // pnpm 9 keeps a short commit id as written (a later pnpm expands it).
    const short = repo.shas[0].slice(0, 7);
    const depPath = `mono-sub@git+${repo.url}#${short}&path:/packages/sub`;
    fs.rmSync(path.join(p.projectDir, "package-lock.json"));
    fs.writeFileSync(
      path.join(p.projectDir, "package.json"),
      JSON.stringify({ dependencies: { "mono-sub": `git+${repo.url}#path:/packages/sub` } }),
    );
    fs.writeFileSync(
      path.join(p.projectDir, "pnpm-lock.yaml"),
      `lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      mono-sub:
        specifier: git+${repo.url}#path:/packages/sub
        version: git+${repo.url}#${short}&path:/packages/sub

packages:

  '${depPath}':
    resolution: {commit: '${short}', path: /packages/sub, repo: '${repo.url}', type: git}
    version: 0.1.0

snapshots:

  '${depPath}': {}
`,
    );
    await install(p.c, { projectDir: p.projectDir, client: p.client });
    const link = fs.readlinkSync(path.join(p.projectDir, "node_modules", "mono-sub"));
    // pnpm 12.10+: a git dependency's folder always ends in the first 32 hex digits of the depPath's sha256.
    const hash = createHash("sha256").update(depPath).digest("hex").slice(0, 32);
    assert.match(link, new RegExp(`^\\.pnpm/mono-sub@git\\+file\\+{4}.*_${hash}/node_modules/mono-sub$`));
    const dir = path.join(p.projectDir, "node_modules", "mono-sub");
    assert.deepEqual(fs.readdirSync(dir).sort(), ["index.js", "package.json"]);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).name, "mono-sub");
  } finally {
    await p.close();
  }
});

/** A fetcher over the project's store, and a graph node for a git dependency named alpha. */
function gitFetcher(p: Awaited<ReturnType<typeof makeProject>>, warn?: (m: string) => void) {
  const fetcher = new PackageFetcher(p.c.get(T.store), p.client, {
    projectDir: p.projectDir,
    flights: p.c.get(T.flights),
    warn,
  });
  const node = (resolution: PackageNode["resolution"]): PackageNode => ({
    id: "alpha@git",
    name: "alpha",
    version: "1.0.0",
    resolution,
    dependencies: [],
    dev: false,
    optional: false,
  } as unknown as PackageNode);
  return { fetcher, node };
}

test("a git host's archive of the commit is fetched once over HTTPS; a refused archive falls back to git", async () => {
  const p = await makeProject([]);
  try {
    const repo = gitRepo(p.projectDir, "alpha", [alphaV1, { "index.js": "module.exports = 'v2';\n" }]);
    // The host serves the archive of the first commit; the second commit's archive is refused (a private repo).
    p.server.add({ name: "alpha", version: "1.0.0", tgz: repo.archive(repo.shas[0]) });
    const archive = `${p.server.url}alpha/-/alpha-1.0.0.tgz`;
    const refused = `${p.server.url}refused/-/refused-1.0.0.tgz`;
    p.server.script("/refused/-/refused-1.0.0.tgz", [404]);
    const { fetcher, node } = gitFetcher(p);

    const first = node({ kind: "git", repo: `git+${repo.url}`, commit: repo.shas[0], archive });
    const [a, b] = await Promise.all([fetcher.ensure(first), fetcher.ensure(first)]);
    assert.equal(a, b);
    assert.equal(p.server.requests.get("/alpha/-/alpha-1.0.0.tgz"), 1, "one fetch for two callers");
    assert.deepEqual(Object.keys(a.files).sort(), ["bin/alpha.js", "index.js", "package.json"]);

    // Refused archive: cloned with git instead (the second commit, so a different key).
    const second = node({ kind: "git", repo: `git+${repo.url}`, commit: repo.shas[1], archive: refused });
    const cloned = await fetcher.ensure(second);
    assert.equal(p.server.requests.get("/refused/-/refused-1.0.0.tgz"), 1);
    assert.deepEqual(Object.keys(cloned.files).sort(), ["bin/alpha.js", "index.js", "package.json"]);
    assert.notEqual(cloned.files["index.js"].digest, a.files["index.js"].digest, "v2, not v1");
    assert.equal(fetcher.lookup(second)?.key, cloned.key, "stored under the commit");
  } finally {
    await p.close();
  }
});

test("bad git dependencies get errors that name them, and leave the store clean", async () => {
  const p = await makeProject([]);
  try {
    const repo = gitRepo(p.projectDir, "alpha", [alphaV1, { "package.json": null }]);
    p.server.add({ name: "alpha", version: "1.0.0", tgz: repo.archive(repo.shas[0]) });
    const archive = `${p.server.url}alpha/-/alpha-1.0.0.tgz`;
    const warnings: string[] = [];
    const { fetcher, node } = gitFetcher(p, (w) => warnings.push(w));
    const tmp = p.c.get(T.layout).tmp;
    const rejects = async (resolution: PackageNode["resolution"], message: RegExp) => {
      await assert.rejects(fetcher.ensure(node(resolution)), message);
      assert.deepEqual(
        fs.readdirSync(tmp).filter((f) => f.includes("-git-")),
        [],
        "no checkout is left behind",
      );
    };

    // An archive that is not what the lockfile recorded is refused, not fetched another way.
    const wrong = sri(new TextEncoder().encode("something else"));
    await rejects(
      { kind: "git", repo: `git+${repo.url}`, commit: repo.shas[0], archive, integrity: wrong },
      /alpha@1\.0\.0: the archive at .* does not match the lockfile's integrity/,
    );
    await rejects(
      { kind: "git", repo: `git+${repo.url}`, commit: "0".repeat(40) },
      /alpha@1\.0\.0: could not fetch commit 0{40}/,
    );
    await rejects(
      { kind: "git", repo: `git+${repo.url}`, commit: repo.shas[1] },
      /alpha@1\.0\.0: the pinned commit has no package\.json, so it is not a package/,
    );
    await rejects(
      { kind: "git", repo: `git+${repo.url}`, commit: repo.shas[0], path: "/../.." },
      /the lockfile's path "\/\.\.\/\.\." leaves the repository/,
    );
    const offline = new PackageFetcher(p.c.get(T.store), p.client, {
      projectDir: p.projectDir,
      offline: true,
    });
    await assert.rejects(
      offline.ensure(node({ kind: "git", repo: `git+${repo.url}`, commit: repo.shas[0] })),
      /alpha@1\.0\.0 is a git dependency not in the store, and --offline forbids fetching it/,
    );
    assert.equal((await p.c.get(T.verifier).verifyAll()).bad.length, 0);

    // A commit that needs building is stored as committed, with a warning that says so.
    const built = gitRepo(p.projectDir, "built", [{
      "package.json": JSON.stringify({ name: "alpha", version: "1.0.0", scripts: { prepare: "tsc" } }),
    }]);
    await fetcher.ensure(node({ kind: "git", repo: `git+${built.url}`, commit: built.shas[0] }));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /alpha@1\.0\.0 is a git dependency with build scripts \(prepare\)/);
  } finally {
    await p.close();
  }
});

test("a short commit id that also prefixes a tree or blob still checks out that commit", async () => {
  // Fixed dates make the object ids the same on every run; enough objects that some 4-character prefix is
  // shared by exactly one commit and another object (git itself calls such an id ambiguous).
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "silo-git-ambiguous-"));
  try {
    const repo = path.join(root, "repo");
    const run = (...args: string[]) =>
      execFileSync("git", ["-C", repo, ...args], {
        encoding: "utf8",
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: "t",
          GIT_AUTHOR_EMAIL: "t@t",
          GIT_COMMITTER_NAME: "t",
          GIT_COMMITTER_EMAIL: "t@t",
          GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
          GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
        },
      });
    fs.mkdirSync(repo);
    run("init", "--quiet");
    let stream = "";
    for (let i = 1; i <= 300; i++) {
      const content = JSON.stringify({ name: "amb", version: `1.0.${i}` });
      stream += `commit refs/heads/main\ncommitter t <t@t> 1767225600 +0000\ndata 2\n${i % 10}\n` +
        `M 644 inline package.json\ndata ${Buffer.byteLength(content)}\n${content}\n\n`;
    }
    execFileSync("git", ["-C", repo, "fast-import", "--quiet"], { input: stream });
    const commits = run("rev-list", "--all").trim().split("\n");
    const objects = run("rev-list", "--all", "--objects").trim().split("\n").map((l) => l.slice(0, 40));
    const prefix = commits.map((c) => c.slice(0, 4)).find((p) =>
      commits.filter((c) => c.startsWith(p)).length === 1 && objects.filter((o) => o.startsWith(p)).length > 1
    );
    assert.ok(prefix, "the fixed history has a commit prefix shared with a tree or blob");
    const commit = commits.find((c) => c.startsWith(prefix))!;
    const want = JSON.parse(run("show", `${commit}:package.json`)).version;

    const into = path.join(root, "tree");
    const dir = await fetchGitTree({ kind: "git", repo: `git+file://${repo}`, commit: prefix }, into, {
      label: "amb",
      download: () => Promise.reject(new Error("no archive for a file: repository")),
    });
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version, want);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
