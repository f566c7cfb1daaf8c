/**
 * RatingAdjudicator (docs/zk.md): the governors trust one verifier per rating circuit by the registry's quorum,
 * recording the ceremony's transcript hash; `verify` routes a claim to the verifier of its agreement version's
 * circuit with the rating commitment of the payee's direction. The proofs here are a stand-in verifier's
 * (test/unit/zk/claim.test.ts plays real Groth16 proofs).
 */
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ZeroHash, keccak256, toUtf8Bytes, AbiCoder } from "ethers";
import type { Groth16Verifier__Mock, RatingAdjudicator } from "../../typechain-types";
import { deployConsortium, PLMN } from "../helpers/fixtures";

const word = (label: string) => keccak256(toUtf8Bytes(label));
const TRANSCRIPT = word("ceremony transcript");
const KEY_HASH = word("verification key");
const LO = word("rating commitment of BR (lo) as the visited network");
const HI = word("rating commitment of DE (hi) as the visited network");
const A: [bigint, bigint] = [1n, 2n];
const B: [[bigint, bigint], [bigint, bigint]] = [
  [3n, 4n],
  [5n, 6n],
];
const C: [bigint, bigint] = [7n, 8n];
const PROOF = AbiCoder.defaultAbiCoder().encode(["uint256[2]", "uint256[2][2]", "uint256[2]"], [A, B, C]);

async function deployed() {
  const c = await deployConsortium();
  const adjudicator = (await hre.ethers.getContractAt(
    "RatingAdjudicator",
    await c.escrow.claimAdjudicator(),
  )) as unknown as RatingAdjudicator;
  const verifier = (await hre.ethers.deployContract("Groth16Verifier__Mock", [KEY_HASH])) as unknown as Groth16Verifier__Mock;
  const other = (await hre.ethers.deployContract("Groth16Verifier__Mock", [word("another key")])) as unknown as Groth16Verifier__Mock;
  return { ...c, adjudicator, verifier, other, verifierAddress: await verifier.getAddress() };
}

/** DE proposes to BR a version rated by `circuit` with the rating commitments LO and HI; BR accepts it. */
async function agreeRated(c: Awaited<ReturnType<typeof deployed>>, circuit = 1) {
  const now = await time.latest();
  const commitment = word("terms commitment");
  const zk =
    circuit === 0 ? { ratingCommitmentLo: ZeroHash, ratingCommitmentHi: ZeroHash } : { ratingCommitmentLo: LO, ratingCommitmentHi: HI };
  const pub = {
    settlementToken: await c.token.getAddress(),
    validFrom: now,
    validUntil: now + 365 * 24 * 3600,
    disputeWindow: 3600,
    termsCommitment: commitment,
    pricedClassesLo: 2n,
    pricedClassesHi: 2n,
    ratingCircuit: circuit,
    ...zk,
  };
  await c.agreements.connect(c.de).propose(PLMN.BR, pub, "0x5ea1ed");
  const version = Number(await c.agreements.versionCount(PLMN.DE, PLMN.BR));
  await c.agreements.connect(c.br).accept(PLMN.DE, version, commitment);
  return version;
}

describe("RatingAdjudicator", function () {
  describe("the governors' vote on a verifier", function () {
    it("trusts a verifier at the registry's quorum (2 of 3), recording the transcript and key hashes", async function () {
      const c = await loadFixture(deployed);
      await expect(c.adjudicator.connect(c.de).proposeVerifier(1, c.verifierAddress, TRANSCRIPT))
        .to.emit(c.adjudicator, "VerifierProposed")
        .withArgs(1, c.verifierAddress, TRANSCRIPT, KEY_HASH, PLMN.DE)
        .and.to.not.emit(c.adjudicator, "VerifierTrusted");
      expect((await c.adjudicator.verifierOf(1)).verifier).to.equal(hre.ethers.ZeroAddress);
      await expect(c.adjudicator.connect(c.us).approveVerifier(1, c.verifierAddress, TRANSCRIPT))
        .to.emit(c.adjudicator, "VerifierTrusted")
        .withArgs(1, c.verifierAddress, TRANSCRIPT);
      const v = await c.adjudicator.verifierOf(1);
      expect([v.verifier, v.transcriptHash, v.verificationKeyHash]).to.deep.equal([c.verifierAddress, TRANSCRIPT, KEY_HASH]);
      expect(v.trustedAt).to.equal(BigInt(await time.latest()));
      expect(await c.adjudicator.approvals(1, c.verifierAddress, TRANSCRIPT, PLMN.US)).to.deep.equal([2n, true]);
    });

    it("a trusted verifier stays: new rules take a new circuit number", async function () {
      const c = await loadFixture(deployed);
      await c.adjudicator.connect(c.de).proposeVerifier(1, c.verifierAddress, TRANSCRIPT);
      await c.adjudicator.connect(c.us).approveVerifier(1, c.verifierAddress, TRANSCRIPT);
      const other = await c.other.getAddress();
      await expect(c.adjudicator.connect(c.br).proposeVerifier(1, other, TRANSCRIPT))
        .to.be.revertedWithCustomError(c.adjudicator, "RatingAdjudicatorAlreadyTrusted")
        .withArgs(1, c.verifierAddress);
      await expect(c.adjudicator.connect(c.br).proposeVerifier(2, other, word("second ceremony"))).to.emit(
        c.adjudicator,
        "VerifierProposed",
      );
    });

    it("one governor alone cannot trust a verifier, nor vote twice, nor move votes to another key or transcript", async function () {
      const c = await loadFixture(deployed);
      await c.adjudicator.connect(c.de).proposeVerifier(1, c.verifierAddress, TRANSCRIPT);
      await expect(c.adjudicator.connect(c.de2).approveVerifier(1, c.verifierAddress, TRANSCRIPT))
        .to.be.revertedWithCustomError(c.adjudicator, "RatingAdjudicatorAlreadyApproved")
        .withArgs(1, PLMN.DE);
      // Approving restates the proposal: a vote cannot be taken for a different key or transcript.
      const other = await c.other.getAddress();
      await expect(c.adjudicator.connect(c.us).approveVerifier(1, other, TRANSCRIPT))
        .to.be.revertedWithCustomError(c.adjudicator, "RatingAdjudicatorUnknownProposal")
        .withArgs(1, other, TRANSCRIPT);
      await expect(
        c.adjudicator.connect(c.us).approveVerifier(1, c.verifierAddress, word("forged transcript")),
      ).to.be.revertedWithCustomError(c.adjudicator, "RatingAdjudicatorUnknownProposal");
      // A competing proposal gathers its own votes; neither reaches quorum with one vote each.
      await c.adjudicator.connect(c.us).proposeVerifier(1, other, TRANSCRIPT);
      expect((await c.adjudicator.verifierOf(1)).verifier).to.equal(hre.ethers.ZeroAddress);
    });

    it("only an ADMIN operator of an active governor votes", async function () {
      const c = await loadFixture(deployed);
      await expect(c.adjudicator.connect(c.outsider).proposeVerifier(1, c.verifierAddress, TRANSCRIPT))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(c.outsider.address);
      await expect(c.adjudicator.connect(c.maker).proposeVerifier(1, c.verifierAddress, TRANSCRIPT)).to.be.revertedWithCustomError(
        c.carriers,
        "CarrierRegistryMissingRole",
      );
    });

    it("refuses circuit 0, a verifier that is not a contract, a zero transcript and a verifier without a key hash", async function () {
      const c = await loadFixture(deployed);
      await expect(c.adjudicator.connect(c.de).proposeVerifier(0, c.verifierAddress, TRANSCRIPT))
        .to.be.revertedWithCustomError(c.adjudicator, "RatingAdjudicatorInvalidCircuit")
        .withArgs(0);
      await expect(c.adjudicator.connect(c.de).proposeVerifier(1, c.outsider.address, TRANSCRIPT))
        .to.be.revertedWithCustomError(c.adjudicator, "RatingAdjudicatorInvalidVerifier")
        .withArgs(c.outsider.address, TRANSCRIPT);
      await expect(c.adjudicator.connect(c.de).proposeVerifier(1, c.verifierAddress, ZeroHash)).to.be.revertedWithCustomError(
        c.adjudicator,
        "RatingAdjudicatorInvalidVerifier",
      );
      const keyless = await hre.ethers.deployContract("Groth16Verifier__Mock", [ZeroHash]);
      await expect(c.adjudicator.connect(c.de).proposeVerifier(1, await keyless.getAddress(), TRANSCRIPT)).to.be.revertedWithCustomError(
        c.adjudicator,
        "RatingAdjudicatorInvalidVerifier",
      );
    });

    it("refuses dependencies that are not contracts", async function () {
      const c = await loadFixture(deployed);
      const f = await hre.ethers.getContractFactory("RatingAdjudicator");
      await expect(f.deploy(c.outsider.address, await c.agreements.getAddress()))
        .to.be.revertedWithCustomError(c.adjudicator, "RatingAdjudicatorInvalidDependency")
        .withArgs(c.outsider.address);
      await expect(f.deploy(await c.carriers.getAddress(), c.outsider.address)).to.be.revertedWithCustomError(
        c.adjudicator,
        "RatingAdjudicatorInvalidDependency",
      );
    });
  });

  describe("verify", function () {
    async function trusted() {
      const c = await loadFixture(deployed);
      await c.adjudicator.connect(c.de).proposeVerifier(1, c.verifierAddress, TRANSCRIPT);
      await c.adjudicator.connect(c.us).approveVerifier(1, c.verifierAddress, TRANSCRIPT);
      return c;
    }
    const TOTALS = word("totals commitment");

    it("checks the proof against the payee direction's rating commitment, the invoice's totals commitment and the net", async function () {
      const c = await trusted();
      const version = await agreeRated(c);
      // BR (0x27f450) is lo: as the payee it is rated by LO.
      await c.verifier.accept(A, B, C, [BigInt(LO), BigInt(TOTALS), 1_000n]);
      expect(await c.adjudicator.verify(PLMN.DE, PLMN.BR, version, TOTALS, 1_000n, PROOF)).to.equal(true);
      expect(await c.adjudicator.verify(PLMN.DE, PLMN.BR, version, TOTALS, 1_001n, PROOF)).to.equal(false);
      expect(await c.adjudicator.verify(PLMN.DE, PLMN.BR, version, word("other totals"), 1_000n, PROOF)).to.equal(false);
      // The other direction (DE bills BR) is rated by HI: the same proof does not carry over.
      expect(await c.adjudicator.verify(PLMN.BR, PLMN.DE, version, TOTALS, 1_000n, PROOF)).to.equal(false);
      await c.verifier.accept(A, B, C, [BigInt(HI), BigInt(TOTALS), 1_000n]);
      expect(await c.adjudicator.verify(PLMN.BR, PLMN.DE, version, TOTALS, 1_000n, PROOF)).to.equal(true);
    });

    it("is false for a version without a circuit, a circuit without a trusted verifier and a malformed proof", async function () {
      const c = await loadFixture(deployed);
      const rated = await agreeRated(c, 1);
      await c.verifier.accept(A, B, C, [BigInt(LO), BigInt(TOTALS), 1_000n]);
      expect(await c.adjudicator.verify(PLMN.DE, PLMN.BR, rated, TOTALS, 1_000n, PROOF)).to.equal(false); // not trusted yet
      await c.adjudicator.connect(c.de).proposeVerifier(1, c.verifierAddress, TRANSCRIPT);
      await c.adjudicator.connect(c.us).approveVerifier(1, c.verifierAddress, TRANSCRIPT);
      expect(await c.adjudicator.verify(PLMN.DE, PLMN.BR, rated, TOTALS, 1_000n, PROOF)).to.equal(true);
      expect(await c.adjudicator.verify(PLMN.DE, PLMN.BR, rated, TOTALS, 1_000n, `${PROOF}00`)).to.equal(false);
      expect(await c.adjudicator.verify(PLMN.DE, PLMN.BR, rated, TOTALS, 1_000n, "0x")).to.equal(false);
      const plain = await agreeRated(c, 0);
      expect(await c.adjudicator.verify(PLMN.DE, PLMN.BR, plain, TOTALS, 1_000n, PROOF)).to.equal(false);
      expect(await c.adjudicator.verify(PLMN.DE, PLMN.BR, 99, TOTALS, 1_000n, PROOF)).to.equal(false); // no such version
    });

    it("reads the payee direction's commitment with ratingCommitmentOf ((0, 0) for an unknown version or one pair member)", async function () {
      const c = await loadFixture(deployed);
      const version = await agreeRated(c);
      expect(await c.agreements.ratingCommitmentOf(PLMN.DE, PLMN.BR, version)).to.deep.equal([1n, LO]);
      expect(await c.agreements.ratingCommitmentOf(PLMN.BR, PLMN.DE, version)).to.deep.equal([1n, HI]);
      expect(await c.agreements.ratingCommitmentOf(PLMN.DE, PLMN.BR, version + 1)).to.deep.equal([0n, ZeroHash]);
      expect(await c.agreements.ratingCommitmentOf(PLMN.DE, PLMN.DE, version)).to.deep.equal([0n, ZeroHash]);
    });
  });

  describe("the public rating commitments of an agreement version", function () {
    it("a circuit needs both commitments, and commitments need a circuit", async function () {
      const c = await loadFixture(deployed);
      const now = await time.latest();
      const base = {
        settlementToken: await c.token.getAddress(),
        validFrom: now,
        validUntil: now + 3600 * 24,
        disputeWindow: 3600,
        termsCommitment: word("terms"),
        pricedClassesLo: 2n,
        pricedClassesHi: 0n,
      };
      for (const [circuit, lo, hi] of [
        [1, LO, ZeroHash],
        [1, ZeroHash, HI],
        [0, LO, HI],
        [0, ZeroHash, HI],
      ] as const) {
        await expect(
          c.agreements
            .connect(c.de)
            .propose(PLMN.BR, { ...base, ratingCircuit: circuit, ratingCommitmentLo: lo, ratingCommitmentHi: hi }, "0x5ea1ed"),
        )
          .to.be.revertedWithCustomError(c.agreements, "RoamingAgreementsInvalidRatingCommitments")
          .withArgs(circuit);
      }
    });
  });
});
