/**
 * When a period can close: one rule (lib/core/period closableFrom / closableNow) behind the report's
 * "closable at", the refused close's "closable from" and usage:close's check, tested at the boundary second
 * on the contracts.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { isoTime } from "../../../lib/agreements/terms";
import { InputError } from "../../../lib/core/errors";
import { closableFrom, closableNow } from "../../../lib/core/period";
import { closability } from "../../../lib/settlement/escrow";
import { closedAccumulator } from "../../../lib/settlement/invoices";
import { buildReport, reportToText } from "../../../lib/settlement/report";
import { partyWorld } from "../../helpers/invoiceParty";
import { BR, DE } from "../../helpers/rating";

const nextPeriod = (p: number) => (p % 100 === 12 ? (Math.floor(p / 100) + 1) * 100 + 1 : p + 1);

describe("when a period can close (report, invoice:propose's close, usage:close)", function () {
  this.timeout(300_000);

  it("is the later of the submission deadline and the pending batches' window ends; a close sent at latest block X - 1 lands at X", function () {
    expect(closableFrom(1_000)).to.equal(1_000);
    expect(closableFrom(1_000, [900, 1_005, 1_002])).to.equal(1_005);
    expect(closableNow(1_000, 998)).to.equal(false);
    expect(closableNow(1_000, 999)).to.equal(true); // the next block is at least 1,000
    expect(closableNow(1_000, 1_000)).to.equal(true);
  });

  it("the report's closable-at second is the first the ledger closes in; the refused close names the same second", async function () {
    const w = await loadFixture(partyWorld);
    const period = nextPeriod(w.period);
    const key = { payer: DE, payee: BR, period };
    const deadline = Number(await w.ledger.submissionDeadline(period));
    const c = await closability(w.clients.br, { home: DE, visited: BR, period });
    expect(c).to.deep.include({ closed: false, earliest: deadline });

    const report = await buildReport(w.clients.br, { self: BR, period });
    expect(report.partners[0].owedToUs.closableAt).to.equal(deadline);
    expect(reportToText(report)).to.include(isoTime(deadline));

    // One second early: refused, and the error says from when (the report's second).
    await time.setNextBlockTimestamp(deadline - 1);
    const early = await closedAccumulator(w.clients.br, key).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(early).to.be.instanceOf(InputError);
    expect((early as InputError).message).to.include(`UsageLedgerPeriodNotOver): closable from ${isoTime(deadline)}`);
    expect((await w.ledger.getPeriod(DE, BR, period)).closed).to.equal(false);

    // At that second: closed.
    await time.setNextBlockTimestamp(deadline);
    await closedAccumulator(w.clients.br, key);
    const info = await w.ledger.getPeriod(DE, BR, period);
    expect([info.closed, Number(info.closedAt)]).to.deep.equal([true, deadline]);
  });
});
