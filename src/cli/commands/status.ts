/**
 * `silo status [--dir DIR] [--json]`: packages in node_modules whose files differ from the store.
 *
 * @module
 */
import path from "node:path";
import { T } from "../../container/app.ts";
import { projectStatus } from "../../install/modified.ts";
import type { CommandContext } from "../context.ts";
import { parseFlags } from "../flags.ts";
import { plural } from "../format.ts";

/** Help text for `silo status`. */
export const STATUS_HELP = `silo status [--dir DIR] [--json]

List the packages in this project's node_modules whose files no longer match the store (edited,
deleted). Exit 1 when there are any. An edit made through a hardlink changed the store's copy
too: \`silo verify\` flags it, and the next install of any project fetches a clean copy.

Flags:
  --dir DIR     the project directory (default: the current one)
  --json        print the report as JSON`;

/** Run `silo status`. */
export async function statusCommand(ctx: CommandContext, argv: string[]): Promise<number> {
  const { values } = parseFlags("status", {
    args: argv,
    options: { dir: { type: "string" }, json: { type: "boolean" } },
  });
  const c = await ctx.container();
  const report = projectStatus({
    layout: c.get(T.layout),
    index: c.get(T.index),
    projects: c.get(T.projects),
    hasher: c.get(T.hasher),
  }, path.resolve(ctx.cwd, values.dir ?? "."));
  const out = ctx.output;
  if (values.json) {
    out.out(JSON.stringify({ ok: report.registered && report.modified.length === 0, ...report }, null, 2));
    return report.registered && report.modified.length === 0 ? 0 : 1;
  }
  if (!report.registered) {
    out.err(`${report.project} was not installed with the store ${ctx.storeDir}; run \`silo install\` first`);
    return 1;
  }
  const gone = report.modified.filter((m) => m.gone).length;
  if (gone > 0 && gone === report.packages) {
    // node_modules was removed: one line, not every file of every package.
    out.out(
      `none of the ${
        plural(report.packages, "installed package")
      } is in node_modules; \`silo install\` restores them`,
    );
    return 1;
  }
  for (const m of report.modified) {
    if (m.gone) {
      out.out(`missing  ${m.name}@${m.version}  ${m.dir}`);
      continue;
    }
    out.out(
      `modified ${m.name}@${m.version}  ${m.dir}${
        m.storeAffected ? "  (hardlinked: the store copy changed too)" : ""
      }`,
    );
    for (const f of m.files) out.out(`    ${f.path}: ${f.reason}`);
  }
  for (const dir of report.unknown) out.out(`unchecked ${dir}: its package is no longer in the store`);
  const summary = `${plural(report.packages, "package")}, ${
    plural(report.files, "file")
  } checked (${report.rehashed} re-hashed)`;
  if (report.modified.length === 0) out.out(`node_modules matches the store: ${summary}`);
  else {
    const changed = report.modified.length - gone;
    out.out(
      [changed && plural(changed, "modified package"), gone && `${gone} missing`].filter(Boolean).join(", ") +
        `: ${summary}. \`silo install --force\` restores them` +
        (report.modified.some((m) => m.storeAffected) ? "; `silo verify --repair` cleans the store" : ""),
    );
  }
  return report.modified.length === 0 ? 0 : 1;
}
