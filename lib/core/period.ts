import { InputError, type InputLocation } from "./errors";

/** A billing period as yyyymm (202611), from "2026-11". */
export function parsePeriod(text: string, location: InputLocation = { param: "period" }): number {
  const m = /^(\d{4})-(\d{2})$/.exec(text.trim());
  const year = m ? Number(m[1]) : 0;
  const month = m ? Number(m[2]) : 0;
  if (!m || year < 2000 || year > 2399 || month < 1 || month > 12) {
    throw new InputError(`${JSON.stringify(text)} is not a billing period`, {
      location,
      hint: "write the period as YYYY-MM, e.g. 2026-11 (years 2000 to 2399).",
    });
  }
  return year * 100 + month;
}

/** Checks a yyyymm period as the contracts take it (PeriodLib: years 2000 to 2399); throws InputError otherwise. */
export function checkPeriod(period: number): void {
  const month = period % 100;
  const year = Math.floor(period / 100);
  if (!Number.isInteger(period) || month < 1 || month > 12 || year < 2000 || year > 2399) {
    throw new InputError(`period ${period} is not a month written as yyyymm (years 2000 to 2399)`, {
      hint: "write it like 202611 (November 2026).",
    });
  }
}

/** "2026-11" from 202611. */
export function formatPeriod(period: number): string {
  return `${Math.floor(period / 100)}-${String(period % 100).padStart(2, "0")}`;
}

/** [first second, first second after] of the period, unix seconds UTC (as the contract's periodBounds). */
export function periodBounds(period: number): [number, number] {
  const year = Math.floor(period / 100);
  const month = period % 100;
  return [Date.UTC(year, month - 1, 1) / 1000, Date.UTC(year, month, 1) / 1000];
}

/**
 * The first block timestamp at which the ledger's `closePeriod` succeeds: not before the submission deadline
 * (`block.timestamp >= deadline`), and not before every pending batch's dispute window is over (a batch is
 * expirable from `block.timestamp >= windowEnd`). The one rule behind the report's "closable at", the
 * "closable from" of a refused close and usage:close's check: all print this second.
 */
export function closableFrom(deadline: number, pendingWindowEnds: readonly number[] = []): number {
  return Math.max(deadline, ...pendingWindowEnds);
}

/**
 * Whether a close sent now succeeds, the latest block having timestamp `latestBlockTime`: the transaction
 * lands in a later block, whose timestamp is at least one second later. So a period closable from X closes
 * when the latest block is X - 1 (and the report says "now" then), not before.
 */
export function closableNow(from: number, latestBlockTime: number): boolean {
  return latestBlockTime + 1 >= from;
}
