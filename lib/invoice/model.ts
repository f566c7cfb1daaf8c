/**
 * The invoice of one direction of a roaming pair for one period, as a model that the JSON, CSV and PDF
 * renderers print. Every amount is the on-chain invoice's (the `InvoiceClosed` rating); the model is built
 * only after lib/settlement/rating.ts, run on the ledger's final period totals and the agreement version the invoice
 * was rated with, has given exactly the same figures. Every line names the batches and transactions that
 * prove it.
 *
 * `buildInvoiceModel` is pure (chain data in, model out); `readInvoiceData` (./chain) gathers the data.
 */
import { AbiCoder, keccak256 } from "ethers";
import { BaseError } from "../core/errors";
import { formatPlmn } from "../core/plmn";
import { isoTime, type TermsLike } from "../agreements/terms";
import { BYTES_PER_MB, dataBands, rateInvoice, type Rating } from "../settlement/rating";
import { formatPeriod, periodBounds } from "../core/period";
import type { Hex } from "../util/hex";
import { zeroTotals, type ClassTotals } from "../usage/types";

// ---------------------------------------------------------------------------------------------------
// Chain data (input)
// ---------------------------------------------------------------------------------------------------

/** A consortium member as the registry names it. */
export interface Party {
  /** bytes3 TBCD, lower case. */
  plmn: Hex;
  name: string;
}

export interface TokenRef {
  address: string;
  symbol: string;
  decimals: number;
}

/** Where a batch is (ledger `BatchStatus`, without None). */
export type BatchState = "submitted" | "accepted" | "rejected";

/** One committed batch of the period and what happened to it, with the transactions. */
export interface BatchEvidence {
  batchId: Hex;
  state: BatchState;
  /** Unix seconds. */
  submittedAt: number;
  submitTx: Hex;
  recordCount: number;
  /** Billable totals as submitted (the `UsageBatchSubmitted` event). */
  totals: ClassTotals[];
  /** Usage taken off by disputes, per class (`disputedTotals(batchId)`). */
  disputed: ClassTotals[];
  /** Records disputed (`getBatch(batchId).disputedRecords`). */
  disputedRecords: number;
  /** `UsageRecordDisputed` transactions, oldest first, and the reasons given. */
  disputeTxs: Hex[];
  disputeReasons: { reason: number; name: string; records: number }[];
  acceptTx?: Hex;
  rejectTx?: Hex;
  rejectReason?: { code: number; name: string };
}

/** The on-chain settlement of the pair and period (`PeriodSettled` and what followed in its transaction). */
export interface SettlementEvidence {
  tx: Hex;
  /** Unix seconds (the block's). */
  at: number;
  /** `SettlementPaid` of the transaction: after netting, who paid whom. */
  payments: { debtor: Hex; creditor: Hex; token: string; owed: bigint; paid: bigint; payout: string }[];
  /** `SettlementShortfall` of the transaction. */
  shortfalls: { debtor: Hex; creditor: Hex; token: string; paid: bigint; owed: bigint }[];
  /** The two invoices' amounts as `PeriodSettled` gives them: what the payer owed the payee and back. */
  payerOwed: bigint;
  payeeOwed: bigint;
}

/** Records that were committed but not billed, counted from the decrypted payloads. */
export type NotBillableData =
  | {
      available: true;
      batchesRead: number;
      records: number;
      byReason: { code: number; reason: string; records: number; perClass: { tariffClass: number; records: number }[] }[];
    }
  | { available: false; why: string };

/** Everything the invoice document says, as read from the chain (see ./chain `readInvoiceData`). */
export interface InvoiceChainData {
  chainId: bigint;
  escrow: string;
  payer: Party;
  payee: Party;
  /** yyyymm. */
  period: number;
  /** Which side the document is printed for. */
  perspective: "payer" | "payee";
  /** `invoice(payer, payee, period)` (status Open or Settled). */
  invoice: {
    status: "open" | "settled";
    token: string;
    agreementVersion: number;
    closedAt: number;
    amount: bigint;
    subtotal: bigint;
    credit: bigint;
  };
  token: TokenRef;
  /** The terms of `invoice.agreementVersion`. */
  terms: TermsLike;
  /** The rating of the `InvoiceClosed` event. */
  rating: Rating;
  closeTx: Hex;
  /** `periodTotals(payer, payee, period)`: final, net of disputes and rejected batches. */
  periodTotals: ClassTotals[];
  /** The period's batches, ascending by id. */
  batches: BatchEvidence[];
  settlement?: SettlementEvidence;
  notBillable: NotBillableData;
}

// ---------------------------------------------------------------------------------------------------
// The model (output)
// ---------------------------------------------------------------------------------------------------

/** An amount in token base units and as text in token units (exact, e.g. "1801.5"). */
export interface Money {
  units: bigint;
  text: string;
}

export const CHARGE_TYPES = ["data", "signalling", "sms", "voice", "monthly", "surcharge"] as const;
export type ChargeType = (typeof CHARGE_TYPES)[number];

/** What a charge's quantity counts and what its rate is per. */
export const CHARGE_UNITS: Record<ChargeType, { quantity: string; rate: string; label: string }> = {
  data: { quantity: "byte", rate: "MB", label: "Data" },
  signalling: { quantity: "event", rate: "event", label: "Signalling" },
  sms: { quantity: "SMS", rate: "SMS", label: "SMS" },
  voice: { quantity: "second", rate: "minute", label: "Voice" },
  monthly: { quantity: "device", rate: "device-month", label: "Monthly fee, active devices" },
  surcharge: { quantity: "device-day", rate: "device-day", label: "Permanent-roaming surcharge" },
};

export interface LineItem {
  tariffClass: number;
  /** False when the agreement has no plan for the class in this direction: reported, not billed. */
  priced: boolean;
  chargeType: ChargeType;
  /** "Data, 0 - 1,000 MB", "SMS" and the like. */
  description: string;
  /** Data lines only: the tier band, in MB (`toMb` null: open-ended). */
  band?: { fromMb: bigint; toMb: bigint | null };
  /** In CHARGE_UNITS[chargeType].quantity (bytes for data, seconds for voice). */
  quantity: bigint;
  /** Per CHARGE_UNITS[chargeType].rate, before the discount. */
  rate: Money;
  discountBps: number;
  amount: Money;
  /** Short references into `batches` ("B1"), the batches whose usage the line bills. */
  batchRefs: string[];
  batchIds: Hex[];
  /** Their submission (and dispute) transactions, the invoice's close and, when settled, the settlement. */
  txHashes: Hex[];
}

export interface ClassSummary {
  tariffClass: number;
  priced: boolean;
  /** The final usage of the class (period totals). */
  usage: ClassTotals;
  /** The line total of the chain's rating. */
  total: Money;
}

export interface BatchRef {
  ref: string;
  batchId: Hex;
  state: BatchState;
  submittedAt: string;
  submitTx: Hex;
  recordCount: number;
  acceptTx?: Hex;
  rejectTx?: Hex;
}

export interface DisputedClass {
  tariffClass: number;
  records: number;
  dataBytes: bigint;
  signallingEvents: bigint;
  smsCount: bigint;
  voiceSeconds: bigint;
}

export interface InvoiceModel {
  format: "roamledger-invoice/1";
  invoiceNumber: string;
  chainId: bigint;
  escrow: string;
  /** ISO time the invoice was closed on-chain (its issue date). */
  issueDate: string;
  perspective: "payer" | "payee";
  period: { id: number; text: string; start: string; end: string };
  /** The home carrier, who pays. */
  payer: Party & { plmnText: string };
  /** The visited carrier, who bills. */
  payee: Party & { plmnText: string };
  agreement: { version: number; disputeWindowDays: number };
  token: TokenRef;
  /** Fraction digits every amount of the document is printed with (>= 2, <= decimals), so decimal points align. */
  amountDigits: number;
  /** Fraction digits of the rates (which may be finer than any amount). */
  rateDigits: number;
  status: {
    state: "open" | "settled";
    closedAt: string;
    closeTx: Hex;
    settledAt?: string;
    settleTx?: Hex;
    payments: { debtor: string; creditor: string; owed: Money; paid: Money; payout: string }[];
    shortfalls: { debtor: string; creditor: string; paid: Money; owed: Money }[];
    /** One sentence: where the money is. */
    summary: string;
  };
  lines: LineItem[];
  classes: ClassSummary[];
  subtotal: Money;
  sla: {
    qosSamples: bigint;
    avgLatencyMs: bigint;
    avgThroughputKbps: bigint;
    /** 0: no commitment. */
    maxLatencyMs: number;
    minThroughputKbps: number;
    latencyMissed: boolean;
    throughputMissed: boolean;
    latencyCreditBps: number;
    throughputCreditBps: number;
    creditBps: number;
  };
  credit: Money;
  net: Money;
  disputes: {
    perClass: DisputedClass[];
    records: number;
    /** What the disputed usage would have added to the subtotal at the agreement's rates (not billed). */
    value: Money;
    batches: { ref: string; batchId: Hex; records: number; reasons: { reason: string; records: number }[]; txHashes: Hex[] }[];
  };
  rejectedBatches: {
    ref: string;
    batchId: Hex;
    recordCount: number;
    reason: string;
    rejectTx?: Hex;
    submitTx: Hex;
    totals: ClassTotals[];
  }[];
  notBillable: NotBillableData;
  batches: BatchRef[];
  /** The figures were recomputed with lib/settlement/rating.ts from the period totals and the terms, and agree. */
  verification: { recomputed: true; source: string };
}

/** The chain's invoice and lib/settlement/rating.ts disagree: something is wrong with one of them; print nothing. */
export class InvoiceMismatchError extends BaseError {
  override name = "InvoiceMismatchError";
}

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

/**
 * The invoice number: readable parts (chain, payer, payee, period) and a check of 6 hex digits over the
 * escrow too, so two deployments on one chain never share a number. Deterministic: both carriers (and
 * an auditor) derive the same number from the chain.
 */
export function invoiceNumber(chainId: bigint, escrow: string, payer: Hex, payee: Hex, period: number): string {
  const hash = keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["string", "uint256", "address", "bytes3", "bytes3", "uint32"],
      ["roamledger/invoice/v1", chainId, escrow, payer, payee, period],
    ),
  );
  const digits = (plmn: Hex) => formatPlmn(plmn).replace("-", "");
  return `RL-${chainId}-${digits(payer)}-${digits(payee)}-${period}-${hash.slice(2, 8).toUpperCase()}`;
}

/** `units` base units in token units with exactly `digits` fraction digits (rounding never happens: digits >= needed). */
function fixed(units: bigint, decimals: number, digits: number): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const s = abs.toString().padStart(decimals + 1, "0");
  const whole = s.slice(0, s.length - decimals);
  let fraction = s.slice(s.length - decimals);
  if (fraction.length > digits) {
    const cut = fraction.slice(digits);
    if (/[^0]/.test(cut)) throw new RangeError(`${units} has more than ${digits} fraction digits`);
    fraction = fraction.slice(0, digits);
  } else fraction = fraction.padEnd(digits, "0");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${digits > 0 ? `.${fraction}` : ""}`;
}

/** Fraction digits `units` needs in a token with `decimals` decimals (0 for whole token units). */
function digitsNeeded(units: bigint, decimals: number): number {
  if (decimals === 0) return 0;
  const fraction = (units < 0n ? -units : units)
    .toString()
    .padStart(decimals + 1, "0")
    .slice(-decimals);
  return fraction.replace(/0+$/, "").length;
}

/** An amount as a person reads it, with thousands separators and the document's fraction digits. */
export function displayAmount(units: bigint, token: TokenRef, digits: number): string {
  return fixed(units, token.decimals, Math.min(digits, token.decimals));
}

/** A count with thousands separators. */
export function displayCount(n: bigint | number): string {
  return BigInt(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Bytes as MB (10^6 bytes), exact, without trailing zeros: 1,500,000 -> "1.5". */
export function bytesAsMb(bytes: bigint): string {
  const whole = displayCount(bytes / BYTES_PER_MB);
  const fraction = (bytes % BYTES_PER_MB).toString().padStart(6, "0").replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : whole;
}

/** A line's quantity as a person reads it: MB for data, seconds for voice, else the count. */
export function displayQuantity(line: Pick<LineItem, "chargeType" | "quantity">): string {
  if (line.chargeType === "data") return `${bytesAsMb(line.quantity)} MB`;
  if (line.chargeType === "voice") return `${displayCount(line.quantity)} s`;
  return displayCount(line.quantity);
}

/** Basis points as a percentage text: 2000 -> "20 %", 125 -> "1.25 %". */
export function displayBps(bps: number): string {
  const whole = Math.floor(bps / 100);
  const rest = bps % 100;
  return `${whole}${rest ? `.${String(rest).padStart(2, "0").replace(/0$/, "")}` : ""} %`;
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

/** The fields of two ratings that differ ("lines[0].data: chain 5, lib/settlement/rating.ts 6"). */
export function ratingDifferences(chain: Rating, ts: Rating): string[] {
  const out: string[] = [];
  const cmp = (path: string, a: unknown, b: unknown) => {
    if (String(a) !== String(b)) out.push(`${path}: chain ${String(a)}, lib/settlement/rating.ts ${String(b)}`);
  };
  cmp("lines.length", chain.lines.length, ts.lines.length);
  chain.lines.forEach((line, i) => {
    const other = ts.lines[i];
    if (!other) return;
    for (const key of Object.keys(line) as (keyof typeof line)[]) cmp(`lines[${i}].${key}`, line[key], other[key]);
  });
  for (const key of ["subtotal", "qosSamples", "avgLatencyMs", "avgThroughputKbps", "creditBps", "credit", "net"] as const) {
    cmp(key, chain[key], ts[key]);
  }
  return out;
}

function sumTotals(into: Map<number, ClassTotals>, totals: readonly ClassTotals[]): void {
  for (const t of totals) {
    const acc = into.get(t.tariffClass) ?? zeroTotals(t.tariffClass);
    into.set(t.tariffClass, {
      tariffClass: t.tariffClass,
      records: acc.records + t.records,
      activeDevices: acc.activeDevices + t.activeDevices,
      roamerDays: acc.roamerDays + t.roamerDays,
      dataBytes: acc.dataBytes + t.dataBytes,
      signallingEvents: acc.signallingEvents + t.signallingEvents,
      smsCount: acc.smsCount + t.smsCount,
      voiceSeconds: acc.voiceSeconds + t.voiceSeconds,
      qosSamples: acc.qosSamples + t.qosSamples,
      latencyMsSum: acc.latencyMsSum + t.latencyMsSum,
      throughputKbpsSum: acc.throughputKbpsSum + t.throughputKbpsSum,
    });
  }
}

const byClass = (m: Map<number, ClassTotals>) => [...m.values()].sort((a, b) => a.tariffClass - b.tariffClass);

// ---------------------------------------------------------------------------------------------------
// Building the model
// ---------------------------------------------------------------------------------------------------

/**
 * The invoice model of `data`. Checks first that the stored invoice, the `InvoiceClosed` rating and
 * lib/settlement/rating.ts (period totals x the terms of the invoice's agreement version) agree to the base unit,
 * and that the line items add up to the chain's lines; throws InvoiceMismatchError otherwise.
 */
export function buildInvoiceModel(data: InvoiceChainData): InvoiceModel {
  const { payer, payee, rating, terms, token } = data;
  const pair = `${formatPlmn(payer.plmn)} -> ${formatPlmn(payee.plmn)} ${formatPeriod(data.period)}`;

  // 1. The chain against itself, then against lib/settlement/rating.ts.
  const stored = data.invoice;
  const storedDiffs: string[] = [];
  if (stored.amount !== rating.net) storedDiffs.push(`amount: invoice() ${stored.amount}, InvoiceClosed net ${rating.net}`);
  if (stored.subtotal !== rating.subtotal) storedDiffs.push(`subtotal: invoice() ${stored.subtotal}, InvoiceClosed ${rating.subtotal}`);
  if (stored.credit !== rating.credit) storedDiffs.push(`credit: invoice() ${stored.credit}, InvoiceClosed ${rating.credit}`);
  if (stored.token.toLowerCase() !== terms.settlementToken.toLowerCase()) {
    storedDiffs.push(`token: invoice() ${stored.token}, agreement version ${stored.agreementVersion} ${terms.settlementToken}`);
  }
  if (storedDiffs.length > 0) {
    throw new InvoiceMismatchError(`the stored invoice ${pair} does not match its InvoiceClosed event`, {
      details: storedDiffs.join("\n"),
      hint: "the event or the view was read from another deployment or block; check the escrow address.",
    });
  }
  const recomputed = rateInvoice(data.periodTotals, terms, payee.plmn);
  const diffs = ratingDifferences(rating, recomputed);
  if (diffs.length > 0) {
    throw new InvoiceMismatchError(`the on-chain invoice ${pair} differs from lib/settlement/rating.ts on the ledger's period totals`, {
      details: diffs.join("\n"),
      hint: "do not send this invoice: the library and RatingLib disagree (or the totals or terms were misread). Report it with these figures.",
    });
  }

  // 2. Amount formatting: one number of fraction digits for the whole document, so decimal points align.
  const all: bigint[] = [rating.subtotal, rating.credit, rating.net];
  const rateUnits: bigint[] = [];
  const money = (units: bigint): Money => ({ units, text: displayAmount(units, token, Math.max(18, token.decimals)) });

  // 3. Batches and evidence.
  const refs = new Map<string, string>();
  const batches: BatchRef[] = data.batches.map((b, i) => {
    refs.set(b.batchId, `B${i + 1}`);
    return {
      ref: `B${i + 1}`,
      batchId: b.batchId,
      state: b.state,
      submittedAt: isoTime(b.submittedAt),
      submitTx: b.submitTx,
      recordCount: b.recordCount,
      acceptTx: b.acceptTx,
      rejectTx: b.rejectTx,
    };
  });
  const counted = data.batches.filter((b) => b.state !== "rejected");
  const closingTxs: Hex[] = [data.closeTx, ...(data.settlement ? [data.settlement.tx] : [])];
  const evidence = (tariffClass: number, type: ChargeType) => {
    const proving = counted.filter((b) => b.totals.some((t) => t.tariffClass === tariffClass && quantityOf(t, type) > 0n));
    const txs: Hex[] = [];
    for (const b of proving) txs.push(b.submitTx, ...b.disputeTxs);
    return {
      batchRefs: proving.map((b) => refs.get(b.batchId)!),
      batchIds: proving.map((b) => b.batchId),
      txHashes: [...new Set([...txs, ...closingTxs])],
    };
  };

  // 4. Line items, per class and charge type; data per tier band.
  const lines: LineItem[] = [];
  const classes: ClassSummary[] = [];
  const self = payee.plmn.toLowerCase();
  data.periodTotals.forEach((usage, i) => {
    const chainLine = rating.lines[i];
    const plan = terms.ratePlans.find((p) => Number(p.tariffClass) === usage.tariffClass && p.visited.toLowerCase() === self);
    classes.push({ tariffClass: usage.tariffClass, priced: chainLine.priced, usage, total: money(chainLine.total) });
    const rates: Record<ChargeType, bigint> = plan
      ? {
          data: BigInt(plan.perMb),
          signalling: BigInt(plan.perSignallingEvent),
          sms: BigInt(plan.perSms),
          voice: BigInt(plan.perVoiceMinute),
          monthly: BigInt(plan.monthlyFeePerDevice),
          surcharge: BigInt(terms.permanentRoamingSurchargePerDay),
        }
      : { data: 0n, signalling: 0n, sms: 0n, voice: 0n, monthly: 0n, surcharge: 0n };
    for (const type of CHARGE_TYPES) {
      const quantity = quantityOf(usage, type);
      const charged = plan ? chainLine[type] : 0n;
      // Nothing used, or used at no charge under the plan: no line (an unpriced class shows all its usage).
      if (quantity === 0n && charged === 0n) continue;
      if (plan && rates[type] === 0n && charged === 0n) continue;
      if (type === "data" && plan && plan.tiers.length > 0) {
        const bands = dataBands(quantity, rates.data, plan.tiers);
        const sum = bands.reduce((s, b) => s + b.amount, 0n);
        if (sum !== charged) {
          throw new InvoiceMismatchError(`the data bands of class ${usage.tariffClass} add up to ${sum}, the chain charged ${charged}`, {
            hint: "report it: the band split must follow RatingLib's tiering exactly.",
          });
        }
        for (const band of bands) {
          const fromMb = band.from / BYTES_PER_MB;
          const toMb = band.to === null ? null : band.to / BYTES_PER_MB;
          const range = toMb === null ? `from ${displayCount(fromMb)} MB` : `${displayCount(fromMb)} - ${displayCount(toMb)} MB`;
          lines.push({
            tariffClass: usage.tariffClass,
            priced: true,
            chargeType: "data",
            description: `Data, ${range}`,
            band: { fromMb, toMb },
            quantity: band.bytes,
            rate: money(rates.data),
            discountBps: band.discountBps,
            amount: money(band.amount),
            ...evidence(usage.tariffClass, "data"),
          });
          all.push(band.amount);
          rateUnits.push(rates.data);
        }
        continue;
      }
      lines.push({
        tariffClass: usage.tariffClass,
        priced: !!plan,
        chargeType: type,
        description: CHARGE_UNITS[type].label,
        quantity,
        rate: money(rates[type]),
        discountBps: 0,
        amount: money(charged),
        ...evidence(usage.tariffClass, type),
      });
      all.push(charged);
      rateUnits.push(rates[type]);
    }
  });
  const lineSum = lines.reduce((s, l) => s + l.amount.units, 0n);
  if (lineSum !== rating.subtotal) {
    throw new InvoiceMismatchError(`the line items of ${pair} add up to ${lineSum}, the chain's subtotal is ${rating.subtotal}`, {
      hint: "report it: every charge of the rating must appear as a line.",
    });
  }

  // 5. Disputes and rejected batches.
  const disputedMap = new Map<number, ClassTotals>();
  const disputeBatches: InvoiceModel["disputes"]["batches"] = [];
  for (const b of data.batches) {
    if (b.disputedRecords === 0 && b.disputeTxs.length === 0) continue;
    if (b.state !== "rejected") sumTotals(disputedMap, b.disputed);
    disputeBatches.push({
      ref: refs.get(b.batchId)!,
      batchId: b.batchId,
      records: b.disputedRecords,
      reasons: b.disputeReasons.map((r) => ({ reason: r.name, records: r.records })),
      txHashes: b.disputeTxs,
    });
  }
  const disputed = byClass(disputedMap);
  // The disputed usage at the agreement's rates: the subtotal with it added back, less the subtotal.
  const withDisputed = new Map<number, ClassTotals>();
  sumTotals(withDisputed, data.periodTotals);
  sumTotals(
    withDisputed,
    disputed.map((d) => ({ ...d, activeDevices: 0, roamerDays: 0, qosSamples: 0, latencyMsSum: 0n, throughputKbpsSum: 0n })),
  );
  const disputedValue = rateInvoice(byClass(withDisputed), terms, payee.plmn).subtotal - rating.subtotal;
  all.push(disputedValue);
  const rejectedBatches = data.batches
    .filter((b) => b.state === "rejected")
    .map((b) => ({
      ref: refs.get(b.batchId)!,
      batchId: b.batchId,
      recordCount: b.recordCount,
      reason: b.rejectReason?.name ?? "unknown",
      rejectTx: b.rejectTx,
      submitTx: b.submitTx,
      totals: b.totals,
    }));

  // 6. Status.
  const name = (plmn: Hex) => (plmn.toLowerCase() === payer.plmn.toLowerCase() ? payer : payee);
  const who = (plmn: Hex) => `${name(plmn).name} (${formatPlmn(plmn)})`;
  const s = data.settlement;
  const payments = (s?.payments ?? []).map((p) => ({
    debtor: who(p.debtor),
    creditor: who(p.creditor),
    owed: money(p.owed),
    paid: money(p.paid),
    payout: p.payout,
  }));
  const shortfalls = (s?.shortfalls ?? []).map((p) => ({
    debtor: who(p.debtor),
    creditor: who(p.creditor),
    paid: money(p.paid),
    owed: money(p.owed),
  }));
  for (const p of s?.payments ?? []) all.push(p.owed, p.paid);
  for (const p of s?.shortfalls ?? []) all.push(p.owed, p.paid);
  if (s) all.push(s.payeeOwed);

  const digitsOf = (units: bigint[]) => Math.min(token.decimals, Math.max(2, ...units.map((u) => digitsNeeded(u, token.decimals))));
  const amountDigits = digitsOf(all);
  const rateDigits = digitsOf(rateUnits);
  const fmt = (m: Money): Money => ({ units: m.units, text: displayAmount(m.units, token, amountDigits) });
  const symbol = token.symbol || "token units";
  let summary: string;
  if (!s) {
    summary = `Open: ${fmt(money(rating.net)).text} ${symbol} reserved on ${who(payer.plmn)}'s deposit until the period is settled.`;
  } else if (payments.length === 0) {
    summary = `Settled ${isoTime(s.at)}: both directions owed the same; nothing moved.`;
  } else {
    summary =
      `Settled ${isoTime(s.at)} with netting against the reverse invoice (${fmt(money(s.payeeOwed)).text} ${symbol}): ` +
      payments.map((p) => `${p.debtor} paid ${fmt(p.paid).text} of ${fmt(p.owed).text} ${symbol} to ${p.creditor}`).join("; ") +
      (shortfalls.length ? `; short by ${shortfalls.map((x) => `${fmt(x.owed).text} ${symbol} (${x.debtor}'s debt)`).join(", ")}` : "") +
      ".";
  }

  const [start, end] = periodBounds(data.period);
  const sla = terms.sla;
  const model: InvoiceModel = {
    format: "roamledger-invoice/1",
    invoiceNumber: invoiceNumber(data.chainId, data.escrow, payer.plmn, payee.plmn, data.period),
    chainId: data.chainId,
    escrow: data.escrow,
    issueDate: isoTime(stored.closedAt),
    perspective: data.perspective,
    period: { id: data.period, text: formatPeriod(data.period), start: isoTime(start), end: isoTime(end) },
    payer: { ...payer, plmnText: formatPlmn(payer.plmn) },
    payee: { ...payee, plmnText: formatPlmn(payee.plmn) },
    agreement: { version: stored.agreementVersion, disputeWindowDays: Number(terms.disputeWindow) / 86_400 },
    token,
    amountDigits,
    rateDigits,
    status: {
      state: stored.status,
      closedAt: isoTime(stored.closedAt),
      closeTx: data.closeTx,
      settledAt: s ? isoTime(s.at) : undefined,
      settleTx: s?.tx,
      payments: payments.map((p) => ({ ...p, owed: fmt(p.owed), paid: fmt(p.paid) })),
      shortfalls: shortfalls.map((p) => ({ ...p, owed: fmt(p.owed), paid: fmt(p.paid) })),
      summary,
    },
    lines: lines.map((l) => ({
      ...l,
      rate: { units: l.rate.units, text: displayAmount(l.rate.units, token, rateDigits) },
      amount: fmt(l.amount),
    })),
    classes: classes.map((c) => ({ ...c, total: fmt(c.total) })),
    subtotal: fmt(money(rating.subtotal)),
    sla: {
      qosSamples: rating.qosSamples,
      avgLatencyMs: rating.avgLatencyMs,
      avgThroughputKbps: rating.avgThroughputKbps,
      maxLatencyMs: Number(sla.maxLatencyMs),
      minThroughputKbps: Number(sla.minThroughputKbps),
      latencyMissed: rating.qosSamples > 0n && Number(sla.maxLatencyMs) > 0 && rating.avgLatencyMs > BigInt(sla.maxLatencyMs),
      throughputMissed:
        rating.qosSamples > 0n && Number(sla.minThroughputKbps) > 0 && rating.avgThroughputKbps < BigInt(sla.minThroughputKbps),
      latencyCreditBps: Number(sla.latencyCreditBps),
      throughputCreditBps: Number(sla.throughputCreditBps),
      creditBps: rating.creditBps,
    },
    credit: fmt(money(rating.credit)),
    net: fmt(money(rating.net)),
    disputes: {
      perClass: disputed.map((d) => ({
        tariffClass: d.tariffClass,
        records: d.records,
        dataBytes: d.dataBytes,
        signallingEvents: d.signallingEvents,
        smsCount: d.smsCount,
        voiceSeconds: d.voiceSeconds,
      })),
      records: data.batches.reduce((n, b) => n + b.disputedRecords, 0),
      value: fmt(money(disputedValue)),
      batches: disputeBatches,
    },
    rejectedBatches,
    notBillable: data.notBillable,
    batches,
    verification: { recomputed: true, source: "lib/settlement/rating.ts on periodTotals x the agreement version's terms" },
  };
  return model;
}
