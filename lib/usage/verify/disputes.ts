import type { RoamLedgerClient } from "../../chain/client";
import { createDeviceIdDeriver } from "../../core/imsi";
import type { Hex } from "../../util/hex";
import { DEVICE_READ_CHUNK, STATUS } from "../../devices/resolver";
import { recordIdToBytes32 } from "../leaf";
import { parseUsageFile } from "../parse";
import type { UsageBatch, UsageRecord } from "../types";

/** Why the home carrier disputes a record (the `reason` of `UsageRecordDisputed`). */
export const DISPUTE_REASONS = {
  NOT_IN_HOME_RECORDS: 1,
  VOLUME_MISMATCH: 2,
  DEVICE_MISMATCH: 3,
  NOT_OUR_DEVICE: 4,
} as const;
export type DisputeReason = keyof typeof DISPUTE_REASONS;

export interface DisputedRecordReport {
  /** The record's position in the batch's tree: what the ledger keeps of the dispute, with the leaf. */
  leafIndex: number;
  recordId: string;
  deviceId: Hex;
  reason: DisputeReason;
  detail: string;
}

/** What the home carrier's own records of the batch's usage found. */
export interface OwnComparison {
  ownRecords: number;
  matched: number;
  missingFromBatch: number;
}

/** The records of a batch to dispute, by index: billable records only, the first reason found for each. */
export class Disputes {
  private readonly byIndex = new Map<number, DisputedRecordReport>();

  constructor(readonly records: readonly UsageRecord[]) {}

  add(i: number, reason: DisputeReason, detail: string): void {
    const r = this.records[i];
    if (r.billing !== 0 || this.byIndex.has(i)) return;
    this.byIndex.set(i, { leafIndex: i, recordId: recordIdText(r.recordId), deviceId: r.deviceId, reason, detail });
  }

  /** The disputed records, in the order they were found. */
  reports(): DisputedRecordReport[] {
    return [...this.byIndex.values()];
  }

  /** The disputed records' indices, ascending, with their reasons. */
  sorted(): { index: number; reason: DisputeReason }[] {
    return [...this.byIndex.entries()].sort(([a], [b]) => a - b).map(([index, d]) => ({ index, reason: d.reason }));
  }
}

/** A record id as text for a report (the bytes32 without its zero padding; not checked). */
function recordIdText(bytes32: Hex): string {
  return Buffer.from(bytes32.slice(2), "hex").toString("latin1").replace(/\0+$/, "");
}

/** Disputes every billable record of a device that is not registered to `self`. */
export async function disputeForeignDevices(client: RoamLedgerClient, self: Hex, disputes: Disputes): Promise<void> {
  const records = disputes.records;
  const deviceIds = [...new Set(records.filter((r) => r.billing === 0).map((r) => r.deviceId))];
  const notOurs = new Set<string>();
  for (let i = 0; i < deviceIds.length; i += DEVICE_READ_CHUNK) {
    const slice = deviceIds.slice(i, i + DEVICE_READ_CHUNK);
    const found = await client.devices.getDevices(slice);
    found.forEach((d, k) => {
      if (Number(d.status) === STATUS.None || (d.home as string).toLowerCase() !== self) notOurs.add(slice[k]);
    });
  }
  records.forEach((r, i) => {
    if (notOurs.has(r.deviceId)) disputes.add(i, "NOT_OUR_DEVICE", "the device is not registered to us");
  });
}

interface OwnRecord {
  deviceId: Hex;
  service: number;
  bytes: number;
  events: number;
  duration: number;
}

/** The home carrier's own records of the batch's pair and period, by record id (bytes32). */
async function readOwnRecords(file: string, batch: UsageBatch, imsiKey: Uint8Array): Promise<Map<string, OwnRecord>> {
  const deriveId = createDeviceIdDeriver(imsiKey, batch.home);
  const own = new Map<string, OwnRecord>();
  const idCache = new Map<string, Hex>();
  for await (const chunk of parseUsageFile(file, { home: batch.home, visited: batch.visited, period: batch.period })) {
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
  return own;
}

/**
 * Disputes the batch's records that the home carrier's own records (a usage file) do not have, or have
 * for another device or service, or with other quantities (data volume beyond `tolerance`, relative).
 */
export async function compareWithOwn(
  own: { file: string; imsiKey: Uint8Array; tolerance: number },
  batch: UsageBatch,
  disputes: Disputes,
): Promise<OwnComparison> {
  const records = disputes.records;
  const ownRecords = await readOwnRecords(own.file, batch, own.imsiKey);
  let matched = 0;
  const seen = new Set<string>();
  records.forEach((r, i) => {
    const mine = ownRecords.get(r.recordId);
    if (!mine) {
      disputes.add(i, "NOT_IN_HOME_RECORDS", "no record with this id in our own records");
      return;
    }
    seen.add(r.recordId);
    if (mine.deviceId !== r.deviceId || mine.service !== r.service) {
      disputes.add(i, "DEVICE_MISMATCH", "our record of this id is of another device or service");
      return;
    }
    const bytes = r.bytesUp + r.bytesDown;
    const limit = Math.floor(mine.bytes * own.tolerance);
    if (Math.abs(bytes - mine.bytes) > limit || r.events !== mine.events || r.duration !== mine.duration) {
      const detail = `billed ${bytes} bytes / ${r.events} events / ${r.duration} s, we counted ${mine.bytes} / ${mine.events} / ${mine.duration}`;
      disputes.add(i, "VOLUME_MISMATCH", detail);
      return;
    }
    matched++;
  });
  return { ownRecords: ownRecords.size, matched, missingFromBatch: [...ownRecords.keys()].filter((k) => !seen.has(k)).length };
}
