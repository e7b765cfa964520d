/**
 * `silo store path` and `silo store status`.
 *
 * @module
 */
import { T } from "../../container/app.ts";
import { probeMethods } from "../../link/mod.ts";
import { type CommandContext, UsageError } from "../context.ts";
import { parseFlags } from "../flags.ts";
import { formatBytes } from "../format.ts";

export const STORE_HELP = `silo store path      print the store directory
silo store status [--json]   packages, files, bytes, and which import methods the store's filesystem supports`;

/** Run `silo store <sub>`. */
export async function storeCommand(ctx: CommandContext, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "path") {
    ctx.output.out(ctx.storeDir);
    return 0;
  }
  if (sub !== "status") throw new UsageError(`unknown store command "${sub ?? ""}"\n\n${STORE_HELP}`);
  const { values } = parseFlags("store status", { args: rest, options: { json: { type: "boolean" } } });
  const c = await ctx.container();
  const index = c.get(T.index);
  const stats = index.stats();
  const methods = probeMethods(ctx.storeDir, c.get(T.runtime).libc);
  const status = {
    store: ctx.storeDir,
    ...stats,
    importMethods: { clone: methods.clone, hardlink: methods.hardlink, copy: true },
    index: { driver: index.db.driver, sqlite: index.db.version },
    runtime: c.get(T.runtime).name,
    hasher: c.get(T.hasher).name,
  };
  if (values.json) ctx.output.out(JSON.stringify(status, null, 2));
  else {
    const supported = Object.entries(status.importMethods).filter(([, ok]) => ok).map(([m]) => m).join(", ");
    ctx.output.out(`store      ${status.store}`);
    ctx.output.out(`packages   ${stats.packages}`);
    ctx.output.out(`files      ${stats.files} (${formatBytes(stats.bytes)})`);
    ctx.output.out(`imports    ${supported}`);
    ctx.output.out(
      `index      SQLite ${status.index.sqlite} via ${
        status.index.driver === "ffi" ? "FFI (system libsqlite3)" : "the runtime's built-in node:sqlite"
      }`,
    );
  }
  return 0;
}
