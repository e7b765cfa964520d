/**
 * Real git repositories for git-dependency tests: commits made with the git binary, published to a bare
 * repository that installs reach through a file:// URL.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** A file of a commit: its text, or its text and whether git records it executable. */
export type GitFile = string | { content: string; exec: boolean };

/** A bare repository and the commits made in it, oldest first. */
export interface GitRepo {
  /** `file:///.../<name>.git` */
  url: string;
  bare: string;
  shas: string[];
  /** `git archive` of a commit as a host serves it: .tar.gz with one top folder. */
  archive(sha: string): Uint8Array;
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd, encoding: "utf8" })
    .trim();

/**
 * Make `<root>/<name>.git` with one commit per entry of `commits`: each writes its files over the previous
 * commit's tree (a `null` file is deleted).
 */
export function gitRepo(root: string, name: string, commits: Record<string, GitFile | null>[]): GitRepo {
  const work = path.join(root, `${name}-work`);
  fs.mkdirSync(work, { recursive: true });
  git(work, "init", "--quiet", "--initial-branch=main");
  const shas: string[] = [];
  for (const [i, files] of commits.entries()) {
    for (const [rel, file] of Object.entries(files)) {
      const full = path.join(work, rel);
      if (file === null) {
        fs.rmSync(full);
        continue;
      }
      fs.mkdirSync(path.dirname(full), { recursive: true });
      const { content, exec } = typeof file === "string" ? { content: file, exec: false } : file;
      fs.writeFileSync(full, content);
      fs.chmodSync(full, exec ? 0o755 : 0o644);
    }
    git(work, "add", "-A");
    git(work, "commit", "--quiet", "-m", `commit ${i + 1}`);
    shas.push(git(work, "rev-parse", "HEAD"));
  }
  const bare = path.join(root, `${name}.git`);
  git(root, "clone", "--quiet", "--bare", work, bare);
  return {
    url: `file://${bare}`,
    bare,
    shas,
    archive: (sha) =>
      new Uint8Array(
        execFileSync("git", ["archive", "--format=tar.gz", `--prefix=${name}-${sha}/`, sha], { cwd: bare }),
      ),
  };
}
