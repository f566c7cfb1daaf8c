import { expect } from "chai";
import { periodBounds } from "../../../lib/core/period";
import { batchPaceWarning } from "../../../lib/usage/stream";

describe("usage:stream: the batch-pace warning", function () {
  const period = 202611; // 30 days: 2,592,000 s
  const [start, end] = periodBounds(period);
  const half = start + (end - start) / 2;

  it("warns once batches run more than a tenth of the cap ahead of the month's share gone by, not at the boundary", function () {
    // half the month gone: up to 60% of 2048 (1228.8) is fine
    expect(batchPaceWarning(period, 1228, 2048, half)).to.equal(undefined);
    const warning = batchPaceWarning(period, 1229, 2048, half);
    expect(warning).to.be.a("string");
    expect(warning).to.equal(
      "period 2026-11 has used 1229 of its 2048 batches 50% into the month (about 82 a day): at this pace it refuses batches " +
        "before the month ends. Give --batch-seconds (a batch every 22 minutes on average fills the month) or a larger --batch-records.",
    );
  });

  it("before the month starts counts none of it gone; after it ends never warns", function () {
    expect(batchPaceWarning(period, 204, 2048, start - 3600)).to.equal(undefined);
    expect(batchPaceWarning(period, 205, 2048, start - 3600)).to.match(
      /used 205 of its 2048 batches 0% into the month \(about 205 a day\)/,
    );
    expect(batchPaceWarning(period, 2048, 2048, end + 1)).to.equal(undefined);
    expect(batchPaceWarning(period, 2048, 2048, end - 86_400)).to.equal(undefined); // 96.7% gone, 100% used: within a tenth
  });

  it("scales the advice to the month's length and the cap (February, a cap of 100)", function () {
    const feb = 202702; // 28 days
    const [s, e] = periodBounds(feb);
    const warning = batchPaceWarning(feb, 50, 100, s + (e - s) / 4);
    expect(warning).to.match(/used 50 of its 100 batches 25% into the month \(about 7 a day\)/);
    expect(warning).to.match(/a batch every 404 minutes on average/); // 28 days / 100, rounded up
  });
});
