import { itemsPerTx, MEASURED_GAS } from "../../chain/gasBudget";
import { ConfigError } from "../../core/errors";
import { formatPlmn } from "../../core/plmn";
import { BATCH_STATUSES } from "../../core/enums";
import type { RoamLedgerClient } from "../../chain/client";
import { withDecodedRevert } from "../../chain/revert";
import { TxQueue } from "../../chain/txQueue";
import type { Hex } from "../../util/hex";
import { noProgress, type ProgressFactory } from "../../util/progress";
import { batchStatuses, submittedBatches } from "../period/batches";
import { merkleProof } from "../merkle";
import type { ContentStore } from "../store";
import type { UsageBatch } from "../types";
import type { IUsageLedger } from "../../../typechain-types/contracts/UsageLedger";
import { type BatchContent, type BatchRejectReason, fetchBatchSummary, readBatchContent, REJECT_REASONS } from "./content";
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

/**
 * Records disputed per transaction: as many as 3/4 of 16,777,216 gas (EIP-7825) holds at the measured
 * gas of a dispute at depth 24, about 1 KB of calldata (lib/chain/gasBudget.ts), at most the ledger's
 * MAX_DISPUTES, 256.
 */
export const DISPUTES_PER_TX = itemsPerTx(MEASURED_GAS.disputeRecord, 256);

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
  /** Records in the opened payload (0 when it did not open). */
  recordCount: number;
  /** Depth of the batch's tree: public, the only size the header gives. */
  treeDepth: number;
  statusBefore: string;
  /** What was found; `ok` when the payload opens the header's commitments and matches its root. */
  payload: "ok" | BatchRejectReason;
  problems: string[];
  billableRecords: number;
  disputed: DisputedRecordReport[];
  compared?: OwnComparison;
  action: "accepted" | "disputed-and-accepted" | "disputed" | "rejected" | "none";
  txHashes: string[];
}

/** A batch checked, and what to send for it. */
interface Verdict {
  report: VerifyReport;
  /** Disputes to send (by position), empty when none. */
  disputes: IUsageLedger.RecordDisputeStruct[];
  decision: "accept" | "reject" | "none";
}

/**
 * The home carrier's check of one batch: open the payload, check that it opens the header's commitments
 * (payload hash, totals commitment), recompute the positional root and the totals, check that every
 * record is of one of our devices, compare with our own records when given, then accept, dispute the
 * records that differ (by leaf index, leaf and proof: no record contents in calldata) or reject a batch
 * whose payload does not match what was committed.
 */
export async function verifyBatch(opts: VerifyOptions): Promise<VerifyReport> {
  const [report] = await verifyBatches({ ...opts, batchIds: [opts.batchId] });
  return report;
}

/**
 * {@link verifyBatch} for many batches: each is checked, its disputes sent, then the decisions go out
 * together, accepted batches `MAX_DECISIONS` per `acceptBatches`, rejected ones per reason in chunks of
 * `rejectBatches`.
 */
export async function verifyBatches(
  opts: Omit<VerifyOptions, "batchId"> & { batchIds: Hex[]; progress?: ProgressFactory },
): Promise<VerifyReport[]> {
  const verdicts: Verdict[] = [];
  const progress = (opts.progress ?? noProgress)({ label: "verify batches", total: opts.batchIds.length, unit: "batches" });
  try {
    for (const batchId of opts.batchIds) {
      verdicts.push(await checkBatch({ ...opts, batchId }));
      progress.tick();
    }
  } finally {
    progress.done();
  }
  if (!opts.dryRun) await sendVerdicts(opts, verdicts);
  return verdicts.map((v) => v.report);
}

/**
 * The batches of a (visited -> home) pair's period that are still open (submitted, undecided): what the home
 * carrier has left to verify, from the ledger's `UsageBatchSubmitted` events and each batch's status, in
 * the order they were submitted.
 */
export async function openBatchesOf(client: RoamLedgerClient, key: { home: Hex; visited: Hex; period: number }): Promise<Hex[]> {
  const ids = [...(await submittedBatches(client, key)).keys()];
  const statuses = await batchStatuses(client, ids);
  return ids.filter((_, i) => BATCH_STATUSES[statuses[i]] === "submitted");
}

/** Checks one batch and decides what to send (nothing unless it is pending and this is not a dry run). */
async function checkBatch(opts: VerifyOptions): Promise<Verdict> {
  const { batch, status } = await batchToVerify(opts);
  const report = newReport(opts.batchId, batch, status);
  const open = status === "submitted" && !opts.dryRun;
  const content = await readBatchContent(batch, {
    store: opts.store,
    pairKey: () => opts.pairKeyFor(batch.visited),
    rejectMissing: opts.rejectMissing,
  });
  if ("reason" in content) {
    report.payload = content.reason;
    report.problems.push(...content.problems);
    return { report, disputes: [], decision: open ? "reject" : "none" };
  }
  report.recordCount = content.records.length;
  // Record by record: billable records only can be disputed.
  const disputes = new Disputes(content.records);
  report.billableRecords = content.records.filter((r) => r.billing === 0).length;
  await disputeForeignDevices(opts.client, opts.self, disputes);
  if (opts.ownFile) {
    report.compared = await compareWithOwn({ file: opts.ownFile, imsiKey: opts.imsiKey, tolerance: opts.tolerance ?? 0 }, batch, disputes);
  }
  report.disputed = disputes.reports();
  return {
    report,
    disputes: open ? disputesOf(content, disputes) : [],
    decision: open && !opts.noAccept ? "accept" : "none",
  };
}

/** The disputes of a batch as the ledger takes them: position, leaf, proof, reason; ascending positions. */
function disputesOf(content: BatchContent, disputes: Disputes): IUsageLedger.RecordDisputeStruct[] {
  const leaves = content.tree[0];
  return disputes.sorted().map(({ index, reason }) => ({
    leafIndex: index,
    leaf: `0x${leaves.subarray(index * 32, index * 32 + 32).toString("hex")}`,
    proof: merkleProof(content.tree, index),
    reason: DISPUTE_REASONS[reason],
  }));
}

/** The batch's header and status; refuses a batch that bills another home carrier. */
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
    recordCount: 0,
    treeDepth: batch.treeDepth,
    statusBefore: status,
    payload: "ok",
    problems: [],
    billableRecords: 0,
    disputed: [],
    action: "none",
    txHashes: [],
  };
}

/** Sends the disputes of each batch, then the accepts and rejects in chunks; fills in each report's action. */
async function sendVerdicts(opts: { client: RoamLedgerClient; log?: (line: string) => void }, verdicts: Verdict[]): Promise<void> {
  const ledger = opts.client.ledger;
  const queue = new TxQueue(opts.log);
  const sent: { verdict: Verdict; index: number }[] = [];
  const track = (verdict: Verdict) => (index: number) => sent.push({ verdict, index });
  for (const v of verdicts) {
    for (let i = 0; i < v.disputes.length; i += DISPUTES_PER_TX) {
      const chunk = v.disputes.slice(i, i + DISPUTES_PER_TX);
      await queue
        .send(`dispute ${chunk.length} record(s) of ${v.report.batchId}`, () => ledger.disputeRecords(v.report.batchId, chunk))
        .then(track(v));
    }
  }
  const max = Number(await ledger.MAX_DECISIONS());
  for (const [label, group] of decisionGroups(verdicts)) {
    for (let i = 0; i < group.verdicts.length; i += max) {
      const chunk = group.verdicts.slice(i, i + max);
      const ids = chunk.map((v) => v.report.batchId);
      const index = await queue.send(`${label} ${ids.length} batch(es)`, () =>
        group.reason === undefined ? ledger.acceptBatches(ids) : ledger.rejectBatches(ids, group.reason),
      );
      for (const v of chunk) sent.push({ verdict: v, index });
    }
  }
  const receipts = await withDecodedRevert(() => queue.drain());
  for (const { verdict, index } of sent) verdict.report.txHashes.push(receipts[index].hash);
  for (const v of verdicts) v.report.action = actionOf(v);
}

/** Accepted batches in one group; rejected ones grouped by reason (one reason per `rejectBatches`). */
function decisionGroups(verdicts: Verdict[]): Map<string, { reason?: number; verdicts: Verdict[] }> {
  const groups = new Map<string, { reason?: number; verdicts: Verdict[] }>();
  for (const v of verdicts) {
    if (v.decision === "none") continue;
    const reason = v.decision === "reject" && v.report.payload !== "ok" ? REJECT_REASONS[v.report.payload] : undefined;
    const label = reason === undefined ? "accept" : `reject (${v.report.payload})`;
    const group = groups.get(label) ?? { reason, verdicts: [] };
    group.verdicts.push(v);
    groups.set(label, group);
  }
  return groups;
}

function actionOf(v: Verdict): VerifyReport["action"] {
  if (v.decision === "reject") return "rejected";
  if (v.disputes.length === 0) return v.decision === "accept" ? "accepted" : "none";
  return v.decision === "accept" ? "disputed-and-accepted" : "disputed";
}
