// The policy decision service of the visited network's core: a cache of the chain's device, policy, flag,
// member and agreement state, kept current block by block, answering GET /v1/decision and POST /v1/decisions (docs/realtime.md).

export { DecisionCache, type CachedDecision } from "./cache";
export { decide, DENY, type CachedPolicy, type Decision } from "./decide";
export { DeviceTable, DEVICE_RECORD_BYTES } from "./deviceTable";
export { ChainFollower, type FollowerOptions } from "./follower";
export { ImsiResolver } from "./imsi";
export { startDecisionService, type DecisionService, type DecisionServiceOptions } from "./service";
export { plmnNumber, plmnHex } from "./chainSync";
export { UsageCounters, type CapsLeft } from "./usageCounters";
export { keystoreEnvelopeOpener } from "./opener";
export { serveStandalone, type StandaloneConfig } from "./standalone";
export {
  DecisionClient,
  DecisionUnavailable,
  queryProblem,
  type DecisionAnswer,
  type DecisionClientOptions,
  type DecisionQuery,
} from "./client";
