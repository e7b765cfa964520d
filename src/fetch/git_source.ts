/**
 * Git dependencies: the tree of the commit a lockfile pins, in a folder. npm records the repository and
 * commit (`resolved: "git+ssh://git@github.com/u/r.git#<sha>"`), pnpm either that (`{type: git, repo,
 * commit, path}`) or the archive a git host serves for the commit (`{tarball:
 * https://codeload.github.com/u/r/tar.gz/<sha>}`). As npm's pacote and pnpm do, a host's archive is
 * fetched over HTTPS when there is one, and the repository is cloned with `git` when there is none or the
 * host refuses it (a private repository). The caller stores what `npm pack` would publish from the folder.
 *
 * @module
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import hostedGitInfo from "hosted-git-info";
import { gunzipWhole } from "../runtime/gunzip.ts";
import type { Resolution } from "../lockfile/graph.ts";
import { entryPath, parseIntegrity, TarballError } from "./tar_ingest.ts";
import { readTar } from "./tar_reader.ts";

/** A git dependency's resolution. */
export type GitResolution = Extract<Resolution, { kind: "git" }>;

/** The part of hosted-git-info (which ships no types) silo uses. */
interface HostedGit {
  tarball(): string | undefined;
  https(options: { noGitPlus: boolean; noCommittish: boolean }): string | undefined;
}
const { fromUrl } = hostedGitInfo as unknown as { fromUrl(url: string): HostedGit | undefined };

/**
 * The HTTPS archive of the pinned commit, when the repository is on a host that serves one (GitHub, GitLab,
 * Bitbucket, Sourcehut: hosted-git-info's list, as npm uses it).
 *
 * @example
 * ```ts
 * gitArchiveUrl({ kind: "git", repo: "git+ssh://git@github.com/u/r.git", commit: "4c8f2a1" });
 * // "https://codeload.github.com/u/r/tar.gz/4c8f2a1"
 * ```
 */
export function gitArchiveUrl(r: GitResolution): string | undefined {
  if (r.archive) return r.archive;
  if (!r.repo || !r.commit) return undefined;
  return fromUrl(`${r.repo}#${r.commit}`)?.tarball();
}

/**
 * The URLs `git` can clone the repository from, in the order to try: the lockfile's own (without npm's
 * `git+` prefix), then the host's HTTPS one (a `git+ssh` URL needs a key even for a public repository).
 *
 * @example
 * ```ts
 * gitRemotes("git+ssh://git@github.com/u/r.git"); // ["ssh://git@github.com/u/r.git", "https://github.com/u/r.git"]
 * ```
 */
export function gitRemotes(repo: string): string[] {
  const own = repo.replace(/^git\+/, "");
  const https = fromUrl(repo)?.https({ noGitPlus: true, noCommittish: true });
  return [...new Set([/^[a-z][a-z0-9+.-]*:/i.test(own) ? own : https ?? own, ...(https ? [https] : [])])];
}

/** How {@linkcode fetchGitTree} downloads an archive: a GET whose body it reads whole. */
export type ArchiveDownload = (url: string) => Promise<Uint8Array>;

/** An archive larger than this (compressed) is refused: no package's repository snapshot comes near it. */
const ARCHIVE_MAX_BYTES = 512 * 1024 * 1024;

/**
 * Put the tree of the pinned commit into the empty folder `into` and return the package's folder in it
 * (`r.path`, pnpm's `#path:` for a package inside a monorepo, else `into` itself).
 */
export async function fetchGitTree(
  r: GitResolution,
  into: string,
  options: { label: string; download: ArchiveDownload; offline?: boolean },
): Promise<string> {
  const { label } = options;
  const archive = gitArchiveUrl(r);
  const remotes = r.repo ? gitRemotes(r.repo) : [];
  if (options.offline) {
    throw new Error(
      `${label} is a git dependency not in the store, and --offline forbids fetching it; run once without --offline`,
    );
  }
  let archiveError: unknown;
  if (archive) {
    try {
      const bytes = await options.download(archive);
      if (r.integrity) checkIntegrity(bytes, r.integrity, label, archive);
      extractArchive(bytes, into, label);
      return packageFolder(into, r.path, label);
    } catch (error) {
      // A private repository's archive is refused (404): clone it instead, as npm does. A tarball that is
      // not what the lockfile says is not retried another way.
      if (error instanceof TarballError || remotes.length === 0 || !r.commit) throw error;
      archiveError = error;
      fs.rmSync(into, { recursive: true, force: true });
      fs.mkdirSync(into);
    }
  }
  if (!r.commit || remotes.length === 0) {
    throw new Error(
      `${label}: the lockfile pins no commit of ${
        r.repo ?? "its repository"
      }; reinstall it with your package manager`,
    );
  }
  await cloneCommit(remotes, r.commit, into, label, archiveError);
  return packageFolder(into, r.path, label);
}

/** The folder of the package inside the fetched tree; refuses a `path` that leaves it or has no package.json. */
function packageFolder(root: string, sub: string | undefined, label: string): string {
  const dir = path.resolve(root, `.${path.sep}${sub ?? ""}`);
  if (dir !== root && !dir.startsWith(root + path.sep)) {
    throw new Error(`${label}: the lockfile's path "${sub}" leaves the repository; refusing it`);
  }
  if (!fs.existsSync(path.join(dir, "package.json"))) {
    throw new Error(
      `${label}: the pinned commit has no package.json${sub ? ` in ${sub}` : ""}, so it is not a package`,
    );
  }
  return dir;
}

function checkIntegrity(bytes: Uint8Array, integrity: string, label: string, url: string): void {
  const sri = parseIntegrity(integrity);
  if (!sri) {
    throw new TarballError(
      "integrity",
      label,
      `unsupported integrity "${integrity}" (silo checks sha512 and sha1)`,
    );
  }
  const actual = createHash(sri.algorithm).update(bytes).digest("base64");
  if (actual !== sri.digest) {
    throw new TarballError(
      "integrity",
      label,
      `the archive at ${url} does not match the lockfile's integrity (${sri.algorithm}-${actual}); the host ` +
        "may have re-created it: reinstall the dependency with your package manager to record the new one",
    );
  }
}

/**
 * Unpack a host's .tar.gz of a commit into `into`: its one top folder stripped, regular files and folders
 * only (symlinks are not packed by npm either), every path checked as a package tarball's is.
 */
function extractArchive(bytes: Uint8Array, into: string, label: string): void {
  if (bytes.length > ARCHIVE_MAX_BYTES) {
    throw new TarballError("too-large", label, `the repository archive is over ${ARCHIVE_MAX_BYTES} bytes`);
  }
  let tar: Uint8Array;
  try {
    tar = gunzipWhole(bytes, ARCHIVE_MAX_BYTES * 8);
  } catch (error) {
    throw new TarballError("corrupt", label, `the repository archive is not a .tar.gz (${error})`, {
      cause: error,
    });
  }
  for (const entry of readTar(tar)) {
    if (entry.type !== "file" && entry.type !== "contiguous-file") continue;
    const rel = entryPath(entry.name, label);
    if (!rel) continue;
    const dest = path.join(into, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, entry.body, { mode: entry.mode & 0o111 ? 0o755 : 0o644 });
  }
}

/** Fetch `commit` from the first remote that has it and check it out in `into`, submodules too. */
async function cloneCommit(
  remotes: string[],
  commit: string,
  into: string,
  label: string,
  archiveError: unknown,
): Promise<void> {
  await git(["init", "--quiet", into], label);
  const failures: string[] = archiveError ? [`archive: ${(archiveError as Error).message}`] : [];
  for (const remote of remotes) {
    try {
      // One commit, shallow, where the server allows fetching it by id (protocol v2 servers do); else all
      // of it (a short id, an old server).
      try {
        await git(["-C", into, "fetch", "--quiet", "--depth=1", remote, commit], label);
        await git(["-C", into, "checkout", "--quiet", "--detach", "FETCH_HEAD"], label);
      } catch {
        await git(
          ["-C", into, "fetch", "--quiet", "--tags", remote, "+refs/heads/*:refs/remotes/origin/*"],
          label,
        );
        // Peeled to a commit: a short id may also prefix a tree or blob, which plain checkout calls ambiguous.
        await git(["-C", into, "checkout", "--quiet", "--detach", `${commit}^{commit}`], label);
      }
      if (fs.existsSync(path.join(into, ".gitmodules"))) {
        await git(["-C", into, "submodule", "update", "--quiet", "--init", "--recursive"], label);
      }
      return;
    } catch (error) {
      failures.push(`${remote}: ${(error as Error).message}`);
    }
  }
  throw new Error(`${label}: could not fetch commit ${commit} (${failures.join("; ")})`);
}

/** Run git, never prompting for credentials (an install must not hang on a terminal prompt). */
function git(args: string[], label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      { env: { ...process.env, GIT_TERMINAL_PROMPT: "0" }, maxBuffer: 16 << 20 },
      (error, _out, err) => {
        if (!error) return resolve();
        if ((error as NodeJS.ErrnoException).code === "ENOENT") {
          reject(
            new Error(`${label} is a git dependency and fetching it needs git: install git and try again`),
          );
        } else reject(new Error(String(err).trim().split("\n").pop() || error.message));
      },
    );
  });
}

/**
 * The scripts npm runs to build a git dependency before packing it (pacote runs `npm install` in the clone
 * when any is present); silo stores the commit's files as they are.
 *
 * @example
 * ```ts
 * gitBuildScripts({ scripts: { prepare: "tsc", test: "node t" } }); // ["prepare"]
 * ```
 */
export function gitBuildScripts(manifest: { scripts?: Record<string, string> }): string[] {
  const scripts = manifest.scripts ?? {};
  return ["preinstall", "install", "postinstall", "prepack", "prepare", "build"].filter((s) => scripts[s]);
}
