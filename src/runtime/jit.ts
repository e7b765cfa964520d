/**
 * JIT tuning for silo's own short-lived threads.
 *
 * An install runs each hot function a few thousand times and exits: JavaScriptCore's optimizing tiers then
 * spend more CPU compiling than the compiled code saves, on the cores the link workers need. Measured on a
 * hot install of the mocha fixture (Bun binary, 2 cores, 8 interleaved runs): user time 170 -> 135 ms, wall
 * 275 -> 250 ms; a cold install is unchanged. Bun only (`Bun.unsafe.setJITPolicy`); elsewhere a no-op.
 *
 * @module
 */

/** How many times more reluctant than normal the JIT is to compile (Bun's tier-up threshold scale). */
const RELUCTANCE = 100;

/**
 * Make this thread's JIT reluctant to compile. For the CLI and the install workers only: a library
 * user's long-lived process keeps its normal JIT.
 *
 * @example
 * ```ts
 * import { preferShortRuns } from "./jit.ts";
 * preferShortRuns();
 * ```
 */
export function preferShortRuns(): void {
  const bun = (globalThis as { Bun?: { unsafe?: { setJITPolicy?: (scale: number) => void } } }).Bun;
  bun?.unsafe?.setJITPolicy?.(RELUCTANCE);
}
