import { createHash } from "node:crypto";
import { CryptoError } from "../core/errors";
import { bytesToHex, hexToBytes, type Hex } from "../util/hex";
import { checkPlmnHex } from "../core/plmn";
import { deriveKey, open, seal, SEAL_OVERHEAD } from "./aead";
import { checkImsiKey, ecdhSharedSecret, generateEncryptionKeyPair, IMSI_KEY_LENGTH, validateEncryptionPublicKey } from "./keys";

/**
 * The envelope in which a home carrier sends its IMSI key to a roaming partner (ECIES):
 * version (0x01) || ephemeral compressed public key (33) || seal(key, imsiKey, aad) (12 + 32 + 16),
 * key = HKDF-SHA256(ECDH(ephemeral, recipient), salt = ephemeral public key,
 *                   info = "roamledger/imsi-key/v1" || home || partner),
 * aad = version || home || partner, so an envelope made for one pair does not open for another.
 */
const VERSION = 0x01;
const EPHEMERAL_KEY_LENGTH = 33;
export const ENVELOPE_LENGTH = 1 + EPHEMERAL_KEY_LENGTH + IMSI_KEY_LENGTH + SEAL_OVERHEAD;
const KEY_INFO = Buffer.from("roamledger/imsi-key/v1", "utf8");
const FINGERPRINT_DOMAIN = Buffer.from("roamledger/imsi-key-fingerprint/v1", "utf8");
const FINGERPRINT_LENGTH = 8;

export interface SealImsiKeyArgs {
  imsiKey: Uint8Array;
  recipientPublicKey: Hex;
  /** The home carrier's PLMN id (bytes3), owner of the IMSI key. */
  home: Hex;
  /** The roaming partner's PLMN id (bytes3), the recipient. */
  partner: Hex;
}

export interface OpenImsiKeyArgs {
  envelope: Hex;
  recipientPrivateKey: Hex;
  home: Hex;
  partner: Hex;
}

/** HKDF info and AES-GCM AAD, both bound to the (home, partner) pair. */
function pairContext(home: Hex, partner: Hex): { info: Uint8Array; aad: Uint8Array } {
  checkPlmnHex(home, "home");
  checkPlmnHex(partner, "partner");
  const pair = Buffer.concat([hexToBytes(home), hexToBytes(partner)]);
  return { info: Buffer.concat([KEY_INFO, pair]), aad: Buffer.concat([Uint8Array.of(VERSION), pair]) };
}

/** Encrypts `imsiKey` for the partner's registered encryption public key. */
export function sealImsiKey({ imsiKey, recipientPublicKey, home, partner }: SealImsiKeyArgs): Hex {
  checkImsiKey(imsiKey);
  validateEncryptionPublicKey(recipientPublicKey);
  const { info, aad } = pairContext(home, partner);
  const ephemeral = generateEncryptionKeyPair();
  const ephemeralPublicKey = hexToBytes(ephemeral.publicKey);
  const key = deriveKey(ecdhSharedSecret(ephemeral.privateKey, recipientPublicKey), ephemeralPublicKey, info);
  return bytesToHex(Buffer.concat([Uint8Array.of(VERSION), ephemeralPublicKey, seal(key, imsiKey, aad)]));
}

/**
 * Decrypts an envelope made by `sealImsiKey`. CryptoError when it has the wrong length or version,
 * was altered, or is not for this recipient and pair; InputError when it is not hex at all.
 */
export function openImsiKey({ envelope, recipientPrivateKey, home, partner }: OpenImsiKeyArgs): Uint8Array {
  const hint = "ask the home carrier to send its IMSI key again.";
  const bytes = hexToBytes(envelope, { what: "IMSI-key envelope" });
  if (bytes.length !== ENVELOPE_LENGTH) {
    throw new CryptoError(`IMSI-key envelope is ${bytes.length} bytes long, expected ${ENVELOPE_LENGTH}`, { hint });
  }
  if (bytes[0] !== VERSION) {
    throw new CryptoError(
      `IMSI-key envelope has version 0x${bytes[0].toString(16).padStart(2, "0")}; this software reads only version 0x01`,
      {
        hint: `upgrade RoamLedger if the home carrier uses a newer version; otherwise the envelope is damaged: ${hint}`,
      },
    );
  }
  const { info, aad } = pairContext(home, partner);
  const ephemeralPublicKey = bytes.subarray(1, 1 + EPHEMERAL_KEY_LENGTH);
  const ephemeralHex = bytesToHex(ephemeralPublicKey);
  try {
    validateEncryptionPublicKey(ephemeralHex);
  } catch (cause) {
    throw new CryptoError("IMSI-key envelope is damaged or tampered: its ephemeral public key is not valid", {
      cause,
      hint,
    });
  }
  const key = deriveKey(ecdhSharedSecret(recipientPrivateKey, ephemeralHex), ephemeralPublicKey, info);
  return open(key, bytes.subarray(1 + EPHEMERAL_KEY_LENGTH), aad);
}

/** First 8 bytes of SHA-256("roamledger/imsi-key-fingerprint/v1" || key): safe to publish, lets partners compare keys. */
export function imsiKeyFingerprint(imsiKey: Uint8Array): Hex {
  checkImsiKey(imsiKey);
  const digest = createHash("sha256").update(FINGERPRINT_DOMAIN).update(imsiKey).digest();
  return bytesToHex(digest.subarray(0, FINGERPRINT_LENGTH));
}
