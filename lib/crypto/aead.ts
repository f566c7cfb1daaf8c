import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { CryptoError } from "../core/errors";

/**
 * AES-256-GCM and HKDF-SHA256. This is the only module that calls AES-GCM.
 * Sealed format: nonce (12 random bytes) || ciphertext || tag (16 bytes).
 */
const ALGORITHM = "aes-256-gcm";
export const KEY_LENGTH = 32;
export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;
/** Bytes `seal` adds to the plaintext. */
export const SEAL_OVERHEAD = NONCE_LENGTH + TAG_LENGTH;

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_LENGTH) {
    throw new CryptoError(`AES-256-GCM key is ${key.length} bytes long, expected ${KEY_LENGTH}`, {
      hint: "derive the key with deriveKey (or pairwiseKey) instead of passing raw bytes.",
    });
  }
}

/** Encrypts and authenticates `plaintext`, also authenticating `aad`. A fresh random nonce per call. */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  return sealWithNonce(key, randomBytes(NONCE_LENGTH), plaintext, aad);
}

/**
 * Like `seal`, but the nonce is derived from the content: HMAC-SHA256(key, "roamledger/siv/v1" || SHA-256(aad)
 * || SHA-256(plaintext)), first 12 bytes. The same (key, aad, plaintext) always seals to the same bytes, so
 * a sealed payload is content-addressed and a re-run after a crash stores and commits the same object. A
 * nonce repeats only for identical inputs (which give identical output), so GCM's nonce rule holds; what
 * leaks is only that two payloads are equal.
 */
export function sealDeterministic(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  checkKey(key);
  const mac = createHmac("sha256", key);
  mac.update("roamledger/siv/v1");
  mac.update(createHash("sha256").update(aad).digest());
  mac.update(createHash("sha256").update(plaintext).digest());
  return sealWithNonce(key, mac.digest().subarray(0, NONCE_LENGTH), plaintext, aad);
}

function sealWithNonce(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  checkKey(key);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function decryptionFailed(details?: string, cause?: unknown): CryptoError {
  return new CryptoError("decryption failed: wrong key or tampered data", {
    details,
    cause,
    hint: "check that the data was encrypted for your current key and for this context (e.g. the same PLMN pair); ask the sender for it again if it was damaged in transit.",
  });
}

/** Reverses `seal`. Throws CryptoError when the key or `aad` is wrong or the data was altered. */
export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  checkKey(key);
  if (sealed.length < SEAL_OVERHEAD) {
    throw decryptionFailed(`the data is ${sealed.length} bytes long, shorter than its ${SEAL_OVERHEAD} bytes of nonce and tag`);
  }
  const nonce = sealed.subarray(0, NONCE_LENGTH);
  const ciphertext = sealed.subarray(NONCE_LENGTH, sealed.length - TAG_LENGTH);
  const tag = sealed.subarray(sealed.length - TAG_LENGTH);
  try {
    const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_LENGTH });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (cause) {
    throw decryptionFailed(undefined, cause);
  }
}

/** HKDF-SHA256 to a 32-byte key. */
export function deriveKey(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", ikm, salt, info, KEY_LENGTH));
}
