import fs from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { parsePlmn } from "../core/plmn";
import { plmnNumber } from "./chainSync";
import type { CounterArrays, CountersAnswer, CountersJob } from "./countersWorker";
import type { CachedPolicy } from "./decide";

const DAY = 86_400;

/** What is left of a device's caps today and this month (null: the policy sets no such cap). */
export interface CapsLeft {
  dailyBytes: number | null;
  monthlyBytes: number | null;
  dailyEvents: number | null;
  monthlyEvents: number | null;
  /** When the usage behind it was counted: the time the counters were last written (ISO 8601). */
  countedAt: string;
}

interface PairCounters {
  mtimeMs: number;
  size: number;
  table: CounterArrays;
  countedAt: string;
}

/** The row of `id` in `ids` (32 bytes a row, ascending), or -1. */
function rowOf(ids: Uint8Array, id: Uint8Array): number {
  let lo = 0;
  let hi = ids.length / 32 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const base = mid * 32;
    let c = 0;
    for (let i = 0; i < 32 && c === 0; i++) c = ids[base + i] - id[i];
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * The usage this member's own `usage:ingest` and `usage:stream` counted per device: the counters the policy
 * caps are checked against, which they commit after each file (`<root>/usage/<self>_<home>/state.json`, the
 * pair's state). `refresh` has a changed file (size or modification time) read again in a thread of its own
 * (seconds for a million devices, which answers must not wait for) and swaps the new counters in when they
 * are read; a file that cannot be read keeps the counters read before and is named by `log`. What is left is
 * the cap less the usage counted for the day and the month of `time` (UTC, as the ingest counts them): usage
 * the mediation has not delivered yet is not in it, so it is an upper bound, with the time it was counted.
 */
export class UsageCounters {
  private readonly pairs = new Map<number, PairCounters>();
  private readonly reading = new Set<string>();
  private readonly warned = new Set<string>();
  private worker: Worker | undefined;
  private nextJob = 0;
  private readonly jobs = new Map<number, (answer: CountersAnswer) => void>();

  constructor(
    /** The key store root the ingest writes under (its `usage/` folder). */
    readonly root: string,
    /** The member's PLMN as `usage/` folders name it (MCC-MNC). */
    readonly selfText: string,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** Homes whose counters are loaded. */
  get homes(): number {
    return this.pairs.size;
  }

  /** Starts reading the pairs' state files that changed since they were last read; resolves when those reads end. */
  refresh(): Promise<void> {
    const dir = path.join(this.root, "usage");
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return Promise.resolve(); // nothing ingested yet
    }
    const prefix = `${this.selfText}_`;
    const reads: Promise<void>[] = [];
    for (const name of names) {
      if (!name.startsWith(prefix)) continue;
      let home: number;
      try {
        home = plmnNumber(parsePlmn(name.slice(prefix.length)));
      } catch {
        continue;
      }
      const read = this.refreshPair(home, path.join(dir, name, "state.json"));
      if (read) reads.push(read);
    }
    return Promise.all(reads).then(() => {});
  }

  /** Stops the reading thread. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private refreshPair(home: number, file: string): Promise<void> | undefined {
    if (this.reading.has(file)) return undefined;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      return undefined;
    }
    const known = this.pairs.get(home);
    if (known && known.mtimeMs === stat.mtimeMs && known.size === stat.size) return undefined;
    this.reading.add(file);
    return this.read(file).then((answer) => {
      this.reading.delete(file);
      if (answer.ok) {
        this.pairs.set(home, { mtimeMs: stat.mtimeMs, size: stat.size, table: answer.arrays, countedAt: stat.mtime.toISOString() });
        this.warned.delete(file);
      } else if (!this.warned.has(file)) {
        this.warned.add(file);
        this.log(`Cannot read the usage counters ${file} (${answer.message}); capsLeft keeps what was read before.`);
      }
    });
  }

  private read(file: string): Promise<CountersAnswer> {
    if (!this.worker) {
      const entry = path.join(__dirname, `countersWorker${path.extname(__filename)}`);
      // Under ts-node (Hardhat tasks and tests) the thread registers it too: threads do not share require hooks.
      const source = entry.endsWith(".ts")
        ? `require("ts-node").register({ transpileOnly: true }); require(${JSON.stringify(entry)});`
        : `require(${JSON.stringify(entry)});`;
      const worker = new Worker(source, { eval: true });
      worker.unref();
      worker.on("message", (answer: CountersAnswer) => {
        this.jobs.get(answer.id)?.(answer);
        this.jobs.delete(answer.id);
      });
      const fail = (message: string) => {
        for (const [id, done] of this.jobs) done({ id, ok: false, message });
        this.jobs.clear();
        if (this.worker === worker) this.worker = undefined;
      };
      worker.on("error", (error) => fail(`the reading thread failed: ${error.message}`));
      worker.on("exit", (code) => fail(`the reading thread stopped (exit code ${code})`));
      this.worker = worker;
    }
    const job: CountersJob = { id: this.nextJob++, file };
    return new Promise((resolve) => {
      this.jobs.set(job.id, resolve);
      this.worker?.postMessage(job);
    });
  }

  /** What is left of `policy`'s caps for the device `id` of `home` at `time`; null when the pair's counters are not known here. */
  capsLeft(home: number, id: Uint8Array, policy: CachedPolicy, time: number): CapsLeft | null {
    const pair = this.pairs.get(home);
    if (!pair) return null;
    const t = pair.table;
    const row = rowOf(t.ids, id);
    const day = Math.floor(time / DAY);
    const d = new Date(time * 1000);
    const period = d.getUTCFullYear() * 100 + d.getUTCMonth() + 1;
    const today = row >= 0 && t.capDay[row] === day;
    const thisMonth = row >= 0 && t.capPeriod[row] === period;
    const left = (cap: number, used: number) => (cap > 0 ? Math.max(0, cap - used) : null);
    return {
      dailyBytes: left(Number(policy.dailyBytesCap), today ? t.dayBytes[row] : 0),
      monthlyBytes: left(Number(policy.monthlyBytesCap), thisMonth ? t.monthBytes[row] : 0),
      dailyEvents: left(policy.dailyEventsCap, today ? t.dayEvents[row] : 0),
      monthlyEvents: left(policy.monthlyEventsCap, thisMonth ? t.monthEvents[row] : 0),
      countedAt: pair.countedAt,
    };
  }
}
