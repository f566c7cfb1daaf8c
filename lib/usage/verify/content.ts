import { type BaseError, CryptoError, InputError, MismatchError } from "../../core/errors";
import type { RoamLedgerClient } from "../../chain/client";
import { type Hex, hexToBytes } from "../../util/hex";
import { fromEventArgs } from "../batch";
import { LeafHasher, RECORD_BYTES, unpackRecord } from "../leaf";
import { type MerkleTree, merkleTree, treeDepth } from "../merkle";
import { checkPayloadCommitments, openPayload, type Payload } from "../payload";
import type { ContentStore } from "../store";
import type { UsageBatch, UsageRecord } from "../types";
import { compareTotals } from "./totals";

/** Why the home carrier rejects a whole batch (the `reason` of `UsageBatchRejected`). */
export const REJECT_REASONS = {
  PAYLOAD_UNREADABLE: 1,
  ROOT_MISMATCH: 2,
  TOTALS_MISMATCH: 3,
  PAYLOAD_MISSING: 4,
  /** The payload does not open the header's commitments (pair, period, payload hash, totals commitment). */
  COMMITMENT_MISMATCH: 5,
} as const;
export type BatchRejectReason = keyof typeof REJECT_REASONS;

/** Finds the batch's header in the ledger's `UsageBatchSubmitted` event. */
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

/** A batch's payload, opened and matching what the batch commits: its records and their positional tree. */
export interface BatchContent {
  payload: Payload;
  records: UsageRecord[];
  tree: MerkleTree;
}

/** Why a batch's content does not match what it commits. */
export interface ContentMismatch {
  reason: BatchRejectReason;
  problems: string[];
}

/**
 * Fetches and opens the batch's payload and checks it against the header: the commitments it opens
 * (checkPayloadCommitments: pair, period, record count within the depth, payload hash, totals commitment),
 * the positional root and depth of its records, and its totals against the records. A payload missing
 * from the store is a mismatch only when `rejectMissing`; else it throws.
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
    await checkPayloadCommitments({ payload, sealed }, batch);
  } catch (error) {
    if (error instanceof CryptoError) return { reason: "PAYLOAD_UNREADABLE", problems: [error.shortMessage] };
    if (error instanceof MismatchError) return { reason: "COMMITMENT_MISMATCH", problems: [error.shortMessage] };
    throw error;
  }
  return checkRecords(batch, payload);
}

/** The payload's records against the header's root and depth, and its totals against the records. */
async function checkRecords(batch: UsageBatch, payload: Payload): Promise<BatchContent | ContentMismatch> {
  const count = payload.header.recordCount;
  if (count === 0 || treeDepth(count) !== batch.treeDepth) {
    return { reason: "ROOT_MISMATCH", problems: [`${count} records do not make a tree of depth ${batch.treeDepth}`] };
  }
  const { records, tree } = await unpackRecords(payload.records, count, hexToBytes(payload.header.totalsSalt));
  const root = treeRoot(tree);
  if (root !== batch.merkleRoot) {
    return { reason: "ROOT_MISMATCH", problems: [`records hash to root ${root}, the batch commits ${batch.merkleRoot}`] };
  }
  const totalsProblems = compareTotals(payload.header.totals, payload, records);
  if (totalsProblems.length > 0) return { reason: "TOTALS_MISMATCH", problems: totalsProblems };
  return { payload, records, tree };
}

/** The records packed in a payload, and the positional tree of their leaves salted with the batch's `salt`. */
async function unpackRecords(packed: Uint8Array, count: number, salt: Uint8Array): Promise<Omit<BatchContent, "payload">> {
  const records: UsageRecord[] = new Array(count);
  for (let i = 0; i < count; i++) records[i] = unpackRecord(packed, i * RECORD_BYTES);
  const leaves = (await LeafHasher.create()).leavesOf(packed, count, salt);
  return { records, tree: await merkleTree(leaves) };
}

function treeRoot(tree: MerkleTree): Hex {
  return `0x${tree[tree.length - 1].toString("hex")}`;
}
