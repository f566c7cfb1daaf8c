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
  /**
   * Key store with our encryption key and our copies of the agreement's terms: an invoice's lines are
   * rated from them and the sealed payloads (the chain holds only nets and commitments).
   */
  keystore?: string;
  store?: string;
}

/**
 * What happened to one direction of the period: one JSON line on stdout. States: "none" (not proposed yet),
 * "proposed", "claimed", "revealing" (not closed: the payer's signature, a claim or a reveal is pending),
 * "closed" or "settled" (rendered to files; without a key store only the public net, and why).
 */
export type InvoiceLine = {
  type: "invoice";
  /** payee: the invoice we bill the partner; payer: the one the partner bills us. */
  as: "payee" | "payer";
  payer: string;
  payee: string;
  period: string;
} & (
  | { state: "none" | "proposed" | "claimed" | "revealing"; netUnits?: string }
  | { state: "closed" | "settled"; netUnits: string; files: []; why: string }
  | { state: "closed" | "settled"; invoiceNumber: string; net: string; netUnits: string; token: string; files: string[] }
);

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
  const keystore = req.keystore ? new Keystore(req.keystore) : undefined;
  const lines: InvoiceLine[] = [];
  for (const as of ["payee", "payer"] as const) {
    const [payer, payee] = as === "payee" ? [req.partner, req.self] : [req.self, req.partner];
    const head = { type: "invoice", as, payer: formatPlmn(payer), payee: formatPlmn(payee), period: formatPeriod(req.period) } as const;
    const onChain = await client.escrow.invoice(payer, payee, req.period);
    const state = INVOICE_STATUSES[Number(onChain.status)];
    if (state !== "closed" && state !== "settled") {
      lines.push({ ...head, state, ...(state === "none" ? {} : { netUnits: onChain.net.toString() }) });
      continue;
    }
    if (!keystore) {
      const why = "no key store was given (--keystore or ROAMLEDGER_HOME): the lines are sealed";
      lines.push({ ...head, state, netUnits: onChain.amount.toString(), files: [], why });
      continue;
    }
    const store = storeFor(keystore, req.store);
    const model = buildInvoiceModel(
      await readInvoiceData(client, { self: req.self, partner: req.partner, period: req.period, as, keystore, store }),
    );
    lines.push({
      ...head,
      state,
      invoiceNumber: model.invoiceNumber,
      net: model.net.text,
      netUnits: model.net.units.toString(),
      token: model.token.symbol,
      files: await writeInvoice(model, req.out, req.formats),
    });
  }
  return lines;
}
