import { InputError } from "../core/errors";
import { hexToBytes, type Hex } from "../util/hex";
import { checkPlmnHex, formatPlmn } from "../core/plmn";
import { deriveKey, open, sealDeterministic } from "./aead";
import { ecdhSharedSecret } from "./keys";

/** The key two carriers share for usage payloads, from their registered (static) encryption keys. */
const PAIRWISE_INFO = Buffer.from("roamledger/pairwise/v1", "utf8");

export interface PairwiseKeyArgs {
  myPrivateKey: Hex;
  theirPublicKey: Hex;
  /** The two carriers' PLMN ids (bytes3), in either order. */
  plmnA: Hex;
  plmnB: Hex;
}

/**
 * HKDF-SHA256(ECDH(mine, theirs), salt = the two PLMN ids sorted and concatenated,
 * info = "roamledger/pairwise/v1"). Both carriers compute the same key.
 */
export function pairwiseKey({ myPrivateKey, theirPublicKey, plmnA, plmnB }: PairwiseKeyArgs): Uint8Array {
  checkPlmnHex(plmnA, "plmnA");
  checkPlmnHex(plmnB, "plmnB");
  if (plmnA === plmnB) {
    throw new InputError(`a pairwise key needs two different carriers, got ${formatPlmn(plmnA)} twice`, {
      hint: "pass your own PLMN id and the partner's.",
    });
  }
  const salt = Buffer.concat([plmnA, plmnB].sort().map((plmn) => hexToBytes(plmn)));
  return deriveKey(ecdhSharedSecret(myPrivateKey, theirPublicKey), salt, PAIRWISE_INFO);
}

/**
 * Encrypts a usage payload with a pairwise key (AES-256-GCM with a content-derived nonce, see
 * aead.sealDeterministic): the same payload always gives the same bytes, so its hash can be committed.
 */
export function encryptPayload(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  return sealDeterministic(key, plaintext, aad);
}

/** Decrypts a usage payload; CryptoError when the key or `aad` is wrong or the payload was altered. */
export function decryptPayload(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  return open(key, sealed, aad);
}
