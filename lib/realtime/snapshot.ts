import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../util/fsAtomic";
import { bytesToHex, hexToBytes } from "../util/hex";
import { DecisionCache } from "./cache";
import { CHANGE_SETS, type Changes, emptyChanges } from "./chainSync";
import type { CachedPolicy } from "./decide";
import { DeviceTable } from "./deviceTable";

/** Bumped when the snapshot's layout changes: an older one is then ignored (a full load replaces it). */
const FORMAT = 1;
const STATE_FILE = "state.json";
/**
 * Most ids the steps saved with a snapshot may name in all (about 80 bytes each in the file): the newest
 * steps within it are saved, so a restart after a deeper reorganisation than they cover reloads in full.
 */
export const MAX_SAVED_STEP_ITEMS = 200_000;

/** A step the cache applied: the block it ended on, that block's hash, and what its range changed. */
export interface AppliedStep {
  block: number;
  hash: string;
  changes: Changes;
}

type SavedChanges = Record<(typeof CHANGE_SETS)[number], (string | number)[]> & { pairs: [string, [number, number]][] };

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
  /** The last applied steps, oldest first, the last one this snapshot's block (absent in older snapshots). */
  steps?: { block: number; hash: string; changes: SavedChanges }[];
}

/**
 * Saves the cache in `dir`: the device table to `devices-<block>.bin`, then `state.json` naming it (both
 * written atomically, the state last), then removes older device files. A crash at any point leaves the
 * previous snapshot or the new one, whole.
 */
export function saveSnapshot(
  dir: string,
  cache: DecisionCache,
  identity: SnapshotIdentity,
  keyHomes: number[],
  steps: AppliedStep[] = [],
): void {
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
    steps: stepsToSave(steps, cache, MAX_SAVED_STEP_ITEMS).map((step) => ({ ...step, changes: saveChanges(step.changes) })),
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
export function loadSnapshot(
  dir: string,
  identity: SnapshotIdentity,
): { cache: DecisionCache; keyHomes: number[]; steps: AppliedStep[] } | { why: string } {
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
  const steps = (state.steps ?? []).map((step) => ({ block: step.block, hash: step.hash, changes: loadChanges(step.changes) }));
  const last = steps.at(-1);
  const ends = last !== undefined && last.block === cache.block && last.hash === cache.blockHash;
  return {
    cache,
    keyHomes: state.keyHomes,
    steps: ends ? steps : [{ block: cache.block, hash: cache.blockHash, changes: emptyChanges() }],
  };
}

/**
 * The newest of `steps` that name at most `budget` ids in all (the last always, when it alone fits), ending
 * at the cache's block; none when they do not end there or the last alone is over the budget.
 */
export function stepsToSave(steps: AppliedStep[], cache: DecisionCache, budget: number): AppliedStep[] {
  const last = steps.at(-1);
  if (!last || last.block !== cache.block || last.hash !== cache.blockHash) return [];
  let named = 0;
  let first = steps.length;
  while (first > 0) {
    const c = steps[first - 1].changes;
    named += CHANGE_SETS.reduce((sum, key) => sum + c[key].size, c.pairs.size);
    if (named > budget) break;
    first--;
  }
  return steps.slice(first);
}

function saveChanges(c: Changes): SavedChanges {
  const out = { pairs: [...c.pairs] } as SavedChanges;
  for (const key of CHANGE_SETS) out[key] = [...c[key]];
  return out;
}

function loadChanges(saved: SavedChanges): Changes {
  const c = emptyChanges();
  for (const key of CHANGE_SETS) for (const item of saved[key]) (c[key] as Set<string | number>).add(item);
  for (const [key, pair] of saved.pairs) c.pairs.set(key, pair);
  return c;
}
