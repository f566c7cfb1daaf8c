import { expect } from "chai";
import fc from "fast-check";
import { InputError } from "../../../lib/core/errors";
import { dataBands, dataCharge, rateInvoice, ratingFromStruct, slaCreditBps } from "../../../lib/settlement/rating";
import { BR, DATA_EXAMPLES, DE, INVOICE_EXAMPLES, classTotals, plan, sla, terms } from "../../helpers/rating";

describe("lib/settlement/rating", () => {
  describe("dataCharge", () => {
    for (const ex of DATA_EXAMPLES) {
      it(`${ex.name}: ${ex.expected}`, () => {
        expect(dataCharge(ex.volume, ex.perMb, ex.tiers)).to.equal(ex.expected);
      });
    }

    it("is never more than the untiered charge, and equals it without discounts", () => {
      fc.assert(
        fc.property(
          fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }),
          fc.uniqueArray(fc.bigInt({ min: 0n, max: 20_000_000n }), { maxLength: 8 }),
          (volume, perMb, thresholds) => {
            const sorted = [...thresholds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
            const flat = (volume * perMb) / 1_000_000n;
            expect(
              dataCharge(
                volume,
                perMb,
                sorted.map((fromMb) => ({ fromMb, discountBps: 0 })),
              ),
            ).to.equal(flat);
            const tiered = dataCharge(
              volume,
              perMb,
              sorted.map((fromMb, i) => ({ fromMb, discountBps: 1000 * (i + 1) })),
            );
            expect(tiered <= flat).to.equal(true);
          },
        ),
      );
    });

    it("refuses a discount above 100 % once a band uses it", () => {
      expect(() => dataCharge(2_000_000n, 1n, [{ fromMb: 1n, discountBps: 10_001 }])).to.throw(InputError, /10001 bps is more than 100 %/);
      // Not reached by the volume: the contract does not revert either.
      expect(dataCharge(500_000n, 2n, [{ fromMb: 1n, discountBps: 10_001 }])).to.equal(1n);
    });

    it("refuses values the contract's fields cannot hold", () => {
      expect(() => dataCharge(2n ** 64n, 1n, [])).to.throw(InputError, /dataBytes must be an integer from 0 to 18446744073709551615/);
      expect(() => dataCharge(1n, -1n, [])).to.throw(InputError, /perMb/);
      expect(() => dataCharge(1n, 2n ** 128n, [])).to.throw(InputError, /perMb/);
    });
  });

  describe("dataBands", () => {
    it("cuts the class volume into the tier bands, and the bands add up to RatingLib's one floor", () => {
      const tiers = [
        { fromMb: 1n, discountBps: 5000 },
        { fromMb: 2n, discountBps: 5000 },
      ];
      // 3 MB at 1 unit/MB: 1 + 0.5 + 0.5 = 2; a floor per band would give 1 + 0 + 0.
      const bands = dataBands(3_000_000n, 1n, tiers);
      expect(bands.map((b) => [b.from, b.to, b.bytes, b.discountBps, b.amount])).to.deep.equal([
        [0n, 1_000_000n, 1_000_000n, 0, 1n],
        [1_000_000n, 2_000_000n, 1_000_000n, 5000, 0n],
        [2_000_000n, null, 1_000_000n, 5000, 1n],
      ]);
    });

    it("adds up to one floor over all bands (dataCharge), each band within one unit of its exact share", () => {
      const tier = fc.record({ fromMb: fc.bigInt({ min: 0n, max: 5_000n }), discountBps: fc.integer({ min: 0, max: 10_000 }) });
      fc.assert(
        fc.property(
          fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          fc.bigInt({ min: 0n, max: 10n ** 12n }),
          fc.array(tier, { maxLength: 8 }),
          (volume, perMb, raw) => {
            // Validated terms: thresholds strictly ascending, discounts non-decreasing.
            const tiers = [...new Map(raw.map((t) => [t.fromMb, t])).values()]
              .sort((a, b) => (a.fromMb < b.fromMb ? -1 : 1))
              .map((t, i, all) => ({ fromMb: t.fromMb, discountBps: Math.max(...all.slice(0, i + 1).map((x) => x.discountBps)) }));
            const bands = dataBands(volume, perMb, tiers);
            const scaled = bands.reduce((s, b) => s + b.bytes * perMb * (10_000n - BigInt(b.discountBps)), 0n);
            expect(bands.reduce((s, b) => s + b.amount, 0n)).to.equal(scaled / 10n ** 10n);
            expect(dataCharge(volume, perMb, tiers)).to.equal(scaled / 10n ** 10n);
            expect(bands.reduce((s, b) => s + b.bytes, 0n)).to.equal(volume);
            for (const b of bands) {
              const exact = b.bytes * perMb * (10_000n - BigInt(b.discountBps));
              const diff = b.amount * 10n ** 10n - exact;
              expect(diff > -(10n ** 10n) && diff < 10n ** 10n).to.equal(true);
            }
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe("slaCreditBps", () => {
    const targets = sla({ maxLatencyMs: 500, minThroughputKbps: 100, latencyCreditBps: 300, throughputCreditBps: 200 });

    it("credits a latency above the maximum and a throughput below the minimum, not at them", () => {
      expect(slaCreditBps(targets, { samples: 1n, avgLatencyMs: 500n, avgThroughputKbps: 100n })).to.equal(0);
      expect(slaCreditBps(targets, { samples: 1n, avgLatencyMs: 501n, avgThroughputKbps: 100n })).to.equal(300);
      expect(slaCreditBps(targets, { samples: 1n, avgLatencyMs: 500n, avgThroughputKbps: 99n })).to.equal(200);
      expect(slaCreditBps(targets, { samples: 1n, avgLatencyMs: 501n, avgThroughputKbps: 99n })).to.equal(500);
    });

    it("credits nothing without samples or without a target", () => {
      expect(slaCreditBps(targets, { samples: 0n, avgLatencyMs: 0n, avgThroughputKbps: 0n })).to.equal(0);
      expect(
        slaCreditBps(sla({ latencyCreditBps: 300, throughputCreditBps: 200 }), {
          samples: 5n,
          avgLatencyMs: 10_000n,
          avgThroughputKbps: 0n,
        }),
      ).to.equal(0);
    });

    it("never credits availability (usage records do not measure it)", () => {
      const availability = sla({ minAvailabilityBps: 9_999, availabilityCreditBps: 10_000 });
      expect(slaCreditBps(availability, { samples: 10n, avgLatencyMs: 0n, avgThroughputKbps: 0n })).to.equal(0);
    });

    it("caps the sum at 10000", () => {
      expect(
        slaCreditBps(sla({ maxLatencyMs: 1, minThroughputKbps: 1, latencyCreditBps: 65_535, throughputCreditBps: 65_535 }), {
          samples: 1n,
          avgLatencyMs: 2n,
          avgThroughputKbps: 0n,
        }),
      ).to.equal(10_000);
    });
  });

  describe("rateInvoice", () => {
    for (const ex of INVOICE_EXAMPLES) {
      it(`${ex.name}: net ${ex.expected.net}`, () => {
        expect(rateInvoice(ex.totals, ex.terms, ex.visited)).to.deep.equal(ex.expected);
      });
    }

    it("prices only the plans of the visited carrier", () => {
      const t = terms([plan(DE, 1, { perSms: 5n }), plan(BR, 1, { perSms: 7n })]);
      const totals = [classTotals(1, { smsCount: 2n })];
      expect(rateInvoice(totals, t, BR).subtotal).to.equal(14n);
      expect(rateInvoice(totals, t, DE).subtotal).to.equal(10n);
      // PLMN hex in upper case (as a checksum-free hex from elsewhere) is the same carrier.
      expect(rateInvoice(totals, t, BR.toUpperCase().replace("0X", "0x")).subtotal).to.equal(14n);
    });

    it("accepts totals and terms as read from the chain (every integer a bigint)", () => {
      const [ex] = INVOICE_EXAMPLES;
      const bigints = <T>(value: T): T =>
        JSON.parse(
          JSON.stringify(value, (_k, v) => (typeof v === "number" || typeof v === "bigint" ? `n${v}` : v)),
          (_k, v) => (typeof v === "string" && /^n\d+$/.test(v) ? BigInt(v.slice(1)) : v),
        );
      expect(rateInvoice(bigints(ex.totals), bigints(ex.terms), ex.visited)).to.deep.equal(ex.expected);
    });

    it("refuses a tariff class or count out of its field's range", () => {
      expect(() => rateInvoice([classTotals(256)], terms([]), BR)).to.throw(InputError, /tariffClass/);
      expect(() => rateInvoice([classTotals(1, { activeDevices: 2 ** 32 })], terms([plan(BR, 1)]), BR)).to.throw(
        InputError,
        /activeDevices/,
      );
    });
  });

  describe("ratingFromStruct", () => {
    it("turns a decoded struct (bigints) back into the plain rating", () => {
      const { expected } = INVOICE_EXAMPLES[0];
      const decoded = {
        ...expected,
        creditBps: BigInt(expected.creditBps),
        lines: expected.lines.map((l) => ({ ...l, tariffClass: BigInt(l.tariffClass) })),
      };
      expect(ratingFromStruct(decoded)).to.deep.equal(expected);
    });
  });
});
