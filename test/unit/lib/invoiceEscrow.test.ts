/**
 * The settlement side on the v2 contracts (RoamLedger's Ignition module, real ledger and agreements):
 * the payee proposes, the payer co-signs or refuses, a claim ends by reveal with the TypeScript rating equal
 * to the chain's, both directions settle with netting, withdrawals wait their delay, and no transaction
 * goes over the EIP-7825 cap.
 */
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { Amount } from "../../../lib/core/amount";
import { formatPeriod } from "../../../lib/core/period";
import { InputError } from "../../../lib/core/errors";
import { tokenInfo } from "../../../lib/agreements/chain";
import { connectRoamLedger, type RoamLedgerClient } from "../../../lib/chain/client";
import { draftInvoice, periodRatedTotals } from "../../../lib/invoice/draft";
import type { PeriodUsage } from "../../../lib/invoice/usage";
import {
  cosignInvoice,
  closeSignedInvoice,
  escrowDomainOf,
  escrowInvoiceStatus,
  InvoiceDisagreementError,
  proposeInvoice,
  versionInForce,
} from "../../../lib/settlement/invoices";
import { fileClaim, proveClaim, revealClaim, TX_GAS_CAP } from "../../../lib/settlement/claims";
import { cancelWithdrawal, depositToEscrow, executeWithdrawal, requestWithdrawal, settlePeriod } from "../../../lib/settlement/escrow";
import { signInvoice } from "../../../lib/settlement/invoiceSignature";
import { rateInvoice } from "../../../lib/settlement/rating";
import { addressesOf, PLMN } from "../../helpers/fixtures";
import { invoiceWorld, usageOfBatches, type InvoiceWorld } from "../../helpers/invoice";
import { largestGasUsed } from "../../helpers/invoiceParty";

const { DE, BR } = PLMN;
const RLST = 1_000_000n;

interface Setup extends InvoiceWorld {
  deClient: RoamLedgerClient;
  brClient: RoamLedgerClient;
  /** What BR bills DE and DE bills BR, from the batches. */
  brBillsDe: PeriodUsage;
  deBillsBr: PeriodUsage;
  startBlock: number;
}

/** The world with 3 of BR's batches (2 disputes), both carriers funded with 10,000 RLST and 5,000 deposited. */
async function setup(): Promise<Setup> {
  const startBlock = await hre.ethers.provider.getBlockNumber();
  const w = await invoiceWorld({ brBatches: 3, records: 40, disputes: 2 });
  const addresses = await addressesOf(w);
  const deClient = connectRoamLedger(addresses, w.de);
  const brClient = connectRoamLedger(addresses, w.br);
  const token = await tokenInfo(await w.token.getAddress(), w.de);
  for (const [who, client, member] of [
    [w.de, deClient, DE],
    [w.br, brClient, BR],
  ] as const) {
    await w.token.connect(w.deployer).mint(who.address, 10_000n * RLST);
    await depositToEscrow(client, { member, amount: Amount.fromUnits(token, 5_000n * RLST) });
  }
  const brBillsDe = await usageOfBatches(w, DE, BR, w.brBatches);
  const deBillsBr = await usageOfBatches(w, BR, DE, w.deBatches);
  return { ...w, deClient, brClient, brBillsDe, deBillsBr, startBlock };
}

/** `usage` with the first batch's class-1 data inflated: what a payee that over-bills would propose. */
function inflated(usage: PeriodUsage): PeriodUsage {
  const [first, ...rest] = usage.batches;
  const totals = first.totals.map((t) => (t.tariffClass === 1 ? { ...t, dataBytes: t.dataBytes + 5_000_000_000n } : t));
  return { ...usage, batches: [{ ...first, totals }, ...rest] };
}

describe("Invoices and escrow on the v2 contracts", function () {
  this.timeout(300_000);
  let largest = 0n;

  // Every block of every test (fixture included), before the next test's snapshot is restored.
  afterEach(async function () {
    const used = await largestGasUsed();
    if (used > largest) largest = used;
  });

  describe("the normal path", function () {
    it("BR proposes, DE co-signs, DE's invoice closes at once with both signatures, and the period settles with netting", async function () {
      const s = await loadFixture(setup);
      const key = { payer: DE, payee: BR, period: s.period };
      expect((await versionInForce(s.brClient, key)).version).to.equal(1);

      const proposed = await proposeInvoice(s.brClient, { key: s.key, usage: s.brBillsDe, terms: s.terms });
      expect(await escrowInvoiceStatus(s.deClient, key)).to.equal("proposed");
      expect(proposed.draft.invoice.net).to.equal(rateInvoice(periodRatedTotals(s.brBillsDe), s.terms.terms, BR).net);
      expect(proposed.draft.invoice.net > 0n).to.equal(true);

      const cosigned = await cosignInvoice(s.deClient, { key: s.key, usage: s.brBillsDe, terms: s.terms });
      expect(cosigned.contents.totals).to.deep.equal(proposed.draft.totals);
      expect(await escrowInvoiceStatus(s.deClient, key)).to.equal("closed");

      // DE bills BR: both sign off chain, one transaction closes it.
      const draft = draftInvoice({ key: s.key, usage: s.deBillsBr, terms: s.terms });
      const domain = await escrowDomainOf(s.deClient);
      const [payerSignature, payeeSignature] = [
        await signInvoice(s.br, domain, draft.invoice),
        await signInvoice(s.de, domain, draft.invoice),
      ];
      await closeSignedInvoice(s.deClient, { invoice: draft.invoice, payerSignature, payeeSignature });

      const settled = await settlePeriod(s.deClient, { self: DE, partner: BR, period: s.period });
      expect(settled.mode).to.equal("netted");
      expect(settled.selfOwed).to.equal(proposed.draft.invoice.net);
      expect(settled.partnerOwed).to.equal(draft.invoice.net);
      const tokenAddress = await s.token.getAddress();
      const diff = proposed.draft.invoice.net - draft.invoice.net;
      expect(await s.escrow.deposits(DE, tokenAddress)).to.equal(5_000n * RLST - diff);
      expect(await s.escrow.deposits(BR, tokenAddress)).to.equal(5_000n * RLST + diff);
      console.log(`      gas: proposeInvoice ${proposed.gasUsed}, cosignInvoice ${cosigned.gasUsed}, settle ${settled.gasUsed}`);
    });

    it("proposing again reproduces the same totals commitment (the salt is derived, not random)", async function () {
      const s = await loadFixture(setup);
      const a = draftInvoice({ key: s.key, usage: s.brBillsDe, terms: s.terms });
      const b = draftInvoice({ key: s.key, usage: structuredClone(s.brBillsDe), terms: s.terms });
      expect(a.invoice.totalsCommitment).to.equal(b.invoice.totalsCommitment);
    });
  });

  describe("a payer that refuses", function () {
    it("refuses an over-billed invoice line by line, signs nothing, and says what to do", async function () {
      const s = await loadFixture(setup);
      await proposeInvoice(s.brClient, { key: s.key, usage: inflated(s.brBillsDe), terms: s.terms });
      const err = await cosignInvoice(s.deClient, { key: s.key, usage: s.brBillsDe, terms: s.terms }).catch((e) => e);
      expect(err).to.be.instanceOf(InvoiceDisagreementError);
      const fields = (err as InvoiceDisagreementError).differences.map((d) => d.field);
      expect(fields).to.include.members(["net", "totalsCommitment", "class 1 dataBytes", "subtotal"]);
      expect(err.message).to.match(/What to do: .*propose the corrected invoice/);
      expect(await escrowInvoiceStatus(s.deClient, { payer: DE, payee: BR, period: s.period })).to.equal("proposed");
    });

    it("refuses usage that is not the ledger's (accumulator) before anything is signed", async function () {
      const s = await loadFixture(setup);
      const partial = { ...s.brBillsDe, batches: s.brBillsDe.batches.slice(1) };
      const wrong = (await usageOfBatches(s, DE, BR, s.brBatches.slice(1))).accumulator;
      const err = await proposeInvoice(s.brClient, { key: s.key, usage: { ...partial, accumulator: wrong }, terms: s.terms }).catch(
        (e) => e,
      );
      expect(err).to.be.instanceOf(InputError);
      expect(err.message).to.match(/is not the ledger's/);
    });
  });

  describe("a claim", function () {
    it("cannot be filed in the sign window, cannot be proven in the payer's contest window, and a reveal needs the explicit flag", async function () {
      const s = await loadFixture(setup);
      const key = { payer: DE, payee: BR, period: s.period };
      await proposeInvoice(s.brClient, { key: s.key, usage: inflated(s.brBillsDe), terms: s.terms });
      await expect(fileClaim(s.brClient, key)).to.be.rejectedWith(InputError, /sign window .* runs until/);
      await time.increase(Number(await s.escrow.SIGN_WINDOW()));
      await fileClaim(s.brClient, key);
      // A proof waits for the payer's contest window (the adjudicator refuses "0x01" anyway).
      await expect(proveClaim(s.deClient, { ...key, proof: "0x01" })).to.be.rejectedWith(InputError, /may co-sign or contest .* until/);
      await expect(revealClaim(s.deClient, { usage: s.brBillsDe, terms: s.terms, publish: false })).to.be.rejectedWith(
        InputError,
        /publishes the agreement's terms/,
      );
    });

    it("is refused before sending when the payee's free deposit cannot bond it, saying how much is needed", async function () {
      const s = await loadFixture(setup);
      const key = { payer: DE, payee: BR, period: s.period };
      const token = await tokenInfo(await s.token.getAddress(), s.br);
      const proposed = await proposeInvoice(s.brClient, { key: s.key, usage: s.brBillsDe, terms: s.terms });
      const all = await requestWithdrawal(s.brClient, { member: BR, amount: Amount.fromUnits(token, 5_000n * RLST) });
      await time.increaseTo(all.unlocksAt);
      await executeWithdrawal(s.brClient, { member: BR, token });
      const bond = (proposed.draft.invoice.net * BigInt(await s.escrow.CLAIM_BOND_BPS())) / 10_000n;
      await expect(fileClaim(s.brClient, key)).to.be.rejectedWith(
        InputError,
        `the claim on the invoice of 262-01 to 724-05 for ${formatPeriod(s.period)} bonds ${Amount.fromUnits(token, bond)} of the payee's deposit; only 0 RLST is free`,
      );
      expect(await escrowInvoiceStatus(s.deClient, key)).to.equal("proposed");
    });

    it("ends by a reveal in chunks whose on-chain rating equals lib/settlement/rating.ts on the TS rated totals: the over-claim is refuted", async function () {
      const s = await loadFixture(setup);
      const key = { payer: DE, payee: BR, period: s.period };
      const over = await proposeInvoice(s.brClient, { key: s.key, usage: inflated(s.brBillsDe), terms: s.terms });
      await time.increase(Number(await s.escrow.SIGN_WINDOW()));
      const claim = await fileClaim(s.brClient, key);
      const ticks: number[] = [];
      const progress = () => ({ update: (n: number) => ticks.push(n), tick() {}, done() {} });
      const revealed = await revealClaim(s.deClient, { usage: s.brBillsDe, terms: s.terms, publish: true, maxBatchesPerCall: 2, progress });
      const expected = rateInvoice(periodRatedTotals(s.brBillsDe), s.terms.terms, BR);
      expect(revealed.rating).to.deep.equal(expected);
      expect(revealed.upheld).to.equal(false);
      expect(revealed.amount).to.equal(expected.net);
      expect(revealed.txs.map((t) => t.opened)).to.deep.equal([2, 1]);
      expect(ticks).to.deep.equal([0, 2, 3]);
      const state = await s.escrow.invoice(DE, BR, s.period);
      expect(state.amount).to.equal(expected.net);
      expect(state.net).to.equal(over.draft.invoice.net);
      // The refuted claim's bond went to DE's deposit.
      const tokenAddress = await s.token.getAddress();
      expect(await s.escrow.deposits(DE, tokenAddress)).to.equal(5_000n * RLST + claim.bond);
      console.log(`      gas: openBatches ${revealed.txs.map((t) => t.gasUsed).join(", ")}, finishReveal ${revealed.finishTx.gasUsed}`);
    });
  });

  describe("withdrawals", function () {
    it("wait the withdrawal delay (the error says until when and why), and can be cancelled", async function () {
      const s = await loadFixture(setup);
      const token = await tokenInfo(await s.token.getAddress(), s.de);
      const amount = Amount.fromUnits(token, 1_000n * RLST);
      const requested = await requestWithdrawal(s.deClient, { member: DE, amount });
      expect(requested.delay).to.equal(Number(await s.escrow.WITHDRAWAL_DELAY()));
      await expect(executeWithdrawal(s.deClient, { member: DE, token })).to.be.rejectedWith(InputError, /unlocks at .*THREATS F2/s);
      await time.increaseTo(requested.unlocksAt);
      const done = await executeWithdrawal(s.deClient, { member: DE, token });
      expect(done.withdrawn).to.equal(1_000n * RLST);
      expect(done.deposit).to.equal(4_000n * RLST);
      await requestWithdrawal(s.deClient, { member: DE, amount });
      await cancelWithdrawal(s.deClient, { member: DE, token });
      await expect(executeWithdrawal(s.deClient, { member: DE, token })).to.be.rejectedWith(InputError, /no pending withdrawal/);
    });
  });

  describe("the EIP-7825 cap", function () {
    it("no transaction of these tests used 16,777,216 gas or more", function () {
      expect(largest > 0n).to.equal(true);
      expect(largest < TX_GAS_CAP).to.equal(true);
      console.log(`      largest transaction of these tests: ${largest} gas`);
    });
  });
});
