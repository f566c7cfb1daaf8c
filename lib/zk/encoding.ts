/**
 * The encoding of circuits/rating_v1.circom ("rating-v1"): how one direction's terms and one period's totals
 * become field elements, their Poseidon commitments, and the circuit's input. The circuit proves
 * net = rateInvoice(totals, terms, payee).net (lib/settlement/rating.ts) for the committed terms and totals,
 * publishing only the two commitments and the net. Bound to the circuit word for word: a change here is a
 * new circuit version.
 */
import { poseidon3, poseidon5, poseidon9, poseidon13, poseidon15, poseidon16 } from "poseidon-lite";
import { encodeAbiParameters, type Hex, isHex, keccak256, numberToHex, stringToBytes } from "viem";
import type { Int, TermsLike } from "../agreements/terms";
import { InputError } from "../core/errors";
import type { ClassTotalsLike } from "../settlement/rating";

/** The circuit version: N tariff-class slots of T volume tiers each. */
export const RATING_V1 = { id: 1, name: "rating-v1", classes: 8, tiers: 4 } as const;

/** The bn128 scalar field: every value the circuit sees is below it. */
export const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

const field = (h: Hex): bigint => BigInt(h) % FIELD_MODULUS;

/** uint(keccak256("RoamLedger.ZkTermsCommitment.v1")) mod p: the first input of a terms commitment. */
export const ZK_TERMS_TAG = field(keccak256(stringToBytes("RoamLedger.ZkTermsCommitment.v1")));
/** uint(keccak256("RoamLedger.ZkTotalsCommitment.v1")) mod p: the first input of a totals commitment. */
export const ZK_TOTALS_TAG = field(keccak256(stringToBytes("RoamLedger.ZkTotalsCommitment.v1")));
/** keccak256("RoamLedger.ZkTermsSalt.v1"): derives a direction's terms salt from the agreement's. */
export const ZK_TERMS_SALT_TAG = keccak256(stringToBytes("RoamLedger.ZkTermsSalt.v1"));
/** keccak256("RoamLedger.ZkTotalsSalt.v1"): maps a 32-byte totals salt into the field. */
export const ZK_TOTALS_SALT_TAG = keccak256(stringToBytes("RoamLedger.ZkTotalsSalt.v1"));

/** fromMb of a missing tier: its threshold is above every volume, so it never cuts a band. */
const NO_TIER_FROM_MB = 2n ** 64n - 1n;
const SLOT_WIDTH = 15;
const TOTALS_WIDTH = 9;

type Plan = TermsLike["ratePlans"][number];

/** `value` as a bigint below 2^bits, else an InputError naming `what`. */
function uintOf(value: Int, bits: number, what: string, hint: string): bigint {
  const n = BigInt(value);
  if (n < 0n || n >= 1n << BigInt(bits)) {
    throw new InputError(`${what} must be an integer from 0 to 2^${bits} - 1, found ${n}`, { hint });
  }
  return n;
}

const termsValue = (value: Int, bits: number, what: string): bigint =>
  uintOf(value, bits, what, "rating-v1 encodes terms as the contracts hold them (validated terms).");

/** The plans of `terms` whose visited carrier is `visited`, by tariff class ascending. */
function directionPlans(terms: TermsLike, visited: string): Plan[] {
  const self = visited.toLowerCase();
  return terms.ratePlans
    .filter((p) => p.visited.toLowerCase() === self)
    .sort((a, b) => (BigInt(a.tariffClass) < BigInt(b.tariffClass) ? -1 : BigInt(a.tariffClass) > BigInt(b.tariffClass) ? 1 : 0));
}

/** What in `plan` rating-v1 cannot prove, or null. */
function planProblem(plan: Plan): string | null {
  const where = `the plan of tariff class ${plan.tariffClass}`;
  if (plan.tiers.length > RATING_V1.tiers) {
    return `${where} has ${plan.tiers.length} volume tiers; rating-v1 proves at most ${RATING_V1.tiers}`;
  }
  for (let i = 0; i < plan.tiers.length; i++) {
    if (i > 0 && BigInt(plan.tiers[i].fromMb) < BigInt(plan.tiers[i - 1].fromMb)) {
      return `${where} has tiers out of order (fromMb must not decrease)`;
    }
    if (BigInt(plan.tiers[i].discountBps) > 10_000n) return `${where} has a tier discount above 100 %`;
  }
  return null;
}

/**
 * Why the terms of the direction whose visited carrier (the payee) is `visited` cannot be proven with
 * rating-v1: more than 8 plans, a plan with more than 4 tiers, two plans for one class, tiers out of order or a
 * discount above 100 % (the last three never in validated terms).
 * null when they can.
 */
export function ratingV1Problem(terms: TermsLike, visited: string): string | null {
  const plans = directionPlans(terms, visited);
  if (plans.length > RATING_V1.classes) {
    return `the direction has ${plans.length} rate plans; rating-v1 proves at most ${RATING_V1.classes}`;
  }
  for (let j = 0; j < plans.length; j++) {
    if (j > 0 && BigInt(plans[j].tariffClass) === BigInt(plans[j - 1].tariffClass)) {
      return `the direction has two plans for tariff class ${plans[j].tariffClass}`;
    }
    const problem = planProblem(plans[j]);
    if (problem) return problem;
  }
  return null;
}

/** The direction's plans, or an InputError when rating-v1 cannot prove them. */
function provablePlans(terms: TermsLike, visited: string): Plan[] {
  const problem = ratingV1Problem(terms, visited);
  if (problem) {
    throw new InputError(`these terms are not provable with rating-v1: ${problem}`, {
      hint: "claims under these terms need the payer's co-signature, or an agreement version within rating-v1's limits.",
    });
  }
  return directionPlans(terms, visited);
}

/** Slot j of the terms: 15 elements (see the circuit's header). */
function planSlot(plan: Plan): bigint[] {
  const tiers: bigint[] = [];
  for (let b = 0; b < RATING_V1.tiers; b++) {
    const tier = plan.tiers[b];
    tiers.push(tier ? termsValue(tier.fromMb, 64, "tiers.fromMb") : NO_TIER_FROM_MB);
    tiers.push(tier ? termsValue(tier.discountBps, 16, "tiers.discountBps") : 0n);
  }
  return [
    1n,
    termsValue(plan.tariffClass, 8, "tariffClass"),
    termsValue(plan.perMb, 128, "perMb"),
    termsValue(plan.perSignallingEvent, 128, "perSignallingEvent"),
    termsValue(plan.perSms, 128, "perSms"),
    termsValue(plan.perVoiceMinute, 128, "perVoiceMinute"),
    termsValue(plan.monthlyFeePerDevice, 128, "monthlyFeePerDevice"),
    ...tiers,
  ];
}

/** The 8 slots (missing ones all zero) and the 5-element header of one direction's terms. */
function termsElements(plans: readonly Plan[], terms: TermsLike): { slots: bigint[][]; header: bigint[] } {
  const slots = Array.from({ length: RATING_V1.classes }, (_, j) =>
    j < plans.length ? planSlot(plans[j]) : new Array<bigint>(SLOT_WIDTH).fill(0n),
  );
  const header = [
    termsValue(terms.permanentRoamingSurchargePerDay, 128, "permanentRoamingSurchargePerDay"),
    termsValue(terms.sla.maxLatencyMs, 32, "sla.maxLatencyMs"),
    termsValue(terms.sla.minThroughputKbps, 32, "sla.minThroughputKbps"),
    termsValue(terms.sla.latencyCreditBps, 16, "sla.latencyCreditBps"),
    termsValue(terms.sla.throughputCreditBps, 16, "sla.throughputCreditBps"),
  ];
  return { slots, header };
}

function bytes32(value: Hex, what: string): Hex {
  if (!isHex(value) || value.length !== 66) {
    throw new InputError(`${what} must be 32 bytes of hex, found ${JSON.stringify(value)}`, {
      hint: "pass the salt as 0x followed by 64 hex digits.",
    });
  }
  return value;
}

function bytes3Value(plmn: string, what: string): bigint {
  if (!isHex(plmn) || plmn.length !== 8) {
    throw new InputError(`${what} must be a bytes3 PLMN id, found ${JSON.stringify(plmn)}`, {
      hint: "pass the carrier's on-chain id (0x followed by 6 hex digits), as parsePlmn returns it.",
    });
  }
  return BigInt(plmn);
}

/**
 * termsSaltF = uint(keccak256(abi.encode(ZK_TERMS_SALT_TAG, termsSalt, bytes3 visited))) mod p: the field salt
 * of one direction's terms commitment (a secret of the pair, like `termsSalt`).
 */
export function termsSaltField(termsSalt: Hex, visited: string): bigint {
  bytes3Value(visited, "visited");
  const encoded = encodeAbiParameters(
    [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes3" }],
    [ZK_TERMS_SALT_TAG, bytes32(termsSalt, "termsSalt"), visited as Hex],
  );
  return field(keccak256(encoded));
}

/** totalsSaltF = uint(keccak256(abi.encode(ZK_TOTALS_SALT_TAG, totalsSalt))) mod p: a secret, like `totalsSalt`. */
export function totalsSaltField(totalsSalt: Hex): bigint {
  const encoded = encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }], [ZK_TOTALS_SALT_TAG, bytes32(totalsSalt, "totalsSalt")]);
  return field(keccak256(encoded));
}

const toHex32 = (x: bigint): Hex => numberToHex(x, { size: 32 });

function termsCommitmentField(slots: bigint[][], header: bigint[], saltF: bigint): bigint {
  const hTerms = poseidon13([...slots.map((s) => poseidon15(s)), ...header]);
  return poseidon3([ZK_TERMS_TAG, saltF, hTerms]);
}

/**
 * The rating-v1 commitment to the terms of the direction whose visited carrier is `visited` (bytes3), salted
 * with the agreement version's 32-byte `termsSalt`: Poseidon(ZK_TERMS_TAG, termsSaltF, hTerms), as 32-byte
 * hex. Throws InputError when the terms are not provable with rating-v1 ({@link ratingV1Problem}).
 */
export function zkTermsCommitment(terms: TermsLike, termsSalt: Hex, visited: string): Hex {
  const { slots, header } = termsElements(provablePlans(terms, visited), terms);
  return toHex32(termsCommitmentField(slots, header, termsSaltField(termsSalt, visited)));
}

const TOTALS_FIELDS = [
  ["activeDevices", 32],
  ["roamerDays", 32],
  ["dataBytes", 64],
  ["signallingEvents", 64],
  ["smsCount", 64],
  ["voiceSeconds", 64],
  ["qosSamples", 32],
  ["latencyMsSum", 64],
  ["throughputKbpsSum", 64],
] as const satisfies readonly (readonly [keyof ClassTotalsLike, number])[];

const totalsValue = (value: Int, bits: number, what: string): bigint =>
  uintOf(value, bits, what, "totals are the period's aggregated usage, each within its contract field's width.");

/** One totals entry as its 9 slot elements, each checked to its width. */
function totalsRow(t: ClassTotalsLike): bigint[] {
  return TOTALS_FIELDS.map(([name, bits]) => totalsValue(t[name], bits, `totals of class ${t.tariffClass}: ${name}`));
}

/**
 * The totals aligned with the terms' slots (9 zeros where a slot has no totals or is missing) and `other`:
 * the QoS sums of the classes without a slot (unpriced: rated 0, but counted in the SLA averages).
 */
function totalsElements(totals: readonly ClassTotalsLike[], plans: readonly Plan[]): { rows: bigint[][]; other: bigint[] } {
  const rows = Array.from({ length: RATING_V1.classes }, () => new Array<bigint>(TOTALS_WIDTH).fill(0n));
  const other = [0n, 0n, 0n];
  const seen = new Set<bigint>();
  for (const t of totals) {
    const tariffClass = totalsValue(t.tariffClass, 8, "tariffClass");
    if (seen.has(tariffClass)) {
      throw new InputError(`the totals have two entries for tariff class ${tariffClass}`, {
        hint: "aggregate the period's totals into one entry per tariff class.",
      });
    }
    seen.add(tariffClass);
    const row = totalsRow(t);
    const j = plans.findIndex((p) => BigInt(p.tariffClass) === tariffClass);
    if (j >= 0) rows[j] = row;
    else for (let i = 0; i < 3; i++) other[i] += row[6 + i];
  }
  return { rows, other };
}

/** ctx = payer * 2^56 + payee * 2^32 + period: binds the totals to one pair and period. */
function contextField(payer: string, payee: string, period: number): bigint {
  const p = uintOf(period, 32, "period", "the period is the contracts' uint32 period number.");
  return (bytes3Value(payer, "payer") << 56n) + (bytes3Value(payee, "payee") << 32n) + p;
}

function totalsCommitmentField(rows: bigint[][], other: bigint[], ctx: bigint, saltF: bigint): bigint {
  const packed = rows.flatMap((t) => [
    t[0] + (t[1] << 32n) + (t[2] << 64n) + (t[3] << 128n),
    t[4] + (t[5] << 64n) + (t[6] << 128n) + (t[7] << 160n),
  ]);
  const h1 = poseidon16(packed);
  const h2 = poseidon9([...rows.map((t) => t[8]), other[0] + (other[1] << 40n) + (other[2] << 112n)]);
  return poseidon5([ZK_TOTALS_TAG, ctx, saltF, h1, h2]);
}

/** A period's totals as the payee states them to rating-v1. */
export interface ZkTotalsOptions {
  /** One entry per tariff class. */
  totals: readonly ClassTotalsLike[];
  /** The agreement's terms: the payee's plans give the slots the totals are aligned with. */
  terms: TermsLike;
  /** bytes3 ids: the payer (home carrier) and the payee (visited carrier, the prover). */
  payer: string;
  payee: string;
  period: number;
  /** 32 secret bytes. */
  totalsSalt: Hex;
}

/**
 * The rating-v1 commitment to a period's totals for (payer, payee, period):
 * Poseidon(ZK_TOTALS_TAG, ctx, totalsSaltF, h1, h2) as 32-byte hex. Throws InputError for totals out of range,
 * two entries of one class, or terms rating-v1 cannot prove.
 */
export function zkTotalsCommitment(o: ZkTotalsOptions): Hex {
  const { rows, other } = totalsElements(o.totals, provablePlans(o.terms, o.payee));
  const ctx = contextField(o.payer, o.payee, o.period);
  return toHex32(totalsCommitmentField(rows, other, ctx, totalsSaltField(o.totalsSalt)));
}

/** What the payee proves: the opened commitments and the net it claims. */
export interface RatingV1InputOptions extends ZkTotalsOptions {
  /** The agreement version's 32-byte terms salt. */
  termsSalt: Hex;
  /** The claimed net (rateInvoice(totals, terms, payee).net for an honest claim). */
  net: bigint;
}

const dec = (x: bigint): string => x.toString();

/**
 * The input of circuits/rating_v1.circom (decimal strings): the public termsCommitment, totalsCommitment
 * and net, and the private slots, header, termsSalt, totals, other, ctx and totalsSalt. The circuit's
 * witness exists only when `net` is the rating of the committed terms and totals.
 */
export function ratingV1Input(o: RatingV1InputOptions): Record<string, string | string[] | string[][]> {
  const plans = provablePlans(o.terms, o.payee);
  const { slots, header } = termsElements(plans, o.terms);
  const { rows, other } = totalsElements(o.totals, plans);
  const termsSalt = termsSaltField(o.termsSalt, o.payee);
  const totalsSalt = totalsSaltField(o.totalsSalt);
  const ctx = contextField(o.payer, o.payee, o.period);
  if (o.net < 0n || o.net >= FIELD_MODULUS) {
    throw new InputError(`the claimed net must be from 0 to the field modulus - 1, found ${o.net}`, {
      hint: "claim the invoice's net as rateInvoice rates it.",
    });
  }
  return {
    termsCommitment: dec(termsCommitmentField(slots, header, termsSalt)),
    totalsCommitment: dec(totalsCommitmentField(rows, other, ctx, totalsSalt)),
    net: dec(o.net),
    slots: slots.map((s) => s.map(dec)),
    header: header.map(dec),
    termsSalt: dec(termsSalt),
    totals: rows.map((t) => t.map(dec)),
    other: other.map(dec),
    ctx: dec(ctx),
    totalsSalt: dec(totalsSalt),
  };
}
