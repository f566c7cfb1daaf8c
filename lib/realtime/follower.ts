import type { Provider } from "ethers";
import type { RoamLedgerClient } from "../chain/client";
import { DecisionCache } from "./cache";
import { applyRead, type Changes, collectChanges, emptyChanges, fetchLogs, mergeChanges, plmnHex, readChanges } from "./chainSync";
import { type AppliedStep, loadSnapshot, saveSnapshot, type SnapshotIdentity } from "./snapshot";

/** Blocks read per eth_getLogs call. */
const LOG_RANGE = 5000;
/** Longest wait between retries after RPC errors. */
const MAX_BACKOFF_MS = 10_000;
/** Applied steps remembered for a repair after a reorganisation; a fork below the oldest reloads in full. */
export const RECENT_STEPS = 256;

export interface FollowerOptions {
  client: RoamLedgerClient;
  provider: Provider;
  /** The visited carrier the service answers for (its PLMN as a number). */
  self: number;
  /** First block of the deployment: a full load reads the events from there. */
  fromBlock: number;
  /** Snapshot folder; none: every start loads from the chain. */
  stateDir?: string;
  pollMs: number;
  /** Opens the IMSI-key envelope `home` shared with the member; undefined when it cannot (said by `log`). */
  openEnvelope(home: number, envelope: string): Uint8Array | undefined;
  log(line: string): void;
  /** Progress of a full load: blocks read of the total. */
  onLoadProgress?(done: number, total: number): void;
  /** Applied steps remembered for a repair after a reorganisation (default RECENT_STEPS). */
  recentSteps?: number;
}

/**
 * Keeps a DecisionCache equal to the chain: a full load (every event of the deployment, then the state they
 * name read at the head) or the saved snapshot, then block by block. Before each step it checks that the block
 * it applied last is still on chain. When it is not (a reorganisation), it finds the last step it applied that
 * is still on chain (the fork point, to a step's end) among the RECENT_STEPS remembered, and re-applies from
 * there: what the dropped steps changed and what the new branch's events name are read again at the new
 * branch's block, in one step. A fork older than every remembered step reloads from the chain and swaps the
 * new cache in whole. RPC errors are retried with backoff; meanwhile `caughtUpAt` ages and the service turns
 * not ready once it is older than the staleness bound.
 */
export class ChainFollower {
  cache = new DecisionCache();
  /** Wall time (ms) at which the cache was last seen equal to the chain head; 0: never. */
  caughtUpAt = 0;
  /** The chain head last seen. */
  head = -1;
  /** True from a reorganisation until the cache is repaired or reloaded: it is known wrong (answers are 503s). */
  reloading = false;
  lastError: string | undefined;
  /** Reorganisations seen. */
  reorgs = 0;
  /** Of those, the ones repaired from the fork point, and the blocks dropped by the last one. */
  repairs = 0;
  lastRepairDepth = 0;
  /** Full loads after a reorganisation deeper than the steps remembered. */
  fullReloads = 0;
  private recent: AppliedStep[] = [];
  keys = new Map<number, Uint8Array>();
  private identity: SnapshotIdentity | undefined;

  constructor(readonly opts: FollowerOptions) {}

  /** Loads the snapshot (when it is of this chain and its block is still on chain) or the chain. */
  async start(): Promise<void> {
    const { provider, client, stateDir } = this.opts;
    const { chainId } = await provider.getNetwork();
    this.identity = { chainId: String(chainId), deviceRegistry: client.addresses.deviceRegistry, self: this.opts.self };
    if (stateDir) {
      const saved = loadSnapshot(stateDir, this.identity);
      if ("cache" in saved) {
        const onChain = await provider.getBlock(saved.cache.block);
        if (onChain?.hash === saved.cache.blockHash) {
          await this.loadKeys(saved.keyHomes, saved.cache.block);
          this.cache = saved.cache;
          this.recent = saved.steps;
          this.opts.log(`Resumed from the snapshot in ${stateDir} at block ${saved.cache.block}.`);
          return;
        }
        if (saved.steps.length > 1) return this.repairSnapshot(saved);
        this.opts.log(`The snapshot's block ${saved.cache.block} is no longer on chain (a reorganisation): loading from the chain.`);
      } else {
        this.opts.log(`${saved.why}: loading from the chain.`);
      }
    }
    await this.fullLoad();
  }

  /**
   * A snapshot whose block a reorganisation dropped while the service was stopped: repaired from the last of
   * the steps saved with it still on chain, as a reorganisation seen while running (reloaded in full when
   * none is).
   */
  private async repairSnapshot(saved: { cache: DecisionCache; keyHomes: number[]; steps: AppliedStep[] }): Promise<void> {
    const head = await this.opts.provider.getBlockNumber();
    this.opts.log(
      `The snapshot's block ${saved.cache.block} is no longer on chain (a reorganisation while stopped): repairing it from the ${saved.steps.length} steps saved with it.`,
    );
    this.cache = saved.cache;
    this.recent = saved.steps;
    this.head = head;
    this.reorgs++;
    this.reloading = true;
    // The keys as the head has them: a share on the dropped branch is gone (its envelope reads empty).
    await this.loadKeys(saved.keyHomes, head);
    await this.recover(head);
    this.reloading = false;
  }

  /** A new cache from every event since `fromBlock`, with the state they name read at the head. */
  async fullLoad(): Promise<void> {
    const { provider, client, self } = this.opts;
    const head = await provider.getBlockNumber();
    const header = await provider.getBlock(head);
    if (!header?.hash) throw new Error(`block ${head} has no header`);
    const changes = emptyChanges();
    const from = Math.min(this.opts.fromBlock, head);
    for (let at = from; at <= head; at += LOG_RANGE) {
      const to = Math.min(head, at + LOG_RANGE - 1);
      collectChanges(client, await fetchLogs(client, provider, at, to), self, changes);
      this.opts.onLoadProgress?.(to - from + 1, head - from + 1);
    }
    const cache = new DecisionCache();
    const read = await readChanges(client, cache, changes, head, self);
    if ((await provider.getBlock(head))?.hash !== header.hash)
      throw new Error(`block ${head} changed while it was read (a reorganisation); retrying`);
    applyRead(cache, read);
    cache.block = head;
    cache.blockHash = header.hash;
    cache.blockTime = header.timestamp;
    this.keys = new Map();
    this.storeKeys(read.envelopes);
    this.cache = cache;
    this.recent = [{ block: head, hash: header.hash, changes: emptyChanges() }];
    this.head = head;
    this.caughtUpAt = Date.now();
  }

  /** One step: checks for a reorganisation, applies up to LOG_RANGE new blocks. True when more are waiting. */
  async step(): Promise<boolean> {
    const { provider } = this.opts;
    const cache = this.cache;
    const head = await provider.getBlockNumber();
    this.head = head;
    // A repair or reload that failed (the node went away meanwhile) is tried again: the cache is known wrong.
    if (this.reloading || (await provider.getBlock(cache.block))?.hash !== cache.blockHash) {
      if (!this.reloading) this.reorgs++;
      this.reloading = true;
      await this.recover(head);
      this.reloading = false;
      return this.cache.block < head;
    }
    if (head <= cache.block) {
      this.caughtUpAt = Date.now();
      return false;
    }
    await this.applyRange(this.recent.length, emptyChanges(), head);
    return this.cache.block < head;
  }

  /**
   * After a reorganisation: re-applies from the last remembered step still on chain, reading again what the
   * steps after it changed (they are on the dropped branch); or, when none is, reloads in full.
   */
  private async recover(head: number): Promise<void> {
    const kept = await this.stepsOnChain();
    const dropped = this.recent.slice(kept);
    if (kept === 0) {
      this.opts.log(
        `Block ${this.cache.block} is no longer the one applied (a reorganisation older than the ${this.recent.length} steps remembered): reloading from the chain at block ${head}.`,
      );
      await this.fullLoad();
      this.fullReloads++;
      return;
    }
    const fork = this.recent[kept - 1];
    const stale = emptyChanges();
    for (const step of dropped) mergeChanges(stale, step.changes);
    // A policy id defined on the dropped branch may be unknown, or another definition, on the new one.
    for (const p of stale.policies) stale.redefined.add(p);
    // A reinstatement on the dropped branch lapsed flags that may stand on the new one: read each member's.
    for (const id of stale.reinstated) for (const m of this.cache.members.keys()) stale.flags.add(`${id}/${m}`);
    this.opts.log(
      `Block ${this.cache.block} is no longer the one applied (a reorganisation): re-applying from block ${fork.block}, the last one applied still on chain.`,
    );
    await this.applyRange(kept, stale, head);
    this.repairs++;
    this.lastRepairDepth = (dropped.at(-1)?.block ?? fork.block) - fork.block;
  }

  /**
   * How many of the remembered steps, oldest first, are still on chain. A block's ancestors are on chain
   * when it is, so the first step off chain is found by bisection.
   */
  private async stepsOnChain(): Promise<number> {
    let lo = 0;
    let hi = this.recent.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const step = this.recent[mid];
      if ((await this.opts.provider.getBlock(step.block))?.hash === step.hash) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Applies blocks after the remembered step `kept - 1` (the steps after it are forgotten) up to LOG_RANGE
   * further and at most `head`: the range's events plus `stale`, read at its last block, applied at once.
   */
  private async applyRange(kept: number, stale: Changes, head: number): Promise<void> {
    const { provider, client, self } = this.opts;
    const from = this.recent[kept - 1];
    const to = Math.min(head, from.block + LOG_RANGE);
    const header = await provider.getBlock(to);
    if (!header?.hash) throw new Error(`block ${to} has no header`);
    const changes = emptyChanges();
    mergeChanges(changes, stale);
    const logs = to > from.block ? await fetchLogs(client, provider, from.block + 1, to) : [];
    collectChanges(client, logs, self, changes);
    const read = await readChanges(client, this.cache, changes, to, self);
    const [first, again] = await Promise.all([provider.getBlock(from.block + 1), provider.getBlock(to)]);
    const mixed = logs.some((l) => l.blockNumber === to && l.blockHash !== header.hash);
    const parentOk = to === from.block ? header.hash === from.hash : first?.parentHash === from.hash;
    if (!parentOk || again?.hash !== header.hash || mixed) {
      throw new Error(`blocks ${from.block + 1}..${to} changed while they were read (a reorganisation); retrying`);
    }
    const cache = this.cache;
    applyRead(cache, read);
    this.storeKeys(read.envelopes);
    cache.block = to;
    cache.blockHash = header.hash;
    cache.blockTime = header.timestamp;
    this.recent.splice(kept);
    this.recent.push({ block: to, hash: header.hash, changes });
    if (this.recent.length > (this.opts.recentSteps ?? RECENT_STEPS)) this.recent.shift();
    if (to === head) this.caughtUpAt = Date.now();
  }

  /** Follows the chain until `signal` aborts: steps every `pollMs`, retrying errors with backoff. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let more = false;
      try {
        more = await this.step();
        if (failures > 0) this.opts.log(`The chain answers again: following from block ${this.cache.block}.`);
        failures = 0;
        this.lastError = undefined;
      } catch (err) {
        failures++;
        this.lastError = err instanceof Error ? err.message.split("\n")[0] : String(err);
        if (failures === 1 || failures % 10 === 0) this.opts.log(`Cannot follow the chain (${this.lastError}); retrying.`);
      }
      const wait = failures > 0 ? Math.min(MAX_BACKOFF_MS, this.opts.pollMs * 2 ** failures) : more ? 0 : this.opts.pollMs;
      await sleep(wait, signal);
    }
  }

  /** Saves the snapshot (no-op without a state folder). */
  save(): void {
    if (!this.opts.stateDir || !this.identity || this.reloading) return;
    saveSnapshot(this.opts.stateDir, this.cache, this.identity, [...this.keys.keys()], this.recent);
  }

  private async loadKeys(homes: number[], blockTag: number): Promise<void> {
    const { client, self } = this.opts;
    const envelopes = new Map<number, string>();
    for (const home of homes) envelopes.set(home, (await client.devices.imsiKeyEnvelope(plmnHex(home), plmnHex(self), { blockTag }))[0]);
    this.storeKeys(envelopes);
  }

  /** Opens the envelopes read; an empty one (a share on a dropped branch) forgets the home's key. */
  private storeKeys(envelopes: Map<number, string>): void {
    for (const [home, envelope] of envelopes) {
      if (envelope === "0x") {
        this.keys.delete(home);
        continue;
      }
      const key = this.opts.openEnvelope(home, envelope);
      if (key) this.keys.set(home, key);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
