import type { Interface, Log, Provider } from "ethers";
import type { RoamLedgerClient } from "../chain/client";
import { type Hex, hexToBytes } from "../util/hex";
import { type CachedAgreement, type DecisionCache, pairKey } from "./cache";
import type { AgreementVersion, CachedPolicy } from "./decide";

/** Devices read per getDevices call (as the ingest's resolver). */
const DEVICE_CHUNK = 1000;
/** Reads in flight at once (policies, flags, agreements, members). */
const PARALLEL = 16;

/** What a range of logs says must be read again at its last block. */
export interface Changes {
  devices: Set<string>;
  /**
   * Policies to read even when the cache holds them: defined on a branch a reorganisation dropped (the id
   * may be unknown, or another definition's, on the new one). Empty while following one branch.
   */
  redefined: Set<number>;
  /** "deviceId/reporter" pairs whose standing flag may have changed. */
  flags: Set<string>;
  /** Devices reinstated: every flag on them lapses. */
  reinstated: Set<string>;
  policies: Set<number>;
  /** Agreement keys accepted (their pair is read again). */
  agreements: Set<string>;
  members: Set<number>;
  /** Homes that shared an IMSI key with the service's member. */
  keyShares: Set<number>;
  /** Agreement key -> pair, from proposals. */
  pairs: Map<string, [number, number]>;
}

export function emptyChanges(): Changes {
  return {
    devices: new Set(),
    redefined: new Set(),
    flags: new Set(),
    reinstated: new Set(),
    policies: new Set(),
    agreements: new Set(),
    members: new Set(),
    keyShares: new Set(),
    pairs: new Map(),
  };
}

/** The sets of Changes (all but `pairs`). */
export const CHANGE_SETS = ["devices", "redefined", "flags", "reinstated", "policies", "agreements", "members", "keyShares"] as const;

/** Adds everything `more` names to `into`. */
export function mergeChanges(into: Changes, more: Changes): void {
  for (const key of CHANGE_SETS) {
    const target = into[key] as Set<string | number>;
    for (const item of more[key]) target.add(item);
  }
  for (const [key, pair] of more.pairs) into.pairs.set(key, pair);
}

/** PLMN id (bytes3 hex) as a number. */
export function plmnNumber(hex: string): number {
  return Number.parseInt(hex.slice(2, 8), 16);
}

/** A PLMN number as bytes3 hex. */
export function plmnHex(n: number): Hex {
  return `0x${n.toString(16).padStart(6, "0")}`;
}

/** The logs of the three contracts the cache follows, blocks [from, to]. */
export async function fetchLogs(client: RoamLedgerClient, provider: Provider, from: number, to: number): Promise<Log[]> {
  const a = client.addresses;
  return provider.getLogs({ address: [a.deviceRegistry, a.roamingAgreements, a.carrierRegistry], fromBlock: from, toBlock: to });
}

/** Adds what `logs` change to `changes` (the member's own key shares only: `self`). */
export function collectChanges(client: RoamLedgerClient, logs: readonly Log[], self: number, changes: Changes): void {
  const a = client.addresses;
  const byAddress = new Map<string, Interface>([
    [a.deviceRegistry.toLowerCase(), client.devices.interface],
    [a.roamingAgreements.toLowerCase(), client.agreements.interface],
    [a.carrierRegistry.toLowerCase(), client.carriers.interface],
  ]);
  for (const log of logs) {
    const parsed = byAddress.get(log.address.toLowerCase())?.parseLog(log);
    if (!parsed) continue;
    const args = parsed.args;
    switch (parsed.name) {
      case "PolicyDefined":
        changes.policies.add(Number(args.policyId));
        break;
      case "DeviceRegistered":
      case "PolicyUpdated":
      case "DeviceSuspended":
      case "FraudConfirmed":
        changes.devices.add(String(args.id).toLowerCase());
        break;
      case "DeviceReinstated":
        changes.devices.add(String(args.id).toLowerCase());
        changes.reinstated.add(String(args.id).toLowerCase());
        break;
      case "FraudFlagged":
      case "FraudFlagDismissed":
        changes.flags.add(`${String(args.id).toLowerCase()}/${plmnNumber(args.reporter)}`);
        break;
      case "ImsiKeyShared":
        if (plmnNumber(args.partner) === self) changes.keyShares.add(plmnNumber(args.home));
        break;
      case "AgreementProposed":
        changes.pairs.set(String(args.key).toLowerCase(), [plmnNumber(args.proposer), plmnNumber(args.counterparty)]);
        break;
      case "AgreementAccepted":
        changes.agreements.add(String(args.key).toLowerCase());
        break;
      case "MemberAdmitted":
      case "MemberSuspended":
      case "MemberReinstated":
        changes.members.add(plmnNumber(args.plmn));
        break;
    }
  }
}

/** Runs `fn` over `items` with at most PARALLEL in flight; results in order. */
async function parallel<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  return out;
}

/** What the reads of one set of changes found, applied at once so the cache never holds half of it. */
export interface ReadResult {
  devices: { id: Uint8Array; home: number; status: number; policyVersion: number; policyId: number }[];
  flags: { id: Uint8Array; reporter: number; standing: boolean }[];
  reinstated: Uint8Array[];
  /** undefined: the policy does not exist at the block read (it was defined on a dropped branch). */
  policies: Map<number, CachedPolicy | undefined>;
  agreements: CachedAgreement[];
  members: Map<number, boolean>;
  pairs: Map<string, [number, number]>;
  /** Home -> envelope shared with the service's member. */
  envelopes: Map<number, string>;
}

/** Reads, at block `blockTag`, the state that `changes` name. */
export async function readChanges(
  client: RoamLedgerClient,
  cache: DecisionCache,
  changes: Changes,
  blockTag: number,
  self: number,
): Promise<ReadResult> {
  const overrides = { blockTag };
  const ids = [...changes.devices];
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += DEVICE_CHUNK) chunks.push(ids.slice(i, i + DEVICE_CHUNK));
  const deviceReads = await parallel(chunks, (chunk) => client.devices.getDevices(chunk, overrides));
  const devices = deviceReads.flat().map((d, i) => ({
    id: hexToBytes(ids[i], { byteLength: 32, what: "device id" }),
    home: plmnNumber(d.home),
    status: Number(d.status),
    policyVersion: Number(d.policyVersion),
    policyId: Number(d.policyId),
  }));
  const flagPairs = [...changes.flags];
  const flagReads = await parallel(flagPairs, async (pair) => {
    const [id, reporter] = pair.split("/");
    const standing = await client.devices.flaggedBy(id, plmnHex(Number(reporter)), overrides);
    return { id: hexToBytes(id, { byteLength: 32, what: "device id" }), reporter: Number(reporter), standing };
  });
  const policyIds = [...new Set([...changes.policies, ...changes.redefined])].filter(
    (p) => !cache.policies.has(p) || changes.redefined.has(p),
  );
  // Only a policy of a dropped branch may be unknown at `blockTag` (ids count up from 1): the cache forgets it.
  const policyCount = changes.redefined.size > 0 ? Number(await client.devices.policyCount(overrides)) : Number.POSITIVE_INFINITY;
  const policyReads = await parallel(policyIds, async (p) =>
    p > policyCount ? undefined : toCachedPolicy(await client.devices.getPolicy(p, overrides)),
  );
  const pairs = new Map([...cache.agreementKeys, ...changes.pairs]);
  const agreements = await parallel([...changes.agreements], (key) => readAgreement(client, pairs, key, blockTag));
  const memberIds = [...changes.members];
  const active = await parallel(memberIds, (m) => client.carriers.isActive(plmnHex(m), overrides));
  const homes = [...changes.keyShares];
  const envelopes = await parallel(homes, async (h) => (await client.devices.imsiKeyEnvelope(plmnHex(h), plmnHex(self), overrides))[0]);
  return {
    devices,
    flags: flagReads,
    reinstated: [...changes.reinstated].map((id) => hexToBytes(id, { byteLength: 32, what: "device id" })),
    policies: new Map(policyIds.map((p, i) => [p, policyReads[i]])),
    agreements,
    members: new Map(memberIds.map((m, i) => [m, active[i]])),
    pairs: changes.pairs,
    envelopes: new Map(homes.map((h, i) => [h, envelopes[i]])),
  };
}

async function readAgreement(
  client: RoamLedgerClient,
  pairs: Map<string, [number, number]>,
  key: string,
  blockTag: number,
): Promise<CachedAgreement> {
  const pair = pairs.get(key);
  if (!pair) throw new Error(`agreement ${key} was accepted but its proposal was not seen: the cache missed a block`);
  const [lo, hi] = pair[0] < pair[1] ? pair : [pair[1], pair[0]];
  const accepted = await client.agreements.acceptedVersions(plmnHex(lo), plmnHex(hi), { blockTag });
  const versions = await parallel([...accepted], async (version): Promise<AgreementVersion> => {
    const v = await client.agreements.getVersion(plmnHex(lo), plmnHex(hi), version, { blockTag });
    return {
      version: Number(version),
      validFrom: Number(v.terms.validFrom),
      validUntil: Number(v.terms.validUntil),
      pricedLo: BigInt(v.terms.pricedClassesLo),
      pricedHi: BigInt(v.terms.pricedClassesHi),
    };
  });
  return { lo, hi, versions };
}

/** A policy as the registry returns it, as the cache keeps it. */
export function toCachedPolicy(p: {
  services: bigint | number;
  tariffClass: bigint | number;
  routing: bigint | number;
  missionCritical: boolean;
  validFrom: bigint | number;
  validUntil: bigint | number;
  dailyBytesCap: bigint | number;
  monthlyBytesCap: bigint | number;
  dailyEventsCap: bigint | number;
  monthlyEventsCap: bigint | number;
  allowedNetworks: readonly string[];
}): CachedPolicy {
  return {
    services: Number(p.services),
    tariffClass: Number(p.tariffClass),
    homeRouted: Number(p.routing) === 0,
    missionCritical: p.missionCritical,
    validFrom: Number(p.validFrom),
    validUntil: Number(p.validUntil),
    dailyBytesCap: BigInt(p.dailyBytesCap),
    monthlyBytesCap: BigInt(p.monthlyBytesCap),
    dailyEventsCap: Number(p.dailyEventsCap),
    monthlyEventsCap: Number(p.monthlyEventsCap),
    allowedNetworks: p.allowedNetworks.map(plmnNumber),
  };
}

/** Applies what `readChanges` found (synchronously: a decision never sees half of it). */
export function applyRead(cache: DecisionCache, r: ReadResult): void {
  for (const [p, policy] of r.policies) {
    if (policy) cache.policies.set(p, policy);
    else cache.policies.delete(p);
  }
  for (const [key, pair] of r.pairs) cache.agreementKeys.set(key, pair);
  for (const a of r.agreements) cache.agreements.set(pairKey(a.lo, a.hi), a);
  for (const [m, active] of r.members) cache.members.set(m, active);
  for (const d of r.devices) cache.devices.set(cache.devices.upsert(d.id), d);
  for (const id of r.reinstated) {
    const slot = cache.devices.find(id);
    if (slot >= 0) cache.flags.delete(slot);
  }
  for (const f of r.flags) cache.setFlag(cache.devices.upsert(f.id), f.reporter, f.standing);
}
