/**
 * Compare the node_modules trees of two project directories: a reference built by npm or pnpm,
 * and one built by silo. Exits 1 when they differ.
 *
 * ```
 * deno run -A scripts/compare-trees.ts <reference-project> <silo-project>
 * deno run -A scripts/compare-trees.ts --setup [mocha|svelte ...]   # build both trees, then compare
 * ```
 *
 * What is compared, for every `node_modules` folder of each project (the root's and every workspace
 * importer's; found by walking the project without entering node_modules):
 * - the same directories, files and symlinks at the same paths (lstat only: symlinks are never followed);
 * - files: same content (sha256) and same executable-ness (any x bit); a bin target whose `#!` line ends
 *   in CRLF in the reference may end in LF in silo's tree (silo fixes it, as npm does: its .bin entries
 *   are symlinks that run the file itself);
 * - symlinks: same readlink text, or failing that the same resolved path relative to the project;
 * - `.bin` entries: same names. npm writes symlinks, so their targets are compared like any symlink.
 *   pnpm writes shell shims where silo writes symlinks: the shim's `"$basedir/..."` target and silo's
 *   symlink must resolve to the same file (relative to each project).
 *
 * Ignored, because they are each package manager's bookkeeping rather than the installed tree:
 * - `node_modules/.package-lock.json`: npm's hidden lockfile;
 * - `node_modules/.modules.yaml`, `node_modules/.pnpm/lock.yaml`, `node_modules/.pnpm-workspace-state*.json`:
 *   pnpm's install state;
 * - `node_modules/.silo-state.json`: silo's up-to-date state;
 * - `node_modules/.silo-old-*`: a previous tree silo is still deleting in the background.
 * On top of these, pnpm's `.bin` shims on Windows (`*.cmd`, `*.ps1`) would be ignored; they are not written here.
 *
 * @module
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { ensurePnpm, toolsPath } from "./tools_path.ts";
import { unixShebang } from "../src/store/executable_bins.ts";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** Paths (relative to a node_modules folder) that are package-manager metadata, not the tree. */
export const IGNORED: readonly { pattern: RegExp; why: string }[] = [
  { pattern: /^\.package-lock\.json$/, why: "npm's hidden lockfile" },
  { pattern: /^\.modules\.yaml$/, why: "pnpm's install state" },
  { pattern: /^\.pnpm\/lock\.yaml$/, why: "pnpm's copy of the lockfile" },
  { pattern: /^\.pnpm-workspace-state.*\.json$/, why: "pnpm's workspace state" },
  { pattern: /^\.silo-state\.json$/, why: "silo's up-to-date state" },
  { pattern: /^\.silo-old-/, why: "a previous tree silo deletes in the background" },
];

/** One entry of a walked tree. */
export type TreeEntry =
  | { kind: "dir" }
  | { kind: "file"; hash: string; exec: boolean; size: number }
  | { kind: "link"; text: string };

/** Which package manager built the reference (changes how .bin entries are compared). */
export type Flavor = "npm" | "pnpm";

/** What {@linkcode compareTrees} found. */
export interface CompareResult {
  flavor: Flavor;
  /** node_modules folders compared, relative to the project. */
  roots: string[];
  /** Entries compared, by kind (entries present on both sides). */
  dirs: number;
  files: number;
  links: number;
  bins: number;
  /** One line per difference, sorted by path. */
  differences: string[];
}

/** The node_modules folders of a project: walks the project, never entering node_modules, .git or symlinks. */
export function findNodeModules(project: string): string[] {
  const found: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(project, rel), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.name === "node_modules") found.push(child);
      else if (entry.name !== ".git") walk(child);
    }
  };
  walk("");
  return found.sort();
}

/** Every entry below `root` (absolute), keyed by posix path relative to it; lstat only. */
export function walkTree(root: string): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      if (IGNORED.some((i) => i.pattern.test(child))) continue;
      const full = path.join(root, child);
      const st = fs.lstatSync(full);
      if (st.isSymbolicLink()) out.set(child, { kind: "link", text: fs.readlinkSync(full) });
      else if (st.isDirectory()) {
        out.set(child, { kind: "dir" });
        walk(child);
      } else if (st.isFile()) {
        const hash = createHash("sha256").update(fs.readFileSync(full)).digest("hex");
        out.set(child, { kind: "file", hash, exec: (st.mode & 0o111) !== 0, size: st.size });
      }
    }
  };
  walk("");
  return out;
}

/** The target a pnpm `.bin` shell shim runs, relative to the shim's folder, or undefined. */
export function shimTarget(text: string): string | undefined {
  // Current pnpm ends its shims with `# cmd-shim-target=<path>`; older ones only have the exec lines.
  const marked = /^# cmd-shim-target=(.+)$/m.exec(text);
  if (marked) return marked[1].trim();
  // `exec node "$basedir/../pkg/bin.js" "$@"`, or `"$basedir_abs"/'../pkg/bin.js'`; skip "$basedir/node".
  // (Not `cygpath -w "$basedir"`: a path follows the variable.)
  for (const m of text.matchAll(/"\$basedir(?:_abs)?(?:\/|"\/'?)([^"']+)["']/g)) {
    if (!/^node(\.exe)?$/.test(m[1])) return m[1];
  }
  return undefined;
}

/**
 * Whether the reference file at `file`, its CRLF `#!` line turned into LF, hashes to `hash`: silo writes
 * bin targets that way (store/executable_bins.ts), as npm does; pnpm 12 leaves them.
 */
function sameWithUnixShebang(file: string, hash: string): boolean {
  const fixed = unixShebang(fs.readFileSync(file));
  return fixed !== undefined && createHash("sha256").update(fixed).digest("hex") === hash;
}

/** Resolve `rel` (inside `project`) fully, and give it back relative to the project, or undefined if dangling. */
function resolvedIn(project: string, rel: string): string | undefined {
  try {
    return path.relative(fs.realpathSync(project), fs.realpathSync(path.join(project, rel))).split(path.sep)
      .join("/");
  } catch {
    return undefined;
  }
}

const isBin = (p: string) => /(^|\/)\.bin\/[^/]+$/.test(p);

/**
 * Compare the node_modules trees of `reference` and `silo` (project directories).
 *
 * @example
 * ```ts ignore
 * const result = compareTrees("/tmp/ref", "/tmp/silo");
 * if (result.differences.length) console.log(result.differences.join("\n"));
 * ```
 */
export function compareTrees(reference: string, silo: string): CompareResult {
  const flavor: Flavor = fs.existsSync(path.join(reference, "node_modules", ".pnpm")) ? "pnpm" : "npm";
  const refRoots = findNodeModules(reference);
  const siloRoots = findNodeModules(silo);
  const result: CompareResult = {
    flavor,
    roots: refRoots,
    dirs: 0,
    files: 0,
    links: 0,
    bins: 0,
    differences: [],
  };
  const diff = (p: string, what: string) => result.differences.push(`${p}: ${what}`);
  for (const r of refRoots) if (!siloRoots.includes(r)) diff(r, "only in the reference");
  for (const r of siloRoots) if (!refRoots.includes(r)) diff(r, "only in silo's tree");

  for (const root of refRoots.filter((r) => siloRoots.includes(r))) {
    const a = walkTree(path.join(reference, root));
    const b = walkTree(path.join(silo, root));
    for (const [rel, ea] of a) {
      const p = `${root}/${rel}`;
      const eb = b.get(rel);
      if (!eb) {
        diff(p, `only in the reference (${ea.kind})`);
        continue;
      }
      if (flavor === "pnpm" && isBin(rel) && ea.kind === "file" && eb.kind === "link") {
        result.bins++;
        const target = shimTarget(fs.readFileSync(path.join(reference, p), "utf8"));
        if (!target) {
          diff(p, "reference .bin entry is not a shim silo can read");
          continue;
        }
        const ra = resolvedIn(reference, path.posix.join(path.posix.dirname(p), target));
        const rb = resolvedIn(silo, p);
        if (ra !== rb) {
          diff(p, `bin runs ${ra ?? "(dangling)"} in the reference, ${rb ?? "(dangling)"} in silo's tree`);
        }
        continue;
      }
      if (ea.kind !== eb.kind) {
        diff(p, `${ea.kind} in the reference, ${eb.kind} in silo's tree`);
        continue;
      }
      if (isBin(rel)) result.bins++;
      if (ea.kind === "dir") result.dirs++;
      else if (ea.kind === "file" && eb.kind === "file") {
        result.files++;
        if (ea.hash !== eb.hash && !sameWithUnixShebang(path.join(reference, p), eb.hash)) {
          diff(p, `content differs (${ea.size} bytes vs ${eb.size})`);
        } else if (ea.exec !== eb.exec) {
          diff(p, `executable in ${ea.exec ? "the reference" : "silo's tree"} only`);
        }
      } else if (ea.kind === "link" && eb.kind === "link") {
        result.links++;
        if (ea.text !== eb.text) {
          const ra = resolvedIn(reference, p);
          const rb = resolvedIn(silo, p);
          if (ra === undefined || ra !== rb) {
            diff(p, `symlink to ${ea.text} in the reference, to ${eb.text} in silo's tree`);
          }
        }
      }
    }
    for (const [rel, eb] of b) if (!a.has(rel)) diff(`${root}/${rel}`, `only in silo's tree (${eb.kind})`);
  }
  result.differences.sort();
  return result;
}

/** A readable report: counts, then the differences grouped under their top-level package folder. */
export function formatResult(label: string, r: CompareResult, limit = 200): string {
  const lines = [
    `${label}: ${r.flavor} reference, ${r.roots.length} node_modules folder(s); compared ${r.dirs} dirs, ${r.files} files, ` +
    `${r.links} symlinks, ${r.bins} .bin entries: ${
      r.differences.length ? `${r.differences.length} difference(s)` : "identical"
    }`,
  ];
  for (const d of r.differences.slice(0, limit)) lines.push(`  ${d}`);
  if (r.differences.length > limit) lines.push(`  ... and ${r.differences.length - limit} more`);
  return lines.join("\n");
}

// --- --setup: build both trees for the fixtures against a loopback registry, then compare ---

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** How one comparison's reference is built. */
interface FixtureSpec {
  /** The folder under the fixtures dir. */
  source: string;
  lockfile: string;
  tool: "npm" | "pnpm";
  /**
   * Keep package.json's `packageManager` and build the reference with the pnpm it names (this exact
   * version): silo then follows that version's habits too. Otherwise the field is dropped and the
   * pinned pnpm builds the reference.
   */
  ownPnpm?: string;
}

/** The fixtures and how their reference tree is built. */
export const FIXTURES = {
  mocha: { source: "mocha", lockfile: "package-lock.json", tool: "npm" },
  svelte: { source: "svelte", lockfile: "pnpm-lock.yaml", tool: "pnpm" },
  // The project as its maintainers install it: package.json pins pnpm 10.33.4.
  "svelte-pnpm10": { source: "svelte", lockfile: "pnpm-lock.yaml", tool: "pnpm", ownPnpm: "10.33.4" },
} satisfies Record<string, FixtureSpec>;
/** A fixture name. */
export type FixtureName = keyof typeof FIXTURES;
const specOf = (fixture: FixtureName): FixtureSpec => FIXTURES[fixture];

/** Run a command; resolve with its output, reject with it in the message. */
export function runCommand(
  cmd: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(
              `${cmd} ${args.join(" ")} (in ${options.cwd}) failed:\n${stderr || stdout || error.message}`,
              { cause: error },
            ),
          );
        } else resolve(`${stdout}${stderr}`);
      },
    );
  });
}

/** Copy a fixture into `dest`, dropping a packageManager field that would pin another pnpm (unless `keep`). */
export function copyFixture(source: string, dest: string, keep = false): void {
  fs.cpSync(source, dest, { recursive: true, filter: (src) => !/[/\\](node_modules|\.git)$/.test(src) });
  const file = path.join(dest, "package.json");
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  if (pkg.packageManager && !keep) {
    delete pkg.packageManager;
    fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
  }
}

/**
 * Build the reference tree for a fixture copy in `project` with npm or pnpm against `registry`
 * (scripts off, caches inside `scratch` so nothing outside is used or changed).
 */
export async function buildReference(
  fixture: FixtureName,
  project: string,
  registry: string,
  scratch: string,
): Promise<void> {
  const env = {
    npm_config_registry: registry,
    npm_config_cache: path.join(scratch, "npm-cache"),
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    npm_config_userconfig: path.join(scratch, "npmrc"),
    COREPACK_ENABLE_STRICT: "0",
    PATH: toolsPath(),
    // pnpm: its own store and cache, and no state file outside the scratch dir.
    npm_config_store_dir: path.join(scratch, "pnpm-store"),
    npm_config_cache_dir: path.join(scratch, "pnpm-cache"),
    XDG_DATA_HOME: path.join(scratch, "xdg-data"),
    XDG_CACHE_HOME: path.join(scratch, "xdg-cache"),
    XDG_STATE_HOME: path.join(scratch, "xdg-state"),
    XDG_CONFIG_HOME: path.join(scratch, "xdg-config"),
    CI: "1",
  };
  fs.writeFileSync(env.npm_config_userconfig, "");
  if (specOf(fixture).tool === "npm") {
    await runCommand("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--registry", registry], {
      cwd: project,
      env,
    });
  } else {
    const pnpm = ensurePnpm(specOf(fixture).ownPnpm);
    await runCommand(pnpm, ["install", "--frozen-lockfile", "--ignore-scripts", "--registry", registry], {
      cwd: project,
      env,
    });
  }
}

/** The directory a fixture lives in. */
export function fixtureDir(fixture: FixtureName): string {
  return path.resolve(
    process.env.SILO_FIXTURES ?? path.join(ROOT, "..", "shared", "fixtures"),
    specOf(fixture).source,
  );
}

/** The loopback mirror (scripts/mirror.ts layout) the comparisons install from. */
export const MIRROR: string = process.env.SILO_MIRROR ?? path.join(ROOT, "bench", ".mirror");

/**
 * Make sure the mirror has every tarball and packument of `fixture`'s lockfile (scripts/mirror.ts is
 * idempotent: with a full mirror it only checks that the files are there).
 */
export async function ensureMirror(fixture: FixtureName): Promise<void> {
  const { main } = await import("./mirror.ts");
  const lines: string[] = [];
  const io = { log: (l: string) => void lines.push(l), error: (l: string) => void lines.push(l) };
  const code = await main(["--out", MIRROR, path.join(fixtureDir(fixture), specOf(fixture).lockfile)], io);
  if (code !== 0) throw new Error(`filling ${MIRROR} for ${fixture} failed:\n${lines.slice(-20).join("\n")}`);
}

/** What {@linkcode compareFixture} built and found. */
export interface FixtureComparison {
  result: CompareResult;
  /** The temp dir holding both projects, the store and the caches (removed unless `keep`). */
  scratch: string;
}

/**
 * Copy `fixture` twice, build the reference with npm/pnpm and silo's tree with a fresh store, both
 * against `registry` (a loopback registry serving {@linkcode MIRROR}), and compare them.
 *
 * @example
 * ```ts ignore
 * const { result } = await compareFixture("mocha", server.url);
 * ```
 */
export async function compareFixture(
  fixture: FixtureName,
  registry: string,
  options: { keep?: boolean; log?: (line: string) => void } = {},
): Promise<FixtureComparison> {
  const log = options.log ?? (() => {});
  const { createContainer, T } = await import("../src/container/app.ts");
  const { install } = await import("../src/install/install.ts");
  const { RegistryClient } = await import("../src/fetch/registry.ts");
  const { resolveNpmConfig } = await import("../src/fetch/npmrc.ts");
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `silo-compare-${fixture}-`));
  let ok = false;
  try {
    const ref = path.join(scratch, "reference");
    const mine = path.join(scratch, "silo");
    const keep = specOf(fixture).ownPnpm !== undefined;
    copyFixture(fixtureDir(fixture), ref, keep);
    copyFixture(fixtureDir(fixture), mine, keep);
    log(`${fixture}: building the reference with ${specOf(fixture).tool} in ${ref}`);
    await buildReference(fixture, ref, registry, scratch);
    log(`${fixture}: building silo's tree in ${mine}`);
    const c = await createContainer({ storeDir: path.join(scratch, "store") });
    try {
      const client = new RegistryClient({ config: resolveNpmConfig([new Map([["registry", registry]])]) });
      // As the reference: scripts off (the svelte fixture's own `prepare` needs files it lacks).
      await install(c, {
        projectDir: mine,
        client,
        ignoreScripts: true,
        warn: (m) => log(`  warning: ${m}`),
      });
    } finally {
      c.get(T.index).close();
    }
    log(`${fixture}: comparing`);
    const result = compareTrees(ref, mine);
    ok = result.differences.length === 0;
    return { result, scratch };
  } finally {
    if (ok && !options.keep) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

async function setup(fixtures: FixtureName[]): Promise<boolean> {
  const { startRegistry } = await import("../tests/support/registry_server.ts");
  let ok = true;
  for (const fixture of fixtures) await ensureMirror(fixture);
  const server = await startRegistry({ dir: MIRROR, log: false });
  try {
    for (const fixture of fixtures) {
      const { result, scratch } = await compareFixture(fixture, server.url, {
        keep: !!process.env.SILO_COMPARE_KEEP,
        log: console.log,
      });
      console.log(formatResult(fixture, result));
      if (result.differences.length) {
        ok = false;
        console.log(`  (both trees kept in ${scratch})`);
      }
    }
  } finally {
    await server.close();
  }
  return ok;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  if (args[0] === "--setup") {
    const names = args.slice(1).length ? args.slice(1) : Object.keys(FIXTURES);
    for (const n of names) {
      if (!(n in FIXTURES)) {
        throw new Error(`unknown fixture ${n}; use ${Object.keys(FIXTURES).join(" or ")}`);
      }
    }
    process.exit(await setup(names as FixtureName[]) ? 0 : 1);
  }
  if (args.length !== 2) {
    console.error("usage: compare-trees.ts <reference-project> <silo-project> | --setup [mocha|svelte ...]");
    process.exit(2);
  }
  const result = compareTrees(args[0], args[1]);
  console.log(formatResult(`${args[0]} vs ${args[1]}`, result));
  process.exit(result.differences.length ? 1 : 0);
}
