import hre from "hardhat";
import { expect } from "chai";
import fc from "fast-check";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { rateInvoice, ratingFromStruct } from "../../lib/settlement/rating";
import type { ClassTotals } from "../../lib/usage/types";
import type { RatePlanStruct, TermsStruct, TierStruct } from "../../lib/agreements/terms";
import type { RatingLib__Mock } from "../../typechain-types";
import { BR, DATA_EXAMPLES, DE, INVOICE_EXAMPLES, TOKEN, terms } from "../helpers/rating";

const U32 = 2 ** 32 - 1;
const U64 = 2n ** 64n - 1n;
const RATE_MAX = 2n ** 100n;
/** Cases per eth_call and calls: 6 x 50 = 300 random invoices. */
const BATCH = 50;
const BATCHES = 6;

async function deployHarness(): Promise<RatingLib__Mock> {
  return (await hre.ethers.deployContract("RatingLib__Mock")) as unknown as RatingLib__Mock;
}

// ---------------------------------------------------------------------------------------------------
// Random inputs: volumes up to 2^64 - 1, rates up to 2^100, 0-8 tiers, SLA on or off
// ---------------------------------------------------------------------------------------------------

/** A uint64 biased towards figures that cross tier thresholds and SLA targets. */
const volume = fc.oneof(fc.bigInt({ min: 0n, max: 10_000_000_000n }), fc.bigInt({ min: 0n, max: U64 }));
const count32 = fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: U32 }));
const rate = fc.oneof(fc.bigInt({ min: 0n, max: 1_000_000n }), fc.bigInt({ min: 0n, max: RATE_MAX }));

/** 0-8 tiers, strictly ascending by fromMb, discounts non-decreasing and at most 10000 (as validated). */
const tiers: fc.Arbitrary<TierStruct[]> = fc
  .uniqueArray(fc.oneof(fc.bigInt({ min: 0n, max: 20_000n }), fc.bigInt({ min: 0n, max: 2n ** 44n }), fc.bigInt({ min: 0n, max: U64 })), {
    maxLength: 8,
  })
  .chain((thresholds) =>
    fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: thresholds.length, maxLength: thresholds.length }).map((discounts) => {
      const from = [...thresholds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const bps = [...discounts].sort((a, b) => a - b);
      return from.map((fromMb, i) => ({ fromMb, discountBps: bps[i] }));
    }),
  );

const ratePlan = (visited: string, tariffClass: number): fc.Arbitrary<RatePlanStruct> =>
  fc.record({
    visited: fc.constant(visited as RatePlanStruct["visited"]),
    tariffClass: fc.constant(tariffClass),
    perMb: rate,
    perSignallingEvent: rate,
    perSms: rate,
    perVoiceMinute: rate,
    monthlyFeePerDevice: rate,
    tiers,
  });

/** Plans of both carriers for some of the classes 0-5 (totals use 0-7, so some classes are unpriced). */
const plans: fc.Arbitrary<RatePlanStruct[]> = fc
  .tuple(fc.subarray([0, 1, 2, 3, 4, 5]), fc.subarray([0, 1, 2, 3, 4, 5]))
  .chain(([deClasses, brClasses]) => fc.tuple(...deClasses.map((c) => ratePlan(DE, c)), ...brClasses.map((c) => ratePlan(BR, c))))
  .chain((list) => fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }));

const latency = fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: U32 }));
const bps = fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 65_535 }));
const slaTerms = fc.record({
  maxLatencyMs: fc.oneof(fc.constant(0), latency),
  minThroughputKbps: fc.oneof(fc.constant(0), latency),
  minAvailabilityBps: fc.integer({ min: 0, max: 10_000 }),
  latencyCreditBps: bps,
  throughputCreditBps: bps,
  availabilityCreditBps: fc.integer({ min: 0, max: 10_000 }),
});
const noSla = fc.constant(terms([]).sla);

const termsArb: fc.Arbitrary<TermsStruct> = fc.record({
  settlementToken: fc.constant(TOKEN),
  validFrom: fc.constant(0n),
  validUntil: fc.constant(2n ** 40n - 1n),
  disputeWindow: fc.constant(86_400),
  permanentRoamingDays: fc.integer({ min: 0, max: 65_535 }),
  permanentRoamingSurchargePerDay: rate,
  sla: fc.oneof(slaTerms, noSla),
  ratePlans: plans,
});

/** QoS sums that average near the SLA targets, or anywhere in uint64. */
const qos = fc.oneof(
  fc.record({
    qosSamples: fc.integer({ min: 0, max: 1_000 }),
    latencyMsSum: fc.bigInt({ min: 0n, max: 2_000_000n }),
    throughputKbpsSum: fc.bigInt({ min: 0n, max: 2_000_000n }),
  }),
  fc.record({ qosSamples: count32, latencyMsSum: fc.bigInt({ min: 0n, max: U64 }), throughputKbpsSum: fc.bigInt({ min: 0n, max: U64 }) }),
);

const classTotals = (tariffClass: number): fc.Arbitrary<ClassTotals> =>
  fc
    .record({
      records: count32,
      activeDevices: count32,
      roamerDays: count32,
      dataBytes: volume,
      signallingEvents: volume,
      smsCount: volume,
      voiceSeconds: volume,
      qos,
    })
    .map(({ qos: q, ...rest }) => ({ tariffClass, ...rest, ...q }));

/** 0-6 classes from 0-7, strictly ascending (as the ledger keeps them). */
const totalsArb: fc.Arbitrary<ClassTotals[]> = fc
  .uniqueArray(fc.integer({ min: 0, max: 7 }), { maxLength: 6 })
  .chain((classes) => fc.tuple(...[...classes].sort((a, b) => a - b).map(classTotals)));

const caseArb = fc.record({ totals: totalsArb, terms: termsArb, visited: fc.constantFrom(DE, BR) });

// ---------------------------------------------------------------------------------------------------

describe("RatingLib", function () {
  describe("agrees with lib/settlement/rating to the smallest unit", function () {
    it(`on ${BATCH * BATCHES} random invoices (0-8 tiers, rates up to 2^100, volumes up to 2^64 - 1, SLA on/off)`, async function () {
      const harness = await loadFixture(deployHarness);
      let compared = 0;
      let priced = 0;
      let credited = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(caseArb, { minLength: BATCH, maxLength: BATCH }), async (cases) => {
          const onChain = await harness.rateMany(cases);
          expect(onChain.length).to.equal(cases.length);
          cases.forEach((c, i) => {
            const expected = rateInvoice(c.totals, c.terms, c.visited);
            expect(ratingFromStruct(onChain[i]), `case ${i}`).to.deep.equal(expected);
            compared++;
            if (expected.lines.some((l) => l.priced && l.data > 0n)) priced++;
            if (expected.creditBps > 0) credited++;
          });
        }),
        { numRuns: BATCHES },
      );
      expect(compared).to.be.at.least(300);
      // The inputs reach the interesting paths: tiered data charges and SLA credits.
      expect(priced).to.be.above(30);
      expect(credited).to.be.above(30);
    });
  });

  describe("dataCharge", function () {
    for (const ex of DATA_EXAMPLES) {
      it(`${ex.name}: ${ex.expected}`, async function () {
        const harness = await loadFixture(deployHarness);
        expect(await harness.dataCharge(ex.volume, ex.perMb, ex.tiers)).to.equal(ex.expected);
      });
    }

    it("reverts on a discount above 100 % that a band uses (never in validated terms)", async function () {
      const harness = await loadFixture(deployHarness);
      await expect(harness.dataCharge(2_000_000n, 1n, [{ fromMb: 1n, discountBps: 10_001 }])).to.be.revertedWithPanic(0x11);
      expect(await harness.dataCharge(500_000n, 2n, [{ fromMb: 1n, discountBps: 10_001 }])).to.equal(1n);
    });
  });

  describe("rate", function () {
    for (const ex of INVOICE_EXAMPLES) {
      it(`${ex.name}: net ${ex.expected.net}`, async function () {
        const harness = await loadFixture(deployHarness);
        expect(ratingFromStruct(await harness.rate(ex.totals, ex.terms, ex.visited))).to.deep.equal(ex.expected);
      });
    }

    it("does not overflow at the largest totals and rates", async function () {
      const harness = await loadFixture(deployHarness);
      const U128 = 2n ** 128n - 1n;
      const fullTiers = Array.from({ length: 8 }, (_, i) => ({ fromMb: BigInt(i + 1) * 1_000_000n, discountBps: 0 }));
      const fullPlan = (tariffClass: number) => ({
        visited: BR,
        tariffClass,
        perMb: U128,
        perSignallingEvent: U128,
        perSms: U128,
        perVoiceMinute: U128,
        monthlyFeePerDevice: U128,
        tiers: fullTiers,
      });
      const fullTotals = (tariffClass: number): ClassTotals => ({
        tariffClass,
        records: U32,
        activeDevices: U32,
        roamerDays: U32,
        dataBytes: U64,
        signallingEvents: U64,
        smsCount: U64,
        voiceSeconds: U64,
        qosSamples: U32,
        latencyMsSum: U64,
        throughputKbpsSum: U64,
      });
      const classes = Array.from({ length: 64 }, (_, i) => i);
      const terms: TermsStruct = {
        settlementToken: TOKEN,
        validFrom: 0n,
        validUntil: 2n ** 40n - 1n,
        disputeWindow: 86_400,
        permanentRoamingDays: 1,
        permanentRoamingSurchargePerDay: U128,
        sla: {
          maxLatencyMs: 1,
          minThroughputKbps: U32,
          minAvailabilityBps: 0,
          latencyCreditBps: 1,
          throughputCreditBps: 1,
          availabilityCreditBps: 0,
        },
        ratePlans: classes.map(fullPlan) as RatePlanStruct[],
      };
      const totals = classes.map(fullTotals);
      const onChain = ratingFromStruct(await harness.rate(totals, terms, BR));
      expect(onChain).to.deep.equal(rateInvoice(totals, terms, BR));
      expect(onChain.subtotal > 2n ** 192n).to.equal(true);
      // Average latency (2^64 - 1) / (2^32 - 1) = 2^32 + 1 is above 1 ms; the average throughput, the same,
      // cannot be below any uint32 target.
      expect(onChain.avgLatencyMs).to.equal(2n ** 32n + 1n);
      expect(onChain.creditBps).to.equal(1);
    });
  });
});
