import { InputError } from "../../core/errors";
import type { Hex } from "../../util/hex";
import { checkPlmnHex, formatPlmn, parsePlmn, plmnMcc, plmnMnc } from "../../core/plmn";
import { checkPeriod } from "../../core/period";
import { RecordIdSet } from "../recordIdSet";
import type { ParsedRecord, Reject, RejectCode } from "../types";
import { OUTSIDE_PERIOD, utcTimestamp } from "./dates";
import {
  F_DOWN,
  F_DURATION,
  F_EVENTS,
  F_HOME,
  F_ID,
  F_IMSI,
  F_LATENCY,
  F_RAT,
  F_SERVICE,
  F_START,
  F_THROUGHPUT,
  F_UP,
  F_VISITED,
  FIELD_COUNT,
  FIELD_INDEX,
  RAT_INDEX,
  RAT_NAMES,
  REQUIRED_FIELDS,
  SERVICE_INDEX,
  SERVICE_NAMES,
  STRING_FIELD_CODES,
  STRING_FIELDS,
  UNITS,
  USAGE_FIELDS,
  USAGE_LIMITS,
  type UsageFormat,
} from "./fields";
import type { LineParserOptions } from "./options";
import { countCommas, splitQuoted } from "./quoted";
import { inconsistent } from "./rules";
import {
  checkImsi,
  checkRecordId,
  describe,
  jsonCount,
  NUM_EMPTY,
  NUM_INVALID,
  NUM_NEGATIVE,
  NUM_TOO_BIG,
  parseDigits,
  truncateRaw,
} from "./values";

type ParseOutcome = ParsedRecord | Reject;

/** True when a parse outcome is a reject. */
export function isReject(outcome: ParseOutcome): outcome is Reject {
  return "code" in outcome;
}

// What a field holds on the current line.
const ABSENT = 0;
const TEXT = 1; // src[f].slice(st[f], en[f]), possibly empty
const NUMBER = 2; // a JSON number, in num[f]
const OTHER = 3; // another JSON value, in other[f]

/**
 * Validates single lines against one run's settings (home, visited, period, CSV columns). Keeps the
 * ids of the records it accepted, to reject later duplicates. Used by parseUsageFile; exposed for
 * tests and tools that get records one at a time.
 *
 * Fields are read in place (offsets into the line) so that a valid CSV line costs two small strings
 * (record id and IMSI) and the record object.
 */
export class UsageLineParser {
  private readonly format: UsageFormat;
  private readonly home: Hex;
  private readonly visited: Hex;
  private readonly homeText: string;
  private readonly visitedText: string;
  private readonly imsiPrefix: string;
  private readonly period: number;
  /** Ids of earlier files (value 0) and of this file (value: the line). */
  private readonly ids: RecordIdSet;
  private readonly plmnCache = new Map<string, Hex | null>();
  /** For CSV: field index of each column. */
  private readonly columnField: Int32Array;
  private readonly columnCount: number;
  // The fields of the current line.
  private readonly kind = new Uint8Array(FIELD_COUNT);
  private readonly src: string[] = new Array<string>(FIELD_COUNT).fill("");
  private readonly st = new Int32Array(FIELD_COUNT);
  private readonly en = new Int32Array(FIELD_COUNT);
  private readonly num = new Float64Array(FIELD_COUNT);
  private readonly other: unknown[] = new Array<unknown>(FIELD_COUNT).fill(undefined);

  constructor(options: LineParserOptions) {
    checkPlmnHex(options.home, "home");
    checkPlmnHex(options.visited, "visited");
    checkPeriod(options.period);
    this.format = options.format ?? "csv";
    this.home = options.home;
    this.visited = options.visited;
    this.homeText = formatPlmn(options.home);
    this.visitedText = formatPlmn(options.visited);
    // The same prefix as lib/core/imsi.ts imsiBelongsTo, computed once.
    this.imsiPrefix = plmnMcc(this.homeText) + plmnMnc(this.homeText);
    this.period = options.period;
    if (options.seenIds && !options.seenIds.hasValues) throw new Error("seenIds must be a RecordIdSet made withValues");
    this.ids = options.seenIds ?? new RecordIdSet({ withValues: true, expected: options.expectedRecords });
    const columns = options.columns ?? USAGE_FIELDS;
    this.columnCount = columns.length;
    this.columnField = new Int32Array(columns.length);
    const seen = new Set<number>();
    columns.forEach((name, i) => {
      const f = FIELD_INDEX.get(name);
      if (f === undefined || seen.has(f)) {
        throw new InputError(`${f === undefined ? "unknown" : "repeated"} column "${name}"`, {
          hint: `the columns are ${USAGE_FIELDS.join(", ")}.`,
        });
      }
      seen.add(f);
      this.columnField[i] = f;
    });
    const missing = REQUIRED_FIELDS.filter((f) => !seen.has(FIELD_INDEX.get(f)!));
    if (missing.length) throw new InputError(`missing column${missing.length === 1 ? "" : "s"} ${missing.join(", ")}`);
  }

  /**
   * Parses one line (without its line break). `unterminated` marks the last line of a file that
   * has no final line break, so that a reject can say the line may be cut off.
   */
  parse(text: string, line: number, unterminated = false): ParseOutcome {
    const split = this.format === "csv" ? this.splitCsv(text, line) : this.splitJson(text, line);
    const result = split ?? this.validate(line, text);
    if (unterminated && "code" in result) result.reason += " (the last line of the file has no line break: was it cut off?)";
    return result;
  }

  private reject(line: number, code: RejectCode, reason: string, raw: string): Reject {
    return { line, code, reason, raw: truncateRaw(raw) };
  }

  private splitCsv(text: string, line: number): Reject | undefined {
    const { kind, src, st, en } = this;
    const cols = this.columnField;
    const n = this.columnCount;
    if (text.indexOf('"') !== -1) {
      const fields = splitQuoted(text);
      if (typeof fields === "string") return this.reject(line, "MALFORMED", `bad quoting: ${fields}`, text);
      if (fields.length !== n) return this.columnCountReject(line, fields.length, text);
      for (let c = 0; c < n; c++) {
        const f = cols[c];
        kind[f] = TEXT;
        src[f] = fields[c];
        st[f] = 0;
        en[f] = fields[c].length;
      }
      return undefined;
    }
    let start = 0;
    for (let c = 0; c < n; c++) {
      const f = cols[c];
      const comma = text.indexOf(",", start);
      kind[f] = TEXT;
      src[f] = text;
      st[f] = start;
      if (c === n - 1) {
        if (comma !== -1) return this.columnCountReject(line, n + countCommas(text, comma + 1) + 1, text);
        en[f] = text.length;
      } else {
        if (comma === -1) return this.columnCountReject(line, c + 1, text);
        en[f] = comma;
        start = comma + 1;
      }
    }
    return undefined;
  }

  private columnCountReject(line: number, found: number, text: string): Reject {
    return this.reject(
      line,
      "MALFORMED",
      `expected ${this.columnCount} fields as in the header, found ${found} (quote a value that contains a comma)`,
      text,
    );
  }

  private splitJson(text: string, line: number): Reject | undefined {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      return this.reject(line, "MALFORMED", `not valid JSON: ${(err as Error).message}`, text);
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      return this.reject(line, "MALFORMED", 'not a JSON object: each line holds one record as {"recordId": ..., ...}', text);
    }
    const unknown = this.takeObject(obj as Record<string, unknown>);
    if (unknown) {
      return this.reject(
        line,
        "MALFORMED",
        `unknown field${unknown.length === 1 ? "" : "s"} ${unknown.map((k) => JSON.stringify(k)).join(", ")}`,
        text,
      );
    }
    return undefined;
  }

  /** Takes the fields of a parsed JSON object; returns the unknown keys, if any. */
  private takeObject(obj: Record<string, unknown>): string[] | undefined {
    const { kind, src, st, en, num, other } = this;
    kind.fill(ABSENT);
    let unknown: string[] | undefined;
    for (const key in obj) {
      const f = FIELD_INDEX.get(key);
      if (f === undefined) {
        (unknown ??= []).push(key);
        continue;
      }
      const value = obj[key];
      if (typeof value === "string") {
        kind[f] = TEXT;
        src[f] = value;
        st[f] = 0;
        en[f] = value.length;
      } else if (typeof value === "number") {
        kind[f] = NUMBER;
        num[f] = value;
      } else if (value !== null) {
        kind[f] = OTHER;
        other[f] = value;
      }
    }
    return unknown;
  }

  /** The value of field f as a string (for messages; and the record id and IMSI). */
  private text(f: number): string {
    return this.src[f].slice(this.st[f], this.en[f]);
  }

  /** Field f as written, quoted, short (for messages). */
  private shown(f: number): string {
    const k = this.kind[f];
    return describe(k === TEXT ? this.text(f) : k === NUMBER ? this.num[f] : k === OTHER ? this.other[f] : undefined);
  }

  private present(f: number): boolean {
    const k = this.kind[f];
    return k === NUMBER || k === OTHER || (k === TEXT && this.en[f] > this.st[f]);
  }

  /** PLMN id of field f, or null when it is not one. */
  private plmn(f: number): Hex | null {
    const s = this.src[f];
    const a = this.st[f];
    const n = this.en[f] - a;
    if (n === this.homeText.length && s.startsWith(this.homeText, a)) return this.home;
    if (n === this.visitedText.length && s.startsWith(this.visitedText, a)) return this.visited;
    const text = this.text(f);
    let hex = this.plmnCache.get(text);
    if (hex === undefined) {
      hex = /^\d{3}-?\d{2,3}$/.test(text) && !text.startsWith("000") ? parsePlmn(text) : null;
      if (this.plmnCache.size < 1024) this.plmnCache.set(text, hex);
    }
    return hex;
  }

  /** Index of field f's value in `names` (exact, else ignoring case), or -1. */
  private oneOf(f: number, names: readonly string[], index: ReadonlyMap<string, number>): number {
    const s = this.src[f];
    const a = this.st[f];
    const n = this.en[f] - a;
    for (let k = 0; k < names.length; k++) if (names[k].length === n && s.startsWith(names[k], a)) return k;
    return index.get(this.text(f).toLowerCase()) ?? -1;
  }

  /** Field f as a count: >= 0 (0 when an optional one is absent or empty), or a NUM_ code. */
  private count(f: number): number {
    const k = this.kind[f];
    if (k === TEXT) {
      const n = parseDigits(this.src[f], this.st[f], this.en[f]);
      return n === NUM_EMPTY ? 0 : n;
    }
    if (k === NUMBER) return jsonCount(this.num[f]);
    return k === ABSENT ? 0 : NUM_INVALID;
  }

  private countReject(line: number, f: number, n: number, raw: string): Reject {
    const name = USAGE_FIELDS[f];
    if (n === NUM_NEGATIVE) return this.reject(line, "NEGATIVE_VOLUME", `${name} is negative (${this.shown(f)})`, raw);
    if (n === NUM_TOO_BIG) return this.reject(line, "INVALID_NUMBER", `${name} ${this.shown(f)} is beyond 2^53`, raw);
    return this.reject(line, "INVALID_NUMBER", `${name} ${this.shown(f)} is not a whole number of ${UNITS[f]}`, raw);
  }

  private validate(line: number, raw: string): ParseOutcome {
    // Presence of the required fields, all named at once.
    let missing: string | undefined;
    for (let f = 0; f < F_LATENCY; f++) {
      if (!this.present(f)) missing = missing === undefined ? USAGE_FIELDS[f] : `${missing}, ${USAGE_FIELDS[f]}`;
    }
    if (missing !== undefined) return this.reject(line, "MISSING_FIELD", `missing ${missing}`, raw);

    // JSON: the text fields must be strings.
    if (this.format === "jsonl") {
      for (const f of STRING_FIELDS) {
        if (this.kind[f] !== TEXT)
          return this.reject(line, STRING_FIELD_CODES[f], `${USAGE_FIELDS[f]} must be a JSON string, found ${this.shown(f)}`, raw);
      }
    }

    const idProblem = checkRecordId(this.src[F_ID], this.st[F_ID], this.en[F_ID]);
    if (idProblem) return this.reject(line, "INVALID_RECORD_ID", `recordId ${idProblem}`, raw);

    const imsiProblem = checkImsi(this.src[F_IMSI], this.st[F_IMSI], this.en[F_IMSI]);
    if (imsiProblem) return this.reject(line, "INVALID_IMSI", `imsi ${imsiProblem}`, raw);

    const home = this.plmn(F_HOME);
    if (home === null)
      return this.reject(line, "INVALID_PLMN", `homePlmn ${this.shown(F_HOME)} is not a PLMN id like 262-01 (MCC-MNC)`, raw);
    const visited = this.plmn(F_VISITED);
    if (visited === null)
      return this.reject(line, "INVALID_PLMN", `visitedPlmn ${this.shown(F_VISITED)} is not a PLMN id like 262-01 (MCC-MNC)`, raw);
    if (home !== this.home) {
      return this.reject(
        line,
        "WRONG_HOME_PLMN",
        `homePlmn ${formatPlmn(home)} is not the home network of this run (${this.homeText})`,
        raw,
      );
    }
    if (!this.src[F_IMSI].startsWith(this.imsiPrefix, this.st[F_IMSI])) {
      return this.reject(
        line,
        "WRONG_HOME_PLMN",
        `imsi does not start with ${this.imsiPrefix}, the MCC and MNC of the home network ${this.homeText}`,
        raw,
      );
    }
    if (visited !== this.visited) {
      return this.reject(line, "WRONG_VISITED_PLMN", `visitedPlmn ${formatPlmn(visited)} is not our network (${this.visitedText})`, raw);
    }

    const service = this.oneOf(F_SERVICE, SERVICE_NAMES, SERVICE_INDEX);
    if (service < 0)
      return this.reject(line, "INVALID_SERVICE", `service ${this.shown(F_SERVICE)} is not one of ${SERVICE_NAMES.join(", ")}`, raw);
    const rat = this.oneOf(F_RAT, RAT_NAMES, RAT_INDEX);
    if (rat < 0) return this.reject(line, "INVALID_RAT", `rat ${this.shown(F_RAT)} is not one of ${RAT_NAMES.join(", ")}`, raw);

    const startTime = utcTimestamp(this.src[F_START], this.st[F_START], this.en[F_START], this.period);
    if (typeof startTime === "string") {
      const code: RejectCode = startTime.startsWith(OUTSIDE_PERIOD) ? "OUTSIDE_PERIOD" : "INVALID_TIMESTAMP";
      return this.reject(line, code, `callEventStartTimeStamp ${this.shown(F_START)} ${startTime}`, raw);
    }

    // Numbers, in field order.
    const duration = this.count(F_DURATION);
    if (duration < 0) return this.countReject(line, F_DURATION, duration, raw);
    const bytesUp = this.count(F_UP);
    if (bytesUp < 0) return this.countReject(line, F_UP, bytesUp, raw);
    const bytesDown = this.count(F_DOWN);
    if (bytesDown < 0) return this.countReject(line, F_DOWN, bytesDown, raw);
    const events = this.count(F_EVENTS);
    if (events < 0) return this.countReject(line, F_EVENTS, events, raw);
    const latencyMs = this.count(F_LATENCY);
    if (latencyMs < 0) return this.countReject(line, F_LATENCY, latencyMs, raw);
    const throughputKbps = this.count(F_THROUGHPUT);
    if (throughputKbps < 0) return this.countReject(line, F_THROUGHPUT, throughputKbps, raw);

    if (bytesUp + bytesDown > USAGE_LIMITS.maxBytes) {
      return this.reject(
        line,
        "ABSURD_VOLUME",
        `dataVolumeOutgoing + dataVolumeIncoming is ${bytesUp + bytesDown} bytes, more than ${USAGE_LIMITS.maxBytes} in one record`,
        raw,
      );
    }
    if (duration > USAGE_LIMITS.maxDuration)
      return this.reject(line, "ABSURD_VOLUME", `totalCallEventDuration is ${duration} s, more than 31 days`, raw);
    if (events > USAGE_LIMITS.maxEvents)
      return this.reject(line, "ABSURD_VOLUME", `eventCount is ${events}, more than ${USAGE_LIMITS.maxEvents}`, raw);
    if (latencyMs > USAGE_LIMITS.maxLatencyMs)
      return this.reject(line, "ABSURD_VOLUME", `latencyMs is ${latencyMs}, more than ${USAGE_LIMITS.maxLatencyMs}`, raw);
    if (throughputKbps > USAGE_LIMITS.maxThroughputKbps) {
      return this.reject(line, "ABSURD_VOLUME", `throughputKbps is ${throughputKbps}, more than ${USAGE_LIMITS.maxThroughputKbps}`, raw);
    }

    const inconsistency = inconsistent(service, rat, duration, bytesUp + bytesDown, events);
    if (inconsistency) return this.reject(line, "INCONSISTENT_RECORD", inconsistency, raw);

    const recordId = this.text(F_ID);
    const first = this.ids.claim(recordId, line);
    if (first === 0) return this.reject(line, "DUPLICATE_RECORD_ID", "recordId was accepted from an earlier file of this period", raw);
    if (first > 0) return this.reject(line, "DUPLICATE_RECORD_ID", `recordId repeats line ${first}`, raw);

    return {
      line,
      recordId,
      imsi: this.text(F_IMSI),
      home: this.home,
      visited: this.visited,
      service,
      rat,
      startTime,
      duration,
      bytesUp,
      bytesDown,
      events,
      latencyMs,
      throughputKbps,
    };
  }
}

/** Parses one line: a convenience over UsageLineParser for tests (duplicates are checked only within the call). */
export function parseUsageLine(text: string, options: LineParserOptions & { line?: number }): ParsedRecord | Reject {
  return new UsageLineParser(options).parse(text, options.line ?? 1);
}
