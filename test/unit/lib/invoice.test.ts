import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { rateInvoice } from "../../../lib/settlement/rating";
import { settlePeriod } from "../../../lib/settlement/escrow";
import { cosignInvoice, proposeInvoice } from "../../../lib/settlement/invoices";
import { readInvoiceData } from "../../../lib/invoice/chain";
import { draftInvoice } from "../../../lib/invoice/draft";
import { buildReport, reportToCsv, reportToJson, reportToText } from "../../../lib/settlement/report";
import { buildInvoiceModel } from "../../../lib/invoice/model";
import { invoiceNumber } from "../../../lib/invoice/number";
import { bytesAsMb } from "../../../lib/invoice/text";
import type { InvoiceModel } from "../../../lib/invoice/types";
import { InvoiceMismatchError } from "../../../lib/invoice/verify";
import { formatAmount } from "../../../lib/core/amount";
import { InputError } from "../../../lib/core/errors";
import { CSV_COLUMNS, invoiceToCsv, invoiceToJson } from "../../../lib/invoice/render";
import { compressRefs, renderInvoicePdf } from "../../../lib/invoice/pdf";
import { csvRows, pdfPagesText, sampleChainData, usageOfBatches } from "../../helpers/invoice";
import { largestGasUsed, partyWorld, RLST, unclosedPartyWorld, type PartyWorld } from "../../helpers/invoiceParty";
import { TX_GAS_CAP } from "../../../lib/settlement/claims";
import { BR, DE } from "../../helpers/rating";
import { PLMN } from "../../helpers/fixtures";

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
    it("prints the rating of the party's totals line by line, equal to lib/settlement/rating.ts", function () {
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
        m.status.proposeTx,
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
        escrow: { ...data.escrow, status: "settled" },
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

    it("fails loudly when the invoice's rating and lib/settlement/rating.ts differ", function () {
      const data = sampleChainData();
      const rating = {
        ...data.rating,
        lines: data.rating.lines.map((l, i) => (i === 0 ? { ...l, sms: l.sms + 1n, total: l.total + 1n } : l)),
        subtotal: data.rating.subtotal + 1n,
      };
      expect(() => buildInvoiceModel({ ...data, rating })).to.throw(
        InvoiceMismatchError,
        /differs from lib\/settlement\/rating.ts[\s\S]*lines\[0\]\.sms: invoice 200001, lib\/settlement\/rating.ts 200000/,
      );
    });

    it("prints our figures next to an escrow invoice that is not ours, and says what differs", function () {
      const data = sampleChainData();
      const differences = [`net: escrow ${data.rating.net + 5n}, ours ${data.rating.net}`];
      const m = buildInvoiceModel({
        ...data,
        escrow: { ...data.escrow, status: "proposed", closedAt: 0, net: data.rating.net + 5n, amount: 0n, closeTx: undefined },
        reconciliation: { ...data.reconciliation, agrees: false, differences },
      });
      expect(m.net.units).to.equal(1_279_743_630n);
      expect(m.status.escrowNet.units).to.equal(1_279_743_635n);
      expect(m.verification).to.deep.include({ agreesWithEscrow: false, differences });
      expect(m.status.summary).to.match(
        /^Proposed .*: 1,279\.743635 RLST signed by the payee, waiting for Telekom Deutschland \(262-01\)'s co-signature\.$/,
      );
      const rows = csvRows(invoiceToCsv(m));
      expect(rows.find((r) => r.chargeType === "escrow-net")!.description).to.equal(`the escrow's net DIFFERS: ${differences[0]}`);
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
      const escrow = { ...data.escrow, net: 0n, amount: 0n };
      const m = buildInvoiceModel({ ...data, rating, escrow, reconciliation: { ...data.reconciliation, net: 0n } });
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
      expect(charges[1].txHashes.split(" ")).to.deep.equal([m.batches[0].submitTx, m.status.proposeTx, m.status.closeTx]);
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
      });
      const text = pdfPagesText(await renderInvoicePdf(m));
      const pages = Number(/Page 1 of (\d+)/.exec(text)![1]);
      expect(pages).to.be.greaterThan(3);
      // The line-item header is drawn again on each page the table runs onto.
      expect(text.match(/^Quantity$/gm)!.length).to.be.greaterThan(1);
      expect(text).to.include("Tariff class 159");
    });
  });

  describe("a period on the contracts, for each party (readInvoiceData, buildReport)", function () {
    this.timeout(300_000);
    let largest = 0n;

    // Every transaction of these tests (fixtures included) stays under the EIP-7825 cap.
    afterEach(async function () {
      const used = await largestGasUsed();
      if (used > largest) largest = used;
    });
    after(function () {
      expect(largest > 0n && largest < TX_GAS_CAP).to.equal(true);
      console.log(`      largest transaction of these tests: ${largest} gas`);
    });

    const asParty = (w: PartyWorld, who: "de" | "br", as: "payer" | "payee") => ({
      self: who === "de" ? DE : BR,
      partner: who === "de" ? BR : DE,
      period: w.period,
      as,
      keystore: w.keys[who],
      store: w.store,
    });

    /** BR's invoice to DE as the test rates it from the batches it committed. */
    async function expectedBrInvoice(w: PartyWorld) {
      return draftInvoice({ key: w.key, usage: await usageOfBatches(w, DE, BR, w.brBatches), terms: w.terms });
    }

    /** BR proposes its invoice to DE, DE co-signs it. */
    async function brBillsDeCosigned(w: PartyWorld) {
      const usage = await usageOfBatches(w, DE, BR, w.brBatches);
      const proposed = await proposeInvoice(w.clients.br, { key: w.key, usage, terms: w.terms });
      const cosigned = await cosignInvoice(w.clients.de, { key: w.key, usage, terms: w.terms });
      return { proposed, cosigned };
    }

    it("makes the payee's draft from its own terms and payloads before anything is proposed", async function () {
      const w = await loadFixture(partyWorld);
      const expected = await expectedBrInvoice(w);
      const data = await readInvoiceData(w.clients.br, asParty(w, "br", "payee"));
      expect(data.rating.net).to.equal(expected.rating.net);
      expect(data.rating.net > 0n).to.equal(true);
      expect(data.periodTotals).to.deep.equal(expected.totals);
      expect(data.escrow).to.include({ status: "none", net: 0n, amount: 0n });
      expect(data.reconciliation).to.deep.equal({
        net: expected.invoice.net,
        totalsCommitment: expected.invoice.totalsCommitment,
        agrees: null,
        differences: [],
      });
      // Both batches counted (in the ledger's counted order, which follows the decisions: compared by id); the
      // disputed one with its two disputed records taken off (RevealLib's rule).
      const byId = (rows: (string | number)[][]) => [...rows].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      expect(byId(data.batches.map((b) => [b.batchId, b.state, b.disputedRecords, b.recordCount]))).to.deep.equal(
        byId(w.brBatches.map((b, i) => [b.id.toLowerCase(), "accepted", i === 0 ? 2 : 0, 40])),
      );
      const disputed = data.batches.find((b) => b.batchId === w.brBatches[0].id.toLowerCase())!;
      expect(disputed.disputed.reduce((n, t) => n + t.records, 0)).to.equal(2);
      expect(disputed.submitTx).to.equal(w.brBatches[0].txHash);
      const m = buildInvoiceModel(data);
      expect(m.status.state).to.equal("none");
      expect(m.status.summary).to.match(/^Draft: not proposed on the escrow yet/);
      expect(m.net.units).to.equal(expected.rating.net);
      expect(m.lines.reduce((s, l) => s + l.amount.units, 0n)).to.equal(m.subtotal.units);
      expect(m.disputes.records).to.equal(2);
      expect(m.notBillable).to.include({ available: true, batchesRead: 2, records: 80 });
    });

    it("after propose and co-sign, both parties' documents are the escrow's invoice, traced to batches and transactions", async function () {
      const w = await loadFixture(partyWorld);
      const { proposed, cosigned } = await brBillsDeCosigned(w);
      const payee = await readInvoiceData(w.clients.br, asParty(w, "br", "payee"));
      const payer = await readInvoiceData(w.clients.de, asParty(w, "de", "payer"));
      for (const data of [payee, payer]) {
        expect(data.escrow).to.include({
          status: "closed",
          resolution: "co-signed",
          net: proposed.draft.invoice.net,
          amount: proposed.draft.invoice.net,
          proposeTx: proposed.txHash,
          closeTx: cosigned.txHash,
        });
        expect(data.reconciliation.agrees).to.equal(true);
        expect(data.rating.net).to.equal(proposed.draft.rating.net);
      }
      const [mPayee, mPayer] = [buildInvoiceModel(payee), buildInvoiceModel(payer)];
      expect(mPayer.perspective).to.equal("payer");
      expect(mPayer.net).to.deep.equal(mPayee.net);
      expect(mPayer.lines).to.deep.equal(mPayee.lines);
      expect(mPayee.status.escrowAmount.units).to.equal(mPayee.net.units);
      const line = mPayee.lines.find((l) => l.priced && l.amount.units > 0n)!;
      expect(line.txHashes).to.include(proposed.txHash);
      expect(line.txHashes).to.include(cosigned.txHash);
      expect(line.batchIds.every((id) => w.brBatches.some((b) => b.id.toLowerCase() === id))).to.equal(true);
      // Renderings: JSON, CSV, PDF.
      expect(JSON.parse(invoiceToJson(mPayee)).net.units).to.equal(String(proposed.draft.invoice.net));
      const summary = Object.fromEntries(
        csvRows(invoiceToCsv(mPayee))
          .filter((r) => r.section === "summary")
          .map((r) => [r.chargeType, r]),
      );
      expect(summary.net.amountBaseUnits).to.equal(String(proposed.draft.invoice.net));
      expect(summary["escrow-amount"]).to.include({ amountBaseUnits: String(proposed.draft.invoice.net), txHashes: cosigned.txHash });
      const text = pdfPagesText(await renderInvoicePdf(mPayee));
      for (const expected of [mPayee.invoiceNumber, mPayee.net.text, cosigned.txHash, proposed.txHash, "Closed (not settled yet)"]) {
        expect(text, expected).to.include(expected);
      }
    });

    it("shows the settlement once both directions are closed and settled with netting", async function () {
      const w = await loadFixture(partyWorld);
      await brBillsDeCosigned(w);
      const back = await usageOfBatches(w, BR, DE, w.deBatches);
      await proposeInvoice(w.clients.de, { key: w.key, usage: back, terms: w.terms });
      await cosignInvoice(w.clients.br, { key: w.key, usage: back, terms: w.terms });
      const settled = await settlePeriod(w.clients.de, { self: DE, partner: BR, period: w.period });
      const data = await readInvoiceData(w.clients.de, asParty(w, "de", "payer"));
      expect(data.escrow.status).to.equal("settled");
      expect(data.settlement).to.deep.include({ tx: settled.txHash, payerOwed: settled.selfOwed, payeeOwed: settled.partnerOwed });
      const m = buildInvoiceModel(data);
      expect(m.status.settleTx).to.equal(settled.txHash);
      expect(m.status.summary).to.match(/^Settled .* with netting against the reverse invoice/);
    });

    it("the payer's document says what differs from a proposal that is not its invoice", async function () {
      const w = await loadFixture(partyWorld);
      const usage = await usageOfBatches(w, DE, BR, w.brBatches);
      const [first, ...rest] = usage.batches;
      const totals = first.totals.map((t, i) => (i === 0 ? { ...t, smsCount: t.smsCount + 1_000n } : t));
      const inflated = { ...usage, batches: [{ ...first, totals }, ...rest] };
      const proposed = await proposeInvoice(w.clients.br, { key: w.key, usage: inflated, terms: w.terms });
      const data = await readInvoiceData(w.clients.de, asParty(w, "de", "payer"));
      const ours = (await expectedBrInvoice(w)).invoice;
      expect(data.reconciliation.agrees).to.equal(false);
      expect(data.reconciliation.differences).to.include(
        `totalsCommitment: escrow ${proposed.draft.invoice.totalsCommitment}, ours ${ours.totalsCommitment}`,
      );
      const m = buildInvoiceModel(data);
      expect(m.net.units).to.equal(ours.net);
      expect(m.verification.agreesWithEscrow).to.equal(false);
      expect(pdfPagesText(await renderInvoicePdf(m))).to.include("NOT THE ESCROW'S INVOICE");
    });

    it("says the ledger has not closed the period yet; the report previews each party's figures meanwhile", async function () {
      const w = await loadFixture(unclosedPartyWorld);
      await expect(readInvoiceData(w.clients.br, asParty(w, "br", "payee"))).to.be.rejectedWith(
        InputError,
        /the ledger has not closed .* there is no invoice to make yet[\s\S]*anyone may close it then/,
      );
      const report = await buildReport(w.clients.br, {
        self: BR,
        period: w.period,
        viewer: { plmn: BR, keystore: w.keys.br, store: w.store },
      });
      const owed = report.partners[0].owedToUs;
      expect(owed).to.deep.include({ state: "none", ledgerClosed: false, countedBatches: 2 });
      // Disputes by reason name and meaning, from the public events: never "reason 2".
      expect(owed.disputeReasons).to.deep.equal([
        { reason: "VOLUME_MISMATCH", text: "VOLUME_MISMATCH (the home carrier's record of this id has another volume)", count: 2 },
      ]);
      expect(reportToText(report)).to.match(/Disputed records by reason:\n {2}262-01 owed to us: 2 disputed, VOLUME_MISMATCH \(/);
      expect(owed.detail).to.deep.include({ final: false, net: (await expectedBrInvoice(w)).rating.net });
      expect(reportToText(report)).to.match(/owed to us\s+period open\s+-\s+[0-9.,]+ \(preview\)/);
    });

    it("refuses a member that is not a party: its key store opens neither the pair's key nor the terms", async function () {
      const w = await loadFixture(partyWorld);
      const err = await readInvoiceData(w.clients.us, { ...asParty(w, "de", "payer"), self: PLMN.US, keystore: w.keys.us }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(InputError);
    });

    it("reports the period: a party sees its own per-class figures, a third member only the public facts", async function () {
      const w = await loadFixture(partyWorld);
      const { proposed } = await brBillsDeCosigned(w);
      const expected = await expectedBrInvoice(w);
      const asDe = await buildReport(w.clients.de, {
        self: DE,
        period: w.period,
        viewer: { plmn: DE, keystore: w.keys.de, store: w.store },
      });
      const [p] = asDe.partners;
      expect(p.weOwe).to.deep.include({ state: "closed", resolution: "co-signed", amount: proposed.draft.invoice.net, countedBatches: 2 });
      expect(p.weOwe.detail).to.deep.include({
        agreementVersion: 1,
        final: true,
        records: 80,
        net: expected.rating.net,
        subtotal: expected.rating.subtotal,
        agreesWithEscrow: true,
      });
      expect(p.weOwe.detail!.classes).to.deep.equal(expected.totals);
      // DE's own direction is not proposed: its figures are its own draft.
      expect(p.owedToUs.state).to.equal("none");
      expect(p.owedToUs.detail!.agreesWithEscrow).to.equal(null);
      expect(reportToText(asDe)).to.include("Our figures per tariff class");
      // Public: DE's deposit of 5,000 RLST with BR's co-signed net reserved on it.
      expect(asDe.deposits.map((d) => [d.deposit, d.reserved, d.free])).to.deep.equal([
        [5_000n * RLST, proposed.draft.invoice.net, 5_000n * RLST - proposed.draft.invoice.net],
      ]);
      expect(p.net).to.equal(-proposed.draft.invoice.net + p.owedToUs.detail!.net);
      expect(csvRows(reportToCsv(asDe)).filter((r) => r.section === "class").length).to.be.greaterThan(0);

      // US reads the same member's report: public facts only, no figure of the pair's usage.
      const asUs = await buildReport(w.clients.us, {
        self: DE,
        period: w.period,
        viewer: { plmn: PLMN.US, keystore: w.keys.us, store: w.store },
      });
      const [q] = asUs.partners;
      expect(q.weOwe).to.deep.include({ state: "closed", amount: proposed.draft.invoice.net, countedBatches: 2, disputedRecords: 2 });
      expect(q.weOwe.detail).to.equal(undefined);
      expect(q.weOwe.detailNote).to.equal("public facts only: the viewer is not a party");
      const json = reportToJson(asUs);
      for (const figure of ["classes", "dataBytes", "smsCount", "voiceSeconds", "subtotal", "credit", 'records"']) {
        expect(json, figure).to.not.include(figure);
      }
      expect(csvRows(reportToCsv(asUs)).filter((r) => r.section === "class")).to.deep.equal([]);
      expect(reportToText(asUs)).to.include("Our figures: none (public facts only: the viewer is not a party)");
      // Without a key store at all: public facts only too.
      const anonymous = await buildReport(w.clients.us, { self: DE, period: w.period });
      expect(anonymous.partners[0].weOwe.detailNote).to.equal("public facts only: no key store given");
    });
  });
});
