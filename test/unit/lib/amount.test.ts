import { expect } from "chai";
import fc from "fast-check";
import { ConfigError, InputError } from "../../../lib/core/errors";
import { formatAmount, formatPercent, parseAmount, parsePercent } from "../../../lib/core/amount";

const AT = { file: "terms.json", line: 7, field: "rates[0].perMb" };

describe("lib/core/amount", () => {
  describe("parseAmount", () => {
    it("converts token units to base units exactly", () => {
      expect(parseAmount("0.50", 6, AT)).to.equal(500_000n);
      expect(parseAmount("0.0001", 6, AT)).to.equal(100n);
      expect(parseAmount("0.000001", 6, AT)).to.equal(1n);
      expect(parseAmount("12", 6, AT)).to.equal(12_000_000n);
      expect(parseAmount("0", 6, AT)).to.equal(0n);
      expect(parseAmount("  1.5 ", 2, AT)).to.equal(150n);
      expect(parseAmount("7", 0, AT)).to.equal(7n);
      // 18 decimals, beyond what a JS number holds exactly.
      expect(parseAmount("123456789.123456789123456789", 18, AT)).to.equal(123456789123456789123456789n);
    });

    it("rejects more fractional digits than the token has, never rounding", () => {
      expect(() => parseAmount("0.1234567", 6, AT)).to.throw(
        InputError,
        /^terms\.json:7 \(rates\[0\]\.perMb\): "0\.1234567" has 7 decimal places, more than 6: the settlement token has 6 decimals/,
      );
      expect(() => parseAmount("0.5000000", 6, AT)).to.throw(InputError, /7 decimal places/);
      expect(() => parseAmount("1.5", 0, AT)).to.throw(InputError, /1 decimal places, more than 0/);
    });

    it("rejects negatives", () => {
      for (const text of ["-1", "-0.5", "- 3"]) {
        expect(() => parseAmount(text, 6, AT), text).to.throw(InputError, /^terms\.json:7 \(rates\[0\]\.perMb\): ".*" is negative/);
      }
    });

    it("rejects what is not a decimal number", () => {
      for (const text of ["", "abc", "1e5", "0x10", "1,5", "1.", ".5", "+1", "1.2.3", "NaN", "Infinity", "1 000"]) {
        expect(() => parseAmount(text, 6, AT), JSON.stringify(text)).to.throw(InputError, /is not a decimal number/);
      }
    });

    it("rejects values above the maximum", () => {
      expect(parseAmount("1", 6, AT, { max: 1_000_000n })).to.equal(1_000_000n);
      expect(() => parseAmount("1.000001", 6, AT, { max: 1_000_000n })).to.throw(InputError, /is too large \(at most 1\)/);
    });

    it("refuses decimals a token cannot have", () => {
      for (const decimals of [-1, 1.5, 256, NaN]) {
        expect(() => parseAmount("1", decimals, AT), String(decimals)).to.throw(ConfigError, /token decimals/);
      }
    });
  });

  describe("formatAmount", () => {
    it("writes base units as token units without trailing zeros", () => {
      expect(formatAmount(500_000n, 6)).to.equal("0.5");
      expect(formatAmount(100n, 6)).to.equal("0.0001");
      expect(formatAmount(12_000_000n, 6)).to.equal("12");
      expect(formatAmount(0n, 6)).to.equal("0");
      expect(formatAmount(7n, 0)).to.equal("7");
      expect(formatAmount(-1_500_000n, 6)).to.equal("-1.5");
      expect(formatAmount(2n ** 128n - 1n, 18)).to.equal("340282366920938463463.374607431768211455");
    });

    it("round-trips with parseAmount", () => {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }), fc.integer({ min: 0, max: 30 }), (units, decimals) => {
          expect(parseAmount(formatAmount(units, decimals), decimals, AT)).to.equal(units);
        }),
      );
    });
  });

  describe("parsePercent", () => {
    it("converts percentages to basis points exactly", () => {
      expect(parsePercent(99.5, AT)).to.equal(9950);
      expect(parsePercent(99.95, AT)).to.equal(9995);
      expect(parsePercent(1, AT)).to.equal(100);
      expect(parsePercent(0.01, AT)).to.equal(1);
      expect(parsePercent(0, AT)).to.equal(0);
      expect(parsePercent(100, AT)).to.equal(10_000);
      expect(parsePercent("2.5", AT)).to.equal(250);
    });

    it("rejects more than 2 decimals", () => {
      for (const value of [1.005, 0.001, 1e-7, "99.999"]) {
        expect(() => parsePercent(value, AT), String(value)).to.throw(InputError, /decimal places, more than 2|not a decimal number/);
      }
    });

    it("rejects negatives, more than 100 and non-numbers", () => {
      expect(() => parsePercent(-1, AT)).to.throw(InputError, /is negative/);
      expect(() => parsePercent(100.01, AT)).to.throw(InputError, /100\.01 % is more than 100 %/);
      expect(() => parsePercent("ten", AT)).to.throw(InputError, /is not a decimal number/);
      for (const value of [null, true, undefined, [1], { p: 1 }]) {
        expect(() => parsePercent(value, AT), JSON.stringify(value)).to.throw(InputError, /^terms\.json:7 .*expected a percentage/);
      }
    });
  });

  describe("formatPercent", () => {
    it("writes basis points as a percentage and round-trips", () => {
      expect(formatPercent(9950)).to.equal(99.5);
      expect(formatPercent(1n)).to.equal(0.01);
      expect(formatPercent(10_000)).to.equal(100);
      const wrong = Array.from({ length: 10_001 }, (_, bps) => bps).filter((bps) => parsePercent(formatPercent(bps), AT) !== bps);
      expect(wrong).to.deep.equal([]);
    });
  });
});
