// The policy decision service of the visited network's core: a cache of the chain's device, policy, flag,
// member and agreement state, kept current block by block, answering GET /v1/decision (docs/realtime.md).
import { formatPlmn } from "../core/plmn";
import { openImsiKey } from "../crypto/envelope";
import type { Keystore } from "../keys/keystore";
import type { Hex } from "../util/hex";

export { DecisionCache, type CachedDecision } from "./cache";
export { decide, DENY, type CachedPolicy, type Decision } from "./decide";
export { DeviceTable, DEVICE_RECORD_BYTES } from "./deviceTable";
export { ChainFollower, type FollowerOptions } from "./follower";
export { ImsiResolver } from "./imsi";
export { startDecisionService, type DecisionService, type DecisionServiceOptions } from "./service";
export { plmnNumber, plmnHex } from "./chainSync";
export { UsageCounters, type CapsLeft } from "./usageCounters";

/** Opens the IMSI-key envelopes shared with `self` with its encryption key from `keystore`. */
export function keystoreEnvelopeOpener(keystore: Keystore, self: Hex): (home: Hex, envelope: Hex) => Uint8Array {
  return (home, envelope) =>
    openImsiKey({ envelope, recipientPrivateKey: keystore.encryptionKey(formatPlmn(self)).privateKey, home, partner: self });
}
