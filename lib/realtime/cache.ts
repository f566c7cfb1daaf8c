import { DeviceTable } from "./deviceTable";
import {
  type AgreementVersion,
  type CachedPolicy,
  type Decision,
  decide,
  STATUS_ACTIVE,
  STATUS_FRAUD_FLAGGED,
  versionAt,
  ZERO_POLICY,
} from "./decide";

/** A decision with what the cache knows besides: the policy's caps and which block it reflects. */
export interface CachedDecision extends Decision {
  /** The policy definition behind it (ZERO_POLICY for an unknown device). */
  policy: CachedPolicy;
}

/** An agreement pair: its two PLMNs (lo < hi) and accepted versions in acceptance order. */
export interface CachedAgreement {
  lo: number;
  hi: number;
  versions: AgreementVersion[];
}

/** The pair key of two PLMNs (3 bytes each): lo * 2^24 + hi. */
export function pairKey(a: number, b: number): number {
  return a < b ? a * 0x1000000 + b : b * 0x1000000 + a;
}

/**
 * What the decision service answers from: devices (compact table), policy definitions, standing fraud flags
 * per (device, reporter), member statuses and accepted agreement versions per pair, as of block `block`.
 * Filled and kept current by the ChainFollower; `decide` is PolicyLib's decision over it.
 */
export class DecisionCache {
  devices = new DeviceTable();
  policies = new Map<number, CachedPolicy>();
  /** Slot -> PLMNs whose flag on the device stands (only devices with one). */
  flags = new Map<number, number[]>();
  /** PLMN -> active (MemberStatus.Active). */
  members = new Map<number, boolean>();
  agreements = new Map<number, CachedAgreement>();
  /** Agreement key (hex) -> its pair, from the proposals: acceptance events name only the key. */
  agreementKeys = new Map<string, [number, number]>();
  block = -1;
  blockHash = "";
  blockTime = 0;

  /** `DeviceRegistry.decide(id, visited, service)` at time `time`, for the device in `slot` (-1: unknown). */
  decide(slot: number, visited: number, service: number, time: number): CachedDecision {
    const t = this.devices;
    let status = slot < 0 ? 0 : t.status[slot];
    if (status === STATUS_ACTIVE && this.flaggedBy(slot, visited)) status = STATUS_FRAUD_FLAGGED;
    const policy = slot < 0 ? ZERO_POLICY : (this.policies.get(t.policy[slot]) ?? ZERO_POLICY);
    const known = status !== 0;
    const home = slot < 0 ? 0 : t.home[slot];
    let agreementActive = false;
    let pricedClasses = 0n;
    if (known && home !== visited) {
      const agreement = this.agreements.get(pairKey(home, visited));
      const v = agreement && versionAt(agreement.versions, time);
      if (v && this.members.get(home) === true && this.members.get(visited) === true) {
        agreementActive = true;
        pricedClasses = visited === agreement.lo ? v.pricedLo : v.pricedHi;
      }
    }
    const d = decide({ status, policyVersion: slot < 0 ? 0 : t.version[slot] }, policy, visited, service, {
      time,
      agreementActive,
      pricedClasses,
    });
    return { ...d, policy };
  }

  flaggedBy(slot: number, reporter: number): boolean {
    return this.flags.get(slot)?.includes(reporter) === true;
  }

  setFlag(slot: number, reporter: number, standing: boolean): void {
    const list = this.flags.get(slot) ?? [];
    const rest = list.filter((r) => r !== reporter);
    if (standing) rest.push(reporter);
    if (rest.length > 0) this.flags.set(slot, rest);
    else this.flags.delete(slot);
  }

  /** Sizes for metrics and the snapshot. */
  sizes(): { devices: number; policies: number; flags: number; members: number; agreements: number; bytes: number } {
    let flags = 0;
    for (const list of this.flags.values()) flags += list.length;
    return {
      devices: this.devices.size,
      policies: this.policies.size,
      flags,
      members: this.members.size,
      agreements: this.agreements.size,
      bytes: this.devices.byteLength(),
    };
  }
}
