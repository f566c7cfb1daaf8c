/**
 * Before anything is printed, an invoice's figures are checked: the escrow's stored invoice against its
 * `InvoiceClosed` rating, and that rating against lib/settlement/rating.ts run on the ledger's final period
 * totals with the terms of the invoice's agreement version. They agree to the base unit, or nothing is printed.
 */
import { BaseError } from "../core/errors";
import { formatPeriod } from "../core/period";
import { formatPlmn } from "../core/plmn";
import { rateInvoice, type Rating } from "../settlement/rating";
import type { InvoiceChainData } from "./types";

/** The chain's invoice and lib/settlement/rating.ts disagree: something is wrong with one of them; print nothing. */
export class InvoiceMismatchError extends BaseError {
  override name = "InvoiceMismatchError";
}

/** "262-01 -> 724-05 2026-11": the direction and period, as the checks name them. */
export function invoicePair(data: Pick<InvoiceChainData, "payer" | "payee" | "period">): string {
  return `${formatPlmn(data.payer.plmn)} -> ${formatPlmn(data.payee.plmn)} ${formatPeriod(data.period)}`;
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

/** Where the stored invoice (`invoice()`) and its `InvoiceClosed` rating differ. */
function storedDifferences(data: InvoiceChainData): string[] {
  const { invoice: stored, rating, terms } = data;
  const diffs: string[] = [];
  if (stored.amount !== rating.net) diffs.push(`amount: invoice() ${stored.amount}, InvoiceClosed net ${rating.net}`);
  if (stored.subtotal !== rating.subtotal) diffs.push(`subtotal: invoice() ${stored.subtotal}, InvoiceClosed ${rating.subtotal}`);
  if (stored.credit !== rating.credit) diffs.push(`credit: invoice() ${stored.credit}, InvoiceClosed ${rating.credit}`);
  if (stored.token.toLowerCase() !== terms.settlementToken.toLowerCase()) {
    diffs.push(`token: invoice() ${stored.token}, agreement version ${stored.agreementVersion} ${terms.settlementToken}`);
  }
  return diffs;
}

/**
 * Checks that the stored invoice, the `InvoiceClosed` rating and lib/settlement/rating.ts (period totals x
 * the terms of the invoice's agreement version) agree to the base unit; throws InvoiceMismatchError otherwise.
 */
export function verifyRating(data: InvoiceChainData): void {
  const pair = invoicePair(data);
  const stored = storedDifferences(data);
  if (stored.length > 0) {
    throw new InvoiceMismatchError(`the stored invoice ${pair} does not match its InvoiceClosed event`, {
      details: stored.join("\n"),
      hint: "the event or the view was read from another deployment or block; check the escrow address.",
    });
  }
  const diffs = ratingDifferences(data.rating, rateInvoice(data.periodTotals, data.terms, data.payee.plmn));
  if (diffs.length > 0) {
    throw new InvoiceMismatchError(`the on-chain invoice ${pair} differs from lib/settlement/rating.ts on the ledger's period totals`, {
      details: diffs.join("\n"),
      hint: "do not send this invoice: the library and RatingLib disagree (or the totals or terms were misread). Report it with these figures.",
    });
  }
}
