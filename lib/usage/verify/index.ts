import { ConfigError } from "../../core/errors";
import { formatPlmn } from "../../core/plmn";
import { BATCH_STATUSES } from "../../core/enums";
import type { RoamLedgerClient } from "../../chain/client";
import { withDecodedRevert } from "../../chain/revert";
import { TxQueue } from "../../chain/txQueue";
import type { Hex } from "../../util/hex";
import { toContractBatch } from "../batch";
import { merkleProof } from "../merkle";
import type { ContentStore } from "../store";
import type { UsageBatch } from "../types";
import {
  type BatchContent,
  type BatchRejectReason,
  type ContentMismatch,
  fetchBatchSummary,
  readBatchContent,
  REJECT_REASONS,
} from "./content";
import {
  compareWithOwn,
  DISPUTE_REASONS,
  type DisputedRecordReport,
  Disputes,
  disputeForeignDevices,
  type OwnComparison,
} from "./disputes";

export { type BatchRejectReason, fetchBatchSummary, REJECT_REASONS } from "./content";
export { DISPUTE_REASONS, type DisputedRecordReport, type DisputeReason } from "./disputes";
export { compareTotals, totalsOfRecords } from "./totals";

/** Records disputed per transaction (the ledger takes up to 500; proofs make each one ~1 KB). */
export const DISPUTES_PER_TX = 200;

export interface VerifyOptions {
  batchId: Hex;
  /** Connected to an operator of the home carrier. */
  client: RoamLedgerClient;
  /** Our own PLMN (the home carrier). */
  self: Hex;
  /** Pairwise key with the batch's visited carrier (computed by the caller once it knows who that is). */
  pairKeyFor: (visited: Hex) => Promise<Uint8Array>;
  store: ContentStore;
  /** Our own IMSI key, to match our own records to device ids. */
  imsiKey: Uint8Array;
  /** Our own records of the same usage (same format as usage files), to compare with. */
  ownFile?: string;
  /** Relative difference of data volume tolerated before a record is disputed (0.01 = 1 %). */
  tolerance?: number;
  /** Check only; send nothing. */
  dryRun?: boolean;
  /** Leave the batch open after disputing (default: accept the rest, which ends its dispute window). */
  noAccept?: boolean;
  /** Reject the batch when its payload is not in the store (default: stop with an error). */
  rejectMissing?: boolean;
  log?: (line: string) => void;
}

export interface VerifyReport {
  batchId: Hex;
  visited: Hex;
  home: Hex;
  period: number;
  recordCount: number;
  statusBefore: string;
  /** What was found; `ok` when the payload matches the summary. */
  payload: "ok" | BatchRejectReason;
  problems: string[];
  billableRecords: number;
  disputed: DisputedRecordReport[];
  compared?: OwnComparison;
  action: "accepted" | "disputed-and-accepted" | "disputed" | "rejected" | "none";
  txHashes: string[];
}

/**
 * The home carrier's check of one batch: fetch and decrypt the payload, recompute the Merkle root and
 * the totals, check that every record is of one of our devices, compare with our own records when given,
 * then accept, dispute the records that differ (with Merkle proofs) or reject a batch whose payload does
 * not match what was committed.
 */
export async function verifyBatch(opts: VerifyOptions): Promise<VerifyReport> {
  const { batch, status } = await batchToVerify(opts);
  const report = newReport(opts.batchId, batch, status);
  const open = status === "submitted" && !opts.dryRun;
  const content = await readBatchContent(batch, {
    store: opts.store,
    pairKey: () => opts.pairKeyFor(batch.visited),
    rejectMissing: opts.rejectMissing,
  });
  if ("reason" in content) return rejectBatch(opts, { report, mismatch: content, open });

  // Record by record: billable records only can be disputed.
  const disputes = new Disputes(content.records);
  report.billableRecords = content.records.filter((r) => r.billing === 0).length;
  await disputeForeignDevices(opts.client, opts.self, disputes);
  if (opts.ownFile) {
    report.compared = await compareWithOwn({ file: opts.ownFile, imsiKey: opts.imsiKey, tolerance: opts.tolerance ?? 0 }, batch, disputes);
  }
  report.disputed = disputes.reports();
  if (open) await sendVerdict(opts, { report, batch, content, disputes });
  return report;
}

/** The batch's summary and status; refuses a batch that bills another home carrier. */
async function batchToVerify(opts: VerifyOptions): Promise<{ batch: UsageBatch; status: string }> {
  const { batch } = await fetchBatchSummary(opts.client, opts.batchId);
  if (batch.home !== opts.self) {
    throw new ConfigError(`batch ${opts.batchId} bills ${formatPlmn(batch.home)}, not ${formatPlmn(opts.self)}`, {
      hint: "only the billed home carrier verifies a batch: act as one of its operators.",
    });
  }
  const info = await opts.client.ledger.getBatch(opts.batchId);
  return { batch, status: BATCH_STATUSES[Number(info.status)] ?? "unknown" };
}

function newReport(batchId: Hex, batch: UsageBatch, status: string): VerifyReport {
  return {
    batchId,
    visited: batch.visited,
    home: batch.home,
    period: batch.period,
    recordCount: batch.recordCount,
    statusBefore: status,
    payload: "ok",
    problems: [],
    billableRecords: 0,
    disputed: [],
    action: "none",
    txHashes: [],
  };
}

/** Reports a batch whose content does not match what it commits, and rejects it on-chain when it is open. */
async function rejectBatch(opts: VerifyOptions, how: { report: VerifyReport; mismatch: ContentMismatch; open: boolean }) {
  const { report, mismatch } = how;
  report.payload = mismatch.reason;
  report.problems.push(...mismatch.problems);
  if (how.open) {
    const queue = new TxQueue(opts.log);
    await queue.send(`reject batch (${mismatch.reason})`, () =>
      opts.client.ledger.rejectBatch(opts.batchId, REJECT_REASONS[mismatch.reason]),
    );
    const receipts = await queue.drain();
    report.txHashes.push(...receipts.map((r) => r.hash));
    report.action = "rejected";
  }
  return report;
}

/** Disputes the records found (with their Merkle proofs), then accepts the batch unless told not to. */
async function sendVerdict(
  opts: VerifyOptions,
  found: { report: VerifyReport; batch: UsageBatch; content: BatchContent; disputes: Disputes },
): Promise<void> {
  const { report, batch, content } = found;
  const ledger = opts.client.ledger;
  const queue = new TxQueue(opts.log);
  const disputed = found.disputes.sorted();
  for (let i = 0; i < disputed.length; i += DISPUTES_PER_TX) {
    const chunk = disputed.slice(i, i + DISPUTES_PER_TX).map(({ index, reason }) => ({
      record: content.records[index],
      proof: merkleProof(content.tree, index),
      reason: DISPUTE_REASONS[reason],
    }));
    await queue.send(`dispute ${chunk.length} record(s)`, () => ledger.disputeRecords(toContractBatch(batch), chunk));
  }
  if (!opts.noAccept) {
    await queue.send("accept batch", () => ledger.acceptBatches([opts.batchId]));
  }
  const receipts = await withDecodedRevert(() => queue.drain());
  report.txHashes.push(...receipts.map((r) => r.hash));
  if (disputed.length === 0) report.action = opts.noAccept ? "none" : "accepted";
  else report.action = opts.noAccept ? "disputed" : "disputed-and-accepted";
}
