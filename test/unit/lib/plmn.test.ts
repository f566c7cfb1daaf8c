import { expect } from "chai";
import fc from "fast-check";
import { InputError } from "../../../lib/core/errors";
import { checkPlmnHex, DEVICE_MAKER_MCC, formatPlmn, isValidPlmnHex, parsePlmn, plmnMcc, plmnMnc } from "../../../lib/core/plmn";

describe("lib/core/plmn", () => {
  const examples: [string, string][] = [
    ["262-01", "0x62f210"],
    ["310-410", "0x130014"],
    ["724-05", "0x27f450"],
    ["262-001", "0x621200"],
    ["999-01", "0x99f910"],
  ];

  it("encodes PLMN ids as 3GPP TS 24.008 TBCD", () => {
    for (const [text, hex] of examples) expect(parsePlmn(text), text).to.equal(hex);
  });

  it("accepts the forms with and without a dash, and trims whitespace", () => {
    expect(parsePlmn("26201")).to.equal("0x62f210");
    expect(parsePlmn("262001")).to.equal("0x621200");
    expect(parsePlmn("310410")).to.equal("0x130014");
    expect(parsePlmn("  262-01\t\n")).to.equal("0x62f210");
  });

  it("keeps 2-digit and 3-digit MNCs apart", () => {
    expect(parsePlmn("262-01")).to.not.equal(parsePlmn("262-001"));
    expect(formatPlmn(parsePlmn("262-001"))).to.equal("262-001");
  });

  it("rejects other forms with an InputError listing the accepted ones", () => {
    for (const bad of ["", "262", "262-1", "262-0001", "2620001", "26-201", "262_01", "abc-de", "262-01x", "262 01"]) {
      expect(() => parsePlmn(bad), JSON.stringify(bad)).to.throw(
        InputError,
        /is not a PLMN id[\s\S]*"262-01", "262-001", "26201" or "262001"/,
      );
    }
  });

  it("rejects MCC 000 and reports the location", () => {
    expect(() => parsePlmn("000-01", { file: "partners.csv", line: 4, field: "plmn" })).to.throw(
      InputError,
      /^partners\.csv:4 \(plmn\): "000-01" is not a PLMN id: MCC 000/,
    );
  });

  it("formats TBCD ids back to text", () => {
    for (const [text, hex] of examples) expect(formatPlmn(hex)).to.equal(text);
  });

  it("rejects invalid TBCD ids", () => {
    for (const bad of ["0x62f2", "0x62f21000", "0x6af210", "0x62e210", "0x62f21a", "0x00f010", "0x62F210", "62f210", "0x"]) {
      expect(isValidPlmnHex(bad), bad).to.equal(false);
      expect(() => formatPlmn(bad), bad).to.throw(InputError, /is not a valid PLMN id/);
      expect(() => checkPlmnHex(bad, "home"), bad).to.throw(InputError, /^home .* is not a valid PLMN id/);
    }
    for (const [, hex] of examples) expect(isValidPlmnHex(hex)).to.equal(true);
  });

  it("round-trips every MCC/MNC", () => {
    const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(""));
    const mcc = digits(3).filter((m) => m !== "000");
    const mnc = fc.oneof(digits(2), digits(3));
    fc.assert(
      fc.property(mcc, mnc, (c, n) => {
        const hex = parsePlmn(`${c}-${n}`);
        expect(isValidPlmnHex(hex)).to.equal(true);
        expect(formatPlmn(hex)).to.equal(`${c}-${n}`);
        expect(parsePlmn(`${c}${n}`)).to.equal(hex);
      }),
    );
  });

  it("splits text into MCC and MNC", () => {
    expect(plmnMcc("262-01")).to.equal("262");
    expect(plmnMnc("262-01")).to.equal("01");
    expect(plmnMnc("262001")).to.equal("001");
    expect(() => plmnMcc("26")).to.throw(InputError);
  });

  it("reserves MCC 999 for device makers", () => {
    expect(DEVICE_MAKER_MCC).to.equal("999");
    expect(plmnMcc(formatPlmn(parsePlmn(`${DEVICE_MAKER_MCC}-42`)))).to.equal(DEVICE_MAKER_MCC);
  });
});
