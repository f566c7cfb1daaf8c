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

const DIGIT_0 = 48;

/** The number in `s` from `at`, `n` digits long, or -1 when a character is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** The UTC instant of a local time and offset, or the reason it has none. */
export function toUtc(local: string, offset: string): { utc: string } | { problem: string } {
  const y = local.length === 14 ? digits(local, 0, 4) : -1;
  const mo = digits(local, 4, 2);
  const d = digits(local, 6, 2);
  const h = digits(local, 8, 2);
  const mi = digits(local, 10, 2);
  const s = digits(local, 12, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return { problem: `LocalTimeStamp "${local}" is not CCYYMMDDhhmmss` };
  const days = mo === 2 && leap(y) ? 29 : DAYS_IN_MONTH[mo - 1];
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || s > 59) {
    return { problem: `LocalTimeStamp "${local}" is not a valid date and time` };
  }
  const oh = offset.length === 5 ? digits(offset, 1, 2) : -1;
  const om = digits(offset, 3, 2);
  const sign = offset[0] === "-" ? -1 : offset[0] === "+" ? 1 : 0;
  if (sign === 0 || oh < 0 || om < 0 || oh > 14 || om > 59) {
    return { problem: `UtcTimeOffset "${offset}" is not +hhmm or -hhmm (at most 14 hours)` };
  }
  const minutes = h * 60 + mi - sign * (oh * 60 + om);
  if (minutes >= 0 && minutes < 1440) {
    // The same day in UTC (most call events): no date arithmetic.
    return {
      utc: `${local.slice(0, 4)}-${local.slice(4, 6)}-${local.slice(6, 8)}T${two(Math.floor(minutes / 60))}:${two(minutes % 60)}:${local.slice(12, 14)}Z`,
    };
  }
  const iso = new Date(Date.UTC(y, mo - 1, d, h, mi, s) - sign * (oh * 60 + om) * 60_000).toISOString();
  return { utc: `${iso.slice(0, 19)}Z` };
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
