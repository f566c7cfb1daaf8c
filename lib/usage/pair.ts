import path from "node:path";
import { ConfigError } from "../core/errors";
import type { Hex } from "../util/hex";
import { formatPlmn } from "../core/plmn";
import { pairwiseKey } from "../crypto/pairwise";
import type { Keystore } from "../keys/keystore";
import type { RoamLedgerClient } from "../chain/client";
import { FolderStore, type ContentStore } from "./store";

/** The payload key of (self, partner): our key store's private key, the partner's registered public key. */
export async function pairKeyWith(
  client: RoamLedgerClient,
  { keystore, self, partner }: { keystore: Keystore; self: Hex; partner: Hex },
): Promise<Uint8Array> {
  const member = await client.carriers.getMember(partner);
  const theirPublicKey = member.encryptionKey as Hex;
  if (!theirPublicKey || theirPublicKey === "0x") {
    throw new ConfigError(`${formatPlmn(partner)} has no encryption key registered`, {
      hint: "the partner registers one (carrier:rotate-key) before payloads can be exchanged with it.",
    });
  }
  const mine = keystore.encryptionKey(formatPlmn(self));
  const registered = (await client.carriers.getMember(self)).encryptionKey as string;
  if (registered.toLowerCase() !== mine.publicKey.toLowerCase()) {
    throw new ConfigError(`the encryption key in ${keystore.root} is not the one ${formatPlmn(self)} registered on-chain`, {
      hint: "use the key store that holds the registered key, or register this one.",
      next: { operation: "carrier:rotate-key" },
    });
  }
  return pairwiseKey({ myPrivateKey: mine.privateKey, theirPublicKey, plmnA: self, plmnB: partner });
}

let profileStore: string | undefined;

/** The active carrier profile's payload store (the CLI sets it per command; undefined: none). */
export function useProfileStore(dir: string | undefined): void {
  profileStore = dir;
}

/** The payload store: the folder given, else the carrier profile's, else $ROAMLEDGER_STORE, else <key store>/store. */
export function storeFor(keystore: Keystore, dir?: string): ContentStore {
  const chosen = dir?.trim() || profileStore || process.env.ROAMLEDGER_STORE?.trim() || path.join(keystore.root, "store");
  return new FolderStore(path.resolve(chosen));
}

/** The folder of the TAP file sequence logs in a payload store (`<store>/tap`, lib/tap/sequenceLog.ts), or undefined for a store without a folder. */
export function tapSequenceDir(store: ContentStore): string | undefined {
  const dir = (store as { dir?: unknown }).dir;
  return typeof dir === "string" ? path.join(dir, "tap") : undefined;
}
