import fs from "node:fs";

/**
 * Terms files (docs/agreements.md), the format `agreement:propose --terms` reads, for the integration test
 * and the demo: both directions between two carriers at the same rates per tariff class, valid for a year
 * from `from`, 7 days to dispute, permanent roamers after 20 days (so a month's usage has some).
 */

/** Days in one visited network after which a device is a permanent roamer. */
export const PERMANENT_ROAMING_DAYS = 20;

/** What the integration test and the demo price differently. */
export interface TermsFileRates {
  /** Per MB of tariff classes 1, 2 and 3 (meters, trackers, drones), in tokens. */
  perMb: readonly [string, string, string];
  tiers: readonly { fromMb: number; discountPercent: number }[];
  /** Per day a permanent roamer stays, in tokens. */
  surchargePerDay: string;
  maxLatencyMs: number;
  latencyCreditPercent: number;
}

export interface TermsFileOptions extends Partial<TermsFileRates> {
  /** The two carriers, as "262-01". */
  a: string;
  b: string;
  /** validFrom, unix seconds. */
  from: number;
  /** The settlement token's address. */
  token: string;
}

/** The integration test's rates: 0.50, 0.25 and 0.15 per MB, 10 % off above 10 GB. */
const DEFAULT_RATES: TermsFileRates = {
  perMb: ["0.50", "0.25", "0.15"],
  tiers: [{ fromMb: 10000, discountPercent: 10 }],
  surchargePerDay: "0.01",
  maxLatencyMs: 300,
  latencyCreditPercent: 1,
};

const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The terms document of `o` (rates not given are the integration test's). */
export function termsDocument(o: TermsFileOptions) {
  const r = { ...DEFAULT_RATES, ...o };
  const rate = (visited: string, tariffClass: number, perMb: string) => ({
    visited,
    tariffClass,
    perMb,
    perSignallingEvent: "0.0001",
    perSms: "0.01",
    perVoiceMinute: "0.02",
    monthlyFeePerDevice: "0.05",
    tiers: r.tiers,
  });
  return {
    settlementToken: o.token,
    validFrom: iso(o.from),
    validUntil: iso(o.from + 365 * 24 * 3600),
    disputeWindowDays: 7,
    permanentRoaming: { days: PERMANENT_ROAMING_DAYS, surchargePerDay: r.surchargePerDay },
    sla: {
      maxLatencyMs: r.maxLatencyMs,
      minThroughputKbps: 100,
      minAvailabilityPercent: 99.5,
      latencyCreditPercent: r.latencyCreditPercent,
      throughputCreditPercent: 1,
      availabilityCreditPercent: 2,
    },
    rates: r.perMb.flatMap((perMb, i) => [rate(o.a, i + 1, perMb), rate(o.b, i + 1, perMb)]),
  };
}

export function writeTermsFile(file: string, o: TermsFileOptions): void {
  fs.writeFileSync(file, `${JSON.stringify(termsDocument(o), null, 2)}\n`);
}
