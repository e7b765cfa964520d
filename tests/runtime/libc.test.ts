import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { errnoName, libcCandidates, libcLoadError, loadLibc } from "../../src/runtime/libc.ts";
import { allExtentsShared, filefrag, plainTempDir, removeDirs, xfsTempDir } from "../support/xfs.ts";

// Loaded once, outside any test, so Deno's resource sanitizer never sees the library handle.
const libc = await loadLibc();

function libcOrFail() {
  assert.ok(libc, `libc did not load: ${libcLoadError()?.message}`);
  return libc;
}

function thrown(fn: () => void): Record<string, unknown> {
  try {
    fn();
  } catch (err) {
    return err as Record<string, unknown>;
  }
  assert.fail("expected a throw");
}

test("libc loads from the default candidates on linux", () => {
  assert.equal(libcOrFail().path, "libc.so.6");
});

test("candidate order: SILO_LIBC_PATH first, then platform defaults", () => {
  assert.deepEqual(libcCandidates("linux", {}), ["libc.so.6", "libc.so"]);
  assert.deepEqual(libcCandidates("linux", { SILO_LIBC_PATH: "/opt/libc.so" }), [
    "/opt/libc.so",
    "libc.so.6",
    "libc.so",
  ]);
  assert.deepEqual(libcCandidates("darwin", {}), ["/usr/lib/libSystem.B.dylib"]);
});

test("a failing candidate falls through to the next one", async () => {
  const l = await loadLibc({ candidates: ["/nonexistent/libc-silo.so", "libc.so.6"] });
  assert.equal(l?.path, "libc.so.6");
  l?.close();
});

test("when no candidate loads: null, and the error is kept with its causes", async () => {
  const seen: Error[] = [];
  const l = await loadLibc({
    candidates: ["/nonexistent/a.so", "/nonexistent/b.so"],
    onError: (e) => seen.push(e),
  });
  assert.equal(l, null);
  const err = libcLoadError();
  assert.ok(err);
  assert.equal(seen[0], err);
  assert.match(err.message, /'\/nonexistent\/a\.so', '\/nonexistent\/b\.so'/);
  assert.match(err.message, /SILO_LIBC_PATH/);
  const agg = err.cause as AggregateError;
  assert.equal(agg.errors.length, 2);
  assert.match((agg.errors[0] as Error).message, /a\.so/);
  assert.ok((agg.errors[0] as Error).cause, "each failure keeps the runtime's own error as cause");
});

test("errno names per platform", () => {
  assert.equal(errnoName(95, "linux"), "EOPNOTSUPP");
  assert.equal(errnoName(18, "linux"), "EXDEV");
  assert.equal(errnoName(17, "linux"), "EEXIST");
  assert.equal(errnoName(25, "linux"), "ENOTTY");
  assert.equal(errnoName(45, "darwin"), "EOPNOTSUPP"); // ENOTSUP: clonefile off APFS
  assert.equal(errnoName(102, "darwin"), "EOPNOTSUPP");
  assert.equal(errnoName(9999, "linux"), "E9999");
});

test("reflink on XFS: same bytes, a new inode, shared extents, the source's mode", async () => {
  const l = libcOrFail();
  const dir = await xfsTempDir();
  try {
    const src = join(dir, "src");
    const dest = join(dir, "dest");
    writeFileSync(src, "silo ".repeat(20_000), { mode: 0o555 });
    l.reflink(src, dest);
    assert.deepEqual(readFileSync(dest), readFileSync(src));
    assert.notEqual(statSync(dest).ino, statSync(src).ino);
    assert.equal(statSync(dest).mode & 0o777, 0o555);
    assert.ok(await allExtentsShared(dest), await filefrag(dest));
    assert.ok(await allExtentsShared(src), await filefrag(src));
  } finally {
    removeDirs(dir);
  }
});

test("reflink takes an explicit mode", async () => {
  const l = libcOrFail();
  const dir = await xfsTempDir();
  try {
    writeFileSync(join(dir, "src"), "x", { mode: 0o644 });
    l.reflink(join(dir, "src"), join(dir, "dest"), 0o444);
    assert.equal(statSync(join(dir, "dest")).mode & 0o777, 0o444);
  } finally {
    removeDirs(dir);
  }
});

test("reflink on ext4 throws EOPNOTSUPP from ioctl(FICLONE) and leaves no dest", async () => {
  const l = libcOrFail();
  const dir = await plainTempDir();
  try {
    const src = join(dir, "src");
    const dest = join(dir, "dest");
    writeFileSync(src, "x");
    const err = thrown(() => l.reflink(src, dest));
    assert.equal(err.code, "EOPNOTSUPP");
    assert.equal(err.errno, 95);
    assert.equal(err.syscall, "ioctl(FICLONE)");
    assert.equal(err.path, src);
    assert.equal(err.dest, dest);
    assert.match(String(err.message), /^EOPNOTSUPP: /);
    assert.equal(existsSync(dest), false);
  } finally {
    removeDirs(dir);
  }
});

test("reflink across filesystems throws EXDEV and leaves no dest", async () => {
  const l = libcOrFail();
  const [xfs, plain] = [await xfsTempDir(), await plainTempDir()];
  try {
    writeFileSync(join(xfs, "src"), "x");
    const err = thrown(() => l.reflink(join(xfs, "src"), join(plain, "dest")));
    assert.equal(err.code, "EXDEV");
    assert.equal(err.errno, 18);
    assert.equal(existsSync(join(plain, "dest")), false);
  } finally {
    removeDirs(xfs, plain);
  }
});

test("reflink onto an existing dest throws EEXIST and leaves it alone", async () => {
  const l = libcOrFail();
  const dir = await xfsTempDir();
  try {
    writeFileSync(join(dir, "src"), "new");
    writeFileSync(join(dir, "dest"), "old");
    const err = thrown(() => l.reflink(join(dir, "src"), join(dir, "dest")));
    assert.equal(err.code, "EEXIST");
    assert.equal(err.syscall, "open");
    assert.equal(err.path, join(dir, "dest"));
    assert.equal(readFileSync(join(dir, "dest"), "utf8"), "old");
  } finally {
    removeDirs(dir);
  }
});

test("reflink of a missing source throws ENOENT and creates nothing", async () => {
  const l = libcOrFail();
  const dir = await xfsTempDir();
  try {
    const err = thrown(() => l.reflink(join(dir, "missing"), join(dir, "dest")));
    assert.equal(err.code, "ENOENT");
    assert.equal(err.errno, 2);
    assert.equal(err.syscall, "open");
    assert.equal(err.path, join(dir, "missing"));
    assert.equal(existsSync(join(dir, "dest")), false);
  } finally {
    removeDirs(dir);
  }
});

test("reflink into a missing directory throws ENOENT naming the dest", async () => {
  const l = libcOrFail();
  const dir = await xfsTempDir();
  try {
    writeFileSync(join(dir, "src"), "x");
    const err = thrown(() => l.reflink(join(dir, "src"), join(dir, "no", "dest")));
    assert.equal(err.code, "ENOENT");
    assert.equal(err.path, join(dir, "no", "dest"));
  } finally {
    removeDirs(dir);
  }
});

test("directory calls: a folder held open, then mkdir, link and stat by paths relative to it", async () => {
  const dirs = libcOrFail().dirs;
  assert.ok(dirs, "Linux libc has directory calls");
  const root = await plainTempDir();
  const fds: number[] = [];
  const open = (dirFd: number, path: string) => {
    const fd = dirs.openDir(dirFd, path);
    fds.push(fd);
    return fd;
  };
  try {
    mkdirSync(join(root, "store", "ab"), { recursive: true });
    const src = join(root, "store", "ab", "cdef");
    writeFileSync(src, "12345", { mode: 0o444 });
    utimesSync(src, 1_700_000_000, 1_700_000_000.25);
    const store = open(dirs.cwd, join(root, "store"));
    const st = dirs.stat(store, "ab/cdef");
    assert.ok(st?.isFile);
    assert.equal(st.size, 5);
    assert.equal(st.mode & 0o777, 0o444);
    assert.ok(
      Math.abs(st.mtimeMs - lstatSync(src).mtimeMs) < 1,
      `${st.mtimeMs} vs ${lstatSync(src).mtimeMs}`,
    );
    // Sizes past 32 bits (a sparse 5 GiB file: no blocks written).
    writeFileSync(join(root, "store", "ab", "big"), "");
    truncateSync(join(root, "store", "ab", "big"), 5 * 2 ** 30);
    assert.equal(dirs.stat(store, "ab/big")?.size, 5 * 2 ** 30);
    assert.equal(dirs.stat(store, "ab/missing"), undefined);
    assert.equal(dirs.stat(store, "ab/cdef/below-a-file"), undefined, "ENOTDIR is nothing there too");
    assert.equal(dirs.stat(store, "ab")?.isFile, false);
    symlinkSync("cdef", join(root, "store", "ab", "link"));
    assert.equal(dirs.stat(store, "ab/link")?.isFile, false, "a symlink is not followed");

    mkdirSync(join(root, "pkg"));
    const pkg = open(dirs.cwd, join(root, "pkg"));
    dirs.mkdir(pkg, "lib", 0o755);
    assert.ok(statSync(join(root, "pkg", "lib")).isDirectory());
    dirs.link(store, "ab/cdef", pkg, "lib/index.js");
    assert.equal(statSync(join(root, "pkg", "lib", "index.js")).ino, statSync(src).ino, "a hard link");
    assert.equal(statSync(src).nlink, 2);

    assert.equal(thrown(() => dirs.link(store, "ab/cdef", pkg, "lib/index.js")).code, "EEXIST");
    const missing = thrown(() => dirs.link(store, "ab/gone", pkg, "lib/other.js"));
    assert.equal(missing.code, "ENOENT");
    assert.match(String(missing.message), /linkat 'ab\/gone' -> 'lib\/other\.js'/);
    assert.equal(thrown(() => dirs.mkdir(pkg, "lib", 0o755)).code, "EEXIST");
    assert.equal(thrown(() => dirs.openDir(dirs.cwd, join(root, "nowhere"))).code, "ENOENT");
    // Paths longer than the reused buffers hold get their own.
    const deep = Array.from({ length: 8 }, (_, i) => `${i}`.repeat(200)).join("/");
    mkdirSync(join(root, "pkg", deep), { recursive: true });
    dirs.link(store, "ab/cdef", pkg, `${deep}/long.js`);
    assert.equal(readFileSync(join(root, "pkg", deep, "long.js"), "utf8"), "12345");
  } finally {
    for (const fd of fds) dirs.close(fd);
    removeDirs(root);
  }
});
