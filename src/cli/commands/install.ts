/**
 * `silo install`: restore node_modules from the project's lockfile through the store.
 *
 * @module
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { install, type InstallProgress } from "../../install/install.ts";
import type { RequestedMethod } from "../../link/mod.ts";
import { type CommandContext, UsageError } from "../context.ts";
import { renderNotes, renderProgress, renderSummary } from "../progress.ts";

export const INSTALL_HELP = `silo install [flags]          (alias: silo i, silo ci)

Restore node_modules exactly as the lockfile says (package-lock.json v2/v3, pnpm-lock.yaml v9),
with every file coming from the store.

Flags:
  --prod, --production        omit devDependencies (the default when NODE_ENV=production, as in npm
                              and pnpm; --include dev installs them)
  --omit dev|optional|peer    omit devDependencies, optional or peer dependencies (repeatable, npm's
                              flag; without it, npm's omit setting in .npmrc or npm_config_omit applies)
  --include dev|optional|peer install them even if NODE_ENV, --omit or npm's settings say otherwise
  --no-optional               omit optional dependencies (pnpm's flag)
  --legacy-peer-deps          npm lockfiles: leave out what only peer dependencies need, as npm ci
                              --legacy-peer-deps does (also read from .npmrc)
  --offline                   use the store only; fail on anything not in it
  --frozen-lockfile           accepted for compatibility: silo never changes the lockfile
  --no-audit, --no-fund, --prefer-offline, --strict-peer-dependencies,
  --loglevel L, --reporter R  accepted so npm and pnpm command lines work unchanged; they change nothing
                              (silo audits nothing, resolves nothing, and reads the store first)
  --allow-missing-integrity   download lockfile entries that record no integrity (unchecked)
  --import-method METHOD      auto (default: reflink, then hardlink, then copy), clone, hardlink, copy
  --allow-scripts a,b         run lifecycle scripts of these dependencies (none run by default)
  --ignore-scripts            run no lifecycle scripts: not the allowed dependencies', not the
                              project's own (preinstall ... prepare of the root and workspace projects)
  --registry URL              registry to download from (overrides .npmrc)
  --concurrency N             parallel downloads (default 16)
  --force                     reinstall even when node_modules is up to date; install required
                              packages for another platform (npm ci's --force)
  --no-verify-store-integrity link store files without checking them first (faster; an edited
                              store file is then spread instead of re-fetched)
  --dir DIR                   the project directory (default: the current one)
  --json                      print the summary as JSON`;

const METHODS = ["auto", "clone", "hardlink", "copy"];

/** Run `silo install`. */
export async function installCommand(ctx: CommandContext, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      prod: { type: "boolean" },
      production: { type: "boolean" },
      omit: { type: "string", multiple: true },
      include: { type: "string", multiple: true },
      "no-optional": { type: "boolean" },
      offline: { type: "boolean" },
      "allow-missing-integrity": { type: "boolean" },
      "frozen-lockfile": { type: "boolean" },
      // npm's and pnpm's flags that have nothing to act on here (see the help).
      "no-audit": { type: "boolean" },
      "no-fund": { type: "boolean" },
      "prefer-offline": { type: "boolean" },
      "legacy-peer-deps": { type: "boolean" },
      "strict-peer-dependencies": { type: "boolean" },
      loglevel: { type: "string" },
      reporter: { type: "string" },
      "import-method": { type: "string", default: "auto" },
      "allow-scripts": { type: "string", multiple: true },
      "ignore-scripts": { type: "boolean" },
      registry: { type: "string" },
      concurrency: { type: "string" },
      force: { type: "boolean" },
      "no-verify-store-integrity": { type: "boolean" },
      dir: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const method = values["import-method"]!;
  if (!METHODS.includes(method)) {
    throw new UsageError(`--import-method must be one of ${METHODS.join(", ")}, not "${method}"`);
  }
  const flags = omitted(values, ctx.env);
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && !(concurrency >= 1)) {
    throw new UsageError(`--concurrency must be a positive number`);
  }

  const out = ctx.output;
  const warned = new Set<string>();
  const warn = (message: string) => {
    if (!warned.has(message)) out.err(`warning: ${message}`), warned.add(message);
  };
  let lastDraw = 0;
  // Whether stderr is a terminal is asked on the first progress report: a no-op install has none, and
  // asking costs start-up time (see processOutput).
  let drawing: boolean | undefined;
  const onProgress = values.json ? undefined : (p: InstallProgress) => {
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
    projectDir: path.resolve(ctx.cwd, values.dir ?? "."),
    prod: omits("dev", flags),
    omitOptional: omits("optional", flags),
    // --omit peer leaves out what only peer edges reach, the same walk as --legacy-peer-deps.
    legacyPeerDeps: values["legacy-peer-deps"] ? true : omits("peer", flags),
    offline: values.offline,
    allowMissingIntegrity: values["allow-missing-integrity"],
    importMethod: method as RequestedMethod,
    allowScripts: (values["allow-scripts"] ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(
      Boolean,
    ),
    ignoreScripts: values["ignore-scripts"],
    registry: values.registry,
    concurrency,
    force: values.force,
    verifyStoreIntegrity: !values["no-verify-store-integrity"],
    onProgress,
    // As npm prints them; on stderr, so --json output stays one document.
    onScript: (s) => {
      if (drawing) out.write("\r\x1b[2K");
      out.err(`> ${s.name}${s.version ? `@${s.version}` : ""} ${s.event}: ${s.command}`);
    },
    warn,
  });
  if (values.json) out.out(JSON.stringify({ ...summary, ms: Math.round(summary.ms) }, null, 2));
  else {
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
  if (values["no-optional"]) omit.add("optional");
  const include = new Set(list("include"));
  for (const name of include) omit.delete(name);
  return { omit, include, byNodeEnv: byNodeEnv && omit.has("dev") };
}

/** What the command line says about leaving `kind` out: yes, no (--include), or nothing (npm's settings decide). */
function omits(kind: string, flags: { omit: Set<string>; include: Set<string> }): boolean | undefined {
  return flags.omit.has(kind) ? true : flags.include.has(kind) ? false : undefined;
}
