/** The usage the home carrier disputed in the period, and what it would have cost at the agreement's rates. */
import { Amount } from "../core/amount";
import { rateInvoice } from "../settlement/rating";
import { sumByClass } from "../settlement/totals";
import { disputeReasonText } from "../usage/reasons";
import type { ClassTotals } from "../usage/types";
import type { NumberedBatch } from "./batches";
import type { InvoiceChainData, InvoiceModel } from "./types";

/** The disputes section with its value still an Amount (printed with the document's digits). */
export interface DisputesDraft extends Omit<InvoiceModel["disputes"], "value"> {
  value: Amount;
}

/** The disputed usage at the agreement's rates: the subtotal with it added back, less the subtotal. */
function disputedValue(data: InvoiceChainData, disputed: readonly ClassTotals[]): Amount {
  const usageOnly = disputed.map((d) => ({
    ...d,
    activeDevices: 0,
    roamerDays: 0,
    qosSamples: 0,
    latencyMsSum: 0n,
    throughputKbpsSum: 0n,
  }));
  const withDisputed = rateInvoice(sumByClass([data.periodTotals, usageOnly]), data.terms, data.payee.plmn).subtotal;
  return Amount.fromUnits(data.token, withDisputed).sub(Amount.fromUnits(data.token, data.rating.subtotal));
}

/** Disputed usage per class (of the batches that count), its value, and the batches with disputes. */
export function disputesOf(data: InvoiceChainData, batches: readonly NumberedBatch[]): DisputesDraft {
  const disputing = batches.filter((b) => b.disputedRecords > 0 || b.disputeTxs.length > 0);
  const disputed = sumByClass(disputing.filter((b) => b.state !== "rejected").map((b) => b.disputed));
  return {
    perClass: disputed.map((d) => ({
      tariffClass: d.tariffClass,
      records: d.records,
      dataBytes: d.dataBytes,
      signallingEvents: d.signallingEvents,
      smsCount: d.smsCount,
      voiceSeconds: d.voiceSeconds,
    })),
    records: batches.reduce((n, b) => n + b.disputedRecords, 0),
    value: disputedValue(data, disputed),
    batches: disputing.map((b) => ({
      ref: b.ref,
      batchId: b.batchId,
      records: b.disputedRecords,
      reasons: b.disputeReasons.map((r) => ({ reason: r.name, text: disputeReasonText(r.reason), records: r.records })),
      txHashes: b.disputeTxs,
    })),
  };
}
