/** Small helpers of the benchmark: medians, timed steps with a status line. */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of nothing");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs one step of the benchmark, printing what it does and how long it took. */
export type Step = <T>(what: string, fn: () => Promise<T> | T) => Promise<T>;

export function stepper(log: (line: string) => void): Step {
  return async (what, fn) => {
    const started = Date.now();
    log(`  ${what} ...`);
    const result = await fn();
    log(`  ${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  };
}
