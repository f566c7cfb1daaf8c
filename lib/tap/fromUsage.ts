/**
 * RoamLedger usage records -> a TAP 3.12 TransferBatch: the inverse of the mapping in docs/tap.md ("TAP call
 * event -> usage record"), written in a stream. The batch and its CallEventDetailList have the indefinite
 * length form, so nothing needs the count or the size in advance: memory stays flat for any number of call
 * events. AuditControlInfo (count, total charge, earliest and latest call) is added up while writing.
 *
 *   const enc = new TapBatchEncoder({ sender: "BRAVO", recipient: "DEUTS", fileSequenceNumber: 42 });
 *   out.write(enc.head()); for (const r of records) { enc.add(r); if (enc.pending > 1 << 20) out.write(enc.take()); }
 *   out.write(enc.take()); out.write(enc.tail());
 *
 * or `await writeTapFile(file, records, options)`, which does that through a write stream with back-pressure.
 *
 * What TAP cannot carry is refused, naming the record (an InputError with its file and line): signalling
 * records (TAP has no such service), a radio access technology other than the file's (`rat`: TAP 3.12 has none
 * for these call events, the reader gives every record the one it is told), latency or throughput, quantities
 * the service does not have (bytes on a voice call...). An SMS record of N messages is refused too, or written
 * as N call events of one message each with `sms: "split"` (TAP has one call event per short message).
 */
import fs from "node:fs";
import path from "node:path";
import { SERVICES } from "../core/enums";
import { InputError } from "../core/errors";
import type { Hex } from "../util/hex";
import { formatPlmn } from "../core/plmn";
import { type ParsedRecord, type Rat, RATS } from "../usage/types";
import { BerBuilder, END_OF_CONTENTS, openIndefinite } from "./berEncode";
import { tapRecordId } from "./recordIds";
import { T } from "./tags";
import { encodeAuditControl, encodeBatchHead, type TapEventSpec, writeCallEvent } from "./tapEncode";

/** TAP's charges, per unit, in the TAP currency (decimal amounts): the partners' tariff, for reconciliation. */
export interface TapRates {
  voicePerMinute: number;
  smsPerMessage: number;
  /** Per 1,000,000 bytes, up and down together. */
  dataPerMegabyte: number;
}

export const DEFAULT_TAP_RATES: TapRates = { voicePerMinute: 0.05, smsPerMessage: 0.01, dataPerMegabyte: 0.005 };

export interface TapWriterOptions {
  /** TADIG code of the sending (visited) network. */
  sender: string;
  /** TADIG code of the receiving (home) network. */
  recipient: string;
  /** 1 to 99999, written as five digits. */
  fileSequenceNumber: number | string;
  /** FileCreationTimeStamp; now when absent. TransferCutOffTimeStamp and FileAvailableTimeStamp default to it. */
  created?: Date;
  cutOff?: Date;
  available?: Date;
  /** The visited network's UTC offset (+hhmm / -hhmm): every timestamp is written as local time with it. */
  utcOffset?: string;
  /** FileTypeIndicator "T": test data. */
  testData?: boolean;
  /** LocalCurrency (default EUR), TapCurrency (default SDR), TapDecimalPlaces (default 5). */
  localCurrency?: string;
  tapCurrency?: string;
  tapDecimalPlaces?: number;
  /** Local currency units per TAP currency unit (default 1.2), written with 6 decimal places. */
  exchangeRate?: number;
  rates?: TapRates;
  /** The radio access technology every record must have (default lte): TAP does not carry it. */
  rat?: Rat;
  /** An SMS record of N > 1 messages: refused (default), or written as N call events. */
  sms?: "refuse" | "split";
  /** Names the input in errors (the file the records come from). */
  source?: string;
}

/** What a TAP file holds, as the writer added it up. */
export interface TapWriteSummary {
  sender: string;
  recipient: string;
  fileSequenceNumber: string;
  /** Usage records taken. */
  records: number;
  /** Call events written (more than records when SMS were split). */
  callEvents: number;
  callEventsByService: { voice: number; sms: number; data: number };
  /** AuditControlInfo TotalCharge, in 10^-tapDecimalPlaces of the TAP currency. */
  totalCharge: number;
  tapDecimalPlaces: number;
  /** UTC, ISO 8601; undefined for an empty batch. */
  earliestCall?: string;
  latestCall?: string;
  /** Records whose id was not the TAP record id of their call event's position (TAP carries no record ids). */
  renamedIds: number;
  /** Bytes written (writeTapFile only). */
  bytes?: number;
}

const TADIG = /^[A-Z]{3}[A-Z0-9]{2}$/;
const OFFSET = /^[+-](0\d|1[0-4])[0-5]\d$/;
const SERVICE_VOICE = SERVICES.indexOf("voice");
const SERVICE_SMS = SERVICES.indexOf("sms");
const SERVICE_DATA = SERVICES.indexOf("data");
/** RecEntityInformation: the MSC of the voice and SMS call events, the SGSN of the GPRS calls (TD.57 RecEntityType 1, 4). */
const REC_MSC = 1;
const REC_SGSN = 2;

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Checks the options and fills in the defaults. */
function resolve(o: TapWriterOptions) {
  const param = (p: string, problem: string, hint: string): never => {
    throw new InputError(problem, { location: { param: p }, hint });
  };
  if (!TADIG.test(o.sender))
    param("sender", `"${o.sender}" is not a TADIG code`, "give 5 characters: 3 letters, then 2 letters or digits (e.g. DEUD1).");
  if (!TADIG.test(o.recipient)) {
    param("recipient", `"${o.recipient}" is not a TADIG code`, "give 5 characters: 3 letters, then 2 letters or digits (e.g. BRAVO).");
  }
  const fsn = Number(o.fileSequenceNumber);
  if (!Number.isInteger(fsn) || fsn < 1 || fsn > 99_999) {
    param(
      "fileSequenceNumber",
      `file sequence number ${o.fileSequenceNumber} is not from 1 to 99999`,
      "number the files to this partner 1, 2, 3...",
    );
  }
  const utcOffset = o.utcOffset ?? "+0000";
  if (!OFFSET.test(utcOffset))
    param("utcOffset", `UTC offset "${utcOffset}" is not +hhmm or -hhmm`, "e.g. +0100 for Central European Time.");
  const tapDecimalPlaces = o.tapDecimalPlaces ?? 5;
  if (!Number.isInteger(tapDecimalPlaces) || tapDecimalPlaces < 0 || tapDecimalPlaces > 6) {
    param("tapDecimalPlaces", `TapDecimalPlaces ${tapDecimalPlaces} is not from 0 to 6`, "TAP 3.12 allows 0 to 6; 5 is usual.");
  }
  const rates = o.rates ?? DEFAULT_TAP_RATES;
  for (const [name, v] of Object.entries(rates)) {
    if (!(v >= 0 && Number.isFinite(v)))
      param("rates", `rate ${name} ${v} is not a non-negative amount`, "give amounts in the TAP currency.");
  }
  const exchangeRate = o.exchangeRate ?? 1.2;
  if (!(exchangeRate > 0 && exchangeRate < 1e6))
    param("exchangeRate", `exchange rate ${exchangeRate} is not a positive amount`, "e.g. 1.2.");
  const rat = o.rat ?? "lte";
  if (!RATS.includes(rat)) param("rat", `"${rat}" is not a radio access technology`, `use one of ${RATS.join(", ")}.`);
  const scale = 10 ** tapDecimalPlaces;
  return {
    sender: o.sender,
    recipient: o.recipient,
    fsn: String(fsn).padStart(5, "0"),
    utcOffset,
    offsetSeconds: (utcOffset[0] === "-" ? -1 : 1) * (Number(utcOffset.slice(1, 3)) * 3600 + Number(utcOffset.slice(3, 5)) * 60),
    tapDecimalPlaces,
    exchangeRate,
    rat: RATS.indexOf(rat),
    ratName: rat,
    split: o.sms === "split",
    /** Charges per second, message and byte, in 10^-tapDecimalPlaces units. */
    perSecond: (rates.voicePerMinute * scale) / 60,
    perMessage: Math.round(rates.smsPerMessage * scale),
    perByte: (rates.dataPerMegabyte * scale) / 1e6,
  };
}

/** Writes a TransferBatch in three parts: `head()`, the call events (`add`, `take`), `tail()`. */
export class TapBatchEncoder {
  private readonly o: ReturnType<typeof resolve>;
  private readonly b = new BerBuilder(1 << 20);
  private readonly spec: TapEventSpec = { kind: "gprsCall", imsi: "", local: "", offsetCode: 0, duration: 0, charge: 0 };
  private readonly sum: TapWriteSummary;
  private pair?: { home: Hex; visited: Hex };
  private earliest = Number.POSITIVE_INFINITY;
  private latest = Number.NEGATIVE_INFINITY;
  private day = Number.NaN;
  private dayText = "";

  constructor(private readonly options: TapWriterOptions) {
    this.o = resolve(options);
    this.spec.exchangeRateCode = 1;
    this.sum = {
      sender: this.o.sender,
      recipient: this.o.recipient,
      fileSequenceNumber: this.o.fsn,
      records: 0,
      callEvents: 0,
      callEventsByService: { voice: 0, sms: 0, data: 0 },
      totalCharge: 0,
      tapDecimalPlaces: this.o.tapDecimalPlaces,
      renamedIds: 0,
    };
  }

  /** The radio access technology of the records (index into RATS). */
  get rat(): number {
    return this.o.rat;
  }

  /** The file sequence number as written (five digits). */
  get fileSequenceNumber(): string {
    return this.o.fsn;
  }

  /** The record id the next call event will have when read back. */
  nextRecordId(): string {
    return tapRecordId(this.o.sender, this.o.fsn, this.sum.callEvents + 1);
  }

  /** The TransferBatch opened, its header groups, the CallEventDetailList opened. */
  head(): Buffer {
    const o = this.o;
    const created = this.options.created ?? new Date();
    return Buffer.concat([
      openIndefinite(T.TransferBatch),
      encodeBatchHead({
        sender: o.sender,
        recipient: o.recipient,
        fileSequenceNumber: o.fsn,
        created: this.localOfMs(created.getTime()),
        cutOff: this.options.cutOff ? this.localOfMs(this.options.cutOff.getTime()) : undefined,
        available: this.options.available ? this.localOfMs(this.options.available.getTime()) : undefined,
        utcOffset: o.utcOffset,
        fileTypeIndicator: this.options.testData ? "T" : undefined,
        currency: this.options.localCurrency ?? "EUR",
        tapCurrency: this.options.tapCurrency ?? "SDR",
        tapDecimalPlaces: o.tapDecimalPlaces,
        exchangeRates: [{ code: 1, numberOfDecimalPlaces: 6, rate: Math.round(o.exchangeRate * 1e6) }],
        offsets: new Map([[0, o.utcOffset]]),
        recEntities: [
          { code: REC_MSC, type: 1, id: `${o.sender}MSC1` },
          { code: REC_SGSN, type: 4, id: `${o.sender}SGSN1` },
        ],
      }),
      openIndefinite(T.CallEventDetailList),
    ]);
  }

  /** Encodes one record (one call event; N for an SMS of N messages with `sms: "split"`). */
  add(r: ParsedRecord): void {
    const problem = this.cannotCarry(r);
    if (problem) {
      throw new InputError(`record ${r.recordId}: ${problem}`, {
        location: { file: this.options.source, line: r.line },
        hint: "TAP carries voice, SMS and data only, without radio access technology or QoS: write such records as CSV instead (docs/tap.md).",
      });
    }
    const e = this.spec;
    e.imsi = r.imsi;
    e.local = this.localOf(r.startTime);
    e.duration = r.duration;
    const events = r.service === SERVICE_SMS ? r.events : 1;
    if (r.recordId !== this.nextRecordId() || events > 1) this.sum.renamedIds++;
    this.fill(r);
    for (let n = 0; n < events; n++) {
      writeCallEvent(this.b, e);
      this.sum.callEvents++;
      this.sum.totalCharge += e.charge;
    }
    const by = this.sum.callEventsByService;
    if (r.service === SERVICE_VOICE) by.voice++;
    else if (r.service === SERVICE_DATA) by.data++;
    else by.sms += events;
    this.sum.records++;
    if (r.startTime < this.earliest) this.earliest = r.startTime;
    if (r.startTime > this.latest) this.latest = r.startTime;
  }

  /** The call event's kind, service, volumes and charge. */
  private fill(r: ParsedRecord): void {
    const e = this.spec;
    const o = this.o;
    if (r.service === SERVICE_DATA) {
      e.kind = "gprsCall";
      e.volumeIncoming = r.bytesDown;
      e.volumeOutgoing = r.bytesUp;
      e.chargedItem = "X";
      e.chargeableUnits = r.bytesUp + r.bytesDown;
      e.charge = Math.round(e.chargeableUnits * o.perByte);
      e.recEntityCode = REC_SGSN;
      return;
    }
    e.kind = "mobileOriginatedCall";
    e.recEntityCode = REC_MSC;
    if (r.service === SERVICE_VOICE) {
      e.teleService = "11";
      e.chargedItem = "D";
      e.chargeableUnits = r.duration;
      e.charge = Math.round(r.duration * o.perSecond);
    } else {
      e.teleService = "22";
      e.chargedItem = "E";
      e.chargeableUnits = 1;
      e.charge = o.perMessage;
    }
  }

  /** Why TAP cannot carry the record as the reader would map it back, or undefined. */
  private cannotCarry(r: ParsedRecord): string | undefined {
    const o = this.o;
    if (this.pair === undefined) this.pair = { home: r.home, visited: r.visited };
    else if (r.home !== this.pair.home || r.visited !== this.pair.visited) {
      return `its pair ${formatPlmn(r.visited)} -> ${formatPlmn(r.home)} is not the file's (${formatPlmn(this.pair.visited)} -> ${formatPlmn(this.pair.home)}): a TAP file is from one network to one other`;
    }
    const service = SERVICES[r.service];
    if (r.service !== SERVICE_VOICE && r.service !== SERVICE_SMS && r.service !== SERVICE_DATA) {
      return `TAP has no call event for service ${service}`;
    }
    if (r.rat !== o.rat) return `rat ${RATS[r.rat]}: TAP 3.12 does not carry the radio access technology, and this file's is ${o.ratName}`;
    if (r.latencyMs !== 0 || r.throughputKbps !== 0) return "TAP does not carry latency or throughput";
    if (r.service === SERVICE_DATA && r.events !== 0) return `a data record with ${r.events} events (TAP's GprsCall has volumes only)`;
    if (r.service === SERVICE_VOICE && (r.events !== 0 || r.bytesUp !== 0 || r.bytesDown !== 0)) {
      return "a voice record with events or bytes (TAP's call has a duration only)";
    }
    if (r.service === SERVICE_SMS) {
      if (r.duration !== 0 || r.bytesUp !== 0 || r.bytesDown !== 0) return "an SMS record with a duration or bytes";
      if (r.events < 1) return "an SMS record of no message";
      if (r.events > 1 && !o.split)
        return `an SMS record of ${r.events} messages: TAP has one call event per message (the writer can split it)`;
    }
    return undefined;
  }

  /** CCYYMMDDhhmmss in the file's UTC offset, of a Unix time in seconds. */
  private localOf(unixSeconds: number): string {
    const t = unixSeconds + this.o.offsetSeconds;
    const day = Math.floor(t / 86_400);
    if (day !== this.day) {
      this.day = day;
      this.dayText = new Date(day * 86_400_000).toISOString().slice(0, 10).replaceAll("-", "");
    }
    const s = t - day * 86_400;
    return `${this.dayText}${pad2(Math.floor(s / 3600))}${pad2(Math.floor(s / 60) % 60)}${pad2(s % 60)}`;
  }

  private localOfMs(ms: number): string {
    return this.localOf(Math.floor(ms / 1000));
  }

  /** Bytes of call events encoded and not yet taken. */
  get pending(): number {
    return this.b.length;
  }

  /** The call events encoded since the last `take()`. */
  take(): Buffer {
    return this.b.take();
  }

  /** The CallEventDetailList closed, the AuditControlInfo, the TransferBatch closed. */
  tail(): Buffer {
    const empty = this.sum.callEvents === 0;
    const span = empty
      ? undefined
      : { earliest: this.localOf(this.earliest), latest: this.localOf(this.latest), utcOffset: this.o.utcOffset };
    return Buffer.concat([END_OF_CONTENTS, encodeAuditControl(this.sum.callEvents, this.sum.totalCharge, span), END_OF_CONTENTS]);
  }

  /** What was written so far (complete after `tail()`). */
  summary(): TapWriteSummary {
    const iso = (t: number) => (Number.isFinite(t) ? `${new Date(t * 1000).toISOString().slice(0, 19)}Z` : undefined);
    return {
      ...this.sum,
      callEventsByService: { ...this.sum.callEventsByService },
      earliestCall: iso(this.earliest),
      latestCall: iso(this.latest),
    };
  }
}

/** Flush to the file every this many bytes of call events (writeTapFile, the generator's TAP file). */
export const FLUSH_BYTES = 1 << 20;

/**
 * Writes `records` as a TAP file through a write stream, waiting when the stream says so (back-pressure):
 * memory flat whatever the count. The file appears only when complete (written to `<file>.<pid>.tmp`, renamed);
 * on any error the temporary file is removed and nothing is left at `file`.
 */
export async function writeTapFile(
  file: string,
  records: AsyncIterable<ParsedRecord> | Iterable<ParsedRecord>,
  options: TapWriterOptions,
): Promise<TapWriteSummary> {
  const enc = new TapBatchEncoder(options);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const out = fs.createWriteStream(tmp);
  let failed: Error | undefined;
  out.on("error", (err) => {
    failed = err;
  });
  const write = async (b: Buffer): Promise<void> => {
    if (failed) throw failed;
    if (!out.write(b)) {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          out.off("drain", done);
          out.off("error", done);
          if (err) reject(err);
          else resolve();
        };
        out.on("drain", done);
        out.on("error", done);
      });
    }
  };
  try {
    await write(enc.head());
    for await (const r of records) {
      enc.add(r);
      if (enc.pending >= FLUSH_BYTES) await write(enc.take());
    }
    await write(enc.take());
    await write(enc.tail());
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (failed) throw failed;
    fs.renameSync(tmp, file);
  } catch (err) {
    // The stream opens its file asynchronously: wait until it is closed (opened first if it was still
    // opening), or the file would appear after it was removed.
    await new Promise<void>((resolve) => {
      if (out.closed) resolve();
      else out.once("close", () => resolve());
      out.destroy();
    });
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  return { ...enc.summary(), bytes: fs.statSync(file).size };
}
