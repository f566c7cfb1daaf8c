import { createHmac, createSecretKey } from "node:crypto";
import { keccak256 } from "ethers";
import { checkImsiKey } from "../crypto/keys";
import { InputError, type InputLocation } from "./errors";
import { bytesToHex, type Hex } from "../util/hex";
import { isValidPlmnHex, parsePlmn, plmnMcc, plmnMnc } from "./plmn";

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

/** Maps IMSIs of one home carrier to device ids; `localId` gives the id a registration carries. */
export interface DeviceIdDeriver {
  /** The on-chain device id of the IMSI: keccak256(home PLMN (3 bytes) ++ local id). */
  (imsi: string): Hex;
  /** The local id of the IMSI: HMAC-SHA256(imsiKey, "roamledger/device-id/v1:" + imsi). */
  localId(imsi: string): Hex;
}

/**
 * The on-chain id of home `home`'s device with local id `localId`, as the registry derives it:
 * keccak256(abi.encodePacked(bytes3 home, bytes32 localId)). Scoping by home means a carrier that
 * copies local ids from another's pending registration only registers devices of its own.
 */
export function scopeDeviceId(home: Hex, localId: Hex): Hex {
  return keccak256(`0x${home.slice(2)}${localId.slice(2)}`) as Hex;
}

/** The home PLMN as bytes3 hex, from hex (0x62f210) or text (262-01). Throws InputError otherwise. */
function homePlmn(home: Hex | string): Hex {
  const lower = home.toLowerCase();
  return isValidPlmnHex(lower) ? lower : parsePlmn(home, { param: "home" });
}

/**
 * Returns a deriver of the device ids of `home`'s IMSIs (the IMSI's home carrier, as bytes3 hex or
 * MCC-MNC text), checking and importing the key once; use it when deriving many ids. The id is
 * scoped by home (see {@link scopeDeviceId}) over the local id HMAC-SHA256(imsiKey,
 * "roamledger/device-id/v1:" + imsi). Throws CryptoError for a key that is not 32 bytes and InputError
 * for a malformed home; the deriver throws InputError for a malformed IMSI.
 */
export function createDeviceIdDeriver(imsiKey: Uint8Array, home: Hex | string): DeviceIdDeriver {
  checkImsiKey(imsiKey);
  const plmn = homePlmn(home);
  const key = createSecretKey(imsiKey);
  const localId = (imsi: string): Hex => {
    validateImsi(imsi);
    return bytesToHex(
      createHmac("sha256", key)
        .update(DEVICE_ID_PREFIX + imsi, "utf8")
        .digest(),
    );
  };
  const derive = (imsi: string): Hex => scopeDeviceId(plmn, localId(imsi));
  return Object.assign(derive, { localId });
}

/** The device id of one IMSI of `home` (see {@link createDeviceIdDeriver}). */
export function deviceIdFromImsi(imsiKey: Uint8Array, home: Hex | string, imsi: string): Hex {
  return createDeviceIdDeriver(imsiKey, home)(imsi);
}
