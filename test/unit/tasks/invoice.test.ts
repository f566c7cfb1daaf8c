import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployConsortium, PLMN } from "../../helpers/fixtures";
import { FROM, captured, useDeploymentForTasks } from "../../helpers/tasks";
import { pdfPagesText, periodScenario, removeScenarioDirs, type PeriodScenario } from "../../helpers/invoice";
import { rateInvoice } from "../../../lib/settlement/rating";
import { invoiceNumber } from "../../../lib/invoice/number";
import { CSV_COLUMNS } from "../../../lib/invoice/render";
import { formatPeriod } from "../../../lib/core/period";
import { BILLING } from "../../../lib/core/enums";

const { DE, BR } = PLMN;
const RLST = 1_000_000n;

describe("tasks: invoice and report", function () {
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>>;
  let s: PeriodScenario;
  let P: string;

  /** The DE-BR period closed in both directions and settled with netting (DE deposited 5,000 RLST). */
  async function settled() {
    const sc = await periodScenario(deployConsortium);
    await sc.token.connect(sc.deployer).mint(sc.de.address, 10_000n * RLST);
    const tasks = await useDeploymentForTasks(sc);
    try {
      await hre.run("escrow:deposit", { amount: "5000", from: FROM.de });
      await hre.run("escrow:settle", { partner: "724-05", period: formatPeriod(sc.period), from: FROM.de });
    } finally {
      tasks.cleanup();
    }
    return sc;
  }

  /** The DE-BR period, closable, nothing closed. */
  async function closable() {
    return periodScenario(deployConsortium);
  }

  beforeEach(async function () {
    s = await loadFixture(settled);
    env = await useDeploymentForTasks(s);
    P = formatPeriod(s.period);
  });

  afterEach(() => env.cleanup());
  after(removeScenarioDirs);

  const number = async (payer: string, payee: string) =>
    invoiceNumber({
      chainId: (await hre.ethers.provider.getNetwork()).chainId,
      escrow: await s.escrow.getAddress(),
      payer: payer as `0x${string}`,
      payee: payee as `0x${string}`,
      period: s.period,
    });

  describe("invoice", function () {
    it("writes the JSON of the invoice we bill, with the chain's amounts and lib/settlement/rating.ts's", async function () {
      const file = path.join(env.dir, "invoice.json");
      const printed = await captured(() =>
        hre.run("invoice", { partner: "262-01", period: P, format: "json", out: file, keystore: s.keysDir, from: FROM.br }),
      );
      const json = JSON.parse(fs.readFileSync(file, "utf8"));
      const inv = await s.escrow.invoice(DE, BR, s.period);
      const expected = rateInvoice(s.expected.deInBr, (await s.agreements.getVersion(DE, BR, 1)).terms, BR);
      expect(json.invoiceNumber).to.equal(await number(DE, BR));
      expect(printed).to.contain(`Invoice ${json.invoiceNumber} (724-05 to 262-01, ${P}): net`);
      expect([json.payer.plmnText, json.payee.plmnText, json.payee.name]).to.deep.equal(["262-01", "724-05", "Vivo Brasil"]);
      expect(BigInt(json.net.units)).to.equal(inv.amount);
      expect(BigInt(json.net.units)).to.equal(expected.net);
      expect(BigInt(json.subtotal.units)).to.equal(expected.subtotal);
      expect(json.status.state).to.equal("settled");
      expect(json.notBillable.available).to.equal(true);
      expect(json.notBillable.byReason.map((r: { reason: string; records: number }) => [r.reason, r.records])).to.deep.equal(
        [...s.notBillable].sort(([a], [b]) => a - b).map(([code, n]) => [BILLING[code], n]),
      );
      expect(json.rejectedBatches.map((b: { batchId: string }) => b.batchId)).to.deep.equal([s.rejected.id]);
    });

    it("prints the CSV, and without the pairwise key says usage not billed is not available", async function () {
      const printed = await captured(() => hre.run("invoice", { partner: "262-01", period: P, format: "csv", from: FROM.br }));
      const lines = printed.split("\n");
      expect(lines[0]).to.equal(CSV_COLUMNS.join(","));
      const net = lines.find((l) => l.startsWith("summary,,net,"))!;
      expect(net.endsWith(`,${(await s.escrow.invoice(DE, BR, s.period)).amount}`)).to.equal(true);
      expect(printed).to.match(/not-billable,,not-available,.*has no encryption key of 724-05/);
    });

    it("writes the PDF of the invoice we pay with --as payer", async function () {
      const file = path.join(env.dir, "paid.pdf");
      await hre.run("invoice", { partner: "724-05", period: P, format: "pdf", out: file, as: "payer", keystore: s.keysDir, from: FROM.de });
      const pdf = fs.readFileSync(file);
      expect(pdf.subarray(0, 5).toString("latin1")).to.equal("%PDF-");
      const text = pdfPagesText(pdf);
      const inv = await s.escrow.invoice(DE, BR, s.period);
      expect(text).to.contain(await number(DE, BR));
      expect(text).to.contain("Copy of the payer (home carrier)");
      const whole = inv.amount / RLST;
      expect(text).to.contain(`${whole.toLocaleString("en-US")}.${(inv.amount % RLST).toString().padStart(6, "0")}`);
    });

    it("says an invoice not closed yet is not there, and how to close it", async function () {
      const c = await loadFixture(closable);
      env.cleanup();
      env = await useDeploymentForTasks(c);
      const p = formatPeriod(c.period);
      await expect(hre.run("invoice", { partner: "262-01", period: p, format: "json", from: FROM.br })).to.be.rejectedWith(
        new RegExp(
          `the invoice of 262-01 \\(payer\\) to 724-05 \\(payee\\) for ${p} is not closed yet: there is nothing to print[\\s\\S]*` +
            // The library says when in words; the CLI adds the command that closes the invoice we bill.
            `It can be closed now\\. run \`npx hardhat escrow:close --partner 262-01 --period ${p} --as payee\`\\.`,
        ),
      );
    });

    it("fails on a bad period, an unknown partner and a bad format", async function () {
      await expect(hre.run("invoice", { partner: "262-01", period: "11-2026", from: FROM.br })).to.be.rejectedWith(
        /--period: "11-2026" is not a billing period/,
      );
      await expect(hre.run("invoice", { partner: "234-15", period: P, from: FROM.br })).to.be.rejectedWith(
        /--partner: 234-15 is not a member of the consortium/,
      );
      await expect(hre.run("invoice", { partner: "310-410", period: P, from: FROM.br })).to.be.rejectedWith(
        /has no accepted roaming agreement with 310-410/,
      );
      await expect(hre.run("invoice", { partner: "262-01", period: P, format: "xlsx", from: FROM.br })).to.be.rejectedWith(
        /--format must be one of json, csv, pdf/,
      );
      await expect(hre.run("invoice", { partner: "262-01", period: P, from: FROM.outsider })).to.be.rejectedWith(
        /the account is no member's operator/i,
      );
    });
  });

  describe("report", function () {
    it("prints what we owe and are owed per partner, settled, with the deposits", async function () {
      const printed = await captured(() => hre.run("report", { period: P, from: FROM.de }));
      const [ab, ba] = [await s.escrow.invoice(DE, BR, s.period), await s.escrow.invoice(BR, DE, s.period)];
      const units = (n: bigint) =>
        `${(n / RLST).toLocaleString("en-US")}${n % RLST ? `.${(n % RLST).toString().padStart(6, "0").replace(/0+$/, "")}` : ""}`;
      expect(printed).to.contain(`Accounting report of Telekom Deutschland (262-01) for ${P}`);
      expect(printed).to.match(
        new RegExp(
          `Vivo Brasil \\(724-05\\)\\s+we owe\\s+settled\\s+${units(ab.amount).replace(".", "\\.")}\\s+RLST\\s+3 \\(1 rejected\\)\\s+200\\s+2\\s+0`,
        ),
      );
      expect(printed).to.match(new RegExp(`owed to us\\s+settled\\s+${units(ba.amount).replace(".", "\\.")}\\s+RLST\\s+1\\s+40`));
      expect(printed).to.match(new RegExp(`net\\s+settled\\s+-${units(ab.amount - ba.amount).replace(".", "\\.")}`));
      expect(printed).to.contain("Deposits in the escrow:");
    });

    it("writes JSON and CSV", async function () {
      const file = path.join(env.dir, "report.json");
      await hre.run("report", { period: P, format: "json", out: file, from: FROM.br });
      const json = JSON.parse(fs.readFileSync(file, "utf8"));
      expect(json.self.text).to.equal("724-05");
      expect(BigInt(json.partners[0].owedToUs.amount)).to.equal((await s.escrow.invoice(DE, BR, s.period)).amount);
      const csv = await captured(() => hre.run("report", { period: P, format: "csv", from: FROM.br }));
      expect(csv.split("\n")[0]).to.equal(
        "section,partner,partnerName,direction,state,amount,amountBaseUnits,preview,token,batches,rejectedBatches,records,disputedRecords,batchesInWindow,closableAt,invoiceNumber",
      );
      expect(csv).to.match(/^invoice,262-01,Telekom Deutschland,owed-to-us,settled,/m);
      await expect(hre.run("report", { period: "2026-1", from: FROM.br })).to.be.rejectedWith(/is not a billing period/);
      await expect(hre.run("report", { period: P, format: "pdf", from: FROM.br })).to.be.rejectedWith(
        /--format must be one of text, json, csv/,
      );
    });
  });
});
