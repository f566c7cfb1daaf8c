/**
 * Settlement escrow events as the watcher shows them. Only what the escrow makes public: nets, bonds,
 * reserved amounts, payments, debts, deposits and withdrawals (an invoice's lines and totals travel sealed;
 * a reveal's rating is public by then: it is in the event).
 */
import { formatPeriod } from "../core/period";
import { formatPlmn } from "../core/plmn";
import { RESOLUTIONS } from "../settlement/invoices";
import { lower, roleOf, short, type WatchContext, type WatchHandler, type WatchRole } from "./types";

const P = (plmn: unknown) => formatPlmn(lower(plmn));

/** An invoice event: relevant to its payer and payee. */
function invoiceRole(ctx: WatchContext, payer: unknown, payee: unknown) {
  return roleOf(ctx, [
    ["payer", payer],
    ["payee", payee],
  ]);
}

/** A deposit event: the member itself, or a counterparty of the watcher (whose deposit backs what it owes). */
async function depositRole(ctx: WatchContext, member: unknown): Promise<WatchRole | undefined> {
  if (lower(member) === ctx.self) return "member";
  if (await ctx.isPartner(lower(member))) return "partner";
  return ctx.observer ? "observer" : undefined;
}

/**
 * What a payer does about a claim on it, within the sign window from the claim: concede, or contest the
 * totals; after it, the payee's proof closes the claim at the net (docs/zk.md).
 */
const PAYER_TODO = (payee: string, period: number) =>
  [
    `What to do, within the sign window (from now): if the invoice's totals and net are yours too, co-sign (invoice:cosign --partner ${payee} --period ${formatPeriod(period)});`,
    "if its totals are not the ledger's, contest them by a reveal (invoice:reveal, the last resort: it publishes the pair's figures of the period);",
    "after the window the payee may prove the claim (escrow:claim), which closes it at the net without revealing anything",
  ].join(" ");

const INVOICE_HANDLERS: Record<string, WatchHandler> = {
  async InvoiceProposed(log, ctx) {
    const { payer, payee, period, digest, net } = log.args as unknown as Record<string, string> & { net: bigint };
    const as = invoiceRole(ctx, payer, payee);
    if (!as) return undefined;
    const amount = await ctx.amount(await ctx.invoiceToken(lower(payer), lower(payee), Number(period)), net);
    return {
      kind: "invoice-proposed",
      as,
      text: `PROPOSED invoice ${P(payee)} to ${P(payer)} for ${formatPeriod(Number(period))}: net ${amount}, signed by the payee, waiting for the payer's signature`,
      data: { payer: P(payer), payee: P(payee), period: Number(period), digest, net: String(net) },
    };
  },
  async ClaimFiled(log, ctx) {
    const [payer, payee, period, net, bond] = log.args;
    const as = invoiceRole(ctx, payer, payee);
    if (!as) return undefined;
    const token = await ctx.invoiceToken(lower(payer), lower(payee), Number(period));
    const head = `CLAIM ${P(payee)} claims ${await ctx.amount(token, net)} from ${P(payer)} for ${formatPeriod(Number(period))} (bond ${await ctx.amount(token, bond)}): the payer did not co-sign in time`;
    return {
      kind: "claim-filed",
      as,
      text: as === "payer" ? `${head}. ${PAYER_TODO(P(payee), Number(period))}` : head,
      data: { payer: P(payer), payee: P(payee), period: Number(period), net: String(net), bond: String(bond) },
    };
  },
  async BatchesOpened(log, ctx) {
    const [payer, payee, period, cursor, counted] = log.args;
    const as = invoiceRole(ctx, payer, payee);
    if (!as) return undefined;
    return {
      kind: "reveal-progress",
      as,
      text: `REVEAL of ${P(payee)} to ${P(payer)} for ${formatPeriod(Number(period))}: ${cursor} of ${counted} batches opened`,
      data: { payer: P(payer), payee: P(payee), period: Number(period), cursor: Number(cursor), counted: Number(counted) },
    };
  },
  async ClaimRevealed(log, ctx) {
    const { payer, payee, period, claimed, upheld, amount } = log.args as unknown as Record<string, string> & {
      claimed: bigint;
      amount: bigint;
      upheld: boolean;
    };
    const as = invoiceRole(ctx, payer, payee);
    if (!as) return undefined;
    const token = await ctx.invoiceToken(lower(payer), lower(payee), Number(period));
    return {
      kind: "claim-revealed",
      as,
      text: `REVEALED ${P(payee)} to ${P(payer)} for ${formatPeriod(Number(period))}: claim of ${await ctx.amount(token, claimed)} ${upheld ? "upheld" : "refuted"}, the payer owes ${await ctx.amount(token, amount)} (the pair's terms and totals of that period are public now)`,
      data: {
        payer: P(payer),
        payee: P(payee),
        period: Number(period),
        claimed: String(claimed),
        upheld: String(upheld),
        amount: String(amount),
      },
    };
  },
  async InvoiceClosed(log, ctx) {
    const [payer, payee, period, token, amount, resolution] = log.args;
    const as = invoiceRole(ctx, payer, payee);
    if (!as) return undefined;
    const how = RESOLUTIONS[Number(resolution)] ?? `resolution ${resolution}`;
    return {
      kind: "invoice-closed",
      as,
      text: `INVOICE ${P(payee)} to ${P(payer)} for ${formatPeriod(Number(period))} closed (${how}): ${await ctx.amount(token, amount)}, reserved on the payer's deposit`,
      data: { payer: P(payer), payee: P(payee), period: Number(period), token, net: String(amount), resolution: how },
    };
  },
};

const SETTLEMENT_HANDLERS: Record<string, WatchHandler> = {
  async PeriodSettled(log, ctx) {
    const [a, b, period, aOwedB, bOwedA] = log.args;
    const as = roleOf(ctx, [
      ["party", a],
      ["party", b],
    ]);
    if (!as) return undefined;
    const token = await ctx.invoiceToken(lower(a), lower(b), Number(period));
    return {
      kind: "settled",
      as,
      text: `SETTLED ${formatPeriod(Number(period))} between ${P(a)} and ${P(b)} with netting: ${P(a)} owed ${await ctx.amount(token, aOwedB)}, ${P(b)} owed ${await ctx.amount(token, bOwedA)}`,
      data: { a: P(a), b: P(b), period: Number(period), aOwedB: String(aOwedB), bOwedA: String(bOwedA) },
    };
  },
  async InvoiceSettled(log, ctx) {
    const [payer, payee, period, amount] = log.args;
    const as = invoiceRole(ctx, payer, payee);
    if (!as) return undefined;
    const token = await ctx.invoiceToken(lower(payer), lower(payee), Number(period));
    return {
      kind: "settled-alone",
      as,
      text: `SETTLED ${formatPeriod(Number(period))} ${P(payer)} to ${P(payee)} alone (the other direction did not close in time): ${await ctx.amount(token, amount)}`,
      data: { payer: P(payer), payee: P(payee), period: Number(period), amount: String(amount) },
    };
  },
  async SettlementPaid(log, ctx) {
    const [debtor, creditor, period, token, owed, paid, payout] = log.args;
    const as = invoiceRole(ctx, debtor, creditor);
    if (!as) return undefined;
    const where = lower(payout) === `0x${"0".repeat(40)}` ? "credited to its deposit" : `to ${payout}`;
    return {
      kind: "payment",
      as,
      text: `PAID ${P(debtor)} paid ${P(creditor)} ${await ctx.amount(token, paid)} for ${formatPeriod(Number(period))} (${where})`,
      data: { debtor: P(debtor), creditor: P(creditor), period: Number(period), token, owed: String(owed), paid: String(paid), payout },
    };
  },
  async SettlementShortfall(log, ctx) {
    const [debtor, creditor, period, token, paid, owed] = log.args;
    const as = invoiceRole(ctx, debtor, creditor);
    if (!as) return undefined;
    return {
      kind: "shortfall",
      as,
      text: `SHORTFALL ${P(debtor)} owes ${P(creditor)} ${await ctx.amount(token, owed)} more for ${formatPeriod(Number(period))} (paid ${await ctx.amount(token, paid)}): a debt until paid`,
      data: { debtor: P(debtor), creditor: P(creditor), period: Number(period), token, paid: String(paid), owed: String(owed) },
    };
  },
  async DebtPaid(log, ctx) {
    const [debtor, creditor, token, paid, remaining] = log.args;
    const as = invoiceRole(ctx, debtor, creditor);
    if (!as) return undefined;
    return {
      kind: "debt-paid",
      as,
      text: `DEBT ${P(debtor)} paid ${P(creditor)} ${await ctx.amount(token, paid)}; ${await ctx.amount(token, remaining)} still owed`,
      data: { debtor: P(debtor), creditor: P(creditor), token, paid: String(paid), remaining: String(remaining) },
    };
  },
};

const DEPOSIT_HANDLERS: Record<string, WatchHandler> = {
  async WithdrawalRequested(log, ctx) {
    const [member, token, to, amount, unlocksAt] = log.args;
    const as = await depositRole(ctx, member);
    if (!as) return undefined;
    const when = new Date(Number(unlocksAt) * 1000).toISOString().replace(".000Z", "Z");
    return {
      kind: "withdrawal-requested",
      as,
      text: `WITHDRAWAL ${P(member)} asked to withdraw up to ${await ctx.amount(token, amount)} from its deposit, from ${when} on (what is reserved then stays)`,
      data: { member: P(member), token, to, amount: String(amount), unlocksAt: Number(unlocksAt) },
    };
  },
  async WithdrawalCancelled(log, ctx) {
    const [member, token] = log.args;
    const as = await depositRole(ctx, member);
    if (!as) return undefined;
    return {
      kind: "withdrawal-cancelled",
      as,
      text: `WITHDRAWAL of ${P(member)} cancelled (${short(token)})`,
      data: { member: P(member), token },
    };
  },
  async Withdrawn(log, ctx) {
    const [member, token, to, amount] = log.args;
    const as = await depositRole(ctx, member);
    if (!as) return undefined;
    return {
      kind: "withdrawn",
      as,
      text: `WITHDRAWN ${P(member)} took ${await ctx.amount(token, amount)} out of its deposit`,
      data: { member: P(member), token, to, amount: String(amount) },
    };
  },
};

export const ESCROW_HANDLERS: Record<string, WatchHandler> = { ...INVOICE_HANDLERS, ...SETTLEMENT_HANDLERS, ...DEPOSIT_HANDLERS };
