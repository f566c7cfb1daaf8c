/**
 * The invoice model as plain text (`invoice --format text`): what the PDF says, for a terminal, an e-mail
 * or a ticket: number, dates, payment reference, seller and buyer blocks, the charges, totals with the
 * tax line (and the reference currency), payment terms, disputes and the billing details still missing.
 */
import { formatCount } from "../core/amount";
import { textTable } from "../util/textTable";
import { displayBps, displayQuantity } from "./text";
import { CHARGE_UNITS, type BillingParty, type InvoiceModel } from "./types";

/** A party's block: heading, address, country, tax id, PLMN with TADIG codes. */
function partyBlock(title: string, p: BillingParty): string[] {
  const lines = [`${title}: ${p.legalName ?? p.registryName}`, ...p.address.map((a) => `  ${a}`)];
  if (p.country) lines.push(`  ${p.country}`);
  lines.push(`  tax id ${p.taxId ?? "(not configured)"}`);
  lines.push(`  PLMN ${p.plmn}${p.tadig.length ? `, TADIG ${p.tadig.join(", ")}` : ""}`);
  return lines;
}

/** The charges, one row per line item, with the reference-currency column when a rate was given. */
function chargeLines(m: InvoiceModel): string[] {
  const ref = m.billing.reference;
  const head = ["class", "charge", "quantity", "rate", "per", "disc.", "amount", ...(ref ? [ref.currency] : [])];
  const rows = m.lines.map((l) => [
    String(l.tariffClass),
    l.description,
    displayQuantity(l),
    l.priced ? l.rate.text : "-",
    l.priced ? CHARGE_UNITS[l.chargeType].rate : "",
    l.discountBps ? displayBps(l.discountBps) : "",
    l.amount.text,
    ...(ref ? [l.referenceAmount ?? ""] : []),
  ]);
  if (rows.length === 0) return ["  No usage was billed in this period: a zero invoice."];
  return textTable([head, ...rows], [2, 3, 5, 6, 7]).map((l) => `  ${l}`);
}

/** Subtotal, SLA credit, net due, the tax and the total with it, in the token (and the reference currency). */
function totalLines(m: InvoiceModel, unit: string): string[] {
  const { tax, reference: ref } = m.billing;
  const credit = m.credit.units > 0n ? `-${m.credit.text}` : m.credit.text;
  const rows: string[][] = [
    ["Subtotal", m.subtotal.text, ref?.subtotal ?? ""],
    [`SLA credit (${displayBps(m.sla.creditBps)})`, credit, ref ? `-${ref.credit}`.replace("-0.00", "0.00") : ""],
    [`NET DUE (${unit})`, m.net.text, ref?.net ?? ""],
  ];
  if (tax.amount && tax.totalWithTax) {
    rows.push(
      [`Tax ${tax.percent} %`, tax.amount.text, ref?.tax ?? ""],
      [`TOTAL WITH TAX (${unit})`, tax.totalWithTax.text, ref?.totalWithTax ?? ""],
    );
  }
  const table = textTable(ref ? [["", unit, ref.currency], ...rows] : rows.map((r) => r.slice(0, 2)), [1, 2]);
  return [...table.map((l) => `  ${l}`), ...(ref ? [`  ${ref.note}`] : [])];
}

/** The model as plain text. */
export function invoiceToText(m: InvoiceModel): string {
  const b = m.billing;
  const unit = m.token.symbol || "token units";
  const lines = [
    `INVOICE ${m.invoiceNumber}${m.status.state === "none" ? " (DRAFT: not proposed yet)" : ""}${m.perspective === "payer" ? " (copy of the payer)" : ""}`,
    `Issue date ${m.issueDate.slice(0, 10)}; due date ${b.dueDate ? `${b.dueDate} (${b.paymentTermsDays} days net)` : "not configured"}`,
    `Payment reference ${b.paymentReference}`,
    `Billing period ${m.period.text} (UTC); agreement version ${m.agreement.version}; amounts in ${unit} (settlement token)`,
    "",
    ...partyBlock("From (visited carrier, seller)", b.seller),
    ...partyBlock("Bill to (home carrier, buyer)", b.buyer),
    "",
    "Charges:",
    ...chargeLines(m),
    "",
    ...totalLines(m, unit),
    "",
    `Tax: ${b.tax.note}`,
    `Disputes: ${b.disputeContact ? `contact ${b.disputeContact} within the dispute window (${m.agreement.disputeWindowDays} day(s))` : "contact not configured"}`,
  ];
  if (b.bank) lines.push(`Payment details: ${b.bank}`);
  for (const d of m.disputes.batches) {
    const reasons = d.reasons.map((r) => `${formatCount(r.records)} ${r.text}`).join("; ");
    lines.push(`Disputed in ${d.ref} (${d.batchId}): ${formatCount(d.records)} record(s)${reasons ? `: ${reasons}` : ""}`);
  }
  lines.push(`Status: ${m.status.summary}`);
  if (b.missing.length > 0) lines.push("", `Missing billing details (billing file: ${b.source}):`, ...b.missing.map((x) => `  - ${x}`));
  return `${lines.join("\n")}\n`;
}
