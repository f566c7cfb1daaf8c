import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { InputError, InputErrors } from "../../../lib/core/errors";
import {
  formatTerms,
  readAgreementTerms,
  readSettlementToken,
  type ReadTermsOptions,
  type TermsStruct,
} from "../../../lib/agreements/terms";
import { parsePlmn } from "../../../lib/core/plmn";

const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const DE = parsePlmn("262-01");
const BR = parsePlmn("724-05");
const OPTIONS: ReadTermsOptions = { self: DE, partner: BR, decimals: 6 };
const DAY = 86_400;

/** The example of the brief, line by line (line numbers matter to the tests below). */
const EXAMPLE = `{
  "settlementToken": "${TOKEN}",
  "validFrom": "2026-11-01T00:00:00Z",
  "validUntil": "2027-11-01T00:00:00Z",
  "disputeWindowDays": 7,
  "permanentRoaming": { "days": 90, "surchargePerDay": "0.05" },
  "sla": { "maxLatencyMs": 500, "minThroughputKbps": 100, "minAvailabilityPercent": 99.5, "latencyCreditPercent": 1, "throughputCreditPercent": 1, "availabilityCreditPercent": 2 },
  "rates": [
    { "visited": "724-05", "tariffClass": 1, "perMb": "0.50", "perSignallingEvent": "0.0001", "perSms": "0.01", "perVoiceMinute": "0.02", "monthlyFeePerDevice": "0.05",
      "tiers": [ { "fromMb": 10000, "discountPercent": 10 } ] }
  ]
}
`;

/** Expected struct of EXAMPLE. */
const EXPECTED: TermsStruct = {
  settlementToken: TOKEN,
  validFrom: BigInt(Date.UTC(2026, 10, 1) / 1000),
  validUntil: BigInt(Date.UTC(2027, 10, 1) / 1000),
  disputeWindow: 7 * DAY,
  permanentRoamingDays: 90,
  permanentRoamingSurchargePerDay: 50_000n,
  sla: {
    maxLatencyMs: 500,
    minThroughputKbps: 100,
    minAvailabilityBps: 9950,
    latencyCreditBps: 100,
    throughputCreditBps: 100,
    availabilityCreditBps: 200,
  },
  ratePlans: [
    {
      visited: BR,
      tariffClass: 1,
      perMb: 500_000n,
      perSignallingEvent: 100n,
      perSms: 10_000n,
      perVoiceMinute: 20_000n,
      monthlyFeePerDevice: 50_000n,
      tiers: [{ fromMb: 10_000n, discountBps: 1000 }],
    },
  ],
};

type Json = Record<string, unknown>;

/** A fresh, mutable copy of EXAMPLE as an object. */
function example(): Json {
  return JSON.parse(EXAMPLE) as Json;
}

/** A second plan, DE visited, for tests that need two. */
function dePlan(overrides: Json = {}): Json {
  return {
    visited: "262-01",
    tariffClass: 1,
    perMb: "0.4",
    perSignallingEvent: "0",
    perSms: "0.01",
    perVoiceMinute: "0.02",
    monthlyFeePerDevice: "0",
    ...overrides,
  };
}

describe("lib/agreements/terms", () => {
  let dir: string;
  let n = 0;

  /** Writes `content` (text, or an object pretty-printed) to a fresh terms.json; returns its path. */
  function write(content: string | Json): string {
    const file = path.join(dir, String(n++), "terms.json");
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
    return file;
  }

  /** Reads `content` expecting it to fail; returns the error. */
  function failure(content: string | Json, options = OPTIONS): InputError | InputErrors {
    const file = write(content);
    try {
      readAgreementTerms(file, options);
    } catch (err) {
      if (err instanceof InputError || err instanceof InputErrors) return err;
      throw err;
    }
    throw new Error("expected readAgreementTerms to fail");
  }

  /** 1-based line of the first occurrence of `needle` in the pretty-printed `obj`. */
  function lineIn(obj: Json, needle: string): number {
    const text = JSON.stringify(obj, null, 2);
    return text.slice(0, text.indexOf(needle)).split("\n").length;
  }

  /** Expects `content` to fail with one InputError at `line` and `field`, its message matching `message`. */
  function expectProblem(content: Json | string, line: number, field: string, message: RegExp, options = OPTIONS) {
    const err = failure(content, options);
    expect(err, err.message).to.be.instanceOf(InputError);
    const { location } = err as InputError;
    expect(location?.file).to.match(/terms\.json$/);
    expect({ line: location?.line, field: location?.field }, err.message).to.deep.equal({ line, field });
    expect(err.message).to.match(message);
    expect(err.message).to.contain(`terms.json:${line} (${field}): `);
  }

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-agreements-"));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe("readAgreementTerms", () => {
    it("reads the example into the contract's Terms struct", () => {
      expect(readAgreementTerms(write(EXAMPLE), OPTIONS)).to.deep.equal(EXPECTED);
    });

    it("takes a missing or null permanentRoaming as no limit, missing tiers as none, and a lowercase token", () => {
      const obj = example();
      delete obj.permanentRoaming;
      const rates = obj.rates as Json[];
      delete rates[0].tiers;
      obj.settlementToken = TOKEN.toLowerCase();
      const terms = readAgreementTerms(write(obj), OPTIONS);
      expect(terms.permanentRoamingDays).to.equal(0);
      expect(terms.permanentRoamingSurchargePerDay).to.equal(0n);
      expect(terms.ratePlans[0].tiers).to.deep.equal([]);
      expect(terms.settlementToken).to.equal(TOKEN);
      obj.permanentRoaming = null;
      expect(readAgreementTerms(write(obj), OPTIONS).permanentRoamingDays).to.equal(0);
    });

    it("takes times without seconds and a uint64 fromMb written as a string", () => {
      const obj = example();
      obj.validFrom = "2026-11-01T12:30Z";
      (obj.rates as Json[])[0].tiers = [{ fromMb: "18446744073709551615", discountPercent: 10 }];
      const terms = readAgreementTerms(write(obj), OPTIONS);
      expect(terms.validFrom).to.equal(BigInt(Date.UTC(2026, 10, 1, 12, 30) / 1000));
      expect(terms.ratePlans[0].tiers[0].fromMb).to.equal(2n ** 64n - 1n);
    });

    it("converts amounts with the token's decimals", () => {
      const terms = readAgreementTerms(write(EXAMPLE), { ...OPTIONS, decimals: 18 });
      expect(terms.ratePlans[0].perMb).to.equal(5n * 10n ** 17n);
      expect(terms.permanentRoamingSurchargePerDay).to.equal(5n * 10n ** 16n);
    });

    it("accepts plans priced by either party, the proposer's own included", () => {
      const obj = example();
      (obj.rates as Json[]).push(dePlan(), dePlan({ tariffClass: 2 }));
      const terms = readAgreementTerms(write(obj), OPTIONS);
      expect(terms.ratePlans.map((p) => [p.visited, p.tariffClass])).to.deep.equal([
        [BR, 1],
        [DE, 1],
        [DE, 2],
      ]);
    });
  });

  describe("readAgreementTerms: whole-file problems", () => {
    it("reports a file that cannot be read", () => {
      expect(() => readAgreementTerms(path.join(dir, "missing.json"), OPTIONS)).to.throw(
        InputError,
        /missing\.json: cannot read the agreement terms file/,
      );
    });

    it("reports a JSON syntax error with its line", () => {
      const text = EXAMPLE.replace('"disputeWindowDays": 7,', '"disputeWindowDays": 7,,');
      const err = failure(text);
      expect(err.message).to.match(/terms\.json:5: not valid JSON/);
    });

    it("reports a file that is not a JSON object", () => {
      for (const content of ["[]", "42", "null", '"terms"']) {
        expect(failure(content).message, content).to.match(/terms\.json:1: the file must be a JSON object/);
      }
    });

    it("reports every problem at once, in the order of the file", () => {
      const obj = example();
      obj.disputeWindowDays = 0;
      obj.validFrom = "soon";
      (obj.rates as Json[])[0].perSms = "-1";
      obj.colour = "blue";
      const err = failure(obj);
      expect(err).to.be.instanceOf(InputErrors);
      const problems = (err as InputErrors).errors.map((e) => [e.location?.line, e.location?.field]);
      expect(problems).to.deep.equal([
        [lineIn(obj, '"validFrom"'), "validFrom"],
        [lineIn(obj, '"disputeWindowDays"'), "disputeWindowDays"],
        [lineIn(obj, '"perSms"'), "rates[0].perSms"],
        [lineIn(obj, '"colour"'), "colour"],
      ]);
      expect(err.message).to.match(/^4 problems in the input; nothing was sent to the chain\./);
      expect(err.message).to.contain(`terms.json:${lineIn(obj, '"perSms"')} (rates[0].perSms): "-1" is negative`);
    });
  });

  describe("readAgreementTerms: top-level fields", () => {
    it("rejects unknown fields, naming the known ones", () => {
      const obj = { ...example(), disputeWindow: 7 };
      expectProblem(obj, lineIn(obj, '"disputeWindow"'), "disputeWindow", /unknown field "disputeWindow"[\s\S]*disputeWindowDays/);
    });

    it("rejects missing required fields", () => {
      for (const key of ["settlementToken", "validFrom", "validUntil", "disputeWindowDays", "sla", "rates"]) {
        const obj = example();
        delete obj[key];
        const err = failure(obj);
        const errors = err instanceof InputErrors ? err.errors : [err as InputError];
        expect(errors[0].message, key).to.match(new RegExp(`terms\\.json:1 \\(${key}\\): missing field "${key}"`));
      }
    });

    it("rejects a settlement token that is not an address, or is zero", () => {
      for (const token of ["0x1234", "bank", 42, "0x0000000000000000000000000000000000000000"]) {
        const obj = { ...example(), settlementToken: token };
        expectProblem(obj, 2, "settlementToken", /is not a token address/);
      }
    });

    it("rejects times that are not ISO 8601 UTC, or do not exist", () => {
      for (const time of [
        "2026-11-01",
        "2026-11-01T00:00:00+01:00",
        "2026-11-01T00:00:00.000Z",
        "2026-02-30T00:00:00Z",
        "2026-11-01T24:00:00Z",
        "1969-12-31T23:59:59Z",
        1793491200,
      ]) {
        const obj = { ...example(), validFrom: time };
        expectProblem(obj, 3, "validFrom", /validFrom must be an ISO 8601 UTC time/);
      }
    });

    it("rejects validUntil not after validFrom", () => {
      for (const until of ["2026-11-01T00:00:00Z", "2026-10-31T00:00:00Z"]) {
        const obj = { ...example(), validUntil: until };
        expectProblem(obj, 4, "validUntil", /validUntil must be after validFrom/);
      }
    });

    it("rejects validUntil not after the chain time, when given", () => {
      const now = EXPECTED.validUntil;
      expectProblem(EXAMPLE, 4, "validUntil", /validUntil is not in the future \(chain time is 2027-11-01T00:00:00Z\)/, {
        ...OPTIONS,
        now,
      });
      expect(readAgreementTerms(write(EXAMPLE), { ...OPTIONS, now: now - 1n }).validUntil).to.equal(now);
    });

    it("rejects a dispute window that is not 1-90 whole days", () => {
      for (const days of [0, 91, 1.5, -1, "seven", null]) {
        const obj = { ...example(), disputeWindowDays: days };
        expectProblem(obj, 5, "disputeWindowDays", /disputeWindowDays must be an integer from 1 to 90/);
      }
    });
  });

  describe("readAgreementTerms: permanentRoaming", () => {
    it("rejects a value that is not an object or null", () => {
      expectProblem({ ...example(), permanentRoaming: 90 }, 6, "permanentRoaming", /permanentRoaming must be a JSON object/);
    });

    it("rejects unknown and missing fields, days out of range and bad surcharges", () => {
      // The line is that of the field, or of "permanentRoaming" (line 6) when the field is missing.
      const cases: [Json, string, RegExp][] = [
        [{ days: 90, surchargePerDay: "0.05", grace: 1 }, "grace", /unknown field "grace"/],
        [{ surchargePerDay: "0.05" }, "days", /missing field "days"/],
        [{ days: 90 }, "surchargePerDay", /missing field "surchargePerDay"/],
        [{ days: 65_536, surchargePerDay: "0" }, "days", /integer from 0 to 65535/],
        [{ days: 90, surchargePerDay: 0.05 }, "surchargePerDay", /amounts are written as strings[\s\S]*"0\.05"/],
        [{ days: 90, surchargePerDay: "0.0000001" }, "surchargePerDay", /7 decimal places, more than 6/],
      ];
      for (const [value, key, message] of cases) {
        const obj = { ...example(), permanentRoaming: value };
        const line = key in value ? lineIn(obj, `"${key}"`) : 6;
        expectProblem(obj, line, `permanentRoaming.${key}`, message);
      }
    });

    it("rejects a surcharge without a limit", () => {
      const obj = { ...example(), permanentRoaming: { days: 0, surchargePerDay: "0.05" } };
      expectProblem(obj, 8, "permanentRoaming.surchargePerDay", /a surcharge needs a limit/);
      obj.permanentRoaming.surchargePerDay = "0";
      expect(readAgreementTerms(write(obj), OPTIONS).permanentRoamingDays).to.equal(0);
    });
  });

  describe("readAgreementTerms: sla", () => {
    it("rejects a value that is not an object", () => {
      expectProblem({ ...example(), sla: [] }, lineIn({ ...example(), sla: [] }, '"sla"'), "sla", /sla must be a JSON object/);
    });

    it("rejects unknown and missing fields", () => {
      const obj = example();
      const sla = obj.sla as Json;
      sla.jitterMs = 5;
      expectProblem(obj, lineIn(obj, '"jitterMs"'), "sla.jitterMs", /unknown field "jitterMs"/);
      delete sla.jitterMs;
      delete sla.latencyCreditPercent;
      expectProblem(obj, lineIn(obj, '"sla"'), "sla.latencyCreditPercent", /missing field "latencyCreditPercent"/);
    });

    it("rejects targets that are not uint32 integers and percentages that are not 0-100 with 2 decimals", () => {
      const cases: [string, unknown, RegExp][] = [
        ["maxLatencyMs", -1, /integer from 0 to 4294967295/],
        ["minThroughputKbps", 2 ** 32, /integer from 0 to 4294967295/],
        ["minAvailabilityPercent", 99.955, /3 decimal places, more than 2/],
        ["latencyCreditPercent", 101, /more than 100 %/],
        ["throughputCreditPercent", -5, /is negative/],
        ["availabilityCreditPercent", "lots", /not a decimal number/],
      ];
      for (const [key, value, message] of cases) {
        const obj = example();
        (obj.sla as Json)[key] = value;
        expectProblem(obj, lineIn(obj, `"${key}"`), `sla.${key}`, message);
      }
    });
  });

  describe("readAgreementTerms: rates", () => {
    it("rejects rates that are not a list of 1 to 64 plans", () => {
      for (const [rates, found] of [
        [[], "0 plans"],
        [Array.from({ length: 65 }, (_, i) => dePlan({ tariffClass: i })), "65 plans"],
        [{}, "{}"],
      ] as const) {
        const obj = { ...example(), rates };
        expectProblem(obj, lineIn(obj, '"rates"'), "rates", new RegExp(`rates must be a list of 1 to 64 rate plans, found ${found}`));
      }
    });

    it("rejects a plan that is not an object", () => {
      const obj = { ...example(), rates: [dePlan(), "cheap"] };
      expectProblem(obj, lineIn(obj, '"cheap"'), "rates[1]", /rates\[1\] must be a JSON object/);
    });

    it("rejects unknown and missing fields of a plan", () => {
      const obj = { ...example(), rates: [dePlan({ perKb: "0.1" })] };
      expectProblem(obj, lineIn(obj, '"perKb"'), "rates[0].perKb", /unknown field "perKb"[\s\S]*perMb/);
      const missing = { ...example(), rates: [dePlan({ perMb: undefined })] };
      expectProblem(missing, lineIn(missing, '"visited"') - 1, "rates[0].perMb", /missing field "perMb"/);
    });

    it("rejects a visited network that is not a party, or not a PLMN id", () => {
      const cases: [unknown, RegExp][] = [
        ["310-410", /310-410 is not a party to this agreement[\s\S]*262-01 \(you\) or 724-05 \(the partner\)/],
        ["724-5", /"724-5" is not a PLMN id/],
        [72405, /visited must be a PLMN id in quotes/],
      ];
      for (const [visited, message] of cases) {
        const obj = { ...example(), rates: [dePlan(), dePlan({ visited, tariffClass: 2 })] };
        expectProblem(obj, lineIn(obj, `"visited": ${JSON.stringify(visited)}`), "rates[1].visited", message);
      }
    });

    it("rejects a tariff class outside 0-255", () => {
      for (const tariffClass of [256, -1, 1.5, "one"]) {
        const obj = { ...example(), rates: [dePlan({ tariffClass })] };
        expectProblem(obj, lineIn(obj, '"tariffClass"'), "rates[0].tariffClass", /tariffClass must be an integer from 0 to 255/);
      }
    });

    it("rejects amounts that are numbers, negative, too precise, not numbers or above uint128", () => {
      const cases: [string, unknown, RegExp][] = [
        ["perMb", 0.5, /amounts are written as strings, found 0\.5[\s\S]*"0\.5"/],
        ["perSignallingEvent", "-0.0001", /is negative/],
        ["perSms", "0.0000001", /7 decimal places, more than 6: the settlement token has 6 decimals/],
        ["perVoiceMinute", "two cents", /is not a decimal number/],
        ["monthlyFeePerDevice", (2n ** 128n).toString(), /is too large \(at most 340282366920938463463374607431768\.211455\)/],
        ["perMb", null, /amounts are written as strings, found null/],
      ];
      for (const [key, value, message] of cases) {
        const obj = { ...example(), rates: [dePlan({ [key]: value })] };
        expectProblem(obj, lineIn(obj, `"${key}"`), `rates[0].${key}`, message);
      }
    });

    it("rejects two plans for the same visited network and tariff class", () => {
      const obj = { ...example(), rates: [dePlan(), dePlan({ tariffClass: 2 }), dePlan({ perMb: "0.3" })] };
      const line = lineIn(obj, '"perMb": "0.3"') - 3; // the plan's opening brace
      expectProblem(obj, line, "rates[2]", /a second plan for 262-01 visited, tariff class 1[\s\S]*rates\[0\] prices it already/);
    });
  });

  describe("readAgreementTerms: tiers", () => {
    const withTiers = (tiers: unknown) => ({ ...example(), rates: [dePlan({ tiers })] });

    it("rejects tiers that are not a list of at most 8", () => {
      const nine = Array.from({ length: 9 }, (_, i) => ({ fromMb: i * 10, discountPercent: i }));
      for (const [tiers, found] of [
        [nine, "9 tiers"],
        ["none", '"none"'],
      ] as const) {
        const obj = withTiers(tiers);
        expectProblem(obj, lineIn(obj, '"tiers"'), "rates[0].tiers", new RegExp(`at most 8 tiers, found ${found}`));
      }
    });

    it("rejects a tier that is not an object, or has unknown or missing fields", () => {
      // [tiers, text found on the line, offset from that line, field, message]
      const cases: [unknown[], string, number, string, RegExp][] = [
        [[5], '"tiers"', 1, "rates[0].tiers[0]", /rates\[0\]\.tiers\[0\] must be a JSON object/],
        [[{ fromMb: 5, discountPercent: 1, toMb: 9 }], '"toMb"', 0, "rates[0].tiers[0].toMb", /unknown field "toMb"/],
        [[{ fromMb: 5 }], '"fromMb"', -1, "rates[0].tiers[0].discountPercent", /missing field "discountPercent"/],
      ];
      for (const [tiers, needle, offset, field, message] of cases) {
        const obj = withTiers(tiers);
        expectProblem(obj, lineIn(obj, needle) + offset, field, message);
      }
    });

    it("rejects fromMb outside uint64 and discounts outside 0-100 %", () => {
      const cases: [Json, string, RegExp][] = [
        [{ fromMb: -1, discountPercent: 1 }, "fromMb", /integer from 0 to 18446744073709551615/],
        [{ fromMb: "18446744073709551616", discountPercent: 1 }, "fromMb", /integer from 0 to 18446744073709551615/],
        [{ fromMb: 5, discountPercent: 100.5 }, "discountPercent", /more than 100 %/],
        [{ fromMb: 5, discountPercent: 0.125 }, "discountPercent", /3 decimal places/],
      ];
      for (const [tier, key, message] of cases) {
        const obj = withTiers([tier]);
        expectProblem(obj, lineIn(obj, `"${key}"`), `rates[0].tiers[0].${key}`, message);
      }
    });

    it("rejects tiers that do not ascend strictly by fromMb with non-decreasing discounts", () => {
      const cases: Json[][] = [
        [
          { fromMb: 10, discountPercent: 1 },
          { fromMb: 10, discountPercent: 2 },
        ],
        [
          { fromMb: 10, discountPercent: 1 },
          { fromMb: 5, discountPercent: 2 },
        ],
        [
          { fromMb: 10, discountPercent: 2 },
          { fromMb: 20, discountPercent: 1 },
        ],
      ];
      for (const tiers of cases) {
        const obj = withTiers(tiers);
        const line = lineIn(obj, '"fromMb"') + 3; // the second tier's opening brace
        expectProblem(obj, line, "rates[0].tiers[1]", /tiers must ascend strictly by fromMb, with discounts that never decrease/);
      }
    });
  });

  describe("readSettlementToken", () => {
    it("returns the token and where it is, ignoring problems elsewhere", () => {
      const obj = { ...example(), disputeWindowDays: 0, extra: 1 };
      expect(readSettlementToken(write(obj))).to.deep.equal({
        token: TOKEN,
        location: { file: path.join(dir, String(n - 1), "terms.json"), line: 2, field: "settlementToken" },
      });
    });

    it("rejects a bad token address", () => {
      expect(() => readSettlementToken(write({ ...example(), settlementToken: "0x12" }))).to.throw(
        InputError,
        /terms\.json:2 \(settlementToken\): "0x12" is not a token address/,
      );
    });
  });

  describe("formatTerms", () => {
    it("writes the example back in its human shape", () => {
      expect(formatTerms(readAgreementTerms(write(EXAMPLE), OPTIONS), 6)).to.deep.equal({
        settlementToken: TOKEN,
        validFrom: "2026-11-01T00:00:00Z",
        validUntil: "2027-11-01T00:00:00Z",
        disputeWindowDays: 7,
        permanentRoaming: { days: 90, surchargePerDay: "0.05" },
        sla: {
          maxLatencyMs: 500,
          minThroughputKbps: 100,
          minAvailabilityPercent: 99.5,
          latencyCreditPercent: 1,
          throughputCreditPercent: 1,
          availabilityCreditPercent: 2,
        },
        rates: [
          {
            visited: "724-05",
            tariffClass: 1,
            perMb: "0.5",
            perSignallingEvent: "0.0001",
            perSms: "0.01",
            perVoiceMinute: "0.02",
            monthlyFeePerDevice: "0.05",
            tiers: [{ fromMb: 10000, discountPercent: 10 }],
          },
        ],
      });
    });

    it("round-trips: file -> struct -> formatTerms -> file -> the same struct", () => {
      const obj = example();
      obj.permanentRoaming = null;
      (obj.rates as Json[]).push(
        dePlan({ tariffClass: 255, perMb: "1234567.123456", tiers: [{ fromMb: "18446744073709551615", discountPercent: 100 }] }),
        dePlan({
          tariffClass: 0,
          tiers: [
            { fromMb: 0, discountPercent: 0.01 },
            { fromMb: 1, discountPercent: 0.02 },
          ],
        }),
      );
      for (const decimals of [6, 18]) {
        const terms = readAgreementTerms(write(obj), { ...OPTIONS, decimals });
        const again = readAgreementTerms(write(formatTerms(terms, decimals) as unknown as Json), { ...OPTIONS, decimals });
        expect(again, `decimals ${decimals}`).to.deep.equal(terms);
      }
    });

    it("formats terms read from the chain (every integer a bigint)", () => {
      const chain = {
        ...EXPECTED,
        disputeWindow: 7n * 86_400n,
        permanentRoamingDays: 0n,
        permanentRoamingSurchargePerDay: 0n,
        sla: { ...EXPECTED.sla, minAvailabilityBps: 9950n },
        ratePlans: EXPECTED.ratePlans.map((p) => ({ ...p, tariffClass: 1n, tiers: [{ fromMb: 10_000n, discountBps: 1000n }] })),
      };
      const human = formatTerms(chain, 6);
      expect(human.permanentRoaming).to.equal(null);
      expect(human.disputeWindowDays).to.equal(7);
      expect(human.sla.minAvailabilityPercent).to.equal(99.5);
      expect(human.rates[0].tiers).to.deep.equal([{ fromMb: 10000, discountPercent: 10 }]);
    });
  });
});
