/**
 * `silo install`: restore node_modules from the project's lockfile through the store.
 *
 * @module
 */
import path from "node:path";
import { install, type InstallProgress } from "../../install/install.ts";
import type { RequestedMethod } from "../../link/mod.ts";
import { type CommandContext, UsageError } from "../context.ts";
import { addDependencyHint, DEPENDENCY_FLAGS, parseFlags } from "../flags.ts";
import { renderNotes, renderProgress, renderSummary } from "../progress.ts";

export const INSTALL_HELP = `silo install [flags]          (alias: silo i, silo ci)

Restore node_modules exactly as the lockfile says (package-lock.json v2/v3, pnpm-lock.yaml v9,
bun.lock in bun's hoisted layout, yarn 1's yarn.lock in yarn's), with every file coming from the store.

Flags:
  -P, --prod, --production    omit devDependencies (the default when NODE_ENV=production, as in npm
                              and pnpm; --include dev installs them)
  --omit dev|optional|peer    omit devDependencies, optional or peer dependencies (repeatable, npm's
                              flag; without it, npm's omit setting in .npmrc or npm_config_omit applies)
  --include dev|optional|peer install them even if NODE_ENV, --omit or npm's settings say otherwise
  --no-optional               omit optional dependencies (pnpm's flag; yarn's --ignore-optional too)
  --legacy-peer-deps          npm lockfiles: leave out what only peer dependencies need, as npm ci
                              --legacy-peer-deps does (also read from .npmrc)
  --offline                   use the store only; fail on anything not in it
  --frozen-lockfile           accepted for compatibility: silo never changes the lockfile
  --no-audit, --no-fund, --prefer-offline, --strict-peer-dependencies, --no-save, --no-package-lock,
  --pure-lockfile, --non-interactive
                              accepted so npm, pnpm and yarn command lines work unchanged; they change
                              nothing (silo audits nothing, resolves nothing, never prompts, and reads
                              the store first)
  --ignore-engines            do not check packages' engines.node: yarn.lock installs do not stop at a
                              required package that rules out this node (yarn does), and optional
                              packages are not skipped for it
  -s, --silent                print errors only (also --loglevel silent, --reporter silent);
                              --loglevel error drops the warnings
  --no-progress               no progress display (also --reporter append-only)
  --allow-missing-integrity   download lockfile entries that record no integrity (unchecked)
  --import-method METHOD      auto (default: reflink, then hardlink, then copy), clone, hardlink, copy
                              (pnpm's --package-import-method and bun's --backend are read too)
  --allow-scripts a,b         run lifecycle scripts of these dependencies (none run by default)
  --ignore-scripts            run no lifecycle scripts: not the allowed dependencies', not the
                              project's own (preinstall ... prepare of the root and workspace projects)
  --registry URL              registry to download from (overrides .npmrc)
  --concurrency N             parallel downloads (default 16; also --network-concurrency)
  --network-timeout MS        retry a download that stalls this long (default 30000; also npm's
                              --fetch-timeout)
  --force                     reinstall even when node_modules is up to date; install required
                              packages for another platform (npm ci's and yarn's refusal is lifted)
  --no-verify-store-integrity link store files without checking them first (faster; an edited
                              store file is then spread instead of re-fetched)
  -C, --dir DIR               the project directory (default: the current one; also --prefix, --cwd)
  --json                      print the summary as JSON`;

const METHODS: RequestedMethod[] = ["auto", "clone", "hardlink", "copy"];

/** bun's --backend values, as silo's methods. */
const BUN_BACKENDS: Record<string, RequestedMethod> = {
  hardlink: "hardlink",
  clonefile: "clone",
  clonefile_each_dir: "clone",
  copyfile: "copy",
};

/**
 * Flags of npm, pnpm and bun that silo lacks on purpose, and what to do instead: silo installs exactly
 * what the lockfile says, and never resolves or writes one.
 */
const NOT_HERE: Record<string, string> = Object.fromEntries([
  ...["--lockfile-only", "--package-lock-only", "--no-frozen-lockfile", "--fix-lockfile", "--update"].map((
    f,
  ) => [f, "silo never resolves versions or writes the lockfile; npm install or pnpm install does that"]),
  ...Object.entries(DEPENDENCY_FLAGS),
  ...["--global", "-g"].map((f) => [f, "silo installs a project's lockfile; it has no global installs"]),
]);

/** The import method from --import-method, or pnpm's --package-import-method, or bun's --backend. */
function importMethod(values: Record<string, unknown>): RequestedMethod {
  const backend = values.backend as string | undefined;
  if (backend !== undefined) {
    const method = BUN_BACKENDS[backend];
    if (!method) {
      throw new UsageError(
        `--backend ${backend} is not one silo has: hardlink, clonefile or copyfile (or --import-method ` +
          `${METHODS.join("|")}); silo never symlinks package files`,
      );
    }
    return method;
  }
  const method = (values["import-method"] ?? values["package-import-method"] ?? "auto") as RequestedMethod;
  if (!METHODS.includes(method)) {
    throw new UsageError(`--import-method must be one of ${METHODS.join(", ")}, not "${method}"`);
  }
  return method;
}

/** Run `silo install`. */
export async function installCommand(ctx: CommandContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags("install", {
    args: argv,
    options: {
      prod: { type: "boolean", short: "P" },
      production: { type: "boolean" },
      omit: { type: "string", multiple: true },
      include: { type: "string", multiple: true },
      "no-optional": { type: "boolean" },
      "ignore-optional": { type: "boolean" },
      "ignore-engines": { type: "boolean" },
      offline: { type: "boolean" },
      "allow-missing-integrity": { type: "boolean" },
      "frozen-lockfile": { type: "boolean" },
      // npm's and pnpm's flags that have nothing to act on here (see the help).
      "no-audit": { type: "boolean" },
      "no-fund": { type: "boolean" },
      "prefer-offline": { type: "boolean" },
      "legacy-peer-deps": { type: "boolean" },
      "strict-peer-dependencies": { type: "boolean" },
      "no-save": { type: "boolean" },
      "no-package-lock": { type: "boolean" },
      "pure-lockfile": { type: "boolean" },
      "non-interactive": { type: "boolean" },
      loglevel: { type: "string" },
      reporter: { type: "string" },
      silent: { type: "boolean", short: "s" },
      "no-progress": { type: "boolean" },
      "import-method": { type: "string" },
      "package-import-method": { type: "string" },
      backend: { type: "string" },
      "allow-scripts": { type: "string", multiple: true },
      "ignore-scripts": { type: "boolean" },
      registry: { type: "string" },
      concurrency: { type: "string" },
      "network-concurrency": { type: "string" },
      "network-timeout": { type: "string" },
      "fetch-timeout": { type: "string" },
      force: { type: "boolean" },
      "no-verify-store-integrity": { type: "boolean" },
      dir: { type: "string", short: "C" },
      prefix: { type: "string" },
      cwd: { type: "string" },
      json: { type: "boolean" },
    },
    allowPositionals: true,
  }, NOT_HERE);
  if (positionals.length > 0) {
    const names = positionals.join(" ");
    throw new UsageError(
      `silo install takes no package names: it installs what the lockfile lists. To add ${names}, ` +
        `${addDependencyHint(names)}.`,
    );
  }
  const method = importMethod(values);
  const flags = omitted(values, ctx.env);
  const concurrencyFlag = values.concurrency ?? values["network-concurrency"];
  const concurrency = concurrencyFlag === undefined ? undefined : Number(concurrencyFlag);
  if (concurrency !== undefined && !(concurrency >= 1)) {
    throw new UsageError(`--concurrency must be a positive number`);
  }
  const timeoutFlag = values["network-timeout"] ?? values["fetch-timeout"];
  const networkTimeoutMs = timeoutFlag === undefined ? undefined : Number(timeoutFlag);
  if (networkTimeoutMs !== undefined && !(networkTimeoutMs > 0)) {
    throw new UsageError(`--network-timeout takes milliseconds, a positive number, not "${timeoutFlag}"`);
  }
  const dir = values.dir ?? values.prefix ?? values.cwd;
  // npm's --silent / --loglevel silent and pnpm's --reporter silent: errors only. --loglevel error: no warnings.
  const silent = values.silent || values.loglevel === "silent" || values.reporter === "silent";
  const warnings = !silent && values.loglevel !== "error";

  const out = ctx.output;
  const warned = new Set<string>();
  const warn = (message: string) => {
    if (warnings && !warned.has(message)) out.err(`warning: ${message}`), warned.add(message);
  };
  let lastDraw = 0;
  // Whether stderr is a terminal is asked on the first progress report: a no-op install has none, and
  // asking costs start-up time (see processOutput). pnpm's append-only reporter never redraws.
  let drawing: boolean | undefined;
  const quietProgress = values.json || silent || values["no-progress"] || values.reporter === "append-only";
  const onProgress = quietProgress ? undefined : (p: InstallProgress) => {
    if (!(drawing ??= out.isTTY)) return;
    const now = performance.now();
    if (p.phase !== "done" && now - lastDraw < 80) return;
    lastDraw = now;
    out.write(`\r\x1b[2K${renderProgress(p, out.columns)}${p.phase === "done" ? "\r\x1b[2K" : ""}`);
  };

  if (flags.byNodeEnv) {
    warn(
      "NODE_ENV=production: devDependencies are left out, as npm and pnpm do (--include dev installs them)",
    );
  }
  const summary = await install(() => ctx.container(), {
    projectDir: path.resolve(ctx.cwd, dir ?? "."),
    prod: omits("dev", flags),
    omitOptional: omits("optional", flags),
    // --omit peer leaves out what only peer edges reach, the same walk as --legacy-peer-deps.
    legacyPeerDeps: values["legacy-peer-deps"] ? true : omits("peer", flags),
    offline: values.offline,
    allowMissingIntegrity: values["allow-missing-integrity"],
    importMethod: method,
    allowScripts: (values["allow-scripts"] ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(
      Boolean,
    ),
    ignoreScripts: values["ignore-scripts"],
    registry: values.registry,
    concurrency,
    networkTimeoutMs,
    force: values.force,
    ignoreEngines: values["ignore-engines"],
    verifyStoreIntegrity: !values["no-verify-store-integrity"],
    onProgress,
    // As npm prints them; on stderr, so --json output stays one document.
    onScript: silent ? undefined : (s) => {
      if (drawing) out.write("\r\x1b[2K");
      out.err(`> ${s.name}${s.version ? `@${s.version}` : ""} ${s.event}: ${s.command}`);
    },
    onScriptOutput: silent ? undefined : (text) => {
      if (drawing) out.write("\r\x1b[2K");
      out.write(text);
    },
    warn,
  });
  if (values.json) out.out(JSON.stringify({ ...summary, ms: Math.round(summary.ms) }, null, 2));
  else if (!silent) {
    out.out(renderSummary(summary));
    for (const note of renderNotes(summary)) out.out(note);
  }
  return 0;
}

const OMITTABLE = ["dev", "optional", "peer"];

/**
 * What the flags and the environment leave out: npm's `--omit`/`--include`, pnpm's `--prod` and
 * `--no-optional`, and NODE_ENV=production, which omits devDependencies in both unless `--include dev`.
 */
function omitted(
  values: {
    prod?: boolean;
    production?: boolean;
    omit?: string[];
    include?: string[];
    "no-optional"?: boolean;
    "ignore-optional"?: boolean;
  },
  env: Record<string, string | undefined>,
): { omit: Set<string>; include: Set<string>; byNodeEnv: boolean } {
  const list = (flag: "omit" | "include") => {
    const names = (values[flag] ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
    for (const name of names) {
      if (!OMITTABLE.includes(name)) {
        throw new UsageError(`--${flag} takes ${OMITTABLE.join(" or ")}, not "${name}"`);
      }
    }
    return names;
  };
  const omit = new Set(list("omit"));
  if (values.prod || values.production) omit.add("dev");
  const byNodeEnv = !omit.has("dev") && env.NODE_ENV === "production";
  if (byNodeEnv) omit.add("dev");
  if (values["no-optional"] || values["ignore-optional"]) omit.add("optional");
  const include = new Set(list("include"));
  for (const name of include) omit.delete(name);
  return { omit, include, byNodeEnv: byNodeEnv && omit.has("dev") };
}

/** What the command line says about leaving `kind` out: yes, no (--include), or nothing (npm's settings decide). */
function omits(kind: string, flags: { omit: Set<string>; include: Set<string> }): boolean | undefined {
  return flags.omit.has(kind) ? true : flags.include.has(kind) ? false : undefined;
}
