/**
 * The invoice model that the JSON, CSV and PDF renderers print. Every figure is the party's own: its full
 * terms and counted usage rated with lib/settlement/rating.ts (the chain holds no figure but the nets);
 * the model says whether that invoice is the one on the escrow (same net and totals commitment, ./verify)
 * and where the money is. Every line names the batches and transactions that prove it.
 *
 * `buildInvoiceModel` is pure (data in, model out); `readInvoiceData` (./chain) gathers the data.
 */
import { Amount, type Token } from "../core/amount";
import { formatPeriod, periodBounds } from "../core/period";
import { formatPlmn } from "../core/plmn";
import { isoTime } from "../agreements/terms";
import type { BillingConfig } from "./billing";
import { type ReferenceRate, withBilling } from "./billingModel";
import { batchRefs, numberBatches, rejectedBatches } from "./batches";
import { disputesOf } from "./disputes";
import { lineItems } from "./lines";
import { invoiceNumber } from "./number";
import { settlementAmounts, settlementOf, statusSection } from "./status";
import type { InvoiceChainData, InvoiceModel, Money } from "./types";
import { verifyRating } from "./verify";

/**
 * Fraction digits of a column of amounts: what the most precise of them needs, at least 2 (cents), at
 * most the token's decimals; so decimal points align and nothing is rounded.
 */
function columnDigits(token: Token, amounts: readonly Amount[]): number {
  return Math.min(token.decimals, Math.max(2, ...amounts.map((a) => a.fractionDigits())));
}

/** Who, what and when: the document's heading fields. */
function heading(
  data: InvoiceChainData,
): Pick<
  InvoiceModel,
  "format" | "invoiceNumber" | "chainId" | "escrow" | "issueDate" | "perspective" | "period" | "payer" | "payee" | "agreement" | "token"
> {
  const { payer, payee, period } = data;
  const [start, end] = periodBounds(period);
  return {
    format: "roamledger-invoice/1",
    invoiceNumber: invoiceNumber({ chainId: data.chainId, escrow: data.escrowAddress, payer: payer.plmn, payee: payee.plmn, period }),
    chainId: data.chainId,
    escrow: data.escrowAddress,
    issueDate: isoTime(data.escrow.closedAt || data.escrow.proposedAt || data.readAt),
    perspective: data.perspective,
    period: { id: period, text: formatPeriod(period), start: isoTime(start), end: isoTime(end) },
    payer: { ...payer, plmnText: formatPlmn(payer.plmn) },
    payee: { ...payee, plmnText: formatPlmn(payee.plmn) },
    agreement: { version: data.agreementVersion, disputeWindowDays: Number(data.terms.disputeWindow) / 86_400 },
    token: data.token,
  };
}

/** The SLA targets of the terms, the rating's averages, which were missed and the credit. */
function slaSection({ rating, terms }: InvoiceChainData): InvoiceModel["sla"] {
  const { sla } = terms;
  const sampled = rating.qosSamples > 0n;
  return {
    qosSamples: rating.qosSamples,
    avgLatencyMs: rating.avgLatencyMs,
    avgThroughputKbps: rating.avgThroughputKbps,
    maxLatencyMs: Number(sla.maxLatencyMs),
    minThroughputKbps: Number(sla.minThroughputKbps),
    latencyMissed: sampled && Number(sla.maxLatencyMs) > 0 && rating.avgLatencyMs > BigInt(sla.maxLatencyMs),
    throughputMissed: sampled && Number(sla.minThroughputKbps) > 0 && rating.avgThroughputKbps < BigInt(sla.minThroughputKbps),
    latencyCreditBps: Number(sla.latencyCreditBps),
    throughputCreditBps: Number(sla.throughputCreditBps),
    creditBps: rating.creditBps,
  };
}

/**
 * The invoice model of `data`. Checks first that its rating is lib/settlement/rating.ts on its period
 * totals and terms, and that the line items add up to the subtotal; throws InvoiceMismatchError otherwise.
 * Whether the escrow holds the same invoice is reported (`verification`), not thrown: a payer prints its
 * own figures next to a proposal it refuses.
 */
export function buildInvoiceModel(data: InvoiceChainData, options: { billing?: BillingConfig; rate?: ReferenceRate } = {}): InvoiceModel {
  verifyRating(data);
  const batches = numberBatches(data.batches);
  const { lines, classes } = lineItems(data, batches);
  const disputes = disputesOf(data, batches);
  const settlement = settlementOf(data);
  const amount = (units: bigint) => Amount.fromUnits(data.token, units);
  const [subtotal, credit, net] = [amount(data.rating.subtotal), amount(data.rating.credit), amount(data.rating.net)];
  // One number of fraction digits for every amount of the document (another for the rates), so decimal points align.
  const onEscrow = [amount(data.escrow.net), amount(data.escrow.amount)];
  const printed = [subtotal, credit, net, ...onEscrow, ...lines.map((l) => l.amount), disputes.value, ...settlementAmounts(settlement)];
  const amountDigits = columnDigits(data.token, printed);
  const rateDigits = columnDigits(
    data.token,
    lines.map((l) => l.rate),
  );
  const money = (a: Amount, digits = amountDigits): Money => ({ units: a.units, text: a.format({ group: true, digits }) });
  const statement: Omit<InvoiceModel, "billing"> = {
    ...heading(data),
    amountDigits,
    rateDigits,
    status: statusSection(data, settlement, (a) => money(a)),
    lines: lines.map((l) => ({ ...l, rate: money(l.rate, rateDigits), amount: money(l.amount) })),
    classes: classes.map((c) => ({ ...c, total: money(c.total) })),
    subtotal: money(subtotal),
    sla: slaSection(data),
    credit: money(credit),
    net: money(net),
    disputes: { ...disputes, value: money(disputes.value) },
    rejectedBatches: rejectedBatches(batches),
    notBillable: data.notBillable,
    batches: batchRefs(batches),
    verification: {
      source: "our full terms and counted usage (payloads), rated with lib/settlement/rating.ts",
      agreesWithEscrow: data.reconciliation.agrees,
      differences: data.reconciliation.differences,
    },
  };
  return withBilling(statement, options.billing ?? { self: {}, partners: new Map() }, options.rate);
}
