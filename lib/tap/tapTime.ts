/**
 * TAP timestamps: a local time `CCYYMMDDhhmmss` plus a UTC offset `+hhmm`/`-hhmm`, given directly
 * (DateTimeLong: batch and audit control info) or by a `UtcTimeOffsetCode` that NetworkInfo's
 * UtcTimeOffsetInfo list resolves (DateTime: every call event).
 */

export interface TapTimestamp {
  /** The local time as written, CCYYMMDDhhmmss. */
  local: string;
  /** The UTC offset (+hhmm / -hhmm), given or resolved from the code. */
  utcOffset?: string;
  /** The UtcTimeOffsetCode the call event gave (DateTime only). */
  utcOffsetCode?: number;
  /** The instant in UTC, ISO 8601 (`2014-03-01T12:03:42Z`), when local time and offset are valid. */
  utc?: string;
}

const LOCAL = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;
const OFFSET = /^([+-])(\d{2})(\d{2})$/;

/** The UTC instant of a local time and offset, or the reason it has none. */
export function toUtc(local: string, offset: string): { utc: string } | { problem: string } {
  const m = LOCAL.exec(local);
  if (!m) return { problem: `LocalTimeStamp "${local}" is not CCYYMMDDhhmmss` };
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(ms);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return { problem: `LocalTimeStamp "${local}" is not a valid date and time` };
  }
  const o = OFFSET.exec(offset);
  if (!o || Number(o[2]) > 14 || Number(o[3]) > 59)
    return { problem: `UtcTimeOffset "${offset}" is not +hhmm or -hhmm (at most 14 hours)` };
  const minutes = (Number(o[2]) * 60 + Number(o[3])) * (o[1] === "-" ? -1 : 1);
  return { utc: new Date(ms - minutes * 60_000).toISOString().replace(".000Z", "Z") };
}

/** A DateTimeLong: local time with its own offset. Problems go to `problems`. */
export function longTimestamp(local: string, utcOffset: string, problems: string[]): TapTimestamp {
  const r = toUtc(local, utcOffset);
  if ("problem" in r) problems.push(r.problem);
  return { local, utcOffset, utc: "utc" in r ? r.utc : undefined };
}

/** A DateTime: local time with a UtcTimeOffsetCode resolved through NetworkInfo's table. */
export function codedTimestamp(
  local: string,
  code: number | undefined,
  offsets: ReadonlyMap<number, string>,
  problems: string[],
): TapTimestamp {
  if (code === undefined) {
    problems.push(`timestamp ${local} has no UtcTimeOffsetCode`);
    return { local };
  }
  const utcOffset = offsets.get(code);
  if (utcOffset === undefined) {
    problems.push(`UtcTimeOffsetCode ${code} is not in the file's NetworkInfo (UtcTimeOffsetInfo)`);
    return { local, utcOffsetCode: code };
  }
  const r = toUtc(local, utcOffset);
  if ("problem" in r) problems.push(r.problem);
  return { local, utcOffset, utcOffsetCode: code, utc: "utc" in r ? r.utc : undefined };
}
