/**
 * `usage:tap`'s work: a TAP file to a usage CSV `usage:ingest` takes (the columns of
 * lib/usage/parse/fields.ts), its rejects file and the TAP charges of each record, all written atomically
 * (temp files renamed into place once the whole file was read and passed its checks). A file refused as a
 * whole writes no CSV and no charges, only the rejects file with its one row.
 */
import fs from "node:fs";
import path from "node:path";
import { SERVICES } from "../core/enums";
import { formatPlmn } from "../core/plmn";
import { AtomicTextFile } from "../util/fsAtomic";
import { noProgress, type ProgressFactory, type ProgressReporter } from "../util/progress";
import { InputError } from "../core/errors";
import { USAGE_FIELDS } from "../usage/parse/fields";
import { csvField, RejectsWriter, type RejectsSummary, writeRefusal } from "../usage/rejects";
import { type ParsedRecord, RATS, zeroTotals } from "../usage/types";
import type { TermsLike } from "../agreements/terms";
import { rateInvoice } from "../settlement/rating";
import { type TapChunk, type TapMapOptions, TapMapper, type TapRecordCharges, tapCurrency } from "./map";
import { TapFileRefused } from "./refusal";
import type { TapHeader, TapSummary } from "./tap312";

export const CHARGES_HEADER =
  "recordId,service,charge,tax,discount,currency,decimalPlaces,exchangeRateCode,exchangeRate,exchangeRateDecimalPlaces";

/** What the records of one service add up to, and TAP's charge for them. */
export interface ServiceTotals {
  records: number;
  /** Seconds (voice and data), messages (SMS), bytes (data, up + down). */
  seconds: number;
  events: number;
  bytesUp: number;
  bytesDown: number;
  /** TAP's charge (type "00" + CAMEL fee), tax and discount, in 10^-decimalPlaces of the TAP currency. */
  charge: number;
  tax: number;
  discount: number;
}

export interface TapConversion {
  header: TapHeader;
  summary: TapSummary;
  /** By service name (voice, sms, data). */
  services: Record<string, ServiceTotals>;
  rejects: RejectsSummary;
  out: string;
  chargesFile: string;
  currency: string;
  decimalPlaces: number;
}

export interface TapConvertOptions extends TapMapOptions {
  file: string;
  /** The usage CSV to write; `<out>.charges.csv` beside it. */
  out: string;
  progress?: ProgressFactory;
}

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** Unix seconds as the CSV's `2026-11-04T09:00:00Z`. */
export function isoSeconds(t: number): string {
  const d = new Date(t * 1000);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}Z`;
}

/** One record as a line of the usage CSV (USAGE_FIELDS order). */
export function usageCsvLine(r: ParsedRecord): string {
  const fields = [
    r.recordId,
    r.imsi,
    formatPlmn(r.home),
    formatPlmn(r.visited),
    SERVICES[r.service],
    isoSeconds(r.startTime),
    r.duration,
    r.bytesUp,
    r.bytesDown,
    r.events,
    RATS[r.rat],
    r.latencyMs,
    r.throughputKbps,
  ];
  return `${fields.join(",")}\n`;
}

function chargesLine(c: TapRecordCharges, currency: string, decimals: number): string {
  const opt = (v: number | undefined) => (v === undefined ? "" : String(v));
  return `${csvField(c.recordId)},${SERVICES[c.service]},${c.charge},${c.tax},${c.discount},${currency},${decimals},${opt(c.exchangeRateCode)},${opt(c.exchangeRate)},${opt(c.exchangeRateDecimalPlaces)}\n`;
}

function emptyTotals(): ServiceTotals {
  return { records: 0, seconds: 0, events: 0, bytesUp: 0, bytesDown: 0, charge: 0, tax: 0, discount: 0 };
}

/** Converts a TAP file (see the module comment); a TapFileRefused leaves only the one-row rejects file. */
export async function convertTap(opts: TapConvertOptions): Promise<TapConversion> {
  const outDir = path.dirname(path.resolve(opts.out));
  if (!fs.existsSync(outDir) || !fs.statSync(outDir).isDirectory()) {
    throw new InputError(`the folder ${outDir} does not exist`, {
      location: { param: "out" },
      hint: "create it first, or name a file in an existing folder.",
    });
  }
  const csv = new AtomicTextFile(opts.out);
  const charges = new AtomicTextFile(`${opts.out}.charges.csv`);
  let rejects: RejectsWriter | undefined;
  let progress: ProgressReporter | undefined;
  try {
    const mapper = await TapMapper.open(opts.file, opts);
    const total = fs.statSync(opts.file).size;
    progress = (opts.progress ?? noProgress)({ label: `map ${path.basename(opts.file)}`, total, unit: "bytes" });
    const { currency, decimalPlaces } = tapCurrency(mapper.header);
    rejects = await RejectsWriter.open(opts.file);
    await csv.open(`${USAGE_FIELDS.join(",")}\n`);
    await charges.open(`${CHARGES_HEADER}\n`);
    const services: Record<string, ServiceTotals> = {};
    let records = 0;
    for await (const chunk of mapper.chunks()) {
      await takeChunk(chunk, { csv, charges, rejects, services, currency, decimalPlaces });
      records += chunk.records.length;
      progress.update(chunk.bytesRead, `${records.toLocaleString("en-US")} records`);
    }
    await csv.commit();
    await charges.commit();
    const rejectsSummary = await rejects.close();
    progress.done(`${records.toLocaleString("en-US")} records`);
    return {
      header: mapper.header,
      summary: mapper.summary(),
      services,
      rejects: rejectsSummary,
      out: opts.out,
      chargesFile: charges.target,
      currency,
      decimalPlaces,
    };
  } catch (error) {
    progress?.done("refused");
    await Promise.all([csv.abort(), charges.abort(), rejects?.abort()]);
    if (error instanceof TapFileRefused) await writeRefusal(opts.file, error);
    throw error;
  }
}

async function takeChunk(
  chunk: TapChunk,
  to: {
    csv: AtomicTextFile;
    charges: AtomicTextFile;
    rejects: RejectsWriter;
    services: Record<string, ServiceTotals>;
    currency: string;
    decimalPlaces: number;
  },
): Promise<void> {
  let lines = "";
  let chargeLines = "";
  for (let i = 0; i < chunk.records.length; i++) {
    const r = chunk.records[i];
    const c = chunk.charges[i];
    lines += usageCsvLine(r);
    chargeLines += chargesLine(c, to.currency, to.decimalPlaces);
    const name = SERVICES[r.service];
    to.services[name] ??= emptyTotals();
    const t = to.services[name];
    t.records++;
    t.seconds += r.duration;
    t.events += r.events;
    t.bytesUp += r.bytesUp;
    t.bytesDown += r.bytesDown;
    t.charge += c.charge;
    t.tax += c.tax;
    t.discount += c.discount;
  }
  await to.csv.add(lines);
  await to.charges.add(chargeLines);
  await to.rejects.write(chunk.rejects);
}

/** RoamLedger's rating of one service's usage in one tariff class (token base units; no monthly fee). */
export interface ClassRating {
  tariffClass: number;
  amount: bigint;
}

/**
 * Rates each service's totals as the contracts would (lib/settlement/rating.ts) under every rate plan the
 * visited carrier has in `terms`: the device's tariff class, which a TAP file does not carry, decides
 * which one applies (known once usage:ingest resolves the devices). Tiers apply to these volumes alone;
 * no monthly fee, surcharge or SLA credit (they depend on the whole period).
 */
export function rateServices(services: Record<string, ServiceTotals>, terms: TermsLike, visited: string): Record<string, ClassRating[]> {
  const out: Record<string, ClassRating[]> = {};
  const plans = terms.ratePlans.filter((p) => p.visited.toLowerCase() === visited.toLowerCase());
  for (const [service, t] of Object.entries(services)) {
    out[service] = plans.map((p) => {
      const totals = { ...zeroTotals(Number(p.tariffClass)) };
      if (service === "data") totals.dataBytes = BigInt(t.bytesUp + t.bytesDown);
      else if (service === "sms") totals.smsCount = BigInt(t.events);
      else if (service === "voice") totals.voiceSeconds = BigInt(t.seconds);
      return { tariffClass: Number(p.tariffClass), amount: rateInvoice([totals], terms, visited).lines[0].total };
    });
  }
  return out;
}
