import type { Rng } from "./rng";
import { type GeneratedPolicy, type OutOfPolicyKind, type Settings, SHARE } from "./settings";

/**
 * The synthetic fleet: NB-IoT meters (policy `meter`), LTE-M trackers (`tracker`) and a few drones on
 * LTE or NR (`drone`), the policy names of test/fixtures/policies.json; the days each is present, the
 * permanent roamers (present every day, and only they are) and the meters that break their policy.
 */

// Device kinds (index into POLICIES).
export const METER = 0;
export const TRACKER = 1;
export const DRONE = 2;
export const POLICIES: readonly GeneratedPolicy[] = ["meter", "tracker", "drone"];
/** Out-of-policy behaviour i + 1 of `Fleet.fraud`. */
export const FRAUD_KINDS: readonly OutOfPolicyKind[] = ["voice", "sms", "over-cap"];

export interface Fleet {
  count: number;
  /** METER, TRACKER or DRONE. */
  kind: Uint8Array;
  /** Of a drone: 0 LTE, 1 NR. */
  droneRat: Uint8Array;
  /** Bit d: present on day d + 1. */
  presence: Uint32Array;
  /** 0 none, else 1 + index into FRAUD_KINDS. */
  fraud: Uint8Array;
  /** Bit d: breaks its policy on day d + 1. */
  fraudDays: Uint32Array;
  imsis: string[];
  byPolicy: Record<GeneratedPolicy, number>;
  /** The presence of a device there every day. */
  allDays: number;
}

/** Draws the fleet; the order of the draws is part of the output (same seed, same bytes). */
export function planFleet(s: Settings, rng: Rng): Fleet {
  const { fleet, meters } = drawDevices(s, rng);
  const permanent = pickPermanentRoamers(fleet, meters, s.permanentCount, rng);
  drawPresence(fleet, permanent, s.days, rng);
  pickOutOfPolicy(fleet, { meters, permanent, fraudRate: s.fraudRate, days: s.days }, rng);
  // Only the permanent roamers are there every day.
  for (let i = 0; i < fleet.count; i++) {
    if (!permanent[i] && fleet.presence[i] === fleet.allDays) {
      let d = rng.int(0, s.days - 1);
      while (fleet.fraudDays[i] & (1 << d)) d = (d + 1) % s.days;
      fleet.presence[i] = (fleet.presence[i] & ~(1 << d)) >>> 0;
    }
  }
  return fleet;
}

/** Kind and IMSI of each device; the meters' indices. */
function drawDevices(s: Settings, rng: Rng): { fleet: Fleet; meters: number[] } {
  const count = s.deviceCount;
  const fleet: Fleet = {
    count,
    kind: new Uint8Array(count),
    droneRat: new Uint8Array(count),
    presence: new Uint32Array(count),
    fraud: new Uint8Array(count),
    fraudDays: new Uint32Array(count),
    imsis: new Array(count),
    byPolicy: { meter: 0, tracker: 0, drone: 0 },
    allDays: 2 ** s.days - 1,
  };
  const meters: number[] = [];
  for (let i = 0; i < count; i++) {
    const r = rng.float();
    fleet.kind[i] = r < SHARE.meter ? METER : r < SHARE.meter + SHARE.tracker ? TRACKER : DRONE;
    fleet.droneRat[i] = rng.int(0, 1);
    fleet.byPolicy[POLICIES[fleet.kind[i]]]++;
    if (fleet.kind[i] === METER) meters.push(i);
    fleet.imsis[i] = s.imsiPrefix + String(i + 1).padStart(s.msinDigits, "0");
  }
  return { fleet, meters };
}

/** Marks the permanent roamers: meters first (stationary), then any device. */
function pickPermanentRoamers(fleet: Fleet, meters: number[], wanted: number, rng: Rng): Uint8Array {
  const pool = [...meters, ...Array.from({ length: fleet.count }, (_, i) => i).filter((i) => fleet.kind[i] !== METER)];
  const permanent = new Uint8Array(fleet.count);
  const picks = Math.min(wanted, fleet.count);
  for (let k = 0; k < picks; k++) {
    // Partial Fisher-Yates over the meters part first, then the rest.
    const limit = k < meters.length ? meters.length : pool.length;
    const j = rng.int(k, limit - 1);
    [pool[k], pool[j]] = [pool[j], pool[k]];
    permanent[pool[k]] = 1;
  }
  return permanent;
}

/** The days each device is present: meters stay long, trackers pass through, drones come on a few days. */
function drawPresence(fleet: Fleet, permanent: Uint8Array, days: number, rng: Rng): void {
  for (let i = 0; i < fleet.count; i++) {
    if (permanent[i]) {
      fleet.presence[i] = fleet.allDays;
      continue;
    }
    let mask = 0;
    if (fleet.kind[i] === METER) {
      const span = rng.int(Math.min(5, days - 1), days - 1);
      const start = rng.int(0, days - span);
      for (let d = start; d < start + span; d++) if (d === start || rng.chance(0.9)) mask |= 1 << d;
    } else if (fleet.kind[i] === TRACKER) {
      const span = rng.int(2, Math.min(20, days - 1));
      const start = rng.int(0, days - span);
      for (let d = start; d < start + span; d++) mask |= 1 << d;
    } else {
      const visits = rng.int(1, 8);
      for (let k = 0; k < visits; k++) mask |= 1 << rng.int(0, days - 1);
    }
    fleet.presence[i] = mask >>> 0;
  }
}

/** Out-of-policy meters (not permanent roamers), the kinds in turn, each on one to three days. */
function pickOutOfPolicy(fleet: Fleet, how: { meters: number[]; permanent: Uint8Array; fraudRate: number; days: number }, rng: Rng): void {
  const candidates = how.meters.filter((i) => !how.permanent[i]);
  const count = how.fraudRate > 0 ? Math.min(candidates.length, Math.max(1, Math.round(fleet.count * how.fraudRate))) : 0;
  for (let k = 0; k < count; k++) {
    const j = rng.int(k, candidates.length - 1);
    [candidates[k], candidates[j]] = [candidates[j], candidates[k]];
    const i = candidates[k];
    fleet.fraud[i] = 1 + (k % FRAUD_KINDS.length);
    const first = rng.int(0, how.days - 3);
    const length = rng.int(1, 3);
    for (let d = first; d < first + length; d++) fleet.fraudDays[i] |= 1 << d;
    fleet.presence[i] = (fleet.presence[i] | fleet.fraudDays[i]) >>> 0;
  }
}
