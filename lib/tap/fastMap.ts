/**
 * The TAP mapping's fast path (docs/tap.md, "Throughput"): a call event's bytes -> its usage record, through
 * CallEventWalker (lib/tap/fastWalk.ts), with the same checks as TapMapper.map (lib/tap/map.ts) in the same
 * order. Returns undefined for any call event it does not accept as it is: the caller then decodes it the full
 * way, which finds the reject and its words. Precomputed once per file: the record id's prefix, the IMSI prefix,
 * the period's window (unix seconds) and the UTC offset of every UtcTimeOffsetCode.
 */
import { daysFromCivil, daysInMonth } from "../usage/parse/dates";
import { absurdVolume, inconsistent } from "../usage/parse/rules";
import { checkImsi } from "../usage/parse/values";
import type { RecordIdSet } from "../usage/recordIdSet";
import { type ParsedRecord, SERVICE_DATA, SERVICE_SMS, SERVICE_VOICE } from "../usage/types";
import type { Hex } from "../util/hex";
import type { CallEventContext, CallEventKind } from "./callEvent";
import { CallEventWalker } from "./fastWalk";
import { TagClass } from "./ber";
import { T } from "./tags";

export interface FastMapSetup {
  /** `TAP-<sender>-<fsn>-` */
  prefix: string;
  /** The home network's MCC and MNC digits. */
  imsiPrefix: string;
  /** The period's first second and the first second after it (UTC). */
  periodStart: number;
  periodEnd: number;
  home: Hex;
  visited: Hex;
  rat: number;
  /** The file's UtcTimeOffsetInfo table (code -> +hhmm). */
  utcOffsets: ReadonlyMap<number, string>;
  /** The period's record ids: earlier files' are looked up, this file's accepted ones added (claimTapId). */
  ids?: RecordIdSet;
}

/** Minutes east of UTC of `+hhmm` / `-hhmm` (at most 14 hours), or NaN (lib/tap/tapTime.ts toUtc's rule). */
export function offsetMinutes(offset: string): number {
  const m = /^([+-])(\d\d)(\d\d)$/.exec(offset);
  if (!m || Number(m[2]) > 14 || Number(m[3]) > 59) return Number.NaN;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

const KINDS: Partial<Record<number, CallEventKind>> = {
  [T.MobileOriginatedCall]: "mobileOriginatedCall",
  [T.MobileTerminatedCall]: "mobileTerminatedCall",
  [T.GprsCall]: "gprsCall",
};

export class FastRecords {
  readonly walker = new CallEventWalker();
  /** The kind of the call event mapped last. */
  kind: CallEventKind = "unknown";
  /** UTC offset in minutes by UtcTimeOffsetCode 0-255 (NaN: not in the table, or not valid). */
  private readonly offsets = new Float64Array(256).fill(Number.NaN);

  constructor(private readonly setup: FastMapSetup) {
    for (const [code, offset] of setup.utcOffsets) if (code >= 0 && code < 256) this.offsets[code] = offsetMinutes(offset);
  }

  /** The record of a plain, valid MO/MT/GPRS call event of the home network in the period; undefined otherwise. */
  record(ctx: CallEventContext): ParsedRecord | undefined {
    const h = ctx.header;
    const kind = h.cls === TagClass.Application ? KINDS[h.tag] : undefined;
    const w = this.walker;
    if (kind === undefined || !w.walk(ctx.content)) return undefined;
    this.kind = kind;
    const service = kind === "gprsCall" ? SERVICE_DATA : w.teleService === 1 ? SERVICE_VOICE : w.teleService === 2 ? SERVICE_SMS : -1;
    if (service < 0 || w.imsiAt < 0) return undefined;
    const imsi = w.imsi();
    const s = this.setup;
    if (checkImsi(imsi, 0, imsi.length) !== undefined || !imsi.startsWith(s.imsiPrefix)) return undefined;
    const startTime = this.startTime();
    if (Number.isNaN(startTime) || startTime < s.periodStart || startTime >= s.periodEnd) return undefined;
    const duration = w.duration;
    const data = service === SERVICE_DATA;
    const bytesUp = data ? w.volumeOutgoing : 0;
    const bytesDown = data ? w.volumeIncoming : 0;
    if (Number.isNaN(duration) || duration < 0 || bytesUp < 0 || bytesDown < 0) return undefined;
    const record = tapUsageRecord(s, ctx.position, imsi, service, startTime, duration, bytesUp, bytesDown);
    if (absurdVolume(record) !== undefined || inconsistent(record) !== undefined) return undefined;
    if (s.ids !== undefined && !claimTapId(s.ids, record.recordId, ctx.position)) return undefined;
    return record;
  }

  /** The start (unix seconds) from CallEventStartTimeStamp's 14 digits and its offset code; NaN when not plain. */
  private startTime(): number {
    const w = this.walker;
    const code = w.offsetCode;
    if (w.localAt < 0 || !(code >= 0 && code < 256)) return Number.NaN;
    const offset = this.offsets[code];
    const y = w.localDigits(0, 4);
    const mo = w.localDigits(4, 2);
    const d = w.localDigits(6, 2);
    const hh = w.localDigits(8, 2);
    const mi = w.localDigits(10, 2);
    const ss = w.localDigits(12, 2);
    // Years outside 1900-9000 (and every value not valid) go the full way, which says what is wrong.
    if (y < 1900 || y > 9000 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return Number.NaN;
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59) return Number.NaN;
    return (daysFromCivil(y, mo, d) * 24 + hh) * 3600 + mi * 60 + ss - offset * 60;
  }
}

/** The usage record of a call event (both ways build it here: the same shape, the same fields). */
export function tapUsageRecord(
  s: Pick<FastMapSetup, "prefix" | "home" | "visited" | "rat">,
  position: number,
  imsi: string,
  service: number,
  startTime: number,
  duration: number,
  bytesUp: number,
  bytesDown: number,
): ParsedRecord {
  const sms = service === SERVICE_SMS;
  return {
    line: position,
    recordId: s.prefix + position,
    imsi,
    home: s.home,
    visited: s.visited,
    service,
    rat: s.rat,
    startTime,
    duration: sms ? 0 : duration,
    bytesUp,
    bytesDown,
    events: sms ? 1 : 0,
    latencyMs: 0,
    throughputKbps: 0,
  };
}

/**
 * Claims a TAP record id in the period's id set: true when no earlier file of the period had it (the id is
 * added, so the set saved after the run holds it: the CSV `usage:tap` made of the same file is then refused
 * as duplicates). A file's own ids never repeat (the position is part of them): only earlier files' can clash.
 */
export function claimTapId(ids: RecordIdSet, id: string, position: number): boolean {
  return ids.hasValues ? ids.claim(id, position) === -1 : ids.add(id);
}
