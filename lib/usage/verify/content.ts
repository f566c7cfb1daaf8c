import { type BaseError, CryptoError, InputError } from "../../core/errors";
import type { RoamLedgerClient } from "../../chain/client";
import type { Hex } from "../../util/hex";
import { fromEventArgs } from "../batch";
import { LeafHasher, RECORD_BYTES, unpackRecord } from "../leaf";
import { type MerkleTree, merkleTree } from "../merkle";
import { openPayload, type Payload } from "../payload";
import type { ContentStore } from "../store";
import type { UsageBatch, UsageRecord } from "../types";
import { compareTotals } from "./totals";

/** Why the home carrier rejects a whole batch (the `reason` of `UsageBatchRejected`). */
export const REJECT_REASONS = {
  PAYLOAD_UNREADABLE: 1,
  ROOT_MISMATCH: 2,
  TOTALS_MISMATCH: 3,
  PAYLOAD_MISSING: 4,
} as const;
export type BatchRejectReason = keyof typeof REJECT_REASONS;

/** Finds the batch's summary in the ledger's `UsageBatchSubmitted` event. */
export async function fetchBatchSummary(client: RoamLedgerClient, batchId: Hex): Promise<{ batch: UsageBatch; block: number }> {
  const ledger = client.ledger;
  const logs = await ledger.queryFilter(ledger.filters.UsageBatchSubmitted(batchId), 0, "latest");
  if (logs.length === 0) {
    throw new InputError(`no usage batch ${batchId} on this chain`, {
      hint: "check the batch id: the ingest that committed the batch reported it, and watch lists every batch (0x followed by 64 hex digits).",
    });
  }
  const log = logs[0];
  return { batch: fromEventArgs(log.args), block: log.blockNumber };
}

/** A batch's records as its payload holds them, matching what the batch commits, and their Merkle tree. */
export interface BatchContent {
  records: UsageRecord[];
  tree: MerkleTree;
}

/** Why a batch's content does not match what it commits. */
export interface ContentMismatch {
  reason: BatchRejectReason;
  problems: string[];
}

/**
 * Fetches and decrypts the batch's payload and checks it against the summary: record count, Merkle
 * root, totals. A payload missing from the store is a mismatch only when `rejectMissing`; else it throws.
 */
export async function readBatchContent(
  batch: UsageBatch,
  from: { store: ContentStore; pairKey: () => Promise<Uint8Array>; rejectMissing?: boolean },
): Promise<BatchContent | ContentMismatch> {
  let sealed: Uint8Array;
  try {
    sealed = await from.store.get(batch.payloadHash);
  } catch (error) {
    if (from.rejectMissing) return { reason: "PAYLOAD_MISSING", problems: [(error as BaseError).shortMessage ?? String(error)] };
    throw error;
  }
  let payload: Payload;
  try {
    payload = openPayload(await from.pairKey(), sealed, batch);
  } catch (error) {
    if (error instanceof CryptoError) return { reason: "PAYLOAD_UNREADABLE", problems: [error.shortMessage] };
    throw error;
  }
  if (payload.header.recordCount !== batch.recordCount) {
    return {
      reason: "ROOT_MISMATCH",
      problems: [`payload has ${payload.header.recordCount} records, the batch commits ${batch.recordCount}`],
    };
  }
  const { records, tree } = await unpackRecords(payload.records, batch.recordCount);
  const root = treeRoot(tree);
  if (root !== batch.merkleRoot) {
    return { reason: "ROOT_MISMATCH", problems: [`records hash to root ${root}, the batch commits ${batch.merkleRoot}`] };
  }
  const totalsProblems = compareTotals(batch.totals, payload, records);
  if (totalsProblems.length > 0) return { reason: "TOTALS_MISMATCH", problems: totalsProblems };
  return { records, tree };
}

/** The records packed in a payload, and the Merkle tree of their leaves. */
async function unpackRecords(packed: Uint8Array, count: number): Promise<BatchContent> {
  const hasher = await LeafHasher.create();
  const records: UsageRecord[] = new Array(count);
  const leaves = Buffer.alloc(count * 32);
  for (let i = 0; i < count; i++) {
    const offset = i * RECORD_BYTES;
    records[i] = unpackRecord(packed, offset);
    leaves.set(hasher.leafAt(packed, offset), i * 32);
  }
  return { records, tree: await merkleTree(leaves) };
}

function treeRoot(tree: MerkleTree): Hex {
  return `0x${tree[tree.length - 1].toString("hex")}`;
}
