import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { rateInvoice } from "../../../lib/settlement/rating";
import { connectRoamLedger, type RoamLedgerClient } from "../../../lib/chain/client";
import { closeInvoice, depositToEscrow, escrowBalances, payDebt, periodBatches, settlePeriod } from "../../../lib/settlement/escrow";
import { readInvoiceData } from "../../../lib/invoice/chain";
import { buildReport, reportToCsv, reportToJson, reportToText } from "../../../lib/settlement/report";
import { tokenInfo } from "../../../lib/agreements/chain";
import { Keystore } from "../../../lib/keys/keystore";
import { pairKeyWith } from "../../../lib/usage/pair";
import { FolderStore } from "../../../lib/usage/store";
import { totalsFromContract } from "../../../lib/usage/batch";
import { addressesOf, deployConsortium } from "../../helpers/fixtures";
import { usageOf } from "../../helpers/usage";
import { addTotals } from "../../../lib/settlement/totals";
import { buildInvoiceModel } from "../../../lib/invoice/model";
import { invoiceNumber } from "../../../lib/invoice/number";
import { bytesAsMb } from "../../../lib/invoice/text";
import type { InvoiceModel } from "../../../lib/invoice/types";
import { InvoiceMismatchError } from "../../../lib/invoice/verify";
import { Amount, formatAmount } from "../../../lib/core/amount";
import { CSV_COLUMNS, invoiceToCsv, invoiceToJson } from "../../../lib/invoice/render";
import { compressRefs, renderInvoicePdf } from "../../../lib/invoice/pdf";
import { pdfPagesText, periodScenario, removeScenarioDirs, sampleChainData } from "../../helpers/invoice";
import { BR, DE } from "../../helpers/rating";
import { BILLING } from "../../../lib/core/enums";

/** Splits one CSV line into fields (RFC 4180 quotes). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        value += line.slice(i, q);
        i = q + 1;
        if (line[i] === '"') {
          value += '"';
          i++;
        } else break;
      }
      out.push(value);
      i++; // the comma
    } else {
      const comma = line.indexOf(",", i);
      const end = comma === -1 ? line.length : comma;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

function csvRows(csv: string): Record<string, string>[] {
  const [header, ...rows] = csv.trimEnd().split("\n");
  const names = csvFields(header);
  return rows.map((r) => Object.fromEntries(csvFields(r).map((v, i) => [names[i], v])));
}

/** Runs `fn` and counts the eth_getLogs requests it sends to the node. */
async function getLogsCalls(fn: () => Promise<unknown>): Promise<number> {
  const provider = hre.network.provider;
  const send = provider.send;
  let calls = 0;
  provider.send = function (method: string, params?: unknown[]) {
    if (method === "eth_getLogs") calls++;
    return send.call(this, method, params);
  };
  try {
    await fn();
  } finally {
    provider.send = send;
  }
  return calls;
}

describe("lib/invoice", function () {
  describe("invoiceNumber", function () {
    it("is deterministic from chain, escrow, payer, payee and period, and differs when any of them does", function () {
      const escrow = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
      const n = invoiceNumber({ chainId: 31337n, escrow: escrow, payer: DE, payee: BR, period: 202611 });
      expect(n).to.match(/^RL-31337-26201-72405-202611-[0-9A-F]{6}$/);
      expect(invoiceNumber({ chainId: 31337n, escrow: escrow, payer: DE, payee: BR, period: 202611 })).to.equal(n);
      const others = [
        invoiceNumber({ chainId: 1n, escrow: escrow, payer: DE, payee: BR, period: 202611 }),
        invoiceNumber({ chainId: 31337n, escrow: "0x0000000000000000000000000000000000000001", payer: DE, payee: BR, period: 202611 }),
        invoiceNumber({ chainId: 31337n, escrow: escrow, payer: BR, payee: DE, period: 202611 }),
        invoiceNumber({ chainId: 31337n, escrow: escrow, payer: DE, payee: BR, period: 202612 }),
      ];
      expect(new Set([n, ...others]).size).to.equal(5);
    });
  });

  describe("amount formatting", function () {
    it("prints exact token units with thousands separators and a fixed number of digits", function () {
      const token = { address: "0x", symbol: "RLST", decimals: 6 };
      expect(formatAmount(1_279_743_630n, token.decimals, { group: true, digits: 6 })).to.equal("1,279.743630");
      expect(formatAmount(7_000_000n, token.decimals, { group: true, digits: 2 })).to.equal("7.00");
      expect(formatAmount(0n, token.decimals, { group: true, digits: 2 })).to.equal("0.00");
      expect(() => formatAmount(1n, token.decimals, { group: true, digits: 2 })).to.throw(RangeError); // never rounds
      expect(formatAmount(1234n, 0, { group: true, digits: 2 })).to.equal("1,234");
      expect(bytesAsMb(1_500_000n)).to.equal("1.5");
      expect(bytesAsMb(2_000_000_000n)).to.equal("2,000");
      expect(compressRefs(["B1", "B2", "B3", "B5", "B7", "B8"])).to.equal("B1-B3, B5, B7-B8");
    });
  });

  describe("buildInvoiceModel", function () {
    it("takes the chain's amounts, line by line, and they agree with lib/settlement/rating.ts", function () {
      const data = sampleChainData();
      const m = buildInvoiceModel(data);
      // Worked out in test/helpers/invoice.ts.
      expect(m.subtotal.units).to.equal(1_292_670_333n);
      expect(m.credit.units).to.equal(12_926_703n);
      expect(m.net.units).to.equal(1_279_743_630n);
      expect(m.net.text).to.equal("1,279.743630");
      expect(m.amountDigits).to.equal(6);
      expect(m.lines.reduce((s, l) => s + l.amount.units, 0n)).to.equal(m.subtotal.units);
      const data1 = m.lines.filter((l) => l.tariffClass === 1 && l.chargeType === "data");
      expect(data1.map((l) => [l.band!.fromMb, l.band!.toMb, l.quantity, l.discountBps, l.amount.units])).to.deep.equal([
        [0n, 100n, 100_000_000n, 0, 100_000_000n],
        [100n, 1000n, 900_000_000n, 1000, 810_000_000n],
        [1000n, null, 500_000_000n, 2500, 375_000_000n],
      ]);
      const voice = m.lines.find((l) => l.tariffClass === 1 && l.chargeType === "voice")!;
      expect([voice.quantity, voice.rate.units, voice.amount.units]).to.deep.equal([61n, 20_000n, 20_333n]);
      // Class 2's monthly fee is 0 in the plan: no line; class 7 has no plan: reported, unpriced, zero.
      expect(m.lines.some((l) => l.tariffClass === 2 && l.chargeType === "monthly")).to.equal(false);
      const unpriced = m.lines.filter((l) => l.tariffClass === 7);
      expect(unpriced.map((l) => [l.priced, l.chargeType, l.quantity, l.amount.units])).to.deep.equal([[false, "data", 9_000_000n, 0n]]);
      expect(m.classes.map((c) => [c.tariffClass, c.priced, c.total.units])).to.deep.equal([
        [1, true, 1_285_670_333n],
        [2, true, 7_000_000n],
        [7, false, 0n],
      ]);
      expect(m.sla).to.include({ avgLatencyMs: 501n, latencyMissed: true, throughputMissed: false, creditBps: 100 });
    });

    it("names the batches and transactions behind each line, never a rejected batch", function () {
      const m = buildInvoiceModel(sampleChainData());
      const line = m.lines.find((l) => l.tariffClass === 2)!;
      expect(line.batchRefs).to.deep.equal(["B2"]);
      // Submission, the dispute in that batch, the close.
      expect(line.txHashes).to.deep.equal([
        sampleChainData().batches[1].submitTx,
        sampleChainData().batches[1].disputeTxs[0],
        m.status.closeTx,
      ]);
      for (const l of m.lines) expect(l.batchRefs).to.not.include("B3");
      expect(m.rejectedBatches.map((b) => [b.ref, b.reason, b.recordCount])).to.deep.equal([["B3", "TOTALS_MISMATCH", 40]]);
    });

    it("values the disputed usage at the agreement's rates", function () {
      const m = buildInvoiceModel(sampleChainData());
      // 1 MB of class 2 at 2 RLST/MB.
      expect(m.disputes.perClass).to.deep.equal([
        { tariffClass: 2, records: 2, dataBytes: 1_000_000n, signallingEvents: 0n, smsCount: 0n, voiceSeconds: 0n },
      ]);
      expect(m.disputes.value.units).to.equal(2_000_000n);
      expect(m.disputes.records).to.equal(2);
    });

    it("describes a settlement with netting and a shortfall", function () {
      const data = sampleChainData();
      const m = buildInvoiceModel({
        ...data,
        invoice: { ...data.invoice, status: "settled" },
        settlement: {
          tx: `0x${"c".repeat(64)}`,
          at: Date.UTC(2026, 11, 10) / 1000,
          payerOwed: data.rating.net,
          payeeOwed: 79_743_630n,
          payments: [
            {
              debtor: DE,
              creditor: BR,
              token: data.token.address,
              owed: 1_200_000_000n,
              paid: 1_000_000_000n,
              payout: "0x0000000000000000000000000000000000000000",
            },
          ],
          shortfalls: [{ debtor: DE, creditor: BR, token: data.token.address, paid: 1_000_000_000n, owed: 200_000_000n }],
        },
      });
      expect(m.status.state).to.equal("settled");
      expect(m.status.summary).to.equal(
        "Settled 2026-12-10T00:00:00Z with netting against the reverse invoice (79.743630 RLST): Telekom Deutschland (262-01) paid " +
          "1,000.000000 of 1,200.000000 RLST to Vivo Brasil (724-05); short by 200.000000 RLST (Telekom Deutschland (262-01)'s debt).",
      );
      expect(m.lines[0].txHashes).to.include(`0x${"c".repeat(64)}`);
    });

    it("fails loudly when the chain's rating and lib/settlement/rating.ts differ", function () {
      const data = sampleChainData();
      const rating = {
        ...data.rating,
        lines: data.rating.lines.map((l, i) => (i === 0 ? { ...l, sms: l.sms + 1n, total: l.total + 1n } : l)),
        subtotal: data.rating.subtotal + 1n,
      };
      expect(() => buildInvoiceModel({ ...data, rating, invoice: { ...data.invoice, subtotal: rating.subtotal } })).to.throw(
        InvoiceMismatchError,
        /differs from lib\/settlement\/rating.ts[\s\S]*lines\[0\]\.sms: chain 200001, lib\/settlement\/rating.ts 200000/,
      );
    });

    it("fails loudly when the stored invoice does not match its InvoiceClosed event", function () {
      const data = sampleChainData();
      expect(() => buildInvoiceModel({ ...data, invoice: { ...data.invoice, amount: data.invoice.amount - 1n } })).to.throw(
        InvoiceMismatchError,
        /does not match its InvoiceClosed event[\s\S]*amount: invoice\(\) 1279743629, InvoiceClosed net 1279743630/,
      );
    });

    it("formats a token of more than 18 decimals exactly (one base unit of a 24-decimal token)", function () {
      const data = sampleChainData();
      const token = { ...data.token, decimals: 24 };
      const m = buildInvoiceModel({ ...data, token });
      expect(m.net.units).to.equal(1_279_743_630n);
      expect(m.net.text).to.equal("0.000000000000001279743630");
      expect(formatAmount(1n, token.decimals, { group: true, digits: 24 })).to.equal("0.000000000000000000000001");
    });

    it("makes a zero invoice of a period without usage", function () {
      const data = sampleChainData({ periodTotals: [], batches: [] });
      const rating = rateInvoice([], data.terms, BR);
      const m = buildInvoiceModel({ ...data, rating, invoice: { ...data.invoice, amount: 0n, subtotal: 0n, credit: 0n } });
      expect([m.lines.length, m.net.units, m.net.text]).to.deep.equal([0, 0n, "0.00"]);
    });
  });

  describe("JSON", function () {
    it("carries the whole model, every amount in base units as a decimal string and as text", function () {
      const m = buildInvoiceModel(sampleChainData());
      const json = JSON.parse(invoiceToJson(m));
      expect(json.invoiceNumber).to.equal(m.invoiceNumber);
      expect(json.net).to.deep.equal({ units: "1279743630", text: "1,279.743630" });
      expect(BigInt(json.subtotal.units)).to.equal(m.subtotal.units);
      expect(json.lines.map((l: { amount: { units: string } }) => BigInt(l.amount.units))).to.deep.equal(
        m.lines.map((l) => l.amount.units),
      );
      expect(json.lines[0].quantity).to.equal("100000000");
      expect(json.chainId).to.equal("31337");
      expect(json.batches.map((b: { batchId: string }) => b.batchId)).to.deep.equal(m.batches.map((b) => b.batchId));
    });
  });

  describe("CSV", function () {
    it("has one row per line item with the columns, then class totals and summary rows", function () {
      const m = buildInvoiceModel(sampleChainData());
      const csv = invoiceToCsv(m);
      expect(csv.split("\n")[0]).to.equal(CSV_COLUMNS.join(","));
      expect(CSV_COLUMNS.slice(0, 10)).to.deep.equal([
        "section",
        "tariffClass",
        "chargeType",
        "quantity",
        "unit",
        "rate",
        "discountBps",
        "amount",
        "batchIds",
        "txHashes",
      ]);
      const rows = csvRows(csv);
      for (const r of rows) expect(Object.keys(r)).to.have.length(CSV_COLUMNS.length);
      const charges = rows.filter((r) => r.section === "charge");
      expect(charges).to.have.length(m.lines.length);
      expect(charges[1]).to.include({
        tariffClass: "1",
        chargeType: "data",
        quantity: "900",
        unit: "MB",
        rate: "1",
        discountBps: "1000",
        amount: "810",
        description: "Data, 100 - 1,000 MB",
        amountBaseUnits: "810000000",
      });
      expect(charges[1].batchIds).to.equal(m.batches[0].batchId);
      expect(charges[1].txHashes.split(" ")).to.deep.equal([m.batches[0].submitTx, m.status.closeTx]);
      const voice = charges.find((r) => r.chargeType === "voice")!;
      expect(voice).to.include({ quantity: "61", unit: "second", rate: "0.02", rateUnit: "minute", amount: "0.020333" });
      const sum = charges.reduce((s, r) => s + BigInt(r.amountBaseUnits), 0n);
      const summary = Object.fromEntries(rows.filter((r) => r.section === "summary").map((r) => [r.chargeType, r]));
      expect(BigInt(summary.subtotal.amountBaseUnits)).to.equal(sum);
      expect(summary["sla-credit"]).to.include({ amount: "12.926703", discountBps: "100" });
      expect(summary.net).to.include({ amount: "1279.74363", amountBaseUnits: "1279743630" });
      expect(rows.filter((r) => r.section === "not-billable").map((r) => [r.chargeType, r.quantity])).to.deep.equal([
        ["service-not-allowed", "3"],
        ["daily-cap-exceeded", "2"],
      ]);
      expect(rows.find((r) => r.section === "rejected-batch")).to.include({ chargeType: "TOTALS_MISMATCH", quantity: "40" });
    });

    it("says when not-billable usage is not available", function () {
      const m = buildInvoiceModel(sampleChainData({ notBillable: { available: false, why: "no key store with the pairwise key" } }));
      const row = csvRows(invoiceToCsv(m)).find((r) => r.section === "not-billable")!;
      expect(row).to.include({ chargeType: "not-available", description: "no key store with the pairwise key" });
    });
  });

  describe("PDF", function () {
    let model: InvoiceModel;
    let pdf: Buffer;
    before(async function () {
      model = buildInvoiceModel(sampleChainData());
      pdf = await renderInvoicePdf(model);
    });

    it("is a PDF whose pages show the invoice number, parties, lines, totals and evidence", function () {
      expect(pdf.subarray(0, 5).toString("latin1")).to.equal("%PDF-");
      expect(pdf.toString("latin1")).to.include(`(Invoice ${model.invoiceNumber})`); // the document title
      const text = pdfPagesText(pdf);
      for (const expected of [
        model.invoiceNumber,
        "Vivo Brasil",
        "Telekom Deutschland",
        "PLMN 724-05",
        "PLMN 262-01",
        "Data, 100 - 1,000 MB",
        "810.000000",
        "1,292.670333",
        "-12.926703",
        "1,279.743630",
        "NET DUE (RLST)",
        "TOTALS_MISMATCH",
        "service-not-allowed",
        model.batches[1].batchId,
        model.status.closeTx,
        "Page 3 of 3",
      ]) {
        expect(text, expected).to.include(expected);
      }
    });

    it("is the same bytes for the same model", async function () {
      expect((await renderInvoicePdf(model)).equals(pdf)).to.equal(true);
    });

    it("wraps long tables onto new pages with their header", async function () {
      const data = sampleChainData();
      const many = Array.from({ length: 60 }, (_, i) => ({ ...data.periodTotals[2], tariffClass: 100 + i }));
      const periodTotals = [...data.periodTotals, ...many];
      const rating = rateInvoice(periodTotals, data.terms, BR);
      const m = buildInvoiceModel({
        ...data,
        periodTotals,
        rating,
        invoice: { ...data.invoice, amount: rating.net, subtotal: rating.subtotal, credit: rating.credit },
      });
      const text = pdfPagesText(await renderInvoicePdf(m));
      const pages = Number(/Page 1 of (\d+)/.exec(text)![1]);
      expect(pages).to.be.greaterThan(3);
      // The line-item header is drawn again on each page the table runs onto.
      expect(text.match(/^Quantity$/gm)!.length).to.be.greaterThan(1);
      expect(text).to.include("Tariff class 159");
    });
  });

  describe("a full period on the contracts", function () {
    // BR bills DE (three batches: accepted, two records disputed, rejected) and DE bills BR (one batch);
    // both invoices are closed through the library, settled with netting, and rendered.
    async function scenario() {
      return periodScenario(deployConsortium);
    }

    const clientOf = (signer: HardhatEthersSigner, addresses: Awaited<ReturnType<typeof addressesOf>>): RoamLedgerClient =>
      connectRoamLedger(addresses, signer);

    async function settled() {
      const s = await loadFixture(scenario);
      const addresses = await addressesOf(s);
      const de = clientOf(s.de, addresses);
      const br = clientOf(s.br, addresses);
      const rlst = await tokenInfo(await s.token.getAddress(), s.de);
      await s.token.connect(s.deployer).mint(s.de.address, 10_000_000_000n);
      await s.token.connect(s.deployer).mint(s.br.address, 10_000_000_000n);
      const deposit = await depositToEscrow(de, { member: DE, amount: Amount.fromUnits(rlst, 5_000_000_000n) });
      await depositToEscrow(br, { member: BR, amount: Amount.fromUnits(rlst, 1_000_000n) });
      const closed = await closeInvoice(de, { payer: DE, payee: BR, period: s.period });
      const settlement = await settlePeriod(br, { self: BR, partner: DE, period: s.period });
      return { ...s, addresses, de, br, rlst, deposit, closed, settlement };
    }

    after(removeScenarioDirs);

    it("closes with the period's batches, and the chain's invoice is lib/settlement/rating.ts's on the expected totals", async function () {
      const s = await settled();
      const terms = (await s.agreements.getVersion(DE, BR, 1)).terms;
      const expected = rateInvoice(s.expected.deInBr, terms, BR);
      expect(totalsFromContract(await s.ledger.periodTotals(DE, BR, s.period))).to.deep.equal(s.expected.deInBr);
      expect(s.closed.closedNow).to.equal(true);
      expect(s.closed.batches).to.equal(3);
      expect(s.closed.rating).to.deep.equal(expected);
      const inv = await s.escrow.invoice(DE, BR, s.period);
      expect([inv.amount, inv.subtotal, inv.credit]).to.deep.equal([expected.net, expected.subtotal, expected.credit]);
      expect(expected.net).to.be.greaterThan(0n);
      const batches = await periodBatches(s.de, { home: DE, visited: BR, period: s.period });
      expect(batches.map((b) => b.batchId)).to.deep.equal(
        [s.accepted.id, s.disputed.id, s.rejected.id].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
      );
    });

    it("settles with netting: only the difference moves", async function () {
      const s = await settled();
      const terms = (await s.agreements.getVersion(DE, BR, 1)).terms;
      const deOwes = rateInvoice(s.expected.deInBr, terms, BR).net;
      const brOwes = rateInvoice(s.expected.brInDe, terms, DE).net;
      expect(s.settlement.closed.map((c) => [c.payer, c.payee, c.amount])).to.deep.equal([[BR, DE, brOwes]]);
      expect([s.settlement.selfOwed, s.settlement.partnerOwed]).to.deep.equal([brOwes, deOwes]);
      expect(s.settlement.payments.map((p) => [p.debtor, p.creditor, p.owed, p.paid])).to.deep.equal([
        [DE, BR, deOwes - brOwes, deOwes - brOwes],
      ]);
      expect(s.settlement.shortfalls).to.deep.equal([]);
      expect(await s.escrow.deposits(DE, s.token)).to.equal(5_000_000_000n - (deOwes - brOwes));
      expect(await s.escrow.deposits(BR, s.token)).to.equal(1_000_000n + (deOwes - brOwes));
      const [balance] = await escrowBalances(s.de, DE);
      expect([balance.deposit, balance.reserved, balance.free]).to.deep.equal([
        5_000_000_000n - (deOwes - brOwes),
        0n,
        5_000_000_000n - (deOwes - brOwes),
      ]);
    });

    it("renders the invoice with the chain's amounts, disputes, the rejected batch and the usage not billed", async function () {
      const s = await settled();
      const ks = new Keystore(s.keysDir);
      const data = await readInvoiceData(s.br, {
        payer: DE,
        payee: BR,
        period: s.period,
        payloads: {
          key: await pairKeyWith(s.br, { keystore: ks, self: BR, partner: DE }),
          store: new FolderStore(path.join(s.keysDir, "store")),
        },
      });
      const m = buildInvoiceModel(data);
      const inv = await s.escrow.invoice(DE, BR, s.period);
      expect(m.net.units).to.equal(inv.amount);
      expect(m.subtotal.units).to.equal(inv.subtotal);
      expect(m.lines.reduce((sum, l) => sum + l.amount.units, 0n)).to.equal(inv.subtotal);
      expect(m.status.state).to.equal("settled");
      expect(m.status.closeTx).to.equal(s.closed.txHash);
      expect(m.status.settleTx).to.equal(s.settlement.txHash);
      expect(m.status.payments.map((p) => p.paid.units)).to.deep.equal([s.settlement.payments[0].paid]);
      // Disputes: the two records' usage, in their class.
      expect(m.disputes.records).to.equal(2);
      expect(m.disputes.batches.map((b) => b.batchId)).to.deep.equal([s.disputed.id]);
      const disputedRecords = s.disputedIndices.map((i) => s.disputed.records[i]);
      expect(m.disputes.perClass.reduce((n, c) => n + c.records, 0)).to.equal(2);
      expect(m.disputes.perClass.map((c) => c.tariffClass)).to.deep.equal([...new Set(disputedRecords.map((r) => r.tariffClass))].sort());
      // Valued at the agreement's rates: the subtotal with the disputed usage added back, less the subtotal.
      const terms = (await s.agreements.getVersion(DE, BR, 1)).terms;
      const withDisputed = s.expected.deInBr.map((t) => {
        const back = disputedRecords.filter((r) => r.tariffClass === t.tariffClass).map(usageOf);
        return back.reduce(addTotals, t);
      });
      expect(m.disputes.value.units).to.equal(rateInvoice(withDisputed, terms, BR).subtotal - inv.subtotal);
      // Class 1 crosses its 1,000 MB tier: two bands that add up to the chain's data charge.
      const bands = m.lines.filter((l) => l.tariffClass === 1 && l.chargeType === "data");
      expect(bands.map((l) => [l.band!.fromMb, l.band!.toMb, l.discountBps])).to.deep.equal([
        [0n, 1000n, 0],
        [1000n, null, 2000],
      ]);
      expect(bands.reduce((sum, l) => sum + l.amount.units, 0n)).to.equal(s.closed.rating!.lines[0].data);
      expect(m.rejectedBatches.map((b) => [b.batchId, b.reason, b.recordCount])).to.deep.equal([[s.rejected.id, "TOTALS_MISMATCH", 30]]);
      // Not billable, from the decrypted payloads of the two batches that count.
      expect(m.notBillable.available).to.equal(true);
      if (m.notBillable.available) {
        expect(m.notBillable.batchesRead).to.equal(2);
        expect(m.notBillable.byReason.map((r) => [r.reason, r.records])).to.deep.equal(
          [...s.notBillable].sort(([a], [b]) => a - b).map(([code, n]) => [BILLING[code], n]),
        );
      }
      // Every line is proven by batches that count and by the close and settle transactions.
      for (const line of m.lines) {
        expect(line.batchIds).to.not.include(s.rejected.id);
        expect(line.txHashes).to.include(s.closed.txHash);
        expect(line.txHashes).to.include(s.settlement.txHash);
      }
      // The three formats.
      const json = JSON.parse(invoiceToJson(m));
      expect(BigInt(json.net.units)).to.equal(inv.amount);
      const rows = csvRows(invoiceToCsv(m));
      expect(BigInt(rows.find((r) => r.chargeType === "net")!.amountBaseUnits)).to.equal(inv.amount);
      const pdf = await renderInvoicePdf(m);
      const text = pdfPagesText(pdf);
      expect(text).to.include(m.invoiceNumber);
      expect(text).to.include(m.net.text);
      expect(text).to.include(s.disputed.id);
      if (process.env.ROAMLEDGER_INVOICE_PDF) fs.writeFileSync(process.env.ROAMLEDGER_INVOICE_PDF, pdf);
    });

    it("reads the events of all the period's batches in one request", async function () {
      const s = await settled();
      const calls = await getLogsCalls(() => readInvoiceData(s.br, { payer: DE, payee: BR, period: s.period }));
      // InvoiceClosed, UsageBatchSubmitted, the three batches' disputes, accepts and rejects, PeriodSettled both ways.
      expect(calls).to.equal(5);
    });

    it("says 'not available' for usage not billed without the pairwise key", async function () {
      const s = await settled();
      const m = buildInvoiceModel(await readInvoiceData(s.de, { payer: BR, payee: DE, period: s.period, perspective: "payer" }));
      expect(m.notBillable).to.deep.equal({
        available: false,
        why: "no key store given: decrypting the payloads needs the carriers' pairwise key",
      });
      expect(m.net.units).to.equal((await s.escrow.invoice(BR, DE, s.period)).amount);
    });

    it("reports the period: amounts, settled, deposits", async function () {
      const s = await settled();
      const report = await buildReport(s.de, { self: DE, period: s.period });
      const [p] = report.partners;
      const [ab, ba] = [await s.escrow.invoice(DE, BR, s.period), await s.escrow.invoice(BR, DE, s.period)];
      expect(p.partner.plmn).to.equal(BR);
      expect([p.weOwe.state, p.weOwe.amount, p.owedToUs.state, p.owedToUs.amount]).to.deep.equal([
        "settled",
        ab.amount,
        "settled",
        ba.amount,
      ]);
      expect(p.net).to.equal(ba.amount - ab.amount);
      expect(p.settled).to.equal(true);
      expect([p.weOwe.batches, p.weOwe.rejectedBatches, p.weOwe.records, p.weOwe.disputedRecords]).to.deep.equal([3, 1, 200, 2]);
      expect(report.deposits[0].deposit).to.equal(await s.escrow.deposits(DE, s.token));
      expect(reportToText(report)).to.include("Vivo Brasil (724-05)");
      expect(JSON.parse(reportToJson(report)).partners[0].weOwe.amount).to.equal(ab.amount.toString());
      expect(reportToCsv(report).split("\n")[0]).to.match(/^section,partner,partnerName,direction,state,amount/);
    });

    it("previews an open period from the submitted batches with lib/settlement/rating.ts, before anything is closed", async function () {
      const s = await loadFixture(scenario);
      const de = connectRoamLedger(await addressesOf(s), s.de);
      let report: Awaited<ReturnType<typeof buildReport>> | undefined;
      // Each direction's batches are read once, for the preview and for when it can be closed.
      expect(await getLogsCalls(async () => (report = await buildReport(de, { self: DE, period: s.period })))).to.equal(2);
      if (!report) throw new Error("no report");
      const [p] = report.partners;
      const terms = (await s.agreements.getVersion(DE, BR, 1)).terms;
      expect(p.weOwe.state).to.equal("not-closed");
      expect(p.weOwe.preview).to.equal(rateInvoice(s.expected.deInBr, terms, BR).net);
      expect(p.owedToUs.preview).to.equal(rateInvoice(s.expected.brInDe, terms, DE).net);
      expect(p.weOwe.closableAt).to.be.at.most(await hre.ethers.provider.getBlock("latest").then((b) => b!.timestamp));
      expect(reportToText(report)).to.include("open: not closed yet");
    });

    it("leaves a debt on a shortfall, which the creditor collects after the debtor's top-up", async function () {
      const s = await loadFixture(scenario);
      const addresses = await addressesOf(s);
      const de = connectRoamLedger(addresses, s.de);
      const br = connectRoamLedger(addresses, s.br);
      const token = await tokenInfo(await s.token.getAddress(), s.de);
      await s.token.connect(s.deployer).mint(s.de.address, 10_000_000_000n);
      const r = await settlePeriod(br, { self: BR, partner: DE, period: s.period }); // DE has deposited nothing
      const owed = r.payments[0].owed;
      expect(r.shortfalls.map((x) => [x.debtor, x.creditor, x.owed])).to.deep.equal([[DE, BR, owed]]);
      expect(await s.escrow.debt(DE, BR, token.address)).to.equal(owed);
      await depositToEscrow(de, { member: DE, amount: Amount.fromUnits(token, owed + 5n) });
      const paid = await payDebt(br, { debtor: DE, creditor: BR, token });
      expect([paid.paid, paid.remaining]).to.deep.equal([owed, 0n]);
      expect(await s.escrow.deposits(DE, token.address)).to.equal(5n);
    });
  });
});
