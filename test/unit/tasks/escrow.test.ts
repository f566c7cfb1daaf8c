/**
 * The escrow tasks on the v2 contracts (RoamLedger's Ignition module on the hardhat network): deposits,
 * two-step withdrawals with their delay, the payout account, settling a period netted (both invoices
 * co-signed through lib/settlement/invoices) or one direction alone after the solo-settle delay, debts and
 * their payment, balances. Every test checks the tokens that moved, not only the printed lines.
 */
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ZeroAddress } from "ethers";
import { addressesOf, PLMN } from "../../helpers/fixtures";
import { FROM, captured, failureOf, useDeploymentForTasks } from "../../helpers/tasks";
import { invoiceWorld, usageOfBatches, type InvoiceWorld } from "../../helpers/invoice";
import { isoTime } from "../../../lib/agreements/terms";
import { Amount } from "../../../lib/core/amount";
import { formatPeriod } from "../../../lib/core/period";
import { connectRoamLedger, type RoamLedgerClient } from "../../../lib/chain/client";
import type { PeriodUsage } from "../../../lib/invoice/usage";
import { cosignInvoice, proposeInvoice } from "../../../lib/settlement/invoices";
import { depositToEscrow } from "../../../lib/settlement/escrow";

const { DE, BR } = PLMN;
const RLST = 1_000_000n; // 6 decimals
const TOKEN = { symbol: "RLST", decimals: 6 };

/** Base units as the tasks print them: "1000.5 RLST". */
const units = (n: bigint) => `${Amount.fromUnits({ ...TOKEN, address: ZeroAddress }, n).format()} RLST`;

interface World extends InvoiceWorld {
  deClient: RoamLedgerClient;
  brClient: RoamLedgerClient;
  tokenAddress: string;
  /** What BR bills DE (DE pays) and DE bills BR (BR pays), from the committed batches. */
  brBillsDe: PeriodUsage;
  deBillsBr: PeriodUsage;
  /** The nets of the directions closed by the fixture (0 when not closed). */
  deOwes: bigint;
  brOwes: bigint;
}

/** The DE-BR period of invoiceWorld, closable; DE and BR hold 10,000 RLST each, nothing deposited. */
async function funded(): Promise<World> {
  const w = await invoiceWorld({ brBatches: 2, records: 30, disputes: 1 });
  for (const who of [w.de, w.br]) await w.token.connect(w.deployer).mint(who.address, 10_000n * RLST);
  const addresses = await addressesOf(w);
  return {
    ...w,
    deClient: connectRoamLedger(addresses, w.de),
    brClient: connectRoamLedger(addresses, w.br),
    tokenAddress: await w.token.getAddress(),
    brBillsDe: await usageOfBatches(w, DE, BR, w.brBatches),
    deBillsBr: await usageOfBatches(w, BR, DE, w.deBatches),
    deOwes: 0n,
    brOwes: 0n,
  };
}

/** `w`'s carriers deposit 5,000 RLST each (`who`: only these). */
async function depositEach(w: World, who: ("de" | "br")[] = ["de", "br"]): Promise<void> {
  const token = { ...TOKEN, address: w.tokenAddress };
  if (who.includes("de")) await depositToEscrow(w.deClient, { member: DE, amount: Amount.fromUnits(token, 5_000n * RLST) });
  if (who.includes("br")) await depositToEscrow(w.brClient, { member: BR, amount: Amount.fromUnits(token, 5_000n * RLST) });
}

/** The payee proposes, the payer co-signs: the invoice of one direction closes at the payee's net. */
async function close(w: World, direction: "de pays" | "br pays"): Promise<bigint> {
  const [payee, payer, usage] = direction === "de pays" ? [w.brClient, w.deClient, w.brBillsDe] : [w.deClient, w.brClient, w.deBillsBr];
  const proposed = await proposeInvoice(payee, { key: w.key, usage, terms: w.terms });
  await cosignInvoice(payer, { key: w.key, usage, terms: w.terms });
  return proposed.draft.invoice.net;
}

/** Both deposited 5,000 RLST; both directions closed by co-signature. */
async function bothClosed(): Promise<World> {
  const w = await funded();
  await depositEach(w);
  return { ...w, deOwes: await close(w, "de pays"), brOwes: await close(w, "br pays") };
}

/** Both deposited 5,000 RLST; only DE's invoice to BR closed (DE has not billed BR yet). */
async function oneClosed(): Promise<World> {
  const w = await funded();
  await depositEach(w);
  return { ...w, deOwes: await close(w, "de pays") };
}

/** Only BR deposited; both directions closed: DE's deposit cannot pay what it owes net. */
async function deShort(): Promise<World> {
  const w = await funded();
  await depositEach(w, ["br"]);
  return { ...w, deOwes: await close(w, "de pays"), brOwes: await close(w, "br pays") };
}

describe("tasks: escrow", function () {
  this.timeout(300_000);
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>> | undefined;

  /** The fixture, with the tasks pointed at its deployment. */
  async function use(fixture: () => Promise<World>): Promise<World & { P: string }> {
    const w = await loadFixture(fixture);
    env = await useDeploymentForTasks(w);
    return { ...w, P: formatPeriod(w.period) };
  }

  afterEach(() => {
    env?.cleanup();
    env = undefined;
  });

  describe("escrow:deposit", function () {
    it("approves the escrow for the amount, then deposits it, in token units", async function () {
      const w = await use(funded);
      const printed = await captured(() => hre.run("escrow:deposit", { amount: "1000.50", partner: "724-05", from: FROM.de }));
      expect(printed).to.match(/^Approved the escrow for 1000\.5 RLST \(tx 0x[0-9a-f]{64}\)\./);
      expect(printed).to.match(/262-01 deposited 1000\.5 RLST \(tx 0x[0-9a-f]{64}\); deposit now 1000\.5 RLST\./);
      expect(await w.escrow.deposits(DE, w.tokenAddress)).to.equal(1_000_500_000n);
      // Without --token or --partner: the one settlement token of DE's agreements.
      await hre.run("escrow:deposit", { amount: "0.5", from: FROM.de });
      expect(await w.escrow.deposits(DE, w.tokenAddress)).to.equal(1_001_000_000n);
      expect(await w.token.balanceOf(w.de.address)).to.equal(10_000n * RLST - 1_001_000_000n);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(1_001_000_000n);
    });

    it("fails on bad amounts, unknown partners, a short account, and an unauthorized sender", async function () {
      const w = await use(funded);
      await expect(hre.run("escrow:deposit", { amount: "1.0000001", from: FROM.de })).to.be.rejectedWith(
        /--amount: "1\.0000001" has 7 decimal places, more than 6/,
      );
      await expect(hre.run("escrow:deposit", { amount: "0", from: FROM.de })).to.be.rejectedWith(/--amount must be more than 0/);
      await expect(hre.run("escrow:deposit", { amount: "1", partner: "234-15", from: FROM.de })).to.be.rejectedWith(
        /--partner: 234-15 is not a member of the consortium[\s\S]*run `npx hardhat carrier:list`/,
      );
      await expect(hre.run("escrow:deposit", { amount: "1", partner: "310-410", from: FROM.de })).to.be.rejectedWith(
        /--partner: 262-01 has no accepted roaming agreement with 310-410 \(US Mobile IoT\)[\s\S]*run `npx hardhat agreement:show --partner 310-410`/,
      );
      await expect(hre.run("escrow:deposit", { amount: "1", token: "0x1234", from: FROM.de })).to.be.rejectedWith(
        /--token: 0x1234 is not an address/,
      );
      await expect(hre.run("escrow:deposit", { amount: "20000", from: FROM.de })).to.be.rejectedWith(
        /holds 10000 RLST, less than the 20000 to deposit/,
      );
      await expect(hre.run("escrow:deposit", { amount: "1", token: w.tokenAddress, from: FROM.outsider })).to.be.rejectedWith(
        /CarrierRegistryNotActiveOperator/,
      );
      expect(await w.escrow.deposits(DE, w.tokenAddress)).to.equal(0n);
      expect(await w.token.balanceOf(w.de.address)).to.equal(10_000n * RLST);
    });
  });

  describe("escrow:withdraw", function () {
    it("requests, refuses to execute before the delay (saying until when and why), executes after it", async function () {
      const w = await use(bothClosed);
      const to = w.spare[0].address;
      const delay = Number(await w.escrow.WITHDRAWAL_DELAY());
      const printed = await captured(() => hre.run("escrow:withdraw", { request: true, amount: "100", to, from: FROM.br }));
      const unlocksAt = Number((await w.escrow.pendingWithdrawal(BR, w.tokenAddress)).unlocksAt);
      expect(unlocksAt).to.equal((await time.latest()) + delay);
      expect(printed).to.contain(`724-05 asked to withdraw up to 100 RLST to ${to} (tx 0x`);
      expect(printed).to.contain(`executable from ${isoTime(unlocksAt)} (the ${delay / 86_400} days withdrawal delay), with --execute.`);
      expect(printed).to.contain(`Free now: ${units(5_000n * RLST - w.brOwes)}`);

      const early = await failureOf(hre.run("escrow:withdraw", { execute: true, from: FROM.br }));
      expect(early).to.contain(`the withdrawal of 724-05 unlocks at ${isoTime(unlocksAt)}`);
      expect(early).to.match(
        /Why it waits: .*longer than a month plus the submission grace, the longest dispute window and the sign window/,
      );
      expect(early).to.contain(`execute it after ${isoTime(unlocksAt)}`);
      expect(await w.token.balanceOf(to)).to.equal(0n);

      await time.increaseTo(unlocksAt);
      const done = await captured(() => hre.run("escrow:withdraw", { execute: true, from: FROM.br }));
      expect(done).to.match(
        new RegExp(`724-05 withdrew 100 RLST to ${to} \\(tx 0x[0-9a-f]{64}\\); deposit now ${units(4_900n * RLST)}\\.`),
      );
      expect(await w.token.balanceOf(to)).to.equal(100n * RLST);
      expect(await w.escrow.deposits(BR, w.tokenAddress)).to.equal(4_900n * RLST);
      expect((await w.escrow.pendingWithdrawal(BR, w.tokenAddress)).amount).to.equal(0n);
    });

    it("sends only what nothing reserves: a closed invoice's net stays on the payer", async function () {
      const w = await use(bothClosed);
      expect(w.deOwes > 0n).to.equal(true);
      expect(await w.escrow.reserved(DE, w.tokenAddress)).to.equal(w.deOwes);
      // --amount alone is a request too.
      await hre.run("escrow:withdraw", { amount: "5000", from: FROM.de });
      await time.increaseTo((await w.escrow.pendingWithdrawal(DE, w.tokenAddress)).unlocksAt);
      const before = await w.token.balanceOf(w.de.address);
      const printed = await captured(() => hre.run("escrow:withdraw", { execute: true, from: FROM.de }));
      const sent = 5_000n * RLST - w.deOwes;
      expect(printed).to.contain(`262-01 withdrew ${units(sent)} (of 5000 RLST requested: the rest is reserved)`);
      expect(await w.token.balanceOf(w.de.address)).to.equal(before + sent);
      expect(await w.escrow.deposits(DE, w.tokenAddress)).to.equal(w.deOwes);

      // Nothing free now: the error says so and the request is kept by the escrow's rule (not sent).
      await hre.run("escrow:withdraw", { request: true, amount: "1", from: FROM.de });
      await time.increaseTo((await w.escrow.pendingWithdrawal(DE, w.tokenAddress)).unlocksAt);
      await expect(hre.run("escrow:withdraw", { execute: true, from: FROM.de })).to.be.rejectedWith(
        new RegExp(
          `nothing of 262-01's deposit of RLST is free: deposit ${units(w.deOwes)}, reserved ${units(w.deOwes)}[\\s\\S]*escrow:balance --member 262-01`,
        ),
      );
      expect((await w.escrow.pendingWithdrawal(DE, w.tokenAddress)).amount).to.equal(RLST);
    });

    it("cancels a pending request; a new request replaces the old one and restarts its clock", async function () {
      const w = await use(bothClosed);
      await hre.run("escrow:withdraw", { request: true, amount: "10", from: FROM.br });
      const first = Number((await w.escrow.pendingWithdrawal(BR, w.tokenAddress)).unlocksAt);
      await time.increase(86_400);
      const again = await captured(() => hre.run("escrow:withdraw", { request: true, amount: "20", from: FROM.br }));
      expect(again).to.contain(`It replaces the pending request of 10 RLST that unlocked at ${isoTime(first)}.`);
      const pending = await w.escrow.pendingWithdrawal(BR, w.tokenAddress);
      expect([pending.amount, Number(pending.unlocksAt)]).to.deep.equal([20n * RLST, first + 86_400 + 1]);

      const printed = await captured(() => hre.run("escrow:withdraw", { cancel: true, from: FROM.br }));
      expect(printed).to.match(/^724-05 cancelled its pending withdrawal of 20 RLST \(tx 0x[0-9a-f]{64}\)\.$/);
      expect((await w.escrow.pendingWithdrawal(BR, w.tokenAddress)).amount).to.equal(0n);
      await time.increaseTo(first + 86_400 + 1);
      await expect(hre.run("escrow:withdraw", { execute: true, from: FROM.br })).to.be.rejectedWith(
        /724-05 has no pending withdrawal of RLST[\s\S]*request one first, with the amount/,
      );
      await expect(hre.run("escrow:withdraw", { cancel: true, from: FROM.br })).to.be.rejectedWith(
        /no pending withdrawal of RLST to cancel/,
      );
      expect(await w.escrow.deposits(BR, w.tokenAddress)).to.equal(5_000n * RLST);
    });

    it("fails on flags that do not name one step, a bad recipient, and a device maker", async function () {
      const w = await use(bothClosed);
      await expect(hre.run("escrow:withdraw", { from: FROM.de })).to.be.rejectedWith(
        /say one of --request --amount X, --execute or --cancel/,
      );
      await expect(hre.run("escrow:withdraw", { execute: true, cancel: true, from: FROM.de })).to.be.rejectedWith(/say one of/);
      await expect(hre.run("escrow:withdraw", { execute: true, amount: "1", from: FROM.de })).to.be.rejectedWith(
        /--amount and --to belong to --request/,
      );
      await expect(hre.run("escrow:withdraw", { request: true, from: FROM.de })).to.be.rejectedWith(/--amount is required/);
      await expect(hre.run("escrow:withdraw", { request: true, amount: "1", to: "bank", from: FROM.de })).to.be.rejectedWith(
        /--to: bank is not an address/,
      );
      await expect(hre.run("escrow:withdraw", { request: true, amount: "1", token: w.tokenAddress, from: FROM.maker })).to.be.rejectedWith(
        /CarrierRegistryMissingRole/,
      );
      expect((await w.escrow.pendingWithdrawal(DE, w.tokenAddress)).amount).to.equal(0n);
    });
  });

  describe("escrow:settle", function () {
    it("settles both closed directions netted: the net debtor pays the difference once", async function () {
      const w = await use(bothClosed);
      expect(w.deOwes > w.brOwes && w.brOwes > 0n).to.equal(true);
      const diff = w.deOwes - w.brOwes;
      const printed = await captured(() => hre.run("escrow:settle", { partner: "262-01", period: w.P, from: FROM.br }));
      expect(printed).to.match(
        new RegExp(
          `^Settled ${w.P} between 724-05 and 262-01, netted \\(tx 0x[0-9a-f]{64}\\): 724-05 owed ${units(w.brOwes)}, 262-01 owed ${units(w.deOwes)}\\.`,
        ),
      );
      expect(printed).to.contain(`262-01 paid 724-05 ${units(diff)} of ${units(diff)} (credited to its deposit)`);
      expect(await w.escrow.deposits(DE, w.tokenAddress)).to.equal(5_000n * RLST - diff);
      expect(await w.escrow.deposits(BR, w.tokenAddress)).to.equal(5_000n * RLST + diff);
      expect(await w.escrow.reserved(DE, w.tokenAddress)).to.equal(0n);
      await expect(hre.run("escrow:settle", { partner: "262-01", period: w.P, from: FROM.br })).to.be.rejectedWith(
        new RegExp(
          `724-05 and 262-01 for ${w.P} are settled already, both directions[\\s\\S]*invoice:status --payer 724-05 --payee 262-01`,
        ),
      );
    });

    it("pays a creditor's payout account when it set one, and its deposit again after --account 0x0", async function () {
      const w = await use(bothClosed);
      const treasury = w.spare[1].address;
      const set = await captured(() => hre.run("escrow:payout", { account: treasury, from: FROM.br }));
      expect(set).to.match(new RegExp(`^Payments to 724-05 now go to ${treasury} \\(tx 0x[0-9a-f]{64}\\)\\.$`));
      expect(await w.escrow.payoutAccount(BR)).to.equal(treasury);
      const printed = await captured(() => hre.run("escrow:settle", { partner: "724-05", period: w.P, from: FROM.de }));
      const diff = w.deOwes - w.brOwes;
      expect(printed).to.contain(`262-01 paid 724-05 ${units(diff)} of ${units(diff)} (sent to ${treasury})`);
      expect(await w.token.balanceOf(treasury)).to.equal(diff);
      expect(await w.escrow.deposits(BR, w.tokenAddress)).to.equal(5_000n * RLST);

      const back = await captured(() => hre.run("escrow:payout", { account: ZeroAddress, from: FROM.br }));
      expect(back).to.contain("Payments to 724-05 now are credited to its deposit");
      expect(await w.escrow.payoutAccount(BR)).to.equal(ZeroAddress);
      await expect(hre.run("escrow:payout", { account: await w.escrow.getAddress(), from: FROM.br })).to.be.rejectedWith(
        /--account: payments cannot go to the escrow itself/,
      );
      await expect(hre.run("escrow:payout", { account: "0x12", from: FROM.br })).to.be.rejectedWith(/--account: 0x12 is not an address/);
    });

    it("refuses one direction alone before the solo-settle delay (saying when and what closes the other), settles it after", async function () {
      const w = await use(oneClosed);
      const [, end] = await w.ledger.periodBounds(w.period);
      const soloAt = Number(end) + Number(await w.escrow.SOLO_SETTLE_DELAY());
      const early = await failureOf(hre.run("escrow:settle", { partner: "724-05", period: w.P, from: FROM.de }));
      expect(early).to.contain(
        `only the invoice of 262-01 to 724-05 (closed) of 262-01 and 724-05 for ${w.P} is closed, the invoice of 724-05 to 262-01 (none) is not: it settles alone from ${isoTime(soloAt)}`,
      );
      expect(early).to.contain(`run \`npx hardhat invoice:propose --partner 724-05 --period ${w.P}\``);
      expect(await w.escrow.deposits(DE, w.tokenAddress)).to.equal(5_000n * RLST);

      await time.increaseTo(soloAt);
      const printed = await captured(() => hre.run("escrow:settle", { partner: "262-01", period: w.P, from: FROM.br }));
      expect(printed).to.match(
        new RegExp(`^Settled the invoice of 262-01 to 724-05 for ${w.P} alone \\(tx 0x[0-9a-f]{64}\\): 262-01 owed ${units(w.deOwes)}\\.`),
      );
      expect(await w.escrow.deposits(DE, w.tokenAddress)).to.equal(5_000n * RLST - w.deOwes);
      expect(await w.escrow.deposits(BR, w.tokenAddress)).to.equal(5_000n * RLST + w.deOwes);

      // The other direction, closed late, settles alone at once: its partner is settled already.
      const brOwes = await close(w, "br pays");
      await hre.run("escrow:settle", { partner: "724-05", period: w.P, from: FROM.de });
      expect(await w.escrow.deposits(DE, w.tokenAddress)).to.equal(5_000n * RLST - w.deOwes + brOwes);
      expect(await w.escrow.deposits(BR, w.tokenAddress)).to.equal(5_000n * RLST + w.deOwes - brOwes);
    });

    it("says which invoice is not closed and who proposes or co-signs it", async function () {
      const w = await use(funded);
      await expect(hre.run("escrow:settle", { partner: "724-05", period: w.P, from: FROM.de })).to.be.rejectedWith(
        new RegExp(
          `nothing of 262-01 and 724-05 for ${w.P} can settle: the invoice of 262-01 to 724-05 \\(none\\) and the invoice of 724-05 to 262-01 \\(none\\) is not closed[\\s\\S]*724-05 \\(the visited carrier\\) rates the closed period and proposes the invoice[\\s\\S]*invoice:propose --partner 262-01 --period ${w.P}`,
        ),
      );
      await proposeInvoice(w.brClient, { key: w.key, usage: w.brBillsDe, terms: w.terms });
      await expect(hre.run("escrow:settle", { partner: "724-05", period: w.P, from: FROM.de })).to.be.rejectedWith(
        new RegExp(`the invoice of 262-01 to 724-05 \\(proposed\\)[\\s\\S]*invoice:cosign --partner 724-05 --period ${w.P}`),
      );
    });

    it("fails on a bad period, an unknown or own partner, and a sender that is no carrier", async function () {
      const w = await use(funded);
      await expect(hre.run("escrow:settle", { partner: "724-05", period: "2026-13", from: FROM.de })).to.be.rejectedWith(
        /--period: "2026-13" is not a billing period/,
      );
      await expect(hre.run("escrow:settle", { partner: "234-15", period: w.P, from: FROM.de })).to.be.rejectedWith(
        /234-15 is not a member/,
      );
      await expect(hre.run("escrow:settle", { partner: "262-01", period: w.P, from: FROM.de })).to.be.rejectedWith(
        /--partner: 262-01 is your own carrier/,
      );
      await expect(hre.run("escrow:settle", { partner: "724-05", period: w.P, from: FROM.outsider })).to.be.rejectedWith(
        /CarrierRegistryNotActiveOperator/,
      );
    });
  });

  describe("escrow:pay-debt and escrow:balance", function () {
    it("turns a shortfall into a debt, shows it, and lets either side collect it after a top-up", async function () {
      const w = await use(deShort);
      const diff = w.deOwes - w.brOwes;
      const printed = await captured(() => hre.run("escrow:settle", { partner: "262-01", period: w.P, from: FROM.br }));
      expect(printed).to.contain(`262-01 paid 724-05 0 RLST of ${units(diff)}`);
      expect(printed).to.contain(`SHORTFALL: 262-01's deposit was short by ${units(diff)}: that is now its debt to 724-05.`);
      expect(printed).to.contain("npx hardhat escrow:pay-debt --debtor 262-01 --creditor 724-05");
      expect(await w.escrow.debt(DE, BR, w.tokenAddress)).to.equal(diff);

      const balance = await captured(() => hre.run("escrow:balance", { from: FROM.de }));
      expect(balance).to.contain("Escrow balance of Telekom Deutschland (262-01):");
      expect(balance).to.contain(`deposit 0 RLST, reserved ${units(diff)}, free 0 RLST`);
      expect(balance).to.contain(`owes Vivo Brasil (724-05) ${units(diff)} after a shortfall`);
      const brBalance = await captured(() => hre.run("escrow:balance", { member: "724-05" }));
      expect(brBalance).to.contain(`is owed ${units(diff)} by Telekom Deutschland (262-01) after a shortfall`);

      await expect(hre.run("escrow:pay-debt", { debtor: "262-01", creditor: "724-05", from: FROM.br })).to.be.rejectedWith(
        /262-01's deposit of RLST is empty/,
      );
      const half = diff / 2n;
      await hre.run("escrow:deposit", { amount: Amount.fromUnits({ ...TOKEN, address: w.tokenAddress }, half).format(), from: FROM.de });
      const paid = await captured(() => hre.run("escrow:pay-debt", { debtor: "262-01", creditor: "724-05", from: FROM.br }));
      expect(paid).to.match(
        new RegExp(`^262-01 paid 724-05 ${units(half)} of its debt \\(tx 0x[0-9a-f]{64}\\); ${units(diff - half)} still owed\\.$`),
      );
      expect(await w.escrow.debt(DE, BR, w.tokenAddress)).to.equal(diff - half);
      expect(await w.escrow.deposits(DE, w.tokenAddress)).to.equal(0n);
      expect(await w.escrow.deposits(BR, w.tokenAddress)).to.equal(5_000n * RLST + half);

      await expect(hre.run("escrow:pay-debt", { debtor: "724-05", creditor: "262-01", from: FROM.br })).to.be.rejectedWith(
        /724-05 owes 262-01 nothing[\s\S]*run `npx hardhat escrow:balance --member 724-05`/,
      );
      await expect(hre.run("escrow:pay-debt", { debtor: "262-01", creditor: "724-05", from: FROM.outsider })).to.be.rejectedWith(
        /CarrierRegistryNotActiveOperator/,
      );
    });

    it("shows a pending withdrawal with when it unlocks; asks whose balance when the account is no member's", async function () {
      const w = await use(bothClosed);
      await hre.run("escrow:withdraw", { request: true, amount: "250", from: FROM.de });
      const unlocksAt = Number((await w.escrow.pendingWithdrawal(DE, w.tokenAddress)).unlocksAt);
      const balance = await captured(() => hre.run("escrow:balance", { member: "262-01" }));
      expect(balance).to.contain(`deposit 5000 RLST, reserved ${units(w.deOwes)}, free ${units(5_000n * RLST - w.deOwes)}`);
      expect(balance).to.contain(`withdrawal pending: up to 250 RLST to ${w.de.address}, executable from ${isoTime(unlocksAt)}`);
      await expect(hre.run("escrow:balance", { from: FROM.outsider })).to.be.rejectedWith(/whose balance\?[\s\S]*--member/);
      await expect(hre.run("escrow:balance", { member: "234-15" })).to.be.rejectedWith(/--member: 234-15 is not a member/);
    });
  });
});
