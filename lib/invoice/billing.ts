/**
 * A member's billing details, kept off-chain in its own configuration (`billing.json` in its key store
 * folder, or a file named by `--billing` / `ROAMLEDGER_BILLING`): its legal entity, address, tax id, TADIG
 * codes, dispute contact, payment terms, payment reference pattern and tax treatment, and what it knows of
 * its partners (keyed by PLMN). The invoice prints them; nothing of it goes on chain. See docs/invoices.md.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError, InputError } from "../core/errors";
import { formatPlmn, parsePlmn } from "../core/plmn";
import { TADIG_RE } from "../consortium/tadig";
import type { Hex } from "../util/hex";

/** How the seller taxes the invoice: a reverse-charge note (cross-border B2B), a rate in percent, or none. */
export type TaxTreatment = { kind: "reverse-charge" } | { kind: "rate"; percent: string } | { kind: "none" };

/** One legal entity's details. Every field is optional in the file; the invoice says which are missing. */
export interface BillingEntity {
  legalName?: string;
  address?: string[];
  /** ISO 3166-1 alpha-2. */
  country?: string;
  taxId?: string;
  /** TADIG codes (GSMA: 3-letter ISO country code + 2 characters, e.g. DEUD1). */
  tadig?: string[];
  disputeContact?: string;
  /** Payment terms of the invoices this entity issues: due = issue date + days. */
  paymentTermsDays?: number;
  /** Payment reference of the invoices it issues: `{number}` (invoice number), `{check}` (its 6 hex digits), `{period}`. */
  paymentReference?: string;
  /** Bank or payment details printed on the invoices it issues (outside the escrow, e.g. for tax). */
  bank?: string;
  tax?: TaxTreatment;
}

export interface BillingConfig {
  /** Where it was read from; undefined: no file (the invoice prints today's output and lists what is missing). */
  file?: string;
  self: BillingEntity;
  /** Partners by PLMN id (TBCD hex, lower case). */
  partners: Map<Hex, BillingEntity>;
}

/** The file name looked for in the key store folder. */
export const BILLING_FILE = "billing.json";

const ENTITY_FIELDS = [
  "legalName",
  "address",
  "country",
  "taxId",
  "tadig",
  "disputeContact",
  "paymentTermsDays",
  "paymentReference",
  "bank",
  "tax",
] as const;
const PERCENT_RE = /^(\d{1,2}|100)(\.\d{1,4})?$/;
const PLACEHOLDERS = new Set(["number", "check", "period"]);
const FIX = 'fix the field (docs/invoices.md, "Billing details", lists each one) and run the same command again.';

/** Checks fields of a parsed file, collecting a problem per bad field with its JSON path. */
class EntityReader {
  constructor(
    private readonly file: string,
    private readonly at: string,
    private readonly raw: Record<string, unknown>,
  ) {}

  fail(field: string, problem: string, hint = FIX): never {
    throw new InputError(problem, { location: { file: this.file, field: `${this.at}.${field}` }, hint });
  }

  text(field: string, max = 200): string | undefined {
    const v = this.raw[field];
    if (v === undefined) return undefined;
    if (typeof v !== "string" || v.trim() === "" || v.length > max)
      this.fail(field, `must be a non-empty text of at most ${max} characters`);
    return v.trim();
  }

  texts(field: string, check?: (s: string) => string | undefined): string[] | undefined {
    const v = this.raw[field];
    if (v === undefined) return undefined;
    const list = typeof v === "string" ? [v] : v;
    if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== "string" || s.trim() === "")) {
      this.fail(field, "must be a non-empty list of texts");
    }
    for (const s of list as string[]) {
      const problem = check?.(s);
      if (problem) this.fail(field, problem);
    }
    return (list as string[]).map((s) => s.trim());
  }

  entity(): BillingEntity {
    const unknown = Object.keys(this.raw).filter((k) => !(ENTITY_FIELDS as readonly string[]).includes(k));
    if (unknown.length > 0) this.fail(unknown[0], `unknown field (known: ${ENTITY_FIELDS.join(", ")})`);
    const country = this.text("country");
    if (country !== undefined && !/^[A-Z]{2}$/.test(country)) this.fail("country", `"${country}" is not an ISO 3166 alpha-2 code like DE`);
    const tadig = this.texts("tadig", (s) => (TADIG_RE.test(s) ? undefined : `"${s}" is not a TADIG code (5 characters, e.g. DEUD1)`));
    const paymentReference = this.text("paymentReference", 80);
    for (const m of paymentReference?.matchAll(/\{([^}]*)\}/g) ?? []) {
      if (!PLACEHOLDERS.has(m[1])) this.fail("paymentReference", `unknown placeholder {${m[1]}} (known: {number}, {check}, {period})`);
    }
    return {
      legalName: this.text("legalName"),
      address: this.texts("address"),
      country,
      taxId: this.text("taxId", 40),
      tadig,
      disputeContact: this.text("disputeContact"),
      paymentTermsDays: this.days(),
      paymentReference,
      bank: this.text("bank", 300),
      tax: this.tax(),
    };
  }

  private days(): number | undefined {
    const v = this.raw.paymentTermsDays;
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 365)
      this.fail("paymentTermsDays", "must be a whole number of days, 0 to 365");
    return v;
  }

  private tax(): TaxTreatment | undefined {
    const v = this.raw.tax;
    if (v === undefined) return undefined;
    if (v === "reverse-charge" || v === "none") return { kind: v };
    const text = typeof v === "number" ? String(v) : typeof v === "string" ? v.trim().replace(/\s*%$/, "") : "";
    if (!PERCENT_RE.test(text)) {
      this.fail(
        "tax",
        `${JSON.stringify(v)} is not a tax treatment`,
        'write "reverse-charge", "none" or a rate in percent like "19" or "7.7".',
      );
    }
    return { kind: "rate", percent: text };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The billing config of the text of `file`: validated, every problem named with its file and JSON path. */
export function parseBilling(text: string, file: string): BillingConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`not valid JSON: ${(err as Error).message}`, { location: { file }, hint: FIX });
  }
  if (!isObject(raw)) throw new InputError("must be a JSON object with `self` and `partners`", { location: { file }, hint: FIX });
  const extra = Object.keys(raw).filter((k) => k !== "self" && k !== "partners" && k !== "$comment");
  if (extra.length > 0) throw new InputError(`unknown field (known: self, partners)`, { location: { file, field: extra[0] }, hint: FIX });
  if (!isObject(raw.self))
    throw new InputError("must be an object: your carrier's details", { location: { file, field: "self" }, hint: FIX });
  const partners = new Map<Hex, BillingEntity>();
  const rawPartners = raw.partners ?? {};
  if (!isObject(rawPartners)) {
    throw new InputError('must be an object keyed by PLMN ("724-05": { ... })', { location: { file, field: "partners" }, hint: FIX });
  }
  for (const [key, value] of Object.entries(rawPartners)) {
    const at = `partners["${key}"]`;
    const plmn = parsePlmn(key, { file, field: at });
    if (partners.has(plmn)) throw new InputError(`${formatPlmn(plmn)} is given twice`, { location: { file, field: at }, hint: FIX });
    if (!isObject(value)) throw new InputError("must be an object", { location: { file, field: at }, hint: FIX });
    partners.set(plmn, new EntityReader(file, at, value).entity());
  }
  return { file, self: new EntityReader(file, "self", raw.self).entity(), partners };
}

/**
 * The billing config of a member: `explicit` (a `--billing` path), else `ROAMLEDGER_BILLING`, else
 * `billing.json` in the key store folder `keystoreRoot`. A file named explicitly must exist; the default
 * one may be missing (an empty config: the invoice lists the details it lacks).
 */
export function loadBilling(options: { explicit?: string; keystoreRoot: string }): BillingConfig {
  const named = options.explicit?.trim() || process.env.ROAMLEDGER_BILLING?.trim();
  const file = path.resolve(named || path.join(options.keystoreRoot, BILLING_FILE));
  if (!fs.existsSync(file)) {
    if (named) {
      throw new ConfigError(`billing details file ${file} does not exist`, {
        hint: `create it (docs/invoices.md has an example) or leave out ${options.explicit ? "--billing" : "ROAMLEDGER_BILLING"} to use ${BILLING_FILE} in the key store folder.`,
      });
    }
    return { self: {}, partners: new Map() };
  }
  return parseBilling(fs.readFileSync(file, "utf8"), file);
}
