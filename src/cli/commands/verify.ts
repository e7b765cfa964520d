/**
 * `silo verify [--repair] [--json]`: check every indexed package against its digests.
 *
 * @module
 */
import { T } from "../../container/app.ts";
import { invalidateProjectsUsing } from "../../install/state.ts";
import type { CommandContext } from "../context.ts";
import { parseFlags } from "../flags.ts";
import { formatDuration, plural } from "../format.ts";

export const VERIFY_HELP = `silo verify [--repair] [--json]

Check every stored package. Exit 1 and list the bad ones when something is wrong.
--repair removes bad files and their index rows, so the next install fetches them again.`;

/** Run `silo verify`. */
export async function verifyCommand(ctx: CommandContext, argv: string[]): Promise<number> {
  const { values } = parseFlags("verify", {
    args: argv,
    options: { repair: { type: "boolean" }, json: { type: "boolean" } },
  });
  const started = performance.now();
  const c = await ctx.container();
  const report = await c.get(T.verifier).verifyAll({ repair: values.repair });
  const reinstall = values.repair
    ? invalidateProjectsUsing(c.get(T.projects), report.bad.map((b) => b.key))
    : [];
  const elapsed = performance.now() - started;
  if (values.json) {
    ctx.output.out(
      JSON.stringify({ ok: report.bad.length === 0, ...report, reinstall, ms: Math.round(elapsed) }, null, 2),
    );
  } else {
    for (const bad of report.bad) {
      ctx.output.out(`bad ${bad.name}@${bad.version} (${bad.key})`);
      for (const p of bad.problems) ctx.output.out(`    ${p.path}: ${p.reason}`);
    }
    const summary = `${plural(report.packages, "package")}, ${plural(report.files, "file")} checked ` +
      `(${report.rehashed} re-hashed) in ${formatDuration(elapsed)}`;
    if (report.bad.length === 0) ctx.output.out(`store ok: ${summary}`);
    else if (values.repair) {
      ctx.output.out(
        `repaired: removed ${plural(report.removedFiles, "bad file")} and ${
          plural(report.removedRows, "index row")
        }; ` +
          `the next install fetches them again. ${summary}`,
      );
      if (reinstall.length > 0) {
        ctx.output.out(
          `${
            plural(reinstall.length, "project")
          } had them in node_modules and will be installed again in full ` +
            `by the next \`silo install\` there: ${reinstall.join(", ")}`,
        );
      }
    } else {
      ctx.output.out(
        `${
          plural(report.bad.length, "bad package")
        }: ${summary}. Run \`silo verify --repair\` to remove them.`,
      );
    }
  }
  return report.bad.length === 0 || values.repair ? 0 : 1;
}
