import hre from "hardhat";
import { expect } from "chai";
import fc from "fast-check";
import { AbiCoder, keccak256, ZeroHash } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  accumulatorOf,
  type CountedBatch,
  disputeHashOf,
  nextAccumulator,
  nextDisputeHash,
  ZERO_HASH,
} from "../../../lib/usage/accumulator";
import type { Accumulator__Harness } from "../../../typechain-types";
import { bytes32 } from "../../helpers/confidential";
import type { Hex } from "../../../lib/util/hex";

const RUNS = 100;
const uint32 = fc.nat({ max: 2 ** 32 - 1 });
const counted: fc.Arbitrary<CountedBatch> = fc.record({
  batchId: bytes32,
  totalsCommitment: bytes32,
  disputeCount: uint32,
  disputeHash: bytes32,
});

async function deployHarness(): Promise<Accumulator__Harness> {
  return (await hre.ethers.deployContract("Accumulator__Harness")) as unknown as Accumulator__Harness;
}

describe("lib/usage/accumulator", function () {
  describe("nextDisputeHash", function () {
    it("equals the contract's keccak256(abi.encode(prev, uint32 leafIndex, leaf)) on random words", async function () {
      const harness = await loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(bytes32, uint32, bytes32, async (prev, leafIndex, leaf) => {
          expect(nextDisputeHash(prev, leafIndex, leaf)).to.equal(await harness.nextDisputeHash(prev, leafIndex, leaf));
        }),
        { numRuns: RUNS },
      );
    });

    it("is the 96-byte encoding hashed, the index as a uint32 word", function () {
      const leaf = `0x${"11".repeat(32)}` as Hex;
      const encoded = `0x${"00".repeat(32)}${"00".repeat(28)}00000007${"11".repeat(32)}`;
      expect(nextDisputeHash(ZERO_HASH, 7, leaf)).to.equal(keccak256(encoded));
      expect(() => nextDisputeHash(ZERO_HASH, 2 ** 32, leaf)).to.throw();
    });
  });

  describe("disputeHashOf", function () {
    it("chains the disputes in order from zero, as the contract does", async function () {
      const harness = await loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.record({ leafIndex: uint32, leaf: bytes32 }), { maxLength: 12 }), async (disputes) => {
          const onChain = await harness.disputeHashOf(
            disputes.map((d) => d.leafIndex),
            disputes.map((d) => d.leaf),
          );
          expect(disputeHashOf(disputes)).to.equal(onChain);
        }),
        { numRuns: 30 },
      );
      expect(disputeHashOf([])).to.equal(ZeroHash);
    });

    it("depends on the order of the disputes", function () {
      const a = { leafIndex: 1, leaf: `0x${"aa".repeat(32)}` as Hex };
      const b = { leafIndex: 2, leaf: `0x${"bb".repeat(32)}` as Hex };
      expect(disputeHashOf([a, b])).to.not.equal(disputeHashOf([b, a]));
    });
  });

  describe("nextAccumulator and accumulatorOf", function () {
    it("equal the contract's keccak256(abi.encode(prev, batchId, totalsCommitment, uint32 disputeCount, disputeHash))", async function () {
      const harness = await loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(bytes32, counted, async (prev, b) => {
          const onChain = await harness.nextAccumulator(prev, b.batchId, b.totalsCommitment, b.disputeCount, b.disputeHash);
          expect(nextAccumulator(prev, b)).to.equal(onChain);
        }),
        { numRuns: RUNS },
      );
    });

    it("accumulate the counted batches in order, from zero", async function () {
      const harness = await loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(fc.array(counted, { maxLength: 6 }), async (batches) => {
          let onChain: string = ZeroHash;
          for (const b of batches) {
            onChain = await harness.nextAccumulator(onChain, b.batchId, b.totalsCommitment, b.disputeCount, b.disputeHash);
          }
          expect(accumulatorOf(batches)).to.equal(onChain);
        }),
        { numRuns: 20 },
      );
      expect(accumulatorOf([])).to.equal(ZeroHash);
    });

    it("changes with every field of a counted batch and with the order", function () {
      const word = (b: string) => `0x${b.repeat(32)}` as Hex;
      const one: CountedBatch = { batchId: word("01"), totalsCommitment: word("02"), disputeCount: 1, disputeHash: word("03") };
      const two: CountedBatch = { batchId: word("04"), totalsCommitment: word("05"), disputeCount: 0, disputeHash: ZERO_HASH };
      const base = accumulatorOf([one, two]);
      expect(base).to.equal(nextAccumulator(nextAccumulator(ZERO_HASH, one), two));
      expect(accumulatorOf([two, one])).to.not.equal(base);
      for (const change of [{ batchId: word("09") }, { totalsCommitment: word("09") }, { disputeCount: 2 }, { disputeHash: word("09") }]) {
        expect(accumulatorOf([{ ...one, ...change }, two]), JSON.stringify(change)).to.not.equal(base);
      }
      const encoded = AbiCoder.defaultAbiCoder().encode(
        ["bytes32", "bytes32", "bytes32", "uint32", "bytes32"],
        [ZERO_HASH, one.batchId, one.totalsCommitment, 1, one.disputeHash],
      );
      expect(accumulatorOf([one])).to.equal(keccak256(encoded));
    });
  });
});
