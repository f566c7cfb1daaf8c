/**
 * Usage totals added up per tariff class, as invoices and reports need them: the usage disputed in a
 * period, the usage submitted so far net of its disputes.
 */
import { zeroTotals, type ClassTotals } from "../usage/types";

/** `a` + `b`, field by field; the class is `a`'s. */
export function addTotals(a: ClassTotals, b: ClassTotals): ClassTotals {
  return {
    tariffClass: a.tariffClass,
    records: a.records + b.records,
    activeDevices: a.activeDevices + b.activeDevices,
    roamerDays: a.roamerDays + b.roamerDays,
    dataBytes: a.dataBytes + b.dataBytes,
    signallingEvents: a.signallingEvents + b.signallingEvents,
    smsCount: a.smsCount + b.smsCount,
    voiceSeconds: a.voiceSeconds + b.voiceSeconds,
    qosSamples: a.qosSamples + b.qosSamples,
    latencyMsSum: a.latencyMsSum + b.latencyMsSum,
    throughputKbpsSum: a.throughputKbpsSum + b.throughputKbpsSum,
  };
}

/** Every totals of `lists` summed per tariff class, ascending by class. */
export function sumByClass(lists: readonly (readonly ClassTotals[])[]): ClassTotals[] {
  const byClass = new Map<number, ClassTotals>();
  for (const totals of lists) {
    for (const t of totals) byClass.set(t.tariffClass, addTotals(byClass.get(t.tariffClass) ?? zeroTotals(t.tariffClass), t));
  }
  return [...byClass.values()].sort((a, b) => a.tariffClass - b.tariffClass);
}

/** `t` less the usage `d` took off by disputes (never below zero); devices, days and QoS stay. */
function lessDisputed(t: ClassTotals, d: ClassTotals | undefined): ClassTotals {
  if (!d) return t;
  const less = (a: bigint, b: bigint) => (a > b ? a - b : 0n);
  return {
    ...t,
    records: Math.max(0, t.records - d.records),
    dataBytes: less(t.dataBytes, d.dataBytes),
    signallingEvents: less(t.signallingEvents, d.signallingEvents),
    smsCount: less(t.smsCount, d.smsCount),
    voiceSeconds: less(t.voiceSeconds, d.voiceSeconds),
  };
}

/** Totals of batches, each less its disputed usage, summed per class: what the ledger will net them to. */
export function netOfDisputes(batches: readonly { totals: readonly ClassTotals[]; disputed: readonly ClassTotals[] }[]): ClassTotals[] {
  return sumByClass(
    batches.map((b) => {
      const disputed = new Map(b.disputed.map((d) => [d.tariffClass, d]));
      return b.totals.map((t) => lessDisputed(t, disputed.get(t.tariffClass)));
    }),
  );
}

// ---------------------------------------------------------------------------------------------------
// The period's rated totals (the dispute rule of docs/confidentiality.md, as RevealLib computes it)
// ---------------------------------------------------------------------------------------------------

const U32 = 2 ** 32 - 1;
const U64 = 2n ** 64n - 1n;
const add32 = (a: number, b: number) => Math.min(U32, a + b);
const add64 = (a: bigint, b: bigint) => (a + b > U64 ? U64 : a + b);
const sub32 = (a: number, b: number) => Math.max(0, a - b);
const sub64 = (a: bigint, b: bigint) => (a > b ? a - b : 0n);

/** What a disputed record takes off its class (contract struct `UsageRecord`, the fields the rule reads). */
export interface DisputedRecordLike {
  service: number;
  tariffClass: number;
  billing: number;
  duration: number | bigint;
  bytesUp: number | bigint;
  bytesDown: number | bigint;
  events: number | bigint;
  latencyMs: number | bigint;
  throughputKbps: number | bigint;
}

/** One counted batch as the rule reads it: its opened totals and its disputed records in the ledger's order. */
export interface BatchForRating {
  totals: readonly ClassTotals[];
  disputed: readonly DisputedRecordLike[];
}

/** `sum` + `t` field by field, each saturating at its Solidity type's maximum (RevealLib.addTotals). */
function addSaturating(sum: ClassTotals, t: ClassTotals): ClassTotals {
  return {
    tariffClass: sum.tariffClass,
    records: add32(sum.records, t.records),
    activeDevices: add32(sum.activeDevices, t.activeDevices),
    roamerDays: add32(sum.roamerDays, t.roamerDays),
    qosSamples: add32(sum.qosSamples, t.qosSamples),
    dataBytes: add64(sum.dataBytes, t.dataBytes),
    signallingEvents: add64(sum.signallingEvents, t.signallingEvents),
    smsCount: add64(sum.smsCount, t.smsCount),
    voiceSeconds: add64(sum.voiceSeconds, t.voiceSeconds),
    latencyMsSum: add64(sum.latencyMsSum, t.latencyMsSum),
    throughputKbpsSum: add64(sum.throughputKbpsSum, t.throughputKbpsSum),
  };
}

/** Service codes of `UsageRecord.service`. */
const SERVICE = { data: 0, sms: 1, voice: 2, signalling: 3 } as const;

/**
 * `t` less the measured contribution of the billable record `r` (RevealLib.subtractRecord): 1 record, its
 * own service's measure, and its QoS sample when it carries a latency and a throughput; devices and roamer
 * days stay; every difference stops at 0. A record that is not billable takes nothing off.
 */
export function lessRecord(t: ClassTotals, r: DisputedRecordLike): ClassTotals {
  if (Number(r.billing) !== 0) return t;
  const out = { ...t, records: sub32(t.records, 1) };
  const service = Number(r.service);
  if (service === SERVICE.data) out.dataBytes = sub64(t.dataBytes, BigInt(r.bytesUp) + BigInt(r.bytesDown));
  else if (service === SERVICE.sms) out.smsCount = sub64(t.smsCount, BigInt(r.events));
  else if (service === SERVICE.voice) out.voiceSeconds = sub64(t.voiceSeconds, BigInt(r.duration));
  else if (service === SERVICE.signalling) out.signallingEvents = sub64(t.signallingEvents, BigInt(r.events));
  if (BigInt(r.latencyMs) > 0n && BigInt(r.throughputKbps) > 0n) {
    out.qosSamples = sub32(t.qosSamples, 1);
    out.latencyMsSum = sub64(t.latencyMsSum, BigInt(r.latencyMs));
    out.throughputKbpsSum = sub64(t.throughputKbpsSum, BigInt(r.throughputKbps));
  }
  return out;
}

/**
 * The period's rated totals: the counted batches' totals summed per class in the ledger's counted order,
 * each batch less its billable disputed records right after it, with RevealLib's saturation (sums at the
 * type's maximum, differences at 0). One entry per class any batch's totals name, ascending; a disputed
 * record of a class no batch names takes nothing. Equal to what a reveal of the same openings computes.
 */
export function ratedPeriodTotals(batches: readonly BatchForRating[]): ClassTotals[] {
  const byClass = new Map<number, ClassTotals>();
  for (const batch of batches) {
    for (const t of batch.totals) byClass.set(t.tariffClass, addSaturating(byClass.get(t.tariffClass) ?? zeroTotals(t.tariffClass), t));
    for (const r of batch.disputed) {
      const sum = byClass.get(Number(r.tariffClass));
      if (sum) byClass.set(sum.tariffClass, lessRecord(sum, r));
    }
  }
  return [...byClass.values()].sort((a, b) => a.tariffClass - b.tariffClass);
}

/** `a` - `b` field by field (never below 0): what `b` lacks of `a`. */
function difference(a: ClassTotals, b: ClassTotals): ClassTotals {
  return {
    tariffClass: a.tariffClass,
    records: sub32(a.records, b.records),
    activeDevices: sub32(a.activeDevices, b.activeDevices),
    roamerDays: sub32(a.roamerDays, b.roamerDays),
    qosSamples: sub32(a.qosSamples, b.qosSamples),
    dataBytes: sub64(a.dataBytes, b.dataBytes),
    signallingEvents: sub64(a.signallingEvents, b.signallingEvents),
    smsCount: sub64(a.smsCount, b.smsCount),
    voiceSeconds: sub64(a.voiceSeconds, b.voiceSeconds),
    latencyMsSum: sub64(a.latencyMsSum, b.latencyMsSum),
    throughputKbpsSum: sub64(a.throughputKbpsSum, b.throughputKbpsSum),
  };
}

/**
 * What the disputed records of one batch take off its totals, per class (the rule of
 * {@link ratedPeriodTotals}): its totals less the same totals after the disputes. Classes with nothing
 * taken off are left out.
 */
export function disputedContribution(batch: BatchForRating): ClassTotals[] {
  const before = ratedPeriodTotals([{ totals: batch.totals, disputed: [] }]);
  const after = ratedPeriodTotals([batch]);
  return before.map((t, i) => difference(t, after[i])).filter((d) => d.records > 0);
}
