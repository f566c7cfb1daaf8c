import { ConfigError } from "../../core/errors";
import type { RoamLedgerClient } from "../../chain/client";
import type { Hex } from "../../util/hex";
import { fromEventArgs, type UsageBatchHeader } from "../batch";

/** One (home, visited, period) of the ledger. */
export interface PeriodKey {
  home: Hex;
  visited: Hex;
  period: number;
}

/**
 * The headers of every batch submitted for a period, by id, from the ledger's `UsageBatchSubmitted`
 * events (indexed by visited and home; the period is filtered here), with each batch's window end.
 */
export async function submittedBatches(
  client: RoamLedgerClient,
  key: PeriodKey,
): Promise<Map<Hex, { header: UsageBatchHeader; windowEnd: number }>> {
  const ledger = client.ledger;
  const logs = await ledger.queryFilter(ledger.filters.UsageBatchSubmitted(undefined, key.visited, key.home), 0, "latest");
  const out = new Map<Hex, { header: UsageBatchHeader; windowEnd: number }>();
  for (const log of logs) {
    if (Number(log.args.period) !== key.period) continue;
    out.set(log.args.batchId.toLowerCase() as Hex, { header: fromEventArgs(log.args), windowEnd: Number(log.args.windowEnd) });
  }
  return out;
}

/** Unix seconds of the latest block. */
export async function latestTime(client: RoamLedgerClient): Promise<number> {
  const block = await client.runner.provider?.getBlock("latest");
  if (!block) throw new ConfigError("cannot read the chain's latest block", { hint: "connect the client to a provider of the chain." });
  return block.timestamp;
}

/** Batch reads sent at once: a period has up to 2,048 batches, a node takes this many calls in parallel. */
const READS_AT_ONCE = 64;

/** The status of each batch (`BATCH_STATUSES` index), read `READS_AT_ONCE` at a time. */
export async function batchStatuses(client: RoamLedgerClient, ids: readonly Hex[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i += READS_AT_ONCE) {
    const infos = await Promise.all(ids.slice(i, i + READS_AT_ONCE).map((id) => client.ledger.getBatch(id)));
    out.push(...infos.map((info) => Number(info.status)));
  }
  return out;
}
