/**
 * Registry configuration loaded the way npm loads it: project `.npmrc`, then user `~/.npmrc`,
 * then `npm_config_registry`, then an explicit `--registry` (later sources win).
 *
 * Credentials are keyed by npm's "nerf dart" (`//host[:port]/path/`) and kept in
 * {@link Credential} objects whose secret never shows in `console.log`, `JSON.stringify` or
 * error messages.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** The public npm registry, npm's default. */
export const DEFAULT_REGISTRY = "https://registry.npmjs.org/";

/** Environment lookup; `process.env` by default. */
export type Env = Record<string, string | undefined>;

/**
 * Credentials for one registry prefix. The Authorization header value is held in a private
 * field so inspecting or serializing the config cannot leak it.
 *
 * @example
 * ```ts
 * const cred = config.credentialFor("https://npm.example.com/pkg/-/pkg-1.0.0.tgz");
 * if (cred) headers.set("authorization", cred.header());
 * ```
 */
export class Credential {
  /** The nerf dart this applies to: `//host[:port]/path/`. */
  readonly prefix: string;
  /** "bearer" for `_authToken`, "basic" for `_auth` or `username`+`_password`. */
  readonly kind: "bearer" | "basic";
  readonly #header: string;

  /** Build one from a nerf-dart prefix and an Authorization header value. */
  constructor(prefix: string, kind: "bearer" | "basic", header: string) {
    this.prefix = prefix;
    this.kind = kind;
    this.#header = header;
  }

  /** The Authorization header value. Send it; never print it. */
  header(): string {
    return this.#header;
  }

  /** Redacted form for logs. */
  toString(): string {
    return `Credential(${this.kind} for ${this.prefix})`;
  }

  /** Redacted form for JSON.stringify. */
  toJSON(): { prefix: string; kind: string } {
    return { prefix: this.prefix, kind: this.kind };
  }

  /** Redacted form for `console.log` and `util.inspect` (both runtimes honour this symbol). */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** The configuration silo needs from `.npmrc` files and the environment. */
export interface NpmConfig {
  /** Default registry, always ending in "/". */
  registry: string;
  /** Per-scope registries: `{ "@acme": "https://npm.acme.dev/" }`, each ending in "/". */
  scopes: Record<string, string>;
  /** Credentials, longest prefix first. */
  credentials: Credential[];
  /** Problems worth telling the user about (unset env vars, unreadable files); never secrets. */
  warnings: string[];
  /** Which files were read, in precedence order (lowest first). */
  files: string[];
}

/** Where {@link loadNpmConfig} reads from. Every field is optional. */
export interface LoadNpmConfigOptions {
  /** Project directory whose `.npmrc` is read; default `process.cwd()`. */
  projectDir?: string;
  /**
   * User config path; default `$npm_config_userconfig` or `~/.npmrc`.
   * `null` skips the user config (tests).
   */
  userConfig?: string | null;
  /** Environment for `${VAR}` substitution and `npm_config_*`; default `process.env`. */
  env?: Env;
  /** An explicit `--registry` override; wins over every file and env var. */
  registry?: string;
}

/**
 * Load the registry configuration like npm does.
 *
 * @example
 * ```ts
 * const config = await loadNpmConfig({ projectDir: "/app", registry: flags.registry });
 * console.log(config.registry); // credentials are redacted if printed
 * ```
 */
export function loadNpmConfig(options: LoadNpmConfigOptions = {}): Promise<NpmConfig> {
  const env = options.env ?? process.env;
  const warnings: string[] = [];
  const files: string[] = [];
  const layers: Array<Map<string, string>> = [];

  const userPath = options.userConfig === undefined ? userNpmrcPath(env) : options.userConfig;
  const projectPath = join(options.projectDir ?? process.cwd(), ".npmrc");

  // Lowest precedence first; a project file that is also the user file is read once.
  const paths = userPath === null || userPath === projectPath ? [projectPath] : [userPath, projectPath];
  for (const path of paths) {
    const text = readOptional(path, warnings);
    if (text === undefined) continue;
    files.push(path);
    layers.push(parseNpmrc(text, env, { warnings, source: path }));
  }

  const envRegistry = getEnv(env, "npm_config_registry");
  if (envRegistry) layers.push(new Map([["registry", envRegistry]]));
  if (options.registry) layers.push(new Map([["registry", options.registry]]));

  return Promise.resolve(resolveNpmConfig(layers, { warnings, files }));
}

/**
 * Turn parsed key/value layers (lowest precedence first) into an {@link NpmConfig}.
 * Exposed so callers with config from elsewhere can reuse the rules.
 *
 * @example
 * ```ts
 * const config = resolveNpmConfig([parseNpmrc("registry=http://127.0.0.1:4873/", {})]);
 * ```
 */
export function resolveNpmConfig(
  layers: Array<Map<string, string>>,
  extra: { warnings?: string[]; files?: string[] } = {},
): NpmConfig {
  const merged = new Map<string, string>();
  for (const layer of layers) for (const [k, v] of layer) merged.set(k, v);

  const registry = normalizeRegistry(merged.get("registry") ?? DEFAULT_REGISTRY);
  const scopes: Record<string, string> = {};
  // Per-prefix auth fields, gathered before building credentials.
  const auth = new Map<string, Partial<Record<AuthField, string>>>();

  for (const [key, value] of merged) {
    const scoped = /^(@[^:/]+):registry$/.exec(key);
    if (scoped) {
      scopes[scoped[1]] = normalizeRegistry(value);
      continue;
    }
    const nerfed = /^(\/\/.+?):(_authToken|_auth|username|_password)$/.exec(key);
    if (nerfed) {
      // Hosts compare case-insensitively, as URL parsing lowercases them.
      const dart = nerfed[1].replace(/^\/\/[^/]+/, (host) => host.toLowerCase());
      const prefix = dart.endsWith("/") ? dart : `${dart}/`;
      const entry = auth.get(prefix) ?? {};
      entry[nerfed[2] as AuthField] = value;
      auth.set(prefix, entry);
      continue;
    }
    // Legacy unscoped auth belongs to the default registry, as `npm config fix` rewrites it.
    if (key === "_authToken" || key === "_auth" || key === "username" || key === "_password") {
      const prefix = nerfDart(registry);
      const entry = auth.get(prefix) ?? {};
      entry[key] ??= value;
      auth.set(prefix, entry);
    }
  }

  const credentials: Credential[] = [];
  for (const [prefix, fields] of auth) {
    if (fields._authToken) {
      credentials.push(new Credential(prefix, "bearer", `Bearer ${fields._authToken}`));
    } else if (fields._auth) {
      credentials.push(new Credential(prefix, "basic", `Basic ${fields._auth}`));
    } else if (fields.username && fields._password) {
      // npm stores _password base64-encoded; the header wants base64("user:plain").
      const password = decodeBase64(fields._password);
      credentials.push(
        new Credential(prefix, "basic", `Basic ${encodeBase64(`${fields.username}:${password}`)}`),
      );
    }
  }
  credentials.sort((a, b) => b.prefix.length - a.prefix.length);

  return { registry, scopes, credentials, warnings: extra.warnings ?? [], files: extra.files ?? [] };
}

type AuthField = "_authToken" | "_auth" | "username" | "_password";

/**
 * Parse `.npmrc` text (npm's ini dialect) into key/value pairs, with `${VAR}` substituted in
 * keys and values. `;` and `#` start comment lines; `[section]` headers are ignored;
 * double-quoted values are JSON-decoded; `${VAR?}` becomes "" when unset, `${VAR}` stays
 * literal (as npm does) and adds a warning. A `key[]=value` line sets `key`; every such value, in order,
 * also lands in `options.lists` (pnpm's array settings, e.g. `public-hoist-pattern[]`).
 *
 * @example
 * ```ts
 * parseNpmrc("//npm.acme.dev/:_authToken=${TOKEN}\n", { TOKEN: "t" });
 * // Map { "//npm.acme.dev/:_authToken" => "t" }
 * ```
 */
export function parseNpmrc(
  text: string,
  env: Env,
  options: { warnings?: string[]; source?: string; lists?: Map<string, string[]> } = {},
): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    if (line.startsWith("[") && line.endsWith("]")) continue;
    const eq = line.indexOf("=");
    const rawKey = (eq === -1 ? line : line.slice(0, eq)).trim();
    let rawValue = eq === -1 ? "true" : line.slice(eq + 1).trim();
    if (rawValue.length >= 2 && rawValue.startsWith('"') && rawValue.endsWith('"')) {
      try {
        rawValue = JSON.parse(rawValue);
      } catch { /* keep as written, as ini does */ }
    } else {
      rawValue = stripInlineComment(rawValue);
    }
    const where = options.source ? `${options.source}:${i + 1}` : `line ${i + 1}`;
    const key = substituteEnv(rawKey, env, options.warnings, where);
    const value = substituteEnv(rawValue, env, options.warnings, where);
    if (key.endsWith("[]")) {
      const name = key.slice(0, -2);
      out.set(name, value);
      const list = options.lists?.get(name);
      if (list) list.push(value);
      else options.lists?.set(name, [value]);
    } else out.set(key, value);
  }
  return out;
}

/** Like the `ini` package npm uses: an unescaped `;` or `#` ends the value; a backslash escapes them. */
function stripInlineComment(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && i + 1 < value.length && "\\;#".includes(value[i + 1])) {
      out += value[++i];
    } else if (c === ";" || c === "#") {
      break;
    } else {
      out += c;
    }
  }
  return out.trim();
}

/**
 * Replace `${VAR}` with its value from `env`, like npm: `\${VAR}` escapes, `${VAR?}` is ""
 * when unset, and an unset `${VAR}` stays literal.
 *
 * @example
 * ```ts
 * substituteEnv("${HOME}/x", { HOME: "/root" }); // "/root/x"
 * ```
 */
export function substituteEnv(text: string, env: Env, warnings?: string[], where = ""): string {
  return text.replace(
    /(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}/g,
    (orig, esc: string, name: string, opt?: string) => {
      // An odd number of backslashes escapes the expression; keep it literal minus one escape.
      if (esc.length % 2) return orig.slice((esc.length + 1) / 2);
      const val = getEnv(env, name);
      if (val === undefined && !opt) {
        warnings?.push(
          `${where ? `${where}: ` : ""}environment variable ${name} is not set; left as \${${name}}`,
        );
      }
      return esc.slice(esc.length / 2) + (val ?? (opt ? "" : `\${${name}}`));
    },
  );
}

/**
 * npm's "nerf dart" of a URL: `//host[:port]/dir/`, the key credentials are stored under.
 *
 * @example
 * ```ts
 * nerfDart("https://npm.acme.dev/api/npm/pkg"); // "//npm.acme.dev/api/npm/"
 * ```
 */
export function nerfDart(url: string): string {
  const u = new URL(url);
  const rel = new URL(".", `${u.protocol}//${u.host}${u.pathname}`);
  return `//${rel.host}${rel.pathname}`;
}

/** A registry URL with exactly one trailing slash. */
export function normalizeRegistry(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

/**
 * The user's `.npmrc`: `$npm_config_userconfig`, else `~/.npmrc`.
 *
 * @example
 * ```ts
 * userNpmrcPath({ npm_config_userconfig: "/etc/ci.npmrc" }); // "/etc/ci.npmrc"
 * ```
 */
export function userNpmrcPath(env: Env = process.env): string {
  return getEnv(env, "npm_config_userconfig") ?? join(homedir(), ".npmrc");
}

/** Env lookup that also tries the upper-case name (npm accepts both spellings). */
function getEnv(env: Env, name: string): string | undefined {
  return env[name] ?? env[name.toUpperCase()] ?? undefined;
}

// Sync: two small files, read while the install workers start; an async read's round trip through the
// runtime's thread pool cost more wall time then than the read itself.
function readOptional(path: string, warnings: string[]): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") {
      warnings.push(`could not read ${path}: ${(err as Error).message}`);
    }
    return undefined;
  }
}

function encodeBase64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

function decodeBase64(b64: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  } catch {
    return b64; // not base64: npm would fail later; sending it as given is the kinder guess
  }
}

/**
 * The credential for `url`, by npm's rule: the longest configured `//host[:port]/path/` prefix
 * of the URL's nerf dart. Host and port must match exactly, so a token never goes to another
 * host (127.0.0.1 and localhost are different hosts).
 *
 * @example
 * ```ts
 * credentialFor(config, "https://npm.acme.dev/@acme/a/-/a-1.0.0.tgz")?.header();
 * ```
 */
export function credentialFor(config: Pick<NpmConfig, "credentials">, url: string): Credential | undefined {
  let dart: string;
  try {
    dart = nerfDart(url);
  } catch {
    return undefined;
  }
  // credentials are sorted longest first; every prefix ends in "/", so matching is per segment.
  return config.credentials.find((c) => dart.startsWith(c.prefix));
}
