/**
 * TAP 3.12 call events -> RoamLedger usage records (issue 17; docs/tap.md, "The mapping"). Streams a TAP
 * file in the chunk shape of `parseUsageFile` (records and rejects per chunk, plus the TAP charges of each
 * record beside it), so that `usage:ingest` reads a TAP file where it reads a CSV file.
 *
 *   const mapper = await TapMapper.open(file, { home, visited, period, checkParties, sequenceLog });
 *   for await (const chunk of mapper.chunks()) ...   // records, rejects, charges (parallel to records)
 *   mapper.summary();                                // what the file held, the audit check
 *
 * File-level checks (RAP fatal) throw `TapFileRefused` before the first chunk: not BER or not a TAP
 * TransferBatch (TAP_STRUCTURE), not TAP 3.12 (TAP_VERSION), the parties (TAP_SENDER, TAP_RECIPIENT: the
 * caller's check), the file sequence number (TAP_SEQUENCE_*). The AuditControlInfo comes after the call
 * events, so TAP_AUDIT (and a structure error late in the file) is thrown after the last chunk: a caller
 * commits nothing of a file until the chunks are read to their end without an error.
 */
import fs from "node:fs";
import { InputError } from "../core/errors";
import { checkPeriod, formatPeriod, periodBounds } from "../core/period";
import { checkPlmnHex, formatPlmn, plmnMcc, plmnMnc } from "../core/plmn";
import type { Hex } from "../util/hex";
import { utcTimestamp } from "../usage/parse/dates";
import type { ParseChunk } from "../usage/parse/options";
import { absurdVolume, inconsistent } from "../usage/parse/rules";
import { checkImsi } from "../usage/parse/values";
import type { RecordIdSet } from "../usage/recordIdSet";
import { type ParsedRecord, RATS, type Reject, type RejectCode, SERVICE_DATA, SERVICE_SMS, SERVICE_VOICE } from "../usage/types";
import { BerError } from "./ber";
import { type CallEventContext, type CallEventKind, decodeCallEvent, type TapCallEvent } from "./callEvent";
import { claimTapId, FastRecords, tapUsageRecord } from "./fastMap";
import { TapFileRefused } from "./refusal";
import { TapSequenceLog } from "./sequenceLog";

export { isTapFile, looksLikeBer } from "./sniff";
import { type TapHeader, type TapSummary, TapFile, TapVersionError } from "./tap312";

/** TAP's charges of one record, kept for reconciliation (`usage:tap` writes them to `<out>.charges.csv`). */
export interface TapRecordCharges {
  recordId: string;
  /** The call event's kind, tag and byte offset: `tapRaw` names it as a rejects file does, for rejects found later (unknown device...). */
  kind: CallEventKind;
  tag: number;
  offset: number;
  service: number;
  /** Sum of the call event's charges of type "00" plus its CAMEL invocation fee, in 10^-decimalPlaces of `currency`. */
  charge: number;
  tax: number;
  discount: number;
  /** The ExchangeRateCode of the first ChargeInformation, and its rate from AccountingInfo (scaled by 10^rateDecimalPlaces). */
  exchangeRateCode?: number;
  exchangeRate?: number;
  exchangeRateDecimalPlaces?: number;
}

export interface TapChunk extends ParseChunk {
  /** One per record, in the same order. */
  charges: TapRecordCharges[];
}

export interface TapMapOptions {
  /** The pair the file bills (bytes3 hex): home = the recipient's member, visited = the sender's. */
  home: Hex;
  visited: Hex;
  /** yyyymm: a call event must start in this month (UTC), as for CSV. */
  period: number;
  /** Index into RATS for every record (TAP 3.12 carries no radio access technology): lte by default. */
  rat?: number;
  /**
   * Checks the file's sender and recipient (TADIG codes) against the pair; throws TapFileRefused
   * (TAP_SENDER / TAP_RECIPIENT). See {@link tadigPartyCheck}.
   */
  checkParties?: (header: TapHeader) => Promise<void>;
  /**
   * The folder of the file sequence logs (`<store>/tap`): a duplicate or out-of-order file sequence number
   * is refused. Checked only: the caller records the number once the import completed (`mapper.sequenceLog`).
   */
  sequenceDir?: string;
  /**
   * The record ids of the period's earlier files (usage:ingest's set): a call event whose id is there is a
   * DUPLICATE_RECORD_ID. Read only: nothing of this file is added. A TAP record id
   * (`TAP-<sender>-<fsn>-<position>`) cannot repeat inside its file (the position differs), so the mapping
   * keeps no state per call event and its memory does not grow with the file.
   */
  seenIds?: RecordIdSet;
  /**
   * "fast" (default): plain call events go from their bytes to the record directly (lib/tap/fastMap.ts), the
   * others the full way; "full": every call event is decoded into a TapCallEvent first, then mapped (the same
   * records, rejects and charges, slower: kept to compare, test/unit/tap/fastMap.test.ts and scripts/bench/tap.ts).
   */
  decoder?: "fast" | "full";
  /** Call events per chunk (default 8192). */
  chunkEvents?: number;
  /**
   * The file is imported one month at a time (usage:stream splits a TAP file whose call events span months,
   * lib/tap/months.ts): a call event whose UTC start is in another month than `period` belongs to that
   * month's part and is skipped here, neither a record nor a reject (`skippedOtherMonths` counts them); one
   * without a readable start is rejected by the part with `undatedHere` only. Every call event is thus
   * reported once across the parts. Without it, a call event of another month is an OUTSIDE_PERIOD reject.
   */
  monthPart?: { undatedHere: boolean };
}

/** A call event's start in unix seconds (UTC), or undefined when it has no readable one. */
export function tapEventTime(ev: TapCallEvent): number | undefined {
  const utc = ev.start?.utc;
  if (utc === undefined) return undefined;
  const t = utcTimestamp(utc, 0, utc.length);
  return typeof t === "number" ? t : undefined;
}

/**
 * The party check `usage:tap` and `usage:ingest` use: the sender's TADIG code must be registered by the
 * visited member of the pair, the recipient's by the home member. `lookup` is the chain's registry
 * (lib/consortium/tadig.ts plmnOfTadig).
 */
export function tadigPartyCheck(
  lookup: (code: string) => Promise<Hex | undefined>,
  pair: { home: Hex; visited: Hex; file?: string },
): (header: TapHeader) => Promise<void> {
  return async (header) => {
    const sides = [
      { code: header.sender, want: pair.visited, role: "sender", fatal: "TAP_SENDER", offset: 0 },
      { code: header.recipient, want: pair.home, role: "recipient", fatal: "TAP_RECIPIENT", offset: 0 },
    ] as const;
    for (const side of sides) {
      const plmn = await lookup(side.code);
      const member = side.role === "sender" ? "visited (you, the sender)" : "home (the partner billed)";
      if (plmn === undefined) {
        throw new TapFileRefused(side.fatal, `the ${side.role} TADIG code ${side.code} is not registered by any member`, {
          file: pair.file,
          hint: `the ${member} carrier registers its TADIG codes on chain (tadig:add); check the file is for this consortium.`,
        });
      }
      if (plmn.toLowerCase() !== side.want.toLowerCase()) {
        throw new TapFileRefused(
          side.fatal,
          `the ${side.role} TADIG code ${side.code} is ${formatPlmn(plmn)}'s, not the ${member} network ${formatPlmn(side.want)}`,
          { file: pair.file, hint: "check --home and the account (--from) you run as, or that the file is the right one." },
        );
      }
    }
  };
}

const MAPPED_KINDS = new Set<CallEventKind>(["mobileOriginatedCall", "mobileTerminatedCall", "gprsCall"]);
const KIND_NAMES: Record<CallEventKind, string> = {
  mobileOriginatedCall: "MobileOriginatedCall",
  mobileTerminatedCall: "MobileTerminatedCall",
  supplServiceEvent: "SupplServiceEvent",
  serviceCentreUsage: "ServiceCentreUsage",
  gprsCall: "GprsCall",
  contentTransaction: "ContentTransaction",
  locationService: "LocationService",
  messagingEvent: "MessagingEvent",
  mobileSession: "MobileSession",
  unknown: "unknown call event",
};

/** The rejects file's `raw` of a call event: `<CallEventKind> at byte <offset>` (the RAP writer finds it by that). */
export function tapRaw(ev: Pick<TapCallEvent, "kind" | "tag" | "offset">): string {
  const name = ev.kind === "unknown" ? `APPLICATION ${ev.tag}` : KIND_NAMES[ev.kind];
  return `${name} at byte ${ev.offset}`;
}

/** The service of an MO/MT call by its teleservice codes: 10-12 speech, 20-22 short message; -1 for neither. */
function teleService(codes: readonly string[]): number {
  for (const c of codes) {
    if (c === "10" || c === "11" || c === "12") return SERVICE_VOICE;
    if (c === "20" || c === "21" || c === "22") return SERVICE_SMS;
  }
  return -1;
}

/** The reject code of a call event's first decoding problem, by the item it is about. */
function problemCode(message: string): RejectCode {
  if (message.startsWith("Imsi")) return "INVALID_IMSI";
  if (/TimeStamp|Timestamp|timestamp|UtcTimeOffset/.test(message)) return "INVALID_TIMESTAMP";
  return "MALFORMED";
}

export class TapMapper {
  private readonly prefix: string;
  private readonly imsiPrefix: string;
  private readonly periodStart: number;
  private readonly periodEnd: number;
  private readonly rat: number;
  /** The period's earlier record ids (read only); without it none is checked: a file's own ids differ by position. */
  private readonly ids?: RecordIdSet;
  private readonly rates = new Map<number, { rate: number; numberOfDecimalPlaces: number }>();
  /** Records and rejects per reject code and service, for the report. */
  readonly recordsByService = new Map<number, number>();
  readonly chargeByService = new Map<number, number>();
  readonly rejectsByCode = new Map<RejectCode, number>();
  /** Call events left to another month's part (`monthPart`). */
  skippedOtherMonths = 0;
  private finished?: TapSummary;
  /** The sender -> recipient log of `sequenceDir`, when given. */
  sequenceLog?: TapSequenceLog;

  private constructor(
    readonly file: string,
    private readonly tap: TapFile,
    private readonly options: TapMapOptions,
  ) {
    const h = tap.header;
    this.prefix = `TAP-${h.sender}-${h.fileSequenceNumber}-`;
    const home = formatPlmn(options.home);
    this.imsiPrefix = plmnMcc(home) + plmnMnc(home);
    [this.periodStart, this.periodEnd] = periodBounds(options.period);
    this.rat = options.rat ?? RATS.indexOf("lte");
    this.ids = options.seenIds;
    for (const r of h.accounting?.exchangeRates ?? []) this.rates.set(r.code, r);
  }

  /** Opens the file, reads its header groups and runs the file-level checks (TapFileRefused when one fails). */
  static async open(file: string, options: TapMapOptions): Promise<TapMapper> {
    checkPlmnHex(options.home, "home");
    checkPlmnHex(options.visited, "visited");
    checkPeriod(options.period);
    if (options.rat !== undefined && (options.rat < 0 || options.rat >= RATS.length)) throw new Error(`rat ${options.rat}`);
    if (!fs.existsSync(file)) {
      throw new InputError("file not found", { location: { file }, hint: `check the path (relative paths start from ${process.cwd()}).` });
    }
    const tap = await TapFile.open(file, { fileSize: fs.statSync(file).size }).catch((err: unknown) => {
      throw refusalOf(file, err);
    });
    await options.checkParties?.(tap.header);
    const mapper = new TapMapper(file, tap, options);
    if (options.sequenceDir !== undefined) {
      mapper.sequenceLog = TapSequenceLog.open(options.sequenceDir, tap.header.sender, tap.header.recipient);
      mapper.sequenceLog.check(tap.header.fileSequenceNumber, file);
    }
    return mapper;
  }

  get header(): TapHeader {
    return this.tap.header;
  }

  /** Records, rejects and charges, `chunkEvents` call events at a time; TAP_AUDIT after the last one when the audit fails. */
  async *chunks(): AsyncGenerator<TapChunk> {
    let chunk: TapChunk = { records: [], rejects: [], charges: [], bytesRead: 0 };
    try {
      if (this.options.decoder === "full") chunk = yield* this.decodedChunks();
      else chunk = yield* this.fastChunks();
    } catch (err) {
      throw refusalOf(this.file, err);
    }
    const summary = this.tap.summary();
    if (!summary.audit.ok) {
      throw new TapFileRefused("TAP_AUDIT", `AuditControlInfo does not match the call events: ${summary.audit.problems.join("; ")}`, {
        file: this.file,
        offset: summary.audit.declared?.offset ?? 0,
        hint: "ask the sender for a corrected file (the same file sequence number); nothing of this one is imported.",
      });
    }
    this.finished = summary;
    chunk.bytesRead = fs.statSync(this.file).size;
    yield chunk;
  }

  /** The full way: every call event decoded (`TapFile.callEvents()`), then mapped. Returns the last, partial chunk. */
  private async *decodedChunks(): AsyncGenerator<TapChunk, TapChunk> {
    const size = this.options.chunkEvents ?? 8192;
    let chunk: TapChunk = { records: [], rejects: [], charges: [], bytesRead: 0 };
    let n = 0;
    for await (const ev of this.tap.callEvents()) {
      this.take(ev, chunk);
      if (++n === size) {
        chunk.bytesRead = ev.offset;
        yield chunk;
        chunk = { records: [], rejects: [], charges: [], bytesRead: 0 };
        n = 0;
      }
    }
    return chunk;
  }

  /** The fast way: records filled from the bytes; a call event the fast path does not accept is decoded and mapped the full way. */
  private async *fastChunks(): AsyncGenerator<TapChunk, TapChunk> {
    const size = this.options.chunkEvents ?? 8192;
    const h = this.tap.header;
    const fast = new FastRecords({
      prefix: this.prefix,
      imsiPrefix: this.imsiPrefix,
      periodStart: this.periodStart,
      periodEnd: this.periodEnd,
      home: this.options.home,
      visited: this.options.visited,
      rat: this.rat,
      utcOffsets: h.utcOffsets,
      ids: this.ids,
    });
    let chunk: TapChunk = { records: [], rejects: [], charges: [], bytesRead: 0 };
    let n = 0;
    yield* this.tap.walkCallEvents((ctx) => {
      const record = fast.record(ctx);
      if (record) this.takeFast(fast, ctx, record, chunk);
      else {
        const ev = decodeCallEvent(ctx);
        this.tap.count(ev);
        this.take(ev, chunk);
      }
      if (++n < size) return undefined;
      const full = chunk;
      full.bytesRead = ctx.header.offset;
      chunk = { records: [], rejects: [], charges: [], bytesRead: 0 };
      n = 0;
      return full;
    });
    return chunk;
  }

  /** A record of the fast path, with its charges from the walk; counted for the audit. */
  private takeFast(fast: FastRecords, ctx: CallEventContext, record: ParsedRecord, chunk: TapChunk): void {
    const w = fast.walker;
    const charge = w.charge + w.camelFee;
    this.tap.tally(fast.kind, charge, w.tax, w.discount);
    const code = Number.isNaN(w.rateCode) ? undefined : w.rateCode;
    const rate = code === undefined ? undefined : this.rates.get(code);
    const charges: TapRecordCharges = {
      recordId: record.recordId,
      kind: fast.kind,
      tag: ctx.header.tag,
      offset: ctx.header.offset,
      service: record.service,
      charge,
      tax: w.tax,
      discount: w.discount,
      exchangeRateCode: code,
      exchangeRate: rate?.rate,
      exchangeRateDecimalPlaces: rate?.numberOfDecimalPlaces,
    };
    this.accept(record, charges, chunk);
  }

  /** What the file held (complete once `chunks()` has been read to its end). */
  summary(): TapSummary {
    if (!this.finished) throw new Error("TapMapper.summary(): read chunks() to the end first");
    return this.finished;
  }

  /** Maps one call event into the chunk: a record with its charges, or a reject (or neither: another month's part takes it). */
  private take(ev: TapCallEvent, chunk: TapChunk): void {
    if (this.options.monthPart && this.elsewhere(ev, this.options.monthPart.undatedHere)) {
      this.skippedOtherMonths++;
      return;
    }
    const outcome = this.map(ev);
    if ("code" in outcome) {
      chunk.rejects.push(outcome);
      this.rejectsByCode.set(outcome.code, (this.rejectsByCode.get(outcome.code) ?? 0) + 1);
      return;
    }
    this.accept(outcome, this.chargesOf(ev, outcome), chunk);
  }

  private accept(record: ParsedRecord, charges: TapRecordCharges, chunk: TapChunk): void {
    chunk.records.push(record);
    chunk.charges.push(charges);
    this.recordsByService.set(record.service, (this.recordsByService.get(record.service) ?? 0) + 1);
    this.chargeByService.set(record.service, (this.chargeByService.get(record.service) ?? 0) + charges.charge);
  }

  private reject(ev: TapCallEvent, code: RejectCode, reason: string): Reject {
    return { line: ev.position, code, reason, raw: tapRaw(ev) };
  }

  /** True when the call event belongs to another month's part: its UTC start is in another month, or it has none and `undatedHere` is false. */
  private elsewhere(ev: TapCallEvent, undatedHere: boolean): boolean {
    const t = tapEventTime(ev);
    return t === undefined ? !undatedHere : t < this.periodStart || t >= this.periodEnd;
  }

  /** One call event as a record, or the reason it is not one (tapspec 3 and 4). */
  map(ev: TapCallEvent): ParsedRecord | Reject {
    if (!MAPPED_KINDS.has(ev.kind)) {
      return this.reject(ev, "NOT_BILLABLE", `a ${tapRaw(ev).split(" at ")[0]} is not billed through RoamLedger (reported, not imported)`);
    }
    let service = SERVICE_DATA;
    if (ev.kind !== "gprsCall") {
      service = teleService(ev.teleServiceCodes);
      if (service < 0) {
        const what =
          ev.teleServiceCodes.length > 0 ? `TeleServiceCode ${ev.teleServiceCodes.join(", ")}` : "no TeleServiceCode (circuit data)";
        return this.reject(ev, "NOT_BILLABLE", `${what}: only speech (10-12) and short messages (20-22) are billed through RoamLedger`);
      }
    }
    if (ev.problems.length > 0) {
      const p = ev.problems[0];
      return this.reject(ev, problemCode(p.message), `${p.message} (byte ${p.offset})`);
    }
    const start = this.identity(ev);
    return typeof start === "number" ? this.quantities(ev, service, start) : start;
  }

  /** Checks the IMSI (of the home network); returns the start time (unix seconds, in the period) or the reject. */
  private identity(ev: TapCallEvent): number | Reject {
    const imsi = ev.imsi;
    if (imsi === undefined) return this.reject(ev, "INVALID_IMSI", "no Imsi in the call event");
    const imsiProblem = checkImsi(imsi, 0, imsi.length);
    if (imsiProblem) return this.reject(ev, "INVALID_IMSI", `Imsi ${imsi} ${imsiProblem}`);
    if (!imsi.startsWith(this.imsiPrefix)) {
      const reason = `Imsi ${imsi} does not start with ${this.imsiPrefix}, the MCC and MNC of the home network ${formatPlmn(this.options.home)}`;
      return this.reject(ev, "WRONG_HOME_PLMN", reason);
    }
    const utc = ev.start?.utc;
    if (utc === undefined) return this.reject(ev, "INVALID_TIMESTAMP", "no start time in UTC");
    const t = utcTimestamp(utc, 0, utc.length);
    if (typeof t === "string") return this.reject(ev, "INVALID_TIMESTAMP", `start ${utc} ${t}`);
    if (t < this.periodStart || t >= this.periodEnd) {
      const local = ev.start?.local;
      return this.reject(
        ev,
        "OUTSIDE_PERIOD",
        `start ${utc} (local ${local} ${ev.start?.utcOffset}) is outside the period ${formatPeriod(this.options.period)} (UTC)`,
      );
    }
    return t;
  }

  /** Duration, volumes and count by service; the CSV rules (negative, absurd, inconsistent, duplicate id). */
  private quantities(ev: TapCallEvent, service: number, startTime: number): ParsedRecord | Reject {
    const duration = ev.duration;
    if (duration === undefined) return this.reject(ev, "MISSING_FIELD", "no TotalCallEventDuration");
    const data = service === SERVICE_DATA;
    const bytesUp = data ? (ev.volumeOutgoing ?? 0) : 0;
    const bytesDown = data ? (ev.volumeIncoming ?? 0) : 0;
    if (duration < 0) return this.reject(ev, "NEGATIVE_VOLUME", `TotalCallEventDuration is negative (${duration})`);
    if (bytesUp < 0) return this.reject(ev, "NEGATIVE_VOLUME", `DataVolumeOutgoing is negative (${bytesUp})`);
    if (bytesDown < 0) return this.reject(ev, "NEGATIVE_VOLUME", `DataVolumeIncoming is negative (${bytesDown})`);
    const pair = { prefix: this.prefix, home: this.options.home, visited: this.options.visited, rat: this.rat };
    const record = tapUsageRecord(pair, ev.position, ev.imsi as string, service, startTime, duration, bytesUp, bytesDown);
    const absurd = absurdVolume(record);
    if (absurd) return this.reject(ev, "ABSURD_VOLUME", absurd);
    const inconsistency = inconsistent(record);
    if (inconsistency) return this.reject(ev, "INCONSISTENT_RECORD", inconsistency);
    // Earlier files only can clash (the position is part of the id); accepted ids join the period's set.
    if (this.ids !== undefined && !claimTapId(this.ids, record.recordId, ev.position)) {
      return this.reject(ev, "DUPLICATE_RECORD_ID", `${record.recordId} was accepted from an earlier file of this period`);
    }
    return record;
  }

  private chargesOf(ev: TapCallEvent, record: ParsedRecord): TapRecordCharges {
    let charge = ev.camelInvocationFee ?? 0;
    let code: number | undefined;
    for (const c of ev.charges) {
      if (c.chargeType === "00" && c.charge !== undefined) charge += c.charge;
      code ??= c.exchangeRateCode;
    }
    let tax = 0;
    for (const x of ev.taxes) tax += x.taxValue ?? 0;
    let discount = 0;
    for (const d of ev.discounts) discount += d.discount ?? 0;
    const rate = code === undefined ? undefined : this.rates.get(code);
    return {
      recordId: record.recordId,
      kind: ev.kind,
      tag: ev.tag,
      offset: ev.offset,
      service: record.service,
      charge,
      tax,
      discount,
      exchangeRateCode: code,
      exchangeRate: rate?.rate,
      exchangeRateDecimalPlaces: rate?.numberOfDecimalPlaces,
    };
  }
}

/** The decoder's errors as TapFileRefused (TAP_VERSION for a version, TAP_STRUCTURE otherwise); other errors as they are. */
function refusalOf(file: string, err: unknown): unknown {
  if (err instanceof TapVersionError) {
    return new TapFileRefused("TAP_VERSION", err.problem, { file, offset: err.offset, hint: err.hint, cause: err });
  }
  if (err instanceof BerError) {
    return new TapFileRefused("TAP_STRUCTURE", err.problem, { file, offset: err.offset, hint: err.hint, cause: err });
  }
  return err;
}

/** The TAP currency of a file's amounts and their decimal places (TD.57: SDR when TapCurrency is absent). */
export function tapCurrency(header: TapHeader): { currency: string; decimalPlaces: number } {
  return { currency: header.accounting?.tapCurrency ?? "SDR", decimalPlaces: header.accounting?.tapDecimalPlaces ?? 0 };
}
