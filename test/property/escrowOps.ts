/**
 * The escrow's side of the property sequences: deposits and withdrawals, payout accounts, claims, the reveal,
 * settlement and debts (see ops.ts for the shape of a step).
 */
import { ZeroAddress } from "ethers";
import type { IRoamingAgreements } from "../../typechain-types/contracts/SettlementEscrow";

type TermsStruct = IRoamingAgreements.TermsStruct;
import { INVOICE, Model, RESOLUTION } from "./model";
import { carrierError, closeInvoice, signerOf, type Actor, type Ctx, type Op, type OpOf, type Step } from "./ops";
import { DIRS, PARAMS, PLMN, PLMN_OF, type Member } from "./world";

const smaller = (a: bigint, b: bigint): bigint => (a < b ? a : b);

function depositStep(c: Ctx, o: OpOf<"deposit">): Step {
  return {
    expected: carrierError(c.m, o.who),
    send: () => c.w.escrow.connect(signerOf(c.w, o.who)).deposit(c.w.addresses.token, o.amount),
    apply: () => {
      c.m.deposits[o.who as Member] += o.amount;
      c.m.deposited += o.amount;
    },
  };
}

function requestStep(c: Ctx, o: OpOf<"requestWithdrawal">): Step {
  const to = c.w.payoutAccount.us;
  return {
    expected: carrierError(c.m, o.who),
    send: () => c.w.escrow.connect(signerOf(c.w, o.who)).requestWithdrawal(c.w.addresses.token, o.amount, to),
    apply: () => {
      c.m.withdrawals[o.who as Member] = { amount: o.amount, unlocksAt: c.t + PARAMS.withdrawalDelay };
    },
  };
}

function cancelStep(c: Ctx, o: OpOf<"cancelWithdrawal">): Step {
  const none = o.who !== "outsider" && c.m.withdrawals[o.who].amount === 0n ? "SettlementEscrowNoWithdrawal" : undefined;
  return {
    expected: carrierError(c.m, o.who) ?? none,
    send: () => c.w.escrow.connect(signerOf(c.w, o.who)).cancelWithdrawal(c.w.addresses.token),
    apply: () => {
      c.m.withdrawals[o.who as Member] = { amount: 0n, unlocksAt: 0 };
    },
  };
}

/** Why a withdrawal by `who` at `t` is refused, if it is. */
function withdrawError(c: Ctx, who: Actor): string | undefined {
  if (who === "outsider") return carrierError(c.m, who);
  const w = c.m.withdrawals[who];
  if (carrierError(c.m, who)) return carrierError(c.m, who);
  if (w.amount === 0n) return "SettlementEscrowNoWithdrawal";
  if (c.t < w.unlocksAt) return "SettlementEscrowWithdrawalLocked";
  return c.m.free(who) === 0n ? "SettlementEscrowInsufficientDeposit" : undefined;
}

function withdrawStep(c: Ctx, o: OpOf<"withdraw">): Step {
  return {
    expected: withdrawError(c, o.who),
    send: () => c.w.escrow.connect(signerOf(c.w, o.who)).withdraw(c.w.addresses.token),
    apply: () => {
      const who = o.who as Member;
      const amount = smaller(c.m.withdrawals[who].amount, c.m.free(who));
      c.m.deposits[who] -= amount;
      c.m.paidOut += amount;
      c.m.withdrawals[who] = { amount: 0n, unlocksAt: 0 };
    },
  };
}

function payoutStep(c: Ctx, o: OpOf<"payout">): Step {
  const account = o.who === "outsider" || !o.on ? ZeroAddress : c.w.payoutAccount[o.who];
  return {
    expected: carrierError(c.m, o.who),
    send: () => c.w.escrow.connect(signerOf(c.w, o.who)).setPayoutAccount(account),
    apply: () => {
      c.m.payout[o.who as Member] = o.on;
    },
  };
}

/** Why a party-only call by `by` on the invoice of `d` is refused before its status is looked at, if it is. */
function partyError(c: Ctx, by: Actor, d: number, payeeOnly: boolean): string | undefined {
  const refused = carrierError(c.m, by);
  if (refused) return refused;
  const { home, visited } = DIRS[d];
  return by === visited || (!payeeOnly && by === home) ? undefined : "SettlementEscrowNotParty";
}

function claimStep(c: Ctx, o: OpOf<"claim">): Step {
  const { home, visited } = DIRS[o.dir];
  const s = c.m.invoices[o.dir];
  const bond = Model.bondOf(s.net);
  const expected =
    partyError(c, o.by, o.dir, true) ??
    (s.status !== INVOICE.Proposed
      ? "SettlementEscrowWrongStatus"
      : c.t < s.proposedAt + PARAMS.signWindow
        ? "SettlementEscrowSignWindowOpen"
        : bond > c.m.free(visited)
          ? "SettlementEscrowInsufficientDeposit"
          : undefined);
  return {
    expected,
    send: () => c.w.escrow.connect(signerOf(c.w, o.by)).fileClaim(PLMN_OF[home], PLMN_OF[visited], c.w.period),
    apply: () => {
      Object.assign(s, { status: INVOICE.Claimed, bond });
      c.m.reserved[home] += s.net;
      c.m.reserved[visited] += bond;
    },
  };
}

/**
 * The openings of the next `n` counted batches of `d` from where the reveal stopped: the first continues a
 * batch left half-opened (only its disputed records and its salt, for their leaves, are read then); with `split`, the last one gives only
 * the first of its remaining disputed records when it has two or more, and stays incomplete.
 */
function openingsOf(c: Ctx, d: number, o: OpOf<"reveal">) {
  const s = c.m.invoices[d];
  const ids = c.m.dirs[d].counted.slice(s.cursor, s.cursor + o.chunk);
  return ids.map((id, i) => {
    const b = c.m.batches.get(id)!;
    const p = b.prepared;
    const from = i === 0 ? s.disputeCursor : 0;
    const remaining = b.disputed.slice(from).map((k) => p.records[k]);
    const disputed = o.split && i === ids.length - 1 && remaining.length >= 2 ? remaining.slice(0, 1) : remaining;
    const salt = o.tamper && i === 0 ? PLMN.MAKER.padEnd(66, "0") : p.salt;
    return { recordCount: p.recordCount, totals: p.totals, salt, disputed, complete: from + disputed.length === b.disputed.length };
  });
}

/** Why an opening of a wrong salt is refused: by the totals at a batch's first opening, else by its first disputed leaf. */
function tamperedError(disputeCursor: number, disputed: number): string | undefined {
  if (disputeCursor === 0) return "SettlementEscrowWrongOpening";
  return disputed > 0 ? "SettlementEscrowWrongDisputedRecord" : undefined;
}

/** The reveal, a chunk at a time: the next counted batches' openings, or `finishReveal` once all are opened. */
function revealStep(c: Ctx, o: OpOf<"reveal">): Step {
  const { home, visited } = DIRS[o.dir];
  const s = c.m.invoices[o.dir];
  const refused = partyError(c, o.by, o.dir, false);
  const open = s.status === INVOICE.Claimed || s.status === INVOICE.Revealing;
  const counted = c.m.dirs[o.dir].counted.length;
  const escrow = c.w.escrow.connect(signerOf(c.w, o.by));
  const args = [PLMN_OF[home], PLMN_OF[visited], c.w.period] as const;
  if (!open || s.cursor < counted || s.status === INVOICE.Claimed) {
    const openings = open ? openingsOf(c, o.dir, o) : [];
    // A wrong salt is caught where the totals are read; in a batch whose totals were opened already, by the
    // leaf of its next disputed record (leaves are salted with it).
    const tampered = o.tamper && openings.length > 0 ? tamperedError(s.disputeCursor, openings[0].disputed.length) : undefined;
    return {
      expected: refused ?? (open ? tampered : "SettlementEscrowWrongStatus"),
      send: () =>
        escrow.openBatches(
          ...args,
          openings.map(({ complete, ...opening }) => opening),
        ),
      apply: () => {
        s.status = INVOICE.Revealing;
        const last = openings.at(-1);
        s.cursor += openings.filter((x) => x.complete).length;
        s.disputeCursor = last && !last.complete ? (openings.length === 1 ? s.disputeCursor : 0) + last.disputed.length : 0;
      },
    };
  }
  return {
    expected: refused,
    send: () => escrow.finishReveal(...args, c.w.terms as TermsStruct, c.w.termsSalt),
    apply: () => finishReveal(c, o.dir),
  };
}

/** The escrow's `finishReveal`: the rating decides; a claim above it loses the bond, one at or below it earns the penalty. */
function finishReveal(c: Ctx, d: number): void {
  const { home, visited } = DIRS[d];
  const s = c.m.invoices[d];
  const rating = c.m.rating(d, PLMN_OF[visited]);
  const upheld = rating >= s.net;
  const amount = upheld ? rating + Model.penaltyOf(rating) : rating;
  c.m.reserved[home] -= s.net;
  c.m.reserved[visited] -= s.bond;
  if (!upheld && s.bond > 0n) c.m.deposits[home] += c.m.debit(visited, home, s.bond);
  s.rating = rating;
  closeInvoice(c, d, amount, RESOLUTION.Revealed);
}

/** Settles one direction's closed invoice: its amount unreserved and paid (a shortfall becomes a debt). */
function settleOne(c: Ctx, d: number): void {
  const { home, visited } = DIRS[d];
  const s = c.m.invoices[d];
  s.status = INVOICE.Settled;
  c.m.reserved[home] -= s.amount;
  if (s.amount > 0n) c.m.pay(home, visited, s.amount);
}

/** What `settle(DE, BR)` does at `t`: both directions netted, one alone after the solo delay, or why not. */
function settlement(c: Ctx): { expected?: string; apply?: () => void } {
  const [ab, ba] = c.m.invoices; // ab: DE pays BR (direction 0); ba: BR pays DE (direction 1)
  const closed = [ab.status === INVOICE.Closed, ba.status === INVOICE.Closed];
  if (closed[0] && closed[1]) {
    return {
      apply: () => {
        ab.status = INVOICE.Settled;
        ba.status = INVOICE.Settled;
        c.m.reserved.de -= ab.amount;
        c.m.reserved.br -= ba.amount;
        if (ab.amount > ba.amount) c.m.pay("de", "br", ab.amount - ba.amount);
        else if (ba.amount > ab.amount) c.m.pay("br", "de", ba.amount - ab.amount);
      },
    };
  }
  if (!closed[0] && !closed[1]) {
    const both = ab.status === INVOICE.Settled && ba.status === INVOICE.Settled;
    return { expected: both ? "SettlementEscrowAlreadySettled" : "SettlementEscrowInvoiceNotClosed" };
  }
  const d = closed[0] ? 0 : 1;
  const other = c.m.invoices[1 - d];
  if (other.status !== INVOICE.Settled && c.t < c.w.end + PARAMS.soloSettleDelay) return { expected: "SettlementEscrowSoloSettleTooEarly" };
  return { apply: () => settleOne(c, d) };
}

function settleStep(c: Ctx, o: OpOf<"settle">): Step {
  const { expected, apply } = settlement(c);
  return {
    expected: carrierError(c.m, o.by) ?? expected,
    send: () => c.w.escrow.connect(signerOf(c.w, o.by)).settle(PLMN.DE, PLMN.BR, c.w.period),
    apply,
  };
}

function payDebtStep(c: Ctx, o: OpOf<"payDebt">): Step {
  const creditor: Member = o.who === "de" ? "br" : "de";
  const owed = c.m.debt(o.who, creditor);
  const why = owed === 0n ? "SettlementEscrowNoDebt" : c.m.deposits[o.who] === 0n ? "SettlementEscrowInsufficientDeposit" : undefined;
  return {
    expected: carrierError(c.m, o.by) ?? why,
    send: () => c.w.escrow.connect(signerOf(c.w, o.by)).payDebt(PLMN_OF[o.who], PLMN_OF[creditor], c.w.addresses.token),
    apply: () => {
      const paid = smaller(c.m.deposits[o.who], owed);
      c.m.addDebt(o.who, creditor, -paid);
      c.m.reserved[o.who] -= paid;
      c.m.deposits[o.who] -= paid;
      c.m.paidDebt(o.who, creditor, paid);
    },
  };
}

/** The step of an escrow op (deposits, withdrawals, payout accounts, claims, reveals, settlement, debts). */
export function escrowSteps(c: Ctx, o: Op): Step | undefined {
  switch (o.k) {
    case "deposit":
      return depositStep(c, o);
    case "requestWithdrawal":
      return requestStep(c, o);
    case "cancelWithdrawal":
      return cancelStep(c, o);
    case "withdraw":
      return withdrawStep(c, o);
    case "payout":
      return payoutStep(c, o);
    case "claim":
      return claimStep(c, o);
    case "reveal":
      return revealStep(c, o);
    case "settle":
      return settleStep(c, o);
    case "payDebt":
      return payDebtStep(c, o);
    default:
      return undefined;
  }
}
