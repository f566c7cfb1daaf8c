/**
 * Rating: a closed period's totals x the agreement's terms = an invoice. The same computation as
 * contracts/libraries/RatingLib.sol, in bigint, so that a preview, the invoice a carrier renders and what
 * the escrow reserves agree to the smallest token unit. The rounding rules are in docs/settlement.md.
 */
import { InputError } from "../core/errors";
import type { Int, TermsLike } from "../agreements/terms";

/** 100 % in basis points. */
export const BPS = 10_000n;
/** Bytes in a MB. */
export const BYTES_PER_MB = 1_000_000n;
const SECONDS_PER_MINUTE = 60n;

/** Totals of one tariff class (contract struct `ClassTotals`): as aggregated (lib/usage/types) or as read. */
export interface ClassTotalsLike {
  tariffClass: Int;
  activeDevices: Int;
  roamerDays: Int;
  dataBytes: Int;
  signallingEvents: Int;
  smsCount: Int;
  voiceSeconds: Int;
  qosSamples: Int;
  latencyMsSum: Int;
  throughputKbpsSum: Int;
}

/** A tier of a rate plan (contract struct `Tier`). */
export interface TierLike {
  fromMb: Int;
  discountBps: Int;
}

/** The charges of one tariff class, in token base units (contract struct `ClassCharges`). */
export interface ClassCharges {
  tariffClass: number;
  /** False when the agreement has no plan for the class in this direction: every charge is 0. */
  priced: boolean;
  data: bigint;
  signalling: bigint;
  sms: bigint;
  voice: bigint;
  monthly: bigint;
  surcharge: bigint;
  total: bigint;
}

/** An invoice as rated (contract struct `Rating`). */
export interface Rating {
  /** One per tariff class of the totals, in their order. */
  lines: ClassCharges[];
  subtotal: bigint;
  /** Records with a QoS measure, over all classes. */
  qosSamples: bigint;
  /** Rounded down; 0 without samples. */
  avgLatencyMs: bigint;
  avgThroughputKbps: bigint;
  /** Latency and throughput credits of the missed targets, capped at 10000. */
  creditBps: number;
  credit: bigint;
  /** subtotal - credit: what the payer owes. */
  net: bigint;
}

const MAX = { u8: 2n ** 8n - 1n, u16: 2n ** 16n - 1n, u32: 2n ** 32n - 1n, u64: 2n ** 64n - 1n, u128: 2n ** 128n - 1n };

/** `value` as a bigint, which must fit the contract field's unsigned type (the ABI would refuse it). */
function uint(value: Int, max: bigint, field: string): bigint {
  const n = BigInt(value);
  if (n < 0n || n > max) {
    throw new InputError(`${field} must be an integer from 0 to ${max}, found ${n}`, {
      hint: "rate totals and terms as the contracts hold them.",
    });
  }
  return n;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** One tier band of a class's data volume, with its share of the class's data charge. */
export interface DataBand {
  /** Bytes. */
  from: bigint;
  /** Bytes; null: open-ended. */
  to: bigint | null;
  bytes: bigint;
  discountBps: number;
  /**
   * Base units. The class's data charge is one floor over all bands (RatingLib); a band's amount is the
   * difference of that floor taken over the running sum, so the bands add up to the charge exactly and
   * each is within one base unit of its exact share.
   */
  amount: bigint;
}

/**
 * `volume` bytes at `perMb` per 10^6 bytes, cut into the tier bands that carry volume: below the first
 * tier's `fromMb * 10^6` bytes the full rate applies, in band i the rate less `tiers[i].discountBps`. A
 * threshold at or below the start of the current band (in validated terms only `fromMb` 0) ends no band:
 * its discount applies from that start. The bands' amounts add up to {@link dataCharge}.
 */
export function dataBands(volume: Int, perMb: Int, tiers: readonly TierLike[]): DataBand[] {
  const v = uint(volume, MAX.u64, "dataBytes");
  const rate = uint(perMb, MAX.u128, "perMb");
  const bands: DataBand[] = [];
  let scaled = 0n;
  let charged = 0n;
  let lower = 0n;
  let discount = 0n;
  for (let j = 0; j <= tiers.length && v > lower; j++) {
    const upper = j < tiers.length ? uint(tiers[j].fromMb, MAX.u64, "tiers.fromMb") * BYTES_PER_MB : null;
    if (upper === null || upper > lower) {
      if (discount > BPS) {
        // Validated terms never have one; the contract reverts on it (10000 - discount underflows).
        throw new InputError(`a tier discount of ${discount} bps is more than 100 %`, { hint: "discounts are at most 10000 bps." });
      }
      const end = upper === null ? v : min(v, upper);
      scaled += (end - lower) * rate * (BPS - discount);
      const floor = scaled / (BYTES_PER_MB * BPS);
      bands.push({ from: lower, to: upper, bytes: end - lower, discountBps: Number(discount), amount: floor - charged });
      charged = floor;
      if (upper !== null) lower = upper;
    }
    if (j < tiers.length) discount = uint(tiers[j].discountBps, MAX.u16, "tiers.discountBps");
  }
  return bands;
}

/**
 * The data charge of `volume` bytes at `perMb` per 10^6 bytes over the tier bands of {@link dataBands}.
 * One floor over the sum: floor(sum(bandBytes * perMb * (10000 - d)) / 10^10), as RatingLib computes it.
 */
export function dataCharge(volume: Int, perMb: Int, tiers: readonly TierLike[]): bigint {
  return dataBands(volume, perMb, tiers).reduce((sum, band) => sum + band.amount, 0n);
}

/**
 * SLA credit in basis points for the averages over `samples` records: latencyCreditBps when the average
 * latency is above a non-zero maxLatencyMs, throughputCreditBps when the average throughput is below a
 * non-zero minThroughputKbps, summed and capped at 10000; 0 without samples. Availability is not measured by
 * usage records and is never credited.
 */
export function slaCreditBps(
  sla: TermsLike["sla"],
  { samples, avgLatencyMs, avgThroughputKbps }: { samples: bigint; avgLatencyMs: bigint; avgThroughputKbps: bigint },
): number {
  if (samples === 0n) return 0;
  const maxLatency = uint(sla.maxLatencyMs, MAX.u32, "sla.maxLatencyMs");
  const minThroughput = uint(sla.minThroughputKbps, MAX.u32, "sla.minThroughputKbps");
  let bps = 0n;
  if (maxLatency > 0n && avgLatencyMs > maxLatency) bps += uint(sla.latencyCreditBps, MAX.u16, "sla.latencyCreditBps");
  if (minThroughput > 0n && avgThroughputKbps < minThroughput) {
    bps += uint(sla.throughputCreditBps, MAX.u16, "sla.throughputCreditBps");
  }
  return Number(min(bps, BPS));
}

/**
 * Rates a closed period's `totals` (one entry per tariff class) with the plans of `terms` whose visited
 * carrier is `visited` (bytes3 hex): per class data (tiered on the class's total volume), signalling,
 * SMS, voice (per second), monthly fee per active device and the permanent-roaming surcharge; a class
 * without a plan is reported unpriced with zero charges. Then the SLA credit on the subtotal. Exactly what
 * `RatingLib.rate` computes on-chain.
 */
export function rateInvoice(totals: readonly ClassTotalsLike[], terms: TermsLike, visited: string): Rating {
  const surchargePerDay = uint(terms.permanentRoamingSurchargePerDay, MAX.u128, "permanentRoamingSurchargePerDay");
  const self = visited.toLowerCase();
  let subtotal = 0n;
  let samples = 0n;
  let latencySum = 0n;
  let throughputSum = 0n;
  const lines = totals.map((t): ClassCharges => {
    const tariffClass = Number(uint(t.tariffClass, MAX.u8, "tariffClass"));
    samples += uint(t.qosSamples, MAX.u32, "qosSamples");
    latencySum += uint(t.latencyMsSum, MAX.u64, "latencyMsSum");
    throughputSum += uint(t.throughputKbpsSum, MAX.u64, "throughputKbpsSum");
    const plan = terms.ratePlans.find((p) => BigInt(p.tariffClass) === BigInt(tariffClass) && p.visited.toLowerCase() === self);
    if (!plan) {
      return { tariffClass, priced: false, data: 0n, signalling: 0n, sms: 0n, voice: 0n, monthly: 0n, surcharge: 0n, total: 0n };
    }
    const data = dataCharge(t.dataBytes, plan.perMb, plan.tiers);
    const signalling =
      uint(t.signallingEvents, MAX.u64, "signallingEvents") * uint(plan.perSignallingEvent, MAX.u128, "perSignallingEvent");
    const sms = uint(t.smsCount, MAX.u64, "smsCount") * uint(plan.perSms, MAX.u128, "perSms");
    const voice =
      (uint(t.voiceSeconds, MAX.u64, "voiceSeconds") * uint(plan.perVoiceMinute, MAX.u128, "perVoiceMinute")) / SECONDS_PER_MINUTE;
    const monthly = uint(t.activeDevices, MAX.u32, "activeDevices") * uint(plan.monthlyFeePerDevice, MAX.u128, "monthlyFeePerDevice");
    const surcharge = uint(t.roamerDays, MAX.u32, "roamerDays") * surchargePerDay;
    const total = data + signalling + sms + voice + monthly + surcharge;
    subtotal += total;
    return { tariffClass, priced: true, data, signalling, sms, voice, monthly, surcharge, total };
  });
  const avgLatencyMs = samples > 0n ? latencySum / samples : 0n;
  const avgThroughputKbps = samples > 0n ? throughputSum / samples : 0n;
  const creditBps = slaCreditBps(terms.sla, { samples, avgLatencyMs, avgThroughputKbps });
  const credit = (subtotal * BigInt(creditBps)) / BPS;
  return { lines, subtotal, qosSamples: samples, avgLatencyMs, avgThroughputKbps, creditBps, credit, net: subtotal - credit };
}

/** A `Rating` as ethers decodes it (from `InvoiceClosed`, `closeInvoice` or a call): integers as bigint. */
export interface RatingStructLike {
  lines: readonly {
    tariffClass: Int;
    priced: boolean;
    data: Int;
    signalling: Int;
    sms: Int;
    voice: Int;
    monthly: Int;
    surcharge: Int;
    total: Int;
  }[];
  subtotal: Int;
  qosSamples: Int;
  avgLatencyMs: Int;
  avgThroughputKbps: Int;
  creditBps: Int;
  credit: Int;
  net: Int;
}

/** A rating read from the chain as a plain {@link Rating} (compare it, render it). */
export function ratingFromStruct(r: RatingStructLike): Rating {
  return {
    lines: r.lines.map((l) => ({
      tariffClass: Number(l.tariffClass),
      priced: l.priced,
      data: BigInt(l.data),
      signalling: BigInt(l.signalling),
      sms: BigInt(l.sms),
      voice: BigInt(l.voice),
      monthly: BigInt(l.monthly),
      surcharge: BigInt(l.surcharge),
      total: BigInt(l.total),
    })),
    subtotal: BigInt(r.subtotal),
    qosSamples: BigInt(r.qosSamples),
    avgLatencyMs: BigInt(r.avgLatencyMs),
    avgThroughputKbps: BigInt(r.avgThroughputKbps),
    creditBps: Number(r.creditBps),
    credit: BigInt(r.credit),
    net: BigInt(r.net),
  };
}
