/**
 * Money (after Uniswap sdk-core's `CurrencyAmount`): an {@link Amount} is a count of a token's base units
 * that knows its token, adds and subtracts only with amounts of the same token, compares, and formats
 * itself. {@link formatAmount} is the one formatter of token units in the library: every amount a
 * person or a finance system reads is printed by it.
 */
import { BaseError, ConfigError, InputError, type InputLocation } from "./errors";

/** Most decimals an ERC-20 token can declare (`decimals()` is a uint8). */
const MAX_DECIMALS = 255;
const DECIMAL_RE = /^(\d+)(?:\.(\d+))?$/;

/** An ERC-20 settlement token as amounts need it. */
export interface Token {
  address: string;
  /** "" when the token has no symbol(). */
  symbol: string;
  decimals: number;
}

export interface ParseAmountOptions {
  /** Where the text came from (a file and line, or the library parameter). */
  location: InputLocation;
  /** Largest value allowed, in base units (e.g. 2^128 - 1 for a uint128 field). */
  max?: bigint;
}

export interface FormatAmountOptions {
  /** Thousands separators in the whole part: "1,234.5". Default: none, "1234.5". */
  group?: boolean;
  /**
   * Exactly this many fraction digits (at most the token's decimals), so that a column of amounts aligns;
   * default: as many as the value needs, without trailing zeros. Never rounds: a value that needs more
   * digits is a RangeError.
   */
  digits?: number;
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
function parseScaled(text: string, scale: number, words: ScaleWords, options: ParseAmountOptions): bigint {
  const { location, max } = options;
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

/** Digits with a comma between each group of three: "1234567" is "1,234,567". */
function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** `value` 10^-`scale` units as decimal text: "1.5" for 150n at scale 2 (see FormatAmountOptions). */
function formatScaled(value: bigint, scale: number, options: FormatAmountOptions = {}): string {
  const digits = (value < 0n ? -value : value).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const needed = digits.slice(digits.length - scale).replace(/0+$/, "");
  const shown = options.digits === undefined ? needed.length : Math.min(options.digits, scale);
  if (needed.length > shown) throw new RangeError(`${value} has more than ${shown} fraction digits`);
  const fraction = needed.padEnd(shown, "0");
  const sign = value < 0n ? "-" : "";
  return `${sign}${options.group ? groupThousands(whole) : whole}${fraction ? `.${fraction}` : ""}`;
}

/** Fraction digits `value` needs at scale `scale` to be printed exactly (0 for whole units). */
function fractionDigitsOf(value: bigint, scale: number): number {
  if (scale === 0) return 0;
  const digits = (value < 0n ? -value : value).toString().padStart(scale + 1, "0");
  return digits.slice(-scale).replace(/0+$/, "").length;
}

/**
 * Parses a money amount written in token units ("0.05") into the token's base units, exactly, for a
 * token with `decimals` decimals: "0.05" with 6 decimals is 50000n. Throws InputError (at
 * `options.location`) for negatives, non-numbers, more fractional digits than the token has (never
 * rounds), or a value above `options.max`.
 */
export function parseAmount(text: string, decimals: number, options: ParseAmountOptions): bigint {
  checkDecimals(decimals);
  const words = { what: "a token amount", precision: `the settlement token has ${decimals} decimals` };
  return parseScaled(text, decimals, words, options);
}

/**
 * Base units as token units, exactly: 50000n with 6 decimals is "0.05"; `{ group: true, digits: 2 }`
 * prints 1234500000n as "1,234.50". The library's one formatter of money.
 */
export function formatAmount(units: bigint, decimals: number, options: FormatAmountOptions = {}): string {
  checkDecimals(decimals);
  return formatScaled(units, decimals, options);
}

/** A count with thousands separators: 1234567 is "1,234,567". */
export function formatCount(n: bigint | number): string {
  return groupThousands(BigInt(n).toString());
}

/** Two amounts of different tokens met in one sum or comparison: a bug in the caller, never rounded away. */
export class AmountTokenMismatchError extends BaseError {
  override name = "AmountTokenMismatchError";
}

/** True when `a` and `b` are one token: the same address (in any case) and decimals. */
export function sameToken(a: Token, b: Token): boolean {
  return a.address.toLowerCase() === b.address.toLowerCase() && a.decimals === b.decimals;
}

/** An amount of a token, in its base units; immutable. */
export class Amount {
  private constructor(
    readonly token: Token,
    readonly units: bigint,
  ) {}

  /** `units` base units of `token` (negative allowed: a difference, a net position). */
  static fromUnits(token: Token, units: bigint): Amount {
    checkDecimals(token.decimals);
    return new Amount(token, units);
  }

  static zero(token: Token): Amount {
    return Amount.fromUnits(token, 0n);
  }

  /** Token units as written by a person ("1000.50"), exactly; see {@link parseAmount} for the errors. */
  static parse(text: string, token: Token, options: ParseAmountOptions): Amount {
    return new Amount(token, parseAmount(text, token.decimals, options));
  }

  add(other: Amount): Amount {
    return new Amount(this.token, this.units + this.checked(other, "add").units);
  }

  sub(other: Amount): Amount {
    return new Amount(this.token, this.units - this.checked(other, "subtract").units);
  }

  /** -1, 0 or 1 as this amount is less than, equal to or more than `other`. */
  compare(other: Amount): -1 | 0 | 1 {
    const { units } = this.checked(other, "compare");
    return this.units < units ? -1 : this.units > units ? 1 : 0;
  }

  equals(other: Amount): boolean {
    return this.compare(other) === 0;
  }

  lessThan(other: Amount): boolean {
    return this.compare(other) < 0;
  }

  greaterThan(other: Amount): boolean {
    return this.compare(other) > 0;
  }

  isZero(): boolean {
    return this.units === 0n;
  }

  isNegative(): boolean {
    return this.units < 0n;
  }

  /** Fraction digits this amount needs to be printed exactly: 1.5 needs 1, 2 needs 0. */
  fractionDigits(): number {
    return fractionDigitsOf(this.units, this.token.decimals);
  }

  /** The amount in token units ("1234.5", or "1,234.50" with `{ group: true, digits: 2 }`). */
  format(options: FormatAmountOptions = {}): string {
    return formatScaled(this.units, this.token.decimals, options);
  }

  /** Token units and symbol, exactly: "1234.5 USDC" ("1234.5" for a token without a symbol). */
  toString(): string {
    return `${this.format()}${this.token.symbol ? ` ${this.token.symbol}` : ""}`;
  }

  private checked(other: Amount, operation: string): Amount {
    if (!sameToken(this.token, other.token)) {
      throw new AmountTokenMismatchError(`cannot ${operation} ${this} and ${other}: they are amounts of different tokens`, {
        details: `${this.token.address} (${this.token.decimals} decimals) and ${other.token.address} (${other.token.decimals} decimals)`,
      });
    }
    return other;
  }
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
  const bps = parseScaled(String(value), 2, words, { location });
  if (bps > 10_000n) {
    throw new InputError(`${value} % is more than 100 %`, { location, hint: "write a percentage from 0 to 100." });
  }
  return Number(bps);
}

/** Basis points as a percentage: 9950 is 99.5. */
export function formatPercent(bps: bigint | number): number {
  return Number(formatScaled(BigInt(bps), 2));
}
