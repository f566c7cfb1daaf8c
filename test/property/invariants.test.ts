import { expect } from "chai";
import hre from "hardhat";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ZeroAddress, hexlify, keccak256, toUtf8Bytes, type ContractTransactionResponse, type TransactionReceipt } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { deployConsortium, meterPolicy, deviceId, lastMonthOver, PLMN } from "../helpers/fixtures";
import { randomRecords, totalsOf, usageOf } from "../helpers/usage";
import { addTotals } from "../../lib/settlement/totals";
import { plan, sla, terms as termsOf } from "../helpers/rating";
import { zeroTotals } from "../../lib/usage/types";
import { LeafHasher } from "../../lib/usage/leaf";
import { merkleTree, merkleProof, type MerkleTree } from "../../lib/usage/merkle";
import { batchId, ledgerDomain, signBatch, toContractBatch, totalsFromContract } from "../../lib/usage/batch";
import { rateInvoice } from "../../lib/settlement/rating";
import type { ClassTotals, UsageBatch, UsageRecord } from "../../lib/usage/types";
import type { Hex } from "../../lib/util/hex";
import type { InvariantLens__Mock } from "../../typechain-types";
import { parseRevert } from "../../lib/chain/revert";

/**
 * Invariants of RoamLedger, checked after every step of random operation sequences (fast-check) on the
 * real contracts: deposits, withdrawals, payout accounts, batch submissions (signed by the visited
 * carrier, sent by it or relayed), acceptance, rejection, record disputes with proofs, invoice closing,
 * settlement, debt payment, device registration and policy updates, suspension and reinstatement of a
 * member, calls by a non-member and by a member without the carrier role, and time passing. A model
 * predicts the outcome of each step (success, or the custom error it reverts with) and the state after
 * it; one view call (InvariantLens__Mock) reads the state back after every step that changed it (a
 * refused step reverts, which changes nothing) and at the end of the sequence.
 *
 * In words:
 * 1. the escrow's token balance is what was deposited less what was paid out (withdrawals, payouts to
 *    payout accounts), and equals the sum of the members' deposits;
 * 2. a batch id is committed once: a second submission reverts, whoever sends it, and the period's batch
 *    count is the number of distinct batches;
 * 3. a settled period never changes: its invoices, its closed totals;
 * 4. only members transact: a non-member's call reverts, a member without the carrier role is refused
 *    what carriers do, a suspended member is refused everything, until reinstated;
 * 5. a device's policy history only grows: every earlier version keeps its policy and its time window;
 * 6. no invoice pays more than the agreement's rates allow: its amount is exactly the rating of the
 *    period's net totals (batches not rejected, less disputed records) at the agreement's rates, which is
 *    at most the rating of everything submitted.
 *
 * 500 sequences by default (ROAMLEDGER_PROPERTY_RUNS for more, ROAMLEDGER_PROPERTY_SEED to replay one;
 * 60 under solidity-coverage, whose instrumented contracts are slower).
 */

type M = "de" | "br" | "us";
const MEMBERS: M[] = ["de", "br", "us"];
const PLMN_OF: Record<M, Hex> = { de: PLMN.DE, br: PLMN.BR, us: PLMN.US };
const DAY = 24 * 3600;
/** Dispute window of the agreement. */
const WINDOW = 7 * DAY;
/** Batches per direction, records per batch, devices. */
const POOL = 3;
const RECORDS = 4;
const DEVICES = 3;
/** Directions: 0 = BR serves DE's devices (DE pays BR), 1 = DE serves BR's (BR pays DE). */
const DIRS = [
  { visited: "br" as M, home: "de" as M },
  { visited: "de" as M, home: "br" as M },
];
const isCoverage = (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true;
const RUNS = Number(process.env.ROAMLEDGER_PROPERTY_RUNS ?? (isCoverage ? 60 : 500));

/** The smaller of two amounts (Math.min takes numbers, not bigints). */
const smaller = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** The custom error's name (lib/chain/revert knows every error of the contracts), or the message of anything else. */
function errorName(err: unknown): string {
  return parseRevert(err)?.name ?? (err as Error).message ?? String(err);
}

/** Terms both ways, classes 1 and 2, a volume tier, an SLA; in force from before the period. */
function propertyTerms(token: string, validFrom: number) {
  const rates = (perMb: bigint) => ({
    perMb,
    perSignallingEvent: 3n,
    perSms: 20n,
    perVoiceMinute: 120n,
    monthlyFeePerDevice: 700n,
    tiers: [{ fromMb: 100n, discountBps: 1500 }],
  });
  return termsOf(
    [plan(PLMN.BR, 1, rates(1_000n)), plan(PLMN.BR, 2, rates(2_000n)), plan(PLMN.DE, 1, rates(800n)), plan(PLMN.DE, 2, rates(1_700n))],
    {
      settlementToken: token,
      validFrom: BigInt(validFrom),
      validUntil: BigInt(validFrom + 400 * DAY),
      disputeWindow: WINDOW,
      permanentRoamingDays: 30,
      permanentRoamingSurchargePerDay: 11n,
      sla: sla({ maxLatencyMs: 400, minThroughputKbps: 20_000, minAvailabilityBps: 9900, latencyCreditBps: 150, throughputCreditBps: 250 }),
    },
  );
}

/** The pool's records: the same on every run (seeded). */
function poolRecords(dir: number, n: number, start: number): UsageRecord[] {
  const { visited, home } = DIRS[dir];
  return randomRecords(RECORDS, PLMN_OF[home], PLMN_OF[visited], 1000 + 10 * dir + n, start);
}

interface PoolBatch {
  dir: number;
  n: number;
  records: UsageRecord[];
  tree: MerkleTree;
  batch: UsageBatch;
  id: Hex;
  signature: Hex;
}

async function world() {
  // The period: last month, over (and its grace too) when the sequences start.
  const { period, start, end } = await lastMonthOver();
  const c = await deployConsortium();
  const token = await c.token.getAddress();
  const escrow = await c.escrow.getAddress();
  const terms = propertyTerms(token, start - DAY);
  await c.agreements.connect(c.de).propose(PLMN.BR, terms);
  await c.agreements.connect(c.br).accept(PLMN.DE, 1);
  const signer: Record<M, HardhatEthersSigner> = { de: c.de, br: c.br, us: c.us };
  for (const m of MEMBERS) {
    await c.token.connect(c.deployer).mint(signer[m].address, 10n ** 15n);
    await c.token.connect(signer[m]).approve(escrow, hre.ethers.MaxUint256);
  }
  for (const [i, services] of [1, 3, 7].entries()) {
    await c.devices.connect(c.de).definePolicy(meterPolicy(PLMN.DE, { services, tariffClass: 1 + (i % 2) }));
  }
  const lens = (await hre.ethers.deployContract("InvariantLens__Mock")) as unknown as InvariantLens__Mock;

  const domain = ledgerDomain((await hre.ethers.provider.getNetwork()).chainId, await c.ledger.getAddress());
  const hasher = await LeafHasher.create();
  const pool: PoolBatch[][] = [];
  for (const [dir, { visited, home }] of DIRS.entries()) {
    pool.push([]);
    for (let n = 0; n < POOL; n++) {
      const records = poolRecords(dir, n, start);
      const tree = await merkleTree(hasher.leavesOfRecords(records));
      const batch: UsageBatch = {
        visited: PLMN_OF[visited],
        home: PLMN_OF[home],
        period,
        merkleRoot: hexlify(tree[tree.length - 1]) as Hex,
        recordCount: RECORDS,
        payloadHash: keccak256(toUtf8Bytes(`payload ${dir} ${n}`)) as Hex,
        totals: totalsOf(records),
      };
      pool[dir].push({ dir, n, records, tree, batch, id: batchId(batch), signature: await signBatch(signer[visited], domain, batch) });
    }
  }
  const payoutAccount: Record<M, string> = { de: c.spare[0].address, br: c.spare[1].address, us: c.spare[2].address };
  return { ...c, signer, terms, period, start, end, pool, lens, tokenAddress: token, escrowAddress: escrow, payoutAccount };
}
type World = Awaited<ReturnType<typeof world>>;

// ------------------------------------------------------------------------------------------------ model

interface BatchModel {
  status: number; // 1 submitted, 2 accepted, 3 rejected
  submittedAt: number;
  disputed: Set<number>;
}

interface DeviceModel {
  history: { policyId: bigint; since: bigint }[];
}

class Model {
  active: Record<M, boolean> = { de: true, br: true, us: true };
  deposits: Record<M, bigint> = { de: 0n, br: 0n, us: 0n };
  reserved: Record<M, bigint> = { de: 0n, br: 0n, us: 0n };
  payout: Record<M, boolean> = { de: false, br: false, us: false };
  debts = new Map<string, bigint>();
  deposited = 0n;
  paidOut = 0n;
  batches = new Map<string, BatchModel>();
  count = [0, 0];
  invoices = [
    { status: 0, amount: 0n },
    { status: 0, amount: 0n },
  ];
  closedTotals: (ClassTotals[] | undefined)[] = [undefined, undefined];
  settledInvoices: unknown[] | undefined;
  devices = new Map<number, DeviceModel>();
  now = 0;

  debt(debtor: M, creditor: M): bigint {
    return this.debts.get(`${debtor}>${creditor}`) ?? 0n;
  }

  addDebt(debtor: M, creditor: M, amount: bigint): void {
    this.debts.set(`${debtor}>${creditor}`, this.debt(debtor, creditor) + amount);
  }

  free(m: M): bigint {
    return this.deposits[m] > this.reserved[m] ? this.deposits[m] - this.reserved[m] : 0n;
  }

  windowOpen(b: BatchModel): boolean {
    return this.now < b.submittedAt + WINDOW;
  }

  /** What a step on batch `id` is refused with: first unless the ledger holds the batch open, then what `next` says of it. */
  refusalOnBatch(id: string, next: (open: BatchModel) => string | undefined): string | undefined {
    const batch = this.batches.get(id);
    if (!batch) return "UsageLedgerUnknownBatch";
    return batch.status === 1 ? next(batch) : "UsageLedgerBatchNotOpen";
  }

  /** Pays `owed` from debtor's deposit as far as it goes; the rest is a debt. */
  pay(debtor: M, creditor: M, owed: bigint): void {
    const paid = smaller(this.deposits[debtor], owed);
    this.deposits[debtor] -= paid;
    const shortfall = owed - paid;
    if (shortfall > 0n) {
      this.addDebt(debtor, creditor, shortfall);
      this.reserved[debtor] += shortfall;
    }
    this.credit(creditor, paid);
  }

  credit(creditor: M, amount: bigint): void {
    if (this.payout[creditor]) this.paidOut += amount;
    else this.deposits[creditor] += amount;
  }
}

/** Net totals of a direction as the ledger closes them: batches not rejected, less disputed records, by class. */
function netTotals(w: World, model: Model, dir: number, withDisputes = true): ClassTotals[] {
  const byClass = new Map<number, ClassTotals>();
  for (const p of w.pool[dir]) {
    const b = model.batches.get(p.id);
    if (!b || b.status === 3) continue;
    for (const t of p.batch.totals) {
      const net = { ...t };
      if (withDisputes) {
        let d = zeroTotals(t.tariffClass);
        for (const r of b.disputed) if (p.records[r].tariffClass === t.tariffClass) d = addTotals(d, usageOf(p.records[r]));
        const less = (a: bigint, x: bigint) => (a > x ? a - x : 0n);
        net.records = Math.max(net.records - d.records, 0);
        net.dataBytes = less(net.dataBytes, d.dataBytes);
        net.signallingEvents = less(net.signallingEvents, d.signallingEvents);
        net.smsCount = less(net.smsCount, d.smsCount);
        net.voiceSeconds = less(net.voiceSeconds, d.voiceSeconds);
      }
      byClass.set(t.tariffClass, byClass.has(t.tariffClass) ? addTotals(byClass.get(t.tariffClass)!, net) : net);
    }
  }
  return [...byClass.values()].sort((a, b) => a.tariffClass - b.tariffClass);
}

// ------------------------------------------------------------------------------------------------ operations

const member = fc.constantFrom<M>("de", "br", "us");
const dir = fc.constantFrom(0, 1);
const n = fc.integer({ min: 0, max: POOL - 1 });
const device = fc.integer({ min: 0, max: DEVICES - 1 });
const amount = fc.bigInt({ min: 1n, max: 4_000_000n });
const op = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant("deposit" as const), who: member, amount }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("withdraw" as const), who: member, amount }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("payout" as const), who: member, on: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant("submit" as const), dir, n, relay: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("accept" as const), dir, n }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("reject" as const), dir, n }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("dispute" as const), dir, n, r: fc.integer({ min: 0, max: RECORDS - 1 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("close" as const), dir, by: member }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("settle" as const), by: member }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("payDebt" as const), who: fc.constantFrom<M>("de", "br") }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("register" as const), i: device }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("update" as const), i: device, policy: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("governance" as const), suspend: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant("intruder" as const),
      who: fc.constantFrom("outsider", "maker"),
      action: fc.integer({ min: 0, max: 11 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("wait" as const), days: fc.integer({ min: 1, max: 4 }) }) },
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

type Outcome = { ok: true; receipt: TransactionReceipt } | { ok: false; error: string };

async function attempt(send: () => Promise<ContractTransactionResponse>): Promise<Outcome> {
  try {
    const receipt = (await (await send()).wait())!;
    return { ok: true, receipt };
  } catch (err) {
    return { ok: false, error: errorName(err) };
  }
}

/** A step: what the model expects (undefined: success, else the error's name), the call, the model's update. */
interface Step {
  expected: string | undefined;
  send: () => Promise<ContractTransactionResponse>;
  apply?: (receipt: TransactionReceipt) => Promise<void> | void;
}

const NOT_OPERATOR = "CarrierRegistryNotActiveOperator";

function stepOf(w: World, model: Model, o: Op): Step | "wait" {
  const { escrow, ledger, devices, carriers } = w;
  const token = w.tokenAddress;
  const inactive = (m: M) => (model.active[m] ? undefined : NOT_OPERATOR);
  const sorted = (d: number) => w.pool[d].filter((p) => model.batches.has(p.id)).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  switch (o.k) {
    case "deposit":
      return {
        expected: inactive(o.who),
        send: () => escrow.connect(w.signer[o.who]).deposit(token, o.amount),
        apply: () => {
          model.deposits[o.who] += o.amount;
          model.deposited += o.amount;
        },
      };
    case "withdraw":
      return {
        expected: inactive(o.who) ?? (o.amount > model.free(o.who) ? "SettlementEscrowInsufficientDeposit" : undefined),
        send: () => escrow.connect(w.signer[o.who]).withdraw(token, o.amount, w.signer[o.who].address),
        apply: () => {
          model.deposits[o.who] -= o.amount;
          model.paidOut += o.amount;
        },
      };
    case "payout":
      return {
        expected: inactive(o.who),
        send: () => escrow.connect(w.signer[o.who]).setPayoutAccount(o.on ? w.payoutAccount[o.who] : ZeroAddress),
        apply: () => {
          model.payout[o.who] = o.on;
        },
      };
    case "submit": {
      const p = w.pool[o.dir][o.n];
      const sender = o.relay ? "us" : DIRS[o.dir].visited;
      return {
        expected:
          (o.relay ? inactive("us") : undefined) ??
          (model.batches.has(p.id) ? "UsageLedgerBatchExists" : model.closedTotals[o.dir] ? "UsageLedgerPeriodClosed" : undefined),
        send: () => ledger.connect(w.signer[sender]).submitBatch(toContractBatch(p.batch), p.signature),
        apply: async (receipt) => {
          model.batches.set(p.id, { status: 1, submittedAt: await blockTime(receipt), disputed: new Set() });
          model.count[o.dir]++;
        },
      };
    }
    case "accept":
    case "reject": {
      const p = w.pool[o.dir][o.n];
      const b = model.batches.get(p.id);
      const expected = model.refusalOnBatch(p.id, (open) => {
        if (o.k === "accept") return model.closedTotals[o.dir] ? "UsageLedgerPeriodClosed" : undefined;
        return model.windowOpen(open) ? undefined : "UsageLedgerDisputeWindowOver";
      });
      const home = w.signer[DIRS[o.dir].home];
      return {
        expected,
        send: () => (o.k === "accept" ? ledger.connect(home).acceptBatches([p.id]) : ledger.connect(home).rejectBatch(p.id, 2)),
        apply: () => {
          b!.status = o.k === "accept" ? 2 : 3;
        },
      };
    }
    case "dispute": {
      const p = w.pool[o.dir][o.n];
      const b = model.batches.get(p.id);
      const expected = model.refusalOnBatch(p.id, (open) => {
        if (!model.windowOpen(open)) return "UsageLedgerDisputeWindowOver";
        if (p.records[o.r].billing !== 0) return "UsageLedgerRecordNotBillable";
        return open.disputed.has(o.r) ? "UsageLedgerRecordAlreadyDisputed" : undefined;
      });
      const dispute = { record: p.records[o.r], proof: merkleProof(p.tree, o.r), reason: 1 };
      return {
        expected,
        send: () => ledger.connect(w.signer[DIRS[o.dir].home]).disputeRecords(toContractBatch(p.batch), [dispute]),
        apply: () => {
          b!.disputed.add(o.r);
        },
      };
    }
    case "close": {
      const { home, visited } = DIRS[o.dir];
      const batches = sorted(o.dir);
      const stillOpen = batches.some((p) => {
        const b = model.batches.get(p.id)!;
        return b.status === 1 && model.windowOpen(b);
      });
      const expected =
        inactive(o.by) ??
        (model.invoices[o.dir].status !== 0 ? "SettlementEscrowInvoiceExists" : stillOpen ? "UsageLedgerBatchStillOpen" : undefined);
      return {
        expected,
        send: () =>
          escrow.connect(w.signer[o.by]).closeInvoice(
            PLMN_OF[home],
            PLMN_OF[visited],
            w.period,
            batches.map((p) => toContractBatch(p.batch)),
          ),
        apply: () => {
          const totals = netTotals(w, model, o.dir);
          const rating = rateInvoice(totals, w.terms, PLMN_OF[visited]);
          // No invoice pays more than the rates allow for what was submitted.
          const gross = rateInvoice(netTotals(w, model, o.dir, false), w.terms, PLMN_OF[visited]);
          expect(rating.net <= gross.subtotal, "net within the rates of all that was submitted").to.equal(true);
          model.invoices[o.dir] = { status: 1, amount: rating.net };
          model.reserved[home] += rating.net;
          model.closedTotals[o.dir] = totals;
        },
      };
    }
    case "settle": {
      const [ab, ba] = model.invoices; // ab: DE pays BR (dir 0); ba: BR pays DE (dir 1)
      const expected =
        inactive(o.by) ??
        (ab.status === 2 || ba.status === 2
          ? "SettlementEscrowAlreadySettled"
          : ab.status !== 1 || ba.status !== 1
            ? "SettlementEscrowInvoiceNotClosed"
            : undefined);
      return {
        expected,
        send: () => escrow.connect(w.signer[o.by]).settle(PLMN.DE, PLMN.BR, w.period),
        apply: () => {
          ab.status = 2;
          ba.status = 2;
          model.reserved.de -= ab.amount;
          model.reserved.br -= ba.amount;
          if (ab.amount > ba.amount) model.pay("de", "br", ab.amount - ba.amount);
          else if (ba.amount > ab.amount) model.pay("br", "de", ba.amount - ab.amount);
        },
      };
    }
    case "payDebt": {
      const creditor: M = o.who === "de" ? "br" : "de";
      const owed = model.debt(o.who, creditor);
      return {
        expected: owed === 0n ? "SettlementEscrowNoDebt" : model.deposits[o.who] === 0n ? "SettlementEscrowInsufficientDeposit" : undefined,
        send: () => escrow.connect(w.signer[o.who]).payDebt(PLMN_OF[o.who], PLMN_OF[creditor], token),
        apply: () => {
          const paid = smaller(model.deposits[o.who], owed);
          model.addDebt(o.who, creditor, -paid);
          model.reserved[o.who] -= paid;
          model.deposits[o.who] -= paid;
          model.credit(creditor, paid);
        },
      };
    }
    case "register":
      return {
        expected: model.devices.has(o.i) ? "DeviceRegistryAlreadyRegistered" : undefined,
        send: () => devices.connect(w.de).registerDevices([{ id: deviceId(o.i), deviceClass: 0, maker: PLMN.MAKER, policyId: 1 }]),
        apply: async (receipt) => {
          model.devices.set(o.i, { history: [{ policyId: 1n, since: BigInt(await blockTime(receipt)) }] });
        },
      };
    case "update": {
      const d = model.devices.get(o.i);
      return {
        expected: !d
          ? "DeviceRegistryUnknownDevice"
          : d.history.at(-1)!.policyId === BigInt(o.policy)
            ? "DeviceRegistrySamePolicy"
            : undefined,
        send: () => devices.connect(w.de).updatePolicies([deviceId(o.i)], o.policy),
        apply: async (receipt) => {
          d!.history.push({ policyId: BigInt(o.policy), since: BigInt(await blockTime(receipt)) });
        },
      };
    }
    case "governance": {
      // DE proposes to suspend (or reinstate) US, BR approves: 2 of the active governors.
      const wrong = o.suspend !== model.active.us ? "CarrierRegistryWrongStatus" : undefined;
      return {
        expected: wrong,
        send: async () => {
          await (await carriers.connect(w.de).proposeStatusChange(o.suspend ? 1 : 2, PLMN.US)).wait();
          return carriers.connect(w.br).approve(await carriers.proposalCount());
        },
        apply: () => {
          model.active.us = !o.suspend;
        },
      };
    }
    case "intruder": {
      const s = o.who === "outsider" ? w.outsider : w.maker;
      const p = w.pool[0][0];
      const calls: (() => Promise<ContractTransactionResponse>)[] = [
        () => escrow.connect(s).deposit(token, 1n),
        () => escrow.connect(s).withdraw(token, 1n, s.address),
        () => escrow.connect(s).setPayoutAccount(s.address),
        () =>
          escrow.connect(s).closeInvoice(
            PLMN.DE,
            PLMN.BR,
            w.period,
            sorted(0).map((x) => toContractBatch(x.batch)),
          ),
        () => escrow.connect(s).settle(PLMN.DE, PLMN.BR, w.period),
        () => escrow.connect(s).payDebt(PLMN.DE, PLMN.BR, token),
        () => ledger.connect(s).acceptBatches([p.id]),
        () => ledger.connect(s).rejectBatch(p.id, 1),
        () => ledger.connect(s).reportPermanentRoamers(PLMN.DE, []),
        () => devices.connect(s).registerDevices([{ id: deviceId(99), deviceClass: 0, maker: PLMN.MAKER, policyId: 1 }]),
        () => devices.connect(s).updatePolicies([deviceId(0)], 2),
        // Relaying a batch BR signed: any active member may relay; a non-member may not.
        () => ledger.connect(s).submitBatch(toContractBatch(p.batch), p.signature),
      ];
      const relay = o.action === 11;
      const refused = o.who === "outsider" ? NOT_OPERATOR : "CarrierRegistryMissingRole";
      const expected =
        relay && o.who === "maker"
          ? model.batches.has(p.id)
            ? "UsageLedgerBatchExists"
            : model.closedTotals[0]
              ? "UsageLedgerPeriodClosed"
              : undefined
          : refused;
      return {
        expected,
        send: calls[o.action],
        apply: async (receipt) => {
          // Only the device maker's relay gets through: it is a member.
          model.batches.set(p.id, { status: 1, submittedAt: await blockTime(receipt), disputed: new Set() });
          model.count[0]++;
        },
      };
    }
    case "wait":
      return "wait";
  }
}

async function blockTime(receipt: TransactionReceipt): Promise<number> {
  return (await receipt.getBlock()).timestamp;
}

// ------------------------------------------------------------------------------------------------ checks

/** Compares the chain with the model (one view call, plus the history of a device just touched). */
async function check(w: World, model: Model, touched: number | undefined, label: string): Promise<void> {
  const ids = w.pool.flat().map((p) => p.id);
  const s = await w.lens.state({
    escrow: w.escrowAddress,
    ledger: await w.ledger.getAddress(),
    devices: await w.devices.getAddress(),
    token: w.tokenAddress,
    members: MEMBERS.map((m) => PLMN_OF[m]),
    batchIds: ids,
    pairs: DIRS.map((d) => [PLMN_OF[d.home], PLMN_OF[d.visited]]),
    period: w.period,
    deviceIds: Array.from({ length: DEVICES }, (_, i) => deviceId(i)),
  });
  model.now = Number(s.time);
  const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);

  // 1. Escrow balance = deposited - paid out = the sum of the deposits.
  expect(s.balance, `${label}: escrow balance = deposited - paid out`).to.equal(model.deposited - model.paidOut);
  expect(s.balance, `${label}: escrow balance = sum of deposits`).to.equal(sum([...s.deposits]));
  MEMBERS.forEach((m, i) => {
    expect(s.deposits[i], `${label}: deposit of ${m}`).to.equal(model.deposits[m]);
    expect(s.reserved[i], `${label}: reserved of ${m}`).to.equal(model.reserved[m]);
    expect(s.payouts[i], `${label}: payout account of ${m}`).to.equal(model.payout[m] ? w.payoutAccount[m] : ZeroAddress);
    for (const [j, other] of MEMBERS.entries()) {
      expect(s.debts[i * MEMBERS.length + j], `${label}: debt ${m}>${other}`).to.equal(model.debt(m, other));
    }
  });

  // 2. Batches: each committed once, with its status; the period counts the distinct ones.
  w.pool.flat().forEach((p, i) => {
    const b = model.batches.get(p.id);
    expect(Number(s.batchStatus[i]), `${label}: status of batch ${p.dir}/${p.n}`).to.equal(b?.status ?? 0);
    expect(Number(s.disputedRecords[i]), `${label}: disputed records of ${p.dir}/${p.n}`).to.equal(b?.disputed.size ?? 0);
  });
  DIRS.forEach((_, d) => {
    expect(Number(s.periods[d].batchCount), `${label}: batch count of direction ${d}`).to.equal(model.count[d]);
    // 3 and 6. Closed totals and invoices: as the model rated them; once settled, never changed.
    expect(s.periods[d].closed, `${label}: closed ${d}`).to.equal(model.closedTotals[d] !== undefined);
    expect(totalsFromContract(s.periodTotals[d]), `${label}: closed totals ${d}`).to.deep.equal(model.closedTotals[d] ?? []);
    expect(Number(s.invoices[d].status), `${label}: invoice status ${d}`).to.equal(model.invoices[d].status);
    expect(s.invoices[d].amount, `${label}: invoice amount ${d} = the rating at the agreement's rates`).to.equal(model.invoices[d].amount);
  });
  const invoices = s.invoices.map((inv) =>
    [inv.token, inv.status, inv.agreementVersion, inv.closedAt, inv.amount, inv.subtotal, inv.credit].map(String),
  );
  if (model.invoices[0].status === 2) {
    model.settledInvoices ??= invoices;
    expect(invoices, `${label}: settled invoices unchanged`).to.deep.equal(model.settledInvoices);
  }

  // 5. Policy versions: as many as the model's history; the touched device's history, version by version.
  for (let i = 0; i < DEVICES; i++) {
    expect(Number(s.policyVersions[i]), `${label}: versions of device ${i}`).to.equal(model.devices.get(i)?.history.length ?? 0);
  }
  const d = touched === undefined ? undefined : model.devices.get(touched);
  if (d) {
    for (let v = 1; v <= d.history.length; v++) {
      const [, policyId, since, until] = await w.devices.policyVersion(deviceId(touched!), v);
      const expected = [d.history[v - 1].policyId, d.history[v - 1].since, v < d.history.length ? d.history[v].since : 0n];
      expect([policyId, since, until], `${label}: device ${touched} version ${v}`).to.deep.equal(expected);
    }
  }
}

// ------------------------------------------------------------------------------------------------ the property

describe("property: invariants over random operation sequences", function () {
  it(`hold after every step of ${RUNS} random sequences`, async function () {
    this.timeout(0);
    const succeeded = new Map<string, number>();
    const refused = new Map<string, number>();
    const started = Date.now();
    let steps = 0;
    // A billable record of batch 0 of direction 0, for the example sequence.
    const billable = poolRecords(0, 0, 0).findIndex((r) => r.billing === 0);

    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 3, maxLength: 14 }), async (ops) => {
        const w = await loadFixture(world);
        const model = new Model();
        model.now = await time.latest();
        let label = "start";
        for (const [i, o] of ops.entries()) {
          label = `step ${i} ${JSON.stringify(o, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`;
          const step = stepOf(w, model, o);
          steps++;
          if (step === "wait") {
            const seconds = o.k === "wait" ? o.days * DAY + 3600 : 0;
            await time.increase(seconds);
            model.now += seconds;
            continue;
          }
          const outcome = await attempt(step.send);
          if (step.expected !== undefined) {
            // Refused: the model predicted it, with its reason; a reverted call changes nothing.
            expect(outcome.ok ? "ok" : outcome.error, label).to.equal(step.expected);
            refused.set(o.k, (refused.get(o.k) ?? 0) + 1);
            continue;
          }
          expect(outcome.ok ? "ok" : outcome.error, label).to.equal("ok");
          await step.apply?.((outcome as { receipt: TransactionReceipt }).receipt);
          succeeded.set(o.k, (succeeded.get(o.k) ?? 0) + 1);
          await check(w, model, o.k === "register" || o.k === "update" ? o.i : undefined, label);
        }
        await check(w, model, undefined, `end, after ${label}`);
      }),
      {
        numRuns: RUNS,
        seed: process.env.ROAMLEDGER_PROPERTY_SEED ? Number(process.env.ROAMLEDGER_PROPERTY_SEED) : undefined,
        // A full cycle first: batches both ways, a dispute, windows over, invoices, a shortfall, a debt paid.
        examples: [
          // A full cycle: a relay by the device maker, batches both ways, a dispute, windows over, invoices,
          // a payout account, settlement with a shortfall, a debt paid, a withdrawal.
          [
            [
              { k: "intruder", who: "maker", action: 11 },
              { k: "submit", dir: 1, n: 1, relay: true },
              { k: "dispute", dir: 0, n: 0, r: billable },
              { k: "payout", who: "br", on: true },
              { k: "wait", days: 4 },
              { k: "wait", days: 4 },
              { k: "close", dir: 0, by: "br" },
              { k: "close", dir: 1, by: "us" },
              { k: "deposit", who: "de", amount: 1_000n },
              { k: "settle", by: "de" },
              { k: "deposit", who: "de", amount: 4_000_000n },
              { k: "payDebt", who: "de" },
              { k: "withdraw", who: "de", amount: 1n },
            ] as Op[],
          ],
          // Rejection and acceptance, a device's policy history, a member suspended and reinstated.
          [
            [
              { k: "submit", dir: 1, n: 2, relay: false },
              { k: "reject", dir: 1, n: 2 },
              { k: "submit", dir: 0, n: 2, relay: false },
              { k: "accept", dir: 0, n: 2 },
              { k: "register", i: 0 },
              { k: "update", i: 0, policy: 2 },
              { k: "update", i: 0, policy: 3 },
              { k: "governance", suspend: true },
              { k: "deposit", who: "us", amount: 5n },
              { k: "governance", suspend: false },
              { k: "deposit", who: "us", amount: 5n },
            ] as Op[],
          ],
        ],
      },
    );
    const seconds = (Date.now() - started) / 1000;
    const show = (m: Map<string, number>) =>
      [...m]
        .sort()
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
    console.log(
      `      ${RUNS} sequences, ${steps} steps in ${seconds.toFixed(0)} s; succeeded: ${show(succeeded)}; refused: ${show(refused)}`,
    );
    // Every kind of operation went through at least once (the generator reaches the whole lifecycle).
    for (const k of [
      "deposit",
      "withdraw",
      "payout",
      "submit",
      "accept",
      "reject",
      "dispute",
      "close",
      "settle",
      "payDebt",
      "register",
      "update",
      "governance",
      "intruder",
    ]) {
      expect(succeeded.get(k) ?? 0, `successful ${k}`).to.be.greaterThan(0);
    }
  });
});
