/**
 * What the property sequences expect of the contracts: a plain model of the ledger's batches and periods and
 * of the escrow's books and invoices for the DE-BR pair and one period, updated only by steps that succeed.
 */
import { accumulatorOf, disputeHashOf, type CountedBatch } from "../../lib/usage/accumulator";
import { rateInvoice } from "../../lib/settlement/rating";
import { addTotals } from "../../lib/settlement/totals";
import { zeroTotals, type ClassTotals } from "../../lib/usage/types";
import { FLEETS, measuredOf, MEMBERS, PARAMS, PARTNERS, PRICED, type Member, type PreparedBatch, type World } from "./world";
import type { Hex } from "../../lib/util/hex";
import type { EscrowInvoice } from "../../lib/settlement/invoiceSignature";

/** UsageTypes.BatchStatus, ISettlementEscrow.InvoiceStatus and Resolution. */
export const BATCH = { None: 0, Submitted: 1, Accepted: 2, Rejected: 3, Expired: 4 } as const;
export const INVOICE = { None: 0, Proposed: 1, Claimed: 2, Revealing: 3, Closed: 4, Settled: 5 } as const;
export const RESOLUTION = { None: 0, CoSigned: 1, Proven: 2, Revealed: 3 } as const;

export interface BatchModel {
  prepared: PreparedBatch;
  status: number;
  windowEnd: number;
  /** Disputed leaf indexes in the order disputed. */
  disputed: number[];
}

export interface DirectionModel {
  batchCount: number;
  pending: number;
  rejected: number;
  /** Counted batch ids in the ledger's order. */
  counted: Hex[];
  closed: boolean;
  /** Spam batches submitted so far. */
  spam: number;
}

export interface InvoiceModel {
  status: number;
  resolution: number;
  net: bigint;
  amount: bigint;
  bond: bigint;
  proposedAt: number;
  /** The invoice proposed or closed (what the payer signs). */
  inv: EscrowInvoice | undefined;
  /** The rating of the period when the invoice closed (for invariant 3). */
  rating: bigint;
  /** Batches opened by the reveal. */
  cursor: number;
  /** Disputed records opened of the batch at `cursor` (a batch left half-opened). */
  disputeCursor: number;
}

/** DeviceTypes.DeviceStatus and DenyReason. */
export const DEVICE = { None: 0, Active: 1, Suspended: 2, FraudFlagged: 3 } as const;
export const DENY = { None: 0, DeviceSuspended: 2, DeviceFraudFlagged: 3, NoAgreement: 8, ClassNotPriced: 9 } as const;
/**
 * Whether the contracts refuse service in a class the agreement does not price (issue 14, F10: decide() denies
 * ClassNotPriced). Set to false, the invariant "no device is served in a class its agreement does not price"
 * is counted and reported instead of asserted (how the suite ran on contracts before the fix).
 */
export const PRICED_CLASSES_ENFORCED = true;
/** DeviceRegistry: flags one reporter may raise a day, and how long after a dismissal or reinstatement it may not flag again. */
export const FLAGS_PER_DAY = 200;
export const FLAG_COOLDOWN = 7 * 24 * 3600;

/** A reporter's flag on a device: standing while `flaggedAt` is set and its epoch is the device's. */
export interface FlagModel {
  flaggedAt: number;
  epoch: number;
  dismissedAt: number;
}

export interface DeviceModel {
  home: Member;
  status: number;
  tariffClass: number;
  policyVersion: number;
  /** Bumped by each reinstatement (which clears every standing flag), and when. */
  epoch: number;
  clearedAt: number;
  flags: Partial<Record<Member, FlagModel>>;
  /** Evidence hashes each reporter used on this device ("reporter:evidence"). */
  evidence: Set<string>;
}

const smaller = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const less = (a: bigint, b: bigint): bigint => (a > b ? a - b : 0n);

export class Model {
  active: Record<Member, boolean> = { de: true, br: true, us: true };
  deposits: Record<Member, bigint> = { de: 0n, br: 0n, us: 0n };
  reserved: Record<Member, bigint> = { de: 0n, br: 0n, us: 0n };
  payout: Record<Member, boolean> = { de: false, br: false, us: false };
  withdrawals: Record<Member, { amount: bigint; unlocksAt: number }> = {
    de: { amount: 0n, unlocksAt: 0 },
    br: { amount: 0n, unlocksAt: 0 },
    us: { amount: 0n, unlocksAt: 0 },
  };
  debts = new Map<string, bigint>();
  deposited = 0n;
  paidOut = 0n;
  batches = new Map<Hex, BatchModel>();
  dirs: DirectionModel[] = [0, 1].map(() => ({ batchCount: 0, pending: 0, rejected: 0, counted: [], closed: false, spam: 0 }));
  invoices: InvoiceModel[] = [0, 1].map(() => ({
    status: 0,
    resolution: 0,
    net: 0n,
    amount: 0n,
    bond: 0n,
    proposedAt: 0,
    inv: undefined,
    rating: 0n,
    cursor: 0,
    disputeCursor: 0,
  }));
  /** The invoices' state read back when they settled: never to change. */
  settled: (string[] | undefined)[] = [undefined, undefined];

  devices = new Map<Hex, DeviceModel>();

  constructor(readonly w: World) {
    for (const home of FLEETS) {
      w.fleet[home].forEach((id, k) => {
        this.devices.set(id, {
          home,
          status: DEVICE.Active,
          tariffClass: w.initialClass(k),
          policyVersion: 1,
          epoch: 0,
          clearedAt: 0,
          flags: {},
          evidence: new Set(),
        });
      });
    }
  }

  /** Whether `a` and `b` hold an agreement in force at `t` (both active, within its validity). */
  agreed(a: Member, b: Member, t: number): boolean {
    return PARTNERS[a].includes(b) && this.active[a] && this.active[b] && t < this.w.agreementsUntil;
  }

  /** Flags raised per reporter on its current day. */
  quotas: Partial<Record<Member, { day: number; used: number }>> = {};

  /** Whether `reporter`'s flag on device `id` stands (it denies the device in the reporter's network only). */
  flaggedBy(id: Hex, reporter: Member): boolean {
    const d = this.devices.get(id)!;
    const f = d.flags[reporter];
    return f !== undefined && f.flaggedAt !== 0 && f.epoch === d.epoch;
  }

  /** When `reporter` may flag `id` again after the home dismissed its flag or reinstated the device (0: now). */
  cooldownUntil(id: Hex, reporter: Member): number {
    const d = this.devices.get(id)!;
    const f = d.flags[reporter] ?? { flaggedAt: 0, epoch: 0, dismissedAt: 0 };
    let cleared = f.dismissedAt;
    if (f.flaggedAt !== 0 && f.epoch !== d.epoch && d.clearedAt > cleared) cleared = d.clearedAt;
    return cleared === 0 ? 0 : cleared + FLAG_COOLDOWN;
  }

  /** What decide(id, visited, Data) answers at `t`: the deny reason (0: served). */
  denyReason(id: Hex, visited: Member, t: number): number {
    const d = this.devices.get(id)!;
    if (d.status === DEVICE.Suspended) return DENY.DeviceSuspended;
    if (d.status === DEVICE.FraudFlagged || this.flaggedBy(id, visited)) return DENY.DeviceFraudFlagged;
    if (!this.agreed(d.home, visited, t)) return DENY.NoAgreement;
    if (PRICED_CLASSES_ENFORCED && !this.priced(id, visited)) return DENY.ClassNotPriced;
    return DENY.None;
  }

  /** Whether the agreement of the device's home with `visited` prices the device's class. */
  priced(id: Hex, visited: Member): boolean {
    const d = this.devices.get(id)!;
    return (PRICED[`${d.home}>${visited}`] ?? []).includes(d.tariffClass);
  }

  debt(debtor: Member, creditor: Member): bigint {
    return this.debts.get(`${debtor}>${creditor}`) ?? 0n;
  }

  addDebt(debtor: Member, creditor: Member, amount: bigint): void {
    this.debts.set(`${debtor}>${creditor}`, this.debt(debtor, creditor) + amount);
  }

  free(m: Member): bigint {
    return less(this.deposits[m], this.reserved[m]);
  }

  /** Batches of direction `dir` in submission order. */
  batchesOf(dir: number): BatchModel[] {
    return [...this.batches.values()].filter((b) => b.prepared.dir === dir);
  }

  /** Debits `owed` from the debtor's deposit as far as it goes; the rest becomes a reserved debt. */
  debit(debtor: Member, creditor: Member, owed: bigint): bigint {
    const paid = smaller(this.deposits[debtor], owed);
    this.deposits[debtor] -= paid;
    if (owed > paid) {
      this.addDebt(debtor, creditor, owed - paid);
      this.reserved[debtor] += owed - paid;
    }
    return paid;
  }

  /** What each settlement charged a debtor for a creditor, and what of it reached the creditor ("debtor>creditor"). */
  charged = new Map<string, bigint>();
  received = new Map<string, bigint>();

  /** The escrow's `_pay`: debit, then credit the creditor's payout account or deposit. */
  pay(debtor: Member, creditor: Member, owed: bigint): void {
    const key = `${debtor}>${creditor}`;
    this.charged.set(key, (this.charged.get(key) ?? 0n) + owed);
    this.paidDebt(debtor, creditor, this.debit(debtor, creditor, owed));
  }

  /** `paid` of what `debtor` owes reaches `creditor`. */
  paidDebt(debtor: Member, creditor: Member, paid: bigint): void {
    const key = `${debtor}>${creditor}`;
    this.received.set(key, (this.received.get(key) ?? 0n) + paid);
    this.credit(creditor, paid);
  }

  credit(creditor: Member, amount: bigint): void {
    if (this.payout[creditor]) this.paidOut += amount;
    else this.deposits[creditor] += amount;
  }

  /** The ledger's accumulator of a direction, recomputed with lib/usage/accumulator. */
  accumulator(dir: number): Hex {
    const counted: CountedBatch[] = this.dirs[dir].counted.map((id) => {
      const b = this.batches.get(id)!;
      return {
        batchId: id,
        totalsCommitment: b.prepared.header.totalsCommitment,
        disputeCount: b.disputed.length,
        disputeHash: disputeHashOf(b.disputed.map((i) => ({ leafIndex: i, leaf: b.prepared.leaves[i] }))),
      };
    });
    return accumulatorOf(counted);
  }

  /**
   * The period totals of a direction under "the rule" (docs/confidentiality.md): the counted batches'
   * committed totals, each less its billable disputed records' measured contribution, saturating at zero,
   * in the ledger's order (as RevealLib sums them).
   */
  periodTotals(dir: number): ClassTotals[] {
    const sums = new Map<number, ClassTotals>();
    for (const id of this.dirs[dir].counted) {
      const b = this.batches.get(id)!;
      for (const t of b.prepared.totals) {
        const s = sums.get(t.tariffClass) ?? zeroTotals(t.tariffClass);
        sums.set(t.tariffClass, addTotals(s, t));
      }
      for (const i of b.disputed) {
        const r = b.prepared.records[i];
        if (r.billing !== 0) continue;
        const s = sums.get(r.tariffClass) ?? zeroTotals(r.tariffClass);
        sums.set(r.tariffClass, subtractMeasured(s, measuredOf(r)));
      }
    }
    return [...sums.values()].sort((a, b) => a.tariffClass - b.tariffClass);
  }

  /** The agreement's rating (lib/settlement/rating.ts) of a direction's period totals: the honest net. */
  rating(dir: number, visited: Hex): bigint {
    return rateInvoice(this.periodTotals(dir), this.w.terms, visited).net;
  }

  /** The escrow's claim bond of `net`. */
  static bondOf(net: bigint): bigint {
    const bond = (net * BigInt(PARAMS.claimBondBps)) / 10_000n;
    return bond === 0n && net > 0n ? 1n : bond;
  }

  static penaltyOf(rating: bigint): bigint {
    return (rating * BigInt(PARAMS.stallPenaltyBps)) / 10_000n;
  }
}

/** `s` less a disputed record's measured contribution `d`; devices and roamer days stay. */
function subtractMeasured(s: ClassTotals, d: ClassTotals): ClassTotals {
  return {
    ...s,
    records: Math.max(0, s.records - d.records),
    dataBytes: less(s.dataBytes, d.dataBytes),
    signallingEvents: less(s.signallingEvents, d.signallingEvents),
    smsCount: less(s.smsCount, d.smsCount),
    voiceSeconds: less(s.voiceSeconds, d.voiceSeconds),
    qosSamples: Math.max(0, s.qosSamples - d.qosSamples),
    latencyMsSum: less(s.latencyMsSum, d.latencyMsSum),
    throughputKbpsSum: less(s.throughputKbpsSum, d.throughputKbpsSum),
  };
}

export { MEMBERS };
