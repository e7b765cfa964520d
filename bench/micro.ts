/**
 * Micro-benchmarks of the store's hot paths, with a small performance.now() harness so the
 * same file runs on Deno (`deno task bench`) and on Bun (`bun bench/micro.ts`):
 *
 * - sha512 over 10,000 small (2 KiB) buffers and over one 64 MiB buffer: hash-wasm vs native;
 * - CAS writes of 1,000 small files into a fresh store, with each hasher;
 * - the package index: one batch write of 1,000 rows, then 1,000 reads by key, FFI SQLite vs
 *   the runtime's built-in driver.
 *
 * Each case runs once untimed, then `--samples` times (default 5); the table shows the median
 * and a ratio against the first variant of its group (silo's default). Nothing here asserts
 * a time.
 *
 * @module
 */
import { randomFillSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { createContainer, T } from "../src/container/app.ts";
import type { Container } from "../src/container/container.ts";
import type { PackageRecord } from "../src/store/index_db.ts";
import { createNativeHasher, createWasmHasher, type Hasher } from "../src/store/hasher.ts";

/** One measured case. */
interface Case {
  group: string;
  variant: string;
  /** Operations per sample (for ops/s). */
  ops: number;
  /** Bytes per sample (for MB/s), when it means something. */
  bytes?: number;
  /** Untimed set-up before each sample. */
  setup?: () => Promise<void> | void;
  /** The timed body. */
  run: () => Promise<void> | void;
  teardown?: () => Promise<void> | void;
}

interface Result {
  c: Case;
  samples: number[];
  median: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function measure(c: Case, samples: number): Promise<Result> {
  const times: number[] = [];
  for (let i = -1; i < samples; i++) { // i = -1: warm-up, not recorded
    await c.setup?.();
    const t0 = performance.now();
    await c.run();
    const ms = performance.now() - t0;
    await c.teardown?.();
    if (i >= 0) times.push(ms);
  }
  return { c, samples: times, median: median(times) };
}

function random(size: number): Uint8Array {
  const out = new Uint8Array(size);
  randomFillSync(out);
  return out;
}

// Keeps results observable so no engine can skip the work.
let sink = 0;

function hashCases(hashers: Hasher[], small: Uint8Array[], big: Uint8Array): Case[] {
  const cases: Case[] = [];
  const smallBytes = small.reduce((n, b) => n + b.byteLength, 0);
  for (const h of hashers) {
    cases.push({
      group: `sha512, ${small.length} × 2 KiB`,
      variant: h.name,
      ops: small.length,
      bytes: smallBytes,
      run: () => {
        for (const b of small) sink += h.sha512Hex(b).charCodeAt(0);
      },
    });
  }
  for (const h of hashers) {
    cases.push({
      group: `sha512, 1 × ${big.byteLength / 2 ** 20} MiB`,
      variant: h.name,
      ops: 1,
      bytes: big.byteLength,
      run: () => {
        sink += h.sha512Hex(big).charCodeAt(0);
      },
    });
  }
  return cases;
}

function casCases(tmp: string, files: Uint8Array[]): Case[] {
  const bytes = files.reduce((n, b) => n + b.byteLength, 0);
  return (["hash-wasm", "native"] as const).map((hasher) => {
    let c: Container | undefined;
    let dir = "";
    return {
      group: `CAS writeBytes, ${files.length} small files, fresh store`,
      variant: hasher,
      ops: files.length,
      bytes,
      setup: async () => {
        dir = fs.mkdtempSync(path.join(tmp, "cas-"));
        c = await createContainer({ storeDir: dir, hasher });
        c.get(T.cas); // builds the layout (256 shard folders) outside the timed region
      },
      run: async () => {
        const cas = c!.get(T.cas);
        for (let i = 0; i < files.length; i++) await cas.writeBytes(files[i], (i & 15) === 0);
      },
      teardown: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  });
}

function records(n: number): PackageRecord[] {
  const out: PackageRecord[] = [];
  for (let i = 0; i < n; i++) {
    const files: PackageRecord["files"] = {};
    // A typical small package: ~20 files.
    for (let f = 0; f < 20; f++) {
      files[`lib/file-${f}.js`] = {
        digest: (i * 31 + f).toString(16).padStart(128, "0"),
        mode: f === 0 ? 0o755 : 0o644,
        size: 1000 + f,
        checkedAt: 1_700_000_000_000 + f,
      };
    }
    out.push({
      key: `sha512-${i.toString(36).padStart(86, "x")}==`,
      name: `pkg-${i}`,
      version: "1.0.0",
      integrity: `sha512-${i.toString(36).padStart(86, "x")}==`,
      files,
      manifest: { name: `pkg-${i}`, version: "1.0.0", bin: { [`pkg-${i}`]: "lib/file-0.js" } },
      unpackedSize: 20_190,
      addedAt: 1_700_000_000_000,
      lastUsed: 1_700_000_000_000,
    });
  }
  return out;
}

function indexCases(tmp: string, rows: PackageRecord[]): Case[] {
  const cases: Case[] = [];
  for (const driver of ["ffi", "builtin"] as const) {
    let c: Container | undefined;
    let dir = "";
    const open = async () => {
      dir = fs.mkdtempSync(path.join(tmp, "index-"));
      c = await createContainer({ storeDir: dir, sqliteDriver: driver });
      const index = c.get(T.index);
      if (index.db.driver !== driver) {
        throw new Error(`asked for the ${driver} driver, got ${index.db.driver}`);
      }
    };
    const close = () => {
      c?.get(T.index).close();
      fs.rmSync(dir, { recursive: true, force: true });
    };
    cases.push({
      group: `index putMany, ${rows.length} rows in one batch`,
      variant: driver,
      ops: rows.length,
      setup: open,
      run: () => c!.get(T.index).putMany(rows),
      teardown: close,
    });
    cases.push({
      group: `index get, ${rows.length} rows by key`,
      variant: driver,
      ops: rows.length,
      setup: async () => {
        await open();
        c!.get(T.index).putMany(rows);
      },
      run: () => {
        const index = c!.get(T.index);
        for (const r of rows) sink += index.get(r.key)!.unpackedSize;
      },
      teardown: close,
    });
  }
  return cases;
}

const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const fmtRate = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(1);

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      samples: { type: "string" },
      quick: { type: "boolean", default: false },
      only: { type: "string" },
    },
  });
  const samples = values.samples ? Number(values.samples) : values.quick ? 2 : 5;
  if (!(samples >= 1)) throw new Error("--samples must be a positive number");
  const runtime = "Bun" in globalThis
    ? `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
    : "Deno" in globalThis
    ? `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
    : `node ${process.version}`;

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "silo-micro-"));
  const hashers = [await createWasmHasher(), createNativeHasher()];
  const small = Array.from({ length: 10_000 }, () => random(2048));
  const big = random(64 * 2 ** 20);
  const files = Array.from({ length: 1_000 }, () => random(1024 + Math.floor(Math.random() * 2048)));
  const cases = [
    ...hashCases(hashers, small, big),
    ...casCases(tmp, files),
    ...indexCases(tmp, records(1_000)),
  ].filter((c) => !values.only || c.group.includes(values.only));

  const results: Result[] = [];
  try {
    for (const c of cases) {
      const r = await measure(c, samples);
      console.error(`  ${c.group} [${c.variant}]: ${fmtMs(r.median)} ms`);
      results.push(r);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const lines = [
    `## silo micro-benchmarks on ${runtime} (${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? "?"})`,
    "",
    `Median of ${samples} samples after one warm-up; ratio = time / time of the group's first variant (the default).`,
    "",
    "| case | variant | median ms | ops/s | MB/s | ratio |",
    "|---|---|---:|---:|---:|---:|",
  ];
  const groups = [...new Set(results.map((r) => r.c.group))];
  const ordered = groups.flatMap((g) => results.filter((r) => r.c.group === g));
  const firstOfGroup = new Map<string, number>();
  for (const r of ordered) {
    if (!firstOfGroup.has(r.c.group)) firstOfGroup.set(r.c.group, r.median);
    const secs = r.median / 1000;
    lines.push(
      `| ${r.c.group} | ${r.c.variant} | ${fmtMs(r.median)} | ${fmtRate(r.c.ops / secs)} | ${
        r.c.bytes ? (r.c.bytes / 1e6 / secs).toFixed(0) : "–"
      } | ${(r.median / firstOfGroup.get(r.c.group)!).toFixed(2)}× |`,
    );
  }
  console.log(lines.join("\n"));
  if (sink === -1) console.log(""); // never true; keeps `sink` live
  return 0;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
