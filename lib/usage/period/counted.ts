import { MismatchError } from "../../core/errors";
import type { RoamLedgerClient } from "../../chain/client";
import { type Hex, hexToBytes } from "../../util/hex";
import { accumulatorOf, disputeHashOf, type DisputedLeaf } from "../accumulator";
import type { UsageBatchHeader } from "../batch";
import { LeafHasher, RECORD_BYTES, unpackRecord } from "../leaf";
import { checkPayloadCommitments, openPayload } from "../payload";
import type { ContentStore } from "../store";
import type { ClassTotals, UsageRecord } from "../types";
import { type PeriodKey, submittedBatches } from "./batches";

/** A record the home carrier disputed: its position, its leaf and its contents from the payload. */
export interface DisputedRecord extends DisputedLeaf {
  record: UsageRecord;
}

/** A counted (accepted or expired) batch with what its payload opens to. */
export interface CountedBatchContent {
  batchId: Hex;
  header: UsageBatchHeader;
  recordCount: number;
  /** Billable totals the batch committed (before disputes). */
  totals: ClassTotals[];
  totalsSalt: Hex;
  /** Disputed records in the order they were disputed (the order of the batch's dispute chain). */
  disputed: DisputedRecord[];
}

/** A period as an invoice rates it: its counted batches in the ledger's order and the accumulator. */
export interface CountedPeriod extends PeriodKey {
  closed: boolean;
  batches: CountedBatchContent[];
  /** The accumulator recomputed from the batches; equal to the ledger's (checked). */
  accumulator: Hex;
}

/**
 * The counted batches of a period, in the ledger's counted order, with their totals (opened from the
 * payload store with the pair's key and checked against each header's commitments) and their disputed
 * records (the ledger's disputed indexes and leaves, the records from the payload, each checked against
 * its leaf, salted with the batch's totals salt); the accumulator recomputed with lib/usage/accumulator.ts and checked equal to the ledger's.
 * What the invoice needs to take each disputed record's measured contribution off its batch's totals.
 */
export async function countedPeriod(
  client: RoamLedgerClient,
  key: PeriodKey & { store: ContentStore; pairKey: Uint8Array },
): Promise<CountedPeriod> {
  const ledger = client.ledger;
  const info = await ledger.getPeriod(key.home, key.visited, key.period);
  const headers = await submittedBatches(client, key);
  const hasher = await LeafHasher.create();
  const batches: CountedBatchContent[] = [];
  for (let i = 0; i < Number(info.counted); i++) {
    const batchId = (await ledger.countedBatch(key.home, key.visited, key.period, i)).toLowerCase() as Hex;
    const submitted = headers.get(batchId);
    if (!submitted) throw new MismatchError(`batch ${batchId}`, { expected: "a UsageBatchSubmitted event", actual: "none" });
    batches.push(await openCounted({ client, store: key.store, pairKey: key.pairKey, hasher }, batchId, submitted.header));
  }
  const accumulator = accumulatorOf(
    batches.map((b) => ({
      batchId: b.batchId,
      totalsCommitment: b.header.totalsCommitment,
      disputeCount: b.disputed.length,
      disputeHash: disputeHashOf(b.disputed),
    })),
  );
  if (accumulator !== info.accumulator.toLowerCase()) {
    throw new MismatchError("accumulator", { expected: info.accumulator, actual: accumulator });
  }
  return { ...pick(key), closed: info.closed, batches, accumulator };
}

const pick = ({ home, visited, period }: PeriodKey): PeriodKey => ({ home, visited, period });

/** One counted batch: its payload opened and checked, its disputed records read back from it. */
async function openCounted(
  from: { client: RoamLedgerClient; store: ContentStore; pairKey: Uint8Array; hasher: LeafHasher },
  batchId: Hex,
  header: UsageBatchHeader,
): Promise<CountedBatchContent> {
  const ledger = from.client.ledger;
  const sealed = await from.store.get(header.payloadHash);
  const payload = openPayload(from.pairKey, sealed, header);
  await checkPayloadCommitments({ payload, sealed }, header);
  const disputed: DisputedRecord[] = [];
  const salt = hexToBytes(payload.header.totalsSalt);
  for (const index of await ledger.disputedIndexes(batchId)) {
    const leafIndex = Number(index);
    const leaf = (await ledger.disputedLeaf(batchId, leafIndex)).toLowerCase() as Hex;
    const record = unpackRecord(payload.records, leafIndex * RECORD_BYTES);
    const actual = from.hasher.leafOf(record, salt);
    if (actual !== leaf) throw new MismatchError(`leaf ${leafIndex} of batch ${batchId}`, { expected: leaf, actual });
    disputed.push({ leafIndex, leaf, record });
  }
  const { recordCount, totals, totalsSalt } = payload.header;
  return { batchId, header, recordCount, totals, totalsSalt, disputed };
}
