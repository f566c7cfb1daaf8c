import hre from "hardhat";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deployConsortium, PLMN, SUBMISSION_GRACE } from "../../helpers/fixtures";
import { FROM, captured, useDeploymentForTasks } from "../../helpers/tasks";
import { commitUsage, periodScenario, removeScenarioDirs, type PeriodScenario } from "../../helpers/invoice";
import { boundsOf, randomRecords } from "../../helpers/usage";
import { isoTime } from "../../../lib/agreements/terms";
import { rateInvoice } from "../../../lib/settlement/rating";
import { formatPeriod } from "../../../lib/core/period";

const { DE, BR } = PLMN;
const RLST = 1_000_000n; // 6 decimals

describe("tasks: escrow", function () {
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>>;
  let s: PeriodScenario;
  let P: string;

  /** The DE-BR period, closable; DE and BR hold 10,000 RLST each, nothing deposited. */
  async function funded() {
    const sc = await periodScenario(deployConsortium);
    for (const who of [sc.de, sc.br]) await sc.token.connect(sc.deployer).mint(who.address, 10_000n * RLST);
    return sc;
  }

  /** The same period, one minute after its end: within the submission grace. */
  async function atPeriodEnd() {
    return periodScenario(deployConsortium, "end");
  }

  beforeEach(async function () {
    s = await loadFixture(funded);
    env = await useDeploymentForTasks(s);
    P = formatPeriod(s.period);
  });

  afterEach(() => env.cleanup());
  after(removeScenarioDirs);

  const token = () => s.token.getAddress();
  const terms = async () => (await s.agreements.getVersion(DE, BR, 1)).terms;

  describe("escrow:deposit and escrow:withdraw", function () {
    it("approves the escrow for the amount, then deposits it, in token units", async function () {
      const printed = await captured(() => hre.run("escrow:deposit", { amount: "1000.50", partner: "724-05", from: FROM.de }));
      expect(printed).to.match(/^Approved the escrow for 1000\.5 RLST \(tx 0x[0-9a-f]{64}\)\./);
      expect(printed).to.match(/262-01 deposited 1000\.5 RLST \(tx 0x[0-9a-f]{64}\); deposit now 1000\.5 RLST\./);
      expect(await s.escrow.deposits(DE, await token())).to.equal(1_000_500_000n);
      // Without --token or --partner: the one settlement token of DE's agreements.
      await hre.run("escrow:deposit", { amount: "0.5", from: FROM.de });
      expect(await s.escrow.deposits(DE, await token())).to.equal(1_001_000_000n);
      expect(await s.token.balanceOf(s.de.address)).to.equal(10_000n * RLST - 1_001_000_000n);
    });

    it("withdraws only the free part of the deposit", async function () {
      await hre.run("escrow:deposit", { amount: "100", from: FROM.de });
      await hre.run("escrow:close", { partner: "724-05", period: P, from: FROM.de }); // reserves DE's invoice
      const reserved = await s.escrow.reserved(DE, await token());
      expect(reserved).to.be.greaterThan(0n);
      const free = 100n * RLST - reserved;
      await expect(hre.run("escrow:withdraw", { amount: "100", from: FROM.de })).to.be.rejectedWith(
        /--amount: only [\d.]+ RLST of 262-01's deposit is free \(deposit 100, reserved [\d.]+ for open invoices and debts\)/,
      );
      const printed = await captured(() => hre.run("escrow:withdraw", { amount: "10", to: s.spare[0].address, from: FROM.de }));
      expect(printed).to.contain(`262-01 withdrew 10 RLST to ${s.spare[0].address}`);
      expect(await s.token.balanceOf(s.spare[0].address)).to.equal(10n * RLST);
      expect(await s.escrow.deposits(DE, await token())).to.equal(90n * RLST);
      expect(free).to.be.greaterThan(10n * RLST);
    });

    it("fails on bad amounts, unknown partners, a short account, and an unauthorized sender", async function () {
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
      await expect(hre.run("escrow:deposit", { amount: "20000", from: FROM.de })).to.be.rejectedWith(
        /holds 10000 RLST, less than the 20000 to deposit/,
      );
      await expect(hre.run("escrow:deposit", { amount: "1", token: await token(), from: FROM.outsider })).to.be.rejectedWith(
        /CarrierRegistryNotActiveOperator/,
      );
      await expect(hre.run("escrow:withdraw", { amount: "1", token: await token(), from: FROM.maker })).to.be.rejectedWith(
        /CarrierRegistryMissingRole/,
      );
      expect(await s.escrow.deposits(DE, await token())).to.equal(0n);
    });
  });

  describe("escrow:close", function () {
    it("closes with the period's batches and says so; a second run sends nothing", async function () {
      const printed = await captured(() => hre.run("escrow:close", { partner: "724-05", period: P, from: FROM.de }));
      const inv = await s.escrow.invoice(DE, BR, s.period);
      expect(inv.amount).to.equal(rateInvoice(s.expected.deInBr, await terms(), BR).net);
      expect(printed).to.match(
        new RegExp(
          `Closed the invoice of 262-01 \\(payer\\) to 724-05 \\(payee\\) for ${P} with 3 batch\\(es\\) \\(tx 0x[0-9a-f]{64}\\): [\\d.]+ RLST due`,
        ),
      );
      const again = await captured(() => hre.run("escrow:close", { partner: "724-05", period: P, from: FROM.de }));
      expect(again).to.contain("was closed already");
      // --as payee: the invoice we bill.
      await hre.run("escrow:close", { partner: "724-05", period: P, as: "payee", from: FROM.de });
      expect((await s.escrow.invoice(BR, DE, s.period)).amount).to.equal(rateInvoice(s.expected.brInDe, await terms(), DE).net);
    });

    it("lets the visited carrier close its invoice before the submission grace is over, and nobody else", async function () {
      const early = await loadFixture(atPeriodEnd);
      env.cleanup();
      env = await useDeploymentForTasks(early);
      const [, end] = boundsOf(early.period);
      const p = formatPeriod(early.period);
      await expect(hre.run("escrow:close", { partner: "724-05", period: p, from: FROM.de })).to.be.rejectedWith(
        `cannot be closed yet: closable at ${isoTime(end + SUBMISSION_GRACE)}`,
      );
      const printed = await captured(() => hre.run("escrow:close", { partner: "262-01", period: p, as: "payee", from: FROM.br }));
      expect(printed).to.contain(`Closed the invoice of 262-01 (payer) to 724-05 (payee) for ${p} with 3 batch(es)`);
      expect((await early.ledger.getPeriod(DE, BR, early.period)).closed).to.equal(true);
      expect((await early.escrow.invoice(DE, BR, early.period)).amount).to.equal(
        rateInvoice(early.expected.deInBr, (await early.agreements.getVersion(DE, BR, 1)).terms, BR).net,
      );
    });

    it("says when a period that is not over can be closed", async function () {
      const next = s.period % 100 === 12 ? s.period + 89 : s.period + 1;
      const [, end] = boundsOf(next);
      await expect(hre.run("escrow:close", { partner: "724-05", period: formatPeriod(next), from: FROM.de })).to.be.rejectedWith(
        `the usage of 262-01's devices in 724-05 for ${formatPeriod(next)} cannot be closed yet: closable at ${isoTime(end + SUBMISSION_GRACE)}`,
      );
    });

    it("says until when a batch's dispute window keeps the period open", async function () {
      const next = s.period % 100 === 12 ? s.period + 89 : s.period + 1;
      const [, end] = boundsOf(next);
      await time.increaseTo(end - 86_400);
      await commitUsage(
        { ...s, period: next },
        { records: randomRecords(5, DE, BR, 99, end - 86_400), visited: BR, home: DE, signer: s.br },
      );
      const windowEnd = (await time.latest()) + 7 * 86_400;
      await time.increaseTo(end + SUBMISSION_GRACE);
      await expect(hre.run("escrow:close", { partner: "724-05", period: formatPeriod(next), from: FROM.de })).to.be.rejectedWith(
        new RegExp(
          `cannot be closed yet: batch 0x[0-9a-f]{64} is in its dispute window until ${isoTime(windowEnd)}; closable at ${isoTime(windowEnd)}`,
        ),
      );
    });

    it("fails on a bad period, an unknown partner or a bad --as", async function () {
      await expect(hre.run("escrow:close", { partner: "724-05", period: "2026-13", from: FROM.de })).to.be.rejectedWith(
        /--period: "2026-13" is not a billing period/,
      );
      await expect(hre.run("escrow:close", { partner: "234-15", period: P, from: FROM.de })).to.be.rejectedWith(/234-15 is not a member/);
      await expect(hre.run("escrow:close", { partner: "724-05", period: P, as: "home", from: FROM.de })).to.be.rejectedWith(
        /--as must be payer or payee/,
      );
      await expect(hre.run("escrow:close", { partner: "724-05", period: P, fromBlock: "12a", from: FROM.de })).to.be.rejectedWith(
        /--from-block: "12a" is not a block number/,
      );
      await expect(hre.run("escrow:close", { partner: "724-05", period: P, from: FROM.outsider })).to.be.rejectedWith(
        /CarrierRegistryNotActiveOperator/,
      );
    });
  });

  describe("escrow:settle, escrow:balance and escrow:pay-debt", function () {
    it("closes the open directions and settles with netting, printing who paid whom", async function () {
      await hre.run("escrow:deposit", { amount: "5000", from: FROM.de });
      await hre.run("escrow:close", { partner: "724-05", period: P, from: FROM.de });
      const printed = await captured(() => hre.run("escrow:settle", { partner: "262-01", period: P, from: FROM.br }));
      const deOwes = rateInvoice(s.expected.deInBr, await terms(), BR).net;
      const brOwes = rateInvoice(s.expected.brInDe, await terms(), DE).net;
      const net = deOwes - brOwes;
      const units = (n: bigint) => `${n / RLST}${n % RLST ? `.${(n % RLST).toString().padStart(6, "0").replace(/0+$/, "")}` : ""}`;
      expect(printed).to.contain(`Closed the invoice of 724-05 to 262-01: ${units(brOwes)} RLST`);
      expect(printed).to.contain(`724-05 owed ${units(brOwes)} RLST, 262-01 owed ${units(deOwes)} RLST`);
      expect(printed).to.contain(`262-01 paid 724-05 ${units(net)} RLST of ${units(net)} RLST (credited to its deposit)`);
      expect(await s.escrow.deposits(BR, await token())).to.equal(net);
      await expect(hre.run("escrow:settle", { partner: "262-01", period: P, from: FROM.br })).to.be.rejectedWith(
        new RegExp(`settled ${P} already[\\s\\S]*run \`npx hardhat invoice --partner 262-01 --period ${P}\``),
      );

      const balance = await captured(() => hre.run("escrow:balance", { member: "724-05" }));
      expect(balance).to.contain("Escrow balance of Vivo Brasil (724-05):");
      expect(balance).to.contain(`deposit ${units(net)} RLST, reserved 0 RLST, free ${units(net)} RLST`);
    });

    it("reports a shortfall as a debt that the creditor collects after the debtor's top-up", async function () {
      const printed = await captured(() => hre.run("escrow:settle", { partner: "262-01", period: P, from: FROM.br }));
      const owed = await s.escrow.debt(DE, BR, await token());
      expect(owed).to.be.greaterThan(0n);
      expect(printed).to.contain("SHORTFALL: 262-01's deposit was short by");
      expect(printed).to.contain("npx hardhat escrow:pay-debt --debtor 262-01 --creditor 724-05");
      const balance = await captured(() => hre.run("escrow:balance", { from: FROM.de }));
      expect(balance).to.match(/owes Vivo Brasil \(724-05\) [\d.]+ RLST after a shortfall/);

      // DE's watcher sees its invoices closed, the period settled and the shortfall, with amounts in RLST.
      const watched = (await captured(() => hre.run("watch", { fromBlock: 0, once: true, json: true, poll: 0.1, from: FROM.de })))
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { kind: string; as: string; text: string; data: Record<string, string> });
      const of = (kind: string) => watched.filter((e) => e.kind === kind);
      expect(
        of("invoice-closed")
          .map((e) => e.as)
          .sort(),
      ).to.deep.equal(["payee", "payer"]);
      expect(of("settled")).to.have.length(1);
      expect(of("shortfall").map((e) => [e.as, BigInt(e.data.owed)])).to.deep.equal([["payer", owed]]);
      expect(of("shortfall")[0].text).to.match(/^SHORTFALL 262-01 owes 724-05 [\d.]+ RLST more for /);
      const brWatched = await captured(() => hre.run("watch", { fromBlock: 0, once: true, json: true, poll: 0.1, from: FROM.br }));
      expect(brWatched).to.contain('"kind":"shortfall","as":"payee"');

      await expect(hre.run("escrow:pay-debt", { debtor: "262-01", creditor: "724-05", from: FROM.br })).to.be.rejectedWith(
        /262-01's deposit of RLST is empty/,
      );
      await hre.run("escrow:deposit", { amount: "1", from: FROM.de });
      const paid = await captured(() => hre.run("escrow:pay-debt", { debtor: "262-01", creditor: "724-05", from: FROM.br }));
      expect(paid).to.match(/262-01 paid 724-05 1 RLST of its debt \(tx 0x[0-9a-f]{64}\); [\d.]+ RLST still owed\./);
      expect(await s.escrow.debt(DE, BR, await token())).to.equal(owed - RLST);
      await expect(hre.run("escrow:pay-debt", { debtor: "724-05", creditor: "262-01", from: FROM.br })).to.be.rejectedWith(
        /724-05 owes 262-01 nothing[\s\S]*run `npx hardhat escrow:balance --member 724-05`/,
      );
      await expect(hre.run("escrow:pay-debt", { debtor: "262-01", creditor: "724-05", from: FROM.outsider })).to.be.rejectedWith(
        /CarrierRegistryNotActiveOperator/,
      );
    });
  });
});
