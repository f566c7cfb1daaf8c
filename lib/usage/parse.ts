import fs from "node:fs";
import path from "node:path";
import { isAscii, isUtf8 } from "node:buffer";
import { InputError } from "../core/errors";
import type { Hex } from "../util/hex";
import { checkPlmnHex, formatPlmn, parsePlmn, plmnMcc, plmnMnc } from "../core/plmn";
import { RecordIdSet } from "./recordIdSet";
import { checkPeriod, formatPeriod } from "../core/period";
import type { ParsedRecord, Reject, RejectCode } from "./types";

/**
 * Streaming parser and validator of a visited carrier's usage records (CSV with a header, or JSON
 * lines), see docs/usage-records.md. Whole-file problems throw InputError before the first chunk is
 * yielded; a bad line becomes a `Reject` with its line, a code and a reason, never silently dropped.
 *
 * Hot path: the file is read in blocks of about 1 MiB; a block that is pure ASCII without NUL bytes
 * (checked natively) is decoded line by line as latin1; other lines are checked for UTF-8 one by one.
 * Fields are split with indexOf, numbers and timestamps parsed by hand.
 */

export type UsageFormat = "csv" | "jsonl";

/** Column names, in the canonical order (the generator writes them in this order). */
export const USAGE_FIELDS = [
  "recordId",
  "imsi",
  "homePlmn",
  "visitedPlmn",
  "service",
  "callEventStartTimeStamp",
  "totalCallEventDuration",
  "dataVolumeOutgoing",
  "dataVolumeIncoming",
  "eventCount",
  "rat",
  "latencyMs",
  "throughputKbps",
] as const;
export type UsageField = (typeof USAGE_FIELDS)[number];

/** Fields that may be absent or empty (then 0: not measured). */
export const OPTIONAL_FIELDS: readonly UsageField[] = ["latencyMs", "throughputKbps"];
export const REQUIRED_FIELDS: readonly UsageField[] = USAGE_FIELDS.filter((f) => !OPTIONAL_FIELDS.includes(f));

/** Above these a value is ABSURD_VOLUME: no real record of one call event comes near them. */
export const USAGE_LIMITS = {
  /** Bytes up + down in one record (1 TB). */
  maxBytes: 1e12,
  /** Seconds (31 days). */
  maxDuration: 31 * 86_400,
  /** Signalling events or SMS in one record. */
  maxEvents: 1e6,
  maxLatencyMs: 60_000,
  /** 10 Gbit/s. */
  maxThroughputKbps: 1e7,
} as const;

/** Record ids: printable ASCII without space, 1 to 32 characters (the leaf's bytes32). */
export const MAX_RECORD_ID_LENGTH = 32;

/** Longest line read; a longer one is rejected (MALFORMED) and skipped. */
export const MAX_LINE_BYTES = 1 << 20;
const READ_BYTES = 1 << 20;
const SNIFF_BYTES = 4096;
const RAW_MAX = 200;

// Field indices (positions in USAGE_FIELDS).
const F_ID = 0;
const F_IMSI = 1;
const F_HOME = 2;
const F_VISITED = 3;
const F_SERVICE = 4;
const F_START = 5;
const F_DURATION = 6;
const F_UP = 7;
const F_DOWN = 8;
const F_EVENTS = 9;
const F_RAT = 10;
const F_LATENCY = 11;
const F_THROUGHPUT = 12;
const FIELD_COUNT = USAGE_FIELDS.length;
const FIELD_INDEX = new Map<string, number>(USAGE_FIELDS.map((f, i) => [f, i]));

const SERVICE_INDEX = new Map<string, number>([
  ["data", 0],
  ["sms", 1],
  ["voice", 2],
  ["signalling", 3],
]);
const RAT_INDEX = new Map<string, number>([
  ["nb-iot", 0],
  ["lte-m", 1],
  ["lte", 2],
  ["nr", 3],
  ["utran", 4],
  ["geran", 5],
]);
const SERVICE_DATA = 0;
const SERVICE_SMS = 1;
const SERVICE_VOICE = 2;
const RAT_NB_IOT = 0;

export interface ParseOptions {
  /** Home carrier of this run (bytes3): every record must be of its devices. */
  home: Hex;
  /** Our own PLMN (bytes3): the network that served the records. */
  visited: Hex;
  /** yyyymm, e.g. 202611: every record must start in this month (UTC). */
  period: number;
  /** By default from the extension: .csv, .jsonl, .ndjson. */
  format?: UsageFormat;
  /**
   * The record ids of the period, made `withValues`: those accepted from earlier files (loaded, no
   * value), to which the parser adds the id of each record it yields, with its line. A record whose id
   * is in it already is rejected as a duplicate. Keep the ids of records you then do not commit out
   * (`keepOut`) and save the set when you commit. Without it, the parser keeps a table of its own.
   */
  seenIds?: RecordIdSet;
}

export interface ParseChunk {
  records: ParsedRecord[];
  rejects: Reject[];
  /** Bytes of the file consumed so far (for progress against the file size). */
  bytesRead: number;
}

export interface LineParserOptions extends ParseOptions {
  /** CSV columns in file order (the header); USAGE_FIELDS by default. */
  columns?: readonly string[];
  /** Records expected, to size the table of ids seen (it grows when needed). */
  expectedRecords?: number;
}

/** The format of a usage file from its extension, or undefined when the extension says nothing. */
export function formatFromExtension(file: string): UsageFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  return undefined;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

// Results of the number parsers below a valid value (>= 0).
const NUM_EMPTY = -1;
const NUM_NEGATIVE = -2;
const NUM_INVALID = -3;
const NUM_TOO_BIG = -4;

/** A non-negative integer written as ASCII digits in s[a, b), or one of the NUM_ codes. */
function parseDigits(s: string, a: number, b: number): number {
  if (a === b) return NUM_EMPTY;
  let i = a;
  let negative = false;
  if (s.charCodeAt(a) === 45 /* - */) {
    negative = true;
    i++;
    if (i === b) return NUM_INVALID;
  }
  if (b - i > 16) {
    for (let j = i; j < b; j++) {
      const c = s.charCodeAt(j) - 48;
      if (c < 0 || c > 9) return NUM_INVALID;
    }
    return negative ? NUM_NEGATIVE : NUM_TOO_BIG;
  }
  let v = 0;
  for (; i < b; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NUM_INVALID;
    v = v * 10 + c;
  }
  if (negative) return NUM_NEGATIVE;
  return v > Number.MAX_SAFE_INTEGER ? NUM_TOO_BIG : v;
}

/** A JSON number as a count, or one of the NUM_ codes. */
function jsonCount(value: number): number {
  if (!Number.isFinite(value)) return NUM_INVALID;
  if (value < 0) return NUM_NEGATIVE;
  if (!Number.isInteger(value)) return NUM_INVALID;
  return value > Number.MAX_SAFE_INTEGER ? NUM_TOO_BIG : value;
}

function describe(value: unknown): string {
  const text =
    typeof value === "string"
      ? JSON.stringify(value)
      : value === null
        ? "null"
        : typeof value === "object"
          ? Array.isArray(value)
            ? "an array"
            : "an object"
          : String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

type ParseOutcome = ParsedRecord | Reject;

/** True when a parse outcome is a reject. */
export function isReject(outcome: ParseOutcome): outcome is Reject {
  return "code" in outcome;
}

/** RFC 4180 fields of one line (quoted fields do not span lines), or what is wrong with the quoting. */
function splitQuoted(text: string): string[] | string {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    const field = fields.length + 1;
    if (text.charCodeAt(i) === 34) {
      let value = "";
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote === -1) return `field ${field}: the quote is not closed on this line`;
        value += text.slice(i, quote);
        i = quote + 1;
        if (text.charCodeAt(i) !== 34) break;
        value += '"';
        i++;
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text.charCodeAt(i) !== 44) return `field ${field}: text after the closing quote`;
      i++;
    } else {
      const end = text.indexOf(",", i);
      const value = end === -1 ? text.slice(i) : text.slice(i, end);
      if (value.includes('"')) return `field ${field}: a quote inside a field that does not start with one`;
      fields.push(value);
      if (end === -1) return fields;
      i = end + 1;
    }
  }
}

function truncateRaw(text: string): string {
  return text.length > RAW_MAX ? text.slice(0, RAW_MAX) : text;
}

// What a field holds on the current line.
const ABSENT = 0;
const TEXT = 1; // src[f].slice(st[f], en[f]), possibly empty
const NUMBER = 2; // a JSON number, in num[f]
const OTHER = 3; // another JSON value, in other[f]

const SERVICE_NAMES = [...SERVICE_INDEX.keys()];
const RAT_NAMES = [...RAT_INDEX.keys()];

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
  private readonly periodText: string;
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
    this.periodText = formatPeriod(options.period);
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

    const startTime = this.timestamp(this.src[F_START], this.st[F_START], this.en[F_START]);
    if (typeof startTime === "string") {
      const code: RejectCode = startTime.startsWith("is outside") ? "OUTSIDE_PERIOD" : "INVALID_TIMESTAMP";
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

  /** Unix seconds of s[a, b) as `YYYY-MM-DDTHH:MM:SS[.fff]Z` (or +00:00), or what is wrong with it. */
  private timestamp(s: string, a: number, b: number): number | string {
    const shape = "is not an ISO 8601 UTC time like 2026-11-03T10:15:00Z";
    if (
      b - a < 19 ||
      s.charCodeAt(a + 4) !== 45 ||
      s.charCodeAt(a + 7) !== 45 ||
      (s.charCodeAt(a + 10) | 0x20) !== 116 ||
      s.charCodeAt(a + 13) !== 58 ||
      s.charCodeAt(a + 16) !== 58
    ) {
      return shape;
    }
    const y1 = twoDigits(s, a);
    const y2 = twoDigits(s, a + 2);
    const mo = twoDigits(s, a + 5);
    const d = twoDigits(s, a + 8);
    const h = twoDigits(s, a + 11);
    const mi = twoDigits(s, a + 14);
    const sec = twoDigits(s, a + 17);
    if (y1 < 0 || y2 < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return shape;
    const y = y1 * 100 + y2;
    let i = a + 19;
    if (i < b && s.charCodeAt(i) === 46 /* . */) {
      i++;
      const from = i;
      while (i < b && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
      if (i === from) return shape;
    }
    const zone = b - i === 1 ? s.charCodeAt(i) | 0x20 : 0;
    if (zone !== 122 /* z */ && !(b - i === 6 && s.startsWith("+00:00", i))) {
      const rest = s.slice(i, b);
      if (/^[+-]\d{2}:?\d{2}$/.test(rest)) return `has the offset ${rest}: write the time in UTC, ending in Z`;
      if (rest === "") return "has no time zone: write the time in UTC, ending in Z";
      return shape;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return "is not a valid date and time";
    if (y * 100 + mo !== this.period) return `is outside the period ${this.periodText} (UTC)`;
    return (daysFromCivil(y, mo, d) * 24 + h) * 3600 + mi * 60 + sec;
  }
}

/** Unit of each numeric field, by field index. */
const UNITS: Record<number, string> = {
  [F_DURATION]: "seconds",
  [F_UP]: "bytes",
  [F_DOWN]: "bytes",
  [F_EVENTS]: "events",
  [F_LATENCY]: "milliseconds",
  [F_THROUGHPUT]: "kbit/s",
};
const STRING_FIELDS = [F_ID, F_IMSI, F_HOME, F_VISITED, F_SERVICE, F_START, F_RAT];
const STRING_FIELD_CODES: Record<number, RejectCode> = {
  [F_ID]: "INVALID_RECORD_ID",
  [F_IMSI]: "INVALID_IMSI",
  [F_HOME]: "INVALID_PLMN",
  [F_VISITED]: "INVALID_PLMN",
  [F_SERVICE]: "INVALID_SERVICE",
  [F_START]: "INVALID_TIMESTAMP",
  [F_RAT]: "INVALID_RAT",
};

function countCommas(text: string, from: number): number {
  let count = 0;
  for (let i = text.indexOf(",", from); i !== -1; i = text.indexOf(",", i + 1)) count++;
  return count;
}

/** What is wrong with the record id in s[a, b), or undefined. */
function checkRecordId(s: string, a: number, b: number): string | undefined {
  if (b - a > MAX_RECORD_ID_LENGTH) return `is ${b - a} characters long, at most ${MAX_RECORD_ID_LENGTH}`;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127) {
      const what = c === 32 ? "a space" : c < 32 ? "a control character" : "a non-ASCII character";
      return `has ${what} at position ${i - a + 1} (printable ASCII only)`;
    }
  }
  return undefined;
}

/** What is wrong with the IMSI in s[a, b), or undefined (15 digits, as lib/core/imsi.ts validateImsi). */
function checkImsi(s: string, a: number, b: number): string | undefined {
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return `has a character that is not a digit at position ${i - a + 1}`;
  }
  return b - a === 15 ? undefined : `has ${b - a} digits, expected 15 (MCC, MNC, MSIN)`;
}

/** Why a record's quantities do not fit its service, or undefined when they do (docs/usage-records.md). */
function inconsistent(service: number, rat: number, duration: number, bytes: number, events: number): string | undefined {
  if (service === SERVICE_DATA) {
    return bytes === 0 && duration === 0 ? "a data record with 0 bytes and a duration of 0" : undefined;
  }
  const name = service === SERVICE_SMS ? "an SMS" : service === SERVICE_VOICE ? "a voice" : "a signalling";
  if (bytes > 0) return `${name} record with a data volume (${bytes} bytes): bytes are billed in data records`;
  if (service === SERVICE_VOICE) {
    if (duration === 0) return "a voice record with a duration of 0";
    if (rat === RAT_NB_IOT) return "a voice record on NB-IoT, which carries no voice";
    return undefined;
  }
  return events === 0 ? `${name} record with an eventCount of 0` : undefined;
}

/** Parses one line: a convenience over UsageLineParser for tests (duplicates are checked only within the call). */
export function parseUsageLine(text: string, options: LineParserOptions & { line?: number }): ParsedRecord | Reject {
  return new UsageLineParser(options).parse(text, options.line ?? 1);
}

async function openUsageFile(file: string): Promise<{ handle: fs.promises.FileHandle; size: number }> {
  const location = { file };
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, "r");
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === "ENOENT") {
      throw new InputError("file not found", { location, cause, hint: `check the path (relative paths start from ${process.cwd()}).` });
    }
    throw new InputError(`cannot open the file (${code ?? String(cause)})`, {
      location,
      cause,
      hint:
        code === "EISDIR"
          ? "pass the path of the usage file itself, not of its folder."
          : "check that the file exists and that you may read it.",
    });
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new InputError(stat.isDirectory() ? "is a directory, not a usage file" : "is not a regular file", {
      location,
      hint: "pass the path of the usage file itself.",
    });
  }
  return { handle, size: stat.size };
}

/** Throws InputError for a file that is binary, compressed or not UTF-8 text, judging by its start. */
function sniff(file: string, head: Buffer): void {
  const location = { file, line: 1 };
  const text = "export the usage records as UTF-8 text: CSV with a header, or JSON lines (docs/usage-records.md).";
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    throw new InputError("the file is gzip-compressed", {
      location,
      hint: "decompress it first (gunzip), then pass the .csv or .jsonl file.",
    });
  }
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    throw new InputError("the file is UTF-16 text", { location, hint: `save it as UTF-8; ${text}` });
  }
  const nul = head.subarray(0, SNIFF_BYTES).indexOf(0);
  if (nul !== -1) {
    throw new InputError(`the file is binary (a NUL byte at offset ${nul})`, {
      location,
      hint: `is it a TAP or other binary file, or an archive? ${text}`,
    });
  }
}

function headerError(file: string, line: number, message: string, hint?: string): InputError {
  return new InputError(message, {
    location: { file, line },
    hint:
      hint ?? `the first line names the columns: ${REQUIRED_FIELDS.join(", ")} and optionally ${OPTIONAL_FIELDS.join(", ")}, in any order.`,
  });
}

/** Checks a CSV header line and returns its column names; throws InputError with what is wrong. */
export function checkHeader(file: string, line: number, text: string): string[] {
  if (!text.includes(",")) {
    for (const [sep, name] of [
      [";", "semicolons"],
      ["\t", "tabs"],
      ["|", "vertical bars"],
    ] as const) {
      if (text.includes(sep)) {
        throw headerError(
          file,
          line,
          `the header is separated by ${name}, not commas`,
          "export the file with commas between the fields (and a dot, not a comma, in no number: all numbers are whole).",
        );
      }
    }
  }
  if (text.trimStart().startsWith("{")) {
    throw headerError(
      file,
      line,
      "the first line is a JSON object, not a CSV header",
      "name the file .jsonl (or pass the format jsonl) for JSON lines.",
    );
  }
  const fields = text.includes('"') ? splitQuoted(text) : text.split(",");
  if (typeof fields === "string") throw headerError(file, line, `the header is malformed: ${fields}`);
  const names = fields.map((f) => f.trim());
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw headerError(file, line, `column "${duplicate}" appears twice in the header`);
  const unknown = names.filter((n) => !FIELD_INDEX.has(n));
  if (unknown.length) {
    const described = unknown.map((n) => {
      const close = USAGE_FIELDS.find((f) => f.toLowerCase() === n.toLowerCase());
      return close ? `"${n}" (did you mean ${close}?)` : `"${n}"`;
    });
    const looksLikeData = unknown.length === names.length;
    throw headerError(
      file,
      line,
      `unknown column${unknown.length === 1 ? "" : "s"} ${described.join(", ")}`,
      looksLikeData
        ? `the first line must be the header (${USAGE_FIELDS.join(",")}); is it missing?`
        : `remove or rename them; the columns are ${USAGE_FIELDS.join(", ")}.`,
    );
  }
  const missing = REQUIRED_FIELDS.filter((f) => !names.includes(f));
  if (missing.length) throw headerError(file, line, `missing column${missing.length === 1 ? "" : "s"} ${missing.join(", ")}`);
  return names;
}

/**
 * Reads a usage file and yields its records and rejects in chunks of one read block (~1 MiB), in
 * line order. Throws InputError, before yielding anything, when the file cannot be used at all
 * (missing, empty, binary, not UTF-8, bad header, unknown format); and later only if reading fails
 * midway (then a caller must commit nothing of the file).
 */
export async function* parseUsageFile(file: string, options: ParseOptions): AsyncGenerator<ParseChunk> {
  const format = options.format ?? formatFromExtension(file);
  if (format === undefined) {
    throw new InputError("cannot tell the format from the file name", {
      location: { file },
      hint: "name the file .csv, .jsonl or .ndjson, or pass the format (csv or jsonl).",
    });
  }
  checkPlmnHex(options.home, "home");
  checkPlmnHex(options.visited, "visited");
  checkPeriod(options.period);

  const { handle, size } = await openUsageFile(file);
  // About 100 bytes per CSV record, 250 per JSON line: size the id table once.
  const expectedRecords = Math.ceil(size / (format === "csv" ? 100 : 250));
  try {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    let kept = 0; // bytes of an unfinished line at the start of buf
    let skipping = false; // discarding the rest of an over-long line, rejected already
    let lineNo = 0; // lines started so far
    let bytesRead = 0;
    let first = true;
    let parser: UsageLineParser | undefined = format === "jsonl" ? new UsageLineParser({ ...options, format, expectedRecords }) : undefined;
    let sawContent = false;

    for (;;) {
      let n: number;
      try {
        ({ bytesRead: n } = await handle.read(buf, kept, buf.length - kept, null));
      } catch (cause) {
        throw new InputError(`reading failed after line ${lineNo}`, {
          location: { file },
          cause,
          details: (cause as Error).message,
          hint: "check that the file is still there and readable, then run again; commit nothing of this file.",
        });
      }
      const eof = n === 0;
      bytesRead += n;
      let end = kept + n;
      let pos = 0;
      if (first) {
        if (end === 0) throw new InputError("the file is empty", { location: { file }, hint: "export the usage records again." });
        first = false;
        sniff(file, buf.subarray(0, end));
        if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
          buf.copy(buf, 0, 3, end);
          end -= 3;
        }
      }
      const view = buf.subarray(0, end);
      const records: ParsedRecord[] = [];
      const rejects: Reject[] = [];

      // Complete lines end at the last \n; at EOF the rest is a final line without a line break.
      const stop = eof ? end : view.lastIndexOf(10) + 1;
      if (stop <= pos && !eof) {
        if (end < buf.length) {
          kept = end;
          continue;
        }
        // A whole block without a line break: reject the line once and discard it up to the next \n.
        if (!skipping) {
          lineNo++;
          if (parser === undefined) throw headerError(file, lineNo, `the first line is longer than ${MAX_LINE_BYTES} bytes`);
          const raw = truncateRaw(view.toString("utf8", pos, pos + RAW_MAX * 4));
          rejects.push({ line: lineNo, code: "MALFORMED", reason: `the line is longer than ${MAX_LINE_BYTES} bytes`, raw });
          skipping = true;
          sawContent = true;
        }
        kept = 0;
        yield { records, rejects, bytesRead };
        continue;
      }

      const ascii = isAscii(view.subarray(pos, stop));
      let nul = view.indexOf(0, pos);
      while (pos < stop) {
        let nl = view.indexOf(10, pos);
        const terminated = nl !== -1 && nl < stop;
        if (!terminated) nl = stop;
        const lineStart = pos;
        const lineEnd = nl > pos && view[nl - 1] === 13 ? nl - 1 : nl;
        pos = terminated ? nl + 1 : stop;
        if (skipping) {
          skipping = false;
          continue;
        }
        lineNo++;
        if (lineEnd === lineStart) continue;

        let text: string;
        if (nul !== -1 && nul < nl) {
          while (nul !== -1 && nul < nl) nul = view.indexOf(0, nul + 1);
          if (parser === undefined) throw headerError(file, lineNo, "the header contains a NUL byte");
          text = view.toString("latin1", lineStart, Math.min(lineEnd, lineStart + RAW_MAX)).replace(/\0/g, "\\0");
          rejects.push({ line: lineNo, code: "MALFORMED", reason: "the line contains a NUL byte (binary data)", raw: text });
          sawContent = true;
          continue;
        }
        if (ascii || isAscii(view.subarray(lineStart, lineEnd))) {
          text = view.toString("latin1", lineStart, lineEnd);
        } else if (isUtf8(view.subarray(lineStart, lineEnd))) {
          text = view.toString("utf8", lineStart, lineEnd);
        } else {
          if (parser === undefined) {
            throw headerError(
              file,
              lineNo,
              "the header is not valid UTF-8 text",
              "save the file as UTF-8 (not Latin-1 or a spreadsheet's own format).",
            );
          }
          text = view.toString("utf8", lineStart, lineEnd);
          rejects.push({ line: lineNo, code: "MALFORMED", reason: "the line is not valid UTF-8 text", raw: truncateRaw(text) });
          sawContent = true;
          continue;
        }
        if (isBlank(text)) continue;

        if (parser === undefined) {
          parser = new UsageLineParser({ ...options, format, expectedRecords, columns: checkHeader(file, lineNo, text) });
          sawContent = true;
          continue;
        }
        if (!sawContent) {
          sawContent = true;
          if (/^[A-Za-z"]/.test(text) && text.includes(",")) {
            throw headerError(
              file,
              lineNo,
              "the first line looks like a CSV header, not a JSON object",
              "name the file .csv (or pass the format csv) for CSV.",
            );
          }
        }
        const outcome = parser.parse(text, lineNo, !terminated);
        if ("code" in outcome) rejects.push(outcome);
        else records.push(outcome);
      }

      if (eof) {
        if (!sawContent)
          throw new InputError("the file is empty (blank lines only)", { location: { file }, hint: "export the usage records again." });
        yield { records, rejects, bytesRead };
        return;
      }
      kept = end - stop;
      if (kept > 0) buf.copy(buf, 0, stop, end);
      // Nothing is yielded before the header (CSV) or the first line (JSON lines) is known to be fine.
      if (sawContent) yield { records, rejects, bytesRead };
    }
  } finally {
    await handle.close();
  }
}

function isBlank(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c !== 32 && c !== 9 && c !== 13) return false;
  return text.trim() === "";
}
