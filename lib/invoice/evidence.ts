/**
 * The batches of an invoice's period as a party sees them: their public state and transactions from the
 * ledger (`UsageBatchSubmitted`, accept / reject / expire / dispute events) and, from the party's own
 * payload copies, what each batch committed and what its disputed records took off. Nothing here reads
 * a figure from the chain: the ledger holds none.
 */
import type { Log } from "ethers";
import { providerOf } from "../chain/send";
import type { RoamLedgerClient } from "../chain/client";
import { BILLING } from "../core/enums";
import type { PeriodBatch } from "../settlement/escrow";
import { disputedContribution } from "../settlement/totals";
import type { CountedBatchContent } from "../usage/period";
import { openPayload } from "../usage/payload";
import { RECORD_BYTES, unpackRecord } from "../usage/leaf";
import type { ContentStore } from "../usage/store";
import type { ClassTotals } from "../usage/types";
import { disputeReasonName, rejectReasonName } from "../usage/reasons";
import type { Hex } from "../util/hex";
import type { BatchEvidence, NotBillableData } from "./types";

/** The pair's key and the payload store: what opens a batch's payload. */
export interface PayloadAccess {
  pairKey: Uint8Array;
  store: ContentStore;
}

/** The ledger's dispute, accept, reject and expire events of the batches, by batch id: one `eth_getLogs`. */
export async function batchEvents(client: RoamLedgerClient, batchIds: readonly Hex[], fromBlock: number): Promise<Map<string, Log[]>> {
  const byBatch = new Map<string, Log[]>(batchIds.map((id) => [id.toLowerCase(), []]));
  if (batchIds.length === 0) return byBatch;
  const names = ["UsageRecordDisputed", "UsageBatchAccepted", "UsageBatchRejected", "UsageBatchExpired"] as const;
  const topics = names.map((name) => client.ledger.interface.getEvent(name).topicHash);
  const logs = await providerOf(client.runner).getLogs({
    address: client.addresses.usageLedger,
    fromBlock,
    topics: [topics, [...batchIds]],
  });
  // Every one of these events has the batch id as its first indexed argument.
  for (const log of logs) byBatch.get(log.topics[1].toLowerCase())?.push(log);
  return byBatch;
}

/** What a batch committed, from our copy of its payload (counted batches are opened already). */
export interface BatchContent {
  recordCount: number;
  totals: ClassTotals[];
  /** What its disputed records took off, per class. */
  disputed: ClassTotals[];
}

/** The content of a counted batch: its opened totals and its disputed records' contribution. */
export function countedContent(b: CountedBatchContent): BatchContent {
  const disputed = disputedContribution({ totals: b.totals, disputed: b.disputed.map((d) => d.record) });
  return { recordCount: b.recordCount, totals: b.totals, disputed };
}

/** The content of a batch that does not count (rejected): opened from the store when we have it, else empty. */
export async function uncountedContent(b: PeriodBatch, access: PayloadAccess): Promise<BatchContent> {
  try {
    const payload = openPayload(access.pairKey, await access.store.get(b.batch.payloadHash), b.batch);
    return { recordCount: payload.header.recordCount, totals: payload.header.totals, disputed: [] };
  } catch {
    return { recordCount: 0, totals: [], disputed: [] };
  }
}

/** One batch's evidence: its public state and events, and its content from our payloads. */
export function batchEvidence(client: RoamLedgerClient, b: PeriodBatch, content: BatchContent, logs: readonly Log[]): BatchEvidence {
  const parsed = logs.flatMap((log) => {
    const event = client.ledger.interface.parseLog(log);
    return event ? [{ event, txHash: log.transactionHash as Hex }] : [];
  });
  const disputes = parsed.filter((p) => p.event.name === "UsageRecordDisputed");
  const reasons = new Map<number, number>();
  for (const { event } of disputes) reasons.set(Number(event.args.reason), (reasons.get(Number(event.args.reason)) ?? 0) + 1);
  const accept = parsed.find((p) => p.event.name === "UsageBatchAccepted" || p.event.name === "UsageBatchExpired");
  const reject = parsed.find((p) => p.event.name === "UsageBatchRejected");
  return {
    batchId: b.batchId,
    state: b.status,
    submittedAt: b.submittedAt,
    submitTx: b.txHash,
    ...content,
    disputedRecords: b.disputedRecords,
    disputeTxs: [...new Set(disputes.map((d) => d.txHash))],
    disputeReasons: [...reasons].map(([reason, records]) => ({ reason, name: disputeReasonName(reason), records })),
    acceptTx: accept?.txHash,
    rejectTx: reject?.txHash,
    rejectReason: reject ? { code: Number(reject.event.args.reason), name: rejectReasonName(Number(reject.event.args.reason)) } : undefined,
  };
}

/** Counts the committed records that were not billable, per reason and class, from the decrypted payloads. */
export async function readNotBillable(batches: readonly PeriodBatch[], access: PayloadAccess): Promise<NotBillableData> {
  const counts = new Map<number, Map<number, number>>();
  let read = 0;
  let records = 0;
  for (const b of batches) {
    if (b.status === "rejected") continue;
    let payload: ReturnType<typeof openPayload>;
    try {
      payload = openPayload(access.pairKey, await access.store.get(b.batch.payloadHash), b.batch);
    } catch (err) {
      return { available: false, why: `the payload of batch ${b.batchId} could not be read: ${(err as Error).message.split("\n")[0]}` };
    }
    read++;
    for (let r = 0; r < payload.header.recordCount; r++) {
      const record = unpackRecord(payload.records, r * RECORD_BYTES);
      records++;
      if (record.billing === 0) continue;
      const perClass = counts.get(record.billing) ?? new Map<number, number>();
      perClass.set(record.tariffClass, (perClass.get(record.tariffClass) ?? 0) + 1);
      counts.set(record.billing, perClass);
    }
  }
  const byReason = [...counts]
    .sort(([a], [b]) => a - b)
    .map(([code, perClass]) => ({
      code,
      reason: BILLING[code] ?? `billing ${code}`,
      records: [...perClass.values()].reduce((s, n) => s + n, 0),
      perClass: [...perClass].sort(([a], [b]) => a - b).map(([tariffClass, n]) => ({ tariffClass, records: n })),
    }));
  return { available: true, batchesRead: read, records, byReason };
}
