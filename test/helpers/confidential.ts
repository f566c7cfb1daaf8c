/**
 * Random terms and totals for the tests of the pair's channel (commitments, sealed terms, sealed invoices):
 * every field over its whole Solidity range, so that the TypeScript encodings are checked against the
 * contracts' where it matters (large words, empty and full lists).
 */
import fc from "fast-check";
import type { RatePlanStruct, TermsStruct } from "../../lib/agreements/terms";
import type { ClassTotals } from "../../lib/usage/types";
import type { Hex } from "../../lib/util/hex";
import { BR, DE, TOKEN } from "./rating";

const uint = (bits: number) => fc.bigInt({ min: 0n, max: 2n ** BigInt(bits) - 1n });
const small = (bits: number) => fc.integer({ min: 0, max: 2 ** bits - 1 });

/** 32 random bytes as lowercase hex. */
export const bytes32: fc.Arbitrary<Hex> = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => `0x${Buffer.from(b).toString("hex")}` as Hex);

/** A rate plan of `visited` with any values (not necessarily valid terms). */
export const anyPlan: fc.Arbitrary<RatePlanStruct> = fc.record({
  visited: fc.constantFrom(DE, BR),
  tariffClass: small(8),
  perMb: uint(128),
  perSignallingEvent: uint(128),
  perSms: uint(128),
  perVoiceMinute: uint(128),
  monthlyFeePerDevice: uint(128),
  tiers: fc.array(fc.record({ fromMb: uint(64), discountBps: small(16) }), { maxLength: 8 }),
});

/** Terms with every field over its Solidity type's range (the ABI encoding, not validity, is under test). */
export const anyTerms: fc.Arbitrary<TermsStruct> = fc.record({
  settlementToken: fc.constant(TOKEN),
  validFrom: uint(40),
  validUntil: uint(40),
  disputeWindow: fc.nat({ max: 2 ** 32 - 1 }),
  permanentRoamingDays: small(16),
  permanentRoamingSurchargePerDay: uint(128),
  sla: fc.record({
    maxLatencyMs: fc.nat({ max: 2 ** 32 - 1 }),
    minThroughputKbps: fc.nat({ max: 2 ** 32 - 1 }),
    minAvailabilityBps: small(16),
    latencyCreditBps: small(16),
    throughputCreditBps: small(16),
    availabilityCreditBps: small(16),
  }),
  ratePlans: fc.array(anyPlan, { maxLength: 6 }),
});

/** Totals of one class with every field over its Solidity type's range. */
export const anyClassTotals: fc.Arbitrary<ClassTotals> = fc.record({
  tariffClass: small(8),
  records: fc.nat({ max: 2 ** 32 - 1 }),
  activeDevices: fc.nat({ max: 2 ** 32 - 1 }),
  roamerDays: fc.nat({ max: 2 ** 32 - 1 }),
  dataBytes: uint(64),
  signallingEvents: uint(64),
  smsCount: uint(64),
  voiceSeconds: uint(64),
  qosSamples: fc.nat({ max: 2 ** 32 - 1 }),
  latencyMsSum: uint(64),
  throughputKbpsSum: uint(64),
});

/** Totals of 0-8 classes. */
export const anyTotals: fc.Arbitrary<ClassTotals[]> = fc.array(anyClassTotals, { maxLength: 8 });

/** One class's totals with small figures, the rest zero. */
export function totalsOf(tariffClass: number, records: number, dataBytes: bigint): ClassTotals {
  return {
    tariffClass,
    records,
    activeDevices: 2,
    roamerDays: 1,
    dataBytes,
    signallingEvents: 7n,
    smsCount: 3n,
    voiceSeconds: 120n,
    qosSamples: 2,
    latencyMsSum: 90n,
    throughputKbpsSum: 2_400n,
  };
}

/** Valid terms between DE and BR (what a terms file gives): one plan per side, tiers, SLA, a surcharge. */
export function validTerms(plans = 2, tiersPerPlan = 2): TermsStruct {
  const ratePlans: RatePlanStruct[] = Array.from({ length: plans }, (_, i) => ({
    visited: i % 2 === 0 ? BR : DE,
    tariffClass: Math.floor(i / 2),
    perMb: 500_000n + BigInt(i),
    perSignallingEvent: 100n,
    perSms: 10_000n,
    perVoiceMinute: 20_000n,
    monthlyFeePerDevice: 50_000n,
    tiers: Array.from({ length: tiersPerPlan }, (_, j) => ({ fromMb: 10_000n * BigInt(j + 1), discountBps: 500 * (j + 1) })),
  }));
  return {
    settlementToken: TOKEN,
    validFrom: 1_793_491_200n, // 2026-11-01
    validUntil: 1_825_027_200n, // 2027-11-01
    disputeWindow: 7 * 86_400,
    permanentRoamingDays: 90,
    permanentRoamingSurchargePerDay: 50_000n,
    sla: {
      maxLatencyMs: 500,
      minThroughputKbps: 100,
      minAvailabilityBps: 9_950,
      latencyCreditBps: 100,
      throughputCreditBps: 100,
      availabilityCreditBps: 200,
    },
    ratePlans,
  };
}
