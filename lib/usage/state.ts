import fs from "node:fs";
import { ConfigError } from "../core/errors";
import { writeFileAtomic } from "../util/fsAtomic";

/**
 * What a visited carrier remembers of each roaming device of one home partner across periods and runs:
 * presence (for permanent roaming), what was already counted (active in a period, roamer-days) and the
 * counters that policy caps are checked against. It changes only when a run commits, so a run that dies
 * half-way recomputes exactly the same batches.
 */
export interface DeviceState {
  /** First and last UTC day (days since 1970-01-01) of the current continuous presence. */
  firstDay: number;
  lastDay: number;
  /** Last day already counted as a roamer-day (-1: none). */
  roamerBilledThrough: number;
  /** Reported on-chain as a permanent roamer. */
  roamerReported: boolean;
  /** Last period (yyyymm) the device was counted active in. */
  activePeriod: number;
  /** Counters of the period `capPeriod` and the day `capDay`. */
  capPeriod: number;
  monthBytes: number;
  monthEvents: number;
  capDay: number;
  dayBytes: number;
  dayEvents: number;
}

/** A device absent for more than this many days has left: its presence starts again. */
export const PRESENCE_GAP_DAYS = 14;

export function newDeviceState(): DeviceState {
  return {
    firstDay: -1,
    lastDay: -1,
    roamerBilledThrough: -1,
    roamerReported: false,
    activePeriod: 0,
    capPeriod: 0,
    monthBytes: 0,
    monthEvents: 0,
    capDay: -1,
    dayBytes: 0,
    dayEvents: 0,
  };
}

const FIELDS: (keyof DeviceState)[] = [
  "firstDay",
  "lastDay",
  "roamerBilledThrough",
  "roamerReported",
  "activePeriod",
  "capPeriod",
  "monthBytes",
  "monthEvents",
  "capDay",
  "dayBytes",
  "dayEvents",
];

const VERSION = 1;

/** Reads a state file; an absent file is an empty state. */
export function loadState(file: string): Map<string, DeviceState> {
  const state = new Map<string, DeviceState>();
  if (!fs.existsSync(file)) return state;
  let parsed: { version: number; fields: string[]; devices: Record<string, (number | boolean)[]> };
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (cause) {
    throw new ConfigError(`the usage state file ${file} is not valid JSON`, {
      cause,
      hint: "restore it from your backup; without it, presence and counters of earlier runs are lost.",
    });
  }
  if (parsed.version !== VERSION || parsed.fields.join() !== FIELDS.join()) {
    throw new ConfigError(`the usage state file ${file} has an unknown layout (version ${parsed.version})`, {
      hint: "it was written by another RoamLedger version; use that version or restore a matching file.",
    });
  }
  for (const [id, values] of Object.entries(parsed.devices)) {
    const s = newDeviceState() as unknown as Record<string, number | boolean>;
    FIELDS.forEach((field, i) => {
      s[field] = values[i];
    });
    state.set(id, s as unknown as DeviceState);
  }
  return state;
}

/** Writes the state as `{"version", "fields", "devices": {id: [values in field order]}}`, device by device. */
export function saveState(file: string, state: Map<string, DeviceState>): void {
  writeFileAtomic(file, stateJson(state));
}

function* stateJson(state: Map<string, DeviceState>): Generator<string> {
  // The same text as JSON.stringify of the whole object, without building it: a state may hold
  // hundreds of thousands of devices.
  yield `{"version":${VERSION},"fields":${JSON.stringify(FIELDS)},"devices":{`;
  let first = true;
  for (const [id, s] of state) {
    yield `${first ? "" : ","}${JSON.stringify(id)}:${JSON.stringify(FIELDS.map((field) => s[field]))}`;
    first = false;
  }
  yield "}}";
}
