import { expect } from "chai";
import { codedTimestamp, toUtc } from "../../../lib/tap/tapTime";

describe("lib/tap/tapTime: TAP local time + UTC offset to UTC", () => {
  it("shifts by the offset, across midnight, month, year and a leap day", () => {
    const cases: [string, string, string][] = [
      ["20140301140342", "+0200", "2014-03-01T12:03:42Z"],
      ["20260301235959", "-0500", "2026-03-02T04:59:59Z"],
      ["20260101003000", "+0100", "2025-12-31T23:30:00Z"],
      ["20240229233000", "-0100", "2024-03-01T00:30:00Z"],
      ["20240301003000", "+0100", "2024-02-29T23:30:00Z"],
      ["20260615120000", "+0545", "2026-06-15T06:15:00Z"],
      ["20260615120000", "-0000", "2026-06-15T12:00:00Z"],
    ];
    for (const [local, offset, utc] of cases) expect(toUtc(local, offset), `${local} ${offset}`).to.deep.equal({ utc });
  });

  it("refuses malformed or impossible times and offsets", () => {
    expect(toUtc("2014030114034", "+0200")).to.deep.equal({ problem: 'LocalTimeStamp "2014030114034" is not CCYYMMDDhhmmss' });
    expect(toUtc("2014030114034x", "+0200")).to.have.property("problem");
    expect(toUtc("20230229120000", "+0000")).to.deep.equal({ problem: 'LocalTimeStamp "20230229120000" is not a valid date and time' });
    expect(toUtc("20231301120000", "+0000")).to.have.property("problem");
    expect(toUtc("20230101240000", "+0000")).to.have.property("problem");
    expect(toUtc("20230101120000", "0200")).to.deep.equal({ problem: 'UtcTimeOffset "0200" is not +hhmm or -hhmm (at most 14 hours)' });
    expect(toUtc("20230101120000", "+1500")).to.have.property("problem");
    expect(toUtc("20230101120000", "+0260")).to.have.property("problem");
  });

  it("resolves a UtcTimeOffsetCode through NetworkInfo's table, or says why it cannot", () => {
    const offsets = new Map([[1, "+0200"]]);
    const problems: string[] = [];
    expect(codedTimestamp("20140301140342", 1, offsets, problems)).to.deep.equal({
      local: "20140301140342",
      utcOffset: "+0200",
      utcOffsetCode: 1,
      utc: "2014-03-01T12:03:42Z",
    });
    expect(codedTimestamp("20140301140342", 2, offsets, problems)).to.deep.equal({ local: "20140301140342", utcOffsetCode: 2 });
    expect(codedTimestamp("20140301140342", undefined, offsets, problems)).to.deep.equal({ local: "20140301140342" });
    expect(problems).to.deep.equal([
      "UtcTimeOffsetCode 2 is not in the file's NetworkInfo (UtcTimeOffsetInfo)",
      "timestamp 20140301140342 has no UtcTimeOffsetCode",
    ]);
  });
});
