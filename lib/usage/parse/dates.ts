/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Days in month `m` (1-12) of year `y`, leap years included. */
export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const SHAPE = "is not an ISO 8601 UTC time like 2026-11-03T10:15:00Z";

/**
 * Unix seconds of s[a, b) as `YYYY-MM-DDTHH:MM:SS[.fff]Z` (or +00:00), or what is wrong with it. Parsed
 * by hand: it runs once per record.
 */
export function utcTimestamp(s: string, a: number, b: number): number | string {
  if (
    b - a < 19 ||
    s.charCodeAt(a + 4) !== 45 ||
    s.charCodeAt(a + 7) !== 45 ||
    (s.charCodeAt(a + 10) | 0x20) !== 116 ||
    s.charCodeAt(a + 13) !== 58 ||
    s.charCodeAt(a + 16) !== 58
  ) {
    return SHAPE;
  }
  const y1 = twoDigits(s, a);
  const y2 = twoDigits(s, a + 2);
  const mo = twoDigits(s, a + 5);
  const d = twoDigits(s, a + 8);
  const h = twoDigits(s, a + 11);
  const mi = twoDigits(s, a + 14);
  const sec = twoDigits(s, a + 17);
  if (y1 < 0 || y2 < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return SHAPE;
  const y = y1 * 100 + y2;
  let i = a + 19;
  if (i < b && s.charCodeAt(i) === 46 /* . */) {
    i++;
    const from = i;
    while (i < b && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === from) return SHAPE;
  }
  const zone = b - i === 1 ? s.charCodeAt(i) | 0x20 : 0;
  if (zone !== 122 /* z */ && !(b - i === 6 && s.startsWith("+00:00", i))) {
    const rest = s.slice(i, b);
    if (/^[+-]\d{2}:?\d{2}$/.test(rest)) return `has the offset ${rest}: write the time in UTC, ending in Z`;
    if (rest === "") return "has no time zone: write the time in UTC, ending in Z";
    return SHAPE;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return "is not a valid date and time";
  return (daysFromCivil(y, mo, d) * 24 + h) * 3600 + mi * 60 + sec;
}
