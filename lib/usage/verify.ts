import { type BaseError, ConfigError, CryptoError, InputError } from "../core/errors";
import type { Hex } from "../util/hex";
import { formatPlmn } from "../core/plmn";
import { createDeviceIdDeriver } from "../core/imsi";
import { withDecodedRevert } from "../chain/revert";
import type { RoamLedgerClient } from "../chain/client";
import { fromEventArgs, toContractBatch } from "./batch";
import { LeafHasher, RECORD_BYTES, unpackRecord, recordIdToBytes32 } from "./leaf";
import { merkleTree, merkleProof, type MerkleTree } from "./merkle";
import { openPayload, type Payload } from "./payload";
import { parseUsageFile } from "./parse";
import type { ContentStore } from "./store";
import { SERVICE_DATA, SERVICE_SIGNALLING, SERVICE_SMS, SERVICE_VOICE } from "./check";
import { DEVICE_READ_CHUNK } from "../devices/resolver";
import { zeroTotals, type ClassTotals, type UsageBatch, type UsageRecord } from "./types";
import { TxQueue } from "../chain/txQueue";

/** Why the home carrier disputes a record (the `reason` of `UsageRecordDisputed`). */
export const DISPUTE_REASONS = {
  NOT_IN_HOME_RECORDS: 1,
  VOLUME_MISMATCH: 2,
  DEVICE_MISMATCH: 3,
  NOT_OUR_DEVICE: 4,
} as const;
export type DisputeReason = keyof typeof DISPUTE_REASONS;

/** Why the home carrier rejects a whole batch (the `reason` of `UsageBatchRejected`). */
export const REJECT_REASONS = {
  PAYLOAD_UNREADABLE: 1,
  ROOT_MISMATCH: 2,
  TOTALS_MISMATCH: 3,
  PAYLOAD_MISSING: 4,
} as const;
export type BatchRejectReason = keyof typeof REJECT_REASONS;

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

export interface DisputedRecordReport {
  recordId: string;
  deviceId: Hex;
  reason: DisputeReason;
  detail: string;
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
  compared?: { ownRecords: number; matched: number; missingFromBatch: number };
  action: "accepted" | "disputed-and-accepted" | "disputed" | "rejected" | "none";
  txHashes: string[];
}

const STATUS_NAMES = ["none", "submitted", "accepted", "rejected"];

function recordIdText(bytes32: Hex): string {
  return Buffer.from(bytes32.slice(2), "hex").toString("latin1").replace(/\0+$/, "");
}

/** Billable totals recomputed from the records (the fields a batch's totals claim of them). */
export function totalsOfRecords(records: UsageRecord[]): Map<number, ClassTotals> {
  const totals = new Map<number, ClassTotals>();
  for (const r of records) {
    if (r.billing !== 0) continue;
    let t = totals.get(r.tariffClass);
    if (!t) {
      t = zeroTotals(r.tariffClass);
      totals.set(r.tariffClass, t);
    }
    t.records++;
    if (r.service === SERVICE_DATA) t.dataBytes += BigInt(r.bytesUp + r.bytesDown);
    else if (r.service === SERVICE_SMS) t.smsCount += BigInt(r.events);
    else if (r.service === SERVICE_VOICE) t.voiceSeconds += BigInt(r.duration);
    else if (r.service === SERVICE_SIGNALLING) t.signallingEvents += BigInt(r.events);
    if (r.latencyMs > 0 && r.throughputKbps > 0) {
      t.qosSamples++;
      t.latencyMsSum += BigInt(r.latencyMs);
      t.throughputKbpsSum += BigInt(r.throughputKbps);
    }
  }
  return totals;
}

/** Differences between claimed totals and the records' totals (plus the per-device counts). */
export function compareTotals(claimed: ClassTotals[], payload: Payload, records: UsageRecord[]): string[] {
  const problems: string[] = [];
  const actual = totalsOfRecords(records);
  const claimedByClass = new Map(claimed.map((t) => [t.tariffClass, t]));
  for (const cls of new Set([...actual.keys(), ...claimedByClass.keys()])) {
    const a = actual.get(cls);
    const c = claimedByClass.get(cls);
    if (!a || !c) {
      problems.push(`tariff class ${cls}: ${a ? "billable records but no totals" : "totals but no billable records"}`);
      continue;
    }
    for (const field of [
      "records",
      "dataBytes",
      "signallingEvents",
      "smsCount",
      "voiceSeconds",
      "qosSamples",
      "latencyMsSum",
      "throughputKbpsSum",
    ] as const) {
      if (BigInt(a[field]) !== BigInt(c[field])) {
        problems.push(`tariff class ${cls}: ${field} claimed ${c[field]}, records add up to ${a[field]}`);
      }
    }
  }
  // Active devices and roamer-days are counted across the period; within a batch each listed device
  // (day) must have billable records here, and the lists must add up to the totals.
  const billableDevices = new Map<string, number>();
  const billableDays = new Set<string>();
  for (const r of records) {
    if (r.billing !== 0) continue;
    billableDevices.set(r.deviceId, r.tariffClass);
    billableDays.add(`${r.deviceId}:${Math.floor(r.startTime / 86_400)}`);
  }
  const activeClaimed = claimed.reduce((s, t) => s + t.activeDevices, 0);
  if (activeClaimed !== payload.header.activeDevices.length) {
    problems.push(`activeDevices: totals say ${activeClaimed}, the payload lists ${payload.header.activeDevices.length}`);
  }
  for (const id of payload.header.activeDevices) {
    if (!billableDevices.has(id)) problems.push(`active device ${id} has no billable record in the batch`);
  }
  const roamerClaimed = claimed.reduce((s, t) => s + t.roamerDays, 0);
  if (roamerClaimed !== payload.header.roamerDays.length) {
    problems.push(`roamerDays: totals say ${roamerClaimed}, the payload lists ${payload.header.roamerDays.length}`);
  }
  for (const [id, day] of payload.header.roamerDays) {
    if (!billableDays.has(`${id}:${day}`)) problems.push(`roamer-day ${id} day ${day} has no billable record that day`);
  }
  return problems.slice(0, 50);
}

function treeRoot(tree: MerkleTree): Hex {
  return `0x${tree[tree.length - 1].toString("hex")}`;
}

/** Finds the batch's summary in the ledger's `UsageBatchSubmitted` event. */
export async function fetchBatchSummary(client: RoamLedgerClient, batchId: Hex): Promise<{ batch: UsageBatch; block: number }> {
  const ledger = client.ledger;
  const logs = await ledger.queryFilter(ledger.filters.UsageBatchSubmitted(batchId), 0, "latest");
  if (logs.length === 0) {
    throw new InputError(`no usage batch ${batchId} on this chain`, {
      location: { file: "--batch" },
      hint: "copy the batch id from usage:ingest's output or from `watch` (0x followed by 64 hex digits).",
    });
  }
  const log = logs[0];
  return { batch: fromEventArgs(log.args), block: log.blockNumber };
}

/**
 * The home carrier's check of one batch: fetch and decrypt the payload, recompute the Merkle root and
 * the totals, check that every record is of one of our devices, compare with our own records when given,
 * then accept, dispute the records that differ (with Merkle proofs) or reject a batch whose payload does
 * not match what was committed.
 */
export async function verifyBatch(opts: VerifyOptions): Promise<VerifyReport> {
  const log = opts.log ?? (() => {});
  const { client, batchId, self } = opts;
  const ledger = client.ledger;
  const { batch } = await fetchBatchSummary(client, batchId);
  if (batch.home !== self) {
    throw new ConfigError(`batch ${batchId} bills ${formatPlmn(batch.home)}, not ${formatPlmn(self)}`, {
      hint: "only the billed home carrier verifies a batch; use --from with one of its operator accounts.",
    });
  }
  const info = await ledger.getBatch(batchId);
  const status = STATUS_NAMES[Number(info.status)] ?? "unknown";
  const report: VerifyReport = {
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
  const open = status === "submitted" && !opts.dryRun;
  const queue = new TxQueue(log);

  const reject = async (reason: BatchRejectReason, problems: string[]) => {
    report.payload = reason;
    report.problems.push(...problems);
    if (open) {
      await queue.send(`reject batch (${reason})`, () => ledger.rejectBatch(batchId, REJECT_REASONS[reason]));
      const receipts = await queue.drain();
      report.txHashes.push(...receipts.map((r) => r.hash));
      report.action = "rejected";
    }
    return report;
  };

  let sealed: Uint8Array;
  try {
    sealed = await opts.store.get(batch.payloadHash);
  } catch (error) {
    if (opts.rejectMissing) return reject("PAYLOAD_MISSING", [(error as BaseError).shortMessage ?? String(error)]);
    throw error;
  }
  let payload: Payload;
  try {
    payload = openPayload(await opts.pairKeyFor(batch.visited), sealed, batch, RECORD_BYTES);
  } catch (error) {
    if (error instanceof CryptoError) return reject("PAYLOAD_UNREADABLE", [error.shortMessage]);
    throw error;
  }
  if (payload.header.recordCount !== batch.recordCount) {
    return reject("ROOT_MISMATCH", [`payload has ${payload.header.recordCount} records, the batch commits ${batch.recordCount}`]);
  }
  const hasher = await LeafHasher.create();
  const records: UsageRecord[] = new Array(batch.recordCount);
  const leaves = Buffer.alloc(batch.recordCount * 32);
  for (let i = 0; i < batch.recordCount; i++) {
    const offset = i * RECORD_BYTES;
    records[i] = unpackRecord(payload.records, offset);
    hasher.leafInto(payload.records, offset, leaves, i * 32);
  }
  const tree = await merkleTree(leaves);
  if (treeRoot(tree) !== batch.merkleRoot) {
    return reject("ROOT_MISMATCH", [`records hash to root ${treeRoot(tree)}, the batch commits ${batch.merkleRoot}`]);
  }
  const totalsProblems = compareTotals(batch.totals, payload, records);
  if (totalsProblems.length > 0) return reject("TOTALS_MISMATCH", totalsProblems);

  // Record by record: billable records only can be disputed.
  const disputes = new Map<number, DisputedRecordReport>();
  const dispute = (i: number, reason: DisputeReason, detail: string) => {
    if (records[i].billing !== 0 || disputes.has(i)) return;
    disputes.set(i, { recordId: recordIdText(records[i].recordId), deviceId: records[i].deviceId, reason, detail });
  };
  report.billableRecords = records.filter((r) => r.billing === 0).length;

  // Devices: every billed device must be ours.
  const deviceIds = [...new Set(records.filter((r) => r.billing === 0).map((r) => r.deviceId))];
  const notOurs = new Set<string>();
  for (let i = 0; i < deviceIds.length; i += DEVICE_READ_CHUNK) {
    const slice = deviceIds.slice(i, i + DEVICE_READ_CHUNK);
    const found = await client.devices.getDevices(slice);
    found.forEach((d, k) => {
      if (Number(d.status) === 0 || (d.home as string).toLowerCase() !== self) notOurs.add(slice[k]);
    });
  }
  records.forEach((r, i) => {
    if (notOurs.has(r.deviceId)) dispute(i, "NOT_OUR_DEVICE", "the device is not registered to us");
  });

  if (opts.ownFile) {
    report.compared = await compareWithOwn(opts, batch, records, dispute);
  }
  report.disputed = [...disputes.values()];

  if (!open) return report;
  const indexes = [...disputes.keys()].sort((a, b) => a - b);
  for (let i = 0; i < indexes.length; i += DISPUTES_PER_TX) {
    const chunk = indexes.slice(i, i + DISPUTES_PER_TX).map((index) => ({
      record: records[index],
      proof: merkleProof(tree, index),
      reason: DISPUTE_REASONS[disputes.get(index)!.reason],
    }));
    await queue.send(`dispute ${chunk.length} record(s)`, () => ledger.disputeRecords(toContractBatch(batch), chunk));
  }
  if (!opts.noAccept) {
    await queue.send("accept batch", () => ledger.acceptBatches([batchId]));
  }
  const receipts = await withDecodedRevert(() => queue.drain());
  report.txHashes.push(...receipts.map((r) => r.hash));
  report.action = indexes.length > 0 ? (opts.noAccept ? "disputed" : "disputed-and-accepted") : opts.noAccept ? "none" : "accepted";
  return report;
}

async function compareWithOwn(
  opts: VerifyOptions,
  batch: UsageBatch,
  records: UsageRecord[],
  dispute: (i: number, reason: DisputeReason, detail: string) => void,
): Promise<{ ownRecords: number; matched: number; missingFromBatch: number }> {
  const deriveId = createDeviceIdDeriver(opts.imsiKey);
  const tolerance = opts.tolerance ?? 0;
  const own = new Map<string, { deviceId: Hex; service: number; bytes: number; events: number; duration: number }>();
  const idCache = new Map<string, Hex>();
  for await (const chunk of parseUsageFile(opts.ownFile!, { home: batch.home, visited: batch.visited, period: batch.period })) {
    for (const r of chunk.records) {
      let id = idCache.get(r.imsi);
      if (!id) {
        id = deriveId(r.imsi);
        idCache.set(r.imsi, id);
      }
      own.set(recordIdToBytes32(r.recordId), {
        deviceId: id,
        service: r.service,
        bytes: r.bytesUp + r.bytesDown,
        events: r.events,
        duration: r.duration,
      });
    }
  }
  let matched = 0;
  const seen = new Set<string>();
  records.forEach((r, i) => {
    const mine = own.get(r.recordId);
    if (!mine) {
      dispute(i, "NOT_IN_HOME_RECORDS", "no record with this id in our own records");
      return;
    }
    seen.add(r.recordId);
    if (mine.deviceId !== r.deviceId || mine.service !== r.service) {
      dispute(i, "DEVICE_MISMATCH", "our record of this id is of another device or service");
      return;
    }
    const bytes = r.bytesUp + r.bytesDown;
    const limit = Math.floor(mine.bytes * tolerance);
    if (Math.abs(bytes - mine.bytes) > limit || r.events !== mine.events || r.duration !== mine.duration) {
      dispute(
        i,
        "VOLUME_MISMATCH",
        `billed ${bytes} bytes / ${r.events} events / ${r.duration} s, we counted ${mine.bytes} / ${mine.events} / ${mine.duration}`,
      );
      return;
    }
    matched++;
  });
  return { ownRecords: own.size, matched, missingFromBatch: [...own.keys()].filter((k) => !seen.has(k)).length };
}
