/**
 * Which layout bun builds for a bun.lock: bun.lock does not record it. bunfig.toml's `[install] linker`
 * (the project's, else the user's) decides; unset ("auto"), bun isolates a workspace whose lockfile has
 * `configVersion` 1 and hoists everything else (bun's install_with_manager). silo builds the hoisted one.
 *
 * @module
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { parse } from "smol-toml";
import type { Graph } from "../lockfile/graph.ts";

/** The linker bun would use, and what decided it (for messages). */
export interface BunLinker {
  linker: "hoisted" | "isolated";
  from: string;
}

/** bunfig.toml files bun reads, the one that wins first: the project's, then the user's. */
function bunfigPaths(projectDir: string, env: Record<string, string | undefined>): string[] {
  const home = env.XDG_CONFIG_HOME ?? env.HOME ?? os.homedir();
  return [path.join(projectDir, "bunfig.toml"), path.join(home, ".bunfig.toml")];
}

/**
 * The layout bun builds for the project at `projectDir` with this graph.
 *
 * @example
 * ```ts ignore
 * bunLinker("/app", graph); // { linker: "hoisted", from: "bun's default for a single project" }
 * ```
 */
export function bunLinker(
  projectDir: string,
  graph: Graph,
  env: Record<string, string | undefined> = process.env,
): BunLinker {
  for (const file of bunfigPaths(projectDir, env)) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      continue;
    }
    let linker: unknown;
    try {
      linker = (parse(text).install as Record<string, unknown> | undefined)?.linker;
    } catch (e) {
      throw new Error(
        `${file} is not valid TOML (${(e as Error).message.split("\n")[0]}); fix it, then retry`,
      );
    }
    if (linker === "hoisted" || linker === "isolated") {
      return { linker, from: `${file} sets linker = "${linker}"` };
    }
  }
  const workspaces = graph.importers.length > 1;
  return (graph.recordedSettings?.bunConfigVersion ?? 0) >= 1 && workspaces
    ? { linker: "isolated", from: `bun's default for a workspace whose bun.lock has configVersion 1` }
    : { linker: "hoisted", from: "bun's default" };
}

/** Throw unless bun would build the hoisted layout, naming why it would not and what to do. */
export function assertBunHoisted(projectDir: string, graph: Graph): void {
  const { linker, from } = bunLinker(projectDir, graph);
  if (linker === "hoisted") return;
  throw new Error(
    `bun installs this project with its isolated linker (${from}); silo builds bun's hoisted layout only. ` +
      'Set linker = "hoisted" under [install] in bunfig.toml to have both build that one, or install this ' +
      "project with bun.",
  );
}
