import { ConfigError } from "../../core/errors";
import { formatPeriod, periodBounds } from "../../core/period";
import { formatPlmn } from "../../core/plmn";
import type { UsageLedger } from "../../../typechain-types";
import type { Hex } from "../../util/hex";

/** A (visited, home, period) the ingest bills, and the chain's time now. */
export interface PeriodTarget {
  visited: Hex;
  home: Hex;
  period: number;
  /** Chain time (unix seconds) of the latest block. */
  now: bigint;
}

const iso = (seconds: bigint | number) => new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");

/**
 * Refuses a run whose batches the ledger would not take, before anything is sealed: the period has not
 * started, its submission deadline (end + grace) has passed, it is closed, or `batches` more would take it
 * over `MAX_BATCHES_PER_PERIOD`. A late file is not lost: its records go into a later period (the one in
 * which they are ingested), as roaming files that miss their period's cut-off do.
 */
export async function checkPeriodTakesBatches(ledger: UsageLedger, target: PeriodTarget, batches: number): Promise<void> {
  const { visited, home, period, now } = target;
  const name = formatPeriod(period);
  const pair = `${formatPlmn(visited)} -> ${formatPlmn(home)}`;
  const [start] = periodBounds(period);
  if (now < BigInt(start)) {
    throw new ConfigError(`period ${name} has not started yet (it opens at ${iso(start)}, chain time is ${iso(now)})`, {
      hint: "ingest the file once the period has started, or bill it to the current period.",
    });
  }
  const [deadline, info, max] = await Promise.all([
    ledger.submissionDeadline(period),
    ledger.getPeriod(home, visited, period),
    ledger.MAX_BATCHES_PER_PERIOD(),
  ]);
  const late = {
    hint: "a late file goes into a later period: bill its records with a period that is still open (a period closes at its deadline so that it can always be settled).",
  };
  if (info.closed) throw new ConfigError(`period ${name} of ${pair} is closed: it takes no more batches`, late);
  if (now >= deadline) {
    throw new ConfigError(
      `period ${name} of ${pair} takes no more batches: its submission deadline ${iso(deadline)} has passed (chain time ${iso(now)})`,
      late,
    );
  }
  if (Number(info.batchCount) + batches > Number(max)) {
    throw new ConfigError(`period ${name} of ${pair} has ${info.batchCount} of its ${max} batches; this file needs ${batches} more`, {
      hint: "ingest with a larger batch size (fewer, bigger batches), or put the remaining records in a later period.",
    });
  }
}
