/** Where the invoice's money is: reserved on the payer's deposit, or settled (who paid whom, any shortfall). */
import { Amount } from "../core/amount";
import { formatPlmn } from "../core/plmn";
import { isoTime } from "../agreements/terms";
import type { Hex } from "../util/hex";
import type { InvoiceChainData, InvoiceModel, Money } from "./types";

/** The settlement's payments and shortfalls with their amounts still Amounts. */
export interface SettlementDraft {
  payments: { debtor: string; creditor: string; owed: Amount; paid: Amount; payout: string }[];
  shortfalls: { debtor: string; creditor: string; paid: Amount; owed: Amount }[];
  /** What the payee owed the payer back (the reverse invoice netted against this one). */
  payeeOwed?: Amount;
}

/** The parties of the settlement, named, and its amounts. */
export function settlementOf(data: InvoiceChainData): SettlementDraft {
  const { payer, payee, settlement: s } = data;
  const amount = (units: bigint) => Amount.fromUnits(data.token, units);
  const party = (plmn: Hex) => (plmn.toLowerCase() === payer.plmn.toLowerCase() ? payer : payee);
  const who = (plmn: Hex) => `${party(plmn).name} (${formatPlmn(plmn)})`;
  return {
    payments: (s?.payments ?? []).map((p) => ({
      debtor: who(p.debtor),
      creditor: who(p.creditor),
      owed: amount(p.owed),
      paid: amount(p.paid),
      payout: p.payout,
    })),
    shortfalls: (s?.shortfalls ?? []).map((p) => ({
      debtor: who(p.debtor),
      creditor: who(p.creditor),
      paid: amount(p.paid),
      owed: amount(p.owed),
    })),
    payeeOwed: s ? amount(s.payeeOwed) : undefined,
  };
}

/** Every amount the settlement section prints. */
export function settlementAmounts(s: SettlementDraft): Amount[] {
  return [
    ...s.payments.flatMap((p) => [p.owed, p.paid]),
    ...s.shortfalls.flatMap((p) => [p.owed, p.paid]),
    ...(s.payeeOwed ? [s.payeeOwed] : []),
  ];
}

/** One sentence on an invoice not settled: where it is on the escrow. */
function openSummary(data: InvoiceChainData, print: (a: Amount) => string): string {
  const symbol = data.token.symbol || "token units";
  const payer = `${data.payer.name} (${formatPlmn(data.payer.plmn)})`;
  const e = data.escrow;
  const units = (n: bigint) => `${print(Amount.fromUnits(data.token, n))} ${symbol}`;
  switch (e.status) {
    case "none":
      return `Draft: not proposed on the escrow yet; the payee proposes ${units(data.rating.net)}, the payer co-signs it.`;
    case "proposed":
      return `Proposed ${isoTime(e.proposedAt)}: ${units(e.net)} signed by the payee, waiting for ${payer}'s co-signature.`;
    case "claimed":
    case "revealing":
      return `Claimed: ${units(e.net)} reserved on ${payer}'s deposit; the claim ends by the payer's signature, a proof or a reveal.`;
    default:
      return `Closed ${isoTime(e.closedAt)} (${e.resolution}): ${units(e.amount)} reserved on ${payer}'s deposit until the period is settled.`;
  }
}

/** One sentence: where the money is. */
function summary(data: InvoiceChainData, s: SettlementDraft, print: (a: Amount) => string): string {
  const symbol = data.token.symbol || "token units";
  const settled = data.settlement;
  if (!settled) return openSummary(data, print);
  if (s.payments.length === 0) return `Settled ${isoTime(settled.at)}: both directions owed the same; nothing moved.`;
  const reverse = print(Amount.fromUnits(data.token, settled.payeeOwed));
  const paid = s.payments.map((p) => `${p.debtor} paid ${print(p.paid)} of ${print(p.owed)} ${symbol} to ${p.creditor}`).join("; ");
  const short = s.shortfalls.map((x) => `${print(x.owed)} ${symbol} (${x.debtor}'s debt)`).join(", ");
  return `Settled ${isoTime(settled.at)} with netting against the reverse invoice (${reverse} ${symbol}): ${paid}${short ? `; short by ${short}` : ""}.`;
}

/** The status section, amounts printed by `money`. */
export function statusSection(data: InvoiceChainData, s: SettlementDraft, money: (a: Amount) => Money): InvoiceModel["status"] {
  const settled = data.settlement;
  const e = data.escrow;
  return {
    state: e.status,
    resolution: e.resolution,
    proposedAt: e.proposedAt ? isoTime(e.proposedAt) : undefined,
    proposeTx: e.proposeTx,
    closedAt: e.closedAt ? isoTime(e.closedAt) : undefined,
    closeTx: e.closeTx,
    escrowNet: money(Amount.fromUnits(data.token, e.net)),
    escrowAmount: money(Amount.fromUnits(data.token, e.amount)),
    settledAt: settled ? isoTime(settled.at) : undefined,
    settleTx: settled?.tx,
    payments: s.payments.map((p) => ({ ...p, owed: money(p.owed), paid: money(p.paid) })),
    shortfalls: s.shortfalls.map((p) => ({ ...p, paid: money(p.paid), owed: money(p.owed) })),
    summary: summary(data, s, (a) => money(a).text),
  };
}
