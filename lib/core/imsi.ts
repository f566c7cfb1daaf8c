import { createHmac, createSecretKey } from "node:crypto";
import { checkImsiKey } from "../crypto/keys";
import { InputError, type InputLocation } from "./errors";
import { bytesToHex, type Hex } from "../util/hex";
import { plmnMcc, plmnMnc } from "./plmn";

/** Domain separation for device ids; changing it changes every device id. */
const DEVICE_ID_PREFIX = "roamledger/device-id/v1:";
const IMSI_RE = /^\d{15}$/;

/**
 * Checks that `imsi` is 15 digits (ITU-T E.212: MCC 3 + MNC 2 or 3 + MSIN). Throws InputError
 * otherwise; the message describes the problem without repeating the IMSI (it is personal data).
 */
export function validateImsi(imsi: string, location?: InputLocation): void {
  if (IMSI_RE.test(imsi)) return;
  const hint = "an IMSI is exactly 15 digits (MCC, MNC, MSIN) with nothing around them; correct it in the input.";
  let problem: string;
  if (imsi.trim() !== imsi) problem = "has spaces around it";
  else if (/\D/.test(imsi)) problem = `has a character that is not a digit at position ${imsi.search(/\D/) + 1}`;
  else problem = `has ${imsi.length} digits, expected 15`;
  throw new InputError(`IMSI ${problem}`, { location, hint });
}

/**
 * True when the IMSI starts with the MCC and MNC digits of the PLMN, written as text ("262-01").
 * A 2-digit and a 3-digit MNC differ: 26201... belongs to 262-01 and only 262010... to 262-010.
 * An IMSI that is not 15 digits belongs to no PLMN. Throws InputError for a malformed PLMN.
 */
export function imsiBelongsTo(imsi: string, plmnText: string): boolean {
  const prefix = plmnMcc(plmnText) + plmnMnc(plmnText);
  return IMSI_RE.test(imsi) && imsi.startsWith(prefix);
}

/**
 * Returns a function that maps an IMSI to its device id, HMAC-SHA256(imsiKey, "roamledger/device-id/v1:" + imsi),
 * checking and importing the key once; use it when deriving many ids. Throws CryptoError for a key
 * that is not 32 bytes; the returned function throws InputError for a malformed IMSI.
 */
export function createDeviceIdDeriver(imsiKey: Uint8Array): (imsi: string) => Hex {
  checkImsiKey(imsiKey);
  const key = createSecretKey(imsiKey);
  return (imsi) => {
    validateImsi(imsi);
    return bytesToHex(
      createHmac("sha256", key)
        .update(DEVICE_ID_PREFIX + imsi, "utf8")
        .digest(),
    );
  };
}

/** The device id of one IMSI (see {@link createDeviceIdDeriver}). */
export function deviceIdFromImsi(imsiKey: Uint8Array, imsi: string): Hex {
  return createDeviceIdDeriver(imsiKey)(imsi);
}
