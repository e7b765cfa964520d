/**
 * A second writer for tests/store/cas_link.test.ts, run as its own process: it publishes `bytes` onto the
 * CAS path `file` over and over, each time as CasWriter does once it found the path empty (a complete temp
 * file, then a rename onto the path), so the path's inode keeps changing. Prints "ready" once it loops;
 * runs until killed.
 *
 * Usage: cas_republisher.ts <file> <content>
 *
 * @module
 */
import fs from "node:fs";
import process from "node:process";

const [file, content] = process.argv.slice(-2);
const bytes = new TextEncoder().encode(content);
let n = 0;
process.stdout.write("ready\n");
for (;;) {
  const tmp = `${file}.tmp-${process.pid}-${n++}`;
  fs.writeFileSync(tmp, bytes, { mode: 0o444 });
  fs.renameSync(tmp, file);
}
