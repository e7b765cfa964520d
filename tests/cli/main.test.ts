import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { Output } from "../../src/cli/context.ts";
import { main, VERSION } from "../../src/cli/main.ts";
import { removeTempDirs, tempDir } from "../support/store.ts";

after(removeTempDirs);

function capture(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [], stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (l) => stdout.push(l),
    err: (l) => stderr.push(l),
    isTTY: false,
    write: () => {},
  };
}

test("--version, help, and a command's --help", async () => {
  const io = capture();
  assert.equal(await main(["--version"], io), 0);
  assert.deepEqual(io.stdout, [VERSION]);
  const help = capture();
  assert.equal(await main(["--help"], help), 0);
  assert.match(help.stdout[0], /Commands:\n {2}install/);
  const none = capture();
  assert.equal(await main([], none), 1, "no command is a usage error");
  const install = capture();
  assert.equal(await main(["i", "--help"], install), 0, "aliases resolve");
  assert.match(install.stdout[0], /--frozen-lockfile/);
  for (const argv of [["help", "install"], ["-h", "ci"]]) {
    const about = capture();
    assert.equal(await main(argv, about), 0);
    assert.deepEqual(about.stdout, install.stdout, `${argv.join(" ")} gives install's help`);
  }
});

test("unknown commands and bad flags exit 1 with a message, not a stack", async () => {
  const io = capture();
  assert.equal(await main(["instal"], io), 1);
  assert.match(io.stderr[0], /^silo: unknown command "instal"/);
  const flag = capture();
  assert.equal(await main(["install", "--import-method", "symlink"], flag), 1);
  assert.match(flag.stderr[0], /--import-method must be one of auto, clone, hardlink, copy, not "symlink"/);
  const store = capture();
  assert.equal(await main(["--store"], store), 1);
  assert.match(store.stderr[0], /--store needs a directory/);
});

test("a mistyped command or flag gets the likely one; other package managers' get what to use", async () => {
  const said = async (argv: string[]) => {
    const io = capture();
    assert.equal(await main(argv, io), 1, argv.join(" "));
    return io.stderr.join("\n");
  };
  assert.match(await said(["verfy"]), /unknown command "verfy" \(did you mean verify\?\)/);
  assert.doesNotMatch(await said(["deploy"]), /did you mean/, "nothing close: no guess");
  assert.match(
    await said(["install", "--slient"]),
    /unknown flag --slient for install \(did you mean --silent\?\)/,
  );
  assert.match(
    await said(["gc", "--dryrun"]),
    /unknown flag --dryrun for gc \(did you mean --dry-run\?\); run `silo gc --help`/,
  );
  assert.match(await said(["store", "status", "--jsn"]), /did you mean --json\?/);
  assert.match(
    await said(["install", "--prod=yes"]),
    /--prod' does not take an argument; run `silo install --help`/,
  );
  assert.match(
    await said(["update"]),
    /no "update" command: silo never changes dependencies .*use npm update or pnpm update/,
  );
  assert.match(await said(["run", "build"]), /use npm run or pnpm run/);
  assert.match(
    await said(["install", "lodash"]),
    /takes no package names.*`npm install lodash` \(or `pnpm add lodash`\)/,
  );
  assert.match(await said(["i", "-D", "x"]), /install -D: silo adds no dependencies/);
  assert.match(await said(["install", "--lockfile-only"]), /never resolves versions or writes the lockfile/);
  assert.match(
    await said(["add", "lodash"]),
    /silo add stores one package; it does not add a dependency .*`npm install lodash`/,
  );
  assert.match(await said(["add", "-D", "x"]), /add -D: silo adds no dependencies/);
  assert.match(await said(["add", "./gone.tgz"]), /\.\/gone\.tgz does not exist; give a \.tgz file/);
  assert.match(await said(["install", "--backend", "symlink"]), /--backend symlink is not one silo has/);
  assert.match(
    await said(["install", "--package-import-method", "clone-or-copy"]),
    /must be one of auto, clone/,
  );
});

test("--store goes anywhere on the line and store path prints it", async () => {
  const dir = tempDir();
  for (
    const argv of [
      ["--store", dir, "store", "path"],
      ["store", "path", `--store=${dir}`],
      ["store", "path", "--store-dir", dir], // pnpm's name for it
      [`--store-dir=${dir}`, "store", "path"],
    ]
  ) {
    const io = capture();
    assert.equal(await main(argv, io), 0);
    assert.deepEqual(io.stdout, [dir]);
  }
});

test("install in a folder without a lockfile says which files it looked for", async () => {
  const io = capture();
  const project = tempDir();
  assert.equal(await main(["--store", tempDir(), "install"], io, project), 1);
  assert.match(
    io.stderr[0],
    /no lockfile found \(looked for npm-shrinkwrap\.json, package-lock\.json, pnpm-lock\.yaml, bun\.lock, yarn\.lock\)/,
  );
});
