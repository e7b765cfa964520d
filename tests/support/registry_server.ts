/**
 * A loopback npm registry for tests and benchmarks, on `node:http` so it runs on Deno, Bun
 * and Node alike. It serves packuments at `/<name>` (and `/@scope%2fname`) and tarballs at
 * `/<name>/-/<basename>-<version>.tgz`, from a mirror directory written by
 * `scripts/mirror.ts` and/or from in-memory packages. Tests can script failures per path
 * (404, 500, truncated or reset bodies, stalls), hold responses until released, and read
 * request counts and headers.
 *
 * Mirror layout (see scripts/mirror.ts):
 * ```
 * DIR/<name>/packument.json               full packument as the public registry served it
 * DIR/<name>/-/<basename>-<version>.tgz   tarballs, path as on the public registry
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";

/** A package served from memory. */
export interface MemoryPackage {
  name: string;
  version: string;
  /** The .tgz bytes. */
  tgz: Uint8Array;
  /** Extra manifest fields for the packument (dependencies, bin, ...). */
  manifest?: Record<string, unknown>;
}

/**
 * What the server does with one request to a scripted path:
 * a number answers with that status; "truncate" sends half the body then ends the
 * connection; "reset" sends half then destroys the socket; "short" sends half as a complete
 * response (no content-length: only the tarball's own bytes show it is cut); "stall" sends headers
 * and half the body, then nothing more; "stall-headers" sends nothing at all; "ok" serves normally;
 * `{ redirect }` answers 302 to that URL.
 */
export type Behaviour = number | "truncate" | "reset" | "short" | "stall" | "stall-headers" | "ok" | {
  redirect: string;
};

/** One request as the server saw it. */
export interface RequestRecord {
  method: string;
  /** Decoded path without the query, e.g. "/@scope/name" or "/ms/-/ms-2.1.3.tgz". */
  path: string;
  /** The Authorization header, if any (test tokens only: this is a test server). */
  authorization?: string;
  accept?: string;
  /** The Host header, e.g. "localhost:4873". */
  host?: string;
}

/** Options for {@link startRegistry}. */
export interface StartRegistryOptions {
  /** Mirror directory to serve from. */
  dir?: string;
  /** In-memory packages, served before the mirror. */
  packages?: MemoryPackage[];
  /** Port to bind on 127.0.0.1; default 0 (any free port). */
  port?: number;
  /** Keep per-request records in `log`; default true. Benchmarks may turn it off. */
  log?: boolean;
}

/** A running loopback registry. */
export interface RegistryServer {
  /** "http://127.0.0.1:PORT/" */
  url: string;
  port: number;
  /** Stop: releases holds, ends stalls, closes every connection. */
  close(): Promise<void>;
  /** Requests per decoded path. */
  requests: Map<string, number>;
  /** Every request, in arrival order (when logging is on). */
  log: RequestRecord[];
  /** Total requests so far. */
  total(): number;
  /** Requests being answered right now, and the most at once so far. */
  inFlight(): number;
  maxInFlight(): number;
  /** Make matching requests wait until the returned function is called. */
  hold(match: string | ((path: string) => boolean)): () => void;
  /** Answer the next requests to `path` with these behaviours in order, then normally. */
  script(path: string, behaviours: Behaviour[]): void;
  /** Resolve once `n` requests (to `path`, if given) have arrived. */
  waitForRequests(n: number, path?: string): Promise<void>;
  /** Add an in-memory package. */
  add(pkg: MemoryPackage): void;
}

interface Version {
  tgz: Uint8Array;
  manifest: Record<string, unknown>;
}

/**
 * Start a registry on 127.0.0.1.
 *
 * @example
 * ```ts
 * const server = await startRegistry({ packages: [{ name: "a", version: "1.0.0", tgz }] });
 * server.script("/a/-/a-1.0.0.tgz", [500, "truncate"]);
 * // ... point a client at server.url ...
 * await server.close();
 * ```
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RegistryServer> {
  const memory = new Map<string, Map<string, Version>>();
  const requests = new Map<string, number>();
  const log: RequestRecord[] = [];
  const scripts = new Map<string, Behaviour[]>();
  const holds: Array<{ match: (path: string) => boolean; waiters: Array<() => void> }> = [];
  const waits: Array<{ n: number; path?: string; resolve: () => void }> = [];
  const sockets = new Set<Socket>();
  const stalled = new Set<ServerResponse>();
  const packumentCache = new Map<string, { full: Uint8Array; corgi?: Uint8Array }>();
  let total = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let url = "";

  const add = (pkg: MemoryPackage) => {
    const versions = memory.get(pkg.name) ?? new Map<string, Version>();
    versions.set(pkg.version, { tgz: pkg.tgz, manifest: pkg.manifest ?? {} });
    memory.set(pkg.name, versions);
    packumentCache.delete(pkg.name);
  };
  for (const pkg of options.packages ?? []) add(pkg);

  const count = (path: string) => {
    total++;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    for (const w of waits.slice()) {
      if ((w.path === undefined ? total : requests.get(w.path) ?? 0) >= w.n) {
        waits.splice(waits.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const waitForHold = (path: string): Promise<void> | undefined => {
    const hold = holds.find((h) => h.match(path));
    if (!hold) return undefined;
    return new Promise((resolve) => hold.waiters.push(resolve));
  };

  const memoryPackument = (name: string): Uint8Array | undefined => {
    const versions = memory.get(name);
    if (!versions) return undefined;
    const base = name.startsWith("@") ? name.slice(name.indexOf("/") + 1) : name;
    const out: Record<string, unknown> = {};
    const time: Record<string, string> = {
      created: "2020-01-01T00:00:00.000Z",
      modified: "2020-01-01T00:00:00.000Z",
    };
    let latest = "";
    for (const [version, v] of versions) {
      out[version] = {
        name,
        version,
        ...v.manifest,
        dist: {
          tarball: `${url}${name}/-/${base}-${version}.tgz`,
          integrity: `sha512-${createHash("sha512").update(v.tgz).digest("base64")}`,
          shasum: createHash("sha1").update(v.tgz).digest("hex"),
        },
      };
      time[version] = "2020-01-01T00:00:00.000Z";
      latest = version; // insertion order: the last one added is "latest"
    }
    return new TextEncoder().encode(JSON.stringify({ name, "dist-tags": { latest }, versions: out, time }));
  };

  const packument = async (name: string, corgi: boolean): Promise<Uint8Array | undefined> => {
    let cached = packumentCache.get(name);
    if (!cached) {
      let full = memoryPackument(name);
      if (!full && options.dir) {
        const text = await readOptional(join(options.dir, name, "packument.json"));
        // Point tarball URLs back at this server, as a real mirror would.
        if (text) full = new TextEncoder().encode(rewriteRegistry(new TextDecoder().decode(text), url));
      }
      if (!full) return undefined;
      cached = { full };
      packumentCache.set(name, cached);
    }
    if (!corgi) return cached.full;
    cached.corgi ??= new TextEncoder().encode(
      JSON.stringify(abbreviate(JSON.parse(new TextDecoder().decode(cached.full)))),
    );
    return cached.corgi;
  };

  const tarball = async (name: string, file: string): Promise<Uint8Array | undefined> => {
    const versions = memory.get(name);
    if (versions) {
      const base = name.startsWith("@") ? name.slice(name.indexOf("/") + 1) : name;
      for (const [version, v] of versions) if (file === `${base}-${version}.tgz`) return v.tgz;
    }
    if (!options.dir || file.includes("/") || file.startsWith(".")) return undefined;
    return await readOptional(join(options.dir, name, "-", file));
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const held = waitForHold(path);
    if (held) await held;

    const behaviour = scripts.get(path)?.shift() ?? "ok";
    if (behaviour === "stall-headers") {
      stalled.add(res);
      return;
    }
    if (typeof behaviour === "object") {
      res.writeHead(302, { location: behaviour.redirect, "content-length": "0" });
      res.end();
      return;
    }
    if (typeof behaviour === "number") {
      res.writeHead(behaviour, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: `scripted ${behaviour}` }));
      return;
    }

    // Never serve outside the tree: no "..", no empty segments.
    const segments = path.split("/").slice(1);
    if (segments.some((s) => s === ".." || s === "." || s === "")) return notFound(res);
    let body: Uint8Array | undefined;
    let type = "application/octet-stream";
    const dash = path.indexOf("/-/");
    if (dash !== -1) {
      body = await tarball(path.slice(1, dash), path.slice(dash + 3));
    } else {
      const accept = req.headers.accept ?? "";
      body = await packument(path.slice(1), accept.includes("application/vnd.npm.install-v1+json"));
      type = "application/json";
    }
    if (!body) return notFound(res);

    if (behaviour === "short") {
      res.writeHead(200, { "content-type": type });
      return void res.end(body.subarray(0, Math.floor(body.byteLength / 2)));
    }
    res.writeHead(200, { "content-type": type, "content-length": String(body.byteLength) });
    if (req.method === "HEAD") return void res.end();
    if (behaviour === "ok") return void res.end(body);
    // Failure modes send a real prefix of the body first, as a broken proxy would.
    res.write(body.subarray(0, Math.floor(body.byteLength / 2)));
    if (behaviour === "stall") {
      stalled.add(res);
    } else if (behaviour === "truncate") {
      res.socket?.end();
    } else if (behaviour === "reset") {
      const socket = res.socket as Socket & { resetAndDestroy?: () => void } | null;
      if (socket?.resetAndDestroy) socket.resetAndDestroy();
      else socket?.destroy();
    }
  };

  const server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    count(path);
    if (options.log !== false) {
      log.push({
        method: req.method ?? "GET",
        path,
        authorization: req.headers.authorization,
        accept: req.headers.accept,
        host: req.headers.host,
      });
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      inFlight--;
      stalled.delete(res);
    };
    res.on("close", done);
    res.on("finish", done);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
      return;
    }
    serve(req, res, path).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(err));
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // Many clients open more connections than node's default backlog expects on a burst.
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}/`;

  return {
    url,
    port,
    requests,
    log,
    total: () => total,
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    add,
    hold(match) {
      const entry = {
        match: typeof match === "string" ? (p: string) => p === match : match,
        waiters: [] as Array<() => void>,
      };
      holds.push(entry);
      return () => {
        const i = holds.indexOf(entry);
        if (i !== -1) holds.splice(i, 1);
        for (const w of entry.waiters.splice(0)) w();
      };
    },
    script(path, behaviours) {
      scripts.set(path, [...(scripts.get(path) ?? []), ...behaviours]);
    },
    waitForRequests(n, path) {
      if ((path === undefined ? total : requests.get(path) ?? 0) >= n) return Promise.resolve();
      return new Promise((resolve) => waits.push({ n, path, resolve }));
    },
    async close() {
      for (const h of holds.splice(0)) for (const w of h.waiters.splice(0)) w();
      for (const res of stalled) res.destroy();
      stalled.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: "Not found" }));
}

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    return undefined;
  }
}

/** Replace the public registry's origin in a packument's text with `url`. */
export function rewriteRegistry(text: string, url: string): string {
  return text.replaceAll("https://registry.npmjs.org/", url).replaceAll("http://registry.npmjs.org/", url);
}

const CORGI_FIELDS = [
  "name",
  "version",
  "dependencies",
  "optionalDependencies",
  "devDependencies",
  "peerDependencies",
  "peerDependenciesMeta",
  "bundleDependencies",
  "bundledDependencies",
  "acceptDependencies",
  "bin",
  "directories",
  "dist",
  "engines",
  "cpu",
  "os",
  "libc",
  "deprecated",
  "funding",
  "license",
  "_hasShrinkwrap",
  "hasInstallScript",
];

/** The abbreviated ("corgi") packument npm and pnpm ask for, derived from the full one. */
export function abbreviate(full: Record<string, unknown>): Record<string, unknown> {
  const versions: Record<string, unknown> = {};
  for (
    const [v, manifest] of Object.entries((full.versions ?? {}) as Record<string, Record<string, unknown>>)
  ) {
    const out: Record<string, unknown> = {};
    for (const f of CORGI_FIELDS) if (manifest[f] !== undefined) out[f] = manifest[f];
    const scripts = manifest.scripts as Record<string, unknown> | undefined;
    if (
      out.hasInstallScript === undefined && scripts &&
      (scripts.install || scripts.preinstall || scripts.postinstall)
    ) {
      out.hasInstallScript = true;
    }
    versions[v] = out;
  }
  const time = full.time as Record<string, string> | undefined;
  return {
    name: full.name,
    "dist-tags": full["dist-tags"],
    versions,
    modified: time?.modified ?? new Date(0).toISOString(),
  };
}
