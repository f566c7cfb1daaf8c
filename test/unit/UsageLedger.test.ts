import { expect } from "chai";
import hre from "hardhat";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { hexlify, keccak256, recoverAddress, Signature, toUtf8Bytes, type TypedDataDomain } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  deployConsortium,
  agreeDeBr,
  expectCarrierOperatorsOnly,
  meterPolicy,
  deviceId,
  PLMN,
  SUBMISSION_GRACE,
  type Consortium,
} from "../helpers/fixtures";
import { randomRecords, totalsOf, usageOf, makeBatch, bigTotals, SERVICE } from "../helpers/usage";
import { addTotals } from "../../lib/settlement/totals";
import { monthOf, monthsBefore } from "../helpers/period";
import { periodBounds } from "../../lib/core/period";
import { LeafHasher } from "../../lib/usage/leaf";
import { merkleTree, merkleProof, type MerkleTree } from "../../lib/usage/merkle";
import { batchId, batchDigest, ledgerDomain, signBatch, toContractBatch, fromEventArgs, totalsFromContract } from "../../lib/usage/batch";
import { zeroTotals, type ClassTotals, type UsageBatch, type UsageRecord } from "../../lib/usage/types";
import type { Hex } from "../../lib/util/hex";
import type { UsageLedger } from "../../typechain-types";

const DAY = 24 * 3600;
/** Dispute window of `simpleTerms` (agreeDeBr). */
const WINDOW = 7 * DAY;
const Status = { None: 0n, Submitted: 1n, Accepted: 2n, Rejected: 3n } as const;
/** ICarrierRegistry.ProposalKind.Suspend */
const SUSPEND = 1;

type Fixture = Consortium & { period: number; start: number; end: number; domain: TypedDataDomain };

/**
 * The consortium with the DE-BR agreement, one day into a calendar month (the period of the tests): BR
 * is the visited carrier that bills, DE the home carrier that pays.
 */
async function deployLedger(): Promise<Fixture> {
  const { period, start, end } = monthOf(monthOf(await time.latest()).end);
  await time.increaseTo(start + DAY);
  const c = await deployConsortium();
  await agreeDeBr(c);
  const domain = ledgerDomain((await hre.ethers.provider.getNetwork()).chainId, await c.ledger.getAddress());
  return { ...c, period, start, end, domain };
}

/** Signs `batch` as `signer` for the fixture's ledger and sends it from `sender`. */
async function submit(f: Fixture, batch: UsageBatch, signer: HardhatEthersSigner = f.br, sender = signer) {
  const signature = await signBatch(signer, f.domain, batch);
  return f.ledger.connect(sender).submitBatch(toContractBatch(batch), signature);
}

/** A batch of BR for DE in the fixture's period; `n` tells batches apart. */
function batchOf(f: Fixture, n = 1, overrides: Partial<UsageBatch> = {}): UsageBatch {
  return makeBatch(PLMN.BR, PLMN.DE, f.period, { payloadHash: `0x${n.toString(16).padStart(64, "0")}` as Hex, ...overrides });
}

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<bigint> {
  return (await (await tx).wait())!.gasUsed;
}

interface RecordBatch extends Fixture {
  records: UsageRecord[];
  tree: MerkleTree;
  batch: UsageBatch;
  id: Hex;
  submittedAt: number;
}

/** BR submitted a batch of 1,000 random records (classes 1 and 2, a fifth of them not billable). */
async function withRecordBatch(): Promise<RecordBatch> {
  const f = await deployLedger();
  const records = randomRecords(1000, PLMN.DE, PLMN.BR, 42, f.start);
  const hasher = await LeafHasher.create();
  const tree = await merkleTree(hasher.leavesOfRecords(records));
  const batch = batchOf(f, 1000, {
    merkleRoot: hexlify(tree[tree.length - 1]) as Hex,
    recordCount: records.length,
    totals: totalsOf(records),
  });
  await submit(f, batch);
  return { ...f, records, tree, batch, id: batchId(batch), submittedAt: await time.latest() };
}

const disputeOf = (rb: RecordBatch, i: number, reason = 1) => ({ record: rb.records[i], proof: merkleProof(rb.tree, i), reason });
const billable = (rb: RecordBatch) => rb.records.map((r, i) => [r, i] as const).filter(([r]) => r.billing === 0);

/** `totals` less `disputed` in the fields disputes reduce, never below zero. */
function net(totals: ClassTotals, disputed: ClassTotals | undefined): ClassTotals {
  if (!disputed) return totals;
  const less = (a: bigint, b: bigint) => (a > b ? a - b : 0n);
  return {
    ...totals,
    records: Math.max(totals.records - disputed.records, 0),
    dataBytes: less(totals.dataBytes, disputed.dataBytes),
    signallingEvents: less(totals.signallingEvents, disputed.signallingEvents),
    smsCount: less(totals.smsCount, disputed.smsCount),
    voiceSeconds: less(totals.voiceSeconds, disputed.voiceSeconds),
  };
}

/** Merges lists of class totals by class, ascending. */
function merge(...lists: ClassTotals[][]): ClassTotals[] {
  const byClass = new Map<number, ClassTotals>();
  for (const list of lists)
    for (const t of list) byClass.set(t.tariffClass, addTotals(byClass.get(t.tariffClass) ?? zeroTotals(t.tariffClass), t));
  return [...byClass.values()].sort((a, b) => a.tariffClass - b.tariffClass);
}

const ascendingById = (batches: UsageBatch[]) => [...batches].sort((a, b) => (BigInt(batchId(a)) < BigInt(batchId(b)) ? -1 : 1));

/** `caller` closes DE-BR `period` with `batches`, sorted by id as the contract wants them. */
const close = (f: Fixture, caller: HardhatEthersSigner, batches: UsageBatch[], period = f.period) =>
  f.ledger.connect(caller).closePeriod(PLMN.DE, PLMN.BR, period, ascendingById(batches).map(toContractBatch));

/** Totals with every field at the top of its type (the most calldata a class can take). */
function maxTotals(tariffClass: number, records: number): ClassTotals {
  const u32 = 2 ** 32 - 1;
  const u64 = 2n ** 64n - 1n;
  return {
    tariffClass,
    records,
    activeDevices: u32,
    roamerDays: u32,
    dataBytes: u64,
    signallingEvents: u64,
    smsCount: u64,
    voiceSeconds: u64,
    qosSamples: u32,
    latencyMsSum: u64,
    throughputKbpsSum: u64,
  };
}

describe("UsageLedger", function () {
  describe("constructor", function () {
    it("binds its dependencies, the grace and the EIP-712 domain", async function () {
      const { ledger, carriers, agreements, devices } = await loadFixture(deployLedger);
      expect(await ledger.carrierRegistry()).to.equal(await carriers.getAddress());
      expect(await ledger.roamingAgreements()).to.equal(await agreements.getAddress());
      expect(await ledger.deviceRegistry()).to.equal(await devices.getAddress());
      expect(await ledger.submissionGrace()).to.equal(SUBMISSION_GRACE);
      const domain = await ledger.eip712Domain();
      expect(domain.name).to.equal("RoamLedger UsageLedger");
      expect(domain.version).to.equal("1");
      expect(domain.chainId).to.equal(31337n);
      expect(domain.verifyingContract).to.equal(await ledger.getAddress());
    });

    it("reverts when a dependency is not a contract or the grace exceeds 90 days", async function () {
      const { carriers, agreements, devices, outsider } = await loadFixture(deployLedger);
      const factory = await hre.ethers.getContractFactory("UsageLedger");
      const [r, a, d] = await Promise.all([carriers.getAddress(), agreements.getAddress(), devices.getAddress()]);
      await expect(factory.deploy(r, outsider.address, d, 0))
        .to.be.revertedWithCustomError(factory, "UsageLedgerInvalidDependency")
        .withArgs(outsider.address);
      await expect(factory.deploy(r, a, d, 90 * DAY + 1))
        .to.be.revertedWithCustomError(factory, "UsageLedgerInvalidGrace")
        .withArgs(90 * DAY + 1);
    });
  });

  describe("periodBounds", function () {
    it("gives the first second of the month and of the next (UTC), leap years and year ends included", async function () {
      const { ledger } = await loadFixture(deployLedger);
      for (const period of [200001, 200002, 202402, 202412, 210002, 230002, 239912]) {
        const [start, end] = await ledger.periodBounds(period);
        expect([Number(start), Number(end)]).to.deep.equal(periodBounds(period));
      }
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2000, max: 2399 }), fc.integer({ min: 1, max: 12 }), async (year, month) => {
          const [start, end] = await ledger.periodBounds(year * 100 + month);
          expect([Number(start), Number(end)]).to.deep.equal(periodBounds(year * 100 + month));
        }),
        { numRuns: 60 },
      );
    });

    it("reverts for a period that is not yyyymm from 200001 to 239912", async function () {
      const { ledger } = await loadFixture(deployLedger);
      for (const period of [0, 199912, 202400, 202413, 240001, 20261]) {
        await expect(ledger.periodBounds(period)).to.be.revertedWithCustomError(ledger, "UsageLedgerInvalidPeriod").withArgs(period);
      }
    });
  });

  describe("submitBatch", function () {
    it("commits one slot and emits the whole summary; the id is the TS batchId and hashBatch", async function () {
      const f = await loadFixture(deployLedger);
      const batch = batchOf(f, 1, { totals: [bigTotals(1, 700), bigTotals(3, 300)], recordCount: 1200 });
      const id = batchId(batch);
      expect(await f.ledger.hashBatch(toContractBatch(batch))).to.equal(id);
      const tx = submit(f, batch);
      await expect(tx)
        .to.emit(f.ledger, "UsageBatchSubmitted")
        .withArgs(id, PLMN.BR, PLMN.DE, f.period, batch.merkleRoot, 1200, batch.payloadHash, anyValue, f.br.address);
      const at = await time.latest();
      const info = await f.ledger.getBatch(id);
      expect([info.visited, info.home, info.period, info.status, info.submittedAt, info.disputedRecords]).to.deep.equal([
        PLMN.BR,
        PLMN.DE,
        BigInt(f.period),
        Status.Submitted,
        BigInt(at),
        0n,
      ]);
      const p = await f.ledger.getPeriod(PLMN.DE, PLMN.BR, f.period);
      expect([p.batchCount, p.lastSubmittedAt, p.closed, p.closedAt]).to.deep.equal([1n, BigInt(at), false, 0n]);

      const receipt = await (await tx).wait();
      const log = f.ledger.interface.parseLog(receipt!.logs[0])!;
      expect(fromEventArgs(log.args as never)).to.deep.equal(batch);
    });

    it("lets an operator of another member relay a batch the visited carrier signed", async function () {
      const f = await loadFixture(deployLedger);
      await expect(submit(f, batchOf(f), f.br, f.us))
        .to.emit(f.ledger, "UsageBatchSubmitted")
        .withArgs(batchId(batchOf(f)), PLMN.BR, PLMN.DE, f.period, anyValue, anyValue, anyValue, anyValue, f.br.address);
    });

    it("reverts when the sender is not an operator of an active member", async function () {
      const f = await loadFixture(deployLedger);
      await expect(submit(f, batchOf(f), f.br, f.outsider))
        .to.be.revertedWithCustomError(f.carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(f.outsider.address);
    });

    it("reverts when the signer is not an operator of the visited carrier", async function () {
      const f = await loadFixture(deployLedger);
      // A non-member, another carrier, the home carrier itself, a device maker.
      for (const signer of [f.outsider, f.us, f.de, f.maker]) {
        await expect(submit(f, batchOf(f), signer, f.br))
          .to.be.revertedWithCustomError(f.ledger, "UsageLedgerSignerNotVisited")
          .withArgs(signer.address, PLMN.BR);
      }
    });

    it("reverts while the visited carrier is suspended", async function () {
      const f = await loadFixture(deployLedger);
      await f.carriers.connect(f.de).proposeStatusChange(SUSPEND, PLMN.BR);
      await f.carriers.connect(f.us).approve(await f.carriers.proposalCount());
      await expect(submit(f, batchOf(f), f.br, f.de))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerSignerNotVisited")
        .withArgs(f.br.address, PLMN.BR);
    });

    it("reverts for a signature made for another chain", async function () {
      const f = await loadFixture(deployLedger);
      const batch = batchOf(f);
      const signature = await signBatch(f.br, { ...f.domain, chainId: 1 }, batch);
      const recovered = recoverAddress(batchDigest(f.domain, batch), signature);
      await expect(f.ledger.connect(f.br).submitBatch(toContractBatch(batch), signature))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerSignerNotVisited")
        .withArgs(recovered, PLMN.BR);
    });

    it("reverts for a signature made for another ledger, which that ledger takes", async function () {
      const f = await loadFixture(deployLedger);
      const other = (await hre.ethers.deployContract("UsageLedger", [
        await f.carriers.getAddress(),
        await f.agreements.getAddress(),
        await f.devices.getAddress(),
        SUBMISSION_GRACE,
      ])) as unknown as UsageLedger;
      const batch = batchOf(f);
      const signature = await signBatch(f.br, ledgerDomain(31337, await other.getAddress()), batch);
      await expect(f.ledger.connect(f.br).submitBatch(toContractBatch(batch), signature)).to.be.revertedWithCustomError(
        f.ledger,
        "UsageLedgerSignerNotVisited",
      );
      await expect(other.connect(f.br).submitBatch(toContractBatch(batch), signature)).to.emit(other, "UsageBatchSubmitted");
    });

    it("reverts for a malformed or malleable signature", async function () {
      const f = await loadFixture(deployLedger);
      const batch = batchOf(f);
      const good = Signature.from(await signBatch(f.br, f.domain, batch));
      const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const highS = hre.ethers.concat([good.r, hre.ethers.toBeHex(N - BigInt(good.s), 32), good.v === 27 ? "0x1c" : "0x1b"]);
      for (const signature of ["0x", good.compactSerialized, highS]) {
        await expect(f.ledger.connect(f.br).submitBatch(toContractBatch(batch), signature)).to.be.revertedWithCustomError(
          f.ledger,
          "UsageLedgerInvalidSignature",
        );
      }
    });

    it("reverts when the batch was committed already, whoever sends it", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, batchOf(f));
      for (const sender of [f.br, f.us]) {
        await expect(submit(f, batchOf(f), f.br, sender))
          .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchExists")
          .withArgs(batchId(batchOf(f)));
      }
    });

    it("reverts when the two carriers have no agreement in force", async function () {
      const f = await loadFixture(deployLedger);
      await expect(submit(f, batchOf(f, 1, { home: PLMN.US })))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerNoAgreement")
        .withArgs(PLMN.US, PLMN.BR);
      await time.increase(366 * DAY);
      const later = monthOf(await time.latest()).period;
      await expect(submit(f, batchOf(f, 1, { period: later })))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerNoAgreement")
        .withArgs(PLMN.DE, PLMN.BR);
    });

    it("reverts for a period that is not yyyymm or has not started", async function () {
      const f = await loadFixture(deployLedger);
      for (const period of [202613, 199912, 240001, monthOf(f.end).period]) {
        await expect(submit(f, batchOf(f, 1, { period })))
          .to.be.revertedWithCustomError(f.ledger, "UsageLedgerInvalidPeriod")
          .withArgs(period);
      }
      await expect(submit(f, batchOf(f, 1, { period: monthsBefore(f.start).period }))).to.emit(f.ledger, "UsageBatchSubmitted");
    });

    it("reverts for an empty batch", async function () {
      const f = await loadFixture(deployLedger);
      await expect(submit(f, batchOf(f, 1, { recordCount: 0, totals: [] }))).to.be.revertedWithCustomError(
        f.ledger,
        "UsageLedgerEmptyBatch",
      );
    });

    it("reverts when classes do not ascend strictly or records exceed the count", async function () {
      const f = await loadFixture(deployLedger);
      const cases: [ClassTotals[], number][] = [
        [[bigTotals(2, 1), bigTotals(1, 1)], 1],
        [[bigTotals(1, 1), bigTotals(1, 1)], 1],
        [[bigTotals(0, 1), bigTotals(3, 1), bigTotals(2, 1)], 2],
        [[bigTotals(1, 6), bigTotals(2, 5)], 1],
        [[bigTotals(1, 11)], 0],
      ];
      for (const [totals, index] of cases) {
        await expect(submit(f, batchOf(f, 1, { recordCount: 10, totals })))
          .to.be.revertedWithCustomError(f.ledger, "UsageLedgerInvalidTotals")
          .withArgs(index);
      }
      await expect(submit(f, batchOf(f, 1, { recordCount: 10, totals: [bigTotals(0, 5), bigTotals(255, 5)] }))).to.emit(
        f.ledger,
        "UsageBatchSubmitted",
      );
      await expect(submit(f, batchOf(f, 2, { recordCount: 10, totals: [] }))).to.emit(f.ledger, "UsageBatchSubmitted");
    });

    it("costs at most 100,000 gas for a later batch of a period, 1 or 3 classes, whatever the record count", async function () {
      const f = await loadFixture(deployLedger);
      // Hashes as random as real ones (no zero bytes to spare in calldata).
      const real = (n: number) => ({
        merkleRoot: keccak256(toUtf8Bytes(`root ${n}`)) as Hex,
        payloadHash: keccak256(toUtf8Bytes(`payload ${n}`)) as Hex,
      });
      const one = [bigTotals(1)];
      const three = [bigTotals(1), bigTotals(2), bigTotals(3)];
      const previous = monthsBefore(f.start).period;
      const gas = async (n: number, o: Partial<UsageBatch>, sender?: HardhatEthersSigner) =>
        gasOf(submit(f, batchOf(f, n, { ...real(n), ...o }), f.br, sender ?? f.br));
      const first1 = await gas(1, { totals: one });
      const first3 = await gas(2, { totals: three, period: previous });
      const later1 = await gas(3, { totals: one });
      const later1small = await gas(4, { totals: [bigTotals(1, 1)], recordCount: 1 });
      const later3 = await gas(5, { totals: three });
      const u32 = 2 ** 32 - 1;
      const later3max = await gas(6, { totals: [1, 2, 3].map((c) => maxTotals(c, Math.floor(u32 / 3))), recordCount: u32 });
      const later0 = await gas(7, { totals: [], recordCount: 1 });
      const relayed1 = await gas(8, { totals: one }, f.us);
      const relayed3 = await gas(9, { totals: three }, f.us);
      console.log(
        `      submitBatch gas (receipt.gasUsed): first of a period ${first1} (1 class), ${first3} (3 classes); later in the period: ` +
          `${later1} (1 class, 1,000,000 records), ${later1small} (1 class, 1 record), ${later3} (3 classes), ` +
          `${later3max} (3 classes, every total at its type's maximum), ${later0} (no billable class); ` +
          `relayed by another member's operator: ${relayed1} (1 class), ${relayed3} (3 classes)`,
      );
      for (const g of [later1, later1small, later3, later3max, later0]) expect(g).to.be.lessThanOrEqual(100_000n);
      expect(first1 - later1).to.be.greaterThan(15_000n); // the period's slot is new
    });
  });

  describe("acceptBatches", function () {
    it("lets any operator of the home carrier accept submitted batches", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, batchOf(f, 1));
      await submit(f, batchOf(f, 2));
      const ids = [batchId(batchOf(f, 1)), batchId(batchOf(f, 2))];
      await expect(f.ledger.connect(f.de2).acceptBatches(ids))
        .to.emit(f.ledger, "UsageBatchAccepted")
        .withArgs(ids[0], PLMN.DE)
        .and.to.emit(f.ledger, "UsageBatchAccepted")
        .withArgs(ids[1], PLMN.DE);
      for (const id of ids) expect((await f.ledger.getBatch(id)).status).to.equal(Status.Accepted);
    });

    it("reverts for an unknown batch or one not submitted any more, all or nothing", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, batchOf(f, 1));
      await submit(f, batchOf(f, 2));
      const [a, b] = [batchId(batchOf(f, 1)), batchId(batchOf(f, 2))];
      const unknown = batchId(batchOf(f, 3));
      await expect(f.ledger.connect(f.de).acceptBatches([a, unknown]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerUnknownBatch")
        .withArgs(unknown);
      expect((await f.ledger.getBatch(a)).status).to.equal(Status.Submitted);
      await f.ledger.connect(f.de).acceptBatches([a]);
      await f.ledger.connect(f.de).rejectBatch(b, 2);
      for (const [id, status] of [
        [a, Status.Accepted],
        [b, Status.Rejected],
      ] as const) {
        await expect(f.ledger.connect(f.de).acceptBatches([id]))
          .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchNotOpen")
          .withArgs(id, status);
      }
    });

    it("reverts when the caller is not an operator of the batch's home carrier", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, batchOf(f));
      const id = batchId(batchOf(f));
      await expectCarrierOperatorsOnly(f, (s) => f.ledger.connect(s).acceptBatches([id]));
      for (const caller of [f.br, f.us]) {
        await expect(f.ledger.connect(caller).acceptBatches([id]))
          .to.be.revertedWithCustomError(f.ledger, "UsageLedgerNotHome")
          .withArgs(caller.address, PLMN.DE);
      }
    });

    it("reverts for a batch of a closed period", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, batchOf(f));
      await time.increaseTo(f.end);
      await f.ledger.connect(f.br).closePeriod(PLMN.DE, PLMN.BR, f.period, [toContractBatch(batchOf(f))]);
      await expect(f.ledger.connect(f.de).acceptBatches([batchId(batchOf(f))]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerPeriodClosed")
        .withArgs(PLMN.DE, PLMN.BR, f.period);
    });
  });

  describe("rejectBatch", function () {
    it("lets the home carrier reject a batch within its dispute window", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, batchOf(f));
      const id = batchId(batchOf(f));
      await time.increase(WINDOW - 10);
      await expect(f.ledger.connect(f.de).rejectBatch(id, 3)).to.emit(f.ledger, "UsageBatchRejected").withArgs(id, PLMN.DE, 3);
      expect((await f.ledger.getBatch(id)).status).to.equal(Status.Rejected);
    });

    it("reverts once the dispute window is over", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, batchOf(f));
      const submittedAt = await time.latest();
      await time.increaseTo(submittedAt + WINDOW);
      await expect(f.ledger.connect(f.de).rejectBatch(batchId(batchOf(f)), 1))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerDisputeWindowOver")
        .withArgs(batchId(batchOf(f)), submittedAt + WINDOW);
    });

    it("reverts for an unknown batch and for one accepted already", async function () {
      const f = await loadFixture(deployLedger);
      const id = batchId(batchOf(f));
      await expect(f.ledger.connect(f.de).rejectBatch(id, 1))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerUnknownBatch")
        .withArgs(id);
      await submit(f, batchOf(f));
      await f.ledger.connect(f.de).acceptBatches([id]);
      await expect(f.ledger.connect(f.de).rejectBatch(id, 1))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchNotOpen")
        .withArgs(id, Status.Accepted);
    });

    it("reverts when the caller is not an operator of the batch's home carrier", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, batchOf(f));
      const id = batchId(batchOf(f));
      await expect(f.ledger.connect(f.outsider).rejectBatch(id, 1))
        .to.be.revertedWithCustomError(f.carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(f.outsider.address);
      await expect(f.ledger.connect(f.maker).rejectBatch(id, 1)).to.be.revertedWithCustomError(f.carriers, "CarrierRegistryMissingRole");
      for (const caller of [f.br, f.us]) {
        await expect(f.ledger.connect(caller).rejectBatch(id, 1))
          .to.be.revertedWithCustomError(f.ledger, "UsageLedgerNotHome")
          .withArgs(caller.address, PLMN.DE);
      }
    });
  });

  describe("disputeRecords", function () {
    it("takes billable records proven in a 1,000-record batch off its totals", async function () {
      const rb = await loadFixture(withRecordBatch);
      const chosen = [SERVICE.data, SERVICE.sms, SERVICE.voice, SERVICE.signalling].map(
        (service) => billable(rb).find(([r]) => r.service === service)![1],
      );
      const disputes = chosen.map((i) => disputeOf(rb, i, 7));
      const hasher = await LeafHasher.create();
      const tx = rb.ledger.connect(rb.de).disputeRecords(toContractBatch(rb.batch), disputes);
      for (const i of chosen) {
        await expect(tx).to.emit(rb.ledger, "UsageRecordDisputed").withArgs(rb.id, rb.records[i].recordId, hasher.leafOf(rb.records[i]), 7);
      }
      for (const i of chosen) expect(await rb.ledger.isDisputed(rb.id, hasher.leafOf(rb.records[i]))).to.equal(true);
      expect((await rb.ledger.getBatch(rb.id)).disputedRecords).to.equal(4n);
      const expected = merge(chosen.map((i) => usageOf(rb.records[i])));
      expect(totalsFromContract(await rb.ledger.disputedTotals(rb.id))).to.deep.equal(expected);
    });

    it("costs at most 180,000 gas for one record with its 1,000-leaf proof (163,593 measured)", async function () {
      const rb = await loadFixture(withRecordBatch);
      const [, i] = billable(rb)[0];
      const gas = await gasOf(rb.ledger.connect(rb.de).disputeRecords(toContractBatch(rb.batch), [disputeOf(rb, i)]));
      console.log(`      disputeRecords gas: 1 record, proof of ${merkleProof(rb.tree, i).length} hashes: ${gas}`);
      expect(gas).to.be.lessThanOrEqual(180_000n);
    });

    it("reverts for a record changed in one field, or a proof of another record", async function () {
      const rb = await loadFixture(withRecordBatch);
      const hasher = await LeafHasher.create();
      const [record, i] = billable(rb)[0];
      for (const changed of [
        { ...record, bytesDown: record.bytesDown + 1 },
        { ...record, tariffClass: 3 },
        { ...record, home: PLMN.US },
      ]) {
        await expect(
          rb.ledger
            .connect(rb.de)
            .disputeRecords(toContractBatch(rb.batch), [{ record: changed, proof: merkleProof(rb.tree, i), reason: 1 }]),
        )
          .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerRecordNotInBatch")
          .withArgs(rb.id, hasher.leafOf(changed));
      }
      await expect(
        rb.ledger.connect(rb.de).disputeRecords(toContractBatch(rb.batch), [{ ...disputeOf(rb, i), proof: merkleProof(rb.tree, i + 1) }]),
      )
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerRecordNotInBatch")
        .withArgs(rb.id, hasher.leafOf(record));
    });

    it("reverts for a record that is not billable", async function () {
      const rb = await loadFixture(withRecordBatch);
      const i = rb.records.findIndex((r) => r.billing !== 0);
      await expect(rb.ledger.connect(rb.de).disputeRecords(toContractBatch(rb.batch), [disputeOf(rb, i)]))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerRecordNotBillable")
        .withArgs(rb.id, (await LeafHasher.create()).leafOf(rb.records[i]));
    });

    it("reverts for a record disputed already, in an earlier call or the same one", async function () {
      const rb = await loadFixture(withRecordBatch);
      const [[r1, i1], [, i2]] = billable(rb);
      const leaf = (await LeafHasher.create()).leafOf(r1);
      await expect(rb.ledger.connect(rb.de).disputeRecords(toContractBatch(rb.batch), [disputeOf(rb, i1), disputeOf(rb, i1)]))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerRecordAlreadyDisputed")
        .withArgs(rb.id, leaf);
      await rb.ledger.connect(rb.de).disputeRecords(toContractBatch(rb.batch), [disputeOf(rb, i1)]);
      await expect(rb.ledger.connect(rb.de2).disputeRecords(toContractBatch(rb.batch), [disputeOf(rb, i2), disputeOf(rb, i1)]))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerRecordAlreadyDisputed")
        .withArgs(rb.id, leaf);
    });

    it("reverts after the dispute window and once the batch is accepted", async function () {
      const rb = await loadFixture(withRecordBatch);
      const [, i] = billable(rb)[0];
      await time.increaseTo(rb.submittedAt + WINDOW);
      await expect(rb.ledger.connect(rb.de).disputeRecords(toContractBatch(rb.batch), [disputeOf(rb, i)]))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerDisputeWindowOver")
        .withArgs(rb.id, rb.submittedAt + WINDOW);
      await rb.ledger.connect(rb.de).acceptBatches([rb.id]);
      await expect(rb.ledger.connect(rb.de).disputeRecords(toContractBatch(rb.batch), [disputeOf(rb, i)]))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerBatchNotOpen")
        .withArgs(rb.id, Status.Accepted);
    });

    it("reverts for a summary that was never submitted (a changed total)", async function () {
      const rb = await loadFixture(withRecordBatch);
      const [, i] = billable(rb)[0];
      const forged = { ...rb.batch, recordCount: rb.batch.recordCount + 1 };
      await expect(rb.ledger.connect(rb.de).disputeRecords(toContractBatch(forged), [disputeOf(rb, i)]))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerUnknownBatch")
        .withArgs(batchId(forged));
    });

    it("reverts for more than 500 records", async function () {
      const rb = await loadFixture(withRecordBatch);
      const disputes = Array.from({ length: 501 }, () => disputeOf(rb, 0));
      await expect(rb.ledger.connect(rb.de).disputeRecords(toContractBatch(rb.batch), disputes))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerTooMany")
        .withArgs(501, 500);
    });

    it("reverts when the caller is not an operator of the batch's home carrier", async function () {
      const rb = await loadFixture(withRecordBatch);
      const [, i] = billable(rb)[0];
      const call = (s: HardhatEthersSigner) => rb.ledger.connect(s).disputeRecords(toContractBatch(rb.batch), [disputeOf(rb, i)]);
      await expect(call(rb.outsider)).to.be.revertedWithCustomError(rb.carriers, "CarrierRegistryNotActiveOperator");
      await expect(call(rb.maker)).to.be.revertedWithCustomError(rb.carriers, "CarrierRegistryMissingRole");
      for (const caller of [rb.br, rb.us]) {
        await expect(call(caller)).to.be.revertedWithCustomError(rb.ledger, "UsageLedgerNotHome").withArgs(caller.address, PLMN.DE);
      }
    });
  });

  describe("reportPermanentRoamers", function () {
    /** DE registered devices 1..3, US device 10. */
    async function withDevices() {
      const f = await deployLedger();
      await f.devices.connect(f.de).definePolicy(meterPolicy(PLMN.DE));
      await f.devices.connect(f.us).definePolicy(meterPolicy(PLMN.US));
      const reg = (i: number, policyId: number) => ({ id: deviceId(i), deviceClass: 0, maker: PLMN.MAKER, policyId });
      await f.devices.connect(f.de).registerDevices([1, 2, 3].map((i) => reg(i, 1)));
      await f.devices.connect(f.us).registerDevices([reg(10, 2)]);
      return f;
    }
    const report = (i: number, days = 95) => ({
      deviceId: deviceId(i),
      daysPresent: days,
      evidenceHash: hexlify(new Uint8Array(32).fill(i)),
    });

    it("stores and announces each device once per visited network; a re-run reports nothing twice", async function () {
      const f = await loadFixture(withDevices);
      const tx = f.ledger.connect(f.br).reportPermanentRoamers(PLMN.DE, [report(1, 91), report(2, 120)]);
      await expect(tx).to.emit(f.ledger, "PermanentRoamerReported").withArgs(deviceId(1), PLMN.DE, PLMN.BR, 91, report(1).evidenceHash);
      await expect(tx).to.emit(f.ledger, "PermanentRoamerReported").withArgs(deviceId(2), PLMN.DE, PLMN.BR, 120, report(2).evidenceHash);
      const at = await time.latest();
      const stored = await f.ledger.permanentRoaming(deviceId(2), PLMN.BR);
      expect([stored.reportedAt, stored.daysPresent]).to.deep.equal([BigInt(at), 120n]);
      expect((await f.ledger.permanentRoaming(deviceId(3), PLMN.BR)).reportedAt).to.equal(0n);

      const rerun = await (await f.ledger.connect(f.br).reportPermanentRoamers(PLMN.DE, [report(1, 99), report(2), report(3)])).wait();
      const reported = rerun!.logs.map((l) => f.ledger.interface.parseLog(l)!.args.deviceId);
      expect(reported).to.deep.equal([deviceId(3)]);
      expect((await f.ledger.permanentRoaming(deviceId(1), PLMN.BR)).daysPresent).to.equal(91n);
    });

    it("reverts for an unknown device or a device of another home carrier", async function () {
      const f = await loadFixture(withDevices);
      await expect(f.ledger.connect(f.br).reportPermanentRoamers(PLMN.DE, [report(1), report(99)]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerUnknownDevice")
        .withArgs(deviceId(99));
      await expect(f.ledger.connect(f.br).reportPermanentRoamers(PLMN.DE, [report(10)]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerWrongHome")
        .withArgs(deviceId(10), PLMN.US);
      expect((await f.ledger.permanentRoaming(deviceId(1), PLMN.BR)).reportedAt).to.equal(0n);
    });

    it("reverts without an agreement with the home carrier, or for more than 2,000 devices", async function () {
      const f = await loadFixture(withDevices);
      await expect(f.ledger.connect(f.us).reportPermanentRoamers(PLMN.DE, [report(1)]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerNoAgreement")
        .withArgs(PLMN.DE, PLMN.US);
      await expect(f.ledger.connect(f.br).reportPermanentRoamers(PLMN.DE, Array(2001).fill(report(1))))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerTooMany")
        .withArgs(2001, 2000);
    });

    it("reverts when the caller is not an operator of an active carrier", async function () {
      const f = await loadFixture(withDevices);
      await expectCarrierOperatorsOnly(f, (s) => f.ledger.connect(s).reportPermanentRoamers(PLMN.DE, [report(1)]));
    });
  });

  describe("closePeriod", function () {
    it("reverts before the period ends, and before the grace is over unless the visited carrier calls", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, batchOf(f));
      const batches = [batchOf(f)];
      await expect(close(f, f.br, batches))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerPeriodNotOver")
        .withArgs(f.period, f.end);
      await time.increaseTo(f.end);
      for (const caller of [f.outsider, f.de, f.us]) {
        await expect(close(f, caller, batches))
          .to.be.revertedWithCustomError(f.ledger, "UsageLedgerPeriodNotOver")
          .withArgs(f.period, f.end + SUBMISSION_GRACE);
      }
      await expect(close(f, f.br, batches))
        .to.emit(f.ledger, "PeriodClosed")
        .withArgs(PLMN.DE, PLMN.BR, f.period, 1);
    });

    it("does not let a suspended visited carrier waive the grace", async function () {
      const f = await loadFixture(deployLedger);
      await time.increaseTo(f.end);
      await f.carriers.connect(f.de).proposeStatusChange(SUSPEND, PLMN.BR);
      await f.carriers.connect(f.us).approve(await f.carriers.proposalCount());
      await expect(close(f, f.br, []))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerPeriodNotOver")
        .withArgs(f.period, f.end + SUBMISSION_GRACE);
    });

    it("lets anyone close after the grace, even an account of no member", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, batchOf(f));
      await time.increaseTo(f.end + SUBMISSION_GRACE);
      await expect(close(f, f.outsider, [batchOf(f)]))
        .to.emit(f.ledger, "PeriodClosed")
        .withArgs(PLMN.DE, PLMN.BR, f.period, 1);
    });

    it("reverts unless the batches are exactly the period's, ascending by id", async function () {
      const f = await loadFixture(deployLedger);
      const [a, b] = [batchOf(f, 1), batchOf(f, 2)];
      const earlier = batchOf(f, 3, { period: monthsBefore(f.start).period });
      for (const batch of [a, b, earlier]) await submit(f, batch);
      await time.increaseTo(f.end + SUBMISSION_GRACE);
      const [lo, hi] = ascendingById([a, b]);
      const call = (batches: UsageBatch[]) => f.ledger.closePeriod(PLMN.DE, PLMN.BR, f.period, batches.map(toContractBatch));
      await expect(call([lo]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchSetMismatch")
        .withArgs(1, 2);
      await expect(call([lo, hi, earlier]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchSetMismatch")
        .withArgs(3, 2);
      await expect(call([hi, lo]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchOrder")
        .withArgs(1, batchId(lo));
      await expect(call([lo, lo]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchOrder")
        .withArgs(1, batchId(lo));
      const [x, y] = ascendingById([a, earlier]);
      await expect(call([x, y]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchNotOfPeriod")
        .withArgs(batchId(earlier));
      const never = batchOf(f, 9);
      const [u, v] = ascendingById([a, never]);
      await expect(call([u, v]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchNotOfPeriod")
        .withArgs(batchId(never));
      await expect(call([lo, hi])).to.emit(f.ledger, "PeriodClosed");
    });

    it("reverts while a batch is in its dispute window, closes once it is accepted", async function () {
      const f = await loadFixture(deployLedger);
      await time.increaseTo(f.end - DAY);
      await submit(f, batchOf(f));
      const submittedAt = await time.latest();
      await time.increaseTo(f.end + SUBMISSION_GRACE);
      await expect(close(f, f.br, [batchOf(f)]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchStillOpen")
        .withArgs(batchId(batchOf(f)), submittedAt + WINDOW);
      await f.ledger.connect(f.de).acceptBatches([batchId(batchOf(f))]);
      await expect(close(f, f.br, [batchOf(f)])).to.emit(f.ledger, "PeriodClosed");
    });

    it("totals the batches not rejected, less disputed usage, merged by class; once", async function () {
      const rb = await loadFixture(withRecordBatch);
      // Batch A: 1,000 records in classes 1 and 2, six billable records disputed. B: classes 1 and 2.
      // C: rejected. D: submitted without records of class 5, answered by nobody.
      const chosen = billable(rb)
        .slice(0, 6)
        .map(([, i]) => i);
      await rb.ledger.connect(rb.de).disputeRecords(
        toContractBatch(rb.batch),
        chosen.map((i) => disputeOf(rb, i)),
      );
      const b = batchOf(rb, 2, { totals: [bigTotals(1, 10), bigTotals(2, 20)] });
      const c = batchOf(rb, 3, { totals: [bigTotals(1, 99)] });
      const d = batchOf(rb, 4, { totals: [bigTotals(5, 5)] });
      for (const batch of [b, c, d]) await submit(rb, batch);
      await rb.ledger.connect(rb.de).acceptBatches([batchId(b)]);
      await rb.ledger.connect(rb.de).rejectBatch(batchId(c), 2);
      await time.increaseTo(rb.end + SUBMISSION_GRACE);

      const disputed = merge(chosen.map((i) => usageOf(rb.records[i])));
      const netA = rb.batch.totals.map((t) =>
        net(
          t,
          disputed.find((x) => x.tariffClass === t.tariffClass),
        ),
      );
      const expected = merge(netA, b.totals, d.totals);
      expect(expected.map((t) => t.tariffClass)).to.deep.equal([1, 2, 5]);

      const all = [rb.batch, b, c, d];
      await expect(close(rb, rb.outsider, all))
        .to.emit(rb.ledger, "PeriodClosed")
        .withArgs(PLMN.DE, PLMN.BR, rb.period, 4);
      expect(totalsFromContract(await rb.ledger.periodTotals(PLMN.DE, PLMN.BR, rb.period))).to.deep.equal(expected);
      const p = await rb.ledger.getPeriod(PLMN.DE, PLMN.BR, rb.period);
      expect([p.batchCount, p.closed, p.closedAt]).to.deep.equal([4n, true, BigInt(await time.latest())]);

      // Idempotent: the same totals, whatever is passed, and no second event.
      const again = await rb.ledger.closePeriod.staticCall(PLMN.DE, PLMN.BR, rb.period, []);
      expect(totalsFromContract(again)).to.deep.equal(expected);
      await expect(rb.ledger.connect(rb.us).closePeriod(PLMN.DE, PLMN.BR, rb.period, [])).not.to.emit(rb.ledger, "PeriodClosed");

      await expect(submit(rb, batchOf(rb, 7)))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerPeriodClosed")
        .withArgs(PLMN.DE, PLMN.BR, rb.period);
    });

    it("returns the totals it stores", async function () {
      const f = await loadFixture(deployLedger);
      const batches = [batchOf(f, 1, { totals: [bigTotals(2, 5)] }), batchOf(f, 2, { totals: [bigTotals(1, 5), bigTotals(2, 5)] })];
      for (const batch of batches) await submit(f, batch);
      await time.increaseTo(f.end + SUBMISSION_GRACE);
      const returned = await f.ledger.closePeriod.staticCall(PLMN.DE, PLMN.BR, f.period, ascendingById(batches).map(toContractBatch));
      await close(f, f.br, batches);
      expect(totalsFromContract(returned)).to.deep.equal(merge(batches[0].totals, batches[1].totals));
      expect(totalsFromContract(await f.ledger.periodTotals(PLMN.DE, PLMN.BR, f.period))).to.deep.equal(totalsFromContract(returned));
    });

    it("closes a period without batches with no totals", async function () {
      const f = await loadFixture(deployLedger);
      await time.increaseTo(f.end);
      await expect(close(f, f.br, []))
        .to.emit(f.ledger, "PeriodClosed")
        .withArgs(PLMN.DE, PLMN.BR, f.period, 0);
      expect(await f.ledger.periodTotals(PLMN.DE, PLMN.BR, f.period)).to.deep.equal([]);
    });

    it("reverts for a period that is not yyyymm", async function () {
      const f = await loadFixture(deployLedger);
      await expect(close(f, f.br, [], 202613))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerInvalidPeriod")
        .withArgs(202613);
    });

    it("costs at most 160,000 gas for 1 batch and 45,000 for each further batch (146,751 and 303,556 for 5 measured)", async function () {
      const f = await loadFixture(deployLedger);
      const previous = monthsBefore(f.start).period;
      const one = [batchOf(f, 100, { period: previous, totals: [bigTotals(1)] })];
      const five = [1, 2, 3, 4, 5].map((n) => batchOf(f, n, { totals: [bigTotals(1), bigTotals(2)] }));
      for (const batch of [...one, ...five]) await submit(f, batch);
      await time.increaseTo(f.end + SUBMISSION_GRACE);
      const gas1 = await gasOf(close(f, f.br, one, previous));
      const gas5 = await gasOf(close(f, f.br, five));
      console.log(`      closePeriod gas: 1 batch (1 class, window over) ${gas1}; 5 batches (2 classes each, windows over) ${gas5}`);
      expect(gas1).to.be.lessThanOrEqual(160_000n);
      expect((gas5 - gas1) / 4n).to.be.lessThanOrEqual(45_000n);
    });
  });

  describe("invariants", function () {
    // Over random sequences of submit / accept / reject / dispute / close by the right callers:
    // - a batch id is committed once (a second submit reverts, the slot never changes its period or parties);
    // - the period's batchCount is the number of batches committed for it;
    // - a closed period's totals never change.
    it("keeps batch ids unique, counts exact and closed totals final", async function () {
      const ops = fc.array(fc.tuple(fc.constantFrom("submit", "accept", "reject", "dispute", "close", "wait"), fc.nat(5)), {
        minLength: 5,
        maxLength: 14,
      });
      await fc.assert(
        fc.asyncProperty(ops, async (sequence) => {
          const f = await loadFixture(withRecordBatch);
          const submitted: UsageBatch[] = [f.batch];
          let closedTotals: ClassTotals[] | undefined;
          for (const [op, n] of sequence) {
            const batch = batchOf(f, n + 1, { totals: [bigTotals(n % 3, n)] });
            const id = batchId(batch);
            if (op === "submit") {
              const known = submitted.some((b) => batchId(b) === id);
              const ok = await submit(f, batch).then(
                () => true,
                () => false,
              );
              expect(ok).to.equal(!known && closedTotals === undefined);
              if (ok) submitted.push(batch);
            } else if (op === "accept") {
              await f.ledger
                .connect(f.de)
                .acceptBatches([id])
                .catch(() => undefined);
            } else if (op === "reject") {
              await f.ledger
                .connect(f.de)
                .rejectBatch(id, 1)
                .catch(() => undefined);
            } else if (op === "dispute") {
              const [, i] = billable(f)[n];
              await f.ledger
                .connect(f.de)
                .disputeRecords(toContractBatch(f.batch), [disputeOf(f, i)])
                .catch(() => undefined);
            } else if (op === "close") {
              const ok = await close(f, f.outsider, submitted).then(
                () => true,
                () => false,
              );
              if (ok) closedTotals ??= totalsFromContract(await f.ledger.periodTotals(PLMN.DE, PLMN.BR, f.period));
            } else {
              await time.increase((n + 1) * 4 * DAY);
            }
            const p = await f.ledger.getPeriod(PLMN.DE, PLMN.BR, f.period);
            expect(p.batchCount).to.equal(BigInt(submitted.length));
            expect(p.closed).to.equal(closedTotals !== undefined);
            if (closedTotals)
              expect(totalsFromContract(await f.ledger.periodTotals(PLMN.DE, PLMN.BR, f.period))).to.deep.equal(closedTotals);
            for (const b of submitted) {
              const info = await f.ledger.getBatch(batchId(b));
              expect([info.home, info.visited, info.period]).to.deep.equal([PLMN.DE, PLMN.BR, BigInt(f.period)]);
            }
          }
        }),
        { numRuns: 12 },
      );
    });
  });
});
