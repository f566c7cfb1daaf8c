/**
 * The agreement terms file a carrier writes (JSON, amounts in token units), read and checked into the
 * contract's `Terms` struct before anything is sent, and formatted back. What the chain does with it is in
 * ./agreementOps.
 */
import { getAddress, isAddress, ZeroAddress } from "ethers";
import { InputError, InputErrors, type InputLocation } from "../core/errors";
import { formatAmount, formatPercent, parseAmount, parsePercent } from "../core/amount";
import { lineOfPath, readJsonFile, type JsonPath } from "../util/json";
import { formatPlmn, parsePlmn } from "../core/plmn";
import type { Hex } from "../util/hex";

// ---------------------------------------------------------------------------------------------------
// The contract's structs and the file's shape
// ---------------------------------------------------------------------------------------------------

/** The contract's `Tier`, `RatePlan`, `SlaTerms` and `Terms` structs, as ethers passes them. */
export interface TierStruct {
  fromMb: bigint;
  discountBps: number;
}

export interface RatePlanStruct {
  visited: Hex;
  tariffClass: number;
  perMb: bigint;
  perSignallingEvent: bigint;
  perSms: bigint;
  perVoiceMinute: bigint;
  monthlyFeePerDevice: bigint;
  tiers: TierStruct[];
}

export interface SlaStruct {
  maxLatencyMs: number;
  minThroughputKbps: number;
  minAvailabilityBps: number;
  latencyCreditBps: number;
  throughputCreditBps: number;
  availabilityCreditBps: number;
}

export interface TermsStruct {
  settlementToken: string;
  validFrom: bigint;
  validUntil: bigint;
  /** Seconds. */
  disputeWindow: number;
  permanentRoamingDays: number;
  permanentRoamingSurchargePerDay: bigint;
  sla: SlaStruct;
  ratePlans: RatePlanStruct[];
}

/** An integer as parsed (number or bigint) or as read from the chain (bigint). */
export type Int = bigint | number;

/** Terms as parsed ({@link TermsStruct}) or as read from the chain (every integer a bigint). */
export interface TermsLike {
  settlementToken: string;
  validFrom: Int;
  validUntil: Int;
  disputeWindow: Int;
  permanentRoamingDays: Int;
  permanentRoamingSurchargePerDay: Int;
  sla: { [K in keyof SlaStruct]: Int };
  ratePlans: readonly {
    visited: string;
    tariffClass: Int;
    perMb: Int;
    perSignallingEvent: Int;
    perSms: Int;
    perVoiceMinute: Int;
    monthlyFeePerDevice: Int;
    tiers: readonly { fromMb: Int; discountBps: Int }[];
  }[];
}

/** An agreement terms file, as a carrier writes it (see {@link readAgreementTerms}). */
export interface AgreementTermsJson {
  settlementToken: string;
  validFrom: string;
  validUntil: string;
  disputeWindowDays: number;
  /** null: no permanent-roaming limit. */
  permanentRoaming: { days: number; surchargePerDay: string } | null;
  sla: {
    maxLatencyMs: number;
    minThroughputKbps: number;
    minAvailabilityPercent: number;
    latencyCreditPercent: number;
    throughputCreditPercent: number;
    availabilityCreditPercent: number;
  };
  rates: {
    visited: string;
    tariffClass: number;
    perMb: string;
    perSignallingEvent: string;
    perSms: string;
    perVoiceMinute: string;
    monthlyFeePerDevice: string;
    tiers: { fromMb: number | string; discountPercent: number }[];
  }[];
}

/** Bounds the contract enforces (AgreementTermsLib), checked before anything is sent. */
export const TERMS_LIMITS = { maxRatePlans: 64, maxTiers: 8, maxDisputeWindowDays: 90 } as const;

const DAY = 86_400;
const UINT128_MAX = 2n ** 128n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const UINT32_MAX = 2 ** 32 - 1;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/;

/** What each field of a terms file is: the hint shown when it is wrong. */
const TOP_FIELDS = {
  settlementToken: "address of the ERC-20 token every amount is in and paid with",
  validFrom: 'ISO 8601 UTC time the terms start, e.g. "2026-11-01T00:00:00Z"',
  validUntil: "ISO 8601 UTC time the terms end (exclusive): after validFrom and in the future",
  disputeWindowDays: `whole days (1-${TERMS_LIMITS.maxDisputeWindowDays}) the home carrier has to dispute usage`,
  permanentRoaming: '{ "days": 90, "surchargePerDay": "0.05" }, or null (the default) for no limit',
  sla: "{ maxLatencyMs, minThroughputKbps, minAvailabilityPercent, latencyCreditPercent, throughputCreditPercent, availabilityCreditPercent }",
  rates: `list of 1-${TERMS_LIMITS.maxRatePlans} rate plans, one per (visited, tariffClass)`,
} as const;
const PERMANENT_FIELDS = {
  days: "integer 0-65535: days in the visited network before a device is a permanent roamer",
  surchargePerDay: 'token amount as a string, e.g. "0.05": surcharge per device-day beyond the limit',
} as const;
const SLA_FIELDS = {
  maxLatencyMs: "integer ms (0: no commitment)",
  minThroughputKbps: "integer kbit/s (0: no commitment)",
  minAvailabilityPercent: "percentage 0-100 with at most 2 decimals, e.g. 99.5 (0: no commitment)",
  latencyCreditPercent: "percentage 0-100 of the period's charges credited when latency is missed",
  throughputCreditPercent: "percentage 0-100 credited when throughput is missed",
  availabilityCreditPercent: "percentage 0-100 credited when availability is missed",
} as const;
const RATE_FIELDS = {
  visited: 'the carrier that serves and bills, as MCC-MNC: you or the partner, e.g. "724-05"',
  tariffClass: "integer 0-255: the device tariff class the plan prices",
  perMb: 'token amount as a string, e.g. "0.50": price of 1,000,000 bytes',
  perSignallingEvent: 'token amount as a string, e.g. "0.0001"',
  perSms: 'token amount as a string, e.g. "0.01"',
  perVoiceMinute: 'token amount as a string, e.g. "0.02"',
  monthlyFeePerDevice: 'token amount as a string, e.g. "0.05": fee per device active in a month',
  tiers: `list of up to ${TERMS_LIMITS.maxTiers} volume discounts { "fromMb": 10000, "discountPercent": 10 } (default none)`,
} as const;
const TIER_FIELDS = {
  fromMb: "integer MB of the tariff class's total data volume in the period (all devices together) from which the discount applies",
  discountPercent: "percentage 0-100 off perMb above fromMb",
} as const;

type Fields = Readonly<Record<string, string>>;
type Raw = Record<string, unknown>;

function asNumber(value: bigint | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

// ---------------------------------------------------------------------------------------------------
// Reading a terms file
// ---------------------------------------------------------------------------------------------------

/** `["rates", 1, "perMb"]` as `rates[1].perMb`. */
function fieldName(path: JsonPath): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** Reads fields of one terms file, locating each problem at its line; collects the problems. */
class TermsReader {
  readonly errors: InputError[] = [];

  constructor(
    readonly file: string,
    private readonly text: string,
  ) {}

  at(path: JsonPath): InputLocation {
    return { file: this.file, line: lineOfPath(this.text, path), field: fieldName(path) || undefined };
  }

  fail(path: JsonPath, message: string, hint?: string): never {
    throw new InputError(message, { location: this.at(path), hint });
  }

  /** Runs `read`, collecting the InputError it throws; undefined when it did. */
  attempt<T>(read: () => T): T | undefined {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      this.errors.push(err);
      return undefined;
    }
  }

  /**
   * Throws what was collected, in the order of the file: the error itself when there is one (with its
   * hint), else all of them.
   */
  throwIfAny(): void {
    const errors = [...this.errors].sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new InputErrors(errors, { hint: "fix the fields named above and run the same command again." });
  }

  /** The object at `path`, after collecting an error for each unknown key in it. */
  object(value: unknown, path: JsonPath, fields: Fields, example: string): Raw {
    if (!value || typeof value !== "object" || Array.isArray(value)) {
      this.fail(path, `${fieldName(path) || "the file"} must be a JSON object`, `e.g. ${example}.`);
    }
    for (const key of Object.keys(value)) {
      if (!(key in fields)) {
        this.attempt(() => this.fail([...path, key], `unknown field "${key}"`, `the fields here are: ${Object.keys(fields).join(", ")}.`));
      }
    }
    return value as Raw;
  }

  /** The value of `obj[key]`, which must be present. */
  required(obj: Raw, path: JsonPath, fields: Fields): unknown {
    const key = path[path.length - 1] as string;
    if (obj[key] === undefined) this.fail(path, `missing field "${key}"`, `${key}: ${fields[key]}.`);
    return obj[key];
  }

  integer(obj: Raw, path: JsonPath, fields: Fields, min: bigint, max: bigint): bigint | undefined {
    return this.attempt(() => {
      const v = this.required(obj, path, fields);
      const ok = (typeof v === "number" && Number.isSafeInteger(v)) || (typeof v === "string" && /^\d+$/.test(v));
      const n = ok ? BigInt(v as number | string) : undefined;
      if (n === undefined || n < min || n > max) {
        const key = path[path.length - 1] as string;
        this.fail(path, `${key} must be an integer from ${min} to ${max}, found ${JSON.stringify(v)}`, `${key}: ${fields[key]}.`);
      }
      return n;
    });
  }

  amount(obj: Raw, path: JsonPath, fields: Fields, decimals: number): bigint | undefined {
    return this.attempt(() => {
      const v = this.required(obj, path, fields);
      if (typeof v !== "string") {
        const example = typeof v === "number" ? `"${v}"` : '"0.05"';
        this.fail(
          path,
          `amounts are written as strings, found ${JSON.stringify(v)}`,
          `write it in quotes, e.g. ${example}: JSON numbers can lose digits.`,
        );
      }
      return parseAmount(v, decimals, { location: this.at(path), max: UINT128_MAX });
    });
  }

  percent(obj: Raw, path: JsonPath, fields: Fields): number | undefined {
    return this.attempt(() => parsePercent(this.required(obj, path, fields), this.at(path)));
  }

  time(obj: Raw, path: JsonPath, fields: Fields): bigint | undefined {
    return this.attempt(() => {
      const v = this.required(obj, path, fields);
      const iso = typeof v === "string" && TIME_RE.test(v) ? (v.length === 17 ? `${v.slice(0, 16)}:00Z` : v) : "";
      const ms = iso ? Date.parse(iso) : NaN;
      // Date.parse accepts 2026-02-30 as March 2: only a time that formats back to itself is real.
      if (Number.isNaN(ms) || ms < 0 || new Date(ms).toISOString() !== iso.replace("Z", ".000Z")) {
        const key = path[path.length - 1] as string;
        this.fail(path, `${key} must be an ISO 8601 UTC time, found ${JSON.stringify(v)}`, 'write it like "2026-11-01T00:00:00Z".');
      }
      return BigInt(ms / 1000);
    });
  }

  address(obj: Raw, path: JsonPath, fields: Fields): string | undefined {
    return this.attempt(() => {
      const v = this.required(obj, path, fields);
      if (typeof v !== "string" || !isAddress(v) || getAddress(v) === ZeroAddress) {
        this.fail(path, `${JSON.stringify(v)} is not a token address`, "write the token's address as 0x followed by 40 hex digits.");
      }
      return getAddress(v);
    });
  }
}

/** The file's top-level object and the reader that locates its problems. */
function openTermsFile(file: string): { reader: TermsReader; top: Raw } {
  const { value, text } = readJsonFile(file, "agreement terms");
  const reader = new TermsReader(file, text);
  const top = reader.object(value, [], TOP_FIELDS, '{ "settlementToken": "0x...", "validFrom": ..., "rates": [...] }');
  return { reader, top };
}

/**
 * The settlement token a terms file names, checked, and where it is in the file; read first, since the
 * amounts in the file can only be converted with that token's decimals.
 */
export function readSettlementToken(file: string): { token: string; location: InputLocation } {
  const { reader, top } = openTermsFile(file);
  reader.errors.length = 0; // unknown fields are reported by readAgreementTerms
  const path = ["settlementToken"];
  const token = reader.address(top, path, TOP_FIELDS);
  reader.throwIfAny();
  return { token: token!, location: reader.at(path) };
}

export interface ReadTermsOptions {
  /** The proposer's own carrier. */
  self: Hex;
  /** The carrier the terms are proposed to. */
  partner: Hex;
  /** The settlement token's decimals, which the amounts are converted with. */
  decimals: number;
  /** Chain time in seconds; when given, validUntil must be after it (as the contract requires). */
  now?: bigint;
}

/**
 * Reads and validates an agreement terms file (JSON shaped as {@link AgreementTermsJson}; what each field
 * means is in the hints above) into the contract's `Terms` struct. Money amounts are decimal strings in token units,
 * converted exactly with `decimals`; percentages become basis points exactly. Every check the contract
 * makes (but the token being a contract) is made here first. All problems are thrown together, each as an
 * InputError naming the file, the line and the field; a single problem is thrown as itself.
 */
export function readAgreementTerms(file: string, options: ReadTermsOptions): TermsStruct {
  const { reader, top } = openTermsFile(file);
  const r = reader;
  const settlementToken = r.address(top, ["settlementToken"], TOP_FIELDS);
  const validFrom = r.time(top, ["validFrom"], TOP_FIELDS);
  const validUntil = r.time(top, ["validUntil"], TOP_FIELDS);
  const disputeDays = r.integer(top, ["disputeWindowDays"], TOP_FIELDS, 1n, BigInt(TERMS_LIMITS.maxDisputeWindowDays));
  const terms = {
    settlementToken,
    validFrom,
    validUntil,
    disputeWindow: disputeDays === undefined ? undefined : Number(disputeDays) * DAY,
    ...readPermanentRoaming(r, top.permanentRoaming, options.decimals),
    sla: r.attempt(() => readSla(r, r.required(top, ["sla"], TOP_FIELDS))),
    ratePlans: r.attempt(() => readRatePlans(r, r.required(top, ["rates"], TOP_FIELDS), options)),
  };
  if (validFrom !== undefined && validUntil !== undefined) {
    r.attempt(() => {
      if (validUntil <= validFrom) r.fail(["validUntil"], "validUntil must be after validFrom");
      if (options.now !== undefined && validUntil <= options.now) {
        r.fail(["validUntil"], `validUntil is not in the future (chain time is ${isoTime(options.now)})`, "terms must end after now.");
      }
    });
  }
  r.throwIfAny();
  // Every field is defined once no problem was collected.
  return terms as TermsStruct;
}

function readPermanentRoaming(
  r: TermsReader,
  value: unknown,
  decimals: number,
): { permanentRoamingDays?: number; permanentRoamingSurchargePerDay?: bigint } {
  if (value === undefined || value === null) return { permanentRoamingDays: 0, permanentRoamingSurchargePerDay: 0n };
  const path = ["permanentRoaming"];
  const obj = r.attempt(() => r.object(value, path, PERMANENT_FIELDS, '{ "days": 90, "surchargePerDay": "0.05" }'));
  if (!obj) return {};
  const days = r.integer(obj, [...path, "days"], PERMANENT_FIELDS, 0n, 65_535n);
  const surcharge = r.amount(obj, [...path, "surchargePerDay"], PERMANENT_FIELDS, decimals);
  if (days === 0n && surcharge !== undefined && surcharge > 0n) {
    r.attempt(() =>
      r.fail(
        [...path, "surchargePerDay"],
        "a surcharge needs a limit: days is 0",
        'set days, or the surcharge to "0", or permanentRoaming to null.',
      ),
    );
  }
  return { permanentRoamingDays: asNumber(days), permanentRoamingSurchargePerDay: surcharge };
}

function readSla(r: TermsReader, value: unknown): SlaStruct {
  const obj = r.object(value, ["sla"], SLA_FIELDS, '{ "maxLatencyMs": 500, "minAvailabilityPercent": 99.5, ... }');
  const int = (key: string) => asNumber(r.integer(obj, ["sla", key], SLA_FIELDS, 0n, BigInt(UINT32_MAX)));
  const pct = (key: string) => r.percent(obj, ["sla", key], SLA_FIELDS);
  return {
    maxLatencyMs: int("maxLatencyMs"),
    minThroughputKbps: int("minThroughputKbps"),
    minAvailabilityBps: pct("minAvailabilityPercent"),
    latencyCreditBps: pct("latencyCreditPercent"),
    throughputCreditBps: pct("throughputCreditPercent"),
    availabilityCreditBps: pct("availabilityCreditPercent"),
  } as SlaStruct;
}

function readRatePlans(r: TermsReader, value: unknown, options: ReadTermsOptions): RatePlanStruct[] {
  const { maxRatePlans } = TERMS_LIMITS;
  if (!Array.isArray(value) || value.length === 0 || value.length > maxRatePlans) {
    const found = Array.isArray(value) ? `${value.length} plans` : JSON.stringify(value);
    r.fail(["rates"], `rates must be a list of 1 to ${maxRatePlans} rate plans, found ${found}`, `rates: ${TOP_FIELDS.rates}.`);
  }
  const seen = new Map<string, number>();
  return value.map((raw: unknown, i) => {
    const plan = r.attempt(() => readRatePlan(r, raw, i, options));
    if (plan) {
      const key = `${plan.visited}/${plan.tariffClass}`;
      const first = seen.get(key);
      if (first !== undefined) {
        r.attempt(() =>
          r.fail(
            ["rates", i],
            `a second plan for ${formatPlmn(plan.visited)} visited, tariff class ${plan.tariffClass}`,
            `rates[${first}] prices it already; merge the two.`,
          ),
        );
      }
      seen.set(key, i);
    }
    return plan as RatePlanStruct;
  });
}

/** A plan of the rates list; undefined when it has a problem (collected in `r`). */
function readRatePlan(r: TermsReader, raw: unknown, i: number, options: ReadTermsOptions): RatePlanStruct | undefined {
  const path = ["rates", i];
  const obj = r.object(raw, path, RATE_FIELDS, '{ "visited": "724-05", "tariffClass": 1, "perMb": "0.50", ... }');
  const amount = (key: string) => r.amount(obj, [...path, key], RATE_FIELDS, options.decimals);
  const tariffClass = r.integer(obj, [...path, "tariffClass"], RATE_FIELDS, 0n, 255n);
  const plan = {
    visited: r.attempt(() => readVisited(r, r.required(obj, [...path, "visited"], RATE_FIELDS), [...path, "visited"], options)),
    tariffClass: asNumber(tariffClass),
    perMb: amount("perMb"),
    perSignallingEvent: amount("perSignallingEvent"),
    perSms: amount("perSms"),
    perVoiceMinute: amount("perVoiceMinute"),
    monthlyFeePerDevice: amount("monthlyFeePerDevice"),
    tiers: r.attempt(() => readTiers(r, obj.tiers ?? [], [...path, "tiers"])),
  };
  return Object.values(plan).some((v) => v === undefined) ? undefined : (plan as RatePlanStruct);
}

function readVisited(r: TermsReader, value: unknown, path: JsonPath, options: ReadTermsOptions): Hex {
  if (typeof value !== "string")
    r.fail(path, `visited must be a PLMN id in quotes, found ${JSON.stringify(value)}`, `visited: ${RATE_FIELDS.visited}.`);
  const plmn = parsePlmn(value, r.at(path));
  if (plmn !== options.self && plmn !== options.partner) {
    r.fail(
      path,
      `${formatPlmn(plmn)} is not a party to this agreement`,
      `visited is ${formatPlmn(options.self)} (you) or ${formatPlmn(options.partner)} (the partner).`,
    );
  }
  return plmn;
}

function readTiers(r: TermsReader, value: unknown, path: JsonPath): TierStruct[] {
  const { maxTiers } = TERMS_LIMITS;
  if (!Array.isArray(value) || value.length > maxTiers) {
    const found = Array.isArray(value) ? `${value.length} tiers` : JSON.stringify(value);
    r.fail(path, `tiers must be a list of at most ${maxTiers} tiers, found ${found}`, `tiers: ${RATE_FIELDS.tiers}.`);
  }
  const tiers = value.map((raw: unknown, j) => {
    const obj = r.object(raw, [...path, j], TIER_FIELDS, '{ "fromMb": 10000, "discountPercent": 10 }');
    const fromMb = r.integer(obj, [...path, j, "fromMb"], TIER_FIELDS, 0n, UINT64_MAX);
    const discountBps = r.percent(obj, [...path, j, "discountPercent"], TIER_FIELDS);
    return { fromMb, discountBps } as TierStruct;
  });
  if (tiers.some((t) => t.fromMb === undefined || t.discountBps === undefined)) return tiers;
  tiers.forEach((tier, j) => {
    const prev = tiers[j - 1];
    if (prev && (tier.fromMb <= prev.fromMb || tier.discountBps < prev.discountBps)) {
      r.attempt(() =>
        r.fail(
          [...path, j],
          "tiers must ascend strictly by fromMb, with discounts that never decrease",
          `tier ${j - 1} starts at ${prev.fromMb} MB with ${formatPercent(prev.discountBps)} %.`,
        ),
      );
    }
  });
  return tiers;
}

// ---------------------------------------------------------------------------------------------------
// Formatting terms back
// ---------------------------------------------------------------------------------------------------

/** Seconds since the epoch as ISO 8601 UTC without milliseconds: "2026-11-01T00:00:00Z". */
export function isoTime(seconds: Int): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}

/** A uint64 as a JSON number when that is exact, else as a string (which the file format accepts too). */
function jsonInteger(value: Int): number | string {
  const n = BigInt(value);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

/**
 * Terms (parsed, or read from the chain) in the human shape of a terms file, amounts in token units for a
 * token with `decimals` decimals: `readAgreementTerms` of its JSON gives the same terms back.
 */
export function formatTerms(terms: TermsLike, decimals: number): AgreementTermsJson {
  const amount = (units: Int) => formatAmount(BigInt(units), decimals);
  const days = Number(terms.permanentRoamingDays);
  const surcharge = BigInt(terms.permanentRoamingSurchargePerDay);
  return {
    settlementToken: terms.settlementToken,
    validFrom: isoTime(terms.validFrom),
    validUntil: isoTime(terms.validUntil),
    disputeWindowDays: Number(terms.disputeWindow) / DAY,
    permanentRoaming: days === 0 && surcharge === 0n ? null : { days, surchargePerDay: amount(surcharge) },
    sla: {
      maxLatencyMs: Number(terms.sla.maxLatencyMs),
      minThroughputKbps: Number(terms.sla.minThroughputKbps),
      minAvailabilityPercent: formatPercent(terms.sla.minAvailabilityBps),
      latencyCreditPercent: formatPercent(terms.sla.latencyCreditBps),
      throughputCreditPercent: formatPercent(terms.sla.throughputCreditBps),
      availabilityCreditPercent: formatPercent(terms.sla.availabilityCreditBps),
    },
    rates: terms.ratePlans.map((p) => ({
      visited: formatPlmn(p.visited),
      tariffClass: Number(p.tariffClass),
      perMb: amount(p.perMb),
      perSignallingEvent: amount(p.perSignallingEvent),
      perSms: amount(p.perSms),
      perVoiceMinute: amount(p.perVoiceMinute),
      monthlyFeePerDevice: amount(p.monthlyFeePerDevice),
      tiers: p.tiers.map((t) => ({ fromMb: jsonInteger(t.fromMb), discountPercent: formatPercent(t.discountBps) })),
    })),
  };
}
