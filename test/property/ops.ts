/**
 * The operations of the property sequences: what fast-check draws, and for each the call it makes, what the
 * model expects (success, or the custom error it reverts with) and how the model changes when it succeeds.
 */
import fc from "fast-check";
import type { ContractTransactionResponse, TransactionReceipt } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { periodTotalsCommitment } from "../../lib/crypto/commitment";
import { signInvoice, type EscrowInvoice } from "../../lib/settlement/invoiceSignature";
import { merkleProof } from "../../lib/usage/merkle";
import { signBatch, toContractBatch } from "../../lib/usage/batch";
import type { LeafHasher } from "../../lib/usage/leaf";
import { BATCH, INVOICE, type Model, RESOLUTION, type BatchModel } from "./model";
import {
  changeStatus,
  DAY,
  DIRS,
  PARAMS,
  PLMN_OF,
  prepareBatch,
  seededRecords,
  WINDOW,
  type Member,
  type PreparedBatch,
  type World,
} from "./world";
import { escrowSteps } from "./escrowOps";
import { deviceKinds, deviceSteps } from "./deviceOps";

/** An account that acts: a carrier of the consortium or an account of no member. */
export type Actor = Member | "outsider";
/** Pool batches per direction (each honest or inflated), spam batches per op and at most per direction. */
export const POOL = 4;
export const SPAM_PER_OP = 4;
export const SPAM_MAX = 24;

const actor = fc.constantFrom<Actor>("de", "br", "us", "outsider", "de", "br");
const party = fc.constantFrom<Member>("de", "br");
const dir = fc.constantFrom(0, 1);
const amount = fc.bigInt({ min: 1n, max: 3_000_000n });
const pick = fc.nat({ max: 60 });
/** True one time in six: forged signatures, tampered openings. */
const rare = fc.nat({ max: 5 }).map((x) => x === 0);
const variant = fc.constantFrom<Variant>("honest", "honest", "inflated", "under");
export type Variant = "honest" | "inflated" | "under";
/** Mostly the carrier the op is meant for (`right`), sometimes the other party, the third carrier or no member. */
const actorFor = (right: Member, wrong: Member) => fc.constantFrom<Actor>(right, right, right, wrong, "us", "outsider");
const homeOf = (d: number) => DIRS[d].home;
const visitedOf = (d: number) => DIRS[d].visited;

/** Every operation kind but the race, each with its generator. */
const plainKinds = {
  deposit: fc.record({ k: fc.constant("deposit" as const), who: actor, amount }),
  requestWithdrawal: fc.record({ k: fc.constant("requestWithdrawal" as const), who: actor, amount }),
  cancelWithdrawal: fc.record({ k: fc.constant("cancelWithdrawal" as const), who: actor }),
  withdraw: fc.record({ k: fc.constant("withdraw" as const), who: actor }),
  payout: fc.record({ k: fc.constant("payout" as const), who: actor, on: fc.boolean() }),
  submit: fc.record({
    k: fc.constant("submit" as const),
    dir,
    n: fc.nat({ max: POOL - 1 }),
    inflated: fc.boolean(),
    forged: rare,
    by: actor,
  }),
  spam: fc.record({ k: fc.constant("spam" as const), dir }),
  accept: dir.chain((d) =>
    fc.record({ k: fc.constant("accept" as const), dir: fc.constant(d), pick, by: actorFor(homeOf(d), visitedOf(d)) }),
  ),
  reject: dir.chain((d) =>
    fc.record({ k: fc.constant("reject" as const), dir: fc.constant(d), pick, by: actorFor(homeOf(d), visitedOf(d)) }),
  ),
  dispute: dir.chain((d) =>
    fc.record({
      k: fc.constant("dispute" as const),
      dir: fc.constant(d),
      pick,
      r: fc.nat({ max: 7 }),
      by: actorFor(homeOf(d), visitedOf(d)),
    }),
  ),
  expire: fc.record({ k: fc.constant("expire" as const), dir, by: actor }),
  close: fc.record({ k: fc.constant("close" as const), dir, by: actor }),
  propose: fc.record({ k: fc.constant("propose" as const), dir, variant, forged: rare, by: actor }),
  cosign: fc.record({ k: fc.constant("cosign" as const), dir, by: actor }),
  closeBoth: fc.record({ k: fc.constant("closeBoth" as const), dir, variant, by: actor }),
  claim: dir.chain((d) => fc.record({ k: fc.constant("claim" as const), dir: fc.constant(d), by: actorFor(visitedOf(d), homeOf(d)) })),
  reveal: dir.chain((d) =>
    fc.record({
      k: fc.constant("reveal" as const),
      dir: fc.constant(d),
      by: fc.constantFrom<Actor>(homeOf(d), visitedOf(d), homeOf(d), visitedOf(d), "us", "outsider"),
      chunk: fc.integer({ min: 1, max: 3 }),
      tamper: rare,
      split: fc.boolean(),
    }),
  ),
  settle: fc.record({ k: fc.constant("settle" as const), by: actor }),
  payDebt: fc.record({ k: fc.constant("payDebt" as const), who: party, by: actor }),
  governance: fc.record({ k: fc.constant("governance" as const), target: fc.constantFrom<Member>("de", "br", "us") }),
  ...deviceKinds,
  wait: fc.record({
    k: fc.constant("wait" as const),
    to: fc.constantFrom("day", "day", "week", "edge", "deadline", "sign", "sign", "solo", "withdrawal"),
  }),
};
type Plain = keyof typeof plainKinds;
/** An op that can take part in a race: every kind but a race. */
export type RaceOp = { [K in Plain]: (typeof plainKinds)[K] extends fc.Arbitrary<infer T> ? T : never }[Plain];
export type RaceOf = { k: "race"; first: RaceOp; second: RaceOp };
export type Op = RaceOp | RaceOf;

/** Every operation kind, each with its generator. */
const kinds = { ...plainKinds, race: dir.chain((d) => race(d)) };
type Kind = keyof typeof kinds;

/**
 * Two ops mined in one block, the attacker's first (sent first, it lands first: what a member that sees the
 * pool and gets in first does): one more batch ahead of a close, a withdrawal request or a withdrawal ahead of
 * a close, an invoice or a settlement, a fleet flagged again right after the home reinstated it, devices
 * moved to another class ahead of a batch, a suspension ahead of a decision.
 */
function race(d: number): fc.Arbitrary<RaceOf> {
  const [home, visited] = [homeOf(d), visitedOf(d)];
  const ab = (first: fc.Arbitrary<unknown>, second: fc.Arbitrary<unknown>) =>
    fc.record({ k: fc.constant("race" as const), first, second }) as fc.Arbitrary<RaceOf>;
  const submitBy = (by: Actor) =>
    fc.record({
      k: fc.constant("submit" as const),
      dir: fc.constant(d),
      n: fc.nat({ max: POOL - 1 }),
      inflated: fc.boolean(),
      forged: fc.constant(false),
      by: fc.constant(by),
    });
  const close = fc.record({ k: fc.constant("close" as const), dir: fc.constant(d), by: actor });
  const honest = fc.oneof(
    close,
    fc.record({
      k: fc.constant("propose" as const),
      dir: fc.constant(d),
      variant: fc.constant("honest" as const),
      forged: fc.constant(false),
      by: actor,
    }),
    fc.record({ k: fc.constant("closeBoth" as const), dir: fc.constant(d), variant: fc.constant("honest" as const), by: actor }),
    fc.record({ k: fc.constant("settle" as const), by: actor }),
  );
  const money = fc.oneof(
    fc.record({ k: fc.constant("requestWithdrawal" as const), who: fc.constant(home), amount }),
    fc.record({ k: fc.constant("withdraw" as const), who: fc.constant(home) }),
  );
  const fleet = home === "de" || home === "br" ? home : "de";
  const all = fc.constant((1 << 4) - 1);
  return fc.oneof(
    ab(submitBy(visited), close),
    ab(money, honest),
    // The home dismisses a partner's flags; the partner flags again in the same block (refused: cooldown, evidence used).
    ab(
      fc.record({
        k: fc.constant("dismiss" as const),
        fleet: fc.constant(fleet),
        mask: all,
        reporter: fc.constantFrom<Member>("br", "us"),
        by: fc.constant<Actor>(fleet),
      }),
      fc.record({
        k: fc.constant("flag" as const),
        fleet: fc.constant(fleet),
        mask: all,
        by: fc.constantFrom<Actor>("br", "us"),
        evidence: fc.nat({ max: 3 }),
      }),
    ),
    ab(
      fc.record({
        k: fc.constant("reclass" as const),
        fleet: fc.constant(fleet),
        mask: all,
        cls: fc.constant(3),
        by: fc.constant<Actor>(fleet),
      }),
      submitBy(visited),
    ),
    ab(
      fc.record({ k: fc.constant("dispute" as const), dir: fc.constant(d), pick, r: fc.nat({ max: 7 }), by: fc.constant<Actor>(home) }),
      fc.record({ k: fc.constant("expire" as const), dir: fc.constant(d), by: actor }),
    ),
  );
}

/** Operations drawn with the given weights (0 leaves a kind out). */
function opsWeighted(weights: Record<Kind, number>) {
  const entries = (Object.keys(kinds) as Kind[]).filter((k) => weights[k] > 0);
  return fc.oneof(...entries.map((k) => ({ weight: weights[k], arbitrary: kinds[k] as fc.Arbitrary<Op> })));
}

const USAGE_WEIGHTS: Record<Kind, number> = {
  deposit: 4,
  requestWithdrawal: 2,
  cancelWithdrawal: 1,
  withdraw: 1,
  payout: 1,
  submit: 8,
  spam: 1,
  accept: 4,
  reject: 2,
  dispute: 4,
  expire: 1,
  close: 1,
  propose: 1,
  cosign: 1,
  closeBoth: 1,
  claim: 1,
  reveal: 1,
  settle: 1,
  payDebt: 1,
  governance: 1,
  flag: 2,
  reinstate: 3,
  suspendDevices: 1,
  reclass: 2,
  confirm: 1,
  dismiss: 4,
  race: 3,
  wait: 3,
};
const SETTLEMENT_WEIGHTS: Record<Kind, number> = {
  ...USAGE_WEIGHTS,
  submit: 2,
  spam: 1,
  accept: 2,
  reject: 1,
  dispute: 1,
  expire: 3,
  close: 2,
  propose: 5,
  cosign: 3,
  closeBoth: 2,
  claim: 4,
  reveal: 7,
  settle: 4,
  payDebt: 2,
  withdraw: 2,
  flag: 1,
  dismiss: 2,
  reinstate: 2,
  reclass: 1,
  race: 3,
  wait: 4,
};

/**
 * A sequence: usage first (submissions, decisions, deposits, anything), then, mostly, time past the
 * submission deadline and the settlement (invoices, claims, reveals, settle, debts, anything).
 */
export const sequence = fc
  .tuple(
    fc.array(opsWeighted(USAGE_WEIGHTS), { minLength: 1, maxLength: 12 }),
    fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fleetFight() }),
    fc.nat({ max: 4 }).map((x) => (x === 0 ? [] : [{ k: "wait" as const, to: "deadline" as const }])),
    fc.array(opsWeighted(SETTLEMENT_WEIGHTS), { minLength: 1, maxLength: 8 }),
    fc.option(contested(), { freq: 2 }),
    fc.array(opsWeighted(SETTLEMENT_WEIGHTS), { maxLength: 6 }),
  )
  .map(
    ([usage, fight, wait, settlement, claim, rest]) =>
      [...usage, ...(fight ?? []), ...wait, ...settlement, ...(claim ?? []), ...rest] as Op[],
  );

/**
 * A partner against DE's fleet (THREATS F4), as the random ops rarely line it up: BR or US flags some devices,
 * DE dismisses the flags, the partner flags again at once (refused: evidence used, or the cooldown), a week
 * passes, it flags with new evidence, DE confirms or suspends, then reinstates (a new epoch: flags cleared).
 */
function fleetFight(): fc.Arbitrary<Op[]> {
  const all = (1 << 4) - 1;
  return fc
    .record({
      reporter: fc.constantFrom<Member>("br", "us"),
      mask: fc.integer({ min: 1, max: all }),
      evidence: fc.nat({ max: 3 }),
      again: fc.nat({ max: 3 }),
      confirm: fc.boolean(),
    })
    .map(({ reporter, mask, evidence, again, confirm }) => [
      { k: "flag", fleet: "de", mask, by: reporter, evidence },
      { k: "dismiss", fleet: "de", mask: all, reporter, by: "de" },
      { k: "flag", fleet: "de", mask, by: reporter, evidence: again },
      { k: "wait", to: "week" },
      { k: "flag", fleet: "de", mask, by: reporter, evidence: (again + 1) % 4 },
      confirm ? { k: "confirm", fleet: "de", mask, by: "de" } : { k: "suspendDevices", fleet: "de", mask, by: "de" },
      { k: "reinstate", fleet: "de", mask: all, by: "de" },
    ]) as fc.Arbitrary<Op[]>;
}

/**
 * A contested direction, as the random ops rarely line it up: the payee proposes (any net), the sign window
 * passes, the payee (funded) claims, the parties reveal in chunks, the other direction closes co-signed, and
 * settlement follows (netted, or alone after the solo delay), with a debt paid when one arose.
 */
function contested(): fc.Arbitrary<Op[]> {
  return fc
    .record({
      d: dir,
      variant,
      by: actor,
      fund: amount,
      chunks: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 5 }),
      cosigned: fc.boolean(),
      leaver: party,
    })
    .map(({ d, variant: v, by, fund, chunks, cosigned, leaver }) => {
      const [payer, payee] = [homeOf(d), visitedOf(d)];
      const reveals = chunks.map((chunk, i) => ({
        k: "reveal" as const,
        dir: d,
        by: i % 2 ? payer : payee,
        chunk,
        tamper: false,
        split: i % 2 === 0,
      }));
      return [
        { k: "propose", dir: d, variant: v, forged: false, by },
        { k: "wait", to: "sign" },
        { k: "deposit", who: payee, amount: fund },
        { k: "claim", dir: d, by: payee },
        ...reveals,
        ...(cosigned
          ? [
              { k: "propose", dir: 1 - d, variant: "honest", forged: false, by },
              { k: "cosign", dir: 1 - d, by },
            ]
          : [{ k: "closeBoth", dir: 1 - d, variant: "honest", by }]),
        { k: "settle", by },
        { k: "deposit", who: payer, amount: fund },
        { k: "payDebt", who: payer, by },
        { k: "wait", to: "solo" },
        { k: "settle", by: payee },
        { k: "requestWithdrawal", who: leaver, amount: fund },
        { k: "wait", to: "withdrawal" },
        { k: "withdraw", who: leaver },
      ] as Op[];
    });
}

export type OpOf<K extends Op["k"]> = Extract<Op, { k: K }>;

/** Everything a step needs: the world, the model, the usage pool, the time of the next transaction. */
export interface Ctx {
  w: World;
  m: Model;
  pool: Pool;
  /** Timestamp the next transaction is mined at. */
  t: number;
}

/** A step: the error the model expects (undefined: success), the transactions, the model's update. */
export interface Step {
  expected: string | undefined;
  /** A race: the steps to mine in one block, in this order (each predicted after the ones before it). */
  block?: Step[];
  /** One transaction, or several sent one after the other (a second apart). */
  send: () => Promise<ContractTransactionResponse> | (() => Promise<ContractTransactionResponse>)[];
  apply?: (receipts: TransactionReceipt[]) => void;
}

/** Prepared batches, signed once and reused by every sequence (the fixture's addresses never change). */
export class Pool {
  private readonly cache = new Map<string, Promise<PreparedBatch>>();

  constructor(
    private readonly w: World,
    private readonly hasher: LeafHasher,
  ) {}

  /** Pool batch `n` of `dir`: 1 to 6 records. */
  batch(d: number, n: number, inflated: boolean): Promise<PreparedBatch> {
    return this.get(`p${d}-${n}-${inflated}`, d, 1 + ((n * 5 + d * 3) % 6), inflated, 1000 + 10 * d + n);
  }

  /** Spam batch `k` of `dir`: one record each. */
  spam(d: number, k: number): Promise<PreparedBatch> {
    return this.get(`s${d}-${k}`, d, 1, false, 5000 + 100 * d + k);
  }

  private get(label: string, d: number, count: number, inflated: boolean, seed: number): Promise<PreparedBatch> {
    let p = this.cache.get(label);
    if (!p) {
      const { visited, home } = DIRS[d];
      const records = seededRecords(count, PLMN_OF[home], PLMN_OF[visited], seed, this.w.start);
      p = prepareBatch(this.w, { dir: d, label, records, inflated, hasher: this.hasher });
      this.cache.set(label, p);
    }
    return p;
  }
}

export const NOT_OPERATOR = "CarrierRegistryNotActiveOperator";

export function signerOf(w: World, a: Actor): HardhatEthersSigner {
  return a === "outsider" ? w.outsider : w.signer[a];
}

/**
 * Why a call of a carrier's operator is refused, if it is: only for an account of no member (a suspended
 * member keeps its defences: decisions, disputes, invoices, claims, reveals, deposits, withdrawals; THREATS F5).
 */
export function carrierError(_m: Model, a: Actor): string | undefined {
  return a === "outsider" ? NOT_OPERATOR : undefined;
}

/** Why a call that needs an operator of an active carrier is refused, if it is (flags, policies, governance). */
export function activeError(m: Model, a: Actor): string | undefined {
  return a === "outsider" || !m.active[a] ? NOT_OPERATOR : undefined;
}

// ------------------------------------------------------------------------------------------------ ledger

/** Why the ledger refuses a submission of `b` at `t`, if it does (in the contract's order). */
function submitError(c: Ctx, b: PreparedBatch, forged: boolean): string | undefined {
  const { m, w, t } = c;
  if (m.dirs[b.dir].closed) return "UsageLedgerPeriodClosed";
  if (t < w.start || t >= w.deadline) return "UsageLedgerSubmissionClosed";
  const { visited, home } = DIRS[b.dir];
  if (forged || !m.active[visited]) return "UsageLedgerSignerNotVisited";
  // The agreement is in force only while both carriers are active.
  if (!m.active[home]) return "UsageLedgerNoAgreement";
  return m.batches.has(b.id) ? "UsageLedgerBatchExists" : undefined;
}

function recordSubmitted(c: Ctx, b: PreparedBatch, at: number): void {
  c.m.batches.set(b.id, { prepared: b, status: BATCH.Submitted, windowEnd: at + WINDOW, disputed: [] });
  const d = c.m.dirs[b.dir];
  d.batchCount++;
  d.pending++;
}

async function submitStep(c: Ctx, o: OpOf<"submit">): Promise<Step> {
  const b = await c.pool.batch(o.dir, o.n, o.inflated);
  const signature = o.forged ? await signBatch(c.w.signer.us, c.w.ledgerDomain, b.header) : b.signature;
  return {
    expected: submitError(c, b, o.forged),
    send: () => c.w.ledger.connect(signerOf(c.w, o.by)).submitBatch(toContractBatch(b.header), signature),
    apply: () => recordSubmitted(c, b, c.t),
  };
}

async function spamStep(c: Ctx, o: OpOf<"spam">): Promise<Step | undefined> {
  const from = c.m.dirs[o.dir].spam;
  if (from + SPAM_PER_OP > SPAM_MAX) return undefined;
  const batches = await Promise.all(Array.from({ length: SPAM_PER_OP }, (_, i) => c.pool.spam(o.dir, from + i)));
  const visited = c.w.signer[DIRS[o.dir].visited];
  return {
    expected: submitError(c, batches[0], false),
    send: () => batches.map((b) => () => c.w.ledger.connect(visited).submitBatch(toContractBatch(b.header), b.signature)),
    apply: () => {
      for (const [i, b] of batches.entries()) recordSubmitted(c, b, c.t + i);
      c.m.dirs[o.dir].spam += SPAM_PER_OP;
    },
  };
}

/** A batch of the direction the op means: one of those submitted (by `pick`), else an unknown one. */
async function targetOf(c: Ctx, d: number, p: number): Promise<{ b: PreparedBatch; s: BatchModel | undefined }> {
  const known = c.m.batchesOf(d);
  if (known.length === 0) return { b: await c.pool.batch(d, 0, false), s: undefined };
  const s = known[p % known.length];
  return { b: s.prepared, s };
}

/** Why the home-side decision by `by` on batch `s` is refused, if it is. */
function decisionError(c: Ctx, s: BatchModel | undefined, by: Actor, withinWindow: boolean): string | undefined {
  const refused = carrierError(c.m, by);
  if (refused) return refused;
  if (!s) return "UsageLedgerUnknownBatch";
  if (by !== DIRS[s.prepared.dir].home) return "UsageLedgerNotHome";
  if (s.status !== BATCH.Submitted) return "UsageLedgerBatchNotOpen";
  return withinWindow && c.t >= s.windowEnd ? "UsageLedgerDisputeWindowOver" : undefined;
}

function count(c: Ctx, s: BatchModel, status: number): void {
  s.status = status;
  const d = c.m.dirs[s.prepared.dir];
  d.counted.push(s.prepared.id);
  d.pending--;
}

async function acceptStep(c: Ctx, o: OpOf<"accept">): Promise<Step> {
  const { b, s } = await targetOf(c, o.dir, o.pick);
  return {
    expected: decisionError(c, s, o.by, false),
    send: () => c.w.ledger.connect(signerOf(c.w, o.by)).acceptBatches([b.id]),
    apply: () => count(c, s!, BATCH.Accepted),
  };
}

async function rejectStep(c: Ctx, o: OpOf<"reject">): Promise<Step> {
  const { b, s } = await targetOf(c, o.dir, o.pick);
  return {
    expected: decisionError(c, s, o.by, true),
    send: () => c.w.ledger.connect(signerOf(c.w, o.by)).rejectBatches([b.id], 3),
    apply: () => {
      s!.status = BATCH.Rejected;
      const d = c.m.dirs[o.dir];
      d.rejected++;
      d.pending--;
    },
  };
}

async function disputeStep(c: Ctx, o: OpOf<"dispute">): Promise<Step> {
  const { b, s } = await targetOf(c, o.dir, o.pick);
  const index = o.r % b.recordCount;
  const refused = decisionError(c, s, o.by, true);
  const twice = s?.disputed.includes(index) ? "UsageLedgerRecordAlreadyDisputed" : undefined;
  const dispute = { leafIndex: index, leaf: b.leaves[index], proof: merkleProof(b.tree, index), reason: 7 };
  return {
    expected: refused ?? twice,
    send: () => c.w.ledger.connect(signerOf(c.w, o.by)).disputeRecords(b.id, [dispute]),
    apply: () => s!.disputed.push(index),
  };
}

/** Expires every pending batch of the direction whose window is over (anyone may), else tries one that is not. */
async function expireStep(c: Ctx, o: OpOf<"expire">): Promise<Step> {
  const pending = c.m.batchesOf(o.dir).filter((s) => s.status === BATCH.Submitted);
  const due = pending.filter((s) => c.t >= s.windowEnd);
  if (due.length > 0) {
    return {
      expected: undefined,
      send: () => c.w.ledger.connect(signerOf(c.w, o.by)).expireBatches(due.map((s) => s.prepared.id)),
      apply: () => {
        for (const s of due) count(c, s, BATCH.Expired);
      },
    };
  }
  const { b, s } = pending.length > 0 ? { b: pending[0].prepared, s: pending[0] } : await targetOf(c, o.dir, 0);
  const expected = !s
    ? "UsageLedgerUnknownBatch"
    : s.status === BATCH.Submitted
      ? "UsageLedgerDisputeWindowOpen"
      : "UsageLedgerBatchNotOpen";
  return { expected, send: () => c.w.ledger.connect(signerOf(c.w, o.by)).expireBatches([b.id]) };
}

/** Why the ledger cannot close a direction's period at `t`, if it cannot. */
export function closeError(c: Ctx, d: number): string | undefined {
  const p = c.m.dirs[d];
  if (p.closed) return undefined;
  if (c.t < c.w.deadline) return "UsageLedgerPeriodNotOver";
  return p.pending > 0 ? "UsageLedgerBatchesPending" : undefined;
}

function closeStep(c: Ctx, o: OpOf<"close">): Step {
  const { visited, home } = DIRS[o.dir];
  return {
    expected: closeError(c, o.dir),
    send: () => c.w.ledger.connect(signerOf(c.w, o.by)).closePeriod(PLMN_OF[home], PLMN_OF[visited], c.w.period),
    apply: () => {
      c.m.dirs[o.dir].closed = true;
    },
  };
}

// ------------------------------------------------------------------------------------------------ invoices

/** The invoice the payee of `dir` would propose now: net as rated (honest), above it or below it. */
export function invoiceOf(c: Ctx, d: number, v: Variant): { inv: EscrowInvoice; rating: bigint } {
  const { visited, home } = DIRS[d];
  const rating = c.m.rating(d, PLMN_OF[visited]);
  const net = v === "honest" ? rating : v === "inflated" ? rating + rating / 4n + 1_000n : rating / 2n;
  const inv: EscrowInvoice = {
    payer: PLMN_OF[home],
    payee: PLMN_OF[visited],
    period: c.w.period,
    agreementVersion: c.w.version,
    termsCommitment: c.w.termsCommitment,
    ledgerAccumulator: c.m.accumulator(d),
    totalsCommitment: periodTotalsCommitment(c.m.periodTotals(d), c.w.termsSalt),
    token: c.w.addresses.token,
    net,
  };
  return { inv, rating };
}

async function proposeStep(c: Ctx, o: OpOf<"propose">): Promise<Step> {
  const { inv, rating } = invoiceOf(c, o.dir, o.variant);
  const { visited } = DIRS[o.dir];
  const s = c.m.invoices[o.dir];
  const signature = await signInvoice(c.w.signer[o.forged ? "us" : visited], c.w.escrowDomain, inv);
  const wrongStatus = s.status !== INVOICE.None && s.status !== INVOICE.Proposed ? "SettlementEscrowWrongStatus" : undefined;
  const badSigner = o.forged ? "SettlementEscrowInvalidSigner" : undefined;
  return {
    expected: wrongStatus ?? closeError(c, o.dir) ?? badSigner,
    send: () => c.w.escrow.connect(signerOf(c.w, o.by)).proposeInvoice(inv, signature, "0x5ea1ed"),
    apply: () => {
      c.m.dirs[o.dir].closed = true;
      Object.assign(s, { status: INVOICE.Proposed, net: inv.net, proposedAt: c.t, rating, inv });
    },
  };
}

/** Closes the model's invoice of `d` at `amount` (reserved on the payer). */
export function closeInvoice(c: Ctx, d: number, amount: bigint, resolution: number): void {
  const s = c.m.invoices[d];
  Object.assign(s, { status: INVOICE.Closed, amount, resolution });
  c.m.reserved[DIRS[d].home] += amount;
}

async function cosignStep(c: Ctx, o: OpOf<"cosign">): Promise<Step> {
  const { home, visited } = DIRS[o.dir];
  const s = c.m.invoices[o.dir];
  const open = s.status === INVOICE.Proposed || s.status === INVOICE.Claimed || s.status === INVOICE.Revealing;
  const signature = await signInvoice(c.w.signer[home], c.w.escrowDomain, s.inv ?? invoiceOf(c, o.dir, "honest").inv);
  return {
    expected: !open ? "SettlementEscrowWrongStatus" : undefined,
    send: () => c.w.escrow.connect(signerOf(c.w, o.by)).cosignInvoice(PLMN_OF[home], PLMN_OF[visited], c.w.period, signature),
    apply: () => {
      if (s.status !== INVOICE.Proposed) {
        c.m.reserved[home] -= s.net;
        c.m.reserved[visited] -= s.bond;
      }
      s.rating = c.m.rating(o.dir, PLMN_OF[visited]);
      closeInvoice(c, o.dir, s.net, RESOLUTION.CoSigned);
    },
  };
}

async function closeBothStep(c: Ctx, o: OpOf<"closeBoth">): Promise<Step> {
  const { inv, rating } = invoiceOf(c, o.dir, o.variant);
  const { home, visited } = DIRS[o.dir];
  const s = c.m.invoices[o.dir];
  const payerSig = await signInvoice(c.w.signer[home], c.w.escrowDomain, inv);
  const payeeSig = await signInvoice(c.w.signer[visited], c.w.escrowDomain, inv);
  const wrongStatus = s.status !== INVOICE.None && s.status !== INVOICE.Proposed ? "SettlementEscrowWrongStatus" : undefined;
  return {
    expected: wrongStatus ?? closeError(c, o.dir),
    send: () => c.w.escrow.connect(signerOf(c.w, o.by)).closeInvoice(inv, payerSig, payeeSig),
    apply: () => {
      c.m.dirs[o.dir].closed = true;
      Object.assign(s, { net: inv.net, rating, inv });
      closeInvoice(c, o.dir, inv.net, RESOLUTION.CoSigned);
    },
  };
}

// ------------------------------------------------------------------------------------------------ the rest

function governanceStep(c: Ctx, o: OpOf<"governance">): Step | undefined {
  const others = (["de", "br", "us"] as Member[]).filter((x) => x !== o.target);
  if (others.some((x) => !c.m.active[x])) return undefined;
  const suspend = c.m.active[o.target];
  const [proposer, approver] = others;
  return {
    expected: undefined,
    send: () => changeStatus(c.w, { proposer, approver, target: o.target, suspend }),
    apply: () => {
      c.m.active[o.target] = !suspend;
    },
  };
}

/** Seconds to wait for a `wait` op: whole days plus an hour, or to just past (or just before) a deadline. */
export function waitSeconds(c: Ctx, to: OpOf<"wait">["to"]): number {
  const after = (target: number) => Math.max(target - c.t, 0) + 3600;
  switch (to) {
    case "day":
      return DAY + 3600;
    case "week":
      return 7 * DAY + 3600;
    case "edge":
      // Ten minutes before the submission deadline: room for one more batch, or a withdrawal request.
      return Math.max(c.w.deadline - 600 - c.t, 60);
    case "deadline":
      return after(c.w.deadline);
    case "sign":
      return PARAMS.signWindow + 3600;
    case "solo":
      return after(c.w.end + PARAMS.soloSettleDelay);
    case "withdrawal":
      return PARAMS.withdrawalDelay + 3600;
  }
}

/** The step of `o`, or undefined when it does nothing (a wait, or an op the state makes moot). */
export async function stepOf(c: Ctx, o: Op): Promise<Step | undefined> {
  switch (o.k) {
    case "submit":
      return submitStep(c, o);
    case "spam":
      return spamStep(c, o);
    case "accept":
      return acceptStep(c, o);
    case "reject":
      return rejectStep(c, o);
    case "dispute":
      return disputeStep(c, o);
    case "expire":
      return expireStep(c, o);
    case "close":
      return closeStep(c, o);
    case "propose":
      return proposeStep(c, o);
    case "cosign":
      return cosignStep(c, o);
    case "closeBoth":
      return closeBothStep(c, o);
    case "governance":
      return governanceStep(c, o);
    case "wait":
      return undefined;
    case "race":
      return raceStep(c, o);
    default:
      return escrowSteps(c, o) ?? deviceSteps(c, o);
  }
}

/**
 * A race: the first op's step, its model update applied when it is expected to succeed, then the second's,
 * predicted on that state. The runner mines both in one block and undoes nothing: a step that reverts
 * leaves the model as it was, so the first's update is taken back when it turns out refused (the runner
 * checks that it was not).
 */
async function raceStep(c: Ctx, o: OpOf<"race">): Promise<Step | undefined> {
  const first = await stepOf(c, o.first);
  if (!first || first.block) return undefined;
  if (first.expected === undefined) first.apply?.([]);
  const second = await stepOf(c, o.second);
  if (!second || second.block) return { ...first, apply: undefined };
  return { expected: undefined, send: first.send, block: [{ ...first, apply: undefined }, second] };
}
