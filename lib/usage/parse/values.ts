import { RAW_MAX } from "./fields";

/**
 * Checks of single field values, read in place (s[a, b)) so that a valid line costs no string per
 * number. The number parsers return a value >= 0 or one of the NUM_ codes.
 */

export const NUM_EMPTY = -1;
export const NUM_NEGATIVE = -2;
export const NUM_INVALID = -3;
export const NUM_TOO_BIG = -4;

/** A non-negative integer written as ASCII digits in s[a, b), or one of the NUM_ codes. */
export function parseDigits(s: string, a: number, b: number): number {
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
export function jsonCount(value: number): number {
  if (!Number.isFinite(value)) return NUM_INVALID;
  if (value < 0) return NUM_NEGATIVE;
  if (!Number.isInteger(value)) return NUM_INVALID;
  return value > Number.MAX_SAFE_INTEGER ? NUM_TOO_BIG : value;
}

/** A value as a message shows it: quoted when a string, at most 40 characters. */
export function describe(value: unknown): string {
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

/** A rejected line as its reject keeps it. */
export function truncateRaw(text: string): string {
  return text.length > RAW_MAX ? text.slice(0, RAW_MAX) : text;
}

/** What is wrong with the IMSI in s[a, b), or undefined (15 digits, as lib/core/imsi.ts validateImsi). */
export function checkImsi(s: string, a: number, b: number): string | undefined {
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return `has a character that is not a digit at position ${i - a + 1}`;
  }
  return b - a === 15 ? undefined : `has ${b - a} digits, expected 15 (MCC, MNC, MSIN)`;
}
