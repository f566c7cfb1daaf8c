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
