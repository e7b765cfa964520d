import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { test } from "node:test";
import { hardlinkImporter } from "../../src/link/importers.ts";
import { linkReplacing } from "../../src/store/cas.ts";
import { linkFromCas } from "../../src/store/cas_link.ts";

const enoent = () => Object.assign(new Error("ENOENT: link"), { code: "ENOENT" });

test("linkFromCas looks the CAS path up again when link(2) says ENOENT but the path exists", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "silo-cas-link-"));
  const src = path.join(dir, "cas"), dest = path.join(dir, "dest");
  fs.writeFileSync(src, "content");
  let calls = 0;
  // The first link lost the race (its inode lost its last name); the second finds the new inode.
  const attempts = linkFromCas(src, dest, (s, d) => {
    if (++calls === 1) throw enoent();
    fs.linkSync(s, d);
  });
  assert.equal(attempts, 2);
  assert.equal(fs.statSync(dest).ino, fs.statSync(src).ino);

  // A CAS path that is really gone is not retried: the caller re-fetches.
  calls = 0;
  assert.throws(() =>
    linkFromCas(path.join(dir, "gone"), path.join(dir, "d2"), () => {
      calls++;
      throw enoent();
    }), { code: "ENOENT" });
  assert.equal(calls, 1);
  // Other errors are not retried either.
  assert.throws(() => linkFromCas(src, dest), { code: "EEXIST" });
  // Nor is a missing destination folder.
  calls = 0;
  assert.throws(
    () => linkFromCas(src, path.join(dir, "no", "such"), (s, d) => (calls++, fs.linkSync(s, d))),
    {
      code: "ENOENT",
    },
  );
  assert.equal(calls, 1);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("linking from a CAS path that another process keeps republishing never fails", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "silo-cas-link-"));
  const src = path.join(dir, "cas"), dest = path.join(dir, "dest");
  fs.writeFileSync(src, "same bytes", { mode: 0o444 });
  const script = new URL("../support/cas_republisher.ts", import.meta.url).pathname;
  const argv = process.versions.bun ? [script] : ["run", "-A", script];
  const child = spawn(process.execPath, [...argv, src, "same bytes"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`the republisher exited early (${code})`)));
  });
  const importer = hardlinkImporter();
  let links = 0, raced = 0;
  try {
    // The two ways an install links from the store: the hardlink importer and a placing ingest's link.
    for (const end = Date.now() + 1500; Date.now() < end;) {
      if (links % 2) importer.importFile(src, dest, 0o444);
      else assert.ok(linkReplacing(src, dest));
      assert.equal(fs.readFileSync(dest, "utf8"), "same bytes");
      fs.unlinkSync(dest);
      links++;
      // Counted apart, on the raw primitive: how often the race was there to lose.
      try {
        raced += linkFromCas(src, dest) - 1;
        fs.unlinkSync(dest);
      } catch (error) {
        assert.fail(`linkFromCas failed after ${links} links: ${error}`);
      }
    }
  } finally {
    child.kill();
    await new Promise((r) => child.once("exit", r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(links > 100, `only ${links} links in 1.5 s`);
  console.log(`${links} links while another process republished the file; ${raced} lookups retried`);
});
