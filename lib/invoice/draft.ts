/**
 * The invoice of a closed period, made from the full terms and the period's usage alone (pure): the rated
 * period totals (counted batches less billable disputed records, lib/settlement/totals), their rating
 * (lib/settlement/rating, the reference of RatingLib), the escrow's `Invoice` with a totals commitment whose
 * salt a re-run reproduces, and the sealed invoice's contents. The payee proposes it; the payer makes its
 * own from its own copies and compares ({@link invoiceDifferences}).
 */
import { createHmac } from "node:crypto";
import { AbiCoder, getAddress } from "ethers";
import { InputError } from "../core/errors";
import { invoiceTotalsCommitment } from "./totalsCommitment";
import type { EscrowInvoice } from "../settlement/invoiceSignature";
import { rateInvoice, type Rating } from "../settlement/rating";
import { ratedPeriodTotals } from "../settlement/totals";
import type { ClassTotals } from "../usage/types";
import type { Hex } from "../util/hex";
import type { InvoiceContents } from "./sealed";
import type { FullTerms, PeriodUsage } from "./usage";

/** An invoice made from terms and usage: the escrow's struct, the sealed contents and the rating. */
export interface InvoiceDraft {
  invoice: EscrowInvoice;
  contents: InvoiceContents;
  rating: Rating;
  totals: ClassTotals[];
}

/**
 * The salt of an invoice's totals commitment: HMAC-SHA256(pair key, "roamledger/invoice-totals-salt/v1" ||
 * abi.encode(payer, payee, period, accumulator)). Secret without the key; the same period always gives the
 * same salt, so a re-run (or the payer) reproduces the commitment (like lib/usage/payload's totalsSaltOf).
 */
export function invoiceTotalsSaltOf(key: Uint8Array, usage: Pick<PeriodUsage, "home" | "visited" | "period" | "accumulator">): Hex {
  const mac = createHmac("sha256", key);
  mac.update("roamledger/invoice-totals-salt/v1");
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["bytes3", "bytes3", "uint32", "bytes32"],
    [usage.home, usage.visited, usage.period, usage.accumulator],
  );
  mac.update(Buffer.from(encoded.slice(2), "hex"));
  return `0x${mac.digest("hex")}`;
}

/** The period's rated totals of `usage` (the dispute rule of docs/confidentiality.md, as RevealLib). */
export function periodRatedTotals(usage: PeriodUsage): ClassTotals[] {
  return ratedPeriodTotals(usage.batches.map((b) => ({ totals: b.totals, disputed: b.disputed.map((d) => d.record) })));
}

/** What {@link draftInvoice} takes. */
export interface DraftInvoiceArgs {
  /** The pair's key (pairwiseKey), for the totals salt. */
  key: Uint8Array;
  usage: PeriodUsage;
  /** The agreement version in force for the period (the escrow's rule: lib/settlement/invoices). */
  terms: FullTerms;
}

/** The invoice of `usage` rated with `terms`: home pays visited. */
export function draftInvoice({ key, usage, terms }: DraftInvoiceArgs): InvoiceDraft {
  if (usage.home.toLowerCase() === usage.visited.toLowerCase()) {
    throw new InputError("the payer and the payee of an invoice are the same carrier", { location: { param: "usage" } });
  }
  const totals = periodRatedTotals(usage);
  const rating = rateInvoice(totals, terms.terms, usage.visited);
  const totalsSalt = invoiceTotalsSaltOf(key, usage);
  const invoice: EscrowInvoice = {
    payer: usage.home.toLowerCase() as Hex,
    payee: usage.visited.toLowerCase() as Hex,
    period: usage.period,
    agreementVersion: terms.version,
    termsCommitment: terms.termsCommitment.toLowerCase() as Hex,
    ledgerAccumulator: usage.accumulator.toLowerCase() as Hex,
    totalsCommitment: invoiceTotalsCommitment({
      totals,
      totalsSalt,
      terms: terms.terms,
      payer: usage.home,
      payee: usage.visited,
      period: usage.period,
    }),
    token: getAddress(terms.terms.settlementToken),
    net: rating.net,
  };
  const summary = { agreementVersion: terms.version, subtotal: rating.subtotal, credit: rating.credit, net: rating.net };
  return { invoice, contents: { totals, totalsSalt, summary }, rating, totals };
}

const TOTALS_FIELDS = [
  "records",
  "activeDevices",
  "roamerDays",
  "dataBytes",
  "signallingEvents",
  "smsCount",
  "voiceSeconds",
  "qosSamples",
  "latencyMsSum",
  "throughputKbpsSum",
] as const;

/** One difference between the proposed invoice and ours: what, the payee's figure and ours. */
export interface InvoiceDifference {
  field: string;
  proposed: string;
  ours: string;
}

/** Differences of two totals lists, class by class and field by field. */
function totalsDifferences(proposed: readonly ClassTotals[], ours: readonly ClassTotals[]): InvoiceDifference[] {
  const out: InvoiceDifference[] = [];
  const classes = [...new Set([...proposed, ...ours].map((t) => t.tariffClass))].sort((a, b) => a - b);
  for (const c of classes) {
    const [p, o] = [proposed.find((t) => t.tariffClass === c), ours.find((t) => t.tariffClass === c)];
    if (!p || !o) {
      out.push({ field: `class ${c}`, proposed: p ? "billed" : "absent", ours: o ? "billed" : "absent" });
      continue;
    }
    for (const f of TOTALS_FIELDS) {
      if (String(p[f]) !== String(o[f])) out.push({ field: `class ${c} ${f}`, proposed: String(p[f]), ours: String(o[f]) });
    }
  }
  return out;
}

/**
 * Where a proposed invoice (as signed, with its opened contents) differs from ours, line by line: the
 * invoice's fields (version, terms commitment, accumulator, token, net, totals commitment), then the
 * totals per class and field, then the summary. Empty: co-sign.
 */
export function invoiceDifferences(
  proposed: { invoice: EscrowInvoice; contents: InvoiceContents },
  ours: InvoiceDraft,
): InvoiceDifference[] {
  const out: InvoiceDifference[] = [];
  const fields = ["agreementVersion", "termsCommitment", "ledgerAccumulator", "token", "net", "totalsCommitment"] as const;
  for (const f of fields) {
    const [p, o] = [String(proposed.invoice[f]).toLowerCase(), String(ours.invoice[f]).toLowerCase()];
    if (p !== o) out.push({ field: f, proposed: p, ours: o });
  }
  out.push(...totalsDifferences(proposed.contents.totals, ours.totals));
  for (const f of ["subtotal", "credit"] as const) {
    const [p, o] = [proposed.contents.summary[f], ours.contents.summary[f]];
    if (p !== o) out.push({ field: f, proposed: String(p), ours: String(o) });
  }
  return out;
}
