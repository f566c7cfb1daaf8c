/**
 * The decision of contracts/libraries/PolicyLib.sol `decide`, in TypeScript over the cache's data: the same
 * checks in the same order, so the answer equals `DeviceRegistry.decide` (and a device's `DevicePolicy.decide`)
 * at a block of the same time and state. test/unit/realtime/equivalence.test.ts holds it to that.
 */
import { DENY_REASONS, type DenyReasonName } from "../core/enums";

/** DeviceStatus. */
export const STATUS_NONE = 0;
export const STATUS_ACTIVE = 1;
export const STATUS_SUSPENDED = 2;
export const STATUS_FRAUD_FLAGGED = 3;
/** Service.Signalling: always allowed by the services mask. */
export const SERVICE_SIGNALLING = 3;

/** DenyReason codes, from their names in lib/core/enums.ts (the contract's order). */
const deny = (name: DenyReasonName) => DENY_REASONS.indexOf(name);
export const DENY = {
  None: deny("none"),
  UnknownDevice: deny("unknown-device"),
  DeviceSuspended: deny("device-suspended"),
  DeviceFraudFlagged: deny("device-fraud-flagged"),
  PolicyNotYetValid: deny("policy-not-yet-valid"),
  PolicyExpired: deny("policy-expired"),
  ServiceNotAllowed: deny("service-not-allowed"),
  NetworkNotAllowed: deny("network-not-allowed"),
  NoAgreement: deny("no-agreement"),
  ClassNotPriced: deny("class-not-priced"),
} as const;

/** A policy definition as the cache keeps it (immutable on chain once defined). */
export interface CachedPolicy {
  services: number;
  tariffClass: number;
  /** Routing.HomeRouted (0). */
  homeRouted: boolean;
  missionCritical: boolean;
  validFrom: number;
  /** 0: open-ended. */
  validUntil: number;
  dailyBytesCap: bigint;
  monthlyBytesCap: bigint;
  dailyEventsCap: number;
  monthlyEventsCap: number;
  /** PLMN ids (3 bytes as a number); empty: any network with an agreement. */
  allowedNetworks: number[];
}

/** The zero policy `_policies[0]` an unknown device reads on chain. */
export const ZERO_POLICY: CachedPolicy = {
  services: 0,
  tariffClass: 0,
  homeRouted: true,
  missionCritical: false,
  validFrom: 0,
  validUntil: 0,
  dailyBytesCap: 0n,
  monthlyBytesCap: 0n,
  dailyEventsCap: 0,
  monthlyEventsCap: 0,
  allowedNetworks: [],
};

/** PolicyLib.Context: the facts of the (home, visited) pair at `time`. */
export interface DecisionContext {
  time: number;
  agreementActive: boolean;
  pricedClasses: bigint;
}

/** The device as `decide` reads it (status already FraudFlagged when the visited network's flag stands). */
export interface DecisionDevice {
  status: number;
  policyVersion: number;
}

/** Decision (contracts/types/DeviceTypes.sol). */
export interface Decision {
  serve: boolean;
  reason: number;
  steerable: boolean;
  homeRouted: boolean;
  tariffClass: number;
  policyVersion: number;
}

/** PolicyLib.decide. */
export function decide(device: DecisionDevice, policy: CachedPolicy, visited: number, service: number, ctx: DecisionContext): Decision {
  const reason = denyReason(device, policy, visited, service, ctx);
  return {
    serve: reason === DENY.None,
    reason,
    steerable: !policy.missionCritical,
    homeRouted: policy.homeRouted,
    tariffClass: policy.tariffClass,
    policyVersion: device.policyVersion,
  };
}

function denyReason(device: DecisionDevice, policy: CachedPolicy, visited: number, service: number, ctx: DecisionContext): number {
  if (device.status === STATUS_NONE) return DENY.UnknownDevice;
  if (device.status === STATUS_SUSPENDED) return DENY.DeviceSuspended;
  if (device.status === STATUS_FRAUD_FLAGGED) return DENY.DeviceFraudFlagged;
  if (ctx.time < policy.validFrom) return DENY.PolicyNotYetValid;
  if (policy.validUntil !== 0 && ctx.time >= policy.validUntil) return DENY.PolicyExpired;
  if (service !== SERVICE_SIGNALLING && (policy.services & (1 << service)) === 0) return DENY.ServiceNotAllowed;
  if (policy.allowedNetworks.length > 0 && !policy.allowedNetworks.includes(visited)) return DENY.NetworkNotAllowed;
  if (!ctx.agreementActive) return DENY.NoAgreement;
  if (((ctx.pricedClasses >> BigInt(policy.tariffClass)) & 1n) === 0n) return DENY.ClassNotPriced;
  return DENY.None;
}

/** One accepted version of an agreement: its public window and priced classes. */
export interface AgreementVersion {
  version: number;
  validFrom: number;
  validUntil: number;
  pricedLo: bigint;
  pricedHi: bigint;
}

/**
 * RoamingAgreements._versionAt: the highest accepted version (in acceptance order, newest first) whose
 * validFrom <= time, when time is before its validUntil; an older one never shows through. Undefined: none.
 */
export function versionAt(accepted: readonly AgreementVersion[], time: number): AgreementVersion | undefined {
  for (let i = accepted.length - 1; i >= 0; i--) {
    const v = accepted[i];
    if (v.validFrom <= time) return time < v.validUntil ? v : undefined;
  }
  return undefined;
}
