/**
 * Before anything is printed, an invoice's figures are checked: its rating against lib/settlement/rating.ts
 * run on its period totals with the full terms of its agreement version. They agree to the base unit, or
 * nothing is printed. (Whether the escrow holds the same invoice is ./chain's `reconcile`.)
 */
import { BaseError } from "../core/errors";
import { formatPeriod } from "../core/period";
import { formatPlmn } from "../core/plmn";
import { rateInvoice, type Rating } from "../settlement/rating";
import type { InvoiceChainData } from "./types";

/** The invoice's figures and lib/settlement/rating.ts disagree: something is wrong with one of them; print nothing. */
export class InvoiceMismatchError extends BaseError {
  override name = "InvoiceMismatchError";
}

/** "262-01 -> 724-05 2026-11": the direction and period, as the checks name them. */
export function invoicePair(data: Pick<InvoiceChainData, "payer" | "payee" | "period">): string {
  return `${formatPlmn(data.payer.plmn)} -> ${formatPlmn(data.payee.plmn)} ${formatPeriod(data.period)}`;
}

/** The fields of two ratings that differ ("lines[0].data: invoice 5, lib/settlement/rating.ts 6"). */
export function ratingDifferences(chain: Rating, ts: Rating): string[] {
  const out: string[] = [];
  const cmp = (path: string, a: unknown, b: unknown) => {
    if (String(a) !== String(b)) out.push(`${path}: invoice ${String(a)}, lib/settlement/rating.ts ${String(b)}`);
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

/**
 * Checks that the invoice's rating is lib/settlement/rating.ts on its period totals and terms, to the base
 * unit, and that the terms are in the escrow's token; throws InvoiceMismatchError otherwise.
 */
export function verifyRating(data: InvoiceChainData): void {
  const pair = invoicePair(data);
  if (data.token.address.toLowerCase() !== data.terms.settlementToken.toLowerCase()) {
    throw new InvoiceMismatchError(`the token of ${pair} is not the terms' settlement token`, {
      details: `token ${data.token.address}, agreement version ${data.agreementVersion} ${data.terms.settlementToken}`,
      hint: "the token was read for another agreement version; read the invoice again.",
    });
  }
  const diffs = ratingDifferences(data.rating, rateInvoice(data.periodTotals, data.terms, data.payee.plmn));
  if (diffs.length > 0) {
    throw new InvoiceMismatchError(`the rating of ${pair} differs from lib/settlement/rating.ts on its period totals`, {
      details: diffs.join("\n"),
      hint: "do not send this invoice: the library and RatingLib disagree (or the totals or terms were misread). Report it with these figures.",
    });
  }
}
