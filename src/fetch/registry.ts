/**
 * The registry client: tarball URLs, auth by npm's nerf-dart rule, bounded concurrency,
 * retries with backoff, and stall detection. Built on the global `fetch`, so it runs
 * unchanged on both runtimes.
 *
 * @module
 */
import { isRetryable, redactUrl, RegistryError, TransientFetchError } from "./errors.ts";
import { credentialFor, DEFAULT_REGISTRY, nerfDart, normalizeRegistry, type NpmConfig } from "./npmrc.ts";
import { Semaphore } from "./semaphore.ts";

/** Hosts whose tarball URLs silo rewrites onto the configured registry. */
export const PUBLIC_REGISTRY_HOSTS: ReadonlySet<string> = new Set([
  "registry.npmjs.org",
  "registry.yarnpkg.com",
]);

/** Accept header npm sends for packuments: the abbreviated form when the registry has it. */
export const ACCEPT_CORGI = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

/** Told about each retry, e.g. to show it in progress output. URLs here carry no credentials. */
export interface RetryEvent {
  url: string;
  package?: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** How long the client waits before the next attempt. */
  delayMs: number;
  error: Error;
}

/** Options for {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Registry configuration; default: the public registry, no credentials. */
  config?: NpmConfig;
  /** Requests in flight at once (including reading their bodies); default 16. */
  concurrency?: number;
  /** Attempts per request before giving up; default 4. */
  maxAttempts?: number;
  /** First retry delay in ms, doubled each attempt, with jitter; default 500. Tests pass 0 or 1. */
  backoffBaseMs?: number;
  /** Upper bound of one retry delay in ms; default 8000. */
  backoffMaxMs?: number;
  /** Abort and retry when no bytes (or no headers) arrive for this long, in ms; default 30000. */
  stallTimeoutMs?: number;
  /** The fetch to use; default the global one. */
  fetch?: typeof fetch;
  /** Random source in [0, 1) for jitter; default Math.random. */
  random?: () => number;
  /** Called before each retry. */
  onRetry?: (event: RetryEvent) => void;
  /** User-Agent header; default "silo". */
  userAgent?: string;
}

/** Per-request options for {@link RegistryClient.get}. */
export interface GetOptions {
  /** Aborts the request (and any wait for a slot or a retry); never retried. */
  signal?: AbortSignal;
  /** The package this is for, e.g. "left-pad@1.3.0", used in error messages. */
  package?: string;
  /** Accept header; default "*\/*". */
  accept?: string;
  /** Set false for a single attempt. */
  retry?: boolean;
}

/** A response whose body holds a concurrency slot until read to the end, errored or cancelled. */
export interface HeldResponse {
  response: Response;
  /** Frees the slot and drops the connection now; safe to call more than once. */
  release: () => void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/**
 * Talks to npm registries.
 *
 * @example
 * ```ts
 * const client = new RegistryClient({ config: await loadNpmConfig() });
 * const url = client.tarballUrl("left-pad", "1.3.0");
 * const res = await client.get(url, { package: "left-pad@1.3.0" });
 * const bytes = new Uint8Array(await res.arrayBuffer());
 * ```
 */
export class RegistryClient {
  /** The configuration in use. */
  readonly config: NpmConfig;
  /** Attempts per request. */
  readonly maxAttempts: number;
  /** Stall timeout in ms. */
  readonly stallTimeoutMs: number;
  readonly #sem: Semaphore;
  readonly #fetch: typeof fetch;
  readonly #random: () => number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #onRetry?: (event: RetryEvent) => void;
  readonly #userAgent: string;

  /** Create a client; every option has a default. */
  constructor(options: RegistryClientOptions = {}) {
    this.config = options.config ??
      { registry: DEFAULT_REGISTRY, scopes: {}, credentials: [], warnings: [], files: [] };
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
    this.#sem = new Semaphore(options.concurrency ?? 16);
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#random = options.random ?? Math.random;
    this.#backoffBaseMs = options.backoffBaseMs ?? 500;
    this.#backoffMaxMs = options.backoffMaxMs ?? 8_000;
    this.#onRetry = options.onRetry;
    this.#userAgent = options.userAgent ?? "silo";
  }

  /** Requests holding a slot now (headers or body in progress). */
  get active(): number {
    return this.#sem.active;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.#sem.pending;
  }

  /**
   * The registry for a package: its scope's registry if configured, else the default.
   *
   * @example
   * ```ts
   * client.registryFor("@acme/ui"); // "https://npm.acme.dev/" with @acme:registry set
   * ```
   */
  registryFor(name: string): string {
    if (name.startsWith("@")) {
      const scope = name.slice(0, name.indexOf("/"));
      const reg = this.config.scopes[scope];
      if (reg) return reg;
    }
    return this.config.registry;
  }

  /**
   * The URL to download `name@version` from. A lockfile URL on the public registry is moved
   * onto the configured registry (same path), so a lockfile written against npmjs.org
   * installs from a mirror; any other lockfile URL is used as is.
   *
   * @example
   * ```ts
   * client.tarballUrl("@babel/core", "7.0.0");
   * // "https://registry.npmjs.org/@babel/core/-/core-7.0.0.tgz"
   * ```
   */
  tarballUrl(name: string, version: string, lockfileTarball?: string): string {
    const registry = this.registryFor(name);
    if (lockfileTarball && /^https?:\/\//i.test(lockfileTarball)) {
      const locked = new URL(lockfileTarball);
      if (!PUBLIC_REGISTRY_HOSTS.has(locked.hostname)) return lockfileTarball;
      const target = new URL(registry);
      // Already pointing at the configured registry (e.g. both npmjs.org): keep it verbatim. An old
      // http:// URL of a public registry goes to the configured one's scheme, as npm rewrites it.
      if (
        target.host === locked.host && target.protocol === locked.protocol &&
        locked.pathname.startsWith(target.pathname)
      ) return lockfileTarball;
      return `${normalizeRegistry(registry)}${locked.pathname.replace(/^\//, "")}${locked.search}`;
    }
    if (lockfileTarball) return lockfileTarball;
    const base = name.startsWith("@") ? name.slice(name.indexOf("/") + 1) : name;
    return `${registry}${name}/-/${base}-${version}.tgz`;
  }

  /**
   * The packument URL for a package (the scope's slash is encoded, as npm does).
   *
   * @example
   * ```ts
   * client.packumentUrl("@types/node"); // "https://registry.npmjs.org/@types%2fnode"
   * ```
   */
  packumentUrl(name: string): string {
    return `${this.registryFor(name)}${name.replace("/", "%2f")}`;
  }

  /** True when a request to `url` would carry credentials (for diagnostics; never the secret). */
  hasAuth(url: string): boolean {
    return credentialFor(this.config, url) !== undefined;
  }

  /**
   * GET `url` with auth, a concurrency slot, stall detection and retries. Resolves once
   * headers arrive with a 2xx status; the slot is held until the body is read to its end,
   * errors or is cancelled, so read or cancel every body. Errors mid-body reject the read
   * with {@link TransientFetchError}; use {@link downloadWithRetry} to retry those.
   * Throws {@link RegistryError} for 4xx (other than 429) at once, and for retryable
   * failures after the last attempt.
   *
   * @example
   * ```ts
   * const res = await client.get(client.packumentUrl("ms"), { accept: ACCEPT_CORGI });
   * const packument = await res.json();
   * ```
   */
  async get(url: string, options: GetOptions = {}): Promise<Response> {
    const held = await this.withRetries(url, options, () => this.request(url, options));
    return held.response;
  }

  /**
   * Run `attempt` until it succeeds, a non-retryable error occurs, or attempts run out;
   * waits with exponential backoff and jitter between attempts. Exhausted retryable failures
   * become a {@link RegistryError}. Used by {@link get} and {@link downloadWithRetry}.
   */
  async withRetries<T>(
    url: string,
    options: Pick<GetOptions, "signal" | "package" | "retry">,
    attempt: (n: number) => Promise<T>,
  ): Promise<T> {
    const max = options.retry === false ? 1 : this.maxAttempts;
    for (let n = 1;; n++) {
      try {
        return await attempt(n);
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (!isRetryable(err)) throw err;
        if (n >= max) throw exhausted(err as Error, url, options.package, n);
        const delayMs = this.backoffDelay(n, err);
        this.#onRetry?.({
          url: redactUrl(url),
          package: options.package,
          attempt: n,
          delayMs,
          error: err as Error,
        });
        await sleep(delayMs, options.signal);
      }
    }
  }

  /** The wait after failed attempt `n` (from 1): base * 2^(n-1), capped, half of it jittered. */
  backoffDelay(n: number, err?: unknown): number {
    const exp = Math.min(this.#backoffMaxMs, this.#backoffBaseMs * 2 ** (n - 1));
    const jittered = exp / 2 + this.#random() * exp / 2;
    const after = err instanceof TransientFetchError ? err.retryAfterMs : undefined;
    // Honour Retry-After, but never wait more than a minute on a server's say-so.
    return Math.round(after === undefined ? jittered : Math.max(jittered, Math.min(after, 60_000)));
  }

  /**
   * One attempt: acquire a slot, fetch (following redirects, re-deciding auth per hop),
   * check the status. Retryable failures throw {@link TransientFetchError}.
   */
  async request(url: string, options: GetOptions = {}): Promise<HeldResponse> {
    const releaseSlot = await this.#sem.acquire(options.signal);
    const ctrl = new AbortController();
    const onAbort = () => ctrl.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      releaseSlot();
      options.signal?.removeEventListener("abort", onAbort);
      ctrl.abort(); // drop the connection if the body was not read to the end
    };

    let stalled = false;
    const stallError = (what: string) =>
      new TransientFetchError(`no ${what} from the registry for ${this.stallTimeoutMs} ms`, {
        url,
        package: options.package,
      });
    try {
      const timer = setTimeout(() => {
        stalled = true;
        ctrl.abort(stallError("response"));
      }, this.stallTimeoutMs);
      let res: Response;
      let finalUrl: string;
      try {
        [res, finalUrl] = await this.#fetchFollowing(url, options, ctrl.signal);
      } finally {
        clearTimeout(timer);
      }
      if (res.status >= 200 && res.status < 300) {
        return { response: this.#watchBody(res, url, options, release), release };
      }
      await res.body?.cancel().catch(() => {});
      throw statusError(res, finalUrl, options.package, this.hasAuth(finalUrl));
    } catch (err) {
      release();
      if (options.signal?.aborted) throw options.signal.reason;
      if (stalled) throw stallError("response");
      if (err instanceof RegistryError || err instanceof TransientFetchError) throw err;
      if (isRetryable(err)) {
        throw new TransientFetchError(`network error: ${(err as Error).message}`, {
          url,
          package: options.package,
          cause: err,
        });
      }
      throw err;
    }
  }

  async #fetchFollowing(url: string, options: GetOptions, signal: AbortSignal): Promise<[Response, string]> {
    let current = url;
    for (let hop = 0;; hop++) {
      const { href, authorization } = this.#authorize(current);
      const headers = new Headers({ "user-agent": this.#userAgent, accept: options.accept ?? "*/*" });
      if (authorization) headers.set("authorization", authorization);
      // Redirects are followed by hand so a token is never carried to another host.
      const res = await this.#fetch(href, { headers, signal, redirect: "manual" });
      const location = res.headers.get("location");
      if (!REDIRECTS.has(res.status) || !location) return [res, current];
      await res.body?.cancel().catch(() => {});
      if (hop >= MAX_REDIRECTS) {
        throw new RegistryError(`too many redirects`, {
          status: res.status,
          url,
          package: options.package,
          hint: "Check the registry URL in .npmrc or --registry.",
        });
      }
      current = new URL(location, current).href;
    }
  }

  /** Credentials from the URL itself (user:pass@) win; otherwise the nerf-dart match. */
  #authorize(url: string): { href: string; authorization?: string } {
    const u = new URL(url);
    if (u.username || u.password) {
      const basic = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
      u.username = "";
      u.password = "";
      return { href: u.href, authorization: `Basic ${btoa(basic)}` };
    }
    return { href: url, authorization: credentialFor(this.config, url)?.header() };
  }

  /** Wrap the body: stall timer per read, truncation check, slot released at the end. */
  #watchBody(
    res: Response,
    url: string,
    options: GetOptions,
    release: () => void,
  ): Response {
    if (!res.body) {
      release();
      return res;
    }
    const reader = res.body.getReader();
    const encoding = res.headers.get("content-encoding");
    const lengthHeader = res.headers.get("content-length");
    // Content-Length counts encoded bytes; only compare it when the body is not decoded.
    const expected = lengthHeader && (!encoding || encoding === "identity")
      ? Number(lengthHeader)
      : undefined;
    let received = 0;
    const stallMs = this.stallTimeoutMs;
    const ctx = { url, package: options.package };

    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const stall = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new TransientFetchError(`no data from the registry for ${stallMs} ms`, ctx)),
            stallMs,
          );
        });
        try {
          const { done, value } = await Promise.race([reader.read(), stall]);
          if (done) {
            if (expected !== undefined && received < expected) {
              throw new TransientFetchError(`body ended after ${received} of ${expected} bytes`, ctx);
            }
            release();
            controller.close();
            return;
          }
          received += value.byteLength;
          controller.enqueue(value);
        } catch (err) {
          release();
          reader.cancel().catch(() => {});
          if (options.signal?.aborted) controller.error(options.signal.reason);
          else if (err instanceof TransientFetchError) controller.error(err);
          else {
            controller.error(
              new TransientFetchError(
                `connection failed while reading the body: ${(err as Error)?.message}`,
                {
                  ...ctx,
                  cause: err,
                },
              ),
            );
          }
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        release();
        return reader.cancel(reason).catch(() => {});
      },
    }, { highWaterMark: 0 });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  }
}

/** The error for a non-2xx, non-redirect answer: transient for 429/5xx, else final. */
function statusError(res: Response, url: string, pkg: string | undefined, sentAuth: boolean): Error {
  const status = res.status;
  if (status === 429 || status >= 500) {
    return new TransientFetchError(`HTTP ${status} ${res.statusText}`.trim(), {
      status,
      url,
      package: pkg,
      retryAfterMs: parseRetryAfter(res.headers.get("retry-after")),
    });
  }
  let host = url;
  try {
    host = nerfDart(url);
  } catch { /* keep the URL */ }
  const hint = status === 404
    ? "Check the lockfile entry (name, version, resolved URL) or the registry: is this version published there? " +
      "A private package may need an @scope:registry line in .npmrc."
    : status === 401 || status === 403
    ? sentAuth
      ? `Check the auth token for ${host} in .npmrc: the registry rejected it.`
      : `Check the auth token for ${host}: none is configured; add "${host}:_authToken=..." to .npmrc.`
    : "The registry refused the request; check the URL and the registry configuration.";
  return new RegistryError(`HTTP ${status}${res.statusText ? ` ${res.statusText}` : ""}`, {
    status,
    url,
    package: pkg,
    hint,
  });
}

function exhausted(err: Error, url: string, pkg: string | undefined, attempts: number): RegistryError {
  const status = err instanceof TransientFetchError ? err.status : 0;
  let origin = url;
  try {
    origin = new URL(url).origin;
  } catch { /* keep the URL */ }
  const hint = status === 429
    ? "The registry is rate-limiting; try again later or lower the concurrency."
    : status >= 500
    ? "The registry is failing; try again later or use another registry (--registry)."
    : `Check the network connection and that ${origin} is reachable.`;
  return new RegistryError(`failed after ${attempts} attempts: ${err.message}`, {
    status,
    url,
    package: pkg,
    hint,
    cause: err,
  });
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** setTimeout as a promise that an AbortSignal can cut short. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
