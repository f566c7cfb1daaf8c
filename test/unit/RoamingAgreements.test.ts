import hre from "hardhat";
import { expect } from "chai";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  AbiCoder,
  type ContractTransactionResponse,
  ZeroAddress,
  ZeroHash,
  hexlify,
  keccak256,
  randomBytes,
  solidityPackedKeccak256,
  toUtf8Bytes,
} from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import RoamingAgreementsModule from "../../ignition/modules/RoamingAgreements";
import { PLMN, carrierRegistryParameters, expectCarrierOperatorsOnly } from "../helpers/fixtures";
import { pricedClassesOf } from "../../lib/agreements/sealed";
import { NO_RATING_CIRCUIT } from "../../lib/agreements/ratingCommitments";
import type { AgreementTermsLib__Harness, CarrierRegistry, IRoamingAgreements, RoamingAgreements } from "../../typechain-types";

import type { IRoamingAgreements as FullTerms } from "../../typechain-types/test/contracts/AgreementTermsLib__Harness";

// The full terms never cross RoamingAgreements' ABI: their types come from the harness that validates them.
type Terms = FullTerms.TermsStruct;
type RatePlan = FullTerms.RatePlanStruct;
type Tier = FullTerms.TierStruct;
type PublicTerms = IRoamingAgreements.PublicTermsStruct;

const DAY = 24 * 3600;
const YEAR = 365 * DAY;
const MAX_DISPUTE_WINDOW = 90 * DAY;
const MAX_SEALED_TERMS = 65_536;
/** EIP-7825: the most gas one transaction may use. */
const TX_GAS_CAP = 16_777_216n;

/** VersionStatus in IRoamingAgreements. */
const STATUS = { None: 0n, Proposed: 1n, Accepted: 2n, Withdrawn: 3n, Superseded: 4n } as const;
/** ICarrierRegistry.ProposalKind. */
const SUSPEND = 1;
const REINSTATE = 2;

const abiCoder = AbiCoder.defaultAbiCoder();
/** CommitmentLib.TERMS_TAG. */
const TERMS_TAG = keccak256(toUtf8Bytes("RoamLedger.TermsCommitment.v1"));
/** IRoamingAgreements.Terms as an ABI tuple. */
const TERMS_TUPLE_TYPE =
  "tuple(address settlementToken, uint40 validFrom, uint40 validUntil, uint32 disputeWindow, uint16 permanentRoamingDays, " +
  "uint128 permanentRoamingSurchargePerDay, tuple(uint32 maxLatencyMs, uint32 minThroughputKbps, uint16 minAvailabilityBps, " +
  "uint16 latencyCreditBps, uint16 throughputCreditBps, uint16 availabilityCreditBps) sla, tuple(bytes3 visited, " +
  "uint8 tariffClass, uint128 perMb, uint128 perSignallingEvent, uint128 perSms, uint128 perVoiceMinute, " +
  "uint128 monthlyFeePerDevice, tuple(uint64 fromMb, uint16 discountBps)[] tiers)[] ratePlans)";

/** The commitment to `terms` under `salt`, as CommitmentLib.terms computes it. */
function commitTerms(terms: Terms, salt: string): string {
  const inner = keccak256(abiCoder.encode([TERMS_TUPLE_TYPE], [terms]));
  return keccak256(abiCoder.encode(["bytes32", "bytes32", "bytes32"], [TERMS_TAG, salt, inner]));
}

/** keccak256(abi.encodePacked(lo, hi)) of the pair sorted ascending, as `agreementKey` computes it. */
function keyOf(a: string, b: string): string {
  const [lo, hi] = BigInt(a) < BigInt(b) ? [a, b] : [b, a];
  return solidityPackedKeccak256(["bytes3", "bytes3"], [lo, hi]);
}

const TIERS: Tier[] = [
  { fromMb: 100, discountBps: 500 },
  { fromMb: 1_000, discountBps: 1_500 },
  { fromMb: 10_000, discountBps: 3_000 },
];

function ratePlan(visited: string, tariffClass: number, overrides: Partial<RatePlan> = {}): RatePlan {
  return {
    visited,
    tariffClass,
    perMb: 2_000_000n + BigInt(tariffClass) * 1_000n,
    perSignallingEvent: 1_000n,
    perSms: 20_000n,
    perVoiceMinute: 50_000n,
    monthlyFeePerDevice: 300_000n,
    tiers: TIERS,
    ...overrides,
  };
}

/** Realistic terms: both directions, three tariff classes each, three volume tiers per plan. */
function makeTerms(token: string, validFrom: number, overrides: Partial<Terms> = {}): Terms {
  const plans: RatePlan[] = [];
  for (const visited of [PLMN.DE, PLMN.US]) for (const tc of [1, 2, 3]) plans.push(ratePlan(visited, tc));
  return {
    settlementToken: token,
    validFrom,
    validUntil: validFrom + YEAR,
    disputeWindow: 30 * DAY,
    permanentRoamingDays: 90,
    permanentRoamingSurchargePerDay: 10_000n,
    sla: {
      maxLatencyMs: 300,
      minThroughputKbps: 256,
      minAvailabilityBps: 9_950,
      latencyCreditBps: 200,
      throughputCreditBps: 200,
      availabilityCreditBps: 500,
    },
    ratePlans: plans,
    ...overrides,
  };
}

/** A proposal as a carrier makes it: full terms, their salt, the public part on chain and the sealed blob. */
interface Offer {
  terms: Terms;
  salt: string;
  pub: PublicTerms;
  sealed: string;
}

/**
 * Stands in for lib/agreements' sealed terms: random bytes (ciphertext looks random) of the size the sealed
 * ABI encoding of (terms, salt) would have, padded to a multiple of 1,024 bytes plus a 32-byte envelope. The
 * contract never reads them.
 */
function sealedStandIn(terms: Terms, salt: string): string {
  const plain = (abiCoder.encode([TERMS_TUPLE_TYPE, "bytes32"], [terms, salt]).length - 2) / 2;
  return hexlify(randomBytes(Math.ceil(plain / 1024) * 1024 + 32));
}

/** The pair the plans are for: their visited carriers, with DE (or US for DE alone) when only one. */
function partiesOf(plans: RatePlan[]): [string, string] {
  const seen = [...new Set(plans.map((p) => String(p.visited)))];
  return seen.length >= 2 ? [seen[0], seen[1]] : [seen[0], seen[0] === PLMN.DE ? PLMN.US : PLMN.DE];
}

function offer(token: string, validFrom: number, overrides: Partial<Terms> = {}): Offer {
  const terms = makeTerms(token, validFrom, overrides);
  const salt = hexlify(randomBytes(32));
  const pub: PublicTerms = {
    settlementToken: terms.settlementToken,
    validFrom: terms.validFrom,
    validUntil: terms.validUntil,
    disputeWindow: terms.disputeWindow,
    termsCommitment: commitTerms(terms, salt),
    ...pricedClassesOf(terms as { ratePlans: { visited: string; tariffClass: number }[] }, ...partiesOf(terms.ratePlans)),
    ...NO_RATING_CIRCUIT,
  };
  return { terms, salt, pub, sealed: sealedStandIn(terms, salt) };
}

/** The registry and the agreements through their Ignition module, the harness, a token and a start time. */
async function deployAgreements() {
  const [deployer, de, us, br, maker, de2, outsider] = await hre.ethers.getSigners();
  const { roamingAgreements } = await hre.ignition.deploy(RoamingAgreementsModule, {
    parameters: { CarrierRegistry: carrierRegistryParameters({ deployer, de, de2, us, br, maker }) },
  });
  const agreements = roamingAgreements as unknown as RoamingAgreements;
  const carriers = (await hre.ethers.getContractAt("CarrierRegistry", await agreements.carrierRegistry())) as unknown as CarrierRegistry;
  const harness = (await (
    await hre.ethers.getContractFactory("AgreementTermsLib__Harness")
  ).deploy()) as unknown as AgreementTermsLib__Harness;
  // The agreement only stores the token address and checks that it is a contract; any contract stands in.
  const token = await carriers.getAddress();
  const start = (await time.latest()) + DAY;
  const v1 = offer(token, start);
  return { agreements, carriers, harness, de, us, br, maker, de2, outsider, token, start, v1, key: keyOf(PLMN.DE, PLMN.US) };
}

/** DE proposed version 1 (`v1`) to US, not yet accepted. */
async function deployWithProposal() {
  const f = await deployAgreements();
  await f.agreements.connect(f.de).propose(PLMN.US, f.v1.pub, f.v1.sealed);
  return f;
}

/** DE proposed version 1 (`v1`) to US and US accepted it. */
async function deployWithAgreement() {
  const f = await deployWithProposal();
  await f.agreements.connect(f.us).accept(PLMN.DE, 1, f.v1.pub.termsCommitment);
  return f;
}

type Fixture = Awaited<ReturnType<typeof deployAgreements>>;

/** `from` proposes `o` to `to`, and `to`'s first operator accepts it as the next version. */
async function agree(f: Fixture, o: Offer, [from, to]: [HardhatEthersSigner, HardhatEthersSigner]) {
  const plmnOf = (s: HardhatEthersSigner) => (s === f.de ? PLMN.DE : s === f.us ? PLMN.US : PLMN.BR);
  await f.agreements.connect(from).propose(plmnOf(to), o.pub, o.sealed);
  const version = await f.agreements.versionCount(plmnOf(from), plmnOf(to));
  await f.agreements.connect(to).accept(plmnOf(from), version, o.pub.termsCommitment);
}

/** Changes `target`'s status through registry governance (one governor proposes, another approves). */
async function setStatus(
  carriers: CarrierRegistry,
  change: { kind: number; target: string },
  [proposer, approver]: [HardhatEthersSigner, HardhatEthersSigner],
) {
  await carriers.connect(proposer).proposeStatusChange(change.kind, change.target);
  await carriers.connect(approver).approve(await carriers.proposalCount());
}

/** Compares public terms read from the chain with those proposed. */
function expectPublic(actual: IRoamingAgreements.PublicTermsStructOutput, expected: PublicTerms) {
  expect(actual.settlementToken).to.equal(expected.settlementToken);
  expect(actual.validFrom).to.equal(BigInt(expected.validFrom));
  expect(actual.validUntil).to.equal(BigInt(expected.validUntil));
  expect(actual.disputeWindow).to.equal(BigInt(expected.disputeWindow));
  expect(actual.termsCommitment).to.equal(expected.termsCommitment);
  expect(actual.pricedClassesLo).to.equal(BigInt(expected.pricedClassesLo));
  expect(actual.pricedClassesHi).to.equal(BigInt(expected.pricedClassesHi));
}

/** The (slot, value) pairs a transaction stored, from the node's trace of its SSTOREs. */
async function storedSlots(hash: string): Promise<Map<string, string>> {
  const trace = (await hre.network.provider.send("debug_traceTransaction", [hash, { disableMemory: true, disableStorage: true }])) as {
    structLogs: { op: string; stack: string[] }[];
  };
  const word = (x: string) =>
    `0x${BigInt(x.startsWith("0x") ? x : `0x${x}`)
      .toString(16)
      .padStart(64, "0")}`;
  const slots = new Map<string, string>();
  for (const { op, stack } of trace.structLogs) {
    if (op === "SSTORE") slots.set(word(stack[stack.length - 1]), word(stack[stack.length - 2]));
  }
  return slots;
}

/** True when `word` (32 bytes) shares a run of `run` bytes with `blob`, ignoring runs of zeros. */
function sharesRun(word: string, blob: string, run: number): boolean {
  const hex = word.slice(2);
  for (let i = 0; i + run * 2 <= hex.length; i += 2) {
    const piece = hex.slice(i, i + run * 2);
    if (/^0+$/.test(piece)) continue;
    for (let j = blob.indexOf(piece, 2); j !== -1; j = blob.indexOf(piece, j + 1)) if (j % 2 === 0) return true;
  }
  return false;
}

describe("RoamingAgreements", function () {
  describe("constructor", function () {
    it("binds the registry and exposes the bounds", async function () {
      const { agreements, carriers } = await loadFixture(deployAgreements);
      expect(await agreements.carrierRegistry()).to.equal(await carriers.getAddress());
      expect(await agreements.MAX_DISPUTE_WINDOW()).to.equal(BigInt(MAX_DISPUTE_WINDOW));
      expect(await agreements.MAX_SEALED_TERMS()).to.equal(BigInt(MAX_SEALED_TERMS));
    });

    it("reverts when the registry is not a contract", async function () {
      const { agreements, outsider } = await loadFixture(deployAgreements);
      const factory = await hre.ethers.getContractFactory("RoamingAgreements");
      await expect(factory.deploy(outsider.address))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidRegistry")
        .withArgs(outsider.address);
    });
  });

  describe("agreementKey", function () {
    it("is the hash of the sorted pair, in either order", async function () {
      const { agreements, key } = await loadFixture(deployAgreements);
      expect(await agreements.agreementKey(PLMN.DE, PLMN.US)).to.equal(key);
      expect(await agreements.agreementKey(PLMN.US, PLMN.DE)).to.equal(key);
      expect(await agreements.agreementKey(PLMN.DE, PLMN.BR)).to.not.equal(key);
    });
  });

  describe("terms commitment", function () {
    it("is computed by the test exactly as CommitmentLib.terms does", async function () {
      const { harness, token, start } = await loadFixture(deployAgreements);
      const variant = fc.record({
        salt: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        perMb: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        tiers: fc.integer({ min: 0, max: 3 }),
        from: fc.integer({ min: 0, max: 2 ** 39 }),
      });
      await fc.assert(
        fc.asyncProperty(variant, async ({ salt, perMb, tiers, from }) => {
          const terms = makeTerms(token, from, {
            ratePlans: [ratePlan(PLMN.US, 7, { perMb, tiers: TIERS.slice(0, tiers) }), ratePlan(PLMN.DE, 1)],
          });
          expect(await harness.commitTerms(terms, salt)).to.equal(commitTerms(terms, hexlify(salt)));
        }),
        { numRuns: 10 },
      );
      const terms = makeTerms(token, start);
      expect(await harness.commitTerms(terms, ZeroHash)).to.equal(commitTerms(terms, ZeroHash));
    });
  });

  describe("propose", function () {
    it("stores the public part as pending version 1 and emits it, the sealed terms only in an event", async function () {
      const { agreements, de, v1, start, key } = await loadFixture(deployAgreements);
      await expect(agreements.connect(de).propose(PLMN.US, v1.pub, v1.sealed))
        .to.emit(agreements, "AgreementProposed")
        .withArgs(key, PLMN.DE, PLMN.US, 1, start, start + YEAR, v1.pub.termsCommitment)
        .and.to.emit(agreements, "AgreementTermsSealed")
        .withArgs(key, 1, v1.sealed)
        .and.not.to.emit(agreements, "AgreementSuperseded");
      expect(await agreements.versionCount(PLMN.US, PLMN.DE)).to.equal(1n);
      expect(await agreements.pendingVersion(PLMN.US, PLMN.DE)).to.equal(1n);
      const v = await agreements.getVersion(PLMN.DE, PLMN.US, 1);
      expect(v.proposer).to.equal(PLMN.DE);
      expect(v.status).to.equal(STATUS.Proposed);
      expect(v.proposedAt).to.equal(BigInt(await time.latest()));
      expect(v.acceptedAt).to.equal(0n);
      expectPublic(v.terms, v1.pub);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, start)).to.equal(false);
    });

    it("stores no part of the sealed terms: every slot it writes is the same whatever they are", async function () {
      const { agreements, de, v1 } = await loadFixture(deployAgreements);
      const address = await agreements.getAddress();
      const writes: Map<string, string>[] = [];
      for (const sealed of [v1.sealed, hexlify(randomBytes(MAX_SEALED_TERMS)), "0x01"]) {
        const snapshot = await hre.network.provider.send("evm_snapshot");
        await time.setNextBlockTimestamp((await time.latest()) + 10);
        const tx = await agreements.connect(de).propose(PLMN.US, v1.pub, sealed);
        const receipt = await tx.wait();
        const slots = await storedSlots(tx.hash);
        // The pair's version counters, and the version's 9 slots: proposer/status/times, token/validity,
        // dispute window, commitment, the two priced-class sets, the rating circuit, the two rating commitments.
        expect(slots.size).to.equal(10);
        for (const [slot, value] of slots) {
          expect(await hre.ethers.provider.getStorage(address, slot)).to.equal(value);
          expect(sharesRun(value, sealed, 6), `slot ${slot} holds sealed bytes`).to.equal(false);
        }
        // The sealed bytes are in the AgreementTermsSealed log and in no other (too short to tell for 1 byte).
        const logs = receipt!.logs.filter((l) => l.data.includes(sealed.slice(2)));
        if (sealed.length > 66) expect(logs.map((l) => agreements.interface.parseLog(l)?.name)).to.deep.equal(["AgreementTermsSealed"]);
        writes.push(slots);
        await hre.network.provider.send("evm_revert", [snapshot]);
      }
      expect([...writes[1]]).to.deep.equal([...writes[0]]);
      expect([...writes[2]]).to.deep.equal([...writes[0]]);
    });

    it("supersedes the pending proposal with a counter-offer from either side", async function () {
      const { agreements, de, us, token, start, key } = await loadFixture(deployWithProposal);
      const v2 = offer(token, start + DAY);
      await expect(agreements.connect(us).propose(PLMN.DE, v2.pub, v2.sealed))
        .to.emit(agreements, "AgreementSuperseded")
        .withArgs(key, 1, 2)
        .and.to.emit(agreements, "AgreementProposed")
        .withArgs(key, PLMN.US, PLMN.DE, 2, start + DAY, start + DAY + YEAR, v2.pub.termsCommitment);
      const v3 = offer(token, start);
      await expect(agreements.connect(de).propose(PLMN.US, v3.pub, v3.sealed))
        .to.emit(agreements, "AgreementSuperseded")
        .withArgs(key, 2, 3);
      expect((await agreements.getVersion(PLMN.DE, PLMN.US, 1)).status).to.equal(STATUS.Superseded);
      expect((await agreements.getVersion(PLMN.DE, PLMN.US, 2)).status).to.equal(STATUS.Superseded);
      expect((await agreements.getVersion(PLMN.DE, PLMN.US, 3)).status).to.equal(STATUS.Proposed);
      expect(await agreements.pendingVersion(PLMN.DE, PLMN.US)).to.equal(3n);
    });

    it("keeps agreements of different pairs apart", async function () {
      const { agreements, br, token, start } = await loadFixture(deployWithProposal);
      const o = offer(token, start, { ratePlans: [ratePlan(PLMN.BR, 1)] });
      await expect(agreements.connect(br).propose(PLMN.DE, o.pub, o.sealed))
        .to.emit(agreements, "AgreementProposed")
        .withArgs(keyOf(PLMN.BR, PLMN.DE), PLMN.BR, PLMN.DE, 1, start, start + YEAR, o.pub.termsCommitment)
        .and.not.to.emit(agreements, "AgreementSuperseded");
      expect(await agreements.pendingVersion(PLMN.DE, PLMN.BR)).to.equal(1n);
      expect(await agreements.pendingVersion(PLMN.DE, PLMN.US)).to.equal(1n);
    });

    it("reverts when the caller is not an operator of a carrier member", async function () {
      const f = await loadFixture(deployAgreements);
      await expectCarrierOperatorsOnly(f, (s) => f.agreements.connect(s).propose(PLMN.US, f.v1.pub, f.v1.sealed));
    });

    it("reverts when the caller's member is suspended", async function () {
      const { agreements, carriers, de, us, br, v1 } = await loadFixture(deployAgreements);
      await setStatus(carriers, { kind: SUSPEND, target: PLMN.DE }, [us, br]);
      await expect(agreements.connect(de).propose(PLMN.US, v1.pub, v1.sealed))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(de.address);
    });

    it("reverts when the counterparty is the caller's own member", async function () {
      const { agreements, de, v1 } = await loadFixture(deployAgreements);
      await expect(agreements.connect(de).propose(PLMN.DE, v1.pub, v1.sealed))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsSelfAgreement")
        .withArgs(PLMN.DE);
    });

    it("reverts when the counterparty is not an active carrier", async function () {
      const { agreements, carriers, de, us, v1 } = await loadFixture(deployAgreements);
      for (const counterparty of [PLMN.MAKER, PLMN.NEWCOMER]) {
        await expect(agreements.connect(de).propose(counterparty, v1.pub, v1.sealed))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidCounterparty")
          .withArgs(counterparty);
      }
      await setStatus(carriers, { kind: SUSPEND, target: PLMN.BR }, [de, us]);
      await expect(agreements.connect(de).propose(PLMN.BR, v1.pub, v1.sealed))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidCounterparty")
        .withArgs(PLMN.BR);
    });

    it("reverts when the settlement token is zero or not a contract", async function () {
      const { agreements, de, outsider, v1 } = await loadFixture(deployAgreements);
      for (const settlementToken of [ZeroAddress, outsider.address]) {
        await expect(agreements.connect(de).propose(PLMN.US, { ...v1.pub, settlementToken }, v1.sealed))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidSettlementToken")
          .withArgs(settlementToken);
      }
    });

    it("reverts when validUntil is not after validFrom, is zero or is in the past", async function () {
      const { agreements, de, v1, start } = await loadFixture(deployAgreements);
      const now = await time.latest();
      const cases: [number, number][] = [
        [start, start],
        [start, start - 1],
        [start, 0],
        [0, 0],
        [now - YEAR, now - DAY],
        [now - YEAR, now + 1], // ends at the next block's timestamp: never applies
      ];
      for (const [validFrom, validUntil] of cases) {
        await expect(agreements.connect(de).propose(PLMN.US, { ...v1.pub, validFrom, validUntil }, v1.sealed))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidValidity")
          .withArgs(validFrom, validUntil);
      }
    });

    it("accepts terms that started in the past", async function () {
      const { agreements, de, token } = await loadFixture(deployAgreements);
      const now = await time.latest();
      const o = offer(token, now - YEAR, { validUntil: now + DAY });
      await expect(agreements.connect(de).propose(PLMN.US, o.pub, o.sealed)).to.emit(agreements, "AgreementProposed");
    });

    it("reverts when the dispute window is zero or longer than 90 days", async function () {
      const { agreements, de, v1 } = await loadFixture(deployAgreements);
      for (const disputeWindow of [0, MAX_DISPUTE_WINDOW + 1]) {
        await expect(agreements.connect(de).propose(PLMN.US, { ...v1.pub, disputeWindow }, v1.sealed))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidDisputeWindow")
          .withArgs(disputeWindow);
      }
      for (const disputeWindow of [1, MAX_DISPUTE_WINDOW]) {
        await expect(agreements.connect(de).propose(PLMN.US, { ...v1.pub, disputeWindow }, v1.sealed)).to.emit(
          agreements,
          "AgreementProposed",
        );
      }
    });

    it("reverts when the terms commitment is zero", async function () {
      const { agreements, de, v1 } = await loadFixture(deployAgreements);
      await expect(agreements.connect(de).propose(PLMN.US, { ...v1.pub, termsCommitment: ZeroHash }, v1.sealed))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsMissingTermsCommitment")
        .withArgs();
    });

    it("reverts when the public part prices no tariff class on either side (F10)", async function () {
      const { agreements, de, v1 } = await loadFixture(deployAgreements);
      await expect(agreements.connect(de).propose(PLMN.US, { ...v1.pub, pricedClassesLo: 0n, pricedClassesHi: 0n }, v1.sealed))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoPricedClass")
        .withArgs();
      // One direction alone is a valid agreement.
      await expect(agreements.connect(de).propose(PLMN.US, { ...v1.pub, pricedClassesLo: 0n }, v1.sealed)).to.emit(
        agreements,
        "AgreementProposed",
      );
    });

    it("reverts when the sealed terms are empty or longer than MAX_SEALED_TERMS", async function () {
      const { agreements, de, v1 } = await loadFixture(deployAgreements);
      for (const length of [0, MAX_SEALED_TERMS + 1]) {
        await expect(agreements.connect(de).propose(PLMN.US, v1.pub, hexlify(randomBytes(length))))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidSealedTermsLength")
          .withArgs(length);
      }
      for (const length of [1, MAX_SEALED_TERMS]) {
        await expect(agreements.connect(de).propose(PLMN.US, v1.pub, hexlify(randomBytes(length)))).to.emit(
          agreements,
          "AgreementTermsSealed",
        );
      }
    });
  });

  describe("accept", function () {
    it("binds the pending version and emits AgreementAccepted", async function () {
      const { agreements, us, v1, start, key } = await loadFixture(deployWithProposal);
      await expect(agreements.connect(us).accept(PLMN.DE, 1, v1.pub.termsCommitment))
        .to.emit(agreements, "AgreementAccepted")
        .withArgs(key, PLMN.US, 1);
      const v = await agreements.getVersion(PLMN.US, PLMN.DE, 1);
      expect(v.status).to.equal(STATUS.Accepted);
      expect(v.acceptedAt).to.equal(BigInt(await time.latest()));
      expectPublic(v.terms, v1.pub);
      expect(await agreements.pendingVersion(PLMN.DE, PLMN.US)).to.equal(0n);
      expect(await agreements.acceptedVersions(PLMN.DE, PLMN.US)).to.deep.equal([1n]);
      expect(await agreements.counterparties(PLMN.DE)).to.deep.equal([PLMN.US]);
      expect(await agreements.counterparties(PLMN.US)).to.deep.equal([PLMN.DE]);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, start)).to.equal(true);
    });

    it("lets any operator of the counterparty accept a counter-offer", async function () {
      const { agreements, us, de2, token, start, key } = await loadFixture(deployWithProposal);
      const v2 = offer(token, start);
      await agreements.connect(us).propose(PLMN.DE, v2.pub, v2.sealed);
      await expect(agreements.connect(de2).accept(PLMN.US, 2, v2.pub.termsCommitment))
        .to.emit(agreements, "AgreementAccepted")
        .withArgs(key, PLMN.DE, 2);
    });

    it("reverts when the commitment is not the version's (other salt, other terms, zero)", async function () {
      const { agreements, us, v1, token, start, key } = await loadFixture(deployWithProposal);
      const otherTerms = makeTerms(token, start, { ratePlans: [ratePlan(PLMN.DE, 1, { perMb: 1n })] });
      for (const given of [commitTerms(v1.terms, hexlify(randomBytes(32))), commitTerms(otherTerms, v1.salt), ZeroHash]) {
        await expect(agreements.connect(us).accept(PLMN.DE, 1, given))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsCommitmentMismatch")
          .withArgs(key, 1, v1.pub.termsCommitment, given);
      }
      expect(await agreements.pendingVersion(PLMN.DE, PLMN.US)).to.equal(1n);
    });

    it("reverts once the proposal's validUntil has passed, and not a second before", async function () {
      const { agreements, de, us, token, key } = await loadFixture(deployAgreements);
      const now = await time.latest();
      const o = offer(token, now - DAY, { validUntil: now + 10 * DAY });
      await agreements.connect(de).propose(PLMN.US, o.pub, o.sealed);
      const snapshot = await hre.network.provider.send("evm_snapshot");
      await time.setNextBlockTimestamp(now + 10 * DAY - 1);
      await expect(agreements.connect(us).accept(PLMN.DE, 1, o.pub.termsCommitment)).to.emit(agreements, "AgreementAccepted");
      await hre.network.provider.send("evm_revert", [snapshot]);
      await time.increaseTo(now + 10 * DAY);
      await expect(agreements.connect(us).accept(PLMN.DE, 1, o.pub.termsCommitment))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsProposalExpired")
        .withArgs(key, 1, now + 10 * DAY);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, now)).to.equal(false);
    });

    it("reverts when an operator of the proposer's own member accepts", async function () {
      const { agreements, de, de2, v1, key } = await loadFixture(deployWithProposal);
      for (const signer of [de, de2]) {
        await expect(agreements.connect(signer).accept(PLMN.US, 1, v1.pub.termsCommitment))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsProposerCannotAccept")
          .withArgs(key, 1, PLMN.DE);
      }
    });

    it("reverts when a third carrier accepts", async function () {
      const { agreements, br, v1 } = await loadFixture(deployWithProposal);
      await expect(agreements.connect(br).accept(PLMN.DE, 1, v1.pub.termsCommitment))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsVersionNotPending")
        .withArgs(keyOf(PLMN.BR, PLMN.DE), 1, 0);
    });

    it("reverts when the caller is not an operator of a carrier member", async function () {
      const f = await loadFixture(deployWithProposal);
      await expectCarrierOperatorsOnly(f, (s) => f.agreements.connect(s).accept(PLMN.DE, 1, f.v1.pub.termsCommitment));
    });

    it("reverts when the caller's member is suspended", async function () {
      const { agreements, carriers, de, us, br, v1 } = await loadFixture(deployWithProposal);
      await setStatus(carriers, { kind: SUSPEND, target: PLMN.US }, [de, br]);
      await expect(agreements.connect(us).accept(PLMN.DE, 1, v1.pub.termsCommitment))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(us.address);
    });

    it("reverts when the proposer was suspended after proposing", async function () {
      const { agreements, carriers, us, br, v1 } = await loadFixture(deployWithProposal);
      await setStatus(carriers, { kind: SUSPEND, target: PLMN.DE }, [us, br]);
      await expect(agreements.connect(us).accept(PLMN.DE, 1, v1.pub.termsCommitment))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidCounterparty")
        .withArgs(PLMN.DE);
    });

    it("reverts when the version was superseded", async function () {
      const { agreements, de, us, v1, token, start, key } = await loadFixture(deployWithProposal);
      const v2 = offer(token, start, { disputeWindow: DAY });
      await agreements.connect(de).propose(PLMN.US, v2.pub, v2.sealed);
      await expect(agreements.connect(us).accept(PLMN.DE, 1, v1.pub.termsCommitment))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsVersionNotPending")
        .withArgs(key, 1, 2);
    });

    it("reverts when the version was withdrawn", async function () {
      const { agreements, de, us, v1, key } = await loadFixture(deployWithProposal);
      await agreements.connect(de).withdraw(PLMN.US, 1);
      await expect(agreements.connect(us).accept(PLMN.DE, 1, v1.pub.termsCommitment))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsVersionNotPending")
        .withArgs(key, 1, 0);
    });

    it("reverts when the version is not the pending one", async function () {
      const { agreements, us, v1, key } = await loadFixture(deployWithProposal);
      for (const version of [0, 2]) {
        await expect(agreements.connect(us).accept(PLMN.DE, version, v1.pub.termsCommitment))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsVersionNotPending")
          .withArgs(key, version, 1);
      }
    });

    it("reverts when there is nothing pending", async function () {
      const { agreements, us, v1, key } = await loadFixture(deployWithAgreement);
      for (const version of [0, 1]) {
        await expect(agreements.connect(us).accept(PLMN.DE, version, v1.pub.termsCommitment))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsVersionNotPending")
          .withArgs(key, version, 0);
      }
    });
  });

  describe("withdraw", function () {
    it("withdraws the pending proposal and emits AgreementWithdrawn", async function () {
      const { agreements, de2, v1, start, key } = await loadFixture(deployWithProposal);
      await expect(agreements.connect(de2).withdraw(PLMN.US, 1)).to.emit(agreements, "AgreementWithdrawn").withArgs(key, PLMN.DE, 1);
      expect((await agreements.getVersion(PLMN.DE, PLMN.US, 1)).status).to.equal(STATUS.Withdrawn);
      expect(await agreements.pendingVersion(PLMN.DE, PLMN.US)).to.equal(0n);
      await expect(agreements.connect(de2).propose(PLMN.US, v1.pub, v1.sealed))
        .to.emit(agreements, "AgreementProposed")
        .withArgs(key, PLMN.DE, PLMN.US, 2, start, start + YEAR, v1.pub.termsCommitment)
        .and.not.to.emit(agreements, "AgreementSuperseded");
    });

    it("leaves accepted versions in force", async function () {
      const { agreements, de, token, start } = await loadFixture(deployWithAgreement);
      const v2 = offer(token, start, { disputeWindow: DAY });
      await agreements.connect(de).propose(PLMN.US, v2.pub, v2.sealed);
      await agreements.connect(de).withdraw(PLMN.US, 2);
      expect((await agreements.termsAt(PLMN.DE, PLMN.US, start)).version).to.equal(1n);
    });

    it("reverts when the counterparty withdraws", async function () {
      const { agreements, us, key } = await loadFixture(deployWithProposal);
      await expect(agreements.connect(us).withdraw(PLMN.DE, 1))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNotProposer")
        .withArgs(key, 1, PLMN.US);
    });

    it("reverts when a third carrier withdraws", async function () {
      const { agreements, br } = await loadFixture(deployWithProposal);
      await expect(agreements.connect(br).withdraw(PLMN.US, 1))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsVersionNotPending")
        .withArgs(keyOf(PLMN.BR, PLMN.US), 1, 0);
    });

    it("reverts when the caller is not an operator of an active carrier member", async function () {
      const f = await loadFixture(deployWithProposal);
      const { agreements, carriers, de, us, br } = f;
      await expectCarrierOperatorsOnly(f, (s) => agreements.connect(s).withdraw(PLMN.US, 1));
      await setStatus(carriers, { kind: SUSPEND, target: PLMN.DE }, [us, br]);
      await expect(agreements.connect(de).withdraw(PLMN.US, 1))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(de.address);
    });

    it("reverts when the version is not pending", async function () {
      const { agreements, de, key } = await loadFixture(deployWithProposal);
      await expect(agreements.connect(de).withdraw(PLMN.US, 2))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsVersionNotPending")
        .withArgs(key, 2, 1);
      await agreements.connect(de).withdraw(PLMN.US, 1);
      await expect(agreements.connect(de).withdraw(PLMN.US, 1))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsVersionNotPending")
        .withArgs(key, 1, 0);
    });
  });

  describe("termsAt", function () {
    it("returns the public terms of the version in force, from either side", async function () {
      const { agreements, v1, start } = await loadFixture(deployWithAgreement);
      for (const [home, visited] of [
        [PLMN.DE, PLMN.US],
        [PLMN.US, PLMN.DE],
      ]) {
        const [terms, version] = await agreements.termsAt(home, visited, start + 10 * DAY);
        expect(version).to.equal(1n);
        expectPublic(terms, v1.pub);
      }
    });

    it("applies an accepted amendment from its validFrom, the earlier version before it", async function () {
      const f = await loadFixture(deployWithAgreement);
      const { agreements, de, us, token, start } = f;
      const amendFrom = start + 100 * DAY;
      const v2 = offer(token, amendFrom, { ratePlans: [ratePlan(PLMN.DE, 1, { perMb: 1_500_000n, tiers: [] })] });
      await agreements.connect(us).propose(PLMN.DE, v2.pub, v2.sealed);
      // Until accepted, an amendment changes nothing.
      expect((await agreements.termsAt(PLMN.US, PLMN.DE, amendFrom)).version).to.equal(1n);
      await agreements.connect(de).accept(PLMN.US, 2, v2.pub.termsCommitment);

      const [before, vBefore] = await agreements.termsAt(PLMN.US, PLMN.DE, amendFrom - 1);
      expect(vBefore).to.equal(1n);
      expectPublic(before, f.v1.pub);
      const [after, vAfter] = await agreements.termsAt(PLMN.US, PLMN.DE, amendFrom);
      expect(vAfter).to.equal(2n);
      expectPublic(after, v2.pub);
      // Beyond version 1's end, version 2 alone applies.
      expect((await agreements.termsAt(PLMN.US, PLMN.DE, start + YEAR + DAY)).version).to.equal(2n);
      expect(await agreements.acceptedVersions(PLMN.DE, PLMN.US)).to.deep.equal([1n, 2n]);
      expect(await agreements.counterparties(PLMN.DE)).to.deep.equal([PLMN.US]);
    });

    it("ends the agreement early when an accepted amendment has an earlier validUntil", async function () {
      const f = await loadFixture(deployWithAgreement);
      const { agreements, token, start, key } = f;
      const endAt = start + 130 * DAY; // version 1 runs to start + YEAR
      await agree(f, offer(token, start + 100 * DAY, { validUntil: endAt }), [f.de, f.us]);
      // Before the amendment's validFrom, version 1 still applies.
      expect((await agreements.termsAt(PLMN.US, PLMN.DE, start)).version).to.equal(1n);
      expect((await agreements.termsAt(PLMN.US, PLMN.DE, start + 100 * DAY - 1)).version).to.equal(1n);
      expect((await agreements.termsAt(PLMN.US, PLMN.DE, endAt - 1)).version).to.equal(2n);
      // From its validUntil on, no agreement: version 1's longer window does not show through.
      for (const t of [endAt, endAt + DAY, start + YEAR - 1]) {
        await expect(agreements.termsAt(PLMN.DE, PLMN.US, t))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
          .withArgs(key, t);
        expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, t)).to.equal(false);
      }
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, endAt - 1)).to.equal(true);
    });

    it("lets a retroactive amendment that starts before the older version replace it entirely", async function () {
      const f = await loadFixture(deployWithAgreement);
      const { agreements, token, start, key } = f;
      await agree(f, offer(token, start - 10 * DAY, { validUntil: start + 10 * DAY }), [f.us, f.de]);
      expect((await agreements.termsAt(PLMN.US, PLMN.DE, start - 10 * DAY)).version).to.equal(2n);
      expect((await agreements.termsAt(PLMN.US, PLMN.DE, start)).version).to.equal(2n);
      for (const t of [start + 10 * DAY, start - 10 * DAY - 1]) {
        await expect(agreements.termsAt(PLMN.US, PLMN.DE, t))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
          .withArgs(key, t);
      }
    });

    it("resumes with a later amendment after a gap", async function () {
      const f = await loadFixture(deployWithAgreement);
      const { agreements, token, start, key } = f;
      await agree(f, offer(token, start, { validUntil: start + 30 * DAY }), [f.de, f.us]);
      await agree(f, offer(token, start + 60 * DAY), [f.us, f.de]);
      expect((await agreements.termsAt(PLMN.US, PLMN.DE, start + 29 * DAY)).version).to.equal(2n);
      await expect(agreements.termsAt(PLMN.US, PLMN.DE, start + 45 * DAY))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
        .withArgs(key, start + 45 * DAY);
      expect((await agreements.termsAt(PLMN.US, PLMN.DE, start + 60 * DAY)).version).to.equal(3n);
    });

    it("reverts when the time is before validFrom or at or after validUntil", async function () {
      const { agreements, start, key } = await loadFixture(deployWithAgreement);
      for (const t of [0, start - 1, start + YEAR, start + 2 * YEAR]) {
        await expect(agreements.termsAt(PLMN.US, PLMN.DE, t))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
          .withArgs(key, t);
      }
      expect((await agreements.termsAt(PLMN.US, PLMN.DE, start + YEAR - 1)).version).to.equal(1n);
    });

    it("reverts when the pair has no accepted version", async function () {
      const { agreements, start, key } = await loadFixture(deployWithProposal);
      await expect(agreements.termsAt(PLMN.US, PLMN.DE, start))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
        .withArgs(key, start);
      await expect(agreements.termsAt(PLMN.DE, PLMN.DE, start))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
        .withArgs(keyOf(PLMN.DE, PLMN.DE), start);
    });

    it("still answers after a party is suspended, for settling past usage", async function () {
      const { agreements, carriers, us, br, start } = await loadFixture(deployWithAgreement);
      await setStatus(carriers, { kind: SUSPEND, target: PLMN.DE }, [us, br]);
      expect((await agreements.termsAt(PLMN.US, PLMN.DE, start)).version).to.equal(1n);
    });
  });

  describe("disputeWindowAt", function () {
    it("is the dispute window of the version in force at the time, as termsAt has it", async function () {
      const f = await loadFixture(deployWithAgreement);
      const { agreements, token, start } = f;
      await agree(f, offer(token, start + 10 * DAY, { disputeWindow: 2 * DAY }), [f.us, f.de]);
      for (const [t, window] of [
        [start, 30 * DAY],
        [start + 10 * DAY - 1, 30 * DAY],
        [start + 10 * DAY, 2 * DAY],
      ]) {
        expect(await agreements.disputeWindowAt(PLMN.DE, PLMN.US, t)).to.equal(BigInt(window));
        expect(await agreements.disputeWindowAt(PLMN.US, PLMN.DE, t)).to.equal(BigInt(window));
        expect((await agreements.termsAt(PLMN.DE, PLMN.US, t)).terms.disputeWindow).to.equal(BigInt(window));
      }
    });

    it("reverts when no version is in force at the time", async function () {
      const { agreements, start, key } = await loadFixture(deployWithAgreement);
      for (const t of [start - 1, start + YEAR]) {
        await expect(agreements.disputeWindowAt(PLMN.DE, PLMN.US, t))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
          .withArgs(key, t);
      }
    });
  });

  describe("hasActiveAgreement", function () {
    it("is true only within an accepted version's validity", async function () {
      const { agreements, start } = await loadFixture(deployWithAgreement);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, start)).to.equal(true);
      expect(await agreements.hasActiveAgreement(PLMN.US, PLMN.DE, start + YEAR - 1)).to.equal(true);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, start - 1)).to.equal(false);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, start + YEAR)).to.equal(false);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.BR, start)).to.equal(false);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.DE, start)).to.equal(false);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.NEWCOMER, start)).to.equal(false);
    });

    it("is false while either party is suspended, true again once reinstated", async function () {
      const { agreements, carriers, de, us, br, start } = await loadFixture(deployWithAgreement);
      await setStatus(carriers, { kind: SUSPEND, target: PLMN.US }, [de, br]);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, start)).to.equal(false);
      expect(await agreements.hasActiveAgreement(PLMN.US, PLMN.DE, start)).to.equal(false);
      await setStatus(carriers, { kind: REINSTATE, target: PLMN.US }, [de, br]);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, start)).to.equal(true);
      await setStatus(carriers, { kind: SUSPEND, target: PLMN.DE }, [us, br]);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, start)).to.equal(false);
    });
  });

  describe("pricedClassesAt", function () {
    it("is the set the visited side prices in the version in force, 0 when none is (F10)", async function () {
      const f = await loadFixture(deployWithAgreement);
      const { agreements, de, us, token, start } = f;
      // v1 prices classes 1, 2, 3 on both sides: bits 1-3.
      expect(await agreements.pricedClassesAt(PLMN.US, PLMN.DE, start)).to.equal(0b1110n);
      expect(await agreements.pricedClassesAt(PLMN.DE, PLMN.US, start)).to.equal(0b1110n);
      // v2 from day 100: DE prices class 1 and class 200, US nothing. US (0x130014) sorts before DE (0x62f210).
      const v2 = offer(token, start + 100 * DAY, { ratePlans: [ratePlan(PLMN.DE, 1), ratePlan(PLMN.DE, 200)] });
      expect([v2.pub.pricedClassesLo, v2.pub.pricedClassesHi]).to.deep.equal([0n, (1n << 200n) | 2n]);
      await agreements.connect(de).propose(PLMN.US, v2.pub, v2.sealed);
      await agreements.connect(us).accept(PLMN.DE, 2, v2.pub.termsCommitment);
      expect(await agreements.pricedClassesAt(PLMN.US, PLMN.DE, start + 99 * DAY)).to.equal(0b1110n);
      expect(await agreements.pricedClassesAt(PLMN.US, PLMN.DE, start + 100 * DAY)).to.equal((1n << 200n) | 2n);
      expect(await agreements.pricedClassesAt(PLMN.DE, PLMN.US, start + 100 * DAY)).to.equal(0n);
      expect(await agreements.pricedClassesAt(PLMN.US, PLMN.DE, start - 1)).to.equal(0n);
      expect(await agreements.pricedClassesAt(PLMN.US, PLMN.DE, start + 100 * DAY + YEAR)).to.equal(0n);
      expect(await agreements.pricedClassesAt(PLMN.DE, PLMN.DE, start)).to.equal(0n);
      expect(await agreements.pricedClassesAt(PLMN.DE, PLMN.BR, start)).to.equal(0n);
    });
  });

  describe("getVersion", function () {
    it("returns each version's proposer, status, times and public terms", async function () {
      const { agreements, us, token, start, v1 } = await loadFixture(deployWithAgreement);
      const v2 = offer(token, start + DAY, { disputeWindow: DAY });
      await agreements.connect(us).propose(PLMN.DE, v2.pub, v2.sealed);
      const [first, second] = [await agreements.getVersion(PLMN.US, PLMN.DE, 1), await agreements.getVersion(PLMN.DE, PLMN.US, 2)];
      expect([first.proposer, first.status]).to.deep.equal([PLMN.DE, STATUS.Accepted]);
      expect(first.acceptedAt).to.be.greaterThanOrEqual(first.proposedAt);
      expectPublic(first.terms, v1.pub);
      expect([second.proposer, second.status, second.acceptedAt]).to.deep.equal([PLMN.US, STATUS.Proposed, 0n]);
      expect(second.proposedAt).to.equal(BigInt(await time.latest()));
      expectPublic(second.terms, v2.pub);
    });

    it("reverts when the version does not exist", async function () {
      const { agreements, key } = await loadFixture(deployWithProposal);
      for (const version of [0, 2]) {
        await expect(agreements.getVersion(PLMN.DE, PLMN.US, version))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsUnknownVersion")
          .withArgs(key, version);
      }
    });
  });

  describe("versionCount, pendingVersion, acceptedVersions", function () {
    it("are zero and empty for a pair that never proposed", async function () {
      const { agreements } = await loadFixture(deployWithAgreement);
      expect(await agreements.versionCount(PLMN.DE, PLMN.BR)).to.equal(0n);
      expect(await agreements.pendingVersion(PLMN.DE, PLMN.BR)).to.equal(0n);
      expect(await agreements.acceptedVersions(PLMN.BR, PLMN.DE)).to.deep.equal([]);
    });
  });

  describe("counterparties", function () {
    it("lists each partner once, in order of first acceptance", async function () {
      const f = await loadFixture(deployWithAgreement);
      const { agreements, token, start } = f;
      expect(await agreements.counterparties(PLMN.BR)).to.deep.equal([]);
      await agree(f, offer(token, start, { ratePlans: [ratePlan(PLMN.BR, 1)] }), [f.br, f.de]);
      await agree(f, offer(token, start), [f.us, f.de]);
      expect(await agreements.counterparties(PLMN.DE)).to.deep.equal([PLMN.US, PLMN.BR]);
      expect(await agreements.counterparties(PLMN.BR)).to.deep.equal([PLMN.DE]);
    });
  });

  describe("invariants", function () {
    // Over random sequences of propose / accept / withdraw by DE and US, accepts naming the right commitment
    // or not:
    // - at most one version is pending, and it is exactly the one with status Proposed;
    // - every version that is not pending is final (Accepted, Withdrawn or Superseded) and stays so;
    // - the accepted versions are ascending, are exactly those with status Accepted, and each was accepted on
    //   its own commitment.
    it("keeps one pending proposal at most and final states final", async function () {
      const op = fc.record({
        kind: fc.constantFrom("propose", "accept", "withdraw"),
        byDe: fc.boolean(),
        offset: fc.integer({ min: -1, max: 1 }),
        rightCommitment: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
          const { agreements, de, us, token, start } = await loadFixture(deployAgreements);
          const finals = new Map<bigint, bigint>();
          const proposed: Offer[] = [];
          for (const { kind, byDe, offset, rightCommitment } of ops) {
            const [signer, other] = byDe ? [de, PLMN.US] : [us, PLMN.DE];
            const pending = await agreements.pendingVersion(PLMN.DE, PLMN.US);
            const version = Math.max(0, Number(pending) + offset);
            const known = proposed[version - 1]?.pub.termsCommitment ?? ZeroHash;
            const o = offer(token, start);
            const send =
              kind === "propose"
                ? agreements.connect(signer).propose(other, o.pub, o.sealed)
                : kind === "accept"
                  ? agreements.connect(signer).accept(other, version, rightCommitment ? known : o.pub.termsCommitment)
                  : agreements.connect(signer).withdraw(other, version);
            const mined = await send
              .then((tx) => tx.wait())
              .then(
                () => true,
                () => false,
              );
            if (mined && kind === "propose") proposed.push(o);

            const count = await agreements.versionCount(PLMN.DE, PLMN.US);
            const nowPending = await agreements.pendingVersion(PLMN.DE, PLMN.US);
            const accepted = await agreements.acceptedVersions(PLMN.DE, PLMN.US);
            expect([...accepted]).to.deep.equal([...accepted].sort((a, b) => (a < b ? -1 : 1)));
            for (let v = 1n; v <= count; v++) {
              const { status, terms } = await agreements.getVersion(PLMN.DE, PLMN.US, v);
              expect(terms.termsCommitment).to.equal(proposed[Number(v) - 1].pub.termsCommitment);
              expect(status === STATUS.Proposed).to.equal(v === nowPending);
              expect(status === STATUS.Accepted).to.equal(accepted.includes(v));
              if (finals.has(v)) expect(status).to.equal(finals.get(v));
              else if (status !== STATUS.Proposed) finals.set(v, status);
            }
          }
        }),
        { numRuns: 25 },
      );
    });
  });

  describe("lookup rule", function () {
    // Over random sequences of accepted versions with random windows: the version in force at t is the
    // highest accepted version whose validFrom <= t, if t < its validUntil, and none otherwise.
    it("matches the rule at every window boundary", async function () {
      const window = fc.record({ from: fc.integer({ min: 0, max: 20 }), length: fc.integer({ min: 1, max: 20 }) });
      await fc.assert(
        fc.asyncProperty(fc.array(window, { minLength: 1, maxLength: 4 }), async (windows) => {
          const f = await loadFixture(deployAgreements);
          const { agreements, token, start } = f;
          const at = (d: number) => start + d * DAY;
          for (const w of windows) await agree(f, offer(token, at(w.from), { validUntil: at(w.from + w.length) }), [f.de, f.us]);
          const expected = (t: number): bigint => {
            for (let v = windows.length; v > 0; v--) {
              const w = windows[v - 1];
              if (at(w.from) <= t) return t < at(w.from + w.length) ? BigInt(v) : 0n;
            }
            return 0n;
          };
          const times = new Set<number>();
          for (const w of windows) for (const d of [w.from, w.from + w.length]) for (const e of [-1, 0]) times.add(at(d) + e);
          for (const t of times) {
            const want = expected(t);
            expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, t), `t=${t - start}`).to.equal(want !== 0n);
            if (want === 0n) {
              await expect(agreements.termsAt(PLMN.US, PLMN.DE, t)).to.be.revertedWithCustomError(
                agreements,
                "RoamingAgreementsNoAgreementAt",
              );
            } else {
              expect((await agreements.termsAt(PLMN.US, PLMN.DE, t)).version, `t=${t - start}`).to.equal(want);
            }
          }
        }),
        { numRuns: 20 },
      );
    });
  });

  describe("gas", function () {
    // Fixed bytes instead of random ones, so that the figures repeat exactly: no zero byte anywhere (the
    // dearest calldata), a commitment of nonzero bytes, sealed terms of the size of v1's (6 plans of 3 tiers).
    it("measures propose + accept, an amendment, the largest sealed terms and a lookup", async function () {
      const { agreements, de, us, v1, start } = await loadFixture(deployAgreements);
      const gasOf = async (tx: Promise<ContractTransactionResponse>) => (await (await tx).wait())!.gasUsed;
      const blob = (n: number) => `0x${"ab".repeat(n)}`;
      const size = (v1.sealed.length - 2) / 2;
      const pub = (validFrom: number) => ({ ...v1.pub, validFrom, validUntil: validFrom + YEAR, termsCommitment: blob(32) });
      const propose = await gasOf(agreements.connect(de).propose(PLMN.US, pub(start), blob(size)));
      const accept = await gasOf(agreements.connect(us).accept(PLMN.DE, 1, blob(32)));
      const amend = await gasOf(agreements.connect(us).propose(PLMN.DE, pub(start + DAY), blob(size)));
      const largest = await gasOf(agreements.connect(de).propose(PLMN.US, pub(start + DAY), blob(MAX_SEALED_TERMS)));
      const lookup = await agreements.termsAt.estimateGas(PLMN.US, PLMN.DE, start);
      console.log(
        `      propose (${size} sealed bytes) ${propose} + accept ${accept} = ${propose + accept} gas; ` +
          `amendment propose ${amend}; propose superseding it with ${MAX_SEALED_TERMS} sealed bytes ${largest}; ` +
          `termsAt (as a transaction) ${lookup}`,
      );
      expect(propose + accept).to.be.lessThan(500_000n);
      expect(largest).to.be.lessThan(TX_GAS_CAP);
    });
  });
});

describe("AgreementTermsLib", function () {
  describe("requirePricedClasses (the reveal path's check of the public sets, F10)", function () {
    it("passes when the public sets are the classes the plans price, reverts with both otherwise", async function () {
      const { harness, token, start } = await loadFixture(deployAgreements);
      const { terms, pub } = offer(token, start, { ratePlans: [ratePlan(PLMN.DE, 1), ratePlan(PLMN.US, 2), ratePlan(PLMN.US, 255)] });
      // US (0x130014) is lo, DE (0x62f210) hi.
      expect(await harness.pricedClasses(terms, PLMN.DE, PLMN.US)).to.deep.equal([(1n << 255n) | 4n, 2n]);
      await harness.requirePricedClasses(terms, pub, PLMN.US, PLMN.DE);
      await expect(harness.requirePricedClasses(terms, { ...pub, pricedClassesLo: 4n }, PLMN.DE, PLMN.US))
        .to.be.revertedWithCustomError(harness, "RoamingAgreementsPricedClassesMismatch")
        .withArgs((1n << 255n) | 4n, 2n, 4n, 2n);
      await expect(harness.requirePricedClasses(terms, { ...pub, pricedClassesHi: 0n }, PLMN.DE, PLMN.US))
        .to.be.revertedWithCustomError(harness, "RoamingAgreementsPricedClassesMismatch")
        .withArgs((1n << 255n) | 4n, 2n, (1n << 255n) | 4n, 0n);
    });
  });

  describe("validate (full terms, as the escrow checks revealed terms)", function () {
    it("accepts valid terms whatever their validity or token, in either party order", async function () {
      const { harness, token, start } = await loadFixture(deployAgreements);
      await harness.validate(makeTerms(token, start), PLMN.DE, PLMN.US);
      await harness.validate(makeTerms(ZeroAddress, 0, { validUntil: 1 }), PLMN.US, PLMN.DE);
    });

    it("reverts when a permanent-roaming surcharge comes without a limit", async function () {
      const { harness, token, start } = await loadFixture(deployAgreements);
      const terms = makeTerms(token, start, { permanentRoamingDays: 0, permanentRoamingSurchargePerDay: 5n });
      await expect(harness.validate(terms, PLMN.DE, PLMN.US))
        .to.be.revertedWithCustomError(harness, "RoamingAgreementsInvalidPermanentRoaming")
        .withArgs(0, 5n);
      await harness.validate(makeTerms(token, start, { permanentRoamingDays: 0, permanentRoamingSurchargePerDay: 0n }), PLMN.DE, PLMN.US);
    });

    it("reverts when an SLA basis-point figure exceeds 10000", async function () {
      const { harness, token, start } = await loadFixture(deployAgreements);
      const base = makeTerms(token, start).sla;
      for (const field of ["minAvailabilityBps", "latencyCreditBps", "throughputCreditBps", "availabilityCreditBps"] as const) {
        const sla = { ...base, [field]: 10_001 };
        await expect(harness.validate(makeTerms(token, start, { sla }), PLMN.DE, PLMN.US))
          .to.be.revertedWithCustomError(harness, "RoamingAgreementsInvalidSla")
          .withArgs(sla.minAvailabilityBps, sla.latencyCreditBps, sla.throughputCreditBps, sla.availabilityCreditBps);
      }
      const full = { ...base, minAvailabilityBps: 10_000, availabilityCreditBps: 10_000 };
      await harness.validate(makeTerms(token, start, { sla: full }), PLMN.DE, PLMN.US);
    });

    it("reverts when there are no rate plans or more than 64", async function () {
      const { harness, token, start } = await loadFixture(deployAgreements);
      await expect(harness.validate(makeTerms(token, start, { ratePlans: [] }), PLMN.DE, PLMN.US))
        .to.be.revertedWithCustomError(harness, "RoamingAgreementsInvalidPlanCount")
        .withArgs(0);
      const many = (n: number) => Array.from({ length: n }, (_, i) => ratePlan(i % 2 === 0 ? PLMN.DE : PLMN.US, i >> 1, { tiers: [] }));
      await expect(harness.validate(makeTerms(token, start, { ratePlans: many(65) }), PLMN.DE, PLMN.US))
        .to.be.revertedWithCustomError(harness, "RoamingAgreementsInvalidPlanCount")
        .withArgs(65);
      await harness.validate(makeTerms(token, start, { ratePlans: many(64) }), PLMN.DE, PLMN.US);
    });

    it("reverts when a plan's visited carrier is not a party", async function () {
      const { harness, token, start } = await loadFixture(deployAgreements);
      const ratePlans = [ratePlan(PLMN.DE, 1), ratePlan(PLMN.BR, 1)];
      await expect(harness.validate(makeTerms(token, start, { ratePlans }), PLMN.DE, PLMN.US))
        .to.be.revertedWithCustomError(harness, "RoamingAgreementsInvalidVisited")
        .withArgs(1, PLMN.BR);
    });

    it("reverts when two plans have the same visited carrier and tariff class", async function () {
      const { harness, token, start } = await loadFixture(deployAgreements);
      const ratePlans = [ratePlan(PLMN.DE, 1), ratePlan(PLMN.US, 1), ratePlan(PLMN.DE, 255), ratePlan(PLMN.DE, 1)];
      await expect(harness.validate(makeTerms(token, start, { ratePlans }), PLMN.DE, PLMN.US))
        .to.be.revertedWithCustomError(harness, "RoamingAgreementsDuplicatePlan")
        .withArgs(3, PLMN.DE, 1);
      const upper = [ratePlan(PLMN.US, 0), ratePlan(PLMN.US, 255), ratePlan(PLMN.US, 0)];
      await expect(harness.validate(makeTerms(token, start, { ratePlans: upper }), PLMN.US, PLMN.DE))
        .to.be.revertedWithCustomError(harness, "RoamingAgreementsDuplicatePlan")
        .withArgs(2, PLMN.US, 0);
      // Classes above 7 have their own bit too (a shift of a uint8 literal would lose them).
      const high = [ratePlan(PLMN.US, 200), ratePlan(PLMN.US, 8), ratePlan(PLMN.US, 200)];
      await expect(harness.validate(makeTerms(token, start, { ratePlans: high }), PLMN.US, PLMN.DE))
        .to.be.revertedWithCustomError(harness, "RoamingAgreementsDuplicatePlan")
        .withArgs(2, PLMN.US, 200);
    });

    it("reverts when a plan has more than 8 tiers", async function () {
      const { harness, token, start } = await loadFixture(deployAgreements);
      const tiers = (n: number) => Array.from({ length: n }, (_, i) => ({ fromMb: i * 100, discountBps: i * 100 }));
      const ratePlans = [ratePlan(PLMN.DE, 1, { tiers: tiers(8) }), ratePlan(PLMN.US, 1, { tiers: tiers(9) })];
      await expect(harness.validate(makeTerms(token, start, { ratePlans }), PLMN.DE, PLMN.US))
        .to.be.revertedWithCustomError(harness, "RoamingAgreementsTooManyTiers")
        .withArgs(1, 9);
    });

    it("reverts when a tier's discount exceeds 10000 or tiers are not ascending", async function () {
      const { harness, token, start } = await loadFixture(deployAgreements);
      const cases: [Tier[], number][] = [
        [[{ fromMb: 0, discountBps: 10_001 }], 0],
        [
          [
            { fromMb: 10, discountBps: 100 },
            { fromMb: 10, discountBps: 200 },
          ],
          1,
        ], // equal fromMb
        [
          [
            { fromMb: 10, discountBps: 100 },
            { fromMb: 5, discountBps: 200 },
          ],
          1,
        ], // descending fromMb
        [
          [
            { fromMb: 1, discountBps: 100 },
            { fromMb: 5, discountBps: 200 },
            { fromMb: 9, discountBps: 150 },
          ],
          2,
        ], // decreasing discount
      ];
      for (const [tiers, tierIndex] of cases) {
        const ratePlans = [ratePlan(PLMN.US, 4), ratePlan(PLMN.DE, 4, { tiers })];
        await expect(harness.validate(makeTerms(token, start, { ratePlans }), PLMN.DE, PLMN.US))
          .to.be.revertedWithCustomError(harness, "RoamingAgreementsInvalidTier")
          .withArgs(1, tierIndex);
      }
      const flat = [ratePlan(PLMN.DE, 4, { tiers: [{ fromMb: 0, discountBps: 10_000 }] })];
      await harness.validate(makeTerms(token, start, { ratePlans: flat }), PLMN.DE, PLMN.US);
    });
  });
});
