/**
 * settlePlan: the escrow's settle rule as the library applies it before sending (a pure function of both
 * directions' statuses and the clock): netted when both are closed, one alone once the other is settled or
 * after the solo-settle delay, else an error that says when and what closes the missing invoice.
 */
import { expect } from "chai";
import { InputError } from "../../../lib/core/errors";
import type { InvoiceStatusName } from "../../../lib/core/enums";
import { settlePlan, type SettleState } from "../../../lib/settlement/escrow";
import { isoTime } from "../../../lib/agreements/terms";
import { PLMN } from "../../helpers/fixtures";
import type { Hex } from "../../../lib/util/hex";

const DE = PLMN.DE as Hex;
const BR = PLMN.BR as Hex;
const SOLO_AT = 1_800_000_000;

/** DE settles with BR for 2026-11: `ours` is DE's invoice to BR, `theirs` BR's to DE. */
function state(ours: InvoiceStatusName, theirs: InvoiceStatusName, now = SOLO_AT - 1): SettleState {
  return { self: DE, partner: BR, period: 202611, ours, theirs, now, soloAt: SOLO_AT };
}

function refusal(s: SettleState): InputError {
  try {
    settlePlan(s);
  } catch (err) {
    expect(err).to.be.instanceOf(InputError);
    return err as InputError;
  }
  throw new Error("expected settlePlan to refuse");
}

describe("lib/settlement/escrow settlePlan", function () {
  it("nets both directions when both are closed, whatever the clock", function () {
    expect(settlePlan(state("closed", "closed", 0))).to.deep.equal({ mode: "netted" });
  });

  it("settles the closed direction alone at once when the other is settled already", function () {
    expect(settlePlan(state("closed", "settled", 0))).to.deep.equal({ mode: "solo", payer: DE, payee: BR });
    expect(settlePlan(state("settled", "closed", 0))).to.deep.equal({ mode: "solo", payer: BR, payee: DE });
  });

  it("settles one direction alone only from the period's end + the solo delay, saying when and what closes the other", function () {
    const early = refusal(state("closed", "proposed"));
    expect(early.shortMessage).to.contain(
      `only the invoice of 262-01 to 724-05 (closed) of 262-01 and 724-05 for 2026-11 is closed, the invoice of 724-05 to 262-01 (proposed) is not: it settles alone from ${isoTime(SOLO_AT)}`,
    );
    // BR pays that one: BR co-signs DE's proposal.
    expect(early.next).to.deep.equal({ operation: "invoice:cosign", args: { partner: "262-01", period: "2026-11" } });
    expect(settlePlan(state("closed", "proposed", SOLO_AT))).to.deep.equal({ mode: "solo", payer: DE, payee: BR });
    expect(settlePlan(state("none", "closed", SOLO_AT))).to.deep.equal({ mode: "solo", payer: BR, payee: DE });
  });

  it("refuses when nothing is closed and says who proposes, co-signs, or how a claim ends", function () {
    const none = refusal(state("none", "none", SOLO_AT));
    expect(none.shortMessage).to.equal(
      "nothing of 262-01 and 724-05 for 2026-11 can settle: the invoice of 262-01 to 724-05 (none) and the invoice of 724-05 to 262-01 (none) are not closed",
    );
    // BR bills DE: BR proposes, naming DE.
    expect(none.next).to.deep.equal({ operation: "invoice:propose", args: { partner: "262-01", period: "2026-11" } });
    const claimed = refusal(state("claimed", "none"));
    expect(claimed.hint).to.contain("the claim of 724-05 closes when 262-01 co-signs after all, by a proof, or by a reveal");
    expect(claimed.next?.operation).to.equal("invoice:status");
    // Ours settled alone before, theirs still proposed: only theirs is named.
    const half = refusal(state("settled", "proposed", SOLO_AT));
    expect(half.shortMessage).to.equal(
      "nothing of 262-01 and 724-05 for 2026-11 can settle: the invoice of 724-05 to 262-01 (proposed) is not closed",
    );
  });

  it("refuses a period settled both ways", function () {
    expect(refusal(state("settled", "settled")).shortMessage).to.equal(
      "262-01 and 724-05 for 2026-11 are settled already, both directions",
    );
  });
});
