import { InputError, type InputLocation } from "./errors";
import { bytesToHex, hexToBytes, isHex, type Hex } from "../util/hex";

/**
 * ITU-T E.212 reserves MCC 999 for internal use. RoamLedger gives members without a PLMN of their
 * own (device makers) an id under it, e.g. "999-01".
 */
export const DEVICE_MAKER_MCC = "999";

const PLMN_FORMS = '"262-01", "262-001", "26201" or "262001" (3-digit MCC, then a 2- or 3-digit MNC)';
const PLMN_RE = /^(\d{3})-?(\d{2,3})$/;
const FILLER = 0xf;

interface PlmnParts {
  mcc: string;
  mnc: string;
}

function splitPlmn(text: string, location?: InputLocation): PlmnParts {
  const trimmed = text.trim();
  const match = PLMN_RE.exec(trimmed);
  if (!match) {
    throw new InputError(`"${trimmed}" is not a PLMN id`, { location, hint: `write it as ${PLMN_FORMS}.` });
  }
  const mcc = match[1];
  const mnc = match[2];
  if (mcc === "000") {
    throw new InputError(`"${trimmed}" is not a PLMN id: MCC 000 is not a mobile country code`, {
      location,
      hint: `use the carrier's real MCC, written as ${PLMN_FORMS}.`,
    });
  }
  return { mcc, mnc };
}

/** The MCC of a PLMN written as text, e.g. "262" for "262-01". Throws InputError like `parsePlmn`. */
export function plmnMcc(text: string, location?: InputLocation): string {
  return splitPlmn(text, location).mcc;
}

/** The MNC of a PLMN written as text, e.g. "01" for "262-01" (2 and 3 digits kept apart). */
export function plmnMnc(text: string, location?: InputLocation): string {
  return splitPlmn(text, location).mnc;
}

/** Parses "262-01", "262-001", "26201" or "262001" into the on-chain `bytes3` TBCD id. */
export function parsePlmn(text: string, location?: InputLocation): Hex {
  const { mcc, mnc } = splitPlmn(text, location);
  const d = (s: string, i: number): number => s.charCodeAt(i) - 48;
  const mnc3 = mnc.length === 3 ? d(mnc, 2) : FILLER;
  return bytesToHex(Uint8Array.of((d(mcc, 1) << 4) | d(mcc, 0), (mnc3 << 4) | d(mcc, 2), (d(mnc, 1) << 4) | d(mnc, 0)));
}

/** The digits of a TBCD id, or undefined when it is not a valid one (same rules as PlmnLib.isValid). */
function decodePlmn(hex: string): PlmnParts | undefined {
  if (!isHex(hex, 3)) return undefined;
  const [b0, b1, b2] = hexToBytes(hex);
  const nibbles = [b0 & 0xf, b0 >> 4, b1 & 0xf, b2 & 0xf, b2 >> 4];
  const mnc3 = b1 >> 4;
  if (nibbles.some((n) => n > 9) || (mnc3 > 9 && mnc3 !== FILLER)) return undefined;
  const mcc = nibbles.slice(0, 3).join("");
  if (mcc === "000") return undefined;
  return { mcc, mnc: nibbles.slice(3).join("") + (mnc3 === FILLER ? "" : String(mnc3)) };
}

/** True when `hex` is a valid TBCD PLMN id (lowercase `0x` hex, 3 bytes). */
export function isValidPlmnHex(hex: string): hex is Hex {
  return decodePlmn(hex) !== undefined;
}

function invalidPlmnHex(hex: string, what?: string): InputError {
  return new InputError(`${what ? `${what} ` : ""}${hex} is not a valid PLMN id`, {
    hint: 'a PLMN id is 3 bytes of TBCD digits (0x62f210 is 262-01); convert text such as "262-01" with parsePlmn.',
  });
}

/** Throws InputError unless `hex` is a valid TBCD PLMN id; `what` (e.g. "home") names it in the message. */
export function checkPlmnHex(hex: string, what?: string): asserts hex is Hex {
  if (!decodePlmn(hex)) throw invalidPlmnHex(hex, what);
}

/** Formats a TBCD PLMN id as "262-01"; throws InputError when it is not a valid one. */
export function formatPlmn(hex: Hex | string): string {
  const parts = decodePlmn(hex);
  if (!parts) throw invalidPlmnHex(hex);
  return `${parts.mcc}-${parts.mnc}`;
}
