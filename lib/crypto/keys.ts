import { createECDH, ECDH, randomBytes } from "node:crypto";
import { CryptoError, InputError, type InputLocation } from "../core/errors";
import { bytesToHex, hexToBytes, isHex, type Hex } from "../util/hex";

/**
 * secp256k1 keys used only for ECDH (IMSI-key envelopes, usage payloads); never for signing.
 * This is the only module that calls ECDH.
 */
const CURVE = "secp256k1";
const PRIVATE_KEY_LENGTH = 32;
const PUBLIC_KEY_LENGTH = 33;
export const IMSI_KEY_LENGTH = 32;

export interface EncryptionKeyPair {
  /** 32-byte scalar. */
  privateKey: Hex;
  /** 33-byte compressed point. */
  publicKey: Hex;
}

function ecdhFromPrivate(privateKey: Hex): ECDH {
  const ecdh = createECDH(CURVE);
  try {
    ecdh.setPrivateKey(hexToBytes(privateKey, { byteLength: PRIVATE_KEY_LENGTH, what: "encryption private key" }));
  } catch (cause) {
    throw new CryptoError("encryption private key is not a valid secp256k1 private key", {
      cause,
      details: cause instanceof InputError ? cause.shortMessage : undefined,
      hint: "use the key from the key store, where the keys:init operation creates it.",
    });
  }
  return ecdh;
}

/** A fresh random key pair. */
export function generateEncryptionKeyPair(): EncryptionKeyPair {
  const ecdh = createECDH(CURVE);
  ecdh.generateKeys();
  // getPrivateKey drops leading zero bytes: pad back to 32.
  const scalar = ecdh.getPrivateKey();
  const privateKey = Buffer.alloc(PRIVATE_KEY_LENGTH);
  scalar.copy(privateKey, PRIVATE_KEY_LENGTH - scalar.length);
  return { privateKey: bytesToHex(privateKey), publicKey: bytesToHex(ecdh.getPublicKey(null, "compressed")) };
}

/** The compressed public key of a private key; CryptoError when it is not a valid scalar. */
export function publicKeyFromPrivate(privateKey: Hex): Hex {
  return bytesToHex(ecdhFromPrivate(privateKey).getPublicKey(null, "compressed"));
}

/**
 * Checks that `publicKey` is a 33-byte compressed secp256k1 point (prefix 02 or 03) that lies on the
 * curve. Throws InputError otherwise.
 */
export function validateEncryptionPublicKey(publicKey: string, location?: InputLocation): asserts publicKey is Hex {
  const hint = "an encryption public key is a 33-byte compressed secp256k1 point: 0x02 or 0x03 followed by 64 hex digits.";
  if (!isHex(publicKey, PUBLIC_KEY_LENGTH)) {
    throw new InputError("encryption public key is not 33 bytes of lowercase 0x hex", { location, hint });
  }
  if (!publicKey.startsWith("0x02") && !publicKey.startsWith("0x03")) {
    throw new InputError(`encryption public key starts with 0x${publicKey.slice(2, 4)}, expected 0x02 or 0x03`, {
      location,
      hint,
    });
  }
  try {
    ECDH.convertKey(hexToBytes(publicKey), CURVE, undefined, undefined, "compressed");
  } catch (cause) {
    throw new InputError("encryption public key is not a point on the secp256k1 curve", { location, hint, cause });
  }
}

/** A fresh random 32-byte IMSI key (the HMAC key behind device ids). */
export function generateImsiKey(): Uint8Array {
  return randomBytes(IMSI_KEY_LENGTH);
}

/** Throws CryptoError when `imsiKey` is not 32 bytes. */
export function checkImsiKey(imsiKey: Uint8Array): void {
  if (imsiKey.length !== IMSI_KEY_LENGTH) {
    throw new CryptoError(`IMSI key is ${imsiKey.length} bytes long, expected ${IMSI_KEY_LENGTH}`, {
      hint: "load the IMSI key from the key store (the keys:init operation creates it) instead of building it by hand.",
    });
  }
}

/** The 32-byte ECDH shared secret (x coordinate). CryptoError for a bad private or public key. */
export function ecdhSharedSecret(privateKey: Hex, publicKey: Hex): Uint8Array {
  const ecdh = ecdhFromPrivate(privateKey);
  try {
    validateEncryptionPublicKey(publicKey);
    return ecdh.computeSecret(hexToBytes(publicKey));
  } catch (cause) {
    throw new CryptoError("cannot compute an ECDH shared secret: the other party's public key is not valid", {
      cause,
      details: cause instanceof InputError ? cause.shortMessage : undefined,
      hint: "check that the public key is the one registered on chain for that member.",
    });
  }
}
