/**
 * The thread that reads a pair's usage counters for the decision service (lib/realtime/usageCounters.ts):
 * parsing a state file takes seconds for a million devices, which the service's thread must not spend.
 * It answers each `{ id, file }` with the counters as a CounterTable's arrays (ids sorted, transferred, not
 * copied) or with why the file could not be read.
 */
import { parentPort } from "node:worker_threads";
import { loadState } from "../usage/state";
import { hexToBytes } from "../util/hex";

export interface CountersJob {
  id: number;
  file: string;
}

export interface CounterArrays {
  /** 32 bytes a device, in ascending byte order. */
  ids: Uint8Array;
  capDay: Int32Array;
  capPeriod: Int32Array;
  dayBytes: Float64Array;
  dayEvents: Float64Array;
  monthBytes: Float64Array;
  monthEvents: Float64Array;
}

export type CountersAnswer = { id: number; ok: true; arrays: CounterArrays } | { id: number; ok: false; message: string };

/** The state file's counters, sorted by device id (lower-case hex of one length sorts as the bytes do). */
export function readCounterArrays(file: string): CounterArrays {
  const entries = [...loadState(file)].map(([k, v]) => [k.toLowerCase(), v] as const);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const n = entries.length;
  const out: CounterArrays = {
    ids: new Uint8Array(n * 32),
    capDay: new Int32Array(n),
    capPeriod: new Int32Array(n),
    dayBytes: new Float64Array(n),
    dayEvents: new Float64Array(n),
    monthBytes: new Float64Array(n),
    monthEvents: new Float64Array(n),
  };
  entries.forEach(([key, s], i) => {
    out.ids.set(hexToBytes(key as `0x${string}`, { byteLength: 32 }), i * 32);
    out.capDay[i] = s.capDay;
    out.capPeriod[i] = s.capPeriod;
    out.dayBytes[i] = s.dayBytes;
    out.dayEvents[i] = s.dayEvents;
    out.monthBytes[i] = s.monthBytes;
    out.monthEvents[i] = s.monthEvents;
  });
  return out;
}

parentPort?.on("message", (job: CountersJob) => {
  let answer: CountersAnswer;
  try {
    const arrays = readCounterArrays(job.file);
    answer = { id: job.id, ok: true, arrays };
    parentPort?.postMessage(
      answer,
      Object.values(arrays).map((a: ArrayBufferView) => a.buffer as ArrayBuffer),
    );
    return;
  } catch (err) {
    answer = { id: job.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(answer);
});
