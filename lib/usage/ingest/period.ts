import { ConfigError } from "../../core/errors";
import { formatPeriod, periodBounds } from "../../core/period";
import { formatPlmn } from "../../core/plmn";
import type { RoamLedgerClient } from "../../chain/client";
import type { Hex } from "../../util/hex";

/** A (visited, home, period) the ingest bills, and the chain's time now. */
export interface PeriodTarget {
  visited: Hex;
  home: Hex;
  period: number;
  /** Chain time (unix seconds) of the latest block. */
  now: bigint;
}

/**
 * Why the ledger would not take a run's batches now, or undefined when it would. `final` when no later
 * run can change it for this period (it is closed, its submission deadline has passed, it holds its
 * maximum of batches): a sealed run refused for such a reason can never finish, and is abandoned.
 */
export interface PeriodRefusal {
  problem: string;
  hint: string;
  final: boolean;
}

const iso = (seconds: bigint | number) => new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");

/**
 * What a billing team does with usage the period can no longer take (docs/ingest.md, "Late usage"): the
 * ledger never moves usage into another month, as TAP records presented after the time limit are not
 * chargeable.
 */
export const LATE_USAGE_HINT =
  "the period is over for billing: usage it did not take before its submission deadline is not billed through RoamLedger (the deadline is the partners' presentation time limit, as in TAP). Settle those records with the home carrier outside the ledger if your agreement allows it (docs/ingest.md, Late usage); usage of the current month goes into the current period.";

/**
 * Why the ledger would refuse `batches` more batches of the target's period now (the checks of
 * `UsageLedger.submitBatch` that do not depend on the batch: started, not closed, before the
 * submission deadline, under `MAX_BATCHES_PER_PERIOD`, an agreement in force), or undefined.
 */
export async function periodRefusal(
  client: Pick<RoamLedgerClient, "ledger" | "agreements">,
  target: PeriodTarget,
  batches: number,
): Promise<PeriodRefusal | undefined> {
  const { visited, home, period, now } = target;
  const name = formatPeriod(period);
  const pair = `${formatPlmn(visited)} -> ${formatPlmn(home)}`;
  const [start] = periodBounds(period);
  if (now < BigInt(start)) {
    return {
      problem: `period ${name} has not started yet (it opens at ${iso(start)}, chain time is ${iso(now)})`,
      hint: "ingest the file once the period has started, or bill it to the current period.",
      final: false,
    };
  }
  const [deadline, info, max, agreed] = await Promise.all([
    client.ledger.submissionDeadline(period),
    client.ledger.getPeriod(home, visited, period),
    client.ledger.MAX_BATCHES_PER_PERIOD(),
    client.agreements.hasActiveAgreement(home, visited, now),
  ]);
  if (info.closed) {
    return { problem: `period ${name} of ${pair} is closed: it takes no more batches`, hint: LATE_USAGE_HINT, final: true };
  }
  if (now >= deadline) {
    return {
      problem: `period ${name} of ${pair} takes no more batches: its submission deadline ${iso(deadline)} has passed (chain time ${iso(now)})`,
      hint: LATE_USAGE_HINT,
      final: true,
    };
  }
  if (Number(info.batchCount) + batches > Number(max)) {
    return {
      problem: `period ${name} of ${pair} has ${info.batchCount} of its ${max} batches; this file needs ${batches} more`,
      hint: Number(info.batchCount) >= Number(max) ? LATE_USAGE_HINT : "ingest with a larger batch size (fewer, bigger batches).",
      final: Number(info.batchCount) >= Number(max),
    };
  }
  if (!agreed) {
    return {
      problem: `${pair} has no roaming agreement in force now (chain time ${iso(now)}), or one of the two carriers is suspended: the ledger takes no batches of the pair`,
      hint: "check the agreement with `agreement:show` and both carriers with `carrier:show`; once a version is in force and both are active, run the same command again.",
      final: false,
    };
  }
  return undefined;
}

/**
 * Refuses a run whose batches the ledger would not take, before anything is sealed (see
 * {@link periodRefusal}).
 */
export async function checkPeriodTakesBatches(
  client: Pick<RoamLedgerClient, "ledger" | "agreements">,
  target: PeriodTarget,
  batches: number,
): Promise<void> {
  const refusal = await periodRefusal(client, target, batches);
  if (refusal)
    throw new ConfigError(refusal.problem, {
      details: "No run was sealed: no journal or local state was written and no batch was submitted.",
      hint: refusal.hint,
    });
}
