/**
 * The invoice model as JSON (the whole model) and as CSV (one row per line item, then summary rows), for
 * a carrier's finance systems. Amounts are exact: JSON carries base units as decimal strings next to the
 * text in token units; CSV carries token units (exact, no separators) and base units.
 */
import { formatAmount } from "../core/amount";
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
type Row = Partial<Record<CsvColumn, string | number | bigint>>;

/** A field quoted as RFC 4180 wants when it holds a comma, a quote or a line break. */
function csvField(value: string | number | bigint | undefined): string {
  const text = value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A line's quantity in its CSV unit: MB (exact) for data, the count otherwise. */
function csvQuantity(line: LineItem): { quantity: string; unit: string } {
  if (line.chargeType === "data") return { quantity: bytesAsMb(line.quantity).replace(/,/g, ""), unit: "MB" };
  return { quantity: line.quantity.toString(), unit: CHARGE_UNITS[line.chargeType].quantity };
}

/**
 * The model as CSV: a header, an `invoice` row (number, parties, period), one `charge` row per line item,
 * `class-total` rows, `summary` rows (subtotal, SLA credit, net, status), `disputed`, `rejected-batch` and
 * `not-billable` rows. Amounts in token units, exact (and in base units in `amountBaseUnits`).
 */
export function invoiceToCsv(model: InvoiceModel): string {
  const d = model.token.decimals;
  const tokens = (units: bigint) => formatAmount(units, d);
  const closing = [model.status.closeTx, ...(model.status.settleTx ? [model.status.settleTx] : [])];
  const rows: Row[] = [];
  rows.push({
    section: "invoice",
    chargeType: "number",
    description:
      `${model.invoiceNumber}: ${model.payee.name} (${model.payee.plmnText}) bills ${model.payer.name} (${model.payer.plmnText}) ` +
      `for ${model.period.text}; agreement version ${model.agreement.version}; ${model.token.symbol || "token"} ${model.token.address}`,
    txHashes: closing.join(" "),
  });
  for (const line of model.lines) {
    const q = csvQuantity(line);
    rows.push({
      section: "charge",
      tariffClass: line.tariffClass,
      chargeType: line.chargeType,
      quantity: q.quantity,
      unit: q.unit,
      rate: tokens(line.rate.units),
      discountBps: line.discountBps,
      amount: tokens(line.amount.units),
      batchIds: line.batchIds.join(" "),
      txHashes: line.txHashes.join(" "),
      description: line.priced ? line.description : `${line.description} (no rate plan: not billed)`,
      rateUnit: CHARGE_UNITS[line.chargeType].rate,
      amountBaseUnits: line.amount.units,
    });
  }
  for (const c of model.classes) {
    rows.push({
      section: "class-total",
      tariffClass: c.tariffClass,
      chargeType: "total",
      quantity: c.usage.records,
      unit: "record",
      amount: tokens(c.total.units),
      description: c.priced ? `tariff class ${c.tariffClass}` : `tariff class ${c.tariffClass}: no rate plan, not billed`,
      amountBaseUnits: c.total.units,
    });
  }
  const summary = (chargeType: string, units: bigint, description: string, extra: Row = {}) =>
    rows.push({ section: "summary", chargeType, amount: tokens(units), amountBaseUnits: units, description, ...extra });
  summary("subtotal", model.subtotal.units, "sum of the charges");
  summary(
    "sla-credit",
    model.credit.units,
    `SLA credit: avg latency ${model.sla.avgLatencyMs} ms (max ${model.sla.maxLatencyMs || "-"}), ` +
      `avg throughput ${model.sla.avgThroughputKbps} kbit/s (min ${model.sla.minThroughputKbps || "-"}), ${model.sla.qosSamples} samples`,
    { discountBps: model.sla.creditBps },
  );
  summary("net", model.net.units, "net due: subtotal - SLA credit", { txHashes: model.status.closeTx });
  rows.push({ section: "summary", chargeType: "status", description: model.status.summary, txHashes: closing.join(" ") });

  const disputeBatchIds = model.disputes.batches.map((b) => b.batchId).join(" ");
  const disputeTxs = model.disputes.batches.flatMap((b) => b.txHashes).join(" ");
  for (const c of model.disputes.perClass) {
    const add = (chargeType: string, quantity: string, unit: string) =>
      rows.push({
        section: "disputed",
        tariffClass: c.tariffClass,
        chargeType,
        quantity,
        unit,
        batchIds: disputeBatchIds,
        txHashes: disputeTxs,
      });
    add("records", String(c.records), "record");
    if (c.dataBytes > 0n) add("data", bytesAsMb(c.dataBytes).replace(/,/g, ""), "MB");
    if (c.signallingEvents > 0n) add("signalling", c.signallingEvents.toString(), "event");
    if (c.smsCount > 0n) add("sms", c.smsCount.toString(), "SMS");
    if (c.voiceSeconds > 0n) add("voice", c.voiceSeconds.toString(), "second");
  }
  if (model.disputes.records > 0) {
    rows.push({
      section: "disputed",
      chargeType: "value-at-rates",
      quantity: model.disputes.records,
      unit: "record",
      amount: tokens(model.disputes.value.units),
      amountBaseUnits: model.disputes.value.units,
      description: "disputed usage at the agreement's rates: taken off the invoice, not billed",
      batchIds: disputeBatchIds,
      txHashes: disputeTxs,
    });
  }
  for (const b of model.rejectedBatches) {
    rows.push({
      section: "rejected-batch",
      chargeType: b.reason,
      quantity: b.recordCount,
      unit: "record",
      batchIds: b.batchId,
      txHashes: [b.submitTx, ...(b.rejectTx ? [b.rejectTx] : [])].join(" "),
      description: "rejected by the home carrier: counts for nothing",
    });
  }
  if (model.notBillable.available) {
    for (const r of model.notBillable.byReason) {
      rows.push({
        section: "not-billable",
        chargeType: r.reason,
        quantity: r.records,
        unit: "record",
        description: "committed, not billed (out of policy)",
      });
    }
    if (model.notBillable.byReason.length === 0) {
      rows.push({
        section: "not-billable",
        chargeType: "none",
        quantity: 0,
        unit: "record",
        description: `all committed records were billable (${model.notBillable.batchesRead} payloads read)`,
      });
    }
  } else {
    rows.push({ section: "not-billable", chargeType: "not-available", description: model.notBillable.why });
  }

  const lines = [CSV_COLUMNS.join(","), ...rows.map((row) => CSV_COLUMNS.map((c) => csvField(row[c])).join(","))];
  return `${lines.join("\n")}\n`;
}
