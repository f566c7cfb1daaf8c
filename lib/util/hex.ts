import { InputError, type InputLocation } from "../core/errors";

/** A lowercase, `0x`-prefixed hex string with an even number of digits. */
export type Hex = `0x${string}`;

/** What {@link hexToBytes} should say about the value when it is not right. */
export interface HexOptions {
  /** Required length in bytes; any length when absent. */
  byteLength?: number;
  /** What the value is, for the error message, e.g. "encryption private key". */
  what?: string;
  /** Where the value came from. */
  location?: InputLocation;
}

const HEX_RE = /^0x(?:[0-9a-f]{2})*$/;

/** True for lowercase `0x`-prefixed hex, of exactly `byteLength` bytes when given. */
export function isHex(value: unknown, byteLength?: number): value is Hex {
  if (typeof value !== "string" || !HEX_RE.test(value)) return false;
  return byteLength === undefined || value.length === 2 + 2 * byteLength;
}

/**
 * Decodes lowercase `0x` hex. Throws InputError otherwise; the message describes the shape of the
 * value but never repeats it, since it may be a secret key.
 */
export function hexToBytes(hex: string, options: HexOptions = {}): Uint8Array {
  const { byteLength, what = "value", location } = options;
  if (!isHex(hex)) {
    throw new InputError(`${what} is not hex`, {
      location,
      hint: `write it as 0x followed by ${byteLength === undefined ? "an even number of" : 2 * byteLength} lowercase hex digits (0-9, a-f).`,
    });
  }
  const bytes = Buffer.from(hex.slice(2), "hex");
  if (byteLength !== undefined && bytes.length !== byteLength) {
    throw new InputError(`${what} is ${bytes.length} bytes long, expected ${byteLength}`, {
      location,
      hint: `write it as 0x followed by ${2 * byteLength} lowercase hex digits.`,
    });
  }
  return bytes;
}

/** Encodes bytes as lowercase `0x` hex. */
export function bytesToHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}
