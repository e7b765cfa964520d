/**
 * Flag parsing for every command: node:util's parseArgs, with its errors turned into ones that name the
 * command, suggest the flag that was probably meant, and say where the flags are listed.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./context.ts";
import { closest } from "./suggest.ts";

/** The parsed result of `config` (parseArgs' own result type). */
export type Parsed<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

/**
 * `parseArgs(config)` for `silo <command>`. A flag it does not know gets a {@linkcode UsageError}:
 * `explain[flag]` when the command has a reason to give (another package manager's flag that silo
 * deliberately lacks), else the closest known flag, if one is close.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./flags.ts";
 * const { values } = parseFlags("gc", { args: ["--json"], options: { json: { type: "boolean" } } });
 * console.log(values.json); // true
 * ```
 */
export function parseFlags<T extends ParseArgsConfig>(
  command: string,
  config: T,
  explain: Record<string, string> = {},
): Parsed<T> {
  try {
    return parseArgs(config);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    if (!code.startsWith("ERR_PARSE_ARGS")) throw error;
    const see = `run \`silo ${command} --help\` for its flags`;
    const flag = /'(-[^']*)'/.exec((error as Error).message)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) {
      const bare = flag.split("=")[0];
      if (explain[bare]) throw new UsageError(`${command} ${bare}: ${explain[bare]}`);
      const guess = closest(bare, knownFlags(config.options ?? {}));
      throw new UsageError(
        `unknown flag ${bare} for ${command}${guess ? ` (did you mean ${guess}?)` : ""}; ${see}`,
      );
    }
    // A value where none goes, a missing value, an argument the command takes none of: parseArgs says which.
    throw new UsageError(`${command}: ${(error as Error).message.split(". To specify")[0]}; ${see}`);
  }
}

/** What to run instead to add `names` to a project: silo installs what the lockfile lists. */
export function addDependencyHint(names: string): string {
  return `run \`npm install ${names}\` (or \`pnpm add ${names}\`), then \`silo install\``;
}

/** npm's and pnpm's flags for adding a dependency, which silo (install, add) has no use for. */
export const DEPENDENCY_FLAGS: Record<string, string> = Object.fromEntries(
  ["--save", "--save-dev", "-D", "--save-optional", "-O", "--save-exact", "-E", "--save-peer"].map((f) => [
    f,
    "silo adds no dependencies to a project; add them with npm install or pnpm add, then run silo install",
  ]),
);

/** Every spelling of the flags in `options`: `--name` and `-s`. */
function knownFlags(options: NonNullable<ParseArgsConfig["options"]>): string[] {
  return Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
}
