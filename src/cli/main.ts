/**
 * The silo command line: `silo <command> [flags]`.
 *
 * @module
 */
import process from "node:process";
import { CommandContext, type Output, processOutput, UsageError } from "./context.ts";
import { closest } from "./suggest.ts";
import { preferShortRuns } from "../runtime/jit.ts";

/** The CLI's version. */
export const VERSION = "0.1.0";

const HELP = `silo ${VERSION}: a content-addressable package store and node_modules installer

Usage: silo <command> [flags]

Commands:
  install              restore node_modules from package-lock.json or pnpm-lock.yaml through the store
  add <tgz|dir|url>    store one package
  verify [--repair]    check every stored file against its digest
  gc                   remove what no project uses; evict least recently used down to a size
  status               list packages in node_modules whose files differ from the store
  store path|status    where the store is, and what it holds

Global flags:
  --store DIR          the store (default: $SILO_STORE_DIR, else the platform cache dir)
  -h, --help           help for a command
  -v, --version        print the version

Run \`silo <command> --help\` for a command's flags.`;

type Command = { help: string; run: (ctx: CommandContext, argv: string[]) => Promise<number> };

// Loaded on use: `silo install` on an up-to-date project should not load the tar, YAML or WASM code.
const commands: Record<string, () => Promise<Command>> = {
  install: async () => {
    const m = await import("./commands/install.ts");
    return { help: m.INSTALL_HELP, run: m.installCommand };
  },
  add: async () => {
    const m = await import("./commands/add.ts");
    return { help: m.ADD_HELP, run: m.addCommand };
  },
  verify: async () => {
    const m = await import("./commands/verify.ts");
    return { help: m.VERIFY_HELP, run: m.verifyCommand };
  },
  store: async () => {
    const m = await import("./commands/store.ts");
    return { help: m.STORE_HELP, run: m.storeCommand };
  },
  gc: async () => {
    const m = await import("./commands/gc.ts");
    return { help: m.GC_HELP, run: m.gcCommand };
  },
  status: async () => {
    const m = await import("./commands/status.ts");
    return { help: m.STATUS_HELP, run: m.statusCommand };
  },
};
const aliases: Record<string, string> = { i: "install", ci: "install" };

/**
 * What npm, pnpm or bun users may ask silo for, which it leaves to them: silo restores node_modules from
 * the lockfile they made.
 */
const ELSEWHERE: Record<string, string> = Object.fromEntries([
  ...["update", "up", "upgrade", "remove", "rm", "uninstall", "un", "dedupe", "prune", "link", "unlink"]
    .map((c) => [c, "never changes dependencies or the lockfile"]),
  ...["run", "exec", "x", "dlx", "test", "start", "rebuild", "publish", "pack"]
    .map((c) => [c, "runs no scripts of its own"]),
  ...["ls", "list", "why", "outdated", "audit"].map((c) => [c, "does not inspect dependencies"]),
]);

/** Split `--store DIR` / `--store=DIR` (allowed anywhere; pnpm's `--store-dir` too) from the rest. */
function takeStoreFlag(argv: string[]): { store?: string; rest: string[] } {
  const rest: string[] = [];
  let store: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const flag = arg.split("=", 1)[0];
    if (flag !== "--store" && flag !== "--store-dir") rest.push(arg);
    else if (arg.includes("=")) store = arg.slice(flag.length + 1);
    else {
      store = argv[++i];
      if (!store) throw new UsageError(`${flag} needs a directory`);
    }
  }
  return { store, rest };
}

/** The error for `silo <name>` when there is no such command. */
function unknownCommand(name: string): UsageError {
  if (ELSEWHERE[name]) {
    return new UsageError(
      `no "${name}" command: silo ${ELSEWHERE[name]}; use npm ${name} or pnpm ${name}. silo restores ` +
        "node_modules from the lockfile (silo install) and keeps the store (add, verify, gc, status, store).",
    );
  }
  const guess = closest(name, [...Object.keys(commands), ...Object.keys(aliases)]);
  return new UsageError(
    `unknown command "${name}"${guess ? ` (did you mean ${guess}?)` : ""}\n\n${HELP}`,
  );
}

/** Run the CLI with `argv` (without the runtime and script); returns the exit code. */
export async function main(argv: string[], output: Output = processOutput, cwd?: string): Promise<number> {
  try {
    const { store, rest } = takeStoreFlag(argv);
    const [name, ...args] = rest;
    if (!name || name === "-h" || name === "--help" || name === "help") {
      // `silo help install`, `silo -h gc`: that command's help, as npm and pnpm give it.
      const about = args[0] && commands[aliases[args[0]] ?? args[0]];
      output.out(about ? (await about()).help : HELP);
      return name ? 0 : 1;
    }
    if (name === "-v" || name === "--version") {
      output.out(VERSION);
      return 0;
    }
    const load = commands[aliases[name] ?? name];
    if (!load) throw unknownCommand(name);
    const command = await load();
    if (args.includes("-h") || args.includes("--help")) {
      output.out(command.help);
      return 0;
    }
    return await command.run(new CommandContext({ store, output, cwd }), args);
  } catch (error) {
    output.err(`silo: ${describe(error)}`);
    return 1;
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // parseArgs errors name the flag; ours already say what failed and what to do.
  if (
    error instanceof UsageError || error.name !== "Error" ||
    (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
  ) {
    return error.message;
  }
  return process.env.SILO_DEBUG ? (error.stack ?? error.message) : error.message;
}

if (import.meta.main) {
  preferShortRuns();
  // Exit at once, not when the event loop drains: everything is awaited and output is written
  // synchronously by then, and tearing down the install workers' isolates cost a hot install ~40 ms of
  // wall and ~60 ms of CPU (mocha, Bun binary, 9 interleaved runs: 350 -> 310 ms, 560 -> 500 ms).
  process.exit(await main(process.argv.slice(2)));
}
