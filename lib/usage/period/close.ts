import { BATCH_STATUSES } from "../../core/enums";
import { ConfigError } from "../../core/errors";
import { closableFrom, closableNow, formatPeriod } from "../../core/period";
import { formatPlmn } from "../../core/plmn";
import type { RoamLedgerClient } from "../../chain/client";
import { withDecodedRevert } from "../../chain/revert";
import { TxQueue } from "../../chain/txQueue";
import type { Hex } from "../../util/hex";
import { noProgress, type ProgressFactory } from "../../util/progress";
import { batchStatuses, latestTime, type PeriodKey, submittedBatches } from "./batches";

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
const nameOf = (key: PeriodKey) => `${formatPeriod(key.period)} of ${formatPlmn(key.visited)} -> ${formatPlmn(key.home)}`;

export interface ExpireReport {
  /** Batches expired by this call. */
  expired: Hex[];
  /** Batches still pending after it: their windows have not ended. */
  stillPending: number;
  /** The latest window end among them (unix seconds), 0 when none is pending. */
  lastWindowEnd: number;
  txHashes: string[];
}

/**
 * Expires the period's pending batches whose dispute windows have ended (anyone may: they count as
 * accepted), `MAX_DECISIONS` per transaction. Batches still in their window are left and counted.
 */
export async function expireBatches(
  client: RoamLedgerClient,
  key: PeriodKey & { log?: (line: string) => void; progress?: ProgressFactory },
): Promise<ExpireReport> {
  const ledger = client.ledger;
  const [submitted, now] = await Promise.all([submittedBatches(client, key), latestTime(client)]);
  const ids = [...submitted.keys()];
  const statuses = await batchStatuses(client, ids);
  const due: Hex[] = [];
  let stillPending = 0;
  let lastWindowEnd = 0;
  ids.forEach((id, i) => {
    if (BATCH_STATUSES[statuses[i]] !== "submitted") return;
    const windowEnd = submitted.get(id)?.windowEnd ?? 0;
    if (windowEnd <= now) {
      due.push(id);
    } else {
      stillPending++;
      lastWindowEnd = Math.max(lastWindowEnd, windowEnd);
    }
  });
  const max = Number(await ledger.MAX_DECISIONS());
  const progress = (key.progress ?? noProgress)({ label: `expire batches of ${nameOf(key)}`, total: due.length, unit: "batches" });
  const queue = new TxQueue(key.log);
  for (let i = 0; i < due.length; i += max) {
    const chunk = due.slice(i, i + max);
    await queue.send(`expire ${chunk.length} batch(es)`, () => ledger.expireBatches(chunk));
    progress.tick(chunk.length);
  }
  const receipts = await withDecodedRevert(() => queue.drain());
  progress.done(`${due.length} expired, ${stillPending} still in their window`);
  return { expired: due, stillPending, lastWindowEnd, txHashes: receipts.map((r) => r.hash) };
}

export interface CloseReport {
  /** The period was closed before this call: nothing was sent. */
  alreadyClosed: boolean;
  /** What the period's invoices bind to. */
  accumulator: Hex;
  countedBatches: number;
  rejectedBatches: number;
  txHash?: string;
}

/**
 * Closes a period (anyone may) once its submission deadline has passed and no batch is pending; refuses
 * with what is still missing before sending anything. Idempotent: a closed period gives its accumulator.
 */
export async function closePeriod(client: RoamLedgerClient, key: PeriodKey & { log?: (line: string) => void }): Promise<CloseReport> {
  const ledger = client.ledger;
  const before = await ledger.getPeriod(key.home, key.visited, key.period);
  if (before.closed) return reportOf(before, true);
  const [deadline, now] = await Promise.all([ledger.submissionDeadline(key.period), latestTime(client)]);
  if (!closableNow(closableFrom(Number(deadline)), now)) {
    throw new ConfigError(
      `period ${nameOf(key)} cannot close before its submission deadline: closable from ${iso(Number(deadline))} (chain time ${iso(now)})`,
      {
        hint: "wait for the deadline: batches of the period are taken until then.",
      },
    );
  }
  if (Number(before.pending) > 0) {
    throw new ConfigError(`period ${nameOf(key)} cannot close: ${before.pending} batch(es) are still pending`, {
      hint: "the home carrier decides them, or anyone expires them once their dispute windows end.",
      next: {
        operation: "usage:expire",
        args: { home: formatPlmn(key.home), visited: formatPlmn(key.visited), period: formatPeriod(key.period) },
      },
    });
  }
  const queue = new TxQueue(key.log);
  await queue.send(`close period ${nameOf(key)}`, () => ledger.closePeriod(key.home, key.visited, key.period));
  const [receipt] = await withDecodedRevert(() => queue.drain());
  const after = await ledger.getPeriod(key.home, key.visited, key.period);
  return { ...reportOf(after, false), txHash: receipt.hash };
}

function reportOf(info: { accumulator: string; counted: bigint; rejected: bigint }, alreadyClosed: boolean): CloseReport {
  return {
    alreadyClosed,
    accumulator: info.accumulator.toLowerCase() as Hex,
    countedBatches: Number(info.counted),
    rejectedBatches: Number(info.rejected),
  };
}
