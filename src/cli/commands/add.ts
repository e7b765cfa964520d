/**
 * `silo add <tarball|directory|url>`: store one package and print its key.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { T } from "../../container/app.ts";
import { type AddResult, addSummary } from "../../store/store.ts";
import { type CommandContext, UsageError } from "../context.ts";
import { addDependencyHint, DEPENDENCY_FLAGS, parseFlags } from "../flags.ts";
import { plural } from "../format.ts";

export const ADD_HELP = `silo add <tarball|directory|url> [--integrity SRI] [--json]

Store a package: a .tgz file, a package directory, or a tarball URL.
Adding the same package again rewrites nothing. It does not add a dependency to a project
(that is npm install <name> or pnpm add <name>, then silo install).`;

/** A registry package name, maybe with a version or tag (`lodash`, `@types/node@20`): what npm users add. */
const PACKAGE_SPEC = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(@[^/\s]+)?$/i;

/** Run `silo add`. */
export async function addCommand(ctx: CommandContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags("add", {
    args: argv,
    options: { integrity: { type: "string" }, json: { type: "boolean" } },
    allowPositionals: true,
  }, DEPENDENCY_FLAGS);
  if (positionals.length === 0) {
    throw new UsageError(`silo add needs a tarball, directory or URL\n\n${ADD_HELP}`);
  }
  const store = (await ctx.container()).get(T.store);
  const results: AddResult[] = [];
  for (const target of positionals) {
    let result: AddResult;
    if (/^https?:\/\//.test(target)) {
      // Through the registry client: .npmrc auth for that host, retries, stall detection.
      const { RegistryClient } = await import("../../fetch/registry.ts");
      const { loadNpmConfig } = await import("../../fetch/npmrc.ts");
      const { downloadWithRetry } = await import("../../fetch/download.ts");
      const client = new RegistryClient({ config: await loadNpmConfig({ projectDir: ctx.cwd }) });
      result = await downloadWithRetry(
        client,
        target,
        (body) => store.addTarball(body, { integrity: values.integrity, source: target }),
        { package: target },
      );
    } else {
      const full = path.resolve(ctx.cwd, target);
      const st = fs.statSync(full, { throwIfNoEntry: false });
      if (!st && PACKAGE_SPEC.test(target) && !target.endsWith(".tgz")) {
        throw new UsageError(
          `${target} is not a file, folder or URL here. silo add stores one package; it does not add a ` +
            `dependency to a project: ${addDependencyHint(target)}.`,
        );
      }
      if (!st) {
        throw new UsageError(`${target} does not exist; give a .tgz file, a package directory or a URL`);
      }
      if (st.isDirectory() && !fs.existsSync(path.join(full, "package.json"))) {
        throw new UsageError(`${target} is not a package directory (it has no package.json)`);
      }
      result = st.isDirectory()
        ? await store.addDirectory(full)
        : await store.addTarball(fs.createReadStream(full), { integrity: values.integrity, source: full });
    }
    results.push(result);
    if (!values.json) {
      const { key, name, version, files, written, skipped } = addSummary(result);
      ctx.output.out(
        `added ${name}@${version} ${key} (${plural(files, "file")}, ${written} new` +
          (skipped.length
            ? `, ${skipped.length} skipped: ${skipped.map((s) => `${s.path} (${s.reason})`).join(", ")}`
            : "") +
          ")",
      );
    }
  }
  if (values.json) {
    ctx.output.out(JSON.stringify(
      results.map(addSummary),
      null,
      2,
    ));
  }
  return 0;
}
