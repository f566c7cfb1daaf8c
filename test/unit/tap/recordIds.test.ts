import { expect } from "chai";
import { InputError } from "../../../lib/core/errors";
import { parseTapRecordId, tapRecordId } from "../../../lib/tap/recordIds";
import { isTapFatalCode, TAP_FATAL_CODES, TapFileRefused } from "../../../lib/tap/refusal";
import { REJECT_CODES } from "../../../lib/usage/types";

describe("TAP record ids and file refusals", () => {
  it("writes and parses TAP-<sender>-<fsn>-<position>", () => {
    const id = tapRecordId("BRAVO", "00042", 17);
    expect(id).to.equal("TAP-BRAVO-00042-17");
    expect(parseTapRecordId(id)).to.deep.equal({ sender: "BRAVO", fsn: "00042", position: 17 });
    expect(Buffer.byteLength(tapRecordId("ABC12", "99999", 4_294_967_295))).to.be.at.most(32);
  });

  it("parses nothing else", () => {
    for (const id of ["TAP-BRAVO-0042-17", "TAP-bravo-00042-17", "TAP-BRAVO-00042-0", "TAP-BRAVO-00042-", "R-1", "TAP-BRAVOX-00042-1"]) {
      expect(parseTapRecordId(id), id).to.equal(undefined);
    }
  });

  it("every fatal code is a reject code, and a refusal is an InputError with code and offset", () => {
    for (const code of TAP_FATAL_CODES) expect(REJECT_CODES as readonly string[]).to.include(code);
    expect(REJECT_CODES as readonly string[]).to.include("NOT_BILLABLE");
    const e = new TapFileRefused("TAP_VERSION", "TAP 3.11, not 3.12", { file: "x.tap", offset: 12 });
    expect(e).to.be.instanceOf(InputError);
    expect(e.code).to.equal("TAP_VERSION");
    expect(e.offset).to.equal(12);
    expect(e.message).to.contain("x.tap").and.contain("byte 12").and.contain("TAP_VERSION");
    expect(isTapFatalCode("TAP_AUDIT")).to.equal(true);
    expect(isTapFatalCode("NOT_BILLABLE")).to.equal(false);
  });
});
