/**
 * Errors for lockfiles that cannot be read: they name the file (and line:column when known) and say
 * what to do.
 *
 * @module
 */

/** The formats silo reads, for messages. */
export const SUPPORTED_FORMATS = "silo reads package-lock.json v2/v3, pnpm-lock.yaml v9 and bun.lock v0-v3";

/**
 * A lockfile that is missing, malformed or of an unsupported version.
 *
 * @example
 * ```ts
 * try {
 *   await readLockfile(".");
 * } catch (e) {
 *   if (e instanceof LockfileError) console.error(e.message); // "package-lock.json:3:5: ..."
 * }
 * ```
 */
export class LockfileError extends Error {
  /** The lockfile path as given. */
  readonly file: string;
  /** 1-based line of the problem, when known. */
  readonly line?: number;
  /** 1-based column of the problem, when known. */
  readonly column?: number;

  /** `file` is prefixed to `message` (with line:column when given). */
  constructor(
    file: string,
    message: string,
    options: { line?: number; column?: number; cause?: unknown } = {},
  ) {
    const where = options.line === undefined ? file : `${file}:${options.line}:${options.column ?? 1}`;
    super(`${where}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LockfileError";
    this.file = file;
    this.line = options.line;
    this.column = options.column;
  }
}

/**
 * The error for a lockfile version silo does not read.
 *
 * @example
 * ```ts
 * throw unsupportedVersion("package-lock.json", 1, "npm install --package-lock-only");
 * ```
 */
export function unsupportedVersion(file: string, version: unknown, upgrade: string): LockfileError {
  return new LockfileError(
    file,
    `lockfileVersion ${JSON.stringify(version ?? null)} is not supported; ${SUPPORTED_FORMATS}. ` +
      `Run \`${upgrade}\` to upgrade the lockfile, then retry.`,
  );
}

/**
 * 1-based line and column of a UTF-16 offset in `text`.
 *
 * @example
 * ```ts
 * lineCol("a\nbc", 3); // { line: 2, column: 2 }
 * ```
 */
export function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: end - start + 1 };
}
