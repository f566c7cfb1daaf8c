/**
 * The invoice model as a PDF a carrier's finance team can file: header with both parties and the invoice
 * number, line items per tariff class with aligned amounts, subtotal, SLA credit, net due and settlement
 * status, the disputes and not-billable usage, and an appendix with the batch ids and transaction hashes
 * that prove every line. Standard PDF fonts only (Helvetica, Courier): nothing to install, nothing
 * embedded. The output is deterministic for a given model (creation date = the invoice's issue date).
 */
import PDFDocument from "pdfkit";
import { formatCount } from "../core/amount";
import { bytesAsMb, displayBps, displayQuantity } from "./text";
import { CHARGE_UNITS, type InvoiceModel, type LineItem } from "./types";

type Doc = InstanceType<typeof PDFDocument>;

const PAGE = { width: 595.28, height: 841.89 }; // A4 in points
const MARGIN = 42;
const CONTENT = PAGE.width - 2 * MARGIN;
const BOTTOM = PAGE.height - MARGIN - 18; // leaves room for the footer
const FONT = { regular: "Helvetica", bold: "Helvetica-Bold", mono: "Courier" } as const;
const COLOR = { text: "#111111", muted: "#555555", rule: "#b8b8b8", fill: "#eef1f5", accent: "#1f3a5f", warn: "#8a1c1c" } as const;

/** Line-item table columns: x offset from the margin, width, alignment. */
const COLUMNS = [
  { key: "charge", title: "Charge", width: 128, align: "left" },
  { key: "quantity", title: "Quantity", width: 98, align: "right" },
  { key: "rate", title: "Rate", width: 58, align: "right" },
  { key: "per", title: "per", width: 64, align: "left" },
  { key: "discount", title: "Disc.", width: 38, align: "right" },
  { key: "amount", title: "Amount", width: 78, align: "right" },
  { key: "batches", title: "Batches", width: CONTENT - 128 - 98 - 58 - 64 - 38 - 78, align: "right" },
] as const;
type ColumnKey = (typeof COLUMNS)[number]["key"];
const CELL_PAD = 4;

interface TextStyle {
  font?: string;
  size?: number;
  color?: string;
  align?: "left" | "right" | "center";
  width?: number;
}

/** Writes a PDF and keeps the cursor (`y`) itself: pdfkit's text flow never decides a page break. */
class Writer {
  y = MARGIN;

  constructor(
    readonly doc: Doc,
    private readonly onNewPage: () => void,
  ) {}

  /** Text at (x, y) without pdfkit's line flow; returns its height. Wraps within `width` when given. */
  text(value: string, x: number, y: number, style: TextStyle = {}): number {
    const { doc } = this;
    doc
      .font(style.font ?? FONT.regular)
      .fontSize(style.size ?? 9)
      .fillColor(style.color ?? COLOR.text);
    const options = { width: style.width, align: style.align ?? "left", lineBreak: style.width !== undefined } as const;
    const height = style.width !== undefined ? doc.heightOfString(value, options) : doc.currentLineHeight();
    doc.text(value, x, y, options);
    return height;
  }

  height(value: string, width: number, style: TextStyle = {}): number {
    this.doc.font(style.font ?? FONT.regular).fontSize(style.size ?? 9);
    return this.doc.heightOfString(value, { width });
  }

  rule(y: number, x1 = MARGIN, x2 = MARGIN + CONTENT, color: string = COLOR.rule, width = 0.6): void {
    this.doc.moveTo(x1, y).lineTo(x2, y).lineWidth(width).strokeColor(color).stroke();
  }

  box(x: number, y: number, w: number, h: number, fill?: string, stroke: string = COLOR.rule): void {
    const r = this.doc.rect(x, y, w, h).lineWidth(0.6);
    if (fill) r.fillAndStroke(fill, stroke);
    else r.strokeColor(stroke).stroke();
  }

  /** Makes room for `height` points, starting a new page when they do not fit. */
  need(height: number): void {
    if (this.y + height <= BOTTOM) return;
    this.doc.addPage();
    this.y = MARGIN;
    this.onNewPage();
  }

  /** A section heading, kept on a page with at least `keepWithNext` points of what follows. */
  heading(title: string, keepWithNext = 60): void {
    this.need(30 + keepWithNext);
    this.y += 10;
    this.text(title, MARGIN, this.y, { font: FONT.bold, size: 11, color: COLOR.accent });
    this.y += 15;
    this.rule(this.y, MARGIN, MARGIN + CONTENT, COLOR.accent, 0.8);
    this.y += 5;
  }

  /** Monospace text cut into lines of at most `width` points (hashes have no spaces to break at). */
  mono(value: string, x: number, width: number, size = 7.5): void {
    const perLine = Math.max(8, Math.floor(width / (size * 0.6)));
    for (let i = 0; i < value.length; i += perLine) {
      this.need(size + 3);
      this.text(value.slice(i, i + perLine), x, this.y, { font: FONT.mono, size, color: COLOR.text });
      this.y += size + 2.5;
    }
  }
}

/** "B1-B3, B5" from ["B1","B2","B3","B5"]. */
export function compressRefs(refs: readonly string[]): string {
  const nums = refs.map((r) => Number(r.slice(1))).sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < nums.length; ) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j] + 1) j++;
    parts.push(j > i ? `B${nums[i]}-B${nums[j]}` : `B${nums[i]}`);
    i = j + 1;
  }
  return parts.join(", ");
}

function dateOnly(iso: string): string {
  return iso.slice(0, 10);
}

/** The last day of a period whose end (exclusive) is `endIso`. */
function lastDay(endIso: string): string {
  return new Date(Date.parse(endIso) - 86_400_000).toISOString().slice(0, 10);
}

/** A batch's state in words: a batch never answered counts as accepted once its dispute window is over. */
const STATE_TEXT = {
  submitted: "pending: not answered by the home carrier yet",
  accepted: "accepted",
  expired: "expired: not answered within its dispute window, counted",
  rejected: "rejected",
} as const;

function cells(line: LineItem): Record<ColumnKey, string> {
  return {
    charge: line.description,
    quantity: displayQuantity(line),
    rate: line.priced ? line.rate.text : "-",
    per: line.priced ? CHARGE_UNITS[line.chargeType].rate : "",
    discount: line.discountBps ? displayBps(line.discountBps) : "",
    amount: line.amount.text,
    batches: compressRefs(line.batchRefs),
  };
}

/** The invoice model as a PDF document. */
export function renderInvoicePdf(model: InvoiceModel): Promise<Buffer> {
  const issued = new Date(model.issueDate);
  const doc = new PDFDocument({
    size: "A4",
    margins: { top: MARGIN, bottom: MARGIN, left: MARGIN, right: MARGIN },
    bufferPages: true,
    autoFirstPage: true,
    info: {
      Title: `Invoice ${model.invoiceNumber}`,
      Subject: `Roaming settlement ${model.period.text}: ${model.payee.name} (${model.payee.plmnText}) to ${model.payer.name} (${model.payer.plmnText})`,
      Author: `${model.payee.name} (${model.payee.plmnText}) via RoamLedger`,
      Creator: "RoamLedger lib/invoice/pdf.ts",
      Producer: "RoamLedger",
      CreationDate: issued,
      ModDate: issued,
    },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });

  let tableHeaderOnNewPage = false;
  const w = new Writer(doc, () => {
    if (tableHeaderOnNewPage) tableHeader(w);
  });
  const unit = model.token.symbol || "token units";

  header(w, model, unit);
  tableHeaderOnNewPage = true;
  lineItems(w, model);
  tableHeaderOnNewPage = false;
  totals(w, model, unit);
  status(w, model);
  slaSection(w, model);
  disputesSection(w, model, unit);
  evidence(w, model);
  footers(w, model);
  doc.end();
  return done;
}

/** What the issue date is: the escrow's close, the payee's proposal, or the reading of a draft. */
const issueWhat = (m: InvoiceModel) => (m.status.closedAt ? "closed on-chain" : m.status.proposedAt ? "proposed on-chain" : "draft read");

/** The escrow's status of the invoice, in words. */
const ESCROW_STATE_TEXT = {
  none: "Draft (not proposed yet)",
  proposed: "Proposed (awaiting co-signature)",
  claimed: "Claimed (not co-signed)",
  revealing: "Claimed (reveal in progress)",
  closed: "Closed (not settled yet)",
  settled: "Settled",
} as const;

function header(w: Writer, m: InvoiceModel, unit: string): void {
  const top = MARGIN;
  w.text("INVOICE", MARGIN, top, { font: FONT.bold, size: 22, color: COLOR.accent });
  w.text("Roaming settlement between RoamLedger carriers", MARGIN, top + 26, { size: 9, color: COLOR.muted });
  if (m.perspective === "payer") w.text("Copy of the payer (home carrier)", MARGIN, top + 38, { size: 8, color: COLOR.muted });

  // Key facts, right-aligned block.
  const keyX = MARGIN + CONTENT - 250;
  const facts: [string, string][] = [
    ["Invoice number", m.invoiceNumber],
    ["Issue date", `${dateOnly(m.issueDate)} (${issueWhat(m)} ${m.issueDate.slice(11, 19)} UTC)`],
    ["Billing period", `${m.period.text} (${dateOnly(m.period.start)} to ${lastDay(m.period.end)}, UTC)`],
    ["Due date", m.billing.dueDate ? `${m.billing.dueDate} (${m.billing.paymentTermsDays} days net)` : "payment terms not configured"],
    ["Payment reference", m.billing.paymentReference],
    ["Status", m.status.settledAt ? `Settled ${dateOnly(m.status.settledAt)}` : ESCROW_STATE_TEXT[m.status.state]],
  ];
  let y = top + 2;
  for (const [k, v] of facts) {
    w.text(k, keyX, y, { size: 8, color: COLOR.muted });
    const h = w.text(v, keyX + 72, y, { size: 8.5, font: k === "Invoice number" ? FONT.bold : FONT.regular, width: 178 });
    y += Math.max(h, 11) + 2;
  }
  w.y = Math.max(y, top + 56) + 8;

  parties(w, m);

  // Terms and settlement currency.
  const rows: [string, string, boolean][] = [
    [
      "Agreement",
      `version ${m.agreement.version} of the roaming agreement ${m.payer.plmnText} / ${m.payee.plmnText}; dispute window ${m.agreement.disputeWindowDays} day(s)`,
      false,
    ],
    ["Currency", `${unit} (settlement token, ${m.token.decimals} decimals); all amounts below in ${unit}`, false],
    ["Token contract", m.token.address, true],
    ["Escrow contract", `${m.escrow} on chain ${m.chainId}`, true],
  ];
  for (const [k, v, mono] of rows) {
    w.text(k, MARGIN, w.y, { size: 8, color: COLOR.muted });
    const h = w.text(v, MARGIN + 80, w.y, { size: mono ? 8 : 8.5, font: mono ? FONT.mono : FONT.regular, width: CONTENT - 80 });
    w.y += Math.max(h, 10) + 2;
  }
  w.y += 6;
}

/** A party's lines under its name: address, country, tax id, PLMN with TADIG codes, the registry's name. */
function partyLines(p: InvoiceModel["billing"]["seller"]): string[] {
  const lines = [...p.address];
  if (p.country) lines.push(p.country);
  lines.push(p.taxId ? `Tax id ${p.taxId}` : "Tax id: not configured");
  const [mcc, mnc] = p.plmn.split("-");
  lines.push(`PLMN ${p.plmn} (MCC ${mcc}, MNC ${mnc})${p.tadig.length ? `   TADIG ${p.tadig.join(", ")}` : ""}`);
  if (p.legalName && p.legalName !== p.registryName) lines.push(`Member ${p.registryName}`);
  return lines;
}

/** Seller and buyer blocks side by side, as tall as the longer. */
function parties(w: Writer, m: InvoiceModel): void {
  const boxW = (CONTENT - 12) / 2;
  const blocks = [
    { label: "FROM: VISITED CARRIER (PAYEE, SELLER)", p: m.billing.seller },
    { label: "BILL TO: HOME CARRIER (PAYER, BUYER)", p: m.billing.buyer },
  ];
  const width = boxW - 16;
  // Long names and address lines wrap within the box; the box is as tall as the taller block.
  const layout = blocks.map(({ p }) => {
    const nameH = w.height(p.legalName ?? p.registryName, width, { font: FONT.bold, size: 11.5 });
    const lines = partyLines(p).map((line) => ({ line, h: w.height(line, width, { size: 8.5 }) + 1.5 }));
    return { nameH, lines, h: 23 + nameH + lines.reduce((sum, l) => sum + l.h, 0) };
  });
  const boxH = Math.max(...layout.map((l) => l.h)) + 4;
  w.need(boxH + 8);
  blocks.forEach(({ label, p }, i) => {
    const x = MARGIN + i * (boxW + 12);
    w.box(x, w.y, boxW, boxH, COLOR.fill);
    w.text(label, x + 8, w.y + 7, { size: 7.5, color: COLOR.muted });
    w.text(p.legalName ?? p.registryName, x + 8, w.y + 19, { font: FONT.bold, size: 11.5, width });
    let y = w.y + 21 + layout[i].nameH;
    for (const { line, h } of layout[i].lines) {
      w.text(line, x + 8, y, { size: 8.5, width });
      y += h;
    }
  });
  w.y += boxH + 8;
}

function tableHeader(w: Writer): void {
  const h = 16;
  w.box(MARGIN, w.y, CONTENT, h, COLOR.accent, COLOR.accent);
  let x = MARGIN;
  for (const col of COLUMNS) {
    w.text(col.title, x + CELL_PAD, w.y + 4.5, {
      font: FONT.bold,
      size: 8,
      color: "#ffffff",
      width: col.width - 2 * CELL_PAD,
      align: col.align,
    });
    x += col.width;
  }
  w.y += h + 2;
}

function lineItems(w: Writer, m: InvoiceModel): void {
  w.heading("Charges");
  w.need(60);
  tableHeader(w);
  for (const c of m.classes) {
    const lines = m.lines.filter((l) => l.tariffClass === c.tariffClass);
    w.need(16 + 14 * Math.min(lines.length, 3));
    w.box(MARGIN, w.y, CONTENT, 14, COLOR.fill, COLOR.fill);
    const usage = `${formatCount(c.usage.records)} billable records, ${formatCount(c.usage.activeDevices)} active devices`;
    w.text(
      `Tariff class ${c.tariffClass}${c.priced ? "" : " (no rate plan in this direction: reported, not billed)"}`,
      MARGIN + CELL_PAD,
      w.y + 3.5,
      { font: FONT.bold, size: 8.5 },
    );
    w.text(usage, MARGIN + CONTENT - 250 - CELL_PAD, w.y + 3.5, { size: 8, color: COLOR.muted, width: 250, align: "right" });
    w.y += 16;
    for (const line of lines) {
      const values = cells(line);
      const rowH = Math.max(13, w.height(values.charge, COLUMNS[0].width - 2 * CELL_PAD, { size: 8.5 }) + 4);
      w.need(rowH);
      let x = MARGIN;
      for (const col of COLUMNS) {
        w.text(values[col.key], x + CELL_PAD, w.y + 2, { size: 8.5, width: col.width - 2 * CELL_PAD, align: col.align });
        x += col.width;
      }
      w.y += rowH;
      w.rule(w.y - 0.5, MARGIN, MARGIN + CONTENT, "#dddddd", 0.4);
    }
    if (lines.length === 0) {
      w.need(13);
      w.text("no chargeable usage", MARGIN + CELL_PAD, w.y + 2, { size: 8.5, color: COLOR.muted });
      w.y += 13;
    }
    w.need(15);
    const amountX = MARGIN + COLUMNS.slice(0, 5).reduce((s, col) => s + col.width, 0);
    w.text(`Class ${c.tariffClass} total`, amountX - 150, w.y + 2.5, { font: FONT.bold, size: 8.5, width: 150 - CELL_PAD, align: "right" });
    w.text(c.total.text, amountX + CELL_PAD, w.y + 2.5, {
      font: FONT.bold,
      size: 8.5,
      width: COLUMNS[5].width - 2 * CELL_PAD,
      align: "right",
    });
    w.y += 17;
  }
  if (m.classes.length === 0) {
    w.text("No usage was billed in this period: a zero invoice.", MARGIN + CELL_PAD, w.y + 2, { size: 9, color: COLOR.muted });
    w.y += 16;
  }
}

function totals(w: Writer, m: InvoiceModel, unit: string): void {
  w.need(70);
  w.y += 4;
  // Amounts end where the table's amount column ends, so decimal points line up with the lines above.
  const amountRight = MARGIN + COLUMNS.slice(0, 6).reduce((s, col) => s + col.width, 0) - CELL_PAD;
  const labelX = amountRight - 330;
  const row = (label: string, value: string, bold = false, size = 9) => {
    w.text(label, labelX, w.y, { font: bold ? FONT.bold : FONT.regular, size, width: 220, align: "right" });
    w.text(value, amountRight - 110, w.y, { font: bold ? FONT.bold : FONT.regular, size, width: 110, align: "right" });
    w.y += size + 6;
  };
  row("Subtotal", m.subtotal.text);
  row(`SLA credit (${displayBps(m.sla.creditBps)} of the subtotal)`, m.credit.units > 0n ? `-${m.credit.text}` : m.credit.text);
  w.rule(w.y - 2, labelX + 120, amountRight, COLOR.text, 0.8);
  w.y += 2;
  row(`NET DUE (${unit})`, m.net.text, true, 11);
  const { tax, reference } = m.billing;
  if (tax.amount && tax.totalWithTax) {
    row(`Tax ${tax.percent} % of the net`, tax.amount.text);
    row(`TOTAL WITH TAX (${unit})`, tax.totalWithTax.text, true, 10);
  }
  w.y += 4;
  if (reference) referenceTotals(w, m, reference, amountRight);
  paymentTerms(w, m);
}

/** The totals in the reference currency, right-aligned under the token totals. */
function referenceTotals(w: Writer, m: InvoiceModel, ref: NonNullable<InvoiceModel["billing"]["reference"]>, right: number): void {
  const rows: [string, string | undefined][] = [
    ["Subtotal", ref.subtotal],
    ["SLA credit", ref.credit === "0.00" ? ref.credit : `-${ref.credit}`],
    ["Net", ref.net],
    ["Tax", ref.tax],
    ["Total with tax", ref.totalWithTax],
  ];
  const shown = rows.filter((r): r is [string, string] => r[1] !== undefined);
  w.need(14 + 11 * shown.length);
  w.text(`In ${ref.currency} (reference only, 1 ${m.token.symbol || "token"} = ${ref.rate} ${ref.currency})`, right - 330, w.y, {
    size: 8,
    color: COLOR.muted,
    width: 330,
    align: "right",
  });
  w.y += 12;
  for (const [label, value] of shown) {
    w.text(label, right - 330, w.y, { size: 8.5, color: COLOR.muted, width: 220, align: "right" });
    w.text(`${value} ${ref.currency}`, right - 110, w.y, { size: 8.5, color: COLOR.muted, width: 110, align: "right" });
    w.y += 11;
  }
  w.y += 4;
}

/** Payment terms, reference, tax note, dispute contact and the billing details the file lacks. */
function paymentTerms(w: Writer, m: InvoiceModel): void {
  const b = m.billing;
  const rows: [string, string][] = [
    ["Payment terms", b.dueDate ? `${b.paymentTermsDays} days net: due ${b.dueDate}` : "not configured"],
    ["Payment reference", b.paymentReference],
    ["Tax", b.tax.note],
    ["Disputes", b.disputeContact ? `contact ${b.disputeContact} within the dispute window` : "contact not configured"],
  ];
  if (b.bank) rows.push(["Payment details", b.bank]);
  if (b.missing.length > 0) rows.push(["Missing details", `${b.missing.join("; ")} (billing file: ${b.source})`]);
  w.heading("Payment", 40);
  for (const [k, v] of rows) {
    const h = w.height(v, CONTENT - 90, { size: 8.5 });
    w.need(h + 2);
    w.text(k, MARGIN, w.y, { size: 8, color: COLOR.muted });
    w.text(v, MARGIN + 90, w.y, { size: 8.5, width: CONTENT - 90, color: k === "Missing details" ? COLOR.warn : COLOR.text });
    w.y += Math.max(h, 10) + 2;
  }
  w.y += 4;
}

function status(w: Writer, m: InvoiceModel): void {
  const text = m.status.summary;
  const h = w.height(text, CONTENT - 20, { size: 8.5 }) + 27;
  w.need(h + 8);
  w.box(MARGIN, w.y, CONTENT, h, m.status.state === "settled" ? "#eaf5ea" : "#fff6e0");
  w.text(m.status.state === "settled" ? "SETTLEMENT: SETTLED" : "SETTLEMENT: OPEN", MARGIN + 10, w.y + 7, { font: FONT.bold, size: 8.5 });
  w.text(text, MARGIN + 10, w.y + 19, { size: 8.5, width: CONTENT - 20 });
  w.y += h + 4;
  const [what, tx] = m.status.closeTx ? ["closed", m.status.closeTx] : ["proposed", m.status.proposeTx];
  if (tx) {
    w.text(`Invoice ${what} in tx (see the evidence appendix for every transaction)`, MARGIN, w.y, { size: 7.5, color: COLOR.muted });
    w.y += 10;
    w.mono(tx, MARGIN, CONTENT);
  }
  if (m.verification.agreesWithEscrow === false) {
    w.text(`NOT THE ESCROW'S INVOICE: ${m.verification.differences.join("; ")}`, MARGIN, w.y, { size: 8, font: FONT.bold, width: CONTENT });
    w.y += 12;
  }
  if (m.status.settleTx) {
    w.text("Settled in tx", MARGIN, w.y, { size: 7.5, color: COLOR.muted });
    w.y += 10;
    w.mono(m.status.settleTx, MARGIN, CONTENT);
  }
}

/**
 * A small table with a header row; `widths` sum to CONTENT; text columns (`textColumns`, default the first)
 * are left-aligned, numbers right-aligned.
 */
function smallTable(w: Writer, headers: string[], rows: string[][], widths: number[], textColumns: number[] = [0]): void {
  const align = (i: number) => (textColumns.includes(i) ? "left" : "right");
  const rowH = 13;
  w.need(rowH * Math.min(rows.length + 1, 4));
  let x = MARGIN;
  w.box(MARGIN, w.y, CONTENT, rowH, COLOR.fill, COLOR.fill);
  headers.forEach((h, i) => {
    w.text(h, x + CELL_PAD, w.y + 3, { font: FONT.bold, size: 8, width: widths[i] - 2 * CELL_PAD, align: align(i) });
    x += widths[i];
  });
  w.y += rowH + 1;
  for (const row of rows) {
    const height = Math.max(rowH, ...row.map((cell, i) => w.height(cell, widths[i] - 2 * CELL_PAD, { size: 8.5 }) + 3));
    w.need(height);
    x = MARGIN;
    row.forEach((cell, i) => {
      w.text(cell, x + CELL_PAD, w.y + 2, { size: 8.5, width: widths[i] - 2 * CELL_PAD, align: align(i) });
      x += widths[i];
    });
    w.y += height;
    w.rule(w.y - 0.5, MARGIN, MARGIN + CONTENT, "#dddddd", 0.4);
  }
  w.y += 4;
}

function slaSection(w: Writer, m: InvoiceModel): void {
  const s = m.sla;
  w.heading("Service level (SLA) and credit");
  const samples = s.qosSamples > 0n;
  const result = (committed: boolean, missed: boolean) =>
    !committed ? "no commitment" : !samples ? "no samples" : missed ? "missed" : "met";
  smallTable(
    w,
    ["Measure (averages over the period's records)", "Measured", "Target", "Result", "Credit if missed"],
    [
      [
        `Latency, ms (${formatCount(s.qosSamples)} samples)`,
        samples ? formatCount(s.avgLatencyMs) : "-",
        s.maxLatencyMs ? `<= ${formatCount(s.maxLatencyMs)}` : "-",
        result(s.maxLatencyMs > 0, s.latencyMissed),
        displayBps(s.latencyCreditBps),
      ],
      [
        `Throughput, kbit/s (${formatCount(s.qosSamples)} samples)`,
        samples ? formatCount(s.avgThroughputKbps) : "-",
        s.minThroughputKbps ? `>= ${formatCount(s.minThroughputKbps)}` : "-",
        result(s.minThroughputKbps > 0, s.throughputMissed),
        displayBps(s.throughputCreditBps),
      ],
      ["Availability", "not measured", "-", "not credited on-chain", "-"],
    ],
    [211.28, 70, 70, 90, 70],
    [0, 3],
  );
  w.need(14);
  w.text(
    `Credit applied: ${displayBps(s.creditBps)} of the subtotal = ${m.credit.text} (capped at 100 %; averages rounded down).`,
    MARGIN,
    w.y,
    { size: 8.5, width: CONTENT },
  );
  w.y += 14;
}

function disputesSection(w: Writer, m: InvoiceModel, unit: string): void {
  w.heading("Disputes, rejected batches and usage not billed");
  disputedUsage(w, m, unit);
  rejectedBatchesTable(w, m);
  notBillableTable(w, m);
}

/** The usage the home carrier disputed, per class and batch, and its value at the agreement's rates. */
function disputedUsage(w: Writer, m: InvoiceModel, unit: string): void {
  const d = m.disputes;
  w.need(14 + 3 * 13); // a sub-heading stays with the first rows under it
  w.text("Disputed by the home carrier (records proven in their batch and taken off the totals above):", MARGIN, w.y, {
    font: FONT.bold,
    size: 8.5,
    width: CONTENT,
  });
  w.y += 13;
  if (d.perClass.length === 0) {
    w.text("None.", MARGIN + 10, w.y, { size: 8.5, color: COLOR.muted });
    w.y += 13;
  } else {
    smallTable(
      w,
      ["Tariff class", "Records", "Data, MB", "Signalling", "SMS", "Voice, s"],
      d.perClass.map((c) => [
        String(c.tariffClass),
        formatCount(c.records),
        bytesAsMb(c.dataBytes),
        formatCount(c.signallingEvents),
        formatCount(c.smsCount),
        formatCount(c.voiceSeconds),
      ]),
      [141.28, 70, 100, 70, 60, 70],
    );
    for (const b of d.batches) {
      const reasons = b.reasons.map((r) => `${formatCount(r.records)} ${r.text}`).join("; ");
      const line = `${b.ref}: ${formatCount(b.records)} record(s) disputed${reasons ? `: ${reasons}` : ""}`;
      w.need(12);
      w.y += w.text(line, MARGIN + 10, w.y, { size: 8.5, width: CONTENT - 10 }) + 1;
    }
    w.need(14);
    w.text(`At the agreement's rates the disputed usage comes to ${d.value.text} ${unit}, not billed on this invoice.`, MARGIN + 10, w.y, {
      size: 8.5,
      width: CONTENT - 10,
    });
    w.y += 14;
  }
}

/** The batches the home carrier rejected: they count for nothing. */
function rejectedBatchesTable(w: Writer, m: InvoiceModel): void {
  w.need(15 + 3 * 13);
  w.y += 2;
  w.text("Batches rejected by the home carrier (count for nothing):", MARGIN, w.y, { font: FONT.bold, size: 8.5 });
  w.y += 13;
  if (m.rejectedBatches.length === 0) {
    w.text("None.", MARGIN + 10, w.y, { size: 8.5, color: COLOR.muted });
    w.y += 13;
  } else {
    smallTable(
      w,
      ["Batch", "Records", "Reason"],
      m.rejectedBatches.map((b) => [b.ref, formatCount(b.recordCount), b.reason]),
      [100, 80, 331.28],
      [0, 2],
    );
  }
}

/** The records committed but not billable, per reason, from the decrypted payloads (or why not available). */
function notBillableTable(w: Writer, m: InvoiceModel): void {
  w.need(15 + 3 * 13);
  w.y += 2;
  w.text("Committed but not billable (out-of-policy use, flagged as fraud where it applies):", MARGIN, w.y, {
    font: FONT.bold,
    size: 8.5,
    width: CONTENT,
  });
  w.y += 13;
  const nb = m.notBillable;
  if (!nb.available) {
    w.y += w.text(`Not available: ${nb.why}`, MARGIN + 10, w.y, { size: 8.5, color: COLOR.muted, width: CONTENT - 10 }) + 2;
  } else if (nb.byReason.length === 0) {
    w.text(`None: every committed record was billable (${nb.batchesRead} payload(s) decrypted).`, MARGIN + 10, w.y, {
      size: 8.5,
      color: COLOR.muted,
    });
    w.y += 13;
  } else {
    smallTable(
      w,
      ["Reason", "Records", "Per tariff class"],
      nb.byReason.map((r) => [
        r.reason,
        formatCount(r.records),
        r.perClass.map((c) => `class ${c.tariffClass}: ${formatCount(c.records)}`).join(", "),
      ]),
      [171.28, 80, 260],
      [0, 2],
    );
    w.need(12);
    w.text(`From ${nb.batchesRead} decrypted payload(s), ${formatCount(nb.records)} record(s) in all.`, MARGIN + 10, w.y, {
      size: 8,
      color: COLOR.muted,
    });
    w.y += 12;
  }
}

function evidence(w: Writer, m: InvoiceModel): void {
  w.doc.addPage();
  w.y = MARGIN;
  w.heading("Evidence appendix: the on-chain records behind every line");
  const intro =
    "Each batch below was signed by the visited carrier (EIP-712) and committed to the usage ledger with the Merkle root of its records " +
    "and the hash of its encrypted payload; the batch id is the hash of that summary. The line items name their batches (B1, B2, ...). " +
    "The invoice's figures are those of the escrow's InvoiceClosed event, recomputed from the ledger's period totals with the agreement's terms.";
  w.y += w.text(intro, MARGIN, w.y, { size: 8.5, width: CONTENT }) + 8;

  const label = (text: string) => {
    w.need(11);
    w.text(text, MARGIN + 14, w.y, { size: 7.5, color: COLOR.muted });
    w.y += 9.5;
  };
  for (const b of m.batches) {
    w.need(60);
    w.text(`${b.ref}`, MARGIN, w.y, { font: FONT.bold, size: 9 });
    w.text(`${formatCount(b.recordCount)} record(s), submitted ${b.submittedAt}; ${STATE_TEXT[b.state]}`, MARGIN + 28, w.y, {
      size: 8.5,
      width: CONTENT - 28,
    });
    w.y += 12;
    label("batch id");
    w.mono(b.batchId, MARGIN + 14, CONTENT - 14);
    label("submitted in tx");
    w.mono(b.submitTx, MARGIN + 14, CONTENT - 14);
    if (b.acceptTx) {
      label("accepted in tx");
      w.mono(b.acceptTx, MARGIN + 14, CONTENT - 14);
    }
    if (b.rejectTx) {
      label("rejected in tx");
      w.mono(b.rejectTx, MARGIN + 14, CONTENT - 14);
    }
    const disputes = m.disputes.batches.find((d) => d.batchId === b.batchId);
    for (const tx of disputes?.txHashes ?? []) {
      label("records disputed in tx");
      w.mono(tx, MARGIN + 14, CONTENT - 14);
    }
    w.y += 5;
  }
  if (m.batches.length === 0) {
    w.text("No batch was committed for this period: the invoice is zero.", MARGIN, w.y, { size: 8.5, color: COLOR.muted });
    w.y += 14;
  }
  w.need(40);
  w.text("Invoice", MARGIN, w.y, { font: FONT.bold, size: 9 });
  w.y += 12;
  if (m.status.proposeTx) {
    label(`proposed (InvoiceProposed, rated off chain with agreement version ${m.agreement.version}) in tx`);
    w.mono(m.status.proposeTx, MARGIN + 14, CONTENT - 14);
  }
  if (m.status.closeTx) {
    label(`closed (InvoiceClosed, ${m.status.resolution}) in tx`);
    w.mono(m.status.closeTx, MARGIN + 14, CONTENT - 14);
  }
  if (m.status.settleTx) {
    label("settled (PeriodSettled) in tx");
    w.mono(m.status.settleTx, MARGIN + 14, CONTENT - 14);
  }
  label("escrow contract");
  w.mono(m.escrow, MARGIN + 14, CONTENT - 14);
}

function footers(w: Writer, m: InvoiceModel): void {
  const { doc } = w;
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    // Writing below the bottom margin would make pdfkit add a page: lift the margin for the footer.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const y = PAGE.height - MARGIN + 4;
    w.rule(y - 5);
    w.text(`${m.payee.name} to ${m.payer.name}, ${m.period.text}  |  Invoice ${m.invoiceNumber}`, MARGIN, y, {
      size: 7.5,
      color: COLOR.muted,
    });
    w.text(`Page ${i - range.start + 1} of ${range.count}`, MARGIN + CONTENT - 100, y, {
      size: 7.5,
      color: COLOR.muted,
      width: 100,
      align: "right",
    });
    doc.page.margins.bottom = bottom;
  }
}
