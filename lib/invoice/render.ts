/**
 * The invoice model as JSON (the whole model) and as CSV (one row per line item, then summary rows), for
 * a carrier's finance systems. Amounts are exact: JSON carries base units as decimal strings next to the
 * text in token units; CSV carries token units (exact, no separators) and base units.
 */
import { formatAmount } from "../core/amount";
import { toCsv, type CsvValue } from "../util/csv";
import { bytesAsMb } from "./text";
import { CHARGE_UNITS, type InvoiceModel, type LineItem } from "./types";

/** The model as JSON: bigints as decimal strings; each amount as `{ units, text }`. */
export function invoiceToJson(model: InvoiceModel): string {
  return `${JSON.stringify(model, (_key, value) => (typeof value === "bigint" ? value.toString() : value), 2)}\n`;
}

/** The columns of the CSV, in order. The first ten are the line-item essentials; the rest explain them. */
export const CSV_COLUMNS = [
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
  "description",
  "rateUnit",
  "amountBaseUnits",
  "referenceAmount",
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];
type Row = Partial<Record<CsvColumn, CsvValue>>;

/** A line's quantity in its CSV unit: MB (exact) for data, the count otherwise. */
function csvQuantity(line: LineItem): { quantity: string; unit: string } {
  if (line.chargeType === "data") return { quantity: bytesAsMb(line.quantity).replace(/,/g, ""), unit: "MB" };
  return { quantity: line.quantity.toString(), unit: CHARGE_UNITS[line.chargeType].quantity };
}

/** Base units of the document's token in token units, exact, without separators. */
const tokenUnits = (model: InvoiceModel, units: bigint) => formatAmount(units, model.token.decimals);

/** The proposal, the close and, when settled, the settlement transaction (those there are). */
const closingTxs = (model: InvoiceModel) =>
  [model.status.proposeTx, model.status.closeTx, model.status.settleTx].filter((h) => h !== undefined).join(" ");

/** The `invoice` row: number, parties, period, agreement version and token. */
function invoiceRow(model: InvoiceModel): Row {
  return {
    section: "invoice",
    chargeType: "number",
    description:
      `${model.invoiceNumber}: ${model.payee.name} (${model.payee.plmnText}) bills ${model.payer.name} (${model.payer.plmnText}) ` +
      `for ${model.period.text}; agreement version ${model.agreement.version}; ${model.token.symbol || "token"} ${model.token.address}`,
    txHashes: closingTxs(model),
  };
}

/** A party's block in one line: legal name, address, country, tax id, PLMN and TADIG codes. */
function partyText(p: InvoiceModel["billing"]["seller"]): string {
  const parts = [p.legalName ?? p.registryName, ...p.address, p.country, p.taxId && `tax id ${p.taxId}`];
  parts.push(`PLMN ${p.plmn}${p.tadig.length ? ` TADIG ${p.tadig.join(" ")}` : ""}`);
  return parts.filter(Boolean).join("; ");
}

/** The `billing` rows: seller, buyer, issue and due date, payment reference, tax, contact, what is missing. */
function billingRows(model: InvoiceModel): Row[] {
  const b = model.billing;
  const row = (chargeType: string, description: string, extra: Row = {}): Row => ({
    section: "billing",
    chargeType,
    description,
    ...extra,
  });
  const rows = [
    row("seller", partyText(b.seller)),
    row("buyer", partyText(b.buyer)),
    row("issue-date", model.issueDate.slice(0, 10)),
    row("due-date", b.dueDate ?? "payment terms not configured", { quantity: b.paymentTermsDays, unit: "day" }),
    row("payment-reference", b.paymentReference),
  ];
  const taxAmount = b.tax.amount && {
    amount: tokenUnits(model, b.tax.amount.units),
    amountBaseUnits: b.tax.amount.units,
    referenceAmount: b.reference?.tax,
  };
  rows.push(row(`tax-${b.tax.treatment}`, b.tax.note, { discountBps: b.tax.percent, ...taxAmount }));
  if (b.tax.totalWithTax) {
    const units = b.tax.totalWithTax.units;
    rows.push(
      row("total-with-tax", "net + tax", {
        amount: tokenUnits(model, units),
        amountBaseUnits: units,
        referenceAmount: b.reference?.totalWithTax,
      }),
    );
  }
  if (b.disputeContact) rows.push(row("dispute-contact", b.disputeContact));
  if (b.bank) rows.push(row("bank", b.bank));
  if (b.reference) rows.push(row("reference-currency", `${b.reference.currency} ${b.reference.rate}: ${b.reference.note}`));
  for (const m of b.missing) rows.push(row("missing", m));
  return rows;
}

/** One `charge` row per line item. */
function chargeRows(model: InvoiceModel): Row[] {
  return model.lines.map((line) => ({
    section: "charge",
    tariffClass: line.tariffClass,
    chargeType: line.chargeType,
    ...csvQuantity(line),
    rate: tokenUnits(model, line.rate.units),
    discountBps: line.discountBps,
    amount: tokenUnits(model, line.amount.units),
    batchIds: line.batchIds.join(" "),
    txHashes: line.txHashes.join(" "),
    description: line.priced ? line.description : `${line.description} (no rate plan: not billed)`,
    rateUnit: CHARGE_UNITS[line.chargeType].rate,
    amountBaseUnits: line.amount.units,
    referenceAmount: line.referenceAmount,
  }));
}

/** One `class-total` row per tariff class. */
function classRows(model: InvoiceModel): Row[] {
  return model.classes.map((c) => ({
    section: "class-total",
    tariffClass: c.tariffClass,
    chargeType: "total",
    quantity: c.usage.records,
    unit: "record",
    amount: tokenUnits(model, c.total.units),
    description: c.priced ? `tariff class ${c.tariffClass}` : `tariff class ${c.tariffClass}: no rate plan, not billed`,
    amountBaseUnits: c.total.units,
  }));
}

/** What the escrow's net is, and whether it is ours. */
function escrowNetText(model: InvoiceModel): string {
  const v = model.verification;
  if (v.agreesWithEscrow === null) return "the escrow's net: nothing proposed yet";
  return v.agreesWithEscrow
    ? "the escrow's net (signed by the payee): equal to ours"
    : `the escrow's net DIFFERS: ${v.differences.join("; ")}`;
}

/** The `summary` rows: subtotal, SLA credit, net, the escrow's net and amount, and the settlement status. */
function summaryRows(model: InvoiceModel): Row[] {
  const ref = model.billing.reference;
  const refOf: Record<string, string | undefined> = { subtotal: ref?.subtotal, "sla-credit": ref?.credit, net: ref?.net };
  const summary = (chargeType: string, units: bigint, description: string, extra: Row = {}): Row => ({
    section: "summary",
    chargeType,
    amount: tokenUnits(model, units),
    amountBaseUnits: units,
    description,
    referenceAmount: refOf[chargeType],
    ...extra,
  });
  const { sla } = model;
  return [
    summary("subtotal", model.subtotal.units, "sum of the charges"),
    summary(
      "sla-credit",
      model.credit.units,
      `SLA credit: avg latency ${sla.avgLatencyMs} ms (max ${sla.maxLatencyMs || "-"}), ` +
        `avg throughput ${sla.avgThroughputKbps} kbit/s (min ${sla.minThroughputKbps || "-"}), ${sla.qosSamples} samples`,
      { discountBps: sla.creditBps },
    ),
    summary("net", model.net.units, "net due: subtotal - SLA credit (ours, rated from our terms and usage)", {
      txHashes: model.status.proposeTx,
    }),
    summary("escrow-net", model.status.escrowNet.units, escrowNetText(model), { txHashes: model.status.proposeTx }),
    summary("escrow-amount", model.status.escrowAmount.units, `owed once closed (${model.status.resolution})`, {
      txHashes: model.status.closeTx,
    }),
    { section: "summary", chargeType: "status", description: model.status.summary, txHashes: closingTxs(model) },
  ];
}

/** The `disputed` rows: per class the records and usage taken off, then their value at the agreement's rates. */
function disputeRows(model: InvoiceModel): Row[] {
  const { disputes } = model;
  const evidence = {
    batchIds: disputes.batches.map((b) => b.batchId).join(" "),
    txHashes: disputes.batches.flatMap((b) => b.txHashes).join(" "),
  };
  const rows: Row[] = [];
  for (const c of disputes.perClass) {
    const add = (chargeType: string, quantity: string, unit: string) =>
      rows.push({ section: "disputed", tariffClass: c.tariffClass, chargeType, quantity, unit, ...evidence });
    add("records", String(c.records), "record");
    if (c.dataBytes > 0n) add("data", bytesAsMb(c.dataBytes).replace(/,/g, ""), "MB");
    if (c.signallingEvents > 0n) add("signalling", c.signallingEvents.toString(), "event");
    if (c.smsCount > 0n) add("sms", c.smsCount.toString(), "SMS");
    if (c.voiceSeconds > 0n) add("voice", c.voiceSeconds.toString(), "second");
  }
  for (const b of disputes.batches) {
    for (const r of b.reasons) {
      rows.push({
        section: "disputed",
        chargeType: r.reason,
        quantity: r.records,
        unit: "record",
        description: r.text,
        batchIds: b.batchId,
      });
    }
  }
  if (disputes.records > 0) {
    rows.push({
      section: "disputed",
      chargeType: "value-at-rates",
      quantity: disputes.records,
      unit: "record",
      amount: tokenUnits(model, disputes.value.units),
      amountBaseUnits: disputes.value.units,
      description: "disputed usage at the agreement's rates: taken off the invoice, not billed",
      ...evidence,
    });
  }
  return rows;
}

/** One `rejected-batch` row per batch the home carrier rejected. */
function rejectedRows(model: InvoiceModel): Row[] {
  return model.rejectedBatches.map((b) => ({
    section: "rejected-batch",
    chargeType: b.reason,
    quantity: b.recordCount,
    unit: "record",
    batchIds: b.batchId,
    txHashes: [b.submitTx, ...(b.rejectTx ? [b.rejectTx] : [])].join(" "),
    description: "rejected by the home carrier: counts for nothing",
  }));
}

/** The `not-billable` rows: records committed but not billed, per reason, or why they could not be counted. */
function notBillableRows(model: InvoiceModel): Row[] {
  const nb = model.notBillable;
  if (!nb.available) return [{ section: "not-billable", chargeType: "not-available", description: nb.why }];
  if (nb.byReason.length === 0) {
    const description = `all committed records were billable (${nb.batchesRead} payloads read)`;
    return [{ section: "not-billable", chargeType: "none", quantity: 0, unit: "record", description }];
  }
  return nb.byReason.map((r) => ({
    section: "not-billable",
    chargeType: r.reason,
    quantity: r.records,
    unit: "record",
    description: "committed, not billed (out of policy)",
  }));
}

/**
 * The model as CSV: a header, an `invoice` row (number, parties, period), `billing` rows (seller, buyer,
 * due date, payment reference, tax, dispute contact, missing details), one `charge` row per line item,
 * `class-total` rows, `summary` rows (subtotal, SLA credit, net, status), `disputed`, `rejected-batch` and
 * `not-billable` rows. Amounts in token units, exact (and in base units in `amountBaseUnits`); with a
 * reference rate, `referenceAmount` in the reference currency (cents).
 */
export function invoiceToCsv(model: InvoiceModel): string {
  const rows = [
    invoiceRow(model),
    ...billingRows(model),
    ...chargeRows(model),
    ...classRows(model),
    ...summaryRows(model),
    ...disputeRows(model),
    ...rejectedRows(model),
    ...notBillableRows(model),
  ];
  return toCsv(
    CSV_COLUMNS,
    rows.map((row) => CSV_COLUMNS.map((column) => row[column])),
  );
}
