/**
 * "Did you mean ...?": the known word a mistyped one was most likely meant to be. Its own module, with no
 * imports: the command dispatcher loads it on every run, and flag parsing (node:util) only with a command.
 *
 * @module
 */

/**
 * The candidate `word` is most likely a misspelling of: the nearest by edit distance, if at most a third of
 * its length (and at least 1) away; undefined when none is that close.
 *
 * @example
 * ```ts
 * import { closest } from "./suggest.ts";
 * closest("instal", ["install", "verify", "gc"]); // "install"
 * closest("deploy", ["install", "verify", "gc"]); // undefined
 * ```
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined, bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) best = candidate, bestDistance = d;
  }
  return best;
}

/** Levenshtein distance (insert, delete, substitute; each costs 1). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
