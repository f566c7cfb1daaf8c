/**
 * circuits/rating_v1.circom against lib/settlement/rating.ts rateInvoice and the encoding of lib/zk/encoding.ts.
 * The circuit is built once through buildRatingCircuit (cached under .zk/build/); each case computes the
 * witness with the build's own witness calculator (what snarkjs wtns.calculate runs, instantiated once: the
 * 11 MB wasm takes ~1.5 s to compile). A witness exists only when every constraint holds, so a calculation
 * that throws is a claim no proof can be made for.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { poseidon5, poseidon9, poseidon16 } from "poseidon-lite";
import type { Hex } from "viem";
import type { RatePlanStruct, TermsStruct, TierStruct } from "../../../lib/agreements/terms";
import { InputError } from "../../../lib/core/errors";
import { type ClassTotalsLike, rateInvoice } from "../../../lib/settlement/rating";
import type { ClassTotals } from "../../../lib/usage/types";
import {
  buildRatingCircuit,
  FIELD_MODULUS,
  RATING_V1,
  type RatingCircuitBuild,
  ratingV1Input,
  ratingV1Problem,
  ZK_TOTALS_TAG,
  zkTermsCommitment,
  zkTotalsCommitment,
} from "../../../lib/zk";
import { BR, classTotals, DE, plan, sla, terms } from "../../helpers/rating";
import { prng } from "../../helpers/usage";

// snarkjs has no types; wtns.check verifies a witness against the .r1cs itself.
const snarkjs = require("snarkjs");

type Input = ReturnType<typeof ratingV1Input>;
interface WitnessCalculator {
  calculateWitness(input: Input, sanityCheck: boolean): Promise<bigint[]>;
  calculateWTNSBin(input: Input, sanityCheck: boolean): Promise<Uint8Array>;
}

const U32 = 2n ** 32n - 1n;
const U64 = 2n ** 64n - 1n;
const U128 = 2n ** 128n - 1n;
const MB = 1_000_000n;
const PERIOD = 202_611;
const TERMS_SALT = `0x${"a1".repeat(32)}` as Hex;
const TOTALS_SALT = `0x${"b2".repeat(32)}` as Hex;

/** Random draws over one PRNG. */
class Draw {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Uniform below 2^bits. */
  bits(bits: number): bigint {
    let n = 0n;
    for (let i = 0; i < bits; i += 32) n = (n << 32n) | BigInt(Math.floor(this.next() * 2 ** 32));
    return n & ((1n << BigInt(bits)) - 1n);
  }
  /** Zero, small, medium or anything below 2^bits: the magnitudes where rounding and overflow differ. */
  value(bits: number): bigint {
    const kind = this.int(0, 3);
    if (kind === 0) return 0n;
    if (kind === 1) return BigInt(this.int(1, 1000));
    if (kind === 2) return this.bits(Math.min(bits, 40));
    return this.bits(bits);
  }
}

function randomTiers(d: Draw): TierStruct[] {
  const count = d.int(0, RATING_V1.tiers);
  const from = Array.from({ length: count }, () => (d.chance(0.1) ? 0n : BigInt(d.int(0, 5000))));
  from.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return from.map((fromMb) => ({ fromMb, discountBps: d.int(0, 10_000) }));
}

function randomPlan(d: Draw, visited: string, tariffClass: number): RatePlanStruct {
  return plan(visited, tariffClass, {
    perMb: d.value(128),
    perSignallingEvent: d.value(128),
    perSms: d.value(128),
    perVoiceMinute: d.value(128),
    monthlyFeePerDevice: d.value(128),
    tiers: randomTiers(d),
  });
}

/** A QoS sum of `samples` records around `target` per record, often exactly on the threshold. */
function qosSum(d: Draw, samples: bigint, target: bigint): bigint {
  const around = samples * target + BigInt(d.int(-3, 3)) * (d.chance(0.5) ? 1n : samples);
  return around < 0n ? 0n : around;
}

function randomTotals(d: Draw, tariffClass: number, s: TermsStruct["sla"]): ClassTotals {
  const samples = d.chance(0.2) ? 0n : d.chance(0.8) ? BigInt(d.int(1, 5000)) : d.bits(32);
  const dataBytes = d.chance(0.7) ? BigInt(d.int(0, 6000)) * MB + BigInt(d.int(-2, 2) + 2) : d.value(64);
  return classTotals(tariffClass, {
    activeDevices: Number(d.value(32)),
    roamerDays: Number(d.value(32)),
    dataBytes: dataBytes > U64 ? U64 : dataBytes,
    signallingEvents: d.value(64),
    smsCount: d.value(64),
    voiceSeconds: d.value(64),
    qosSamples: Number(samples),
    latencyMsSum: qosSum(d, samples, BigInt(s.maxLatencyMs) + 1n) & U64,
    throughputKbpsSum: qosSum(d, samples, BigInt(s.minThroughputKbps)) & U64,
  });
}

/** Distinct tariff classes 0..255. */
function classes(d: Draw, count: number): number[] {
  const set = new Set<number>();
  while (set.size < count) set.add(d.int(0, 255));
  return [...set];
}

/** A random invoice of BR (payee, visited) to DE: 1..8 plans, some of DE's direction, unpriced classes. */
function randomInvoice(d: Draw): { terms: TermsStruct; totals: ClassTotals[] } {
  const picked = classes(d, d.int(1, RATING_V1.classes) + 3);
  const priced = picked.slice(0, picked.length - 3);
  const plans = priced.map((c) => randomPlan(d, BR, c));
  if (d.chance(0.5)) plans.push(randomPlan(d, DE, picked[picked.length - 1]));
  const s = sla({
    maxLatencyMs: d.chance(0.3) ? 0 : d.int(1, 500),
    minThroughputKbps: d.chance(0.3) ? 0 : d.int(1, 20_000),
    latencyCreditBps: d.int(0, 10_000),
    throughputCreditBps: d.int(0, 10_000),
  });
  const t = terms(plans, { sla: s, permanentRoamingSurchargePerDay: d.value(128) });
  const used = [...priced.filter(() => d.chance(0.8)), ...picked.slice(-3).filter(() => d.chance(0.5))];
  const totals = used.map((c) => randomTotals(d, c, s)).sort(() => d.next() - 0.5);
  return { terms: t, totals };
}

interface Invoice {
  terms: TermsStruct;
  totals: readonly ClassTotalsLike[];
}

/** The circuit input of BR's claim on DE for `invoice`, with rateInvoice's net unless `net` is given. */
function inputOf(invoice: Invoice, net?: bigint): Input {
  return ratingV1Input({
    terms: invoice.terms,
    termsSalt: TERMS_SALT,
    totals: invoice.totals,
    totalsSalt: TOTALS_SALT,
    payer: DE,
    payee: BR,
    period: PERIOD,
    net: net ?? rateInvoice(invoice.totals, invoice.terms, BR).net,
  });
}

const plus = (decimal: string | string[] | string[][], delta: bigint): string =>
  ((BigInt(decimal as string) + delta + FIELD_MODULUS) % FIELD_MODULUS).toString();

/** The totals commitment of raw circuit rows, packed as the encoding says, with no range check. */
function rawTotalsCommitment(input: Input): string {
  const rows = (input.totals as string[][]).map((r) => r.map(BigInt));
  const other = (input.other as string[]).map(BigInt);
  const h1 = poseidon16(
    rows.flatMap((t) => [t[0] + (t[1] << 32n) + (t[2] << 64n) + (t[3] << 128n), t[4] + (t[5] << 64n) + (t[6] << 128n) + (t[7] << 160n)]),
  );
  const h2 = poseidon9([...rows.map((t) => t[8]), other[0] + (other[1] << 40n) + (other[2] << 112n)]);
  return poseidon5([ZK_TOTALS_TAG, BigInt(input.ctx as string), BigInt(input.totalsSalt as string), h1, h2]).toString();
}

/** `input` with totals[j][k] (or other[k] when j is null) set to `value` and the totals commitment opened on it. */
function withTotal(input: Input, j: number | null, k: number, value: bigint): Input {
  const totals = (input.totals as string[][]).map((r) => [...r]);
  const other = [...(input.other as string[])];
  if (j === null) other[k] = value.toString();
  else totals[j][k] = value.toString();
  const changed = { ...input, totals, other };
  return { ...changed, totalsCommitment: rawTotalsCommitment(changed) };
}

describe("circuits/rating_v1 (rating-v1)", function () {
  this.timeout(600_000);
  let build: RatingCircuitBuild;
  let wc: WitnessCalculator;

  before(async () => {
    build = await buildRatingCircuit();
    const builder = require(path.join(path.dirname(build.wasm), "witness_calculator.js"));
    wc = await builder(fs.readFileSync(build.wasm));
  });

  const accepts = (input: Input): Promise<bigint[]> => wc.calculateWitness(input, true);
  async function refuses(input: Input): Promise<void> {
    let witness: bigint[] | undefined;
    try {
      witness = await wc.calculateWitness(input, true);
    } catch (error) {
      expect(String(error)).to.match(/Assert Failed/);
    }
    expect(witness, "a witness exists for a false claim").to.equal(undefined);
  }

  it("fits the 2^15 ceremony", () => {
    expect(build.constraints)
      .to.be.greaterThan(10_000)
      .and.lessThan(2 ** 15);
    expect(build.sourceHash).to.match(/^[0-9a-f]{64}$/);
    expect(path.basename(path.dirname(build.r1cs))).to.equal(`rating_v1-${build.sourceHash.slice(0, 12)}`);
  });

  it("hits the cache on a second build", async () => {
    const started = Date.now();
    const again = await buildRatingCircuit();
    expect(again).to.deep.equal(build);
    expect(Date.now() - started).to.be.lessThan(5_000);
  });

  describe("agrees with rateInvoice", () => {
    it("on 300 random invoices, and refuses net + 1 and net - 1 (every 10th)", async () => {
      const d = new Draw(prng(13));
      const times: number[] = [];
      for (let i = 0; i < 300; i++) {
        const invoice = randomInvoice(d);
        const input = inputOf(invoice);
        const started = performance.now();
        const witness = await accepts(input).catch((e) => {
          throw new Error(`invoice ${i}: ${e}`);
        });
        times.push(performance.now() - started);
        expect(witness[3]).to.equal(rateInvoice(invoice.totals, invoice.terms, BR).net);
        if (i % 10 === 0) {
          await refuses({ ...input, net: plus(input.net, 1n) });
          await refuses({ ...input, net: plus(input.net, -1n) });
        }
      }
      times.sort((a, b) => a - b);
      console.log(`      witness: median ${times[150].toFixed(1)} ms per invoice, ${build.constraints} constraints`);
    });

    it("satisfies the .r1cs itself (snarkjs wtns.check), not only the calculator's asserts", async () => {
      const d = new Draw(prng(7));
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rating-v1-")), "w.wtns");
      try {
        fs.writeFileSync(file, await wc.calculateWTNSBin(inputOf(randomInvoice(d)), true));
        expect(await snarkjs.wtns.check(build.r1cs, file)).to.equal(true);
      } finally {
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
      }
    });
  });

  describe("extremes", () => {
    const maxTiers = (): TierStruct[] => [
      { fromMb: 0n, discountBps: 1 },
      { fromMb: 1n, discountBps: 5000 },
      { fromMb: 2n ** 40n, discountBps: 9999 },
      { fromMb: U64, discountBps: 10_000 },
    ];
    const maxPlan = (c: number): RatePlanStruct =>
      plan(BR, c, {
        perMb: U128,
        perSignallingEvent: U128,
        perSms: U128,
        perVoiceMinute: U128,
        monthlyFeePerDevice: U128,
        tiers: maxTiers(),
      });
    const maxTotals = (c: number): ClassTotals =>
      classTotals(c, {
        activeDevices: Number(U32),
        roamerDays: Number(U32),
        dataBytes: U64,
        signallingEvents: U64,
        smsCount: U64,
        voiceSeconds: U64,
        qosSamples: Number(U32),
        latencyMsSum: U64,
        throughputKbpsSum: U64,
      });

    async function agrees(invoice: Invoice): Promise<bigint> {
      const input = inputOf(invoice);
      await accepts(input);
      await refuses({ ...input, net: plus(input.net, 1n) });
      await refuses({ ...input, net: plus(input.net, -1n) });
      return BigInt(input.net as string);
    }

    it("every total at its maximum, every rate at 2^128 - 1, all 8 classes used, unpriced QoS at its maximum", async () => {
      const classList = [0, 1, 2, 3, 4, 5, 6, 255];
      const t = terms(
        classList.map((c) => maxPlan(c)),
        {
          permanentRoamingSurchargePerDay: U128,
          // Average latency 2^32 + 1 > the maximum target: a 1 bps credit; average throughput on target: none.
          sla: sla({ maxLatencyMs: Number(U32), minThroughputKbps: Number(U32), latencyCreditBps: 1, throughputCreditBps: 65_535 }),
        },
      );
      const unpriced = [7, 8, 9].map((c) => maxTotals(c));
      const totals = [...classList.map(maxTotals), ...unpriced];
      expect(rateInvoice(totals, t, BR).creditBps).to.equal(1);
      const net = await agrees({ terms: t, totals });
      expect(net > 2n ** 195n).to.equal(true);
    });

    it("volumes exactly on each tier threshold and one byte either side, and a tier from 0 MB", async () => {
      const tiers = [
        { fromMb: 0n, discountBps: 1000 },
        { fromMb: 7n, discountBps: 2000 },
        { fromMb: 7n, discountBps: 3000 },
        { fromMb: 1234n, discountBps: 7777 },
      ];
      const t = terms([
        plan(BR, 1, { perMb: 999_999_999n, tiers }),
        plan(BR, 2, { perMb: 3n, tiers: [{ fromMb: 5n, discountBps: 3333 }] }),
      ]);
      for (const fromMb of [0n, 5n, 7n, 1234n]) {
        for (const delta of [-1n, 0n, 1n]) {
          const v = fromMb * MB + delta;
          if (v < 0n) continue;
          await agrees({ terms: t, totals: [classTotals(1, { dataBytes: v }), classTotals(2, { dataBytes: v })] });
        }
      }
    });

    it("SLA sums exactly on the thresholds and one below (L = (M+1)S, Th = mS), with unpriced samples", async () => {
      const t = terms([plan(BR, 1, { perSms: 1_000_003n })], {
        sla: sla({ maxLatencyMs: 120, minThroughputKbps: 800, latencyCreditBps: 1500, throughputCreditBps: 2500 }),
      });
      const s = 37n;
      const cases = [
        { latency: 121n * s, throughput: 800n * s, creditBps: 1500 },
        { latency: 121n * s - 1n, throughput: 800n * s, creditBps: 0 },
        { latency: 121n * s - 1n, throughput: 800n * s - 1n, creditBps: 2500 },
        { latency: 121n * s, throughput: 800n * s - 1n, creditBps: 4000 },
      ];
      for (const c of cases) {
        // The samples and sums split over a priced class and an unpriced one.
        const totals = [
          classTotals(1, { smsCount: 11n, qosSamples: 30, latencyMsSum: c.latency - 5n, throughputKbpsSum: c.throughput - 7n }),
          classTotals(9, { qosSamples: 7, latencyMsSum: 5n, throughputKbpsSum: 7n }),
        ];
        expect(rateInvoice(totals, t, BR).creditBps).to.equal(c.creditBps);
        await agrees({ terms: t, totals });
      }
    });

    it("no credit without QoS samples, even with sums and targets", async () => {
      const t = terms([plan(BR, 1, { perSms: 10n })], {
        sla: sla({ maxLatencyMs: 1, minThroughputKbps: 100, latencyCreditBps: 5000, throughputCreditBps: 5000 }),
      });
      const totals = [classTotals(1, { smsCount: 3n, qosSamples: 0, latencyMsSum: 0n, throughputKbpsSum: 0n })];
      expect(await agrees({ terms: t, totals })).to.equal(30n);
    });

    it("caps the credit at 100 %: net 0", async () => {
      const t = terms([plan(BR, 1, { perSms: 10n })], {
        sla: sla({ maxLatencyMs: 1, minThroughputKbps: 100, latencyCreditBps: 6000, throughputCreditBps: 6000 }),
      });
      const totals = [classTotals(1, { smsCount: 3n, qosSamples: 1, latencyMsSum: 50n, throughputKbpsSum: 10n })];
      expect(await agrees({ terms: t, totals })).to.equal(0n);
    });

    it("no plan at all in the payee's direction: net 0, the other direction's plans ignored", async () => {
      const t = terms([maxPlan(1)].map((p) => ({ ...p, visited: DE })));
      expect(await agrees({ terms: t, totals: [maxTotals(1), maxTotals(2)] })).to.equal(0n);
    });

    it("voice rounds down per class, the surcharge counts only priced classes", async () => {
      const t = terms([plan(BR, 1, { perVoiceMinute: 7n }), plan(BR, 2, { perVoiceMinute: 59n })], { permanentRoamingSurchargePerDay: 5n });
      const totals = [
        classTotals(1, { voiceSeconds: 61n, roamerDays: 2 }),
        classTotals(2, { voiceSeconds: 1n }),
        classTotals(3, { roamerDays: 100 }),
      ];
      expect(await agrees({ terms: t, totals })).to.equal(7n + 10n + 0n);
    });
  });

  describe("commitments", () => {
    const invoice = (): Invoice => {
      const t = terms([plan(BR, 1, { perMb: 100n, perSms: 3n }), plan(BR, 4, { monthlyFeePerDevice: 50n })], {
        sla: sla({ maxLatencyMs: 100, latencyCreditBps: 1000 }),
      });
      return {
        terms: t,
        totals: [
          classTotals(1, { dataBytes: 5n * MB, smsCount: 9n, qosSamples: 2, latencyMsSum: 500n }),
          classTotals(4, { activeDevices: 3 }),
        ],
      };
    };

    it("the circuit computes the encoding's commitments (zkTermsCommitment, zkTotalsCommitment)", async () => {
      const inv = invoice();
      const input = inputOf(inv);
      const witness = await accepts(input);
      expect(witness.slice(1, 3)).to.deep.equal([
        BigInt(zkTermsCommitment(inv.terms, TERMS_SALT, BR)),
        BigInt(zkTotalsCommitment({ ...inv, payer: DE, payee: BR, period: PERIOD, totalsSalt: TOTALS_SALT })),
      ]);
      expect(rawTotalsCommitment(input)).to.equal(input.totalsCommitment);
    });

    it("refuses a terms or totals commitment off by one", async () => {
      const input = inputOf(invoice());
      await refuses({ ...input, termsCommitment: plus(input.termsCommitment, 1n) });
      await refuses({ ...input, totalsCommitment: plus(input.totalsCommitment, 1n) });
    });

    it("refuses commitments of another salt, direction, payer or period", async () => {
      const inv = invoice();
      const input = inputOf(inv);
      const otherTerms = [zkTermsCommitment(inv.terms, `0x${"a2".repeat(32)}`, BR)];
      const otherTotals = [
        zkTotalsCommitment({ ...inv, payer: DE, payee: BR, period: PERIOD, totalsSalt: `0x${"b3".repeat(32)}` }),
        zkTotalsCommitment({ ...inv, payer: DE, payee: BR, period: PERIOD + 1, totalsSalt: TOTALS_SALT }),
        zkTotalsCommitment({ ...inv, payer: "0x42f001", payee: BR, period: PERIOD, totalsSalt: TOTALS_SALT }),
      ];
      for (const c of otherTerms) await refuses({ ...input, termsCommitment: BigInt(c).toString() });
      for (const c of otherTotals) await refuses({ ...input, totalsCommitment: BigInt(c).toString() });
      const swapped = terms(inv.terms.ratePlans.map((p) => ({ ...p, visited: DE })));
      expect(zkTermsCommitment(swapped, TERMS_SALT, DE)).to.not.equal(zkTermsCommitment(inv.terms, TERMS_SALT, BR));
    });
  });

  describe("range checks (the prover's totals)", () => {
    const WIDTHS = [32, 32, 64, 64, 64, 64, 32, 64, 64];
    // Class 1 has a plan with zero rates: out-of-range totals there change no charge, only the range check fails.
    const base = (): Input =>
      inputOf({
        terms: terms([plan(BR, 1), plan(BR, 2, { perSms: 5n })]),
        totals: [classTotals(1), classTotals(2, { smsCount: 4n })],
      });

    it("refuses every totals value at 2^width (and -1), accepts it at 2^width - 1", async () => {
      const input = base();
      for (let k = 0; k < WIDTHS.length; k++) {
        const w = BigInt(WIDTHS[k]);
        await accepts(withTotal(input, 0, k, (1n << w) - 1n)).catch((e) => {
          throw new Error(`field ${k} at 2^${w} - 1: ${e}`);
        });
        await refuses(withTotal(input, 0, k, 1n << w));
        await refuses(withTotal(input, 0, k, FIELD_MODULUS - 1n));
      }
    });

    it("refuses the unpriced QoS sums at 2^40, 2^72, 2^72", async () => {
      const input = base();
      for (const [k, w] of [40n, 72n, 72n].entries()) {
        await accepts(withTotal(input, null, k, (1n << w) - 1n));
        await refuses(withTotal(input, null, k, 1n << w));
      }
    });

    it("refuses an aliased opening of the same commitment (2^32 devices for one roamer day less)", async () => {
      const t = terms([plan(BR, 1, { monthlyFeePerDevice: 1n })], { permanentRoamingSurchargePerDay: 1000n });
      const input = inputOf({ terms: t, totals: [classTotals(1, { activeDevices: 1, roamerDays: 3 })] });
      const aliased = withTotal(withTotal(input, 0, 0, 1n + (1n << 32n)), 0, 1, 2n);
      expect(aliased.totalsCommitment).to.equal(input.totalsCommitment);
      // The charges the aliased totals would give, were they not refused: (2^32 + 1) * 1 + 2 * 1000.
      await refuses({ ...aliased, net: ((1n << 32n) + 1n + 2000n).toString() });
    });

    it("the encoding refuses such totals and unprovable terms before the circuit does", () => {
      const t = terms([plan(BR, 1)]);
      const o = { terms: t, payer: DE, payee: BR, period: PERIOD, totalsSalt: TOTALS_SALT };
      expect(() => zkTotalsCommitment({ ...o, totals: [classTotals(1, { dataBytes: 2n ** 64n })] })).to.throw(InputError, /dataBytes/);
      expect(() => zkTotalsCommitment({ ...o, totals: [classTotals(1), classTotals(1)] })).to.throw(InputError, /two entries/);
      const nine = terms(Array.from({ length: 9 }, (_, c) => plan(BR, c)));
      expect(ratingV1Problem(nine, BR)).to.match(/9 rate plans/);
      expect(ratingV1Problem(nine, DE)).to.equal(null);
      expect(() => zkTermsCommitment(nine, TERMS_SALT, BR)).to.throw(InputError, /not provable with rating-v1/);
      const fiveTiers = terms([plan(BR, 1, { tiers: [1n, 2n, 3n, 4n, 5n].map((fromMb) => ({ fromMb, discountBps: 10 })) })]);
      expect(ratingV1Problem(fiveTiers, BR)).to.match(/5 volume tiers/);
      expect(ratingV1Problem(t, BR)).to.equal(null);
      const claim = { ...o, terms: t, termsSalt: TERMS_SALT, totals: [classTotals(1)] };
      expect(() => ratingV1Input({ ...claim, net: -1n })).to.throw(InputError, /claimed net/);
    });
  });
});
