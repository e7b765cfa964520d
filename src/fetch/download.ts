/**
 * Downloads that retry as a whole when the body breaks mid-stream, so a streaming consumer
 * (the tar ingester) starts over on a fresh body.
 *
 * @module
 */
import type { GetOptions, RegistryClient } from "./registry.ts";

export { isRetryable, redactUrl, RegistryError, TransientFetchError } from "./errors.ts";
export type { FetchErrorOptions } from "./errors.ts";

/** Options for {@link downloadWithRetry}. */
export type DownloadOptions = Pick<GetOptions, "signal" | "package" | "accept" | "retry">;

/**
 * GET `url` and hand the body to `consume`; if anything retryable fails (a 5xx or 429, a
 * network error, a stall, or `consume` throwing a {@link TransientFetchError} because the
 * body was truncated or reset), run the whole download and `consume` again, up to the
 * client's `maxAttempts`, with backoff. `consume` must therefore be safe to re-run: it gets
 * a fresh body and the attempt number (from 1) and should discard partial work from a
 * failed attempt. Errors from the body stream itself are already TransientFetchErrors;
 * a consumer that wraps them should keep them as `cause`.
 *
 * @example
 * ```ts
 * const files = await downloadWithRetry(client, url, async (body, attempt) => {
 *   return await ingestTarball(body, { integrity, tmpSuffix: attempt });
 * }, { package: "ms@2.1.3" });
 * ```
 */
export function downloadWithRetry<T>(
  client: RegistryClient,
  url: string,
  consume: (body: ReadableStream<Uint8Array>, attempt: number) => Promise<T>,
  options: DownloadOptions = {},
): Promise<T> {
  return client.withRetries(url, options, async (attempt) => {
    const { response, release } = await client.request(url, options);
    try {
      // A 2xx without a body is served as an empty one so consumers see "truncated", not null.
      return await consume(response.body ?? new ReadableStream({ start: (c) => c.close() }), attempt);
    } finally {
      // Frees the slot and drops the connection if consume stopped early.
      release();
    }
  });
}
