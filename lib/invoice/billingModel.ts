/**
 * The invoice's billing section: seller and buyer blocks (legal entity, address, tax id, TADIG codes
 * beside the PLMN), due date, payment reference, tax line and dispute contact, from the member's own
 * billing details (./billing); and the optional reference-currency amounts of `--rate EUR=1.00`. Every
 * figure is exact: bigint arithmetic in base units, rounded half up once, never a float.
 */
import { formatAmount } from "../core/amount";
import { InputError } from "../core/errors";
import { formatPlmn } from "../core/plmn";
import type { Hex } from "../util/hex";
import type { BillingConfig, BillingEntity } from "./billing";
import type { BillingParty, BillingSection, InvoiceModel, Money } from "./types";

/** A reference currency and its rate per whole token, scaled by 10^RATE_DECIMALS. */
export interface ReferenceRate {
  currency: string;
  /** As given ("1.00"). */
  text: string;
  scaled: bigint;
}

const RATE_DECIMALS = 8;
/** Reference amounts are printed in the currency's minor units (2 decimals). */
const REF_DECIMALS = 2;

/** `--rate EUR=1.0825`: a 3-letter currency code and a positive decimal rate per token (at most 8 decimals). */
export function parseReferenceRate(text: string): ReferenceRate {
  const location = { param: "rate" };
  const m = /^\s*([A-Z]{3})\s*=\s*(\d+)(?:\.(\d+))?\s*$/.exec(text);
  if (!m) {
    throw new InputError(`"${text}" is not <currency>=<rate per token>`, {
      location,
      hint: "write the currency's 3-letter code and what one token is worth in it, e.g. --rate EUR=1.00 (no separators or exponent).",
    });
  }
  const [, currency, whole, fraction = ""] = m;
  if (fraction.length > RATE_DECIMALS) {
    throw new InputError(`the rate has ${fraction.length} decimal places, more than ${RATE_DECIMALS}`, {
      location,
      hint: `round it to ${RATE_DECIMALS} decimal places yourself: nothing is rounded silently.`,
    });
  }
  const scaled = BigInt(whole + fraction.padEnd(RATE_DECIMALS, "0"));
  if (scaled === 0n) throw new InputError("the rate is zero", { location, hint: "give what one token is worth, more than 0." });
  return { currency, text: `${whole}${fraction ? `.${fraction}` : ""}`, scaled };
}

/** `n / d` rounded half up (n, d >= 0). */
const divRound = (n: bigint, d: bigint): bigint => (n * 2n + d) / (2n * d);

/** `units` base units of a token with `decimals` decimals in the reference currency, rounded to cents. */
export function referenceAmount(units: bigint, decimals: number, rate: ReferenceRate): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const cents = divRound(abs * rate.scaled * 10n ** BigInt(REF_DECIMALS), 10n ** BigInt(decimals + RATE_DECIMALS));
  return `${negative && cents > 0n ? "-" : ""}${formatAmount(cents, REF_DECIMALS, { group: true, digits: REF_DECIMALS })}`;
}

/** The tax on `net` at `percent` ("19", "7.7"), rounded half up to the document's `digits` of the token. */
export function taxAt(net: bigint, percent: string, decimals: number, digits: number): bigint {
  const [whole, fraction = ""] = percent.split(".");
  const bp4 = BigInt(whole + fraction.padEnd(4, "0")); // percent * 10^4
  const step = 10n ** BigInt(Math.max(0, decimals - digits));
  return divRound(net * bp4, 100n * 10_000n * step) * step;
}

/** The payment reference of `pattern` (default `{number}`), deterministic from the invoice number. */
export function paymentReference(pattern: string | undefined, model: Pick<InvoiceModel, "invoiceNumber" | "period">): string {
  const check = model.invoiceNumber.slice(-6);
  const values: Record<string, string> = { number: model.invoiceNumber, check, period: String(model.period.id) };
  return (pattern ?? "{number}").replace(/\{(number|check|period)\}/g, (_m, k: string) => values[k]);
}

/** The issue date plus `days`, as YYYY-MM-DD (UTC). */
export function dueDate(issueIso: string, days: number): string {
  return new Date(Date.parse(issueIso.slice(0, 10)) + days * 86_400_000).toISOString().slice(0, 10);
}

/** A party's block: the registry's name and PLMN, and what the billing details add. */
function party(p: { plmn: Hex; name: string; plmnText: string }, e: BillingEntity): BillingParty {
  return {
    plmn: p.plmnText,
    registryName: p.name,
    legalName: e.legalName,
    address: e.address ?? [],
    country: e.country,
    taxId: e.taxId,
    tadig: e.tadig ?? [],
  };
}

/** The details a finance team needs that `e` lacks, named with where they go in billing.json. */
function missingOf(e: BillingEntity, where: string, role: "seller" | "buyer"): string[] {
  const need: [keyof BillingEntity, string][] = [
    ["legalName", "legal name"],
    ["address", "address"],
    ["country", "country"],
    ["taxId", "tax id"],
    ["tadig", "TADIG code"],
  ];
  if (role === "seller") need.push(["paymentTermsDays", "payment terms"], ["tax", "tax treatment"], ["disputeContact", "dispute contact"]);
  return need.filter(([k]) => e[k] === undefined).map(([k, what]) => `${role} ${what} (${where}.${k})`);
}

/** The tax line: a reverse-charge note with both VAT ids, a rate and its amount, or none. */
function taxLine(model: Omit<InvoiceModel, "billing">, seller: BillingEntity, buyer: BillingEntity): BillingSection["tax"] {
  const tax = seller.tax;
  if (!tax) return { treatment: "unknown", note: "Tax treatment not configured: see the missing details." };
  if (tax.kind === "none") return { treatment: "none", note: "No tax charged." };
  if (tax.kind === "reverse-charge") {
    const ids = `seller VAT id ${seller.taxId ?? "(missing)"}, buyer VAT id ${buyer.taxId ?? "(missing)"}`;
    return {
      treatment: "reverse-charge",
      note: `Reverse charge: the buyer accounts for the VAT (cross-border B2B service); ${ids}.`,
    };
  }
  const units = taxAt(model.net.units, tax.percent, model.token.decimals, model.amountDigits);
  const money = (u: bigint): Money => ({
    units: u,
    text: formatAmount(u, model.token.decimals, { group: true, digits: model.amountDigits }),
  });
  return {
    treatment: "rate",
    percent: tax.percent,
    amount: money(units),
    totalWithTax: money(model.net.units + units),
    note: `Tax ${tax.percent} % of the net, invoiced on top of it (the escrow settles the net only).`,
  };
}

/** The reference-currency amounts of the model's totals (and, via `lineReference`, of its lines). */
function referenceOf(model: Omit<InvoiceModel, "billing">, rate: ReferenceRate, tax: BillingSection["tax"]): BillingSection["reference"] {
  const ref = (units: bigint) => referenceAmount(units, model.token.decimals, rate);
  return {
    currency: rate.currency,
    rate: rate.text,
    note: `Reference only: 1 ${model.token.symbol || "token"} = ${rate.text} ${rate.currency}; amounts due are in the settlement token.`,
    subtotal: ref(model.subtotal.units),
    credit: ref(model.credit.units),
    net: ref(model.net.units),
    tax: tax.amount ? ref(tax.amount.units) : undefined,
    totalWithTax: tax.totalWithTax ? ref(tax.totalWithTax.units) : undefined,
  };
}

/**
 * `model` with its billing section (and each line's reference amount when `rate` is given). Seller is the
 * payee, buyer the payer; our own details are `config.self`, the partner's `config.partners`. The seller's
 * entry gives the payment terms, reference pattern, tax treatment and dispute contact.
 */
export function withBilling(model: Omit<InvoiceModel, "billing">, config: BillingConfig, rate?: ReferenceRate): InvoiceModel {
  const ours = model.perspective;
  const partnerPlmn = ours === "payee" ? model.payer.plmn : model.payee.plmn;
  const partnerEntry = config.partners.get(partnerPlmn) ?? {};
  const partnerWhere = `partners["${formatPlmn(partnerPlmn)}"]`;
  const [seller, sellerWhere] = ours === "payee" ? [config.self, "self"] : [partnerEntry, partnerWhere];
  const [buyer, buyerWhere] = ours === "payer" ? [config.self, "self"] : [partnerEntry, partnerWhere];
  const tax = taxLine(model, seller, buyer);
  const billing: BillingSection = {
    source: config.file ?? "none: no billing.json in the key store folder, --billing or ROAMLEDGER_BILLING",
    seller: party(model.payee, seller),
    buyer: party(model.payer, buyer),
    paymentTermsDays: seller.paymentTermsDays,
    dueDate: seller.paymentTermsDays === undefined ? undefined : dueDate(model.issueDate, seller.paymentTermsDays),
    paymentReference: paymentReference(seller.paymentReference, model),
    tax,
    disputeContact: seller.disputeContact,
    bank: seller.bank,
    missing: [...missingOf(seller, sellerWhere, "seller"), ...missingOf(buyer, buyerWhere, "buyer")],
    reference: rate ? referenceOf(model, rate, tax) : undefined,
  };
  const lines = rate
    ? model.lines.map((l) => ({ ...l, referenceAmount: referenceAmount(l.amount.units, model.token.decimals, rate) }))
    : model.lines;
  return { ...model, lines, billing };
}
