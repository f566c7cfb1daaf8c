/**
 * Rating inputs shared by the TypeScript tests (lib/settlement/rating) and the Solidity ones (RatingLib__Mock):
 * builders, and examples whose expected figures are computed by hand in the comments.
 */
import { parsePlmn } from "../../lib/core/plmn";
import { zeroTotals, type ClassTotals } from "../../lib/usage/types";
import type { RatePlanStruct, TermsStruct, TierStruct } from "../../lib/agreements/terms";

export const DE = parsePlmn("262-01");
export const BR = parsePlmn("724-05");
export const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

/** Totals of one class, zero but for `fields`. */
export function classTotals(tariffClass: number, fields: Partial<ClassTotals> = {}): ClassTotals {
  return { ...zeroTotals(tariffClass), ...fields };
}

/** A plan of `visited` for `tariffClass`, zero rates but for `fields`. */
export function plan(visited: string, tariffClass: number, fields: Partial<RatePlanStruct> = {}): RatePlanStruct {
  return {
    visited: visited as RatePlanStruct["visited"],
    tariffClass,
    perMb: 0n,
    perSignallingEvent: 0n,
    perSms: 0n,
    perVoiceMinute: 0n,
    monthlyFeePerDevice: 0n,
    tiers: [],
    ...fields,
  };
}

/** Terms with `plans`, no SLA commitment and no surcharge but for `fields`. */
export function terms(plans: RatePlanStruct[], fields: Partial<TermsStruct> = {}): TermsStruct {
  return {
    settlementToken: TOKEN,
    validFrom: 0n,
    validUntil: 2n ** 40n - 1n,
    disputeWindow: 86_400,
    permanentRoamingDays: 0,
    permanentRoamingSurchargePerDay: 0n,
    sla: {
      maxLatencyMs: 0,
      minThroughputKbps: 0,
      minAvailabilityBps: 0,
      latencyCreditBps: 0,
      throughputCreditBps: 0,
      availabilityCreditBps: 0,
    },
    ratePlans: plans,
    ...fields,
  };
}

export const sla = (fields: Partial<TermsStruct["sla"]>): TermsStruct["sla"] => ({ ...terms([]).sla, ...fields });

/** A data-tier example: volume, perMb, tiers and the charge worked out by hand. */
export interface DataExample {
  name: string;
  volume: bigint;
  perMb: bigint;
  tiers: TierStruct[];
  expected: bigint;
}

const MB = 1_000_000n;

export const DATA_EXAMPLES: DataExample[] = [
  {
    // 100 MB x 1.00 + 900 MB x 0.90 + 500 MB x 0.75 = 100 + 810 + 375 = 1285 tokens of 10^6 units.
    name: "1500 MB across two tiers at 1 token/MB",
    volume: 1500n * MB,
    perMb: 1_000_000n,
    tiers: [
      { fromMb: 100n, discountBps: 1000 },
      { fromMb: 1000n, discountBps: 2500 },
    ],
    expected: 1_285_000_000n,
  },
  {
    // Below the first tier: 50 MB x 1.00 = 50 tokens; the tiers do not apply.
    name: "volume below the first tier",
    volume: 50n * MB,
    perMb: 1_000_000n,
    tiers: [{ fromMb: 100n, discountBps: 5000 }],
    expected: 50_000_000n,
  },
  {
    // A tier from 0 MB discounts every byte: 10 MB x 2 units x 0.80 = 16.
    name: "a tier from 0 MB",
    volume: 10n * MB,
    perMb: 2n,
    tiers: [{ fromMb: 0n, discountBps: 2000 }],
    expected: 16n,
  },
  {
    // 1 MB x 1 + 1 MB x 0.5 + 1 MB x 0.5 = 2.0 -> 2: one floor per class (a floor per band would give 1).
    name: "one floor per class, not per band",
    volume: 3n * MB,
    perMb: 1n,
    tiers: [
      { fromMb: 1n, discountBps: 5000 },
      { fromMb: 2n, discountBps: 5000 },
    ],
    expected: 2n,
  },
  {
    // 999,999 bytes at 1 unit/MB = 0.999999 -> 0.
    name: "rounds down below one unit",
    volume: 999_999n,
    perMb: 1n,
    tiers: [],
    expected: 0n,
  },
  {
    // 1,000,001 bytes at 3 units/MB = 3.000003 -> 3.
    name: "rounds down a fraction of a unit",
    volume: 1_000_001n,
    perMb: 3n,
    tiers: [],
    expected: 3n,
  },
  {
    // 100 % discount from 1 MB: only the first MB is paid: 7.
    name: "a 100 % tier",
    volume: 5n * MB,
    perMb: 7n,
    tiers: [{ fromMb: 1n, discountBps: 10_000 }],
    expected: 7n,
  },
  {
    // The largest volume at the largest rate, no tiers: floor((2^64-1) x (2^128-1) / 10^6).
    name: "uint64 volume x uint128 rate",
    volume: 2n ** 64n - 1n,
    perMb: 2n ** 128n - 1n,
    tiers: [],
    expected: ((2n ** 64n - 1n) * (2n ** 128n - 1n)) / MB,
  },
];

/** A full invoice example: totals, terms, the visited carrier and the rating worked out by hand. */
export interface InvoiceExample {
  name: string;
  totals: ClassTotals[];
  terms: TermsStruct;
  visited: string;
  expected: {
    lines: {
      tariffClass: number;
      priced: boolean;
      data: bigint;
      signalling: bigint;
      sms: bigint;
      voice: bigint;
      monthly: bigint;
      surcharge: bigint;
      total: bigint;
    }[];
    subtotal: bigint;
    qosSamples: bigint;
    avgLatencyMs: bigint;
    avgThroughputKbps: bigint;
    creditBps: number;
    credit: bigint;
    net: bigint;
  };
}

const ZERO_LINE = { priced: false, data: 0n, signalling: 0n, sms: 0n, voice: 0n, monthly: 0n, surcharge: 0n, total: 0n };

export const INVOICE_EXAMPLES: InvoiceExample[] = [
  {
    // Class 1 at BR: data 1500 MB as in DATA_EXAMPLES[0] = 1,285,000,000; signalling 1,000 x 100 = 100,000;
    // SMS 20 x 10,000 = 200,000; voice 61 s x 20,000/min = 1,220,000 / 60 = 20,333.3 -> 20,333;
    // monthly 3 x 50,000 = 150,000; surcharge 4 days x 50,000 = 200,000.
    // Total 1,285,000,000 + 100,000 + 200,000 + 20,333 + 150,000 + 200,000 = 1,285,670,333.
    // Class 7 has no plan at BR (DE's plan for class 7 prices the other direction): unpriced, zero.
    // QoS: samples 2 + 1 = 3; latency (1,000 + 503) / 3 = 501 > 500 -> 100 bps; throughput
    // (150 + 150) / 3 = 100, not below 100 -> nothing. Credit floor(1,285,670,333 x 100 / 10,000) =
    // 12,856,703; net 1,272,813,630.
    name: "two classes, one unpriced, latency credit",
    totals: [
      classTotals(1, {
        records: 1_100,
        activeDevices: 3,
        roamerDays: 4,
        dataBytes: 1500n * MB,
        signallingEvents: 1_000n,
        smsCount: 20n,
        voiceSeconds: 61n,
        qosSamples: 2,
        latencyMsSum: 1_000n,
        throughputKbpsSum: 150n,
      }),
      classTotals(7, { records: 5, dataBytes: 9n * MB, qosSamples: 1, latencyMsSum: 503n, throughputKbpsSum: 150n }),
    ],
    terms: terms(
      [
        plan(DE, 7, { perMb: 1_000_000n }),
        plan(BR, 1, {
          perMb: 1_000_000n,
          perSignallingEvent: 100n,
          perSms: 10_000n,
          perVoiceMinute: 20_000n,
          monthlyFeePerDevice: 50_000n,
          tiers: DATA_EXAMPLES[0].tiers,
        }),
      ],
      {
        permanentRoamingDays: 90,
        permanentRoamingSurchargePerDay: 50_000n,
        sla: sla({ maxLatencyMs: 500, minThroughputKbps: 100, latencyCreditBps: 100, throughputCreditBps: 250 }),
      },
    ),
    visited: BR,
    expected: {
      lines: [
        {
          tariffClass: 1,
          priced: true,
          data: 1_285_000_000n,
          signalling: 100_000n,
          sms: 200_000n,
          voice: 20_333n,
          monthly: 150_000n,
          surcharge: 200_000n,
          total: 1_285_670_333n,
        },
        { tariffClass: 7, ...ZERO_LINE },
      ],
      subtotal: 1_285_670_333n,
      qosSamples: 3n,
      avgLatencyMs: 501n,
      avgThroughputKbps: 100n,
      creditBps: 100,
      credit: 12_856_703n,
      net: 1_272_813_630n,
    },
  },
  {
    // Voice per second, one floor per class: 7 s x 50/min = 350 / 60 = 5.83 -> 5; 59 s x 1/min -> 0.
    // Latency (1,502 / 3 = 500.67 -> 500) is not above 500; throughput 199 / 3 = 66 < 100: 6,000 bps,
    // and 6,000 + latency nothing = 6,000. Credit floor(5 x 6,000 / 10,000) = 3; net 2.
    name: "per-second voice, throughput credit, averages rounded down",
    totals: [
      classTotals(1, { voiceSeconds: 7n, qosSamples: 3, latencyMsSum: 1_502n, throughputKbpsSum: 199n }),
      classTotals(2, { voiceSeconds: 59n }),
    ],
    terms: terms([plan(BR, 1, { perVoiceMinute: 50n }), plan(BR, 2, { perVoiceMinute: 1n })], {
      sla: sla({ maxLatencyMs: 500, minThroughputKbps: 100, latencyCreditBps: 9_000, throughputCreditBps: 6_000 }),
    }),
    visited: BR,
    expected: {
      lines: [
        { tariffClass: 1, ...ZERO_LINE, priced: true, voice: 5n, total: 5n },
        { tariffClass: 2, ...ZERO_LINE, priced: true },
      ],
      subtotal: 5n,
      qosSamples: 3n,
      avgLatencyMs: 500n,
      avgThroughputKbps: 66n,
      creditBps: 6_000,
      credit: 3n,
      net: 2n,
    },
  },
  {
    // Both targets missed: 6,000 + 5,000 capped at 10,000: everything is credited, net 0.
    // SMS 3 x 333 = 999.
    name: "credits capped at 100 %",
    totals: [classTotals(4, { smsCount: 3n, qosSamples: 1, latencyMsSum: 900n, throughputKbpsSum: 10n })],
    terms: terms([plan(DE, 4, { perSms: 333n })], {
      sla: sla({ maxLatencyMs: 800, minThroughputKbps: 11, latencyCreditBps: 6_000, throughputCreditBps: 5_000 }),
    }),
    visited: DE,
    expected: {
      lines: [{ tariffClass: 4, ...ZERO_LINE, priced: true, sms: 999n, total: 999n }],
      subtotal: 999n,
      qosSamples: 1n,
      avgLatencyMs: 900n,
      avgThroughputKbps: 10n,
      creditBps: 10_000,
      credit: 999n,
      net: 0n,
    },
  },
  {
    // No samples: no SLA figure can be missed, whatever the targets. Monthly 2 x 7 = 14, signalling 5 x 3 = 15.
    name: "no QoS samples, no credit",
    totals: [classTotals(1, { activeDevices: 2, signallingEvents: 5n })],
    terms: terms([plan(BR, 1, { monthlyFeePerDevice: 7n, perSignallingEvent: 3n })], {
      sla: sla({ maxLatencyMs: 1, minThroughputKbps: 1_000_000, latencyCreditBps: 10_000, throughputCreditBps: 10_000 }),
    }),
    visited: BR,
    expected: {
      lines: [{ tariffClass: 1, ...ZERO_LINE, priced: true, signalling: 15n, monthly: 14n, total: 29n }],
      subtotal: 29n,
      qosSamples: 0n,
      avgLatencyMs: 0n,
      avgThroughputKbps: 0n,
      creditBps: 0,
      credit: 0n,
      net: 29n,
    },
  },
  {
    // An empty period: a zero invoice.
    name: "no usage",
    totals: [],
    terms: terms([plan(BR, 1, { perMb: 5n })]),
    visited: BR,
    expected: {
      lines: [],
      subtotal: 0n,
      qosSamples: 0n,
      avgLatencyMs: 0n,
      avgThroughputKbps: 0n,
      creditBps: 0,
      credit: 0n,
      net: 0n,
    },
  },
];
