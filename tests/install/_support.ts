/**
 * Install tests' fixtures: tiny packages built in memory, served by the loopback registry, and a
 * package-lock.json v3 project that names them (every package at the top level).
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { createContainer, T } from "../../src/container/app.ts";
import type { Container } from "../../src/container/container.ts";
import { resolveNpmConfig } from "../../src/fetch/npmrc.ts";
import { RegistryClient } from "../../src/fetch/registry.ts";
import { type RegistryServer, startRegistry } from "../support/registry_server.ts";
import { type Entry, sri, tgzOf } from "../support/tarball.ts";
import { tempDir } from "../support/store.ts";

/** One package of a test project. */
export interface PkgSpec {
  name: string;
  version?: string;
  /** Files besides package.json (path -> content). */
  files?: Record<string, string>;
  /** Executable files (path -> content). */
  execFiles?: Record<string, string>;
  /** Its own dependencies (name -> version), also top-level packages of the project. */
  deps?: Record<string, string>;
  scripts?: Record<string, string>;
  bin?: Record<string, string>;
  /** A devDependency of the root. */
  dev?: boolean;
  /** Not a direct dependency of the root (only reached through another package). */
  transitive?: boolean;
  /** An optionalDependency of the root. */
  optional?: boolean;
  /** More package.json fields (only in the tarball and packument: the lockfile entry does not copy them). */
  manifest?: Record<string, unknown>;
}

/** A project, its registry, store and client; `close()` removes all of it. */
export interface TestProject {
  server: RegistryServer;
  projectDir: string;
  storeDir: string;
  c: Container;
  client: RegistryClient;
  /** Tarball path on the registry of a package ("/a/-/a-1.0.0.tgz"). */
  tarballPath(name: string): string;
  /** The files of a package as the tarball has them, package.json included. */
  filesOf(name: string): string[];
  close(): Promise<void>;
}

/** The package.json a spec produces. */
function manifestOf(spec: PkgSpec): Record<string, unknown> {
  return {
    name: spec.name,
    version: spec.version ?? "1.0.0",
    ...(spec.deps ? { dependencies: spec.deps } : {}),
    ...(spec.scripts ? { scripts: spec.scripts } : {}),
    ...(spec.bin ? { bin: spec.bin } : {}),
    ...spec.manifest,
  };
}

/** The .tgz of a spec. */
export function tarballOf(spec: PkgSpec): Promise<Uint8Array> {
  const entries: Entry[] = [
    ...Object.entries(spec.files ?? {}).map(([p, content]) => ({ name: `package/${p}`, content })),
    ...Object.entries(spec.execFiles ?? {}).map(([p, content]) => ({
      name: `package/${p}`,
      content,
      mode: 0o755,
    })),
    { name: "package/package.json", content: JSON.stringify(manifestOf(spec), null, 2) },
  ];
  return tgzOf(entries);
}

/**
 * Start a registry serving `specs`, write a project whose package-lock.json names them, and open a
 * fresh store. `dirs` puts the store and the project somewhere else than a new temp dir.
 */
export async function makeProject(
  specs: PkgSpec[],
  dirs: { root?: string; storeDir?: string; projectDir?: string } = {},
): Promise<TestProject> {
  const root = dirs.root ?? tempDir("silo-install-");
  const storeDir = dirs.storeDir ?? path.join(root, "store");
  const projectDir = dirs.projectDir ?? path.join(root, "project");
  fs.mkdirSync(projectDir, { recursive: true });
  const server = await startRegistry();
  const tarballs = new Map<string, Uint8Array>();
  for (const spec of specs) {
    const tgz = await tarballOf(spec);
    tarballs.set(spec.name, tgz);
    server.add({ name: spec.name, version: spec.version ?? "1.0.0", tgz, manifest: manifestOf(spec) });
  }
  const base = (name: string) => name.startsWith("@") ? name.slice(name.indexOf("/") + 1) : name;
  const tarballPath = (name: string) => {
    const spec = specs.find((s) => s.name === name)!;
    return `/${name}/-/${base(name)}-${spec.version ?? "1.0.0"}.tgz`;
  };

  const direct = specs.filter((s) => !s.transitive);
  const pick = (dev: boolean, optional = false) =>
    Object.fromEntries(
      direct.filter((s) => !!s.dev === dev && !!s.optional === optional).map((
        s,
      ) => [s.name, s.version ?? "1.0.0"]),
    );
  const optionalDependencies = pick(false, true);
  const roots = {
    dependencies: pick(false),
    devDependencies: pick(true),
    ...(Object.keys(optionalDependencies).length > 0 ? { optionalDependencies } : {}),
  };
  // Dev-ness as npm records it: only reachable from devDependencies.
  const prodReach = new Set<string>();
  const visit = (name: string) => {
    if (prodReach.has(name)) return;
    prodReach.add(name);
    for (const d of Object.keys(specs.find((s) => s.name === name)?.deps ?? {})) visit(d);
  };
  for (const s of direct) if (!s.dev) visit(s.name);
  const packages: Record<string, unknown> = {
    "": { name: "app", version: "1.0.0", ...roots },
  };
  for (const spec of specs) {
    packages[`node_modules/${spec.name}`] = {
      version: spec.version ?? "1.0.0",
      resolved: `${server.url}${tarballPath(spec.name).slice(1)}`,
      integrity: sri(tarballs.get(spec.name)!),
      ...(prodReach.has(spec.name) ? {} : { dev: true }),
      ...(spec.optional ? { optional: true } : {}),
      ...(spec.deps ? { dependencies: spec.deps } : {}),
      ...(spec.bin ? { bin: spec.bin } : {}),
      ...(spec.scripts?.postinstall || spec.scripts?.install || spec.scripts?.preinstall
        ? { hasInstallScript: true }
        : {}),
    };
  }
  fs.writeFileSync(
    path.join(projectDir, "package.json"),
    JSON.stringify({ name: "app", version: "1.0.0", ...roots }),
  );
  fs.writeFileSync(
    path.join(projectDir, "package-lock.json"),
    JSON.stringify({ name: "app", version: "1.0.0", lockfileVersion: 3, requires: true, packages }, null, 2),
  );

  const c = await createContainer({ storeDir });
  const client = new RegistryClient({
    config: resolveNpmConfig([new Map([["registry", server.url]])]),
    maxAttempts: 2,
    backoffBaseMs: 0,
  });
  return {
    server,
    projectDir,
    storeDir,
    c,
    client,
    tarballPath,
    filesOf: (name) => {
      const spec = specs.find((s) => s.name === name)!;
      return ["package.json", ...Object.keys(spec.files ?? {}), ...Object.keys(spec.execFiles ?? {})];
    },
    async close() {
      await server.close();
      try {
        c.get(T.index).close();
      } catch { /* already closed */ }
      fs.rmSync(root, { recursive: true, force: true });
      if (dirs.storeDir) fs.rmSync(storeDir, { recursive: true, force: true });
      if (dirs.projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
    },
  };
}

/** A promise and its resolver, to wait for an event a callback reports. */
export function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Change a JSON file (a project's package-lock.json or package.json) in place. */
// deno-lint-ignore no-explicit-any -- tests edit lockfile JSON of any shape
export function editJson(file: string, edit: (doc: Record<string, any>) => void): void {
  const doc = JSON.parse(fs.readFileSync(file, "utf8"));
  edit(doc);
  fs.writeFileSync(file, JSON.stringify(doc));
}

/**
 * Make the npm project at `projectDir` depend on its folder `dir` as `file:<dir>`, recorded as npm does: a
 * link node `node_modules/<name>` and the folder's own entry (`entry`: its name, version, bin, ...).
 */
export function addFileFolder(
  projectDir: string,
  name: string,
  dir: string,
  entry: Record<string, unknown>,
): void {
  editJson(path.join(projectDir, "package-lock.json"), (lock) => {
    lock.packages[""].dependencies[name] = `file:${dir}`;
    lock.packages[`node_modules/${name}`] = { resolved: dir, link: true };
    lock.packages[dir] = { name, ...entry };
  });
  editJson(path.join(projectDir, "package.json"), (pkg) => void (pkg.dependencies[name] = `file:${dir}`));
}

/**
 * Turn the npm project at `projectDir` into one of another package manager: its package-lock.json goes,
 * and `files` (project-relative path -> text, or an object written as JSON) are written.
 */
export function replaceLockfile(projectDir: string, files: Record<string, string | object>): void {
  fs.rmSync(path.join(projectDir, "package-lock.json"));
  for (const [rel, content] of Object.entries(files)) {
    fs.writeFileSync(
      path.join(projectDir, rel),
      typeof content === "string" ? content : JSON.stringify(content),
    );
  }
}
