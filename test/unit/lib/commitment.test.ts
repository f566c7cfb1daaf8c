import hre from "hardhat";
import { expect } from "chai";
import fc from "fast-check";
import { AbiCoder, keccak256, toUtf8Bytes } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  BATCH_TOTALS_TAG,
  batchTotalsCommitment,
  CLASS_TOTALS_TUPLE_TYPE,
  PERIOD_TOTALS_TAG,
  periodTotalsCommitment,
  randomSalt,
  TERMS_TAG,
  TERMS_TUPLE_TYPE,
  termsCommitment,
} from "../../../lib/crypto/commitment";
import { InputError } from "../../../lib/core/errors";
import type { Commitment__Harness } from "../../../typechain-types";
import { anyTerms, anyTotals, bytes32, totalsOf, validTerms } from "../../helpers/confidential";
import type { Hex } from "../../../lib/util/hex";

const abi = AbiCoder.defaultAbiCoder();
/** Random cases per property: each is one eth_call to the harness. */
const RUNS = 100;

async function deployHarness(): Promise<Commitment__Harness> {
  return (await hre.ethers.deployContract("Commitment__Harness")) as unknown as Commitment__Harness;
}

describe("lib/crypto/commitment", function () {
  describe("tags", function () {
    it("are CommitmentLib's", async function () {
      const harness = await loadFixture(deployHarness);
      const [terms, batch, period] = await harness.tags();
      expect([TERMS_TAG, BATCH_TOTALS_TAG, PERIOD_TOTALS_TAG]).to.deep.equal([terms, batch, period]);
      expect(TERMS_TAG).to.equal(keccak256(toUtf8Bytes("RoamLedger.TermsCommitment.v1")));
    });
  });

  describe("randomSalt", function () {
    it("is 32 fresh bytes", function () {
      const salts = new Set(Array.from({ length: 100 }, randomSalt));
      expect(salts.size).to.equal(100);
      for (const s of salts) expect(s).to.match(/^0x[0-9a-f]{64}$/);
    });
  });

  describe("termsCommitment", function () {
    it("equals CommitmentLib.terms for random terms over every field's range", async function () {
      const harness = await loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(anyTerms, bytes32, async (terms, salt) => {
          expect(termsCommitment(terms, salt)).to.equal(await harness.terms(terms, salt));
        }),
        { numRuns: RUNS },
      );
    });

    it("is keccak256(abi.encode(TAG, salt, keccak256(abi.encode(terms)))) and changes with every field and the salt", function () {
      const terms = validTerms();
      const salt = randomSalt();
      const inner = keccak256(abi.encode([TERMS_TUPLE_TYPE], [terms]));
      expect(termsCommitment(terms, salt)).to.equal(keccak256(abi.encode(["bytes32", "bytes32", "bytes32"], [TERMS_TAG, salt, inner])));
      const base = termsCommitment(terms, salt);
      expect(termsCommitment(terms, randomSalt())).to.not.equal(base);
      expect(termsCommitment({ ...terms, disputeWindow: terms.disputeWindow + 1 }, salt)).to.not.equal(base);
      const plans = terms.ratePlans.map((p, i) => (i === 1 ? { ...p, perSms: p.perSms + 1n } : p));
      expect(termsCommitment({ ...terms, ratePlans: plans }, salt)).to.not.equal(base);
    });

    it("refuses a salt that is not 32 bytes of hex", function () {
      expect(() => termsCommitment(validTerms(), "0x1234" as Hex)).to.throw(InputError, /salt must be 32 bytes/);
    });
  });

  describe("batchTotalsCommitment", function () {
    it("equals CommitmentLib.batchTotals for random record counts and totals", async function () {
      const harness = await loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: 2 ** 32 - 1 }), anyTotals, bytes32, async (recordCount, totals, salt) => {
          expect(batchTotalsCommitment({ recordCount, totals, salt })).to.equal(await harness.batchTotals(recordCount, totals, salt));
        }),
        { numRuns: RUNS },
      );
    });

    it("binds the record count, the totals and the tag", function () {
      const totals = [totalsOf(1, 3, 1_000n)];
      const salt = randomSalt();
      const c = batchTotalsCommitment({ recordCount: 4, totals, salt });
      expect(batchTotalsCommitment({ recordCount: 5, totals, salt })).to.not.equal(c);
      expect(batchTotalsCommitment({ recordCount: 4, totals: [totalsOf(1, 3, 1_001n)], salt })).to.not.equal(c);
      const inner = keccak256(abi.encode(["uint32", `${CLASS_TOTALS_TUPLE_TYPE}[]`], [4, totals]));
      expect(c).to.equal(keccak256(abi.encode(["bytes32", "bytes32", "bytes32"], [BATCH_TOTALS_TAG, salt, inner])));
    });
  });

  describe("gas", function () {
    it("stays far under a block's 16,777,216 gas for the largest terms (64 plans of 8 tiers) and 256 classes", async function () {
      const harness = await loadFixture(deployHarness);
      const salt = randomSalt();
      const classes = Array.from({ length: 256 }, (_, c) => totalsOf(c, 1_000 + c, 10n ** 12n + BigInt(c)));
      const gas = {
        terms: await harness.terms.estimateGas(validTerms(64, 8), salt),
        batchTotals: await harness.batchTotals.estimateGas(100_000, classes, salt),
        periodTotals: await harness.periodTotals.estimateGas(classes, salt),
      };
      console.log(
        `      CommitmentLib gas (call with calldata): terms ${gas.terms}, batchTotals ${gas.batchTotals}, periodTotals ${gas.periodTotals}`,
      );
      for (const used of Object.values(gas)) expect(used).to.be.below(16_777_216n);
    });
  });

  describe("periodTotalsCommitment", function () {
    it("equals CommitmentLib.periodTotals for random totals", async function () {
      const harness = await loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(anyTotals, bytes32, async (totals, salt) => {
          expect(periodTotalsCommitment(totals, salt)).to.equal(await harness.periodTotals(totals, salt));
        }),
        { numRuns: RUNS },
      );
    });

    it("differs from the batch commitment of the same totals (tags)", function () {
      const totals = [totalsOf(0, 2, 5n), totalsOf(3, 1, 0n)];
      const salt = randomSalt();
      const inner = keccak256(abi.encode([`${CLASS_TOTALS_TUPLE_TYPE}[]`], [totals]));
      expect(periodTotalsCommitment(totals, salt)).to.equal(
        keccak256(abi.encode(["bytes32", "bytes32", "bytes32"], [PERIOD_TOTALS_TAG, salt, inner])),
      );
      expect(periodTotalsCommitment(totals, salt)).to.not.equal(batchTotalsCommitment({ recordCount: 3, totals, salt }));
    });
  });
});
