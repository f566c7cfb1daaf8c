import { expect } from "chai";
import hre from "hardhat";
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  AbiCoder,
  concat,
  hexlify,
  keccak256,
  recoverAddress,
  Signature,
  toUtf8Bytes,
  TypedDataEncoder,
  ZeroHash,
  type TypedDataDomain,
} from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import CarrierRegistryModule from "../../ignition/modules/CarrierRegistry";
import { carrierRegistryParameters, expectCarrierOperatorsOnly, PLMN, SUBMISSION_GRACE } from "../helpers/fixtures";
import { randomRecords } from "../helpers/usage";
import { monthOf } from "../helpers/period";
import { periodBounds } from "../../lib/core/period";
import { LeafHasher, packRecord, RECORD_BYTES } from "../../lib/usage/leaf";
import { merkleProof, merkleTree, treeDepth, type MerkleTree } from "../../lib/usage/merkle";
import {
  batchDigest,
  batchId,
  ledgerDomain,
  signBatch,
  toContractBatch,
  USAGE_BATCH_TYPES,
  type UsageBatchHeader,
} from "../../lib/usage/batch";
import type { UsageRecord } from "../../lib/usage/types";
import type { Hex } from "../../lib/util/hex";
import type { CarrierRegistry, RoamingAgreements__Mock, UsageBatchLib__Mock, UsageLedger } from "../../typechain-types";

const DAY = 24 * 3600;
/** The dispute window the mock agreement gives DE-BR. */
const WINDOW = 7 * DAY;
const Status = { None: 0n, Submitted: 1n, Accepted: 2n, Rejected: 3n, Expired: 4n } as const;
/** ICarrierRegistry.ProposalKind.Suspend */
const SUSPEND = 1;
/** EIP-7825: the most gas one transaction may use. */
const TX_GAS_CAP = 16_777_216n;
const coder = AbiCoder.defaultAbiCoder();

interface Fixture {
  ledger: UsageLedger;
  carriers: CarrierRegistry;
  agreements: RoamingAgreements__Mock;
  proofs: UsageBatchLib__Mock;
  domain: TypedDataDomain;
  /** The period of the tests (BR visited, DE home); the chain is one day into it. */
  period: number;
  start: number;
  end: number;
  deadline: number;
  de: HardhatEthersSigner;
  de2: HardhatEthersSigner;
  us: HardhatEthersSigner;
  br: HardhatEthersSigner;
  maker: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
}

/**
 * The registry through its Ignition module (DE, US, BR carriers and governors, MAKER a device maker), a
 * mock agreement DE-BR with a 7-day window, and the ledger; one day into next month, the tests' period.
 */
async function deployLedger(): Promise<Fixture> {
  const [deployer, de, us, br, maker, de2, outsider] = await hre.ethers.getSigners();
  const { carrierRegistry } = await hre.ignition.deploy(CarrierRegistryModule, {
    parameters: { CarrierRegistry: carrierRegistryParameters({ deployer, de, de2, us, br, maker }) },
  });
  const carriers = carrierRegistry as unknown as CarrierRegistry;
  const agreements = (await hre.ethers.deployContract("RoamingAgreements__Mock")) as unknown as RoamingAgreements__Mock;
  await agreements.setAgreement(PLMN.DE, PLMN.BR, true, WINDOW);
  const ledger = (await hre.ethers.deployContract("UsageLedger", [
    await carriers.getAddress(),
    await agreements.getAddress(),
    SUBMISSION_GRACE,
  ])) as unknown as UsageLedger;
  const proofs = (await hre.ethers.deployContract("UsageBatchLib__Mock")) as unknown as UsageBatchLib__Mock;
  const { period, start, end } = monthOf(monthOf(await time.latest()).end);
  await time.increaseTo(start + DAY);
  const domain = ledgerDomain((await hre.ethers.provider.getNetwork()).chainId, await ledger.getAddress());
  return {
    ledger,
    carriers,
    agreements,
    proofs,
    domain,
    period,
    start,
    end,
    deadline: end + SUBMISSION_GRACE,
    de,
    de2,
    us,
    br,
    maker,
    outsider,
  };
}

const word = (n: number | bigint, tag = "") => keccak256(toUtf8Bytes(`${tag}${n}`)) as Hex;

/** A header of BR for DE in the fixture's period; `n` tells headers apart. */
function headerOf(f: Fixture, n = 1, overrides: Partial<UsageBatchHeader> = {}): UsageBatchHeader {
  return {
    visited: PLMN.BR,
    home: PLMN.DE,
    period: f.period,
    merkleRoot: word(n, "root"),
    treeDepth: 10,
    payloadHash: word(n, "payload"),
    totalsCommitment: word(n, "totals"),
    ...overrides,
  };
}

/** Signs `batch` as `signer` for the fixture's ledger and sends it from `sender`. */
async function submit(f: Fixture, batch: UsageBatchHeader, signer = f.br, sender = signer) {
  return f.ledger.connect(sender).submitBatch(toContractBatch(batch), await signBatch(signer, f.domain, batch));
}

async function blockTimeOf(tx: { wait(): Promise<{ blockNumber: number } | null> }): Promise<number> {
  const receipt = await tx.wait();
  const block = receipt && (await hre.ethers.provider.getBlock(receipt.blockNumber));
  if (!block) throw new Error("no block");
  return block.timestamp;
}

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return receipt.gasUsed;
}

/** Submits headers `from` .. `from + count - 1` of BR, many per block, and returns their ids. */
async function submitMany(f: Fixture, count: number, from = 1): Promise<Hex[]> {
  const ids: Hex[] = [];
  await hre.network.provider.send("evm_setAutomine", [false]);
  try {
    for (let n = from; n < from + count; n++) {
      const batch = headerOf(f, n);
      await f.ledger.connect(f.br).submitBatch(toContractBatch(batch), await signBatch(f.br, f.domain, batch));
      ids.push(batchId(batch));
      if (ids.length % 400 === 0) await mine();
    }
    await mine();
  } finally {
    await hre.network.provider.send("evm_setAutomine", [true]);
  }
  return ids;
}

const chunks = <T>(list: T[], size: number) =>
  Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, i * size + size));

/** The dispute chain of a batch recomputed from its disputed indexes and leaves. */
async function disputeHashOf(ledger: UsageLedger, id: Hex): Promise<string> {
  let chain: string = ZeroHash;
  for (const index of await ledger.disputedIndexes(id)) {
    chain = keccak256(coder.encode(["bytes32", "uint32", "bytes32"], [chain, index, await ledger.disputedLeaf(id, index)]));
  }
  return chain;
}

/** The DE-BR accumulator of `period` recomputed from the counted batches. */
async function accumulatorOf(f: Fixture, period = f.period): Promise<string> {
  const { counted } = await f.ledger.getPeriod(PLMN.DE, PLMN.BR, period);
  let acc: string = ZeroHash;
  for (let i = 0n; i < counted; i++) {
    const id = await f.ledger.countedBatch(PLMN.DE, PLMN.BR, period, i);
    const b = await f.ledger.getBatch(id);
    acc = keccak256(
      coder.encode(["bytes32", "bytes32", "bytes32", "uint32", "bytes32"], [acc, id, b.totalsCommitment, b.disputeCount, b.disputeHash]),
    );
  }
  return acc;
}

interface RecordBatch extends Fixture {
  records: UsageRecord[];
  leaves: Buffer;
  tree: MerkleTree;
  batch: UsageBatchHeader;
  id: Hex;
  windowEnd: number;
}

/** The totals salt of withRecordBatch's batch, which salts its leaves. */
const BATCH_SALT = new Uint8Array(32).fill(0x5a);

/** BR submitted a batch of 1,000 random records (depth 10) whose record 9 repeats record 5. */
async function withRecordBatch(): Promise<RecordBatch> {
  const f = await deployLedger();
  const records = randomRecords(1000, PLMN.DE, PLMN.BR, 42, f.start);
  records[9] = records[5];
  const leaves = (await LeafHasher.create()).leavesOfRecords(records, BATCH_SALT);
  const tree = await merkleTree(leaves);
  const batch = headerOf(f, 1000, { merkleRoot: hexlify(tree[tree.length - 1]) as Hex, treeDepth: treeDepth(records.length) });
  await submit(f, batch);
  return { ...f, records, leaves, tree, batch, id: batchId(batch), windowEnd: (await time.latest()) + WINDOW };
}

const leafAt = (leaves: Buffer, i: number) => hexlify(leaves.subarray(i * 32, i * 32 + 32)) as Hex;
const disputeOf = (rb: { leaves: Buffer; tree: MerkleTree }, i: number, reason = 1) => ({
  leafIndex: i,
  leaf: leafAt(rb.leaves, i),
  proof: merkleProof(rb.tree, i),
  reason,
});

/** BR submitted `count` batches (ids in order), all pending. */
async function withPending(count: number) {
  const f = await deployLedger();
  return { ...f, ids: await submitMany(f, count) };
}
const with1000Pending = () => withPending(1000);
const with256Pending = () => withPending(256);

/** Suspends BR by a DE proposal and a US approval (2 of 3 governors). */
async function suspendBr(f: Fixture) {
  await f.carriers.connect(f.de).proposeStatusChange(SUSPEND, PLMN.BR);
  await f.carriers.connect(f.us).approve(await f.carriers.proposalCount());
}

describe("UsageLedger", function () {
  describe("constructor", function () {
    it("binds its dependencies, the grace, the limits and the EIP-712 domain", async function () {
      const { ledger, carriers, agreements } = await loadFixture(deployLedger);
      expect(await ledger.carrierRegistry()).to.equal(await carriers.getAddress());
      expect(await ledger.roamingAgreements()).to.equal(await agreements.getAddress());
      expect(await ledger.submissionGrace()).to.equal(SUBMISSION_GRACE);
      expect(await ledger.MAX_BATCHES_PER_PERIOD()).to.equal(2048);
      expect(await ledger.MAX_DECISIONS()).to.equal(256);
      expect(await ledger.MAX_DISPUTES()).to.equal(256);
      expect(await ledger.MAX_TREE_DEPTH()).to.equal(24);
      expect(await ledger.MAX_SUBMISSION_GRACE()).to.equal(90 * DAY);
      const domain = await ledger.eip712Domain();
      expect([domain.name, domain.version, domain.chainId]).to.deep.equal(["RoamLedger UsageLedger", "1", 31337n]);
      expect(domain.verifyingContract).to.equal(await ledger.getAddress());
    });

    it("reverts when a dependency is not a contract or the grace exceeds 90 days", async function () {
      const { carriers, agreements, outsider } = await loadFixture(deployLedger);
      const factory = await hre.ethers.getContractFactory("UsageLedger");
      const [r, a] = [await carriers.getAddress(), await agreements.getAddress()];
      await expect(factory.deploy(outsider.address, a, 0))
        .to.be.revertedWithCustomError(factory, "UsageLedgerInvalidDependency")
        .withArgs(outsider.address);
      await expect(factory.deploy(r, outsider.address, 0))
        .to.be.revertedWithCustomError(factory, "UsageLedgerInvalidDependency")
        .withArgs(outsider.address);
      await expect(factory.deploy(r, a, 90 * DAY + 1))
        .to.be.revertedWithCustomError(factory, "UsageLedgerInvalidGrace")
        .withArgs(90 * DAY + 1);
      await factory.deploy(r, a, 90 * DAY);
    });
  });

  describe("periodBounds / submissionDeadline", function () {
    it("give the month in UTC and its end + the grace, leap years and year ends included", async function () {
      const { ledger } = await loadFixture(deployLedger);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2000, max: 2399 }), fc.integer({ min: 1, max: 12 }), async (year, month) => {
          const period = year * 100 + month;
          const [start, end] = await ledger.periodBounds(period);
          expect([Number(start), Number(end)]).to.deep.equal(periodBounds(period));
          expect(await ledger.submissionDeadline(period)).to.equal(end + BigInt(SUBMISSION_GRACE));
        }),
        { numRuns: 40 },
      );
      expect((await ledger.periodBounds(202402)).map(Number)).to.deep.equal(periodBounds(202402));
    });

    it("revert for a period that is not yyyymm from 200001 to 239912", async function () {
      const { ledger } = await loadFixture(deployLedger);
      for (const period of [0, 199912, 202400, 202413, 240001, 20261]) {
        await expect(ledger.periodBounds(period)).to.be.revertedWithCustomError(ledger, "UsageLedgerInvalidPeriod").withArgs(period);
        await expect(ledger.submissionDeadline(period)).to.be.revertedWithCustomError(ledger, "UsageLedgerInvalidPeriod").withArgs(period);
      }
    });
  });

  describe("hashBatch / batchDigest / leafOf: the TypeScript library agrees", function () {
    const header = fc.record({
      visited: fc.uint8Array({ minLength: 3, maxLength: 3 }).map((b) => hexlify(b) as Hex),
      home: fc.uint8Array({ minLength: 3, maxLength: 3 }).map((b) => hexlify(b) as Hex),
      period: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      merkleRoot: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b) as Hex),
      treeDepth: fc.integer({ min: 0, max: 255 }),
      payloadHash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b) as Hex),
      totalsCommitment: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b) as Hex),
    });

    it("gives the same batch id and digest for any header, and the same type string", async function () {
      const { ledger, domain } = await loadFixture(deployLedger);
      await fc.assert(
        fc.asyncProperty(header, async (h) => {
          expect(await ledger.hashBatch(toContractBatch(h))).to.equal(batchId(h));
          expect(await ledger.batchDigest(toContractBatch(h))).to.equal(batchDigest(domain, h));
        }),
        { numRuns: 40 },
      );
      expect(new TypedDataEncoder(USAGE_BATCH_TYPES).encodeType("UsageBatch")).to.equal(
        "UsageBatch(bytes3 visited,bytes3 home,uint32 period,bytes32 merkleRoot,uint8 treeDepth,bytes32 payloadHash,bytes32 totalsCommitment)",
      );
    });

    it("gives the same leaf for random records and salts, keccak256(packed record || salt)", async function () {
      const { ledger } = await loadFixture(deployLedger);
      const hasher = await LeafHasher.create();
      for (const r of randomRecords(20, PLMN.DE, PLMN.BR, 3)) {
        const salt = randomBytes(32);
        const leaf = hasher.leafOf(r, salt);
        expect(await ledger.leafOf(r, salt)).to.equal(leaf);
        const packed = new Uint8Array(RECORD_BYTES);
        packRecord(r, packed);
        expect(keccak256(concat([packed, salt]))).to.equal(leaf);
      }
    });

    it("gives another leaf for the same record under another salt", async function () {
      const { ledger } = await loadFixture(deployLedger);
      const [r] = randomRecords(1, PLMN.DE, PLMN.BR, 4);
      const one = await ledger.leafOf(r, ZeroHash);
      expect(await ledger.leafOf(r, `0x${"00".repeat(31)}01`)).to.not.equal(one);
      expect(one).to.equal((await LeafHasher.create()).leafOf(r, new Uint8Array(32)));
    });

    it("verifies every TS proof of random trees of 1 to 70 leaves, and the ledger takes a dispute by it", async function () {
      const f = await loadFixture(deployLedger);
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 70 }), fc.nat(), async (count, pick) => {
          const leaves = randomBytes(count * 32);
          const tree = await merkleTree(leaves);
          const root = hexlify(tree[tree.length - 1]);
          expect(tree.length - 1).to.equal(treeDepth(count));
          for (let i = 0; i < count; i++) {
            expect(await f.proofs.processProof(merkleProof(tree, i), i, leafAt(leaves, i))).to.equal(root);
          }
          const batch = headerOf(f, ++n, { merkleRoot: root as Hex, treeDepth: treeDepth(count) });
          await submit(f, batch);
          const i = pick % count;
          await f.ledger.connect(f.de).disputeRecords(batchId(batch), [disputeOf({ leaves, tree }, i)]);
          expect(await f.ledger.disputedLeaf(batchId(batch), i)).to.equal(leafAt(leaves, i));
        }),
        { numRuns: 25 },
      );
    });
  });

  describe("submitBatch", function () {
    it("stores the header, fixes the window, counts the batch pending and emits it; the id is the TS batchId", async function () {
      const f = await loadFixture(deployLedger);
      const batch = headerOf(f, 1, { treeDepth: 17 });
      const id = batchId(batch);
      const tx = await submit(f, batch);
      const at = await blockTimeOf(tx);
      await expect(tx)
        .to.emit(f.ledger, "UsageBatchSubmitted")
        .withArgs(
          id,
          PLMN.BR,
          PLMN.DE,
          f.period,
          batch.merkleRoot,
          17,
          batch.payloadHash,
          batch.totalsCommitment,
          at + WINDOW,
          f.br.address,
        );
      const b = await f.ledger.getBatch(id);
      expect([b.visited, b.home, b.period, b.status, b.submittedAt, b.windowEnd, b.treeDepth, b.disputeCount]).to.deep.equal([
        PLMN.BR,
        PLMN.DE,
        BigInt(f.period),
        Status.Submitted,
        BigInt(at),
        BigInt(at + WINDOW),
        17n,
        0n,
      ]);
      expect([b.merkleRoot, b.totalsCommitment, b.disputeHash]).to.deep.equal([batch.merkleRoot, batch.totalsCommitment, ZeroHash]);
      const p = await f.ledger.getPeriod(PLMN.DE, PLMN.BR, f.period);
      expect([p.batchCount, p.pending, p.counted, p.rejected, p.lastSubmittedAt, p.closed]).to.deep.equal([
        1n,
        1n,
        0n,
        0n,
        BigInt(at),
        false,
      ]);
    });

    it("takes a header relayed by anyone: the signature is the authorization", async function () {
      const f = await loadFixture(deployLedger);
      const batch = headerOf(f);
      const tx = await submit(f, batch, f.br, f.outsider);
      const windowEnd = (await blockTimeOf(tx)) + WINDOW;
      await expect(tx)
        .to.emit(f.ledger, "UsageBatchSubmitted")
        .withArgs(
          batchId(batch),
          PLMN.BR,
          PLMN.DE,
          f.period,
          batch.merkleRoot,
          batch.treeDepth,
          batch.payloadHash,
          batch.totalsCommitment,
          windowEnd,
          f.br.address,
        );
    });

    it("takes a depth of 0 and of 24, from the period's first second to the second before its deadline", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, headerOf(f, 1, { treeDepth: 0 }));
      await submit(f, headerOf(f, 2, { treeDepth: 24 }));
      const next = monthOf(f.end);
      await time.setNextBlockTimestamp(next.start);
      await submit(f, headerOf(f, 4, { period: next.period }));
      await time.setNextBlockTimestamp(f.deadline - 1);
      await submit(f, headerOf(f, 3));
      expect((await f.ledger.getPeriod(PLMN.DE, PLMN.BR, f.period)).batchCount).to.equal(3n);
    });

    it("reverts for an invalid period", async function () {
      const f = await loadFixture(deployLedger);
      for (const period of [0, 202413, 199912]) {
        await expect(submit(f, headerOf(f, 1, { period })))
          .to.be.revertedWithCustomError(f.ledger, "UsageLedgerInvalidPeriod")
          .withArgs(period);
      }
    });

    it("reverts before the period starts and from its submission deadline on", async function () {
      const f = await loadFixture(deployLedger);
      const next = monthOf(f.end);
      await expect(submit(f, headerOf(f, 1, { period: next.period })))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerSubmissionClosed")
        .withArgs(next.period, next.start, next.end + SUBMISSION_GRACE);
      await time.setNextBlockTimestamp(f.deadline);
      await expect(submit(f, headerOf(f)))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerSubmissionClosed")
        .withArgs(f.period, f.start, f.deadline);
    });

    it("reverts for a zero root, payload hash or commitment, and a depth above 24", async function () {
      const f = await loadFixture(deployLedger);
      for (const bad of [
        { merkleRoot: ZeroHash },
        { payloadHash: ZeroHash },
        { totalsCommitment: ZeroHash },
        { treeDepth: 25 },
        { treeDepth: 255 },
      ]) {
        await expect(submit(f, headerOf(f, 1, bad as Partial<UsageBatchHeader>))).to.be.revertedWithCustomError(
          f.ledger,
          "UsageLedgerInvalidHeader",
        );
      }
    });

    it("reverts for a signature that is not 65 bytes, does not recover, or has a high s", async function () {
      const f = await loadFixture(deployLedger);
      const batch = headerOf(f);
      const signature = await signBatch(f.br, f.domain, batch);
      const send = (sig: string) => f.ledger.connect(f.br).submitBatch(toContractBatch(batch), sig);
      await expect(send(signature.slice(0, 130))).to.be.revertedWithCustomError(f.ledger, "UsageLedgerInvalidSignature");
      await expect(send(`${signature}00`)).to.be.revertedWithCustomError(f.ledger, "UsageLedgerInvalidSignature");
      await expect(send(`0x${"00".repeat(65)}`)).to.be.revertedWithCustomError(f.ledger, "UsageLedgerInvalidSignature");
      const sig = Signature.from(signature);
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const highS = (n - BigInt(sig.s)).toString(16).padStart(64, "0");
      const malleable = `${sig.r}${highS}${(sig.v === 27 ? 28 : 27).toString(16)}`;
      await expect(send(malleable)).to.be.revertedWithCustomError(f.ledger, "UsageLedgerInvalidSignature");
    });

    it("reverts when the signer is not an active carrier operator of the visited carrier", async function () {
      const f = await loadFixture(deployLedger);
      for (const signer of [f.outsider, f.us, f.de, f.maker]) {
        await expect(submit(f, headerOf(f), signer, f.br))
          .to.be.revertedWithCustomError(f.ledger, "UsageLedgerSignerNotVisited")
          .withArgs(signer.address, PLMN.BR);
      }
      await suspendBr(f);
      await expect(submit(f, headerOf(f), f.br, f.de))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerSignerNotVisited")
        .withArgs(f.br.address, PLMN.BR);
    });

    it("reverts for a signature made for another chain or another ledger", async function () {
      const f = await loadFixture(deployLedger);
      const batch = headerOf(f);
      for (const domain of [
        { ...f.domain, chainId: 1 },
        { ...f.domain, verifyingContract: f.outsider.address },
      ]) {
        const signature = await signBatch(f.br, domain, batch);
        const recovered = recoverAddress(batchDigest(f.domain, batch), signature);
        await expect(f.ledger.connect(f.br).submitBatch(toContractBatch(batch), signature))
          .to.be.revertedWithCustomError(f.ledger, "UsageLedgerSignerNotVisited")
          .withArgs(recovered, PLMN.BR);
      }
    });

    it("reverts without an agreement in force between the two carriers", async function () {
      const f = await loadFixture(deployLedger);
      await expect(submit(f, headerOf(f, 1, { home: PLMN.US })))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerNoAgreement")
        .withArgs(PLMN.US, PLMN.BR);
      await f.agreements.setAgreement(PLMN.DE, PLMN.BR, false, WINDOW);
      await expect(submit(f, headerOf(f)))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerNoAgreement")
        .withArgs(PLMN.DE, PLMN.BR);
    });

    it("reverts for a header already committed, whatever its status", async function () {
      const f = await loadFixture(deployLedger);
      const batch = headerOf(f);
      await submit(f, batch);
      await expect(submit(f, batch)).to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchExists").withArgs(batchId(batch));
      await f.ledger.connect(f.de).acceptBatches([batchId(batch)]);
      await expect(submit(f, batch)).to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchExists").withArgs(batchId(batch));
    });

    it("reverts for a closed period", async function () {
      const f = await loadFixture(deployLedger);
      await time.increaseTo(f.deadline);
      await f.ledger.closePeriod(PLMN.DE, PLMN.BR, f.period);
      await expect(submit(f, headerOf(f)))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerPeriodClosed")
        .withArgs(PLMN.DE, PLMN.BR, f.period);
    });

    it("reverts past 2,048 batches of one (home, visited, period), not for another period or pair", async function () {
      this.timeout(600_000);
      const f = await loadFixture(deployLedger);
      await submitMany(f, 2048);
      expect((await f.ledger.getPeriod(PLMN.DE, PLMN.BR, f.period)).batchCount).to.equal(2048n);
      await expect(submit(f, headerOf(f, 5000)))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerTooManyBatches")
        .withArgs(2048);
      await f.agreements.setAgreement(PLMN.US, PLMN.BR, true, WINDOW);
      await submit(f, headerOf(f, 5000, { home: PLMN.US }));
      const next = monthOf(f.end);
      await time.increaseTo(next.start);
      await submit(f, headerOf(f, 5000, { period: next.period }));
    });
  });

  describe("acceptBatches", function () {
    it("counts the batches in order: counted list, accumulator, pending and counted", async function () {
      const f = await loadFixture(deployLedger);
      const ids = [];
      for (const n of [1, 2, 3]) {
        await submit(f, headerOf(f, n));
        ids.push(batchId(headerOf(f, n)));
      }
      const tx = f.ledger.connect(f.de).acceptBatches([ids[2], ids[0]]);
      await expect(tx).to.emit(f.ledger, "UsageBatchAccepted").withArgs(ids[2], PLMN.DE);
      await expect(tx).to.emit(f.ledger, "UsageBatchAccepted").withArgs(ids[0], PLMN.DE);
      expect((await f.ledger.getBatch(ids[2])).status).to.equal(Status.Accepted);
      expect(await f.ledger.countedBatch(PLMN.DE, PLMN.BR, f.period, 0)).to.equal(ids[2]);
      expect(await f.ledger.countedBatch(PLMN.DE, PLMN.BR, f.period, 1)).to.equal(ids[0]);
      expect(await f.ledger.countedBatch(PLMN.DE, PLMN.BR, f.period, 2)).to.equal(ZeroHash);
      const p = await f.ledger.getPeriod(PLMN.DE, PLMN.BR, f.period);
      expect([p.batchCount, p.pending, p.counted, p.rejected]).to.deep.equal([3n, 1n, 2n, 0n]);
      const first = keccak256(
        coder.encode(
          ["bytes32", "bytes32", "bytes32", "uint32", "bytes32"],
          [ZeroHash, ids[2], headerOf(f, 3).totalsCommitment, 0, ZeroHash],
        ),
      );
      expect(p.accumulator).to.equal(
        keccak256(
          coder.encode(
            ["bytes32", "bytes32", "bytes32", "uint32", "bytes32"],
            [first, ids[0], headerOf(f, 1).totalsCommitment, 0, ZeroHash],
          ),
        ),
      );
      expect(p.accumulator).to.equal(await accumulatorOf(f));
    });

    it("accepts after the window too, and from a second operator of the home carrier", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, headerOf(f));
      await time.increase(WINDOW + DAY);
      await expect(f.ledger.connect(f.de2).acceptBatches([batchId(headerOf(f))])).to.emit(f.ledger, "UsageBatchAccepted");
    });

    it("reverts for more than 256 ids", async function () {
      const f = await loadFixture(deployLedger);
      await expect(f.ledger.connect(f.de).acceptBatches(Array(257).fill(ZeroHash)))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerTooMany")
        .withArgs(257, 256);
    });

    it("reverts for an unknown batch, a batch of another home, and one already decided (all or nothing)", async function () {
      const f = await loadFixture(deployLedger);
      const [a, b] = [headerOf(f, 1), headerOf(f, 2)];
      await submit(f, a);
      await submit(f, b);
      const [ia, ib] = [batchId(a), batchId(b)];
      await expect(f.ledger.connect(f.de).acceptBatches([ia, word(9)]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerUnknownBatch")
        .withArgs(word(9));
      for (const other of [f.us, f.br]) {
        await expect(f.ledger.connect(other).acceptBatches([ia]))
          .to.be.revertedWithCustomError(f.ledger, "UsageLedgerNotHome")
          .withArgs(other.address, PLMN.DE);
      }
      await f.ledger.connect(f.de).acceptBatches([ia]);
      await f.ledger.connect(f.de).rejectBatches([ib], 3);
      await expect(f.ledger.connect(f.de).acceptBatches([ia]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchNotOpen")
        .withArgs(ia, Status.Accepted);
      await expect(f.ledger.connect(f.de).acceptBatches([ib]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchNotOpen")
        .withArgs(ib, Status.Rejected);
      expect((await f.ledger.getPeriod(PLMN.DE, PLMN.BR, f.period)).counted).to.equal(1n);
    });

    it("is refused to accounts that are not carrier operators", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, headerOf(f));
      await expectCarrierOperatorsOnly(f, (from) => f.ledger.connect(from).acceptBatches([batchId(headerOf(f))]));
    });
  });

  describe("rejectBatches", function () {
    it("rejects within the window: nothing counted, rejected and pending updated, the reason logged", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, headerOf(f, 1));
      await submit(f, headerOf(f, 2));
      const ids = [batchId(headerOf(f, 1)), batchId(headerOf(f, 2))];
      const tx = f.ledger.connect(f.de).rejectBatches(ids, 7);
      await expect(tx).to.emit(f.ledger, "UsageBatchRejected").withArgs(ids[0], PLMN.DE, 7);
      await expect(tx).to.emit(f.ledger, "UsageBatchRejected").withArgs(ids[1], PLMN.DE, 7);
      expect((await f.ledger.getBatch(ids[1])).status).to.equal(Status.Rejected);
      const p = await f.ledger.getPeriod(PLMN.DE, PLMN.BR, f.period);
      expect([p.batchCount, p.pending, p.counted, p.rejected, p.accumulator]).to.deep.equal([2n, 0n, 0n, 2n, ZeroHash]);
    });

    it("reverts from the window's end on", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, headerOf(f));
      const id = batchId(headerOf(f));
      const { windowEnd } = await f.ledger.getBatch(id);
      await time.setNextBlockTimestamp(windowEnd);
      await expect(f.ledger.connect(f.de).rejectBatches([id], 1))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerDisputeWindowOver")
        .withArgs(id, windowEnd);
    });

    it("reverts for more than 256 ids, an unknown batch, another home, a decided batch", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, headerOf(f));
      const id = batchId(headerOf(f));
      await expect(f.ledger.connect(f.de).rejectBatches(Array(257).fill(id), 1))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerTooMany")
        .withArgs(257, 256);
      await expect(f.ledger.connect(f.de).rejectBatches([word(9)], 1))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerUnknownBatch")
        .withArgs(word(9));
      await expect(f.ledger.connect(f.br).rejectBatches([id], 1))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerNotHome")
        .withArgs(f.br.address, PLMN.DE);
      await expect(f.ledger.connect(f.de).rejectBatches([id, id], 1))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchNotOpen")
        .withArgs(id, Status.Rejected);
    });

    it("is refused to accounts that are not carrier operators", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, headerOf(f));
      await expectCarrierOperatorsOnly(f, (from) => f.ledger.connect(from).rejectBatches([batchId(headerOf(f))], 1));
    });

    it("F5: is still open to a suspended home within the window, as disputes and accepts are", async function () {
      const rb = await loadFixture(withRecordBatch);
      for (const n of [1, 2]) await submit(rb, headerOf(rb, n));
      await rb.carriers.connect(rb.br).proposeStatusChange(SUSPEND, PLMN.DE);
      await rb.carriers.connect(rb.us).approve(await rb.carriers.proposalCount());
      expect(await rb.carriers.isActive(PLMN.DE)).to.equal(false);
      await expect(rb.ledger.connect(rb.de).rejectBatches([batchId(headerOf(rb, 1))], 1)).to.emit(rb.ledger, "UsageBatchRejected");
      await expect(rb.ledger.connect(rb.de2).acceptBatches([batchId(headerOf(rb, 2))])).to.emit(rb.ledger, "UsageBatchAccepted");
      await expect(rb.ledger.connect(rb.de).disputeRecords(rb.id, [disputeOf(rb, 3)])).to.emit(rb.ledger, "UsageRecordDisputed");
    });
  });

  describe("expireBatches", function () {
    it("lets anyone expire batches from their window's end on; they count as accepted", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, headerOf(f, 1));
      await submit(f, headerOf(f, 2));
      const ids = [batchId(headerOf(f, 1)), batchId(headerOf(f, 2))];
      await time.setNextBlockTimestamp((await f.ledger.getBatch(ids[1])).windowEnd);
      const tx = f.ledger.connect(f.outsider).expireBatches(ids);
      await expect(tx).to.emit(f.ledger, "UsageBatchExpired").withArgs(ids[0], PLMN.DE);
      await expect(tx).to.emit(f.ledger, "UsageBatchExpired").withArgs(ids[1], PLMN.DE);
      expect((await f.ledger.getBatch(ids[0])).status).to.equal(Status.Expired);
      const p = await f.ledger.getPeriod(PLMN.DE, PLMN.BR, f.period);
      expect([p.pending, p.counted]).to.deep.equal([0n, 2n]);
      expect(await f.ledger.countedBatch(PLMN.DE, PLMN.BR, f.period, 1)).to.equal(ids[1]);
      expect(p.accumulator)
        .to.equal(await accumulatorOf(f))
        .and.to.not.equal(ZeroHash);
    });

    it("reverts before the window's end, for an unknown or decided batch, and for more than 256 ids", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, headerOf(f, 1));
      await submit(f, headerOf(f, 2));
      const [a, b] = [batchId(headerOf(f, 1)), batchId(headerOf(f, 2))];
      const { windowEnd } = await f.ledger.getBatch(a);
      await time.setNextBlockTimestamp(windowEnd - 1n);
      await expect(f.ledger.expireBatches([a]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerDisputeWindowOpen")
        .withArgs(a, windowEnd);
      await f.ledger.connect(f.de).acceptBatches([b]);
      await time.increase(WINDOW);
      await expect(f.ledger.expireBatches([a, b]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchNotOpen")
        .withArgs(b, Status.Accepted);
      await expect(f.ledger.expireBatches([word(9)]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerUnknownBatch")
        .withArgs(word(9));
      await expect(f.ledger.expireBatches(Array(257).fill(a)))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerTooMany")
        .withArgs(257, 256);
      await f.ledger.expireBatches([a]);
      await expect(f.ledger.expireBatches([a]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchNotOpen")
        .withArgs(a, Status.Expired);
    });
  });

  describe("disputeRecords", function () {
    it("records disputes by position: leaf, index list, count, chain; the accumulator takes them in", async function () {
      const rb = await loadFixture(withRecordBatch);
      const tx = rb.ledger.connect(rb.de).disputeRecords(rb.id, [disputeOf(rb, 700, 2), disputeOf(rb, 3, 4)]);
      await expect(tx).to.emit(rb.ledger, "UsageRecordDisputed").withArgs(rb.id, 700, leafAt(rb.leaves, 700), 2);
      await expect(tx).to.emit(rb.ledger, "UsageRecordDisputed").withArgs(rb.id, 3, leafAt(rb.leaves, 3), 4);
      await rb.ledger.connect(rb.de).disputeRecords(rb.id, [disputeOf(rb, 999)]);
      expect(await rb.ledger.disputedIndexes(rb.id)).to.deep.equal([700n, 3n, 999n]);
      expect(await rb.ledger.disputedLeaf(rb.id, 999)).to.equal(leafAt(rb.leaves, 999));
      expect(await rb.ledger.disputedLeaf(rb.id, 998)).to.equal(ZeroHash);
      const b = await rb.ledger.getBatch(rb.id);
      expect(b.disputeCount).to.equal(3n);
      expect(b.disputeHash).to.equal(await disputeHashOf(rb.ledger, rb.id));
      await rb.ledger.connect(rb.de).acceptBatches([rb.id]);
      expect((await rb.ledger.getPeriod(PLMN.DE, PLMN.BR, rb.period)).accumulator).to.equal(await accumulatorOf(rb));
    });

    it("disputes two identical leaves at different indexes separately, each once", async function () {
      const rb = await loadFixture(withRecordBatch);
      expect(leafAt(rb.leaves, 5)).to.equal(leafAt(rb.leaves, 9));
      await rb.ledger.connect(rb.de).disputeRecords(rb.id, [disputeOf(rb, 5)]);
      await rb.ledger.connect(rb.de).disputeRecords(rb.id, [disputeOf(rb, 9)]);
      expect(await rb.ledger.disputedIndexes(rb.id)).to.deep.equal([5n, 9n]);
      await expect(rb.ledger.connect(rb.de).disputeRecords(rb.id, [disputeOf(rb, 9)]))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerRecordAlreadyDisputed")
        .withArgs(rb.id, 9);
      await expect(rb.ledger.connect(rb.de).disputeRecords(rb.id, [disputeOf(rb, 20), disputeOf(rb, 20)]))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerRecordAlreadyDisputed")
        .withArgs(rb.id, 20);
    });

    it("reverts for a leaf not at its index: tampered, another index, a wrong proof length, beyond 2^depth, a zero padding leaf", async function () {
      const rb = await loadFixture(withRecordBatch);
      const notIn = (d: { leafIndex: number; leaf: string; proof: string[]; reason: number }) =>
        expect(rb.ledger.connect(rb.de).disputeRecords(rb.id, [d]))
          .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerRecordNotInBatch")
          .withArgs(rb.id, d.leafIndex, d.leaf);
      const d = disputeOf(rb, 17);
      const hasher = await LeafHasher.create();
      await notIn({ ...d, leaf: hasher.leafOf({ ...rb.records[17], bytesUp: rb.records[17].bytesUp + 1 }, BATCH_SALT) });
      await notIn({ ...d, leaf: hasher.leafOf(rb.records[17], new Uint8Array(32)) });
      await notIn({ ...d, leafIndex: 16 });
      await notIn({ ...d, leafIndex: 17 + 1024 });
      await notIn({ ...d, proof: d.proof.slice(0, -1) });
      await notIn({ ...d, proof: [...d.proof, ZeroHash] });
      // Position 1000 is padding: a zero leaf there has a valid path, but no record.
      const padded = await merkleTree(Buffer.concat([rb.leaves, Buffer.alloc(32)]));
      const padding = { leafIndex: 1000, leaf: ZeroHash, proof: merkleProof(padded, 1000), reason: 1 };
      expect(await rb.proofs.processProof(padding.proof, 1000, ZeroHash)).to.equal(rb.batch.merkleRoot);
      await notIn(padding);
    });

    it("reverts for more than 256 disputes, from the window's end on, for an unknown, decided or foreign batch", async function () {
      const rb = await loadFixture(withRecordBatch);
      const many = Array.from({ length: 257 }, (_, i) => disputeOf(rb, i));
      await expect(rb.ledger.connect(rb.de).disputeRecords(rb.id, many))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerTooMany")
        .withArgs(257, 256);
      await expect(rb.ledger.connect(rb.de).disputeRecords(word(9), []))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerUnknownBatch")
        .withArgs(word(9));
      await expect(rb.ledger.connect(rb.us).disputeRecords(rb.id, [disputeOf(rb, 1)]))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerNotHome")
        .withArgs(rb.us.address, PLMN.DE);
      await time.setNextBlockTimestamp(rb.windowEnd);
      await expect(rb.ledger.connect(rb.de).disputeRecords(rb.id, [disputeOf(rb, 1)]))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerDisputeWindowOver")
        .withArgs(rb.id, rb.windowEnd);
      await rb.ledger.expireBatches([rb.id]);
      await expect(rb.ledger.connect(rb.de).disputeRecords(rb.id, [disputeOf(rb, 1)]))
        .to.be.revertedWithCustomError(rb.ledger, "UsageLedgerBatchNotOpen")
        .withArgs(rb.id, Status.Expired);
    });

    it("takes 256 disputes in one transaction under the EIP-7825 cap", async function () {
      const rb = await loadFixture(withRecordBatch);
      const gas = await gasOf(
        rb.ledger.connect(rb.de).disputeRecords(
          rb.id,
          Array.from({ length: 256 }, (_, i) => disputeOf(rb, i * 3)),
        ),
      );
      expect(gas).to.be.below(TX_GAS_CAP);
      expect(await rb.ledger.disputedIndexes(rb.id)).to.have.length(256);
    });

    it("is refused to accounts that are not carrier operators", async function () {
      const rb = await loadFixture(withRecordBatch);
      await expectCarrierOperatorsOnly(rb, (from) => rb.ledger.connect(from).disputeRecords(rb.id, [disputeOf(rb, 1)]));
    });
  });

  describe("closePeriod", function () {
    it("reverts before the submission deadline and while a batch is pending", async function () {
      const f = await loadFixture(deployLedger);
      for (const n of [1, 2, 3]) await submit(f, headerOf(f, n));
      await f.ledger.connect(f.de).rejectBatches([batchId(headerOf(f, 1))], 1);
      await time.setNextBlockTimestamp(f.deadline - 1);
      await expect(f.ledger.closePeriod(PLMN.DE, PLMN.BR, f.period))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerPeriodNotOver")
        .withArgs(f.period, f.deadline);
      await expect(f.ledger.closePeriod(PLMN.DE, PLMN.BR, f.period))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchesPending")
        .withArgs(2);
      await f.ledger.connect(f.de).acceptBatches([batchId(headerOf(f, 2))]);
      await expect(f.ledger.closePeriod(PLMN.DE, PLMN.BR, f.period))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchesPending")
        .withArgs(1);
      await expect(f.ledger.closePeriod(PLMN.DE, PLMN.BR, 202413))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerInvalidPeriod")
        .withArgs(202413);
    });

    it("closes once, by anyone, with the accumulator; again it returns the accumulator without an event", async function () {
      const f = await loadFixture(deployLedger);
      for (const n of [1, 2, 3]) await submit(f, headerOf(f, n));
      await f.ledger.connect(f.de).acceptBatches([batchId(headerOf(f, 2))]);
      await f.ledger.connect(f.de).rejectBatches([batchId(headerOf(f, 3))], 1);
      await time.increaseTo(f.deadline);
      await f.ledger.expireBatches([batchId(headerOf(f, 1))]);
      const accumulator = await accumulatorOf(f);
      expect(await f.ledger.connect(f.outsider).closePeriod.staticCall(PLMN.DE, PLMN.BR, f.period)).to.equal(accumulator);
      await expect(f.ledger.connect(f.outsider).closePeriod(PLMN.DE, PLMN.BR, f.period))
        .to.emit(f.ledger, "PeriodClosed")
        .withArgs(PLMN.DE, PLMN.BR, f.period, accumulator, 2);
      const p = await f.ledger.getPeriod(PLMN.DE, PLMN.BR, f.period);
      expect([p.closed, p.closedAt, p.counted, p.rejected, p.pending]).to.deep.equal([true, BigInt(await time.latest()), 2n, 1n, 0n]);
      await expect(f.ledger.closePeriod(PLMN.DE, PLMN.BR, f.period)).to.not.emit(f.ledger, "PeriodClosed");
      expect(await f.ledger.closePeriod.staticCall(PLMN.DE, PLMN.BR, f.period)).to.equal(accumulator);
      expect(await f.ledger.getPeriod(PLMN.DE, PLMN.BR, f.period)).to.deep.equal(p);
    });

    it("closes a period without batches with a zero accumulator", async function () {
      const f = await loadFixture(deployLedger);
      await time.increaseTo(f.deadline);
      await expect(f.ledger.closePeriod(PLMN.DE, PLMN.BR, f.period))
        .to.emit(f.ledger, "PeriodClosed")
        .withArgs(PLMN.DE, PLMN.BR, f.period, ZeroHash, 0);
    });
  });

  describe("agreements changing after submission (THREATS F7)", function () {
    it("keeps a batch's window when an amendment shortens it afterwards; new batches get the new window", async function () {
      const f = await loadFixture(deployLedger);
      await submit(f, headerOf(f, 1));
      const id = batchId(headerOf(f, 1));
      const { windowEnd } = await f.ledger.getBatch(id);
      await f.agreements.setAgreement(PLMN.DE, PLMN.BR, true, DAY);
      await time.increase(3 * DAY);
      expect((await f.ledger.getBatch(id)).windowEnd).to.equal(windowEnd);
      await expect(f.ledger.expireBatches([id]))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerDisputeWindowOpen")
        .withArgs(id, windowEnd);
      await f.ledger.connect(f.de).rejectBatches([id], 1);
      await submit(f, headerOf(f, 2));
      expect((await f.ledger.getBatch(batchId(headerOf(f, 2)))).windowEnd).to.equal(BigInt((await time.latest()) + DAY));
    });

    it("decides, disputes, expires and closes after the agreement ended", async function () {
      const rb = await loadFixture(withRecordBatch);
      for (const n of [1, 2]) await submit(rb, headerOf(rb, n));
      await rb.agreements.setAgreement(PLMN.DE, PLMN.BR, false, 0);
      await expect(submit(rb, headerOf(rb, 3))).to.be.revertedWithCustomError(rb.ledger, "UsageLedgerNoAgreement");
      await rb.ledger.connect(rb.de).disputeRecords(rb.id, [disputeOf(rb, 1)]);
      await rb.ledger.connect(rb.de).acceptBatches([batchId(headerOf(rb, 1))]);
      await rb.ledger.connect(rb.de).rejectBatches([batchId(headerOf(rb, 2))], 1);
      await time.increaseTo(rb.deadline);
      await rb.ledger.expireBatches([rb.id]);
      await expect(rb.ledger.closePeriod(PLMN.DE, PLMN.BR, rb.period))
        .to.emit(rb.ledger, "PeriodClosed")
        .withArgs(PLMN.DE, PLMN.BR, rb.period, await accumulatorOf(rb), 2);
    });
  });

  describe("liveness: a spamming visited carrier cannot stop the close (THREATS F1)", function () {
    it("closes after 1,000 batches decided and expired in chunks; one more batch after the deadline is refused", async function () {
      this.timeout(600_000);
      const f = await loadFixture(with1000Pending);
      const { ids } = f;
      await f.ledger.connect(f.de).acceptBatches(ids.slice(0, 100));
      await f.ledger.connect(f.de).rejectBatches(ids.slice(100, 256), 9);
      await time.increaseTo(f.deadline);
      await expect(f.ledger.closePeriod(PLMN.DE, PLMN.BR, f.period))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerBatchesPending")
        .withArgs(744);
      await expect(submit(f, headerOf(f, 5000)))
        .to.be.revertedWithCustomError(f.ledger, "UsageLedgerSubmissionClosed")
        .withArgs(f.period, f.start, f.deadline);
      for (const chunk of chunks(ids.slice(256), 256))
        expect(await gasOf(f.ledger.connect(f.outsider).expireBatches(chunk))).to.be.below(TX_GAS_CAP);
      await expect(submit(f, headerOf(f, 5001))).to.be.revertedWithCustomError(f.ledger, "UsageLedgerSubmissionClosed");
      const accumulator = await accumulatorOf(f);
      await expect(f.ledger.closePeriod(PLMN.DE, PLMN.BR, f.period))
        .to.emit(f.ledger, "PeriodClosed")
        .withArgs(PLMN.DE, PLMN.BR, f.period, accumulator, 844);
      const p = await f.ledger.getPeriod(PLMN.DE, PLMN.BR, f.period);
      expect([p.batchCount, p.pending, p.counted, p.rejected]).to.deep.equal([1000n, 0n, 844n, 156n]);
      expect(await f.ledger.countedBatch(PLMN.DE, PLMN.BR, f.period, 0)).to.equal(ids[0]);
      expect(await f.ledger.countedBatch(PLMN.DE, PLMN.BR, f.period, 843)).to.equal(ids[999]);
    });
  });

  describe("gas", function () {
    it("prints gas: submitBatch, accept 1 and 256, expire, a dispute at depth 17, close with 1 vs 1,000 batches", async function () {
      this.timeout(600_000);
      const figures: Record<string, bigint> = {};
      {
        const f = await loadFixture(deployLedger);
        figures.submitBatch = await gasOf(submit(f, headerOf(f, 1)));
        await submit(f, headerOf(f, 2));
        figures["acceptBatches, 1 batch"] = await gasOf(f.ledger.connect(f.de).acceptBatches([batchId(headerOf(f, 1))]));
        await time.increase(WINDOW);
        figures["expireBatches, 1 batch"] = await gasOf(f.ledger.expireBatches([batchId(headerOf(f, 2))]));
        await time.increaseTo(f.deadline);
        figures["closePeriod, 1 batch"] = await gasOf(f.ledger.closePeriod(PLMN.DE, PLMN.BR, f.period));
      }
      {
        const f = await loadFixture(with256Pending);
        figures["acceptBatches, 256 batches"] = await gasOf(f.ledger.connect(f.de).acceptBatches(f.ids));
      }
      {
        const f = await loadFixture(with256Pending);
        await time.increase(WINDOW);
        figures["expireBatches, 256 batches"] = await gasOf(f.ledger.expireBatches(f.ids));
      }
      {
        const f = await loadFixture(deployLedger);
        const leaves = randomBytes(100_000 * 32);
        const tree = await merkleTree(leaves);
        const batch = headerOf(f, 1, { merkleRoot: hexlify(tree[tree.length - 1]) as Hex, treeDepth: treeDepth(100_000) });
        expect(batch.treeDepth).to.equal(17);
        await submit(f, batch);
        figures["disputeRecords, 1 record at depth 17 (100k records)"] = await gasOf(
          f.ledger.connect(f.de).disputeRecords(batchId(batch), [disputeOf({ leaves, tree }, 54_321)]),
        );
      }
      {
        const f = await loadFixture(with1000Pending);
        for (const chunk of chunks(f.ids, 256)) await f.ledger.connect(f.de).acceptBatches(chunk);
        await time.increaseTo(f.deadline);
        figures["closePeriod, 1,000 batches"] = await gasOf(f.ledger.closePeriod(PLMN.DE, PLMN.BR, f.period));
      }
      for (const [what, gas] of Object.entries(figures)) {
        console.log(`      ${what}: ${gas} gas`);
        expect(gas, what).to.be.below(TX_GAS_CAP);
      }
      const [one, thousand] = [figures["closePeriod, 1 batch"], figures["closePeriod, 1,000 batches"]];
      const diff = one > thousand ? one - thousand : thousand - one;
      expect(diff * 100n, "close with 1 vs 1,000 batches within 5%").to.be.at.most(one * 5n);
    });
  });
});
