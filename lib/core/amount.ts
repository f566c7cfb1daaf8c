import { ConfigError, InputError, type InputLocation } from "./errors";

/** Most decimals an ERC-20 token can declare (`decimals()` is a uint8). */
const MAX_DECIMALS = 255;
const DECIMAL_RE = /^(\d+)(?:\.(\d+))?$/;

export interface ParseAmountOptions {
  /** Largest value allowed, in base units (e.g. 2^128 - 1 for a uint128 field). */
  max?: bigint;
}

function checkDecimals(decimals: number): void {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
    throw new ConfigError(`token decimals must be an integer from 0 to ${MAX_DECIMALS}, found ${decimals}`);
  }
}

/** How a scaled number is described in error messages. */
interface ScaleWords {
  /** What the value is: "a token amount", "a percentage". */
  what: string;
  /** Why at most `scale` fractional digits: "the token has 6 decimals". */
  precision: string;
}

/**
 * `text` as an integer count of 10^-`scale` units, exactly: "1.5" at scale 2 is 150n. Throws InputError
 * for anything but a non-negative decimal number with at most `scale` fractional digits.
 */
function parseScaled(text: string, scale: number, words: ScaleWords, location: InputLocation, max?: bigint): bigint {
  const trimmed = text.trim();
  if (/^-\s*\d/.test(trimmed)) {
    throw new InputError(`"${trimmed}" is negative`, { location, hint: `write ${words.what} of 0 or more.` });
  }
  const match = DECIMAL_RE.exec(trimmed);
  if (!match) {
    throw new InputError(`"${trimmed}" is not a decimal number`, {
      location,
      hint: `write ${words.what} as digits with an optional decimal point, e.g. "12" or "0.05" (no exponent, sign or separators).`,
    });
  }
  const [, whole, fraction = ""] = match;
  if (fraction.length > scale) {
    throw new InputError(`"${trimmed}" has ${fraction.length} decimal places, more than ${scale}: ${words.precision}`, {
      location,
      hint: `round it yourself to ${scale} decimal places: nothing is rounded silently.`,
    });
  }
  const value = BigInt(whole + fraction.padEnd(scale, "0"));
  if (max !== undefined && value > max) {
    throw new InputError(`"${trimmed}" is too large (at most ${formatScaled(max, scale)})`, { location });
  }
  return value;
}

/** `value` 10^-`scale` units as a decimal string without trailing zeros: 150n at scale 2 is "1.5". */
function formatScaled(value: bigint, scale: number): string {
  const sign = value < 0n ? "-" : "";
  const digits = (value < 0n ? -value : value).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, "");
  return `${sign}${whole}${fraction ? `.${fraction}` : ""}`;
}

/**
 * Parses a money amount written in token units ("0.05") into the token's base units, exactly, for a
 * token with `decimals` decimals: "0.05" with 6 decimals is 50000n. Throws InputError (at `location`) for
 * negatives, non-numbers, more fractional digits than the token has (never rounds), or a value above
 * `options.max`.
 */
export function parseAmount(text: string, decimals: number, location: InputLocation, options: ParseAmountOptions = {}): bigint {
  checkDecimals(decimals);
  const words = { what: "a token amount", precision: `the settlement token has ${decimals} decimals` };
  return parseScaled(text, decimals, words, location, options.max);
}

/** Base units as token units, without trailing zeros: 50000n with 6 decimals is "0.05". */
export function formatAmount(units: bigint, decimals: number): string {
  checkDecimals(decimals);
  return formatScaled(units, decimals);
}

/**
 * Parses a percentage (a JSON number like 99.5, or a string) into basis points, exactly: 99.5 is 9950.
 * Throws InputError for more than 2 decimals, negatives, non-numbers, or more than 100 %.
 */
export function parsePercent(value: unknown, location: InputLocation): number {
  if (typeof value !== "number" && typeof value !== "string") {
    throw new InputError(`expected a percentage like 99.5, found ${JSON.stringify(value) ?? "nothing"}`, {
      location,
    });
  }
  // String(0.0001) is "0.0001"; String(1e-7) is "1e-7" and fails the number check, as it should.
  const words = { what: "a percentage", precision: "percentages are kept in basis points (0.01 %)" };
  const bps = parseScaled(String(value), 2, words, location);
  if (bps > 10_000n) {
    throw new InputError(`${value} % is more than 100 %`, { location, hint: "write a percentage from 0 to 100." });
  }
  return Number(bps);
}

/** Basis points as a percentage: 9950 is 99.5. */
export function formatPercent(bps: bigint | number): number {
  return Number(formatScaled(BigInt(bps), 2));
}
