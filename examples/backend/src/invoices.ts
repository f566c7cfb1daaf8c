import path from "node:path";
import {
  buildInvoiceModel,
  formatPeriod,
  formatPlmn,
  type Hex,
  INVOICE_STATUSES,
  type InvoiceModel,
  invoiceToCsv,
  invoiceToJson,
  Keystore,
  pairKeyWith,
  type ReadInvoiceOptions,
  type RoamLedgerClient,
  readInvoiceData,
  renderInvoicePdf,
  storeFor,
  writeFileAtomic,
} from "roamledger";
import type { Format } from "./options";

export interface InvoiceRequest {
  self: Hex;
  partner: Hex;
  period: number;
  out: string;
  formats: Format[];
  /** Key store with our encryption key: the invoices then count the usage committed but not billable. */
  keystore?: string;
  store?: string;
}

/** What happened to one direction of the period: one JSON line on stdout. */
export type InvoiceLine = {
  type: "invoice";
  /** payee: the invoice we bill the partner; payer: the one the partner bills us. */
  as: "payee" | "payer";
  payer: string;
  payee: string;
  period: string;
} & (
  | { state: "not-closed" }
  | { state: "open" | "settled"; invoiceNumber: string; net: string; netUnits: string; token: string; files: string[] }
);

async function payloadsFor(client: RoamLedgerClient, req: InvoiceRequest): Promise<ReadInvoiceOptions["payloads"]> {
  if (!req.keystore) return { unavailable: "no key store was given (--keystore or ROAMLEDGER_HOME)" };
  const keystore = new Keystore(req.keystore);
  return { key: await pairKeyWith(client, { keystore, self: req.self, partner: req.partner }), store: storeFor(keystore, req.store) };
}

async function writeInvoice(model: InvoiceModel, out: string, formats: Format[]): Promise<string[]> {
  const files: string[] = [];
  for (const format of formats) {
    const file = path.join(out, `${model.invoiceNumber}.${format}`);
    writeFileAtomic(
      file,
      format === "json" ? invoiceToJson(model) : format === "csv" ? invoiceToCsv(model) : await renderInvoicePdf(model),
    );
    files.push(file);
  }
  return files;
}

/**
 * Both directions of the period between us and the partner: each invoice closed on-chain is written in
 * every format (named by its invoice number, so a rerun overwrites it with the same figures).
 */
export async function renderInvoices(client: RoamLedgerClient, req: InvoiceRequest): Promise<InvoiceLine[]> {
  const payloads = await payloadsFor(client, req);
  const lines: InvoiceLine[] = [];
  for (const as of ["payee", "payer"] as const) {
    const [payer, payee] = as === "payee" ? [req.partner, req.self] : [req.self, req.partner];
    const head = { type: "invoice", as, payer: formatPlmn(payer), payee: formatPlmn(payee), period: formatPeriod(req.period) } as const;
    const status = INVOICE_STATUSES[Number((await client.escrow.invoice(payer, payee, req.period)).status)];
    if (status === "none") {
      lines.push({ ...head, state: "not-closed" });
      continue;
    }
    const model = buildInvoiceModel(await readInvoiceData(client, { payer, payee, period: req.period, perspective: as, payloads }));
    lines.push({
      ...head,
      state: model.status.state,
      invoiceNumber: model.invoiceNumber,
      net: model.net.text,
      netUnits: model.net.units.toString(),
      token: model.token.symbol,
      files: await writeInvoice(model, req.out, req.formats),
    });
  }
  return lines;
}
