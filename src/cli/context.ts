/**
 * What every command receives: parsed global flags, output streams and the store's
 * container, opened lazily so `silo --help` touches no disk.
 *
 * @module
 */
import fs from "node:fs";
import process from "node:process";
import type { ContainerOptions } from "../container/app.ts";
import type { Container } from "../container/container.ts";
import { defaultStoreDir } from "../store/layout.ts";

/** Output sinks; tests capture them. */
export interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Whether stderr is a terminal (progress display). */
  isTTY: boolean;
  /** The terminal's width, when it is one. */
  columns?: number;
  /** Write without a newline (progress redraws). */
  write: (text: string) => void;
}

/**
 * Write all of `text` to `fd`, synchronously. Not process.stdout/stderr: creating those streams costs Bun
 * ~9 ms of start-up, more than the rest of a no-op install (measured on compiled binaries). A reader
 * that went away (`silo ... | head`) ends the output quietly.
 */
function writeFd(fd: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
  for (let done = 0; done < bytes.length;) {
    try {
      done += fs.writeSync(fd, bytes, done);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "EPIPE") return;
      if (code !== "EAGAIN") throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); // a non-blocking pipe is full
    }
  }
}

/** The process's stdout/stderr. */
export const processOutput: Output = {
  out: (line) => writeFd(1, line + "\n"),
  err: (line) => writeFd(2, line + "\n"),
  get isTTY() {
    return Boolean(process.stderr.isTTY);
  },
  get columns() {
    return process.stderr.columns;
  },
  write: (text) => writeFd(2, text),
};

/** Shared by all commands. */
export class CommandContext {
  readonly storeDir: string;
  readonly output: Output;
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
  #container?: Promise<Container>;
  #options: Omit<ContainerOptions, "storeDir">;

  constructor(
    options:
      & { store?: string; output?: Output; cwd?: string; env?: Record<string, string | undefined> }
      & Omit<ContainerOptions, "storeDir">,
  ) {
    this.env = options.env ?? process.env;
    this.storeDir = options.store ?? defaultStoreDir(this.env);
    this.output = options.output ?? processOutput;
    this.cwd = options.cwd ?? process.cwd();
    this.#options = { hasher: options.hasher, sqliteDriver: options.sqliteDriver, runtime: options.runtime };
  }

  /** The container for the store, created on first use. */
  container(): Promise<Container> {
    // Imported here, not at the top: commands that never open the store load none of it.
    return this.#container ??= import("../container/app.ts").then(({ createContainer }) =>
      createContainer({ storeDir: this.storeDir, ...this.#options })
    );
  }
}

/** An error the CLI prints without a stack: it already says what failed and what to do. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
