import type { Payload } from "../payload";
import { type ClassTotals, SERVICE_DATA, SERVICE_SIGNALLING, SERVICE_SMS, SERVICE_VOICE, type UsageRecord, zeroTotals } from "../types";

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

const SUMMED_FIELDS = [
  "records",
  "dataBytes",
  "signallingEvents",
  "smsCount",
  "voiceSeconds",
  "qosSamples",
  "latencyMsSum",
  "throughputKbpsSum",
] as const;

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
    for (const field of SUMMED_FIELDS) {
      if (BigInt(a[field]) !== BigInt(c[field])) {
        problems.push(`tariff class ${cls}: ${field} claimed ${c[field]}, records add up to ${a[field]}`);
      }
    }
  }
  problems.push(...compareDeviceLists(claimed, payload, records));
  return problems.slice(0, 50);
}

/**
 * Active devices and roamer-days are counted across the period; within a batch each listed device
 * (day) must have billable records here, and the lists must add up to the totals.
 */
function compareDeviceLists(claimed: ClassTotals[], payload: Payload, records: UsageRecord[]): string[] {
  const problems: string[] = [];
  const billableDevices = new Set<string>();
  const billableDays = new Set<string>();
  for (const r of records) {
    if (r.billing !== 0) continue;
    billableDevices.add(r.deviceId);
    billableDays.add(`${r.deviceId}:${Math.floor(r.startTime / 86_400)}`);
  }
  const { activeDevices, roamerDays } = payload.header;
  const activeClaimed = claimed.reduce((s, t) => s + t.activeDevices, 0);
  if (activeClaimed !== activeDevices.length) {
    problems.push(`activeDevices: totals say ${activeClaimed}, the payload lists ${activeDevices.length}`);
  }
  for (const id of activeDevices) {
    if (!billableDevices.has(id)) problems.push(`active device ${id} has no billable record in the batch`);
  }
  const roamerClaimed = claimed.reduce((s, t) => s + t.roamerDays, 0);
  if (roamerClaimed !== roamerDays.length) {
    problems.push(`roamerDays: totals say ${roamerClaimed}, the payload lists ${roamerDays.length}`);
  }
  for (const [id, day] of roamerDays) {
    if (!billableDays.has(`${id}:${day}`)) problems.push(`roamer-day ${id} day ${day} has no billable record that day`);
  }
  return problems;
}
