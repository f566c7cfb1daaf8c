import { hexlify } from "ethers";
import type { Hex } from "../../lib/util/hex";
import { recordIdToBytes32 } from "../../lib/usage/leaf";
import { zeroTotals, type ClassTotals, type UsageBatch, type UsageRecord } from "../../lib/usage/types";
import { addTotals } from "../../lib/settlement/totals";

/** Service codes of a usage record (contract enum `Service`). */
export const SERVICE = { data: 0, sms: 1, voice: 2, signalling: 3 } as const;

/** A small seeded PRNG (mulberry32), so that random records are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` random records of `home` served by `visited`: every service, classes 1 and 2, 1 in 5 not billable. */
export function randomRecords(count: number, home: Hex, visited: Hex, seed = 1, startTime = 1_700_000_000): UsageRecord[] {
  const rnd = prng(seed);
  const int = (max: number) => Math.floor(rnd() * (max + 1));
  const bytes = (n: number) => hexlify(Uint8Array.from({ length: n }, () => int(255))) as Hex;
  const records: UsageRecord[] = [];
  for (let i = 0; i < count; i++) {
    const service = int(3);
    const measured = rnd() < 0.5;
    records.push({
      recordId: recordIdToBytes32(`BR-${seed}-${i}`),
      deviceId: bytes(32),
      home,
      visited,
      service,
      rat: int(5),
      startTime: startTime + int(86_400 * 28),
      duration: service === SERVICE.voice ? int(3_600) : int(600),
      bytesUp: service === SERVICE.data ? int(50_000_000) : 0,
      bytesDown: service === SERVICE.data ? int(200_000_000) : 0,
      events: service === SERVICE.sms || service === SERVICE.signalling ? 1 + int(20) : 0,
      latencyMs: measured ? 1 + int(900) : 0,
      throughputKbps: measured ? 1 + int(50_000) : 0,
      tariffClass: 1 + int(1),
      billing: rnd() < 0.2 ? 1 + int(5) : 0,
    });
  }
  return records;
}

/** What one record adds to its class: 1 record and its own service's usage (as disputes count it). */
export function usageOf(r: UsageRecord): ClassTotals {
  const t = zeroTotals(r.tariffClass);
  t.records = 1;
  if (r.service === SERVICE.data) t.dataBytes = BigInt(r.bytesUp) + BigInt(r.bytesDown);
  if (r.service === SERVICE.sms) t.smsCount = BigInt(r.events);
  if (r.service === SERVICE.voice) t.voiceSeconds = BigInt(r.duration);
  if (r.service === SERVICE.signalling) t.signallingEvents = BigInt(r.events);
  return t;
}

/** Billable totals per class (ascending) of records, computed the plain way. */
export function totalsOf(records: readonly UsageRecord[]): ClassTotals[] {
  const byClass = new Map<number, ClassTotals>();
  const devices = new Map<number, Set<string>>();
  for (const r of records) {
    if (r.billing !== 0) continue;
    const t = addTotals(byClass.get(r.tariffClass) ?? zeroTotals(r.tariffClass), usageOf(r));
    byClass.set(r.tariffClass, t);
    const seen = devices.get(r.tariffClass) ?? new Set<string>();
    seen.add(r.deviceId);
    devices.set(r.tariffClass, seen);
    t.activeDevices = seen.size;
    if (r.latencyMs > 0 && r.throughputKbps > 0) {
      t.qosSamples += 1;
      t.latencyMsSum += BigInt(r.latencyMs);
      t.throughputKbpsSum += BigInt(r.throughputKbps);
    }
  }
  return [...byClass.values()].sort((a, b) => a.tariffClass - b.tariffClass);
}

/** A batch header of `visited` for `home` (a tree of 1,000,000 records' depth); override any field. */
export function makeBatch(visited: Hex, home: Hex, period: number, overrides: Partial<UsageBatch> = {}): UsageBatch {
  return {
    visited,
    home,
    period,
    merkleRoot: `0x${"ab".repeat(32)}`,
    treeDepth: 20,
    payloadHash: `0x${"cd".repeat(32)}`,
    totalsCommitment: `0x${"ef".repeat(32)}`,
    ...overrides,
  };
}

/** Realistic, large totals of a class (no zero bytes to spare in calldata). */
export function bigTotals(tariffClass: number, records = 300_000): ClassTotals {
  return {
    tariffClass,
    records,
    activeDevices: 41_234,
    roamerDays: 1_234,
    dataBytes: 123_456_789_012_345n,
    signallingEvents: 9_876_543n,
    smsCount: 345_678n,
    voiceSeconds: 456_789n,
    qosSamples: 98_765,
    latencyMsSum: 12_345_678_901n,
    throughputKbpsSum: 987_654_321_098n,
  };
}

/** yyyymm of a unix time (UTC). */
export function periodOf(unixSeconds: number): number {
  const d = new Date(unixSeconds * 1000);
  return d.getUTCFullYear() * 100 + d.getUTCMonth() + 1;
}

/** First second of a yyyymm period and of the next one (UTC), by the JavaScript calendar. */
export function boundsOf(period: number): [number, number] {
  const year = Math.floor(period / 100);
  const month = period % 100;
  return [Date.UTC(year, month - 1, 1) / 1000, Date.UTC(year, month, 1) / 1000];
}
