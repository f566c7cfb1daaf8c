import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../util/fsAtomic";
import { bytesToHex, hexToBytes } from "../util/hex";
import { DecisionCache } from "./cache";
import type { CachedPolicy } from "./decide";
import { DeviceTable } from "./deviceTable";

/** Bumped when the snapshot's layout changes: an older one is then ignored (a full load replaces it). */
const FORMAT = 1;
const STATE_FILE = "state.json";

/** What identifies the chain and deployment a snapshot belongs to: another one's snapshot is never used. */
export interface SnapshotIdentity {
  chainId: string;
  deviceRegistry: string;
  self: number;
}

interface StateFile extends SnapshotIdentity {
  format: number;
  block: number;
  blockHash: string;
  blockTime: number;
  devicesFile: string;
  policies: [number, Omit<CachedPolicy, "dailyBytesCap" | "monthlyBytesCap"> & { dailyBytesCap: string; monthlyBytesCap: string }][];
  flags: [string, number[]][];
  members: [number, boolean][];
  agreements: {
    lo: number;
    hi: number;
    versions: { version: number; validFrom: number; validUntil: number; pricedLo: string; pricedHi: string }[];
  }[];
  agreementKeys: [string, [number, number]][];
  keyHomes: number[];
}

/**
 * Saves the cache in `dir`: the device table to `devices-<block>.bin`, then `state.json` naming it (both
 * written atomically, the state last), then removes older device files. A crash at any point leaves the
 * previous snapshot or the new one, whole.
 */
export function saveSnapshot(dir: string, cache: DecisionCache, identity: SnapshotIdentity, keyHomes: number[]): void {
  fs.mkdirSync(dir, { recursive: true });
  const devicesFile = `devices-${cache.block}.bin`;
  writeFileAtomic(path.join(dir, devicesFile), cache.devices.serialize());
  const state: StateFile = {
    format: FORMAT,
    ...identity,
    block: cache.block,
    blockHash: cache.blockHash,
    blockTime: cache.blockTime,
    devicesFile,
    policies: [...cache.policies].map(([id, p]) => [
      id,
      { ...p, dailyBytesCap: String(p.dailyBytesCap), monthlyBytesCap: String(p.monthlyBytesCap) },
    ]),
    flags: [...cache.flags].map(([slot, reporters]) => [bytesToHex(cache.devices.idOf(slot)), reporters]),
    members: [...cache.members],
    agreements: [...cache.agreements.values()].map((a) => ({
      lo: a.lo,
      hi: a.hi,
      versions: a.versions.map((v) => ({ ...v, pricedLo: String(v.pricedLo), pricedHi: String(v.pricedHi) })),
    })),
    agreementKeys: [...cache.agreementKeys],
    keyHomes,
  };
  writeFileAtomic(path.join(dir, STATE_FILE), JSON.stringify(state));
  for (const name of fs.readdirSync(dir)) {
    if (/^devices-\d+\.bin$/.test(name) && name !== devicesFile) fs.rmSync(path.join(dir, name), { force: true });
  }
}

/**
 * The snapshot in `dir` when there is one of this chain, deployment and member, else undefined with why
 * (said by the caller, which then loads from the chain).
 */
export function loadSnapshot(dir: string, identity: SnapshotIdentity): { cache: DecisionCache; keyHomes: number[] } | { why: string } {
  const file = path.join(dir, STATE_FILE);
  if (!fs.existsSync(file)) return { why: `no snapshot in ${dir}` };
  let state: StateFile;
  let devices: DeviceTable;
  try {
    state = JSON.parse(fs.readFileSync(file, "utf8")) as StateFile;
    if (state.format !== FORMAT) return { why: `${file} has format ${state.format}, this version reads ${FORMAT}` };
    if (
      state.chainId !== identity.chainId ||
      state.deviceRegistry.toLowerCase() !== identity.deviceRegistry.toLowerCase() ||
      state.self !== identity.self
    ) {
      return { why: `${file} is of another chain, deployment or member` };
    }
    devices = DeviceTable.deserialize(fs.readFileSync(path.join(dir, state.devicesFile)));
  } catch (err) {
    return { why: `${file} cannot be read (${err instanceof Error ? err.message : String(err)})` };
  }
  const cache = new DecisionCache();
  cache.devices = devices;
  cache.block = state.block;
  cache.blockHash = state.blockHash;
  cache.blockTime = state.blockTime;
  for (const [id, p] of state.policies)
    cache.policies.set(id, { ...p, dailyBytesCap: BigInt(p.dailyBytesCap), monthlyBytesCap: BigInt(p.monthlyBytesCap) });
  for (const [id, reporters] of state.flags) cache.flags.set(devices.upsert(hexToBytes(id, { byteLength: 32 })), reporters);
  for (const [m, active] of state.members) cache.members.set(m, active);
  for (const a of state.agreements) {
    const versions = a.versions.map((v) => ({ ...v, pricedLo: BigInt(v.pricedLo), pricedHi: BigInt(v.pricedHi) }));
    cache.agreements.set(a.lo * 0x1000000 + a.hi, { lo: a.lo, hi: a.hi, versions });
  }
  for (const [key, pair] of state.agreementKeys) cache.agreementKeys.set(key, pair);
  return { cache, keyHomes: state.keyHomes };
}
