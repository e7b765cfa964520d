/**
 * `silo gc [--max-size SIZE] [--older-than DAYS] [--dry-run] [--json]`.
 *
 * @module
 */
import { T } from "../../container/app.ts";
import { parseSize } from "../../store/gc.ts";
import { type CommandContext, UsageError } from "../context.ts";
import { parseFlags } from "../flags.ts";
import { formatBytes, plural } from "../format.ts";

/** Help text for `silo gc`. */
export const GC_HELP = `silo gc [--max-size SIZE] [--older-than DAYS] [--dry-run] [--json]

Remove what no project uses: packages that no registered project (its folder and lockfile still
exist) installed last time, store files no package references, and temp files of dead installs.
Then, with --max-size, evict least recently used packages until the store fits. Packages leased
by a running install are never removed.

Flags:
  --max-size SIZE      evict least recently used packages down to SIZE (bytes, or 500M, 2G, ...)
  --older-than DAYS    only remove unused packages not used for DAYS days
  --dry-run            report what would be removed; change nothing
  --json               print the report as JSON`;

/** Run `silo gc`. */
export async function gcCommand(ctx: CommandContext, argv: string[]): Promise<number> {
  const { values } = parseFlags("gc", {
    args: argv,
    options: {
      "max-size": { type: "string" },
      "older-than": { type: "string" },
      "dry-run": { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  let maxSize: number | undefined;
  if (values["max-size"] !== undefined) {
    try {
      maxSize = parseSize(values["max-size"]);
    } catch (error) {
      throw new UsageError(`--max-size: ${(error as Error).message}`);
    }
  }
  const olderThanDays = values["older-than"] === undefined ? undefined : Number(values["older-than"]);
  if (olderThanDays !== undefined && !(olderThanDays >= 0)) {
    throw new UsageError(`--older-than must be a number of days, not "${values["older-than"]}"`);
  }
  const report = await (await ctx.container()).get(T.gc).run({
    maxSize,
    olderThanDays,
    dryRun: values["dry-run"],
  });
  const out = ctx.output;
  if (values.json) {
    out.out(JSON.stringify(report, null, 2));
    return 0;
  }
  const verb = report.dryRun ? "would remove" : "removed";
  for (const p of report.packages) out.out(`${verb} ${p.name}@${p.version} (${p.reason})`);
  for (const p of report.projectsForgotten) out.out(`forgot project ${p} (folder or lockfile gone)`);
  const parts = [
    plural(report.packages.length, "package"),
    plural(report.files, "file") + (report.orphanFiles ? ` (${report.orphanFiles} unreferenced)` : ""),
    plural(report.tempFiles, "temp file"),
  ];
  const nothing = report.packages.length === 0 && report.files === 0 && report.tempFiles === 0;
  out.out(
    nothing
      ? `nothing to remove: store holds ${formatBytes(report.sizeAfter)} used by ${
        plural(report.liveProjects, "project")
      }`
      : `${verb} ${parts.join(", ")}, ${formatBytes(report.bytesFreed)} freed; ` +
        `store ${formatBytes(report.sizeBefore)} -> ${formatBytes(report.sizeAfter)}`,
  );
  if (report.leasedSkipped) {
    out.out(
      `kept ${
        plural(report.leasedSkipped, "package")
      } leased by a running install; run gc again after it ends`,
    );
  }
  return 0;
}
