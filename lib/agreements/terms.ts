/**
 * The agreement terms file a carrier writes (JSON, amounts in token units), read and checked into the
 * contract's `Terms` struct before anything is sent, and formatted back. What the chain does with it is in
 * ./chain.
 */
import { getAddress, isAddress, ZeroAddress } from "ethers";
import { z } from "zod";
import { InputError, InputErrors, type InputLocation } from "../core/errors";
import { formatAmount, formatPercent, parseAmount, parsePercent } from "../core/amount";
import { lineOfPath, type JsonPath } from "../util/json";
import {
  addProblem,
  checkJson,
  fieldName,
  jsonInteger,
  jsonObject,
  jsonUtcTime,
  memberName,
  parsedBy,
  readJsonInput,
  withDefault,
} from "../util/jsonSchema";
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
const UINT32_MAX = 2n ** 32n - 1n;
const TERMS_EXAMPLE = '{ "settlementToken": "0x...", "validFrom": ..., "rates": [...] }';

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

/** The field tables by the member that holds them ("" for the file's top level). */
const FIELDS_IN: Readonly<Record<string, Fields>> = {
  "": TOP_FIELDS,
  permanentRoaming: PERMANENT_FIELDS,
  sla: SLA_FIELDS,
  rates: RATE_FIELDS,
  tiers: TIER_FIELDS,
};

/** What the field at `path` is, from the table of the member holding it. */
function aboutTermsField(path: JsonPath): string | undefined {
  const key = path.at(-1);
  if (typeof key !== "string") return undefined;
  return FIELDS_IN[memberName(path.slice(0, -1)) ?? ""]?.[key];
}

// ---------------------------------------------------------------------------------------------------
// Reading a terms file: the schema of each part, then the file
// ---------------------------------------------------------------------------------------------------

const tokenAddress = parsedBy((v) => {
  if (typeof v !== "string" || !isAddress(v) || getAddress(v) === ZeroAddress) {
    throw new InputError(`${JSON.stringify(v)} is not a token address`, {
      hint: "write the token's address as 0x followed by 40 hex digits.",
    });
  }
  return getAddress(v);
});

/** A token amount: a decimal string, converted exactly with the token's decimals. */
function amount(decimals: number) {
  return parsedBy((v) => {
    if (typeof v !== "string") {
      throw new InputError(`amounts are written as strings, found ${JSON.stringify(v)}`, {
        hint: `write it in quotes, e.g. ${typeof v === "number" ? `"${v}"` : '"0.05"'}: JSON numbers can lose digits.`,
      });
    }
    return parseAmount(v, decimals, { location: {}, max: UINT128_MAX });
  });
}

const percent = parsedBy((v) => parsePercent(v, {}));

/** "found 3 plans" for a list, "found {}" for anything else. */
function listProblem(rule: string, unit: string) {
  return (issue: { input?: unknown }) =>
    `${rule}, found ${Array.isArray(issue.input) ? `${issue.input.length} ${unit}` : JSON.stringify(issue.input)}`;
}

function permanentRoamingSchema(decimals: number) {
  const none = { days: 0n, surchargePerDay: 0n };
  const limit = jsonObject(
    { days: jsonInteger(0n, 65_535n), surchargePerDay: amount(decimals) },
    '{ "days": 90, "surchargePerDay": "0.05" }',
  );
  return withDefault(
    limit.superRefine((p, ctx) => {
      if (p.days === 0n && p.surchargePerDay > 0n) {
        addProblem(ctx, "a surcharge needs a limit: days is 0", {
          path: ["surchargePerDay"],
          hint: 'set days, or the surcharge to "0", or permanentRoaming to null.',
        });
      }
    }),
    none,
  );
}

const slaSchema = jsonObject(
  {
    maxLatencyMs: jsonInteger(0n, UINT32_MAX),
    minThroughputKbps: jsonInteger(0n, UINT32_MAX),
    minAvailabilityPercent: percent,
    latencyCreditPercent: percent,
    throughputCreditPercent: percent,
    availabilityCreditPercent: percent,
  },
  '{ "maxLatencyMs": 500, "minAvailabilityPercent": 99.5, ... }',
).transform(
  (s): SlaStruct => ({
    maxLatencyMs: Number(s.maxLatencyMs),
    minThroughputKbps: Number(s.minThroughputKbps),
    minAvailabilityBps: s.minAvailabilityPercent,
    latencyCreditBps: s.latencyCreditPercent,
    throughputCreditBps: s.throughputCreditPercent,
    availabilityCreditBps: s.availabilityCreditPercent,
  }),
);

const tierSchema = jsonObject(
  { fromMb: jsonInteger(0n, UINT64_MAX), discountPercent: percent },
  '{ "fromMb": 10000, "discountPercent": 10 }',
).transform((t): TierStruct => ({ fromMb: t.fromMb, discountBps: t.discountPercent }));

const tiersProblem = listProblem(`tiers must be a list of at most ${TERMS_LIMITS.maxTiers} tiers`, "tiers");
const tiersSchema = z
  .array(tierSchema, { error: tiersProblem })
  .max(TERMS_LIMITS.maxTiers, { error: tiersProblem })
  .superRefine((tiers, ctx) => {
    for (const [j, tier] of tiers.entries()) {
      const prev = tiers[j - 1];
      if (prev && (tier.fromMb <= prev.fromMb || tier.discountBps < prev.discountBps)) {
        addProblem(ctx, "tiers must ascend strictly by fromMb, with discounts that never decrease", {
          path: [j],
          hint: `tier ${j - 1} starts at ${prev.fromMb} MB with ${formatPercent(prev.discountBps)} %.`,
        });
      }
    }
  });

/** The visited network of a plan: one of the two parties. */
function visitedSchema(options: ReadTermsOptions) {
  return parsedBy((v) => {
    if (typeof v !== "string") {
      throw new InputError(`visited must be a PLMN id in quotes, found ${JSON.stringify(v)}`, { hint: `visited: ${RATE_FIELDS.visited}.` });
    }
    const plmn = parsePlmn(v);
    if (plmn !== options.self && plmn !== options.partner) {
      throw new InputError(`${formatPlmn(plmn)} is not a party to this agreement`, {
        hint: `visited is ${formatPlmn(options.self)} (you) or ${formatPlmn(options.partner)} (the partner).`,
      });
    }
    return plmn;
  });
}

function ratePlansSchema(options: ReadTermsOptions) {
  const money = amount(options.decimals);
  const plan = jsonObject(
    {
      visited: visitedSchema(options),
      tariffClass: jsonInteger(0n, 255n).transform(Number),
      perMb: money,
      perSignallingEvent: money,
      perSms: money,
      perVoiceMinute: money,
      monthlyFeePerDevice: money,
      tiers: withDefault(tiersSchema, []),
    },
    '{ "visited": "724-05", "tariffClass": 1, "perMb": "0.50", ... }',
  );
  const { maxRatePlans } = TERMS_LIMITS;
  const problem = listProblem(`rates must be a list of 1 to ${maxRatePlans} rate plans`, "plans");
  return z
    .array(plan, { error: problem })
    .min(1, { error: problem })
    .max(maxRatePlans, { error: problem })
    .superRefine((plans, ctx) => {
      const seen = new Map<string, number>();
      for (const [i, p] of plans.entries()) {
        const key = `${p.visited}/${p.tariffClass}`;
        const first = seen.get(key);
        if (first !== undefined) {
          addProblem(ctx, `a second plan for ${formatPlmn(p.visited)} visited, tariff class ${p.tariffClass}`, {
            path: [i],
            hint: `rates[${first}] prices it already; merge the two.`,
          });
        }
        seen.set(key, i);
      }
    });
}

/** A terms file as the contract's `Terms`, with every check the contract makes but the token being a contract. */
function termsSchema(options: ReadTermsOptions) {
  return jsonObject(
    {
      settlementToken: tokenAddress,
      validFrom: jsonUtcTime(),
      validUntil: jsonUtcTime(),
      disputeWindowDays: jsonInteger(1n, BigInt(TERMS_LIMITS.maxDisputeWindowDays)),
      permanentRoaming: permanentRoamingSchema(options.decimals),
      sla: slaSchema,
      rates: ratePlansSchema(options),
    },
    TERMS_EXAMPLE,
  )
    .superRefine((t, ctx) => {
      if (t.validUntil <= t.validFrom) addProblem(ctx, "validUntil must be after validFrom", { path: ["validUntil"] });
      else if (options.now !== undefined && t.validUntil <= options.now) {
        addProblem(ctx, `validUntil is not in the future (chain time is ${isoTime(options.now)})`, {
          path: ["validUntil"],
          hint: "terms must end after now.",
        });
      }
    })
    .transform(
      (t): TermsStruct => ({
        settlementToken: t.settlementToken,
        validFrom: t.validFrom,
        validUntil: t.validUntil,
        disputeWindow: Number(t.disputeWindowDays) * DAY,
        permanentRoamingDays: Number(t.permanentRoaming.days),
        permanentRoamingSurchargePerDay: t.permanentRoaming.surchargePerDay,
        sla: t.sla,
        ratePlans: t.rates,
      }),
    );
}

/**
 * The settlement token a terms file names, checked, and where it is in the file; read first, since the
 * amounts in the file can only be converted with that token's decimals. Problems elsewhere in the file are
 * left to {@link readAgreementTerms}.
 */
export function readSettlementToken(file: string): { token: string; location: InputLocation } {
  const input = readJsonInput(file, "agreement terms");
  const checked = checkJson(input, jsonObject({ settlementToken: tokenAddress }, TERMS_EXAMPLE, { others: "ignore" }));
  if (!checked.ok) throw checked.errors[0];
  const path = ["settlementToken"];
  return { token: checked.value.settlementToken, location: { file, line: lineOfPath(input.text, path), field: fieldName(path) } };
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
 * makes (but the token being a contract) is made here first. All problems are thrown together, in the order
 * of the file, each as an InputError naming the file, the line and the field; a single problem is thrown as itself.
 */
export function readAgreementTerms(file: string, options: ReadTermsOptions): TermsStruct {
  const checked = checkJson(readJsonInput(file, "agreement terms"), termsSchema(options), { about: aboutTermsField });
  if (checked.ok) return checked.value;
  const [first, ...more] = checked.errors;
  if (more.length === 0) throw first;
  throw new InputErrors(checked.errors, { hint: "fix the fields named above and run the same command again." });
}

export interface CheckTermsOptions {
  /** The two parties: every plan's visited carrier must be one of them. */
  self: Hex;
  partner: Hex;
  /** What the terms are, for the errors' location ("sealed terms of version 2"). */
  what: string;
}

/**
 * Checks terms that did not come from a file (the counterparty's sealed terms, which the chain cannot see)
 * with the same schema as a terms file: plans (1 to 64, each visited one of the parties, no duplicate),
 * tiers, SLA basis points, the permanent-roaming rule and validity. They go through their own file shape
 * ({@link formatTerms} with 0 decimals, exact both ways). The dispute window is checked in seconds, since the
 * chain allows any window from 1 s to 90 days and only the file format counts whole days. Throws InputError,
 * or InputErrors for several problems.
 */
export function checkTerms(terms: TermsLike, { self, partner, what }: CheckTermsOptions): void {
  const window = BigInt(terms.disputeWindow);
  if (window < 1n || window > BigInt(TERMS_LIMITS.maxDisputeWindowDays * DAY)) {
    throw new InputError(`the dispute window of ${window} s is not between 1 s and ${TERMS_LIMITS.maxDisputeWindowDays} days`, {
      location: { file: what, field: "disputeWindow" },
    });
  }
  // No text: the problems name the field (rates[0].tiers[1]), not a line of a file that does not exist.
  const value = { ...formatTerms(terms, 0), disputeWindowDays: 1 };
  const checked = checkJson({ file: what, value, text: "" }, termsSchema({ self, partner, decimals: 0 }), {
    about: aboutTermsField,
  });
  if (checked.ok) return;
  const [first, ...more] = checked.errors;
  if (more.length === 0) throw first;
  throw new InputErrors(checked.errors, {
    hint: "terms that break these rules are refused: the proposer fixes them, the counterparty does not accept them.",
  });
}

// ---------------------------------------------------------------------------------------------------
// Formatting terms back
// ---------------------------------------------------------------------------------------------------

/** Seconds since the epoch as ISO 8601 UTC without milliseconds: "2026-11-01T00:00:00Z". */
export function isoTime(seconds: Int): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}

/** A uint64 as a JSON number when that is exact, else as a string (which the file format accepts too). */
function exactJsonInteger(value: Int): number | string {
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
      tiers: p.tiers.map((t) => ({ fromMb: exactJsonInteger(t.fromMb), discountPercent: formatPercent(t.discountBps) })),
    })),
  };
}
