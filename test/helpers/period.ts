import { periodBounds } from "../../lib/core/period";

/**
 * Months of the chain's clock for tests, benchmarks and the demo: which billing period a block time
 * falls in, and the ones before and after it. Bounds come from lib/core/period.ts (the contracts'
 * periodBounds).
 */

/** A billing month: yyyymm and its bounds, unix seconds UTC (`end` is the first second of the next month). */
export interface Month {
  period: number;
  start: number;
  end: number;
}

/** The month of a billing period (yyyymm). */
export function monthOfPeriod(period: number): Month {
  const [start, end] = periodBounds(period);
  return { period, start, end };
}

/** The month a unix time (UTC) falls in. */
export function monthOf(seconds: number): Month {
  const d = new Date(seconds * 1000);
  return monthOfPeriod(d.getUTCFullYear() * 100 + d.getUTCMonth() + 1);
}

/** The month `back` months before the one a unix time falls in (1 by default: last month, a period that is over). */
export function monthsBefore(seconds: number, back = 1): Month {
  const d = new Date(seconds * 1000);
  return monthOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - back, 1) / 1000);
}
