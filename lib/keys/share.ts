import { ConfigError, CryptoError } from "../core/errors";
import { openImsiKey, sealImsiKey, imsiKeyFingerprint } from "../crypto/envelope";
import { formatPlmn } from "../core/plmn";
import { sendAndWait } from "../chain/send";
import type { Hex } from "../util/hex";
import type { Keystore } from "./keystore";
import type { RoamLedgerClient } from "../chain/client";
import { ROLE_BITS } from "../core/enums";

/** Checks the key store holds the private key of the encryption key registered on-chain for `plmn`. */
export async function checkOwnEncryptionKey(client: RoamLedgerClient, keystore: Keystore, plmn: Hex): Promise<void> {
  const text = formatPlmn(plmn);
  const onChain = (await client.carriers.getMember(plmn)).encryptionKey.toLowerCase();
  const local = keystore.encryptionKey(text).publicKey.toLowerCase();
  if (onChain !== local) {
    throw new ConfigError(`The encryption key registered for ${text} is not the one in the key store`, {
      details: `on-chain ${onChain}, key store ${local} (${keystore.encryptionKeyPath(text)})`,
      hint: "use the key store this member was registered with (its folder, or ROAMLEDGER_HOME), or register the key store's key on chain.",
      next: { operation: "carrier:rotate-key" },
    });
  }
}

/**
 * Seals the home carrier's IMSI key to `partner`'s registered encryption key and publishes the
 * envelope on-chain, so the partner (and nobody else) can compute device ids from the IMSIs it sees.
 */
export async function shareImsiKey(
  client: RoamLedgerClient,
  options: { keystore: Keystore; home: Hex; partner: Hex },
): Promise<{ fingerprint: Hex; txHash: string }> {
  const { keystore, home, partner } = options;
  if (!(await client.carriers.hasRole(partner, ROLE_BITS.carrier))) {
    throw new ConfigError(`${formatPlmn(partner)} is not an active carrier member`, {
      hint: "share your key with an active carrier member; the members list shows them.",
      next: { operation: "carrier:list" },
    });
  }
  const imsiKey = keystore.imsiKey(formatPlmn(home));
  const envelope = sealImsiKey({
    imsiKey,
    recipientPublicKey: (await client.carriers.getMember(partner)).encryptionKey as Hex,
    home,
    partner,
  });
  const fingerprint = imsiKeyFingerprint(imsiKey);
  const receipt = await sendAndWait(() => client.devices.shareImsiKey(partner, envelope, fingerprint));
  return { fingerprint, txHash: receipt.hash };
}

/**
 * Fetches the envelope `home` shared with `self`, opens it with self's encryption key, checks the
 * published fingerprint and stores the key in the key store.
 */
export async function receiveImsiKey(
  client: RoamLedgerClient,
  options: { keystore: Keystore; self: Hex; home: Hex },
): Promise<{ fingerprint: Hex; sharedAt: bigint }> {
  const { keystore, self, home } = options;
  const [envelope, fingerprint, sharedAt] = await client.devices.imsiKeyEnvelope(home, self);
  if (envelope === "0x") {
    throw new ConfigError(`${formatPlmn(home)} has not shared its IMSI key with ${formatPlmn(self)}`, {
      hint: `ask ${formatPlmn(home)} to share its IMSI key with ${formatPlmn(self)} (its keys:share operation, partner ${formatPlmn(self)}).`,
    });
  }
  await checkOwnEncryptionKey(client, keystore, self);
  const imsiKey = openImsiKey({
    envelope: envelope as Hex,
    recipientPrivateKey: keystore.encryptionKey(formatPlmn(self)).privateKey,
    home,
    partner: self,
  });
  if (imsiKeyFingerprint(imsiKey) !== fingerprint.toLowerCase()) {
    throw new CryptoError("The opened IMSI key does not match the fingerprint published with it", {
      hint: `ask ${formatPlmn(home)} to share its key again.`,
    });
  }
  keystore.savePartnerImsiKey(formatPlmn(self), formatPlmn(home), imsiKey);
  return { fingerprint: fingerprint as Hex, sharedAt };
}
