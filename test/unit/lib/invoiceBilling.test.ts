import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { BILLING_FILE, loadBilling, parseBilling, type BillingConfig } from "../../../lib/invoice/billing";
import { dueDate, parseReferenceRate, paymentReference, referenceAmount, taxAt } from "../../../lib/invoice/billingModel";
import { buildInvoiceModel } from "../../../lib/invoice/model";
import { renderInvoicePdf } from "../../../lib/invoice/pdf";
import { invoiceToCsv, invoiceToJson } from "../../../lib/invoice/render";
import { invoiceToText } from "../../../lib/invoice/textInvoice";
import { ConfigError, InputError } from "../../../lib/core/errors";
import { disputeReasonName, disputeReasonText, rejectReasonName } from "../../../lib/usage/reasons";
import { BR_BILLING, csvRows, pdfPagesText, sampleChainData } from "../../helpers/invoice";
import { DE } from "../../helpers/rating";

const config = (raw: unknown): BillingConfig => parseBilling(JSON.stringify(raw), "/cfg/billing.json");

function problem(raw: string): InputError {
  try {
    parseBilling(raw, "/cfg/billing.json");
  } catch (err) {
    expect(err).to.be.instanceOf(InputError);
    return err as InputError;
  }
  throw new Error("no error");
}

describe("lib/invoice billing details", function () {
  describe("parseBilling / loadBilling", function () {
    it("reads self and the partners keyed by PLMN", function () {
      const c = config(BR_BILLING);
      expect(c.self.legalName).to.equal("Vivo Brasil Telecomunicações S.A.");
      expect(c.self.tax).to.deep.equal({ kind: "reverse-charge" });
      expect(c.partners.get(DE)).to.include({ taxId: "DE122265872", country: "DE" });
      expect(c.partners.get(DE)!.tadig).to.deep.equal(["DEUD1"]);
      expect(config({ self: { tax: "7.7 %" } }).self.tax).to.deep.equal({ kind: "rate", percent: "7.7" });
      expect(config({ self: { tax: 19 } }).self.tax).to.deep.equal({ kind: "rate", percent: "19" });
    });

    it("names the file and JSON path of each bad field and what to write", function () {
      expect(problem("{ nope").message).to.match(/^\/cfg\/billing\.json: not valid JSON/);
      const tadig = problem(JSON.stringify({ self: {}, partners: { "262-01": { tadig: ["DEUD"] } } }));
      expect(tadig.message).to.include('/cfg/billing.json (partners["262-01"].tadig): "DEUD" is not a TADIG code');
      expect(problem(JSON.stringify({ self: { tax: "20%%" } })).message).to.include("(self.tax)");
      expect(problem(JSON.stringify({ self: { tax: "high" } })).hint).to.include('"reverse-charge", "none" or a rate in percent');
      expect(problem(JSON.stringify({ self: { paymentTermsDays: 30.5 } })).message).to.include(
        "(self.paymentTermsDays): must be a whole number",
      );
      expect(problem(JSON.stringify({ self: { legalname: "x" } })).message).to.include("(self.legalname): unknown field");
      expect(problem(JSON.stringify({ self: { paymentReference: "{invoice}" } })).message).to.include("unknown placeholder {invoice}");
      expect(problem(JSON.stringify({ self: {}, partners: { "262-x": {} } })).message).to.include('partners["262-x"]');
      expect(problem(JSON.stringify({ partners: {} })).message).to.include("(self): must be an object");
      expect(problem(JSON.stringify({ self: { country: "Germany" } })).message).to.include("not an ISO 3166 alpha-2 code");
    });

    it("looks in the key store folder, then ROAMLEDGER_BILLING, then --billing; a named file must exist", function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "billing-"));
      const saved = process.env.ROAMLEDGER_BILLING;
      try {
        delete process.env.ROAMLEDGER_BILLING;
        expect(loadBilling({ keystoreRoot: dir })).to.deep.equal({ self: {}, partners: new Map() });
        fs.writeFileSync(path.join(dir, BILLING_FILE), JSON.stringify(BR_BILLING));
        expect(loadBilling({ keystoreRoot: dir }).file).to.equal(path.join(dir, BILLING_FILE));
        const other = path.join(dir, "other.json");
        fs.writeFileSync(other, JSON.stringify({ self: { legalName: "Other" } }));
        process.env.ROAMLEDGER_BILLING = other;
        expect(loadBilling({ keystoreRoot: dir }).self.legalName).to.equal("Other");
        expect(loadBilling({ keystoreRoot: dir, explicit: path.join(dir, BILLING_FILE) }).self.taxId).to.equal("BR02558157000162");
        expect(() => loadBilling({ keystoreRoot: dir, explicit: path.join(dir, "missing.json") }))
          .to.throw(ConfigError, "missing.json does not exist")
          .with.property("hint")
          .that.includes("--billing");
      } finally {
        if (saved === undefined) delete process.env.ROAMLEDGER_BILLING;
        else process.env.ROAMLEDGER_BILLING = saved;
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("exact figures", function () {
    it("converts to the reference currency with bigint math, rounding half up to cents", function () {
      const eur = parseReferenceRate("EUR=1.0825");
      expect(eur).to.include({ currency: "EUR", text: "1.0825", scaled: 108_250_000n });
      expect(referenceAmount(1_279_743_630n, 6, eur)).to.equal("1,385.32");
      const one = parseReferenceRate("EUR=1");
      expect(referenceAmount(5_000n, 6, one)).to.equal("0.01"); // 0.005 rounds up
      expect(referenceAmount(4_999n, 6, one)).to.equal("0.00");
      // 10^30 base units of an 18-decimal token (10^12 tokens) at 0.00000001: far beyond a float's 2^53, exact.
      expect(referenceAmount(10n ** 30n, 18, parseReferenceRate("USD=0.00000001"))).to.equal("10,000.00");
      expect(referenceAmount(123_456_789_012_345_678_901_234_567n, 18, parseReferenceRate("USD=3"))).to.equal("370,370,367.04");
      for (const bad of ["EUR", "EUR=", "eur=1", "EUR=1e3", "EUR=-1", "EUR=0", "EUR=1.123456789"]) {
        expect(() => parseReferenceRate(bad), bad).to.throw(InputError);
      }
    });

    it("taxes the net at a rate rounded half up to the document's digits; due date and payment reference", function () {
      expect(taxAt(1_279_743_630n, "19", 6, 6)).to.equal(243_151_290n); // 243.1512897 -> 243.151290
      expect(taxAt(1_000_000n, "0.5", 6, 2)).to.equal(10_000n); // 0.005 -> 0.01
      expect(taxAt(1_000_000n, "0.4999", 6, 2)).to.equal(0n);
      expect(dueDate("2026-12-09T10:30:00Z", 30)).to.equal("2027-01-08");
      expect(dueDate("2026-12-09T10:30:00Z", 0)).to.equal("2026-12-09");
      const m = { invoiceNumber: "RL-31337-26201-72405-202611-ABC123", period: { id: 202611 } } as const;
      expect(paymentReference(undefined, m as never)).to.equal("RL-31337-26201-72405-202611-ABC123");
      expect(paymentReference("VIVO-{period}-{check}", m as never)).to.equal("VIVO-202611-ABC123");
    });
  });

  describe("on the invoice", function () {
    it("without a billing file: today's statement, with the details that are missing and where they go", function () {
      const m = buildInvoiceModel(sampleChainData());
      expect(m.billing.seller).to.include({ plmn: "724-05", registryName: "Vivo Brasil" });
      expect(m.billing.paymentReference).to.equal(m.invoiceNumber);
      expect(m.billing.dueDate).to.equal(undefined);
      expect(m.billing.tax.treatment).to.equal("unknown");
      expect(m.billing.missing).to.include("seller tax id (self.taxId)");
      expect(m.billing.missing).to.include('buyer TADIG code (partners["262-01"].tadig)');
      expect(m.billing.missing).to.include("seller dispute contact (self.disputeContact)");
      expect(m.billing.missing).to.have.length(13);
    });

    it("seller and buyer blocks, due date, reference, reverse-charge note with both VAT ids", function () {
      const m = buildInvoiceModel(sampleChainData(), { billing: config(BR_BILLING) });
      expect(m.billing.missing).to.deep.equal([]);
      expect(m.billing.seller).to.deep.include({ legalName: "Vivo Brasil Telecomunicações S.A.", tadig: ["BRAV2", "BRAVC"] });
      expect(m.billing.buyer).to.deep.include({ legalName: "Telekom Deutschland GmbH", taxId: "DE122265872", plmn: "262-01" });
      expect(m.billing.dueDate).to.equal("2027-01-08");
      expect(m.billing.paymentReference).to.equal(`VIVO-202611-${m.invoiceNumber.slice(-6)}`);
      expect(m.billing.tax.note).to.include("Reverse charge").and.include("BR02558157000162").and.include("DE122265872");
      expect(m.billing.tax.amount).to.equal(undefined);
    });

    it("the payer's copy takes the seller's terms from its partner entry", function () {
      const de = { self: BR_BILLING.partners["262-01"], partners: { "724-05": { ...BR_BILLING.self, tax: "19" } } };
      const m = buildInvoiceModel({ ...sampleChainData(), perspective: "payer" }, { billing: config(de) });
      expect(m.billing.seller.taxId).to.equal("BR02558157000162");
      expect(m.billing.tax).to.deep.include({ treatment: "rate", percent: "19" });
      expect(m.billing.tax.amount!.text).to.equal("243.151290");
      expect(m.billing.tax.totalWithTax!.text).to.equal("1,522.894920");
      expect(m.billing.missing).to.deep.equal([]);
    });

    it("JSON and CSV carry the billing section and the reference-currency column", function () {
      const m = buildInvoiceModel(sampleChainData(), { billing: config(BR_BILLING), rate: parseReferenceRate("EUR=1.0825") });
      const json = JSON.parse(invoiceToJson(m));
      expect(json.billing.reference).to.deep.include({ currency: "EUR", rate: "1.0825", net: "1,385.32", subtotal: "1,399.32" });
      expect(json.billing.buyer.tadig).to.deep.equal(["DEUD1"]);
      expect(json.lines.every((l: { referenceAmount?: string }) => typeof l.referenceAmount === "string")).to.equal(true);
      const rows = csvRows(invoiceToCsv(m));
      expect(Object.keys(rows[0]).at(-1)).to.equal("referenceAmount");
      const billing = (t: string) => rows.find((r) => r.section === "billing" && r.chargeType === t)!;
      expect(billing("due-date")).to.include({ description: "2027-01-08", quantity: "30", unit: "day" });
      expect(billing("payment-reference").description).to.equal(`VIVO-202611-${m.invoiceNumber.slice(-6)}`);
      expect(billing("buyer").description).to.include("tax id DE122265872").and.include("PLMN 262-01 TADIG DEUD1");
      expect(billing("seller").description).to.include("Vivo Brasil Telecomunicações S.A.").and.include("TADIG BRAV2 BRAVC");
      expect(billing("tax-reverse-charge").description).to.include("Reverse charge");
      expect(billing("dispute-contact").description).to.equal("roaming-disputes@vivo.example");
      const net = rows.find((r) => r.section === "summary" && r.chargeType === "net")!;
      expect(net.referenceAmount).to.equal("1,385.32");
      const charges = rows.filter((r) => r.section === "charge");
      expect(charges.every((r) => /^\d[\d,]*\.\d\d$/.test(r.referenceAmount))).to.equal(true);
    });

    it("the PDF shows both parties' legal names, addresses, tax ids, TADIG codes, due date, reference, tax and contact", async function () {
      const billing = config({ ...BR_BILLING, self: { ...BR_BILLING.self, tax: "19" } });
      const m = buildInvoiceModel(sampleChainData(), { billing, rate: parseReferenceRate("EUR=1.0825") });
      const text = pdfPagesText(await renderInvoicePdf(m));
      for (const expected of [
        "Telekom Deutschland GmbH",
        "Landgrabenweg 151",
        "53227 Bonn",
        "Tax id DE122265872",
        "Tax id BR02558157000162",
        "TADIG DEUD1",
        "TADIG BRAV2, BRAVC",
        "PLMN 724-05",
        "2027-01-08",
        `VIVO-202611-${m.invoiceNumber.slice(-6)}`,
        "Tax 19 % of the net",
        "243.151290",
        "1,522.894920",
        "roaming-disputes@vivo.example",
        "1,385.32 EUR",
      ]) {
        expect(text, expected).to.include(expected);
      }
      const bare = pdfPagesText(await renderInvoicePdf(buildInvoiceModel(sampleChainData())));
      expect(bare).to.include("Tax id: not configured");
      expect(bare).to.include("Missing details");
    });
  });
});

describe("lib/invoice text invoice", function () {
  it("prints number, dates, reference, both parties, the charges with the reference column, totals with tax, contact", function () {
    const billing = parseBilling(JSON.stringify({ ...BR_BILLING, self: { ...BR_BILLING.self, tax: "19" } }), "/cfg/billing.json");
    const m = buildInvoiceModel(sampleChainData(), { billing, rate: parseReferenceRate("EUR=1.0825") });
    const text = invoiceToText(m);
    expect(text.split("\n")[0]).to.equal(`INVOICE ${m.invoiceNumber}`);
    for (const expected of [
      "Issue date 2026-12-09; due date 2027-01-08 (30 days net)",
      `Payment reference VIVO-202611-${m.invoiceNumber.slice(-6)}`,
      "From (visited carrier, seller): Vivo Brasil Telecomunicações S.A.",
      "  PLMN 724-05, TADIG BRAV2, BRAVC",
      "Bill to (home carrier, buyer): Telekom Deutschland GmbH",
      "  tax id DE122265872",
      "  PLMN 262-01, TADIG DEUD1",
      "Disputes: contact roaming-disputes@vivo.example",
      "2 VOLUME_MISMATCH (the home carrier's record of this id has another volume)",
    ]) {
      expect(text, expected).to.include(expected);
    }
    expect(text).to.match(/NET DUE \(RLST\) +1,279\.743630 +1,385\.32\n/);
    expect(text).to.match(/Tax 19 % +243\.151290/);
    expect(text).to.match(/TOTAL WITH TAX \(RLST\) +1,522\.894920/);
    expect(text).to.match(/Data, 100 - 1,000 MB +900 MB +1\.0000 +MB +10 % +810\.000000 +876\.83/);
    expect(text).to.not.include("Missing billing details");
    const bare = invoiceToText(buildInvoiceModel(sampleChainData()));
    expect(bare).to.include("due date not configured").and.include("Missing billing details").and.include("- seller tax id (self.taxId)");
  });
});

describe("lib/usage/reasons", function () {
  it("names every dispute and rejection code the ledger takes, and says so for one no release defines", function () {
    expect([1, 2, 3, 4].map(disputeReasonName)).to.deep.equal([
      "NOT_IN_HOME_RECORDS",
      "VOLUME_MISMATCH",
      "DEVICE_MISMATCH",
      "NOT_OUR_DEVICE",
    ]);
    expect(disputeReasonText(2)).to.equal("VOLUME_MISMATCH (the home carrier's record of this id has another volume)");
    expect(disputeReasonName(9)).to.equal("unknown reason 9");
    expect(rejectReasonName(3)).to.equal("TOTALS_MISMATCH");
  });

  it("prints the disputes of an invoice by name and meaning, in the PDF and the CSV", async function () {
    const m = buildInvoiceModel(sampleChainData());
    expect(m.disputes.batches[0].reasons).to.deep.equal([{ reason: "VOLUME_MISMATCH", text: disputeReasonText(2), records: 2 }]);
    const text = pdfPagesText(await renderInvoicePdf(m));
    expect(text).to.include("2 record(s) disputed: 2 VOLUME_MISMATCH (the home carrier's record of this id has another volume)");
    expect(text).to.not.match(/reason \d/);
    const row = csvRows(invoiceToCsv(m)).find((r) => r.section === "disputed" && r.chargeType === "VOLUME_MISMATCH")!;
    expect(row).to.include({ quantity: "2", unit: "record", description: disputeReasonText(2) });
  });
});
