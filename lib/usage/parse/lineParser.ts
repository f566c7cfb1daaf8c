import type { Hex } from "../../util/hex";
import { checkPlmnHex, formatPlmn, parsePlmn, plmnMcc, plmnMnc } from "../../core/plmn";
import { checkPeriod, formatPeriod, periodBounds } from "../../core/period";
import { recordIdProblem } from "../recordId";
import { RecordIdSet } from "../recordIdSet";
import type { ParsedRecord, Reject, RejectCode } from "../types";
import { utcTimestamp } from "./dates";
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
  RAT_INDEX,
  RAT_NAMES,
  SERVICE_INDEX,
  SERVICE_NAMES,
  STRING_FIELD_CODES,
  STRING_FIELDS,
  UNITS,
  USAGE_FIELDS,
  type UsageFormat,
} from "./fields";
import { columnFields } from "./header";
import { LineFields } from "./lineFields";
import type { LineParserOptions } from "./options";
import { absurdVolume, inconsistent, type RecordQuantities } from "./rules";
import { checkImsi, NUM_NEGATIVE, NUM_TOO_BIG, truncateRaw } from "./values";

type ParseOutcome = ParsedRecord | Reject;

/** True when a parse outcome is a reject. */
export function isReject(outcome: ParseOutcome): outcome is Reject {
  return "code" in outcome;
}

/** The values of the line being parsed, read so far (one per parser, refilled for each line). */
class RecordDraft implements RecordQuantities {
  service = 0;
  rat = 0;
  startTime = 0;
  duration = 0;
  bytesUp = 0;
  bytesDown = 0;
  events = 0;
  latencyMs = 0;
  throughputKbps = 0;

  /** The first count field, in field order, that holds a NUM_ code instead of a count. */
  firstBadCount(): number | undefined {
    if (this.duration < 0) return F_DURATION;
    if (this.bytesUp < 0) return F_UP;
    if (this.bytesDown < 0) return F_DOWN;
    if (this.events < 0) return F_EVENTS;
    if (this.latencyMs < 0) return F_LATENCY;
    if (this.throughputKbps < 0) return F_THROUGHPUT;
    return undefined;
  }
}

/**
 * Validates single lines against one run's settings (home, visited, period, CSV columns). Keeps the
 * ids of the records it accepted, to reject later duplicates. Used by parseUsageFile; exposed for
 * tests and tools that get records one at a time.
 *
 * Fields are read in place (LineFields) so that a valid CSV line costs two small strings (record id
 * and IMSI) and the record object. A line passes the stages of `validate` in order; the first problem
 * found is its reject.
 */
export class UsageLineParser {
  private readonly format: UsageFormat;
  private readonly home: Hex;
  private readonly visited: Hex;
  private readonly homeText: string;
  private readonly visitedText: string;
  private readonly imsiPrefix: string;
  /** The period's first second, and the first second after it. */
  private readonly periodStart: number;
  private readonly periodEnd: number;
  private readonly periodText: string;
  /** Ids of earlier files (value 0) and of this file (value: the line). */
  private readonly ids: RecordIdSet;
  private readonly plmnCache = new Map<string, Hex | null>();
  private readonly fields: LineFields;
  private readonly draft = new RecordDraft();

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
    [this.periodStart, this.periodEnd] = periodBounds(options.period);
    this.periodText = formatPeriod(options.period);
    if (options.seenIds && !options.seenIds.hasValues) throw new Error("seenIds must be a RecordIdSet made withValues");
    this.ids = options.seenIds ?? new RecordIdSet({ withValues: true, expected: options.expectedRecords });
    this.fields = new LineFields(columnFields(options.columns ?? USAGE_FIELDS));
  }

  /**
   * Parses one line (without its line break). `unterminated` marks the last line of a file that
   * has no final line break, so that a reject can say the line may be cut off.
   */
  parse(text: string, line: number, unterminated = false): ParseOutcome {
    const layout = this.format === "csv" ? this.fields.splitCsv(text) : this.fields.readJson(text);
    const result = layout === undefined ? this.validate(line, text) : this.reject(line, "MALFORMED", layout, text);
    if (unterminated && "code" in result) result.reason += " (the last line of the file has no line break: was it cut off?)";
    return result;
  }

  private reject(line: number, code: RejectCode, reason: string, raw: string): Reject {
    return { line, code, reason, raw: truncateRaw(raw) };
  }

  private validate(line: number, raw: string): ParseOutcome {
    const problem =
      this.checkPresence(line, raw) ??
      this.checkIdentity(line, raw) ??
      this.readServiceAndTime(line, raw) ??
      this.readCounts(line, raw) ??
      this.checkQuantities(line, raw);
    return problem ?? this.accept(line, raw);
  }

  /** The required fields are there (all missing ones named at once); in JSON, the text fields are strings. */
  private checkPresence(line: number, raw: string): Reject | undefined {
    const fields = this.fields;
    let missing: string | undefined;
    for (let f = 0; f < F_LATENCY; f++) {
      if (!fields.present(f)) missing = missing === undefined ? USAGE_FIELDS[f] : `${missing}, ${USAGE_FIELDS[f]}`;
    }
    if (missing !== undefined) return this.reject(line, "MISSING_FIELD", `missing ${missing}`, raw);
    if (this.format !== "jsonl") return undefined;
    for (const f of STRING_FIELDS) {
      if (!fields.isText(f)) {
        return this.reject(line, STRING_FIELD_CODES[f], `${USAGE_FIELDS[f]} must be a JSON string, found ${fields.shown(f)}`, raw);
      }
    }
    return undefined;
  }

  /** The record id and IMSI are well-formed, the record is of this run's home network and served by ours. */
  private checkIdentity(line: number, raw: string): Reject | undefined {
    const fields = this.fields;
    const idProblem = recordIdProblem(fields.source(F_ID), fields.start(F_ID), fields.end(F_ID));
    if (idProblem) return this.reject(line, "INVALID_RECORD_ID", `recordId ${idProblem}`, raw);
    const imsiProblem = checkImsi(fields.source(F_IMSI), fields.start(F_IMSI), fields.end(F_IMSI));
    if (imsiProblem) return this.reject(line, "INVALID_IMSI", `imsi ${imsiProblem}`, raw);

    const home = this.plmn(F_HOME);
    if (home === null) {
      return this.reject(line, "INVALID_PLMN", `homePlmn ${fields.shown(F_HOME)} is not a PLMN id like 262-01 (MCC-MNC)`, raw);
    }
    const visited = this.plmn(F_VISITED);
    if (visited === null) {
      return this.reject(line, "INVALID_PLMN", `visitedPlmn ${fields.shown(F_VISITED)} is not a PLMN id like 262-01 (MCC-MNC)`, raw);
    }
    if (home !== this.home) {
      const reason = `homePlmn ${formatPlmn(home)} is not the home network of this run (${this.homeText})`;
      return this.reject(line, "WRONG_HOME_PLMN", reason, raw);
    }
    if (!fields.startsWith(F_IMSI, this.imsiPrefix)) {
      const reason = `imsi does not start with ${this.imsiPrefix}, the MCC and MNC of the home network ${this.homeText}`;
      return this.reject(line, "WRONG_HOME_PLMN", reason, raw);
    }
    if (visited !== this.visited) {
      return this.reject(line, "WRONG_VISITED_PLMN", `visitedPlmn ${formatPlmn(visited)} is not our network (${this.visitedText})`, raw);
    }
    return undefined;
  }

  /** PLMN id of field f, or null when it is not one. */
  private plmn(f: number): Hex | null {
    if (this.fields.is(f, this.homeText)) return this.home;
    if (this.fields.is(f, this.visitedText)) return this.visited;
    const text = this.fields.text(f);
    let hex = this.plmnCache.get(text);
    if (hex === undefined) {
      hex = /^\d{3}-?\d{2,3}$/.test(text) && !text.startsWith("000") ? parsePlmn(text) : null;
      if (this.plmnCache.size < 1024) this.plmnCache.set(text, hex);
    }
    return hex;
  }

  /** Reads the service, the radio technology and the start time (in the period) into the draft. */
  private readServiceAndTime(line: number, raw: string): Reject | undefined {
    const fields = this.fields;
    const draft = this.draft;
    draft.service = fields.oneOf(F_SERVICE, SERVICE_NAMES, SERVICE_INDEX);
    if (draft.service < 0) {
      return this.reject(line, "INVALID_SERVICE", `service ${fields.shown(F_SERVICE)} is not one of ${SERVICE_NAMES.join(", ")}`, raw);
    }
    draft.rat = fields.oneOf(F_RAT, RAT_NAMES, RAT_INDEX);
    if (draft.rat < 0) return this.reject(line, "INVALID_RAT", `rat ${fields.shown(F_RAT)} is not one of ${RAT_NAMES.join(", ")}`, raw);
    const startTime = utcTimestamp(fields.source(F_START), fields.start(F_START), fields.end(F_START));
    if (typeof startTime === "string") {
      return this.reject(line, "INVALID_TIMESTAMP", `callEventStartTimeStamp ${fields.shown(F_START)} ${startTime}`, raw);
    }
    if (startTime < this.periodStart || startTime >= this.periodEnd) {
      const reason = `callEventStartTimeStamp ${fields.shown(F_START)} is outside the period ${this.periodText} (UTC)`;
      return this.reject(line, "OUTSIDE_PERIOD", reason, raw);
    }
    draft.startTime = startTime;
    return undefined;
  }

  /** Reads the counts into the draft: whole numbers >= 0 (an absent optional one is 0); else the first bad one's reject. */
  private readCounts(line: number, raw: string): Reject | undefined {
    const { fields, draft } = this;
    draft.duration = fields.count(F_DURATION);
    draft.bytesUp = fields.count(F_UP);
    draft.bytesDown = fields.count(F_DOWN);
    draft.events = fields.count(F_EVENTS);
    draft.latencyMs = fields.count(F_LATENCY);
    draft.throughputKbps = fields.count(F_THROUGHPUT);
    const bad = draft.firstBadCount();
    return bad === undefined ? undefined : this.countReject(line, bad, fields.count(bad), raw);
  }

  private countReject(line: number, f: number, n: number, raw: string): Reject {
    const name = USAGE_FIELDS[f];
    const shown = this.fields.shown(f);
    if (n === NUM_NEGATIVE) return this.reject(line, "NEGATIVE_VOLUME", `${name} is negative (${shown})`, raw);
    if (n === NUM_TOO_BIG) return this.reject(line, "INVALID_NUMBER", `${name} ${shown} is beyond 2^53`, raw);
    return this.reject(line, "INVALID_NUMBER", `${name} ${shown} is not a whole number of ${UNITS[f]}`, raw);
  }

  /** The quantities are within what one call event can be and fit the service. */
  private checkQuantities(line: number, raw: string): Reject | undefined {
    const absurd = absurdVolume(this.draft);
    if (absurd) return this.reject(line, "ABSURD_VOLUME", absurd, raw);
    const inconsistency = inconsistent(this.draft);
    return inconsistency ? this.reject(line, "INCONSISTENT_RECORD", inconsistency, raw) : undefined;
  }

  /** Claims the record id (a duplicate is a reject) and returns the record. */
  private accept(line: number, raw: string): ParseOutcome {
    const recordId = this.fields.text(F_ID);
    const first = this.ids.claim(recordId, line);
    if (first === 0) return this.reject(line, "DUPLICATE_RECORD_ID", "recordId was accepted from an earlier file of this period", raw);
    if (first > 0) return this.reject(line, "DUPLICATE_RECORD_ID", `recordId repeats line ${first}`, raw);
    const draft = this.draft;
    return {
      line,
      recordId,
      imsi: this.fields.text(F_IMSI),
      home: this.home,
      visited: this.visited,
      service: draft.service,
      rat: draft.rat,
      startTime: draft.startTime,
      duration: draft.duration,
      bytesUp: draft.bytesUp,
      bytesDown: draft.bytesDown,
      events: draft.events,
      latencyMs: draft.latencyMs,
      throughputKbps: draft.throughputKbps,
    };
  }
}

/** Parses one line: a convenience over UsageLineParser for tests (duplicates are checked only within the call). */
export function parseUsageLine(text: string, options: LineParserOptions & { line?: number }): ParsedRecord | Reject {
  return new UsageLineParser(options).parse(text, options.line ?? 1);
}
