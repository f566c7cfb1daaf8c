import { expect } from "chai";
import fc from "fast-check";
import { ConfigError, InputError } from "../../../lib/core/errors";
import {
  Amount,
  AmountTokenMismatchError,
  formatAmount,
  formatCount,
  formatPercent,
  parseAmount,
  parsePercent,
} from "../../../lib/core/amount";

const LOC = { file: "terms.json", line: 7, field: "rates[0].perMb" };
const AT = { location: LOC };

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
      expect(parseAmount("1", 6, { ...AT, max: 1_000_000n })).to.equal(1_000_000n);
      expect(() => parseAmount("1.000001", 6, { ...AT, max: 1_000_000n })).to.throw(InputError, /is too large \(at most 1\)/);
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

    it("groups thousands and prints a fixed number of fraction digits, never rounding", () => {
      expect(formatAmount(1_279_743_630n, 6, { group: true, digits: 6 })).to.equal("1,279.743630");
      expect(formatAmount(1_279_743_630n, 6, { group: true })).to.equal("1,279.74363");
      expect(formatAmount(7_000_000n, 6, { group: true, digits: 2 })).to.equal("7.00");
      expect(formatAmount(0n, 6, { digits: 2 })).to.equal("0.00");
      expect(formatAmount(-1_200_000_000n, 6, { group: true })).to.equal("-1,200");
      expect(() => formatAmount(1n, 6, { digits: 2 })).to.throw(RangeError, /more than 2 fraction digits/);
      // No more digits than the token has.
      expect(formatAmount(1234n, 0, { group: true, digits: 2 })).to.equal("1,234");
      expect(formatAmount(1n, 24, { digits: 24 })).to.equal("0.000000000000000000000001");
      expect(formatCount(1_234_567n)).to.equal("1,234,567");
      expect(formatCount(999)).to.equal("999");
    });

    it("round-trips with parseAmount", () => {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }), fc.integer({ min: 0, max: 30 }), (units, decimals) => {
          expect(parseAmount(formatAmount(units, decimals), decimals, AT)).to.equal(units);
        }),
      );
    });
  });

  describe("Amount", () => {
    const RLST = { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", symbol: "RLST", decimals: 6 };
    const USDC = { address: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", symbol: "USDC", decimals: 6 };

    it("adds, subtracts and compares amounts of one token", () => {
      const a = Amount.fromUnits(RLST, 1_500_000n);
      const b = Amount.parse("0.25", { ...RLST, address: RLST.address.toLowerCase() }, AT);
      expect(a.add(b).units).to.equal(1_750_000n);
      expect(b.sub(a).units).to.equal(-1_250_000n);
      expect(b.sub(a).isNegative()).to.equal(true);
      expect([a.compare(b), b.compare(a), a.compare(a)]).to.deep.equal([1, -1, 0]);
      expect([a.greaterThan(b), a.lessThan(b), a.equals(Amount.fromUnits(RLST, 1_500_000n))]).to.deep.equal([true, false, true]);
      expect(Amount.zero(RLST).isZero()).to.equal(true);
      expect(a.add(b).token).to.equal(RLST);
    });

    it("refuses to add, subtract or compare amounts of different tokens", () => {
      const a = Amount.fromUnits(RLST, 1n);
      const b = Amount.fromUnits(USDC, 1n);
      expect(() => a.add(b)).to.throw(
        AmountTokenMismatchError,
        /cannot add 0\.000001 RLST and 0\.000001 USDC: they are amounts of different tokens/,
      );
      expect(() => a.sub(b)).to.throw(AmountTokenMismatchError, /cannot subtract/);
      expect(() => a.compare(b)).to.throw(AmountTokenMismatchError, /cannot compare/);
      // Same address, other decimals: not the same token either.
      expect(() => a.add(Amount.fromUnits({ ...RLST, decimals: 18 }, 1n))).to.throw(AmountTokenMismatchError);
    });

    it("formats itself exactly, at any number of decimals", () => {
      expect(String(Amount.fromUnits(RLST, 1_000_500_000n))).to.equal("1000.5 RLST");
      expect(String(Amount.fromUnits({ ...RLST, symbol: "" }, 1n))).to.equal("0.000001");
      expect(Amount.fromUnits(RLST, 1_234_500_000n).format({ group: true, digits: 2 })).to.equal("1,234.50");
      expect(Amount.fromUnits({ ...RLST, decimals: 30 }, 10n ** 30n + 1n).format({ group: true })).to.equal(
        "1.000000000000000000000000000001",
      );
      expect(Amount.fromUnits(RLST, 1_279_743_630n).fractionDigits()).to.equal(5);
      expect(Amount.fromUnits({ ...RLST, decimals: 0 }, 7n).fractionDigits()).to.equal(0);
      expect(() => Amount.fromUnits({ ...RLST, decimals: 256 }, 1n)).to.throw(ConfigError, /token decimals/);
    });
  });

  describe("parsePercent", () => {
    it("converts percentages to basis points exactly", () => {
      expect(parsePercent(99.5, LOC)).to.equal(9950);
      expect(parsePercent(99.95, LOC)).to.equal(9995);
      expect(parsePercent(1, LOC)).to.equal(100);
      expect(parsePercent(0.01, LOC)).to.equal(1);
      expect(parsePercent(0, LOC)).to.equal(0);
      expect(parsePercent(100, LOC)).to.equal(10_000);
      expect(parsePercent("2.5", LOC)).to.equal(250);
    });

    it("rejects more than 2 decimals", () => {
      for (const value of [1.005, 0.001, 1e-7, "99.999"]) {
        expect(() => parsePercent(value, LOC), String(value)).to.throw(InputError, /decimal places, more than 2|not a decimal number/);
      }
    });

    it("rejects negatives, more than 100 and non-numbers", () => {
      expect(() => parsePercent(-1, LOC)).to.throw(InputError, /is negative/);
      expect(() => parsePercent(100.01, LOC)).to.throw(InputError, /100\.01 % is more than 100 %/);
      expect(() => parsePercent("ten", LOC)).to.throw(InputError, /is not a decimal number/);
      for (const value of [null, true, undefined, [1], { p: 1 }]) {
        expect(() => parsePercent(value, LOC), JSON.stringify(value)).to.throw(InputError, /^terms\.json:7 .*expected a percentage/);
      }
    });
  });

  describe("formatPercent", () => {
    it("writes basis points as a percentage and round-trips", () => {
      expect(formatPercent(9950)).to.equal(99.5);
      expect(formatPercent(1n)).to.equal(0.01);
      expect(formatPercent(10_000)).to.equal(100);
      const wrong = Array.from({ length: 10_001 }, (_, bps) => bps).filter((bps) => parsePercent(formatPercent(bps), LOC) !== bps);
      expect(wrong).to.deep.equal([]);
    });
  });
});
