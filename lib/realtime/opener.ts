import { formatPlmn } from "../core/plmn";
import { openImsiKey } from "../crypto/envelope";
import type { Keystore } from "../keys/keystore";
import type { Hex } from "../util/hex";

/** Opens the IMSI-key envelopes shared with `self` with its encryption key from `keystore`. */
export function keystoreEnvelopeOpener(keystore: Keystore, self: Hex): (home: Hex, envelope: Hex) => Uint8Array {
  return (home, envelope) =>
    openImsiKey({ envelope, recipientPrivateKey: keystore.encryptionKey(formatPlmn(self)).privateKey, home, partner: self });
}
