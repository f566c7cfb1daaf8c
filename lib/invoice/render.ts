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
  const summary = (chargeType: string, units: bigint, description: string, extra: Row = {}): Row => ({
    section: "summary",
    chargeType,
    amount: tokenUnits(model, units),
    amountBaseUnits: units,
    description,
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
 * The model as CSV: a header, an `invoice` row (number, parties, period), one `charge` row per line item,
 * `class-total` rows, `summary` rows (subtotal, SLA credit, net, status), `disputed`, `rejected-batch` and
 * `not-billable` rows. Amounts in token units, exact (and in base units in `amountBaseUnits`).
 */
export function invoiceToCsv(model: InvoiceModel): string {
  const rows = [
    invoiceRow(model),
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
