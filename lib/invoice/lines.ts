/**
 * The invoice's line items: per tariff class and charge type, data per tier band (the bands of
 * lib/settlement/rating.ts), each with the batches and transactions that prove it.
 */
import { Amount, formatCount } from "../core/amount";
import type { TermsLike } from "../agreements/terms";
import { BYTES_PER_MB, dataBands, type ClassCharges } from "../settlement/rating";
import type { ClassTotals } from "../usage/types";
import type { Hex } from "../util/hex";
import type { NumberedBatch } from "./batches";
import { CHARGE_TYPES, CHARGE_UNITS, type ChargeType, type ClassSummary, type InvoiceChainData, type LineItem } from "./types";
import { InvoiceMismatchError, invoicePair } from "./verify";

/** A line item whose rate and amount are still Amounts: the model prints them once the document's digits are known. */
export interface LineDraft extends Omit<LineItem, "rate" | "amount"> {
  rate: Amount;
  amount: Amount;
}

export interface ClassDraft extends Omit<ClassSummary, "total"> {
  total: Amount;
}

type Plan = TermsLike["ratePlans"][number];
type Evidence = Pick<LineItem, "batchRefs" | "batchIds" | "txHashes">;

/** One class of the period: its usage, the chain's charges, its plan and what a line needs. */
interface ClassContext {
  usage: ClassTotals;
  charges: ClassCharges;
  /** Undefined: no plan for the class in this direction (reported, not billed). */
  plan: Plan | undefined;
  rates: Record<ChargeType, bigint>;
  amount: (units: bigint) => Amount;
  evidence: (type: ChargeType) => Evidence;
}

/** What of `t` a charge type bills. */
function quantityOf(t: ClassTotals, type: ChargeType): bigint {
  switch (type) {
    case "data":
      return t.dataBytes;
    case "signalling":
      return t.signallingEvents;
    case "sms":
      return t.smsCount;
    case "voice":
      return t.voiceSeconds;
    case "monthly":
      return BigInt(t.activeDevices);
    case "surcharge":
      return BigInt(t.roamerDays);
  }
}

/** The rates of `plan` per charge type, in base units; all 0 without a plan. */
function ratesOf(plan: Plan | undefined, terms: TermsLike): Record<ChargeType, bigint> {
  if (!plan) return { data: 0n, signalling: 0n, sms: 0n, voice: 0n, monthly: 0n, surcharge: 0n };
  return {
    data: BigInt(plan.perMb),
    signalling: BigInt(plan.perSignallingEvent),
    sms: BigInt(plan.perSms),
    voice: BigInt(plan.perVoiceMinute),
    monthly: BigInt(plan.monthlyFeePerDevice),
    surcharge: BigInt(terms.permanentRoamingSurchargePerDay),
  };
}

/**
 * The evidence of a (class, charge type): the counted batches that carry such usage (by our payloads),
 * their submission and dispute transactions, the invoice's proposal and close on the escrow and, when
 * settled, the settlement.
 */
function evidenceFinder(data: InvoiceChainData, batches: readonly NumberedBatch[]): (tariffClass: number, type: ChargeType) => Evidence {
  const counted = batches.filter((b) => b.state === "accepted" || b.state === "expired");
  const closing: Hex[] = [data.escrow.proposeTx, data.escrow.closeTx, data.settlement?.tx].filter((h): h is Hex => h !== undefined);
  return (tariffClass, type) => {
    const proving = counted.filter((b) => b.totals.some((t) => t.tariffClass === tariffClass && quantityOf(t, type) > 0n));
    return {
      batchRefs: proving.map((b) => b.ref),
      batchIds: proving.map((b) => b.batchId),
      txHashes: [...new Set([...proving.flatMap((b) => [b.submitTx, ...b.disputeTxs]), ...closing])],
    };
  };
}

/** The data lines of a tiered plan: one per band that carries volume. */
function bandLines(c: ClassContext, plan: Plan): LineDraft[] {
  return dataBands(c.usage.dataBytes, c.rates.data, plan.tiers).map((band) => {
    const fromMb = band.from / BYTES_PER_MB;
    const toMb = band.to === null ? null : band.to / BYTES_PER_MB;
    const range = toMb === null ? `from ${formatCount(fromMb)} MB` : `${formatCount(fromMb)} - ${formatCount(toMb)} MB`;
    return {
      tariffClass: c.usage.tariffClass,
      priced: true,
      chargeType: "data",
      description: `Data, ${range}`,
      band: { fromMb, toMb },
      quantity: band.bytes,
      rate: c.amount(c.rates.data),
      discountBps: band.discountBps,
      amount: c.amount(band.amount),
      ...c.evidence("data"),
    };
  });
}

/** The lines of one class, per charge type. */
function classLines(c: ClassContext): LineDraft[] {
  const lines: LineDraft[] = [];
  for (const type of CHARGE_TYPES) {
    const quantity = quantityOf(c.usage, type);
    const charged = c.plan ? c.charges[type] : 0n;
    // Nothing used, or used at no charge under the plan: no line (an unpriced class shows all its usage).
    if (quantity === 0n && charged === 0n) continue;
    if (c.plan && c.rates[type] === 0n && charged === 0n) continue;
    if (type === "data" && c.plan && c.plan.tiers.length > 0) {
      lines.push(...bandLines(c, c.plan));
      continue;
    }
    lines.push({
      tariffClass: c.usage.tariffClass,
      priced: !!c.plan,
      chargeType: type,
      description: CHARGE_UNITS[type].label,
      quantity,
      rate: c.amount(c.rates[type]),
      discountBps: 0,
      amount: c.amount(charged),
      ...c.evidence(type),
    });
  }
  return lines;
}

/**
 * The line items and class summaries of a verified invoice (see ./verify). Throws InvoiceMismatchError
 * when the lines do not add up to the chain's subtotal: every charge of the rating must appear as a line.
 */
export function lineItems(data: InvoiceChainData, batches: readonly NumberedBatch[]): { lines: LineDraft[]; classes: ClassDraft[] } {
  const amount = (units: bigint) => Amount.fromUnits(data.token, units);
  const evidence = evidenceFinder(data, batches);
  const self = data.payee.plmn.toLowerCase();
  const lines: LineDraft[] = [];
  const classes: ClassDraft[] = [];
  data.periodTotals.forEach((usage, i) => {
    const charges = data.rating.lines[i];
    const plan = data.terms.ratePlans.find((p) => Number(p.tariffClass) === usage.tariffClass && p.visited.toLowerCase() === self);
    classes.push({ tariffClass: usage.tariffClass, priced: charges.priced, usage, total: amount(charges.total) });
    const rates = ratesOf(plan, data.terms);
    lines.push(...classLines({ usage, charges, plan, rates, amount, evidence: (type) => evidence(usage.tariffClass, type) }));
  });
  const sum = lines.reduce((s, l) => s.add(l.amount), Amount.zero(data.token));
  if (sum.units !== data.rating.subtotal) {
    throw new InvoiceMismatchError(
      `the line items of ${invoicePair(data)} add up to ${sum.units}, the rating's subtotal is ${data.rating.subtotal}`,
      {
        hint: "report it: every charge of the rating must appear as a line.",
      },
    );
  }
  return { lines, classes };
}
