import hre from "hardhat";
import { expect } from "chai";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ZeroAddress, solidityPackedKeccak256 } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { PLMN, deployConsortium, expectCarrierOperatorsOnly } from "../helpers/fixtures";
import type { CarrierRegistry, IRoamingAgreements } from "../../typechain-types";

type Terms = IRoamingAgreements.TermsStruct;
type RatePlan = IRoamingAgreements.RatePlanStruct;
type Tier = IRoamingAgreements.TierStruct;

const DAY = 24 * 3600;
const YEAR = 365 * DAY;
const MAX_DISPUTE_WINDOW = 90 * DAY;

/** VersionStatus in IRoamingAgreements. */
const STATUS = { None: 0n, Proposed: 1n, Accepted: 2n, Withdrawn: 3n, Superseded: 4n } as const;
/** ICarrierRegistry.ProposalKind. */
const SUSPEND = 1;
const REINSTATE = 2;

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

/** The consortium, a contract standing in for the settlement token, and a start time one day ahead. */
async function deployAgreements() {
  const consortium = await deployConsortium();
  // The agreement only stores the token address and checks that it is a contract; any contract stands in.
  const token = await consortium.carriers.getAddress();
  const start = (await time.latest()) + DAY;
  const key = keyOf(PLMN.DE, PLMN.US);
  return { ...consortium, token, start, key };
}

/** DE proposed version 1 (`makeTerms`) to US, not yet accepted. */
async function deployWithProposal() {
  const f = await deployAgreements();
  await f.agreements.connect(f.de).propose(PLMN.US, makeTerms(f.token, f.start));
  return f;
}

/** DE proposed version 1 (`makeTerms`) to US and US accepted it. */
async function deployWithAgreement() {
  const f = await deployWithProposal();
  await f.agreements.connect(f.us).accept(PLMN.DE, 1);
  return f;
}

/** Suspends `target` through registry governance (one governor proposes, another approves). */
async function setStatus(
  carriers: CarrierRegistry,
  kind: number,
  target: string,
  proposer: HardhatEthersSigner,
  approver: HardhatEthersSigner,
) {
  await carriers.connect(proposer).proposeStatusChange(kind, target);
  await carriers.connect(approver).approve(await carriers.proposalCount());
}

/** Compares a plan read from the chain with the plan proposed. */
function expectPlan(actual: IRoamingAgreements.RatePlanStructOutput, expected: RatePlan) {
  expect(actual.visited).to.equal(expected.visited);
  expect(actual.tariffClass).to.equal(BigInt(expected.tariffClass));
  expect(actual.perMb).to.equal(BigInt(expected.perMb));
  expect(actual.perSignallingEvent).to.equal(BigInt(expected.perSignallingEvent));
  expect(actual.perSms).to.equal(BigInt(expected.perSms));
  expect(actual.perVoiceMinute).to.equal(BigInt(expected.perVoiceMinute));
  expect(actual.monthlyFeePerDevice).to.equal(BigInt(expected.monthlyFeePerDevice));
  expect(actual.tiers.map((t) => [t.fromMb, t.discountBps])).to.deep.equal(
    expected.tiers.map((t) => [BigInt(t.fromMb), BigInt(t.discountBps)]),
  );
}

describe("RoamingAgreements", function () {
  describe("constructor", function () {
    it("binds the registry", async function () {
      const { agreements, carriers } = await loadFixture(deployAgreements);
      expect(await agreements.carrierRegistry()).to.equal(await carriers.getAddress());
      expect(await agreements.MAX_RATE_PLANS()).to.equal(64n);
      expect(await agreements.MAX_TIERS()).to.equal(8n);
      expect(await agreements.MAX_DISPUTE_WINDOW()).to.equal(BigInt(MAX_DISPUTE_WINDOW));
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
      const { agreements } = await loadFixture(deployAgreements);
      const expected = keyOf(PLMN.DE, PLMN.US);
      expect(await agreements.agreementKey(PLMN.DE, PLMN.US)).to.equal(expected);
      expect(await agreements.agreementKey(PLMN.US, PLMN.DE)).to.equal(expected);
      expect(await agreements.agreementKey(PLMN.DE, PLMN.BR)).to.not.equal(expected);
    });
  });

  describe("propose", function () {
    it("stores version 1 as pending and emits AgreementProposed", async function () {
      const { agreements, de, token, start, key } = await loadFixture(deployAgreements);
      const terms = makeTerms(token, start);
      await expect(agreements.connect(de).propose(PLMN.US, terms))
        .to.emit(agreements, "AgreementProposed")
        .withArgs(key, PLMN.DE, PLMN.US, 1, start, start + YEAR);
      expect(await agreements.versionCount(PLMN.US, PLMN.DE)).to.equal(1n);
      expect(await agreements.pendingVersion(PLMN.US, PLMN.DE)).to.equal(1n);
      const v = await agreements.getVersion(PLMN.DE, PLMN.US, 1);
      expect(v.proposer).to.equal(PLMN.DE);
      expect(v.status).to.equal(STATUS.Proposed);
      expect(v.proposedAt).to.equal(BigInt(await time.latest()));
      expect(v.acceptedAt).to.equal(0n);
      expect(v.terms.settlementToken).to.equal(token);
      expect(v.terms.disputeWindow).to.equal(BigInt(30 * DAY));
      expect(v.terms.permanentRoamingDays).to.equal(90n);
      expect(v.terms.permanentRoamingSurchargePerDay).to.equal(10_000n);
      expect(v.terms.sla.minAvailabilityBps).to.equal(9_950n);
      expect(v.terms.ratePlans).to.have.length(6);
      for (const [i, p] of terms.ratePlans.entries()) expectPlan(v.terms.ratePlans[i], p);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, start)).to.equal(false);
    });

    it("supersedes the pending proposal with a counter-offer from either side", async function () {
      const { agreements, de, us, token, start, key } = await loadFixture(deployWithProposal);
      await expect(agreements.connect(us).propose(PLMN.DE, makeTerms(token, start + DAY)))
        .to.emit(agreements, "AgreementSuperseded")
        .withArgs(key, 1, 2)
        .and.to.emit(agreements, "AgreementProposed")
        .withArgs(key, PLMN.US, PLMN.DE, 2, start + DAY, start + DAY + YEAR);
      await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start)))
        .to.emit(agreements, "AgreementSuperseded")
        .withArgs(key, 2, 3);
      expect((await agreements.getVersion(PLMN.DE, PLMN.US, 1)).status).to.equal(STATUS.Superseded);
      expect((await agreements.getVersion(PLMN.DE, PLMN.US, 2)).status).to.equal(STATUS.Superseded);
      expect((await agreements.getVersion(PLMN.DE, PLMN.US, 3)).status).to.equal(STATUS.Proposed);
      expect(await agreements.pendingVersion(PLMN.DE, PLMN.US)).to.equal(3n);
    });

    it("keeps agreements of different pairs apart", async function () {
      const { agreements, br, token, start } = await loadFixture(deployWithProposal);
      const terms = makeTerms(token, start, { ratePlans: [ratePlan(PLMN.BR, 1)] });
      await expect(agreements.connect(br).propose(PLMN.DE, terms))
        .to.emit(agreements, "AgreementProposed")
        .withArgs(keyOf(PLMN.BR, PLMN.DE), PLMN.BR, PLMN.DE, 1, start, start + YEAR)
        .and.not.to.emit(agreements, "AgreementSuperseded");
      expect(await agreements.pendingVersion(PLMN.DE, PLMN.BR)).to.equal(1n);
      expect(await agreements.pendingVersion(PLMN.DE, PLMN.US)).to.equal(1n);
    });

    it("reverts when the caller is not an operator of a member", async function () {
      const { agreements, carriers, outsider, token, start } = await loadFixture(deployAgreements);
      await expect(agreements.connect(outsider).propose(PLMN.US, makeTerms(token, start)))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(outsider.address);
    });

    it("reverts when the caller's member is not a carrier", async function () {
      const { agreements, carriers, maker, token, start } = await loadFixture(deployAgreements);
      await expect(agreements.connect(maker).propose(PLMN.US, makeTerms(token, start)))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryMissingRole")
        .withArgs(maker.address, PLMN.MAKER, 1);
    });

    it("reverts when the caller's member is suspended", async function () {
      const { agreements, carriers, de, us, br, token, start } = await loadFixture(deployAgreements);
      await setStatus(carriers, SUSPEND, PLMN.DE, us, br);
      await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start)))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(de.address);
    });

    it("reverts when the counterparty is the caller's own member", async function () {
      const { agreements, de, token, start } = await loadFixture(deployAgreements);
      await expect(agreements.connect(de).propose(PLMN.DE, makeTerms(token, start)))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsSelfAgreement")
        .withArgs(PLMN.DE);
    });

    it("reverts when the counterparty is not an active carrier", async function () {
      const { agreements, carriers, de, us, token, start } = await loadFixture(deployAgreements);
      for (const counterparty of [PLMN.MAKER, PLMN.NEWCOMER]) {
        await expect(agreements.connect(de).propose(counterparty, makeTerms(token, start)))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidCounterparty")
          .withArgs(counterparty);
      }
      await setStatus(carriers, SUSPEND, PLMN.BR, de, us);
      await expect(agreements.connect(de).propose(PLMN.BR, makeTerms(token, start)))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidCounterparty")
        .withArgs(PLMN.BR);
    });

    it("reverts when the settlement token is zero or not a contract", async function () {
      const { agreements, de, outsider, start } = await loadFixture(deployAgreements);
      for (const token of [ZeroAddress, outsider.address]) {
        await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start)))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidSettlementToken")
          .withArgs(token);
      }
    });

    it("reverts when validUntil is not after validFrom, is zero or is in the past", async function () {
      const { agreements, de, token, start } = await loadFixture(deployAgreements);
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
        await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, validFrom, { validUntil })))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidValidity")
          .withArgs(validFrom, validUntil);
      }
    });

    it("accepts terms that started in the past", async function () {
      const { agreements, de, token } = await loadFixture(deployAgreements);
      const now = await time.latest();
      await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, now - YEAR, { validUntil: now + DAY }))).to.emit(
        agreements,
        "AgreementProposed",
      );
    });

    it("reverts when the dispute window is zero or longer than 90 days", async function () {
      const { agreements, de, token, start } = await loadFixture(deployAgreements);
      for (const disputeWindow of [0, MAX_DISPUTE_WINDOW + 1]) {
        await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { disputeWindow })))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidDisputeWindow")
          .withArgs(disputeWindow);
      }
      await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { disputeWindow: MAX_DISPUTE_WINDOW }))).to.emit(
        agreements,
        "AgreementProposed",
      );
    });

    it("reverts when a permanent-roaming surcharge comes without a limit", async function () {
      const { agreements, de, token, start } = await loadFixture(deployAgreements);
      const terms = makeTerms(token, start, { permanentRoamingDays: 0, permanentRoamingSurchargePerDay: 5n });
      await expect(agreements.connect(de).propose(PLMN.US, terms))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidPermanentRoaming")
        .withArgs(0, 5n);
      const noLimit = makeTerms(token, start, { permanentRoamingDays: 0, permanentRoamingSurchargePerDay: 0n });
      await expect(agreements.connect(de).propose(PLMN.US, noLimit)).to.emit(agreements, "AgreementProposed");
    });

    it("reverts when an SLA basis-point figure exceeds 10000", async function () {
      const { agreements, de, token, start } = await loadFixture(deployAgreements);
      const base = makeTerms(token, start).sla;
      for (const field of ["minAvailabilityBps", "latencyCreditBps", "throughputCreditBps", "availabilityCreditBps"] as const) {
        const sla = { ...base, [field]: 10_001 };
        await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { sla })))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidSla")
          .withArgs(sla.minAvailabilityBps, sla.latencyCreditBps, sla.throughputCreditBps, sla.availabilityCreditBps);
      }
      const full = { ...base, minAvailabilityBps: 10_000, availabilityCreditBps: 10_000 };
      await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { sla: full }))).to.emit(
        agreements,
        "AgreementProposed",
      );
    });

    it("reverts when there are no rate plans or more than 64", async function () {
      const { agreements, de, token, start } = await loadFixture(deployAgreements);
      await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { ratePlans: [] })))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidPlanCount")
        .withArgs(0);
      const many = (n: number) => Array.from({ length: n }, (_, i) => ratePlan(i % 2 === 0 ? PLMN.DE : PLMN.US, i >> 1, { tiers: [] }));
      await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { ratePlans: many(65) })))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidPlanCount")
        .withArgs(65);
      await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { ratePlans: many(64) }))).to.emit(
        agreements,
        "AgreementProposed",
      );
    });

    it("reverts when a plan's visited carrier is not a party", async function () {
      const { agreements, de, token, start } = await loadFixture(deployAgreements);
      const ratePlans = [ratePlan(PLMN.DE, 1), ratePlan(PLMN.BR, 1)];
      await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { ratePlans })))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidVisited")
        .withArgs(1, PLMN.BR);
    });

    it("reverts when two plans have the same visited carrier and tariff class", async function () {
      const { agreements, de, token, start } = await loadFixture(deployAgreements);
      const ratePlans = [ratePlan(PLMN.DE, 1), ratePlan(PLMN.US, 1), ratePlan(PLMN.DE, 255), ratePlan(PLMN.DE, 1)];
      await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { ratePlans })))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsDuplicatePlan")
        .withArgs(3, PLMN.DE, 1);
      const upper = [ratePlan(PLMN.US, 0), ratePlan(PLMN.US, 255), ratePlan(PLMN.US, 0)];
      await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { ratePlans: upper })))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsDuplicatePlan")
        .withArgs(2, PLMN.US, 0);
    });

    it("reverts when a plan has more than 8 tiers", async function () {
      const { agreements, de, token, start } = await loadFixture(deployAgreements);
      const tiers = (n: number) => Array.from({ length: n }, (_, i) => ({ fromMb: i * 100, discountBps: i * 100 }));
      const ratePlans = [ratePlan(PLMN.DE, 1, { tiers: tiers(8) }), ratePlan(PLMN.US, 1, { tiers: tiers(9) })];
      await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { ratePlans })))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsTooManyTiers")
        .withArgs(1, 9);
    });

    it("reverts when a tier's discount exceeds 10000 or tiers are not ascending", async function () {
      const { agreements, de, token, start } = await loadFixture(deployAgreements);
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
        ],
      ];
      for (const [tiers, tierIndex] of cases) {
        const ratePlans = [ratePlan(PLMN.US, 4), ratePlan(PLMN.DE, 4, { tiers })];
        await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { ratePlans })))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidTier")
          .withArgs(1, tierIndex);
      }
      const flat = [ratePlan(PLMN.DE, 4, { tiers: [{ fromMb: 0, discountBps: 10_000 }] })];
      await expect(agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { ratePlans: flat }))).to.emit(
        agreements,
        "AgreementProposed",
      );
    });
  });

  describe("accept", function () {
    it("binds the pending version and emits AgreementAccepted", async function () {
      const { agreements, us, start, key } = await loadFixture(deployWithProposal);
      await expect(agreements.connect(us).accept(PLMN.DE, 1)).to.emit(agreements, "AgreementAccepted").withArgs(key, PLMN.US, 1);
      const v = await agreements.getVersion(PLMN.US, PLMN.DE, 1);
      expect(v.status).to.equal(STATUS.Accepted);
      expect(v.acceptedAt).to.equal(BigInt(await time.latest()));
      expect(await agreements.pendingVersion(PLMN.DE, PLMN.US)).to.equal(0n);
      expect(await agreements.acceptedVersions(PLMN.DE, PLMN.US)).to.deep.equal([1n]);
      expect(await agreements.counterparties(PLMN.DE)).to.deep.equal([PLMN.US]);
      expect(await agreements.counterparties(PLMN.US)).to.deep.equal([PLMN.DE]);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, start)).to.equal(true);
    });

    it("lets any operator of the counterparty accept a counter-offer", async function () {
      const { agreements, us, de2, token, start, key } = await loadFixture(deployWithProposal);
      await agreements.connect(us).propose(PLMN.DE, makeTerms(token, start));
      await expect(agreements.connect(de2).accept(PLMN.US, 2)).to.emit(agreements, "AgreementAccepted").withArgs(key, PLMN.DE, 2);
    });

    it("reverts when an operator of the proposer's own member accepts", async function () {
      const { agreements, de, de2, key } = await loadFixture(deployWithProposal);
      for (const signer of [de, de2]) {
        await expect(agreements.connect(signer).accept(PLMN.US, 1))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsProposerCannotAccept")
          .withArgs(key, 1, PLMN.DE);
      }
    });

    it("reverts when a third carrier accepts", async function () {
      const { agreements, br } = await loadFixture(deployWithProposal);
      await expect(agreements.connect(br).accept(PLMN.DE, 1))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsVersionNotPending")
        .withArgs(keyOf(PLMN.BR, PLMN.DE), 1, 0);
    });

    it("reverts when the caller is not an operator of a carrier member", async function () {
      const f = await loadFixture(deployWithProposal);
      await expectCarrierOperatorsOnly(f, (s) => f.agreements.connect(s).accept(PLMN.DE, 1));
    });

    it("reverts when the caller's member is suspended", async function () {
      const { agreements, carriers, de, us, br } = await loadFixture(deployWithProposal);
      await setStatus(carriers, SUSPEND, PLMN.US, de, br);
      await expect(agreements.connect(us).accept(PLMN.DE, 1))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(us.address);
    });

    it("reverts when the proposer was suspended after proposing", async function () {
      const { agreements, carriers, us, br } = await loadFixture(deployWithProposal);
      await setStatus(carriers, SUSPEND, PLMN.DE, us, br);
      await expect(agreements.connect(us).accept(PLMN.DE, 1))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsInvalidCounterparty")
        .withArgs(PLMN.DE);
    });

    it("reverts when the version was superseded", async function () {
      const { agreements, de, us, token, start, key } = await loadFixture(deployWithProposal);
      await agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { disputeWindow: DAY }));
      await expect(agreements.connect(us).accept(PLMN.DE, 1))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsVersionNotPending")
        .withArgs(key, 1, 2);
    });

    it("reverts when the version was withdrawn", async function () {
      const { agreements, de, us, key } = await loadFixture(deployWithProposal);
      await agreements.connect(de).withdraw(PLMN.US, 1);
      await expect(agreements.connect(us).accept(PLMN.DE, 1))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsVersionNotPending")
        .withArgs(key, 1, 0);
    });

    it("reverts when the version is not the pending one", async function () {
      const { agreements, us, key } = await loadFixture(deployWithProposal);
      for (const version of [0, 2]) {
        await expect(agreements.connect(us).accept(PLMN.DE, version))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsVersionNotPending")
          .withArgs(key, version, 1);
      }
    });

    it("reverts when there is nothing pending", async function () {
      const { agreements, us, key } = await loadFixture(deployWithAgreement);
      for (const version of [0, 1]) {
        await expect(agreements.connect(us).accept(PLMN.DE, version))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsVersionNotPending")
          .withArgs(key, version, 0);
      }
    });
  });

  describe("withdraw", function () {
    it("withdraws the pending proposal and emits AgreementWithdrawn", async function () {
      const { agreements, de2, token, start, key } = await loadFixture(deployWithProposal);
      await expect(agreements.connect(de2).withdraw(PLMN.US, 1)).to.emit(agreements, "AgreementWithdrawn").withArgs(key, PLMN.DE, 1);
      expect((await agreements.getVersion(PLMN.DE, PLMN.US, 1)).status).to.equal(STATUS.Withdrawn);
      expect(await agreements.pendingVersion(PLMN.DE, PLMN.US)).to.equal(0n);
      await expect(agreements.connect(de2).propose(PLMN.US, makeTerms(token, start)))
        .to.emit(agreements, "AgreementProposed")
        .withArgs(key, PLMN.DE, PLMN.US, 2, start, start + YEAR)
        .and.not.to.emit(agreements, "AgreementSuperseded");
    });

    it("leaves accepted versions in force", async function () {
      const { agreements, de, token, start } = await loadFixture(deployWithAgreement);
      await agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { disputeWindow: DAY }));
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
      await setStatus(carriers, SUSPEND, PLMN.DE, us, br);
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

  describe("ratesAt", function () {
    it("returns the plan of each direction and the version it comes from", async function () {
      const { agreements, token, start } = await loadFixture(deployWithAgreement);
      const terms = makeTerms(token, start);
      for (const expected of terms.ratePlans) {
        const visited = expected.visited as string;
        const home = visited === PLMN.DE ? PLMN.US : PLMN.DE;
        const [plan, version] = await agreements.ratesAt(home, visited, expected.tariffClass, start + 10 * DAY);
        expect(version).to.equal(1n);
        expectPlan(plan, expected);
      }
    });

    it("applies an accepted amendment from its validFrom, the earlier version before it", async function () {
      const { agreements, de, us, token, start } = await loadFixture(deployWithAgreement);
      const amendFrom = start + 100 * DAY;
      const amended = makeTerms(token, amendFrom, {
        ratePlans: [ratePlan(PLMN.DE, 1, { perMb: 1_500_000n, tiers: [] }), ratePlan(PLMN.US, 1)],
      });
      await agreements.connect(us).propose(PLMN.DE, amended);
      // Until accepted, an amendment changes nothing.
      expect((await agreements.ratesAt(PLMN.US, PLMN.DE, 1, amendFrom)).version).to.equal(1n);
      await agreements.connect(de).accept(PLMN.US, 2);

      const [before, vBefore] = await agreements.ratesAt(PLMN.US, PLMN.DE, 1, amendFrom - 1);
      expect(vBefore).to.equal(1n);
      expect(before.perMb).to.equal(2_001_000n);
      const [after, vAfter] = await agreements.ratesAt(PLMN.US, PLMN.DE, 1, amendFrom);
      expect(vAfter).to.equal(2n);
      expect(after.perMb).to.equal(1_500_000n);
      expect(after.tiers).to.have.length(0);
      // Beyond version 1's end, version 2 alone applies.
      expect((await agreements.ratesAt(PLMN.US, PLMN.DE, 1, start + YEAR + DAY)).version).to.equal(2n);
      expect(await agreements.acceptedVersions(PLMN.DE, PLMN.US)).to.deep.equal([1n, 2n]);
      expect(await agreements.counterparties(PLMN.DE)).to.deep.equal([PLMN.US]);
    });

    it("ends the agreement early when an accepted amendment has an earlier validUntil", async function () {
      const { agreements, de, us, token, start, key } = await loadFixture(deployWithAgreement);
      const endAt = start + 130 * DAY; // version 1 runs to start + YEAR
      const shortened = makeTerms(token, start + 100 * DAY, { validUntil: endAt });
      await agreements.connect(de).propose(PLMN.US, shortened);
      await agreements.connect(us).accept(PLMN.DE, 2);
      // Before the amendment's validFrom, version 1 still applies.
      expect((await agreements.ratesAt(PLMN.US, PLMN.DE, 1, start)).version).to.equal(1n);
      expect((await agreements.ratesAt(PLMN.US, PLMN.DE, 1, start + 100 * DAY - 1)).version).to.equal(1n);
      expect((await agreements.ratesAt(PLMN.US, PLMN.DE, 1, endAt - 1)).version).to.equal(2n);
      // From its validUntil on, no agreement: version 1's longer window does not show through.
      for (const t of [endAt, endAt + DAY, start + YEAR - 1]) {
        await expect(agreements.ratesAt(PLMN.US, PLMN.DE, 1, t))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
          .withArgs(key, t);
        await expect(agreements.termsAt(PLMN.DE, PLMN.US, t))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
          .withArgs(key, t);
        expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, t)).to.equal(false);
      }
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, endAt - 1)).to.equal(true);
    });

    it("lets an amendment that starts before the older version replace it entirely", async function () {
      const { agreements, de, us, token, start, key } = await loadFixture(deployWithAgreement);
      const earlier = makeTerms(token, start - 10 * DAY, { validUntil: start + 10 * DAY });
      await agreements.connect(us).propose(PLMN.DE, earlier);
      await agreements.connect(de).accept(PLMN.US, 2);
      expect((await agreements.ratesAt(PLMN.US, PLMN.DE, 1, start - 10 * DAY)).version).to.equal(2n);
      expect((await agreements.ratesAt(PLMN.US, PLMN.DE, 1, start)).version).to.equal(2n);
      await expect(agreements.ratesAt(PLMN.US, PLMN.DE, 1, start + 10 * DAY))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
        .withArgs(key, start + 10 * DAY);
      await expect(agreements.ratesAt(PLMN.US, PLMN.DE, 1, start - 10 * DAY - 1))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
        .withArgs(key, start - 10 * DAY - 1);
    });

    it("resumes with a later amendment after a gap", async function () {
      const { agreements, de, us, token, start, key } = await loadFixture(deployWithAgreement);
      await agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { validUntil: start + 30 * DAY }));
      await agreements.connect(us).accept(PLMN.DE, 2);
      await agreements.connect(us).propose(PLMN.DE, makeTerms(token, start + 60 * DAY));
      await agreements.connect(de).accept(PLMN.US, 3);
      expect((await agreements.ratesAt(PLMN.US, PLMN.DE, 1, start + 29 * DAY)).version).to.equal(2n);
      await expect(agreements.ratesAt(PLMN.US, PLMN.DE, 1, start + 45 * DAY))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
        .withArgs(key, start + 45 * DAY);
      expect((await agreements.ratesAt(PLMN.US, PLMN.DE, 1, start + 60 * DAY)).version).to.equal(3n);
    });

    it("reverts when the time is before validFrom or at or after validUntil", async function () {
      const { agreements, start, key } = await loadFixture(deployWithAgreement);
      for (const t of [0, start - 1, start + YEAR, start + 2 * YEAR]) {
        await expect(agreements.ratesAt(PLMN.US, PLMN.DE, 1, t))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
          .withArgs(key, t);
      }
      expect((await agreements.ratesAt(PLMN.US, PLMN.DE, 1, start + YEAR - 1)).version).to.equal(1n);
    });

    it("reverts when the version has no plan for the tariff class in that direction", async function () {
      const { agreements, de, us, token, start, key } = await loadFixture(deployWithAgreement);
      await expect(agreements.ratesAt(PLMN.US, PLMN.DE, 7, start))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoRatePlan")
        .withArgs(key, 1, PLMN.DE, 7);
      // Class 5 only when DE is visited.
      await agreements.connect(de).propose(PLMN.US, makeTerms(token, start, { ratePlans: [ratePlan(PLMN.DE, 5)] }));
      await agreements.connect(us).accept(PLMN.DE, 2);
      expect((await agreements.ratesAt(PLMN.US, PLMN.DE, 5, start)).version).to.equal(2n);
      await expect(agreements.ratesAt(PLMN.DE, PLMN.US, 5, start))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoRatePlan")
        .withArgs(key, 2, PLMN.US, 5);
      // The version in force governs: no fallback to version 1's class 1 plan.
      await expect(agreements.ratesAt(PLMN.US, PLMN.DE, 1, start))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoRatePlan")
        .withArgs(key, 2, PLMN.DE, 1);
    });

    it("reverts when the pair has no accepted version", async function () {
      const { agreements, start } = await loadFixture(deployWithProposal);
      await expect(agreements.ratesAt(PLMN.US, PLMN.DE, 1, start))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
        .withArgs(keyOf(PLMN.DE, PLMN.US), start);
      await expect(agreements.ratesAt(PLMN.DE, PLMN.DE, 1, start))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
        .withArgs(keyOf(PLMN.DE, PLMN.DE), start);
    });

    it("still answers after a party is suspended, for settling past usage", async function () {
      const { agreements, carriers, us, br, start } = await loadFixture(deployWithAgreement);
      await setStatus(carriers, SUSPEND, PLMN.DE, us, br);
      expect((await agreements.ratesAt(PLMN.US, PLMN.DE, 1, start)).version).to.equal(1n);
    });
  });

  describe("termsAt", function () {
    it("returns the whole terms of the applicable version", async function () {
      const { agreements, token, start } = await loadFixture(deployWithAgreement);
      const [terms, version] = await agreements.termsAt(PLMN.DE, PLMN.US, start);
      const expected = makeTerms(token, start);
      expect(version).to.equal(1n);
      expect(terms.settlementToken).to.equal(token);
      expect(terms.validFrom).to.equal(BigInt(start));
      expect(terms.validUntil).to.equal(BigInt(start + YEAR));
      expect(terms.sla.maxLatencyMs).to.equal(300n);
      expect(terms.sla.availabilityCreditBps).to.equal(500n);
      expect(terms.ratePlans).to.have.length(expected.ratePlans.length);
      for (const [i, p] of expected.ratePlans.entries()) expectPlan(terms.ratePlans[i], p);
    });

    it("reverts when no version is in force at the time", async function () {
      const { agreements, start, key } = await loadFixture(deployWithAgreement);
      await expect(agreements.termsAt(PLMN.DE, PLMN.US, start - 1))
        .to.be.revertedWithCustomError(agreements, "RoamingAgreementsNoAgreementAt")
        .withArgs(key, start - 1);
    });
  });

  describe("disputeWindowAt", function () {
    it("is the dispute window of the version in force at the time, as termsAt has it", async function () {
      const { agreements, de, us, token, start } = await loadFixture(deployWithAgreement);
      await agreements.connect(us).propose(PLMN.DE, makeTerms(token, start + 10 * DAY, { disputeWindow: 2 * DAY }));
      await agreements.connect(de).accept(PLMN.US, 2);
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
      await setStatus(carriers, SUSPEND, PLMN.US, de, br);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, start)).to.equal(false);
      expect(await agreements.hasActiveAgreement(PLMN.US, PLMN.DE, start)).to.equal(false);
      await setStatus(carriers, REINSTATE, PLMN.US, de, br);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, start)).to.equal(true);
      await setStatus(carriers, SUSPEND, PLMN.DE, us, br);
      expect(await agreements.hasActiveAgreement(PLMN.DE, PLMN.US, start)).to.equal(false);
    });
  });

  describe("getVersion", function () {
    it("reverts when the version does not exist", async function () {
      const { agreements, key } = await loadFixture(deployWithProposal);
      for (const version of [0, 2]) {
        await expect(agreements.getVersion(PLMN.DE, PLMN.US, version))
          .to.be.revertedWithCustomError(agreements, "RoamingAgreementsUnknownVersion")
          .withArgs(key, version);
      }
    });
  });

  describe("counterparties", function () {
    it("lists each partner once, in order of first acceptance", async function () {
      const { agreements, de, us, br, token, start } = await loadFixture(deployWithAgreement);
      expect(await agreements.counterparties(PLMN.BR)).to.deep.equal([]);
      await agreements.connect(br).propose(PLMN.DE, makeTerms(token, start, { ratePlans: [ratePlan(PLMN.BR, 1)] }));
      await agreements.connect(de).accept(PLMN.BR, 1);
      await agreements.connect(us).propose(PLMN.DE, makeTerms(token, start));
      await agreements.connect(de).accept(PLMN.US, 2);
      expect(await agreements.counterparties(PLMN.DE)).to.deep.equal([PLMN.US, PLMN.BR]);
      expect(await agreements.counterparties(PLMN.BR)).to.deep.equal([PLMN.DE]);
    });
  });

  describe("invariants", function () {
    // Over random sequences of propose / accept / withdraw by DE and US:
    // - at most one version is pending, and it is exactly the one with status Proposed;
    // - every version that is not pending is final (Accepted, Withdrawn or Superseded) and stays so;
    // - the accepted versions are ascending and are exactly those with status Accepted.
    it("keeps one pending proposal at most and final states final", async function () {
      const op = fc.record({
        kind: fc.constantFrom("propose", "accept", "withdraw"),
        byDe: fc.boolean(),
        offset: fc.integer({ min: -1, max: 1 }),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
          const { agreements, de, us, token, start } = await loadFixture(deployAgreements);
          const finals = new Map<bigint, bigint>();
          for (const { kind, byDe, offset } of ops) {
            const [signer, other] = byDe ? [de, PLMN.US] : [us, PLMN.DE];
            const pending = await agreements.pendingVersion(PLMN.DE, PLMN.US);
            const version = Math.max(0, Number(pending) + offset);
            const send =
              kind === "propose"
                ? agreements.connect(signer).propose(other, makeTerms(token, start))
                : kind === "accept"
                  ? agreements.connect(signer).accept(other, version)
                  : agreements.connect(signer).withdraw(other, version);
            await send.then((tx) => tx.wait()).catch(() => undefined);

            const count = await agreements.versionCount(PLMN.DE, PLMN.US);
            const nowPending = await agreements.pendingVersion(PLMN.DE, PLMN.US);
            const accepted = await agreements.acceptedVersions(PLMN.DE, PLMN.US);
            expect([...accepted]).to.deep.equal([...accepted].sort((a, b) => (a < b ? -1 : 1)));
            for (let v = 1n; v <= count; v++) {
              const { status } = await agreements.getVersion(PLMN.DE, PLMN.US, v);
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
          const { agreements, de, us, token, start } = await loadFixture(deployAgreements);
          const at = (d: number) => start + d * DAY;
          for (const [i, w] of windows.entries()) {
            const terms = makeTerms(token, at(w.from), {
              validUntil: at(w.from + w.length),
              ratePlans: [ratePlan(PLMN.DE, 1, { tiers: [] })],
            });
            await agreements.connect(de).propose(PLMN.US, terms);
            await agreements.connect(us).accept(PLMN.DE, i + 1);
          }
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
              await expect(agreements.ratesAt(PLMN.US, PLMN.DE, 1, t)).to.be.revertedWithCustomError(
                agreements,
                "RoamingAgreementsNoAgreementAt",
              );
            } else {
              expect((await agreements.ratesAt(PLMN.US, PLMN.DE, 1, t)).version, `t=${t - start}`).to.equal(want);
            }
          }
        }),
        { numRuns: 20 },
      );
    });
  });

  describe("gas", function () {
    it("measures propose + accept of a realistic agreement (2 directions x 3 classes x 3 tiers)", async function () {
      const { agreements, de, us, token, start } = await loadFixture(deployAgreements);
      const proposeReceipt = await (await agreements.connect(de).propose(PLMN.US, makeTerms(token, start))).wait();
      const acceptReceipt = await (await agreements.connect(us).accept(PLMN.DE, 1)).wait();
      const proposeGas = proposeReceipt!.gasUsed;
      const acceptGas = acceptReceipt!.gasUsed;
      const amendReceipt = await (await agreements.connect(us).propose(PLMN.DE, makeTerms(token, start + DAY))).wait();
      const ratesGas = await agreements.ratesAt.estimateGas(PLMN.US, PLMN.DE, 2, start);
      console.log(
        `      propose ${proposeGas} + accept ${acceptGas} = ${proposeGas + acceptGas} gas; ` +
          `amendment propose ${amendReceipt!.gasUsed}; ratesAt (as a transaction) ${ratesGas}`,
      );
      expect(proposeGas + acceptGas).to.be.lessThan(2_000_000n);
    });
  });
});
