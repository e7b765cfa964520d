/**
 * Errors raised while talking to a registry. Every message names the package (when known),
 * the URL without credentials, and what to do next.
 *
 * @module
 */

/** Options shared by the fetch errors. */
export interface FetchErrorOptions {
  /** The package the request was for, e.g. "react@18.2.0". */
  package?: string;
  /** The request URL; credentials are stripped before it is stored. */
  url?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A registry answered with a status that retrying will not fix (404, 401, 403, other 4xx),
 * or a retryable failure persisted past the last attempt.
 *
 * @example
 * ```ts
 * try {
 *   await client.get(url, { package: "left-pad@1.3.0" });
 * } catch (err) {
 *   if (err instanceof RegistryError && err.status === 404) console.error(err.hint);
 * }
 * ```
 */
export class RegistryError extends Error {
  /** HTTP status, or 0 when no response arrived (network error, stall). */
  readonly status: number;
  /** The package the request was for, when known. */
  readonly package?: string;
  /** The URL, without credentials. */
  readonly url: string;
  /** What the user should do about it. */
  readonly hint: string;

  /** Build one; `message` should say what failed, `hint` what to do. */
  constructor(
    message: string,
    options: FetchErrorOptions & { status: number; hint: string },
  ) {
    const url = redactUrl(options.url ?? "");
    const who = options.package ? `${options.package}: ` : "";
    super(`${who}${message} (${url}). ${options.hint}`, { cause: options.cause });
    this.name = "RegistryError";
    this.status = options.status;
    this.package = options.package;
    this.url = url;
    this.hint = options.hint;
  }
}

/**
 * A failure worth retrying: a 5xx or 429 answer, a network error, a reset, a stalled or
 * truncated body. A streaming consumer throws (or wraps) this so that
 * {@link downloadWithRetry} runs the whole download again.
 *
 * @example
 * ```ts
 * if (received < expected) {
 *   throw new TransientFetchError("body ended early", { url });
 * }
 * ```
 */
export class TransientFetchError extends Error {
  /** HTTP status when the server answered, else 0. */
  readonly status: number;
  /** The package the request was for, when known. */
  readonly package?: string;
  /** The URL, without credentials. */
  readonly url?: string;
  /** Server-requested delay in ms (Retry-After), if any. */
  readonly retryAfterMs?: number;

  /** Build one. */
  constructor(
    message: string,
    options: FetchErrorOptions & { status?: number; retryAfterMs?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "TransientFetchError";
    this.status = options.status ?? 0;
    this.package = options.package;
    this.url = options.url === undefined ? undefined : redactUrl(options.url);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * True when retrying might help: a {@link TransientFetchError}, or an error that looks like a
 * dropped connection (fetch's TypeError, ECONNRESET and friends, a premature close).
 *
 * @example
 * ```ts
 * if (isRetryable(err) && attempt < max) continue;
 * ```
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof TransientFetchError) return true;
  if (err instanceof RegistryError) return false;
  if (!(err instanceof Error)) return false;
  if (err.name === "AbortError") return false; // the caller's abort: never retry
  // fetch rejects with TypeError on network failure, in both runtimes.
  if (err instanceof TypeError) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && RETRYABLE_CODES.has(code)) return true;
  if (/ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket|premature|terminated|connection/i.test(err.message)) {
    return true;
  }
  return err.cause !== undefined && err.cause !== err && isRetryable(err.cause);
}

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ERR_STREAM_PREMATURE_CLOSE",
  "UND_ERR_SOCKET",
  "ConnectionRefused",
  "ConnectionReset",
  "ConnectionClosed",
]);

/**
 * The URL with any user:password removed, safe for logs and error messages.
 *
 * @example
 * ```ts
 * redactUrl("https://u:secret@host/x"); // "https://host/x"
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    // Not a URL: strip anything that looks like userinfo anyway.
    return url.replace(/\/\/[^/@]*@/, "//");
  }
}
