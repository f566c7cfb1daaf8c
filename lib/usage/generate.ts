import fs from "node:fs";
import path from "node:path";
import { InputError } from "../core/errors";
import type { Hex } from "../util/hex";
import { checkPlmnHex, formatPlmn, plmnMcc, plmnMnc } from "../core/plmn";
import { formatFromExtension, USAGE_FIELDS, type UsageFormat } from "./parse";
import { checkPeriod } from "../core/period";
import type { RejectCode } from "./types";

/**
 * Deterministic synthetic usage of one month for one (home, visited) pair: a devices CSV in the
 * format of `device:register` (docs/devices.md) and a usage file (CSV or JSON lines) in the format
 * of docs/usage-records.md. Same options and seed, same bytes. Memory holds a few bytes per device and
 * one day of planned records (about 20 bytes each), never the whole file.
 *
 * The fleet: NB-IoT meters (policy `meter`), LTE-M trackers (`tracker`) and a few drones on LTE or NR
 * (`drone`), the policy names of test/fixtures/policies.json. Some meters break their data-only policy
 * (voice calls, SMS, or streaming far beyond the daily cap from an LTE phone, as a stolen SIM would);
 * some devices stay the whole month (permanent roamers); a few extra lines are malformed. The summary
 * says exactly which, so tests and the demo can check what the ingest finds.
 */

export type GeneratedPolicy = "meter" | "tracker" | "drone";
export type OutOfPolicyKind = "voice" | "sms" | "over-cap";
export const MALFORMED_KINDS = ["bad-imsi", "bad-timestamp", "negative-volume", "duplicate-id", "wrong-home", "truncated"] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

/** The reject code the parser gives each kind of malformed line. */
export const MALFORMED_REJECT_CODES: Record<MalformedKind, RejectCode> = {
  "bad-imsi": "INVALID_IMSI",
  "bad-timestamp": "INVALID_TIMESTAMP",
  "negative-volume": "NEGATIVE_VOLUME",
  "duplicate-id": "DUPLICATE_RECORD_ID",
  "wrong-home": "WRONG_HOME_PLMN",
  truncated: "MALFORMED",
};

export interface GenerateOptions {
  home: Hex;
  visited: Hex;
  /** yyyymm. */
  period: number;
  /** Number of devices; derived from `records` when absent. Give one of the two. */
  devices?: number;
  /** Approximate number of valid records wanted (the fleet size is derived from it). */
  records?: number;
  /** PRNG seed (an integer); 1 by default. */
  seed?: number;
  /** From the extension of `usageOut` by default (csv when it says nothing). */
  format?: UsageFormat;
  usageOut: string;
  devicesOut: string;
  /** Digits every IMSI starts with; the home MCC+MNC by default (must start with them). */
  imsiPrefix?: string;
  /** Share of devices (meters) that break their policy; 0.005 by default (at least one when > 0). */
  fraudRate?: number;
  /** Chance of a malformed line after each valid one; 0.001 by default. */
  malformedRate?: number;
  /** Devices present every day of the month; 2% of the fleet by default (at least one). */
  permanentRoamers?: number;
  /** Member id (MCC-MNC) written in the devices file's maker column; none by default. */
  maker?: string;
  /** Called after each block written, with the usage lines (after the header) written so far. */
  onProgress?: (lines: number) => void;
}

export interface OutOfPolicyDevice {
  imsi: string;
  kind: OutOfPolicyKind;
  /** Out-of-policy records (voice calls, SMS, or streaming data records) written for it. */
  records: number;
}

export interface GenerateSummary {
  format: UsageFormat;
  seed: number;
  usageFile: string;
  devicesFile: string;
  /** Days in the period. */
  days: number;
  devices: number;
  devicesByPolicy: Record<GeneratedPolicy, number>;
  /** Valid records (all of them parse; the out-of-policy ones included). */
  records: number;
  recordsByService: Record<"data" | "sms" | "voice" | "signalling", number>;
  /** Usage lines after the header: records + malformed lines. */
  lines: number;
  /** Devices that break their policy (all meters). */
  outOfPolicy: OutOfPolicyDevice[];
  /** IMSIs of the devices present every day of the month (and only they are). */
  permanentRoamers: string[];
  /** Line numbers of the malformed lines, by kind (MALFORMED_REJECT_CODES gives the parser's code). */
  malformed: Record<MalformedKind, number[]>;
}

/** sfc32, seeded through splitmix32: small, fast, and the same on every platform. */
class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix();
    for (let i = 0; i < 12; i++) this.next();
  }

  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** [0, 1) */
  float(): number {
    return this.next() / 4_294_967_296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Integer spread evenly in magnitude between lo and hi. */
  logInt(lo: number, hi: number): number {
    return Math.round(lo * (hi / lo) ** this.float());
  }
}

// Device kinds (index into POLICIES).
const METER = 0;
const TRACKER = 1;
const DRONE = 2;
const POLICIES: readonly GeneratedPolicy[] = ["meter", "tracker", "drone"];
const SHARE = { meter: 0.7, tracker: 0.25 }; // drones: the rest

// Planned record kinds.
const K_DATA = 0;
const K_SMS = 1;
const K_VOICE = 2;
const K_SIGNALLING = 3;
const K_FRAUD_VOICE = 4;
const K_FRAUD_SMS = 5;
const K_FRAUD_DATA = 6;

const FRAUD_KINDS: readonly OutOfPolicyKind[] = ["voice", "sms", "over-cap"];
const RAT_LTE = "lte";
const RAT_NR = "nr";

/** Average valid records per device and month under the model below (to size the fleet). */
function expectedRecordsPerDevice(days: number): number {
  const meterDays = ((5 + days - 1) / 2) * 0.9;
  const meter = meterDays * (2.5 + 0.6);
  const trackerDays = (2 + Math.min(20, days - 1)) / 2;
  const tracker = trackerDays * (5 + 0.3 + 1);
  const drone = 4.3 * (3.5 + 0.45 + 0.1 + 1);
  return SHARE.meter * meter + SHARE.tracker * tracker + (1 - SHARE.meter - SHARE.tracker) * drone;
}

function checkRate(name: string, value: number): void {
  if (!(value >= 0 && value <= 0.5)) {
    throw new InputError(`${name} must be a number from 0 to 0.5, found ${value}`, { hint: `e.g. 0.005 for 0.5%.` });
  }
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new InputError(`${name} must be a whole number of at least ${min}, found ${value}`);
  }
}

/** Writes text to a file in blocks, through a temp file renamed into place at the end. */
class BlockWriter {
  private readonly fd: number;
  private readonly tmp: string;
  private text = "";

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.tmp = `${file}.${process.pid}.tmp`;
    this.fd = fs.openSync(this.tmp, "w");
  }

  /** Returns true when a block was written to disk. */
  write(s: string): boolean {
    this.text += s;
    if (this.text.length < 1 << 20) return false;
    fs.writeSync(this.fd, this.text);
    this.text = "";
    return true;
  }

  close(): void {
    if (this.text.length) fs.writeSync(this.fd, this.text);
    this.text = "";
    fs.closeSync(this.fd);
    fs.renameSync(this.tmp, this.file);
  }

  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // closed already
    }
    fs.rmSync(this.tmp, { force: true });
  }
}

/** One record being written (rendered to a CSV or JSON line). */
interface Row {
  recordId: string;
  imsi: string;
  homePlmn: string;
  visitedPlmn: string;
  service: string;
  time: string;
  duration: number;
  up: number;
  down: number;
  events: number;
  rat: string;
  latency: number;
  throughput: number;
}

function renderCsv(r: Row): string {
  return (
    `${r.recordId},${r.imsi},${r.homePlmn},${r.visitedPlmn},${r.service},${r.time},${r.duration},${r.up},${r.down},` +
    `${r.events},${r.rat},${r.latency > 0 ? r.latency : ""},${r.throughput > 0 ? r.throughput : ""}\n`
  );
}

function renderJson(r: Row): string {
  const qos = r.latency > 0 ? `,"latencyMs":${r.latency},"throughputKbps":${r.throughput}` : "";
  return (
    `{"recordId":"${r.recordId}","imsi":"${r.imsi}","homePlmn":"${r.homePlmn}","visitedPlmn":"${r.visitedPlmn}",` +
    `"service":"${r.service}","callEventStartTimeStamp":"${r.time}","totalCallEventDuration":${r.duration},` +
    `"dataVolumeOutgoing":${r.up},"dataVolumeIncoming":${r.down},"eventCount":${r.events},"rat":"${r.rat}"${qos}}\n`
  );
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Writes the devices file and the usage file; returns what was put in them. */
export function generateUsage(options: GenerateOptions): GenerateSummary {
  checkPlmnHex(options.home, "home");
  checkPlmnHex(options.visited, "visited");
  checkPeriod(options.period);
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new InputError(`seed must be a whole number, found ${seed}`);
  const format = options.format ?? formatFromExtension(options.usageOut) ?? "csv";
  const fraudRate = options.fraudRate ?? 0.005;
  const malformedRate = options.malformedRate ?? 0.001;
  checkRate("fraudRate", fraudRate);
  checkRate("malformedRate", malformedRate);
  const homeText = formatPlmn(options.home);
  const visitedText = formatPlmn(options.visited);
  const homeDigits = plmnMcc(homeText) + plmnMnc(homeText);
  const imsiPrefix = options.imsiPrefix ?? homeDigits;
  if (!/^\d+$/.test(imsiPrefix) || !imsiPrefix.startsWith(homeDigits) || imsiPrefix.length > 13) {
    throw new InputError(`IMSI prefix "${imsiPrefix}" does not fit`, {
      hint: `use digits starting with ${homeDigits} (the home MCC and MNC), at most 13 of them.`,
    });
  }
  const year = Math.floor(options.period / 100);
  const month = options.period % 100;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();

  let deviceCount: number;
  if (options.devices !== undefined && options.records !== undefined) {
    throw new InputError("give the number of devices or of records, not both", { hint: "the other follows from the usage model." });
  } else if (options.devices !== undefined) {
    checkCount("devices", options.devices, 1);
    deviceCount = options.devices;
  } else if (options.records !== undefined) {
    checkCount("records", options.records, 1);
    deviceCount = Math.max(1, Math.round(options.records / expectedRecordsPerDevice(days)));
  } else {
    throw new InputError("give the number of devices or of records to generate");
  }
  const msinDigits = 15 - imsiPrefix.length;
  if (deviceCount >= 10 ** msinDigits) {
    throw new InputError(`${deviceCount} devices do not fit under the IMSI prefix ${imsiPrefix}`, { hint: "use a shorter prefix." });
  }
  const permanentCount = options.permanentRoamers ?? Math.max(1, Math.round(deviceCount * 0.02));
  checkCount("permanentRoamers", permanentCount, 0);

  const rng = new Rng(seed);

  // --- The fleet: kind, presence (bit d = present on day d+1), out-of-policy behaviour.
  const kind = new Uint8Array(deviceCount);
  const droneRat = new Uint8Array(deviceCount); // 0 lte, 1 nr
  const presence = new Uint32Array(deviceCount);
  const fraud = new Uint8Array(deviceCount); // 0 none, else 1 + index into FRAUD_KINDS
  const fraudDays = new Uint32Array(deviceCount);
  const fraudRecords = new Uint32Array(deviceCount);
  const imsis: string[] = new Array(deviceCount);
  const allDays = 2 ** days - 1;
  const byPolicy: Record<GeneratedPolicy, number> = { meter: 0, tracker: 0, drone: 0 };
  const meters: number[] = [];
  for (let i = 0; i < deviceCount; i++) {
    const r = rng.float();
    kind[i] = r < SHARE.meter ? METER : r < SHARE.meter + SHARE.tracker ? TRACKER : DRONE;
    droneRat[i] = rng.int(0, 1);
    byPolicy[POLICIES[kind[i]]]++;
    if (kind[i] === METER) meters.push(i);
    imsis[i] = imsiPrefix + String(i + 1).padStart(msinDigits, "0");
  }
  // Permanent roamers: meters first (stationary), then any device.
  const pool = [...meters, ...Array.from({ length: deviceCount }, (_, i) => i).filter((i) => kind[i] !== METER)];
  const permanent = new Uint8Array(deviceCount);
  const permanentPicks = Math.min(permanentCount, deviceCount);
  for (let k = 0; k < permanentPicks; k++) {
    // Partial Fisher-Yates over the meters part first, then the rest.
    const limit = k < meters.length ? meters.length : pool.length;
    const j = rng.int(k, limit - 1);
    [pool[k], pool[j]] = [pool[j], pool[k]];
    permanent[pool[k]] = 1;
  }
  for (let i = 0; i < deviceCount; i++) {
    if (permanent[i]) {
      presence[i] = allDays;
      continue;
    }
    let mask = 0;
    if (kind[i] === METER) {
      const span = rng.int(Math.min(5, days - 1), days - 1);
      const start = rng.int(0, days - span);
      for (let d = start; d < start + span; d++) if (d === start || rng.chance(0.9)) mask |= 1 << d;
    } else if (kind[i] === TRACKER) {
      const span = rng.int(2, Math.min(20, days - 1));
      const start = rng.int(0, days - span);
      for (let d = start; d < start + span; d++) mask |= 1 << d;
    } else {
      const visits = rng.int(1, 8);
      for (let k = 0; k < visits; k++) mask |= 1 << rng.int(0, days - 1);
    }
    presence[i] = mask >>> 0;
  }
  // Out-of-policy meters (not permanent roamers), kinds in turn.
  const candidates = meters.filter((i) => !permanent[i]);
  const fraudCount = fraudRate > 0 ? Math.min(candidates.length, Math.max(1, Math.round(deviceCount * fraudRate))) : 0;
  for (let k = 0; k < fraudCount; k++) {
    const j = rng.int(k, candidates.length - 1);
    [candidates[k], candidates[j]] = [candidates[j], candidates[k]];
    const i = candidates[k];
    fraud[i] = 1 + (k % FRAUD_KINDS.length);
    const first = rng.int(0, days - 3);
    const length = rng.int(1, 3);
    for (let d = first; d < first + length; d++) fraudDays[i] |= 1 << d;
    presence[i] = (presence[i] | fraudDays[i]) >>> 0;
  }
  // Only the permanent roamers are there every day.
  for (let i = 0; i < deviceCount; i++) {
    if (!permanent[i] && presence[i] === allDays) {
      let d = rng.int(0, days - 1);
      while (fraudDays[i] & (1 << d)) d = (d + 1) % days;
      presence[i] = (presence[i] & ~(1 << d)) >>> 0;
    }
  }

  // --- The devices file.
  const devicesWriter = new BlockWriter(options.devicesOut);
  const classOf = (i: number): string =>
    kind[i] === METER ? "nb-iot" : kind[i] === TRACKER ? "lte-m" : droneRat[i] === 1 ? "5g" : "cat-1";
  try {
    devicesWriter.write(options.maker ? "imsi,class,policy,maker\n" : "imsi,class,policy\n");
    for (let i = 0; i < deviceCount; i++) {
      devicesWriter.write(`${imsis[i]},${classOf(i)},${POLICIES[kind[i]]}${options.maker ? `,${options.maker}` : ""}\n`);
    }
    devicesWriter.close();
  } catch (err) {
    devicesWriter.abort();
    throw err;
  }

  // --- The usage file, day by day, each day's records in time order.
  const render = format === "csv" ? renderCsv : renderJson;
  const writer = new BlockWriter(options.usageOut);
  const otherHome = `${plmnMcc(homeText)}-${String((Number(plmnMnc(homeText)) + 1) % 10 ** plmnMnc(homeText).length).padStart(plmnMnc(homeText).length, "0")}`;
  const idPrefix = `${plmnMcc(visitedText)}${plmnMnc(visitedText)}-${options.period}-`;
  const malformed = Object.fromEntries(MALFORMED_KINDS.map((k) => [k, [] as number[]])) as Record<MalformedKind, number[]>;
  const byService = { data: 0, sms: 0, voice: 0, signalling: 0 };
  let line = format === "csv" ? 1 : 0;
  let seq = 0;
  let records = 0;
  let evDevice = new Uint32Array(1 << 16);
  let evTime = new Uint32Array(1 << 16);
  let evKind = new Uint8Array(1 << 16);
  let evCount = 0;
  const plan = (device: number, k: number, count: number): void => {
    for (let n = 0; n < count; n++) {
      if (evCount === evDevice.length) {
        const grow = <T extends Uint32Array | Uint8Array>(a: T): T => {
          const b = new (a.constructor as new (n: number) => T)(a.length * 2);
          b.set(a);
          return b;
        };
        evDevice = grow(evDevice);
        evTime = grow(evTime);
        evKind = grow(evKind);
      }
      evDevice[evCount] = device;
      evTime[evCount] = rng.int(0, 86_399);
      evKind[evCount] = k;
      evCount++;
    }
  };
  const row: Row = {
    recordId: "",
    imsi: "",
    homePlmn: homeText,
    visitedPlmn: visitedText,
    service: "",
    time: "",
    duration: 0,
    up: 0,
    down: 0,
    events: 0,
    rat: "",
    latency: 0,
    throughput: 0,
  };
  const qos = (rat: string): void => {
    if (!rng.chance(0.9)) {
      row.latency = 0;
      row.throughput = 0;
      return;
    }
    if (rat === "nb-iot") [row.latency, row.throughput] = [rng.int(1600, 8000), rng.int(20, 60)];
    else if (rat === "lte-m") [row.latency, row.throughput] = [rng.int(50, 300), rng.int(100, 1000)];
    else if (rat === RAT_LTE) [row.latency, row.throughput] = [rng.int(20, 80), rng.int(5000, 60_000)];
    else [row.latency, row.throughput] = [rng.int(5, 25), rng.int(50_000, 1_000_000)];
  };

  try {
    writer.write(format === "csv" ? `${USAGE_FIELDS.join(",")}\n` : "");
    for (let d = 0; d < days; d++) {
      evCount = 0;
      const bit = 1 << d;
      for (let i = 0; i < deviceCount; i++) {
        if (!(presence[i] & bit)) continue;
        if (kind[i] === METER) {
          plan(i, K_DATA, rng.int(1, 4));
          if (rng.chance(0.6)) plan(i, K_SIGNALLING, 1);
        } else if (kind[i] === TRACKER) {
          plan(i, K_DATA, rng.int(2, 8));
          if (rng.chance(0.3)) plan(i, K_SMS, 1);
          plan(i, K_SIGNALLING, 1);
        } else {
          plan(i, K_DATA, rng.int(1, 6));
          if (rng.chance(0.3)) plan(i, K_VOICE, rng.int(1, 2));
          if (rng.chance(0.1)) plan(i, K_SMS, 1);
          plan(i, K_SIGNALLING, 1);
        }
        if (fraudDays[i] & bit) plan(i, K_FRAUD_VOICE + fraud[i] - 1, fraud[i] === 1 ? rng.int(2, 10) : rng.int(3, 10));
      }
      const order = new Float64Array(evCount);
      for (let e = 0; e < evCount; e++) order[e] = evTime[e] * 2 ** 26 + e;
      order.sort();
      const datePrefix = `${year}-${pad2(month)}-${pad2(d + 1)}T`;

      for (let o = 0; o < evCount; o++) {
        const e = order[o] % 2 ** 26;
        const i = evDevice[e];
        const t = evTime[e];
        const k = evKind[e];
        const cls = kind[i];
        const deviceRat = cls === METER ? "nb-iot" : cls === TRACKER ? "lte-m" : droneRat[i] === 1 ? RAT_NR : RAT_LTE;
        row.recordId = idPrefix + String(++seq).padStart(9, "0");
        row.imsi = imsis[i];
        row.time = `${datePrefix}${pad2(Math.floor(t / 3600))}:${pad2(Math.floor(t / 60) % 60)}:${pad2(t % 60)}Z`;
        row.duration = 0;
        row.up = 0;
        row.down = 0;
        row.events = 0;
        row.latency = 0;
        row.throughput = 0;
        row.rat = deviceRat;
        if (k === K_DATA) {
          row.service = "data";
          if (cls === METER) [row.up, row.down, row.duration] = [rng.int(50, 400), rng.int(10, 150), rng.int(1, 30)];
          else if (cls === TRACKER) [row.up, row.down, row.duration] = [rng.int(500, 12_000), rng.int(200, 4000), rng.int(5, 600)];
          else [row.up, row.down, row.duration] = [rng.logInt(100_000, 2_000_000_000), rng.logInt(50_000, 500_000_000), rng.int(60, 7200)];
          qos(row.rat);
        } else if (k === K_SMS) {
          row.service = "sms";
          row.events = rng.int(1, 3);
        } else if (k === K_VOICE) {
          row.service = "voice";
          row.duration = rng.int(30, 900);
        } else if (k === K_SIGNALLING) {
          row.service = "signalling";
          row.events = cls === METER ? rng.int(1, 8) : cls === TRACKER ? rng.int(2, 20) : rng.int(5, 50);
        } else {
          // A meter's SIM in an LTE phone.
          row.rat = RAT_LTE;
          fraudRecords[i]++;
          if (k === K_FRAUD_VOICE) {
            row.service = "voice";
            row.duration = rng.int(30, 1200);
          } else if (k === K_FRAUD_SMS) {
            row.service = "sms";
            row.events = rng.int(1, 5);
          } else if (k === K_FRAUD_DATA) {
            row.service = "data";
            [row.up, row.down, row.duration] = [rng.int(100_000, 5_000_000), rng.int(5_000_000, 200_000_000), rng.int(60, 3600)];
            qos(RAT_LTE);
          }
        }
        const text = render(row);
        byService[row.service as keyof typeof byService]++;
        records++;
        line++;
        if (writer.write(text)) options.onProgress?.(format === "csv" ? line - 1 : line);

        if (malformedRate > 0 && rng.chance(malformedRate)) {
          const what = MALFORMED_KINDS[rng.int(0, MALFORMED_KINDS.length - 1)];
          let bad: string;
          if (what === "duplicate-id") {
            bad = text;
          } else {
            const copy: Row = { ...row, recordId: idPrefix + String(++seq).padStart(9, "0") };
            if (what === "bad-imsi")
              copy.imsi = rng.chance(0.5) ? copy.imsi.slice(0, 14) : `${copy.imsi.slice(0, 9)}X${copy.imsi.slice(10)}`;
            else if (what === "bad-timestamp") {
              const variant = rng.int(0, 2);
              copy.time =
                variant === 0
                  ? `${copy.time.slice(0, 11)}25${copy.time.slice(13)}`
                  : variant === 1
                    ? copy.time.replace("T", " ").slice(0, -1)
                    : `${copy.time.slice(0, -1)}+02:00`;
            } else if (what === "negative-volume") copy.down = -(copy.down || rng.int(1, 5000));
            else if (what === "wrong-home") copy.homePlmn = otherHome;
            bad = render(copy);
            if (what === "truncated") {
              const body = bad.slice(0, -1);
              const limit = format === "csv" ? body.lastIndexOf(",") : body.length - 1;
              bad = `${body.slice(0, rng.int(1, limit - 1))}\n`;
            }
          }
          line++;
          malformed[what].push(line);
          writer.write(bad);
        }
      }
    }
    writer.close();
  } catch (err) {
    writer.abort();
    throw err;
  }
  options.onProgress?.(format === "csv" ? line - 1 : line);

  const outOfPolicy: OutOfPolicyDevice[] = [];
  const permanentRoamers: string[] = [];
  for (let i = 0; i < deviceCount; i++) {
    if (fraud[i]) outOfPolicy.push({ imsi: imsis[i], kind: FRAUD_KINDS[fraud[i] - 1], records: fraudRecords[i] });
    if (presence[i] === allDays) permanentRoamers.push(imsis[i]);
  }
  return {
    format,
    seed,
    usageFile: options.usageOut,
    devicesFile: options.devicesOut,
    days,
    devices: deviceCount,
    devicesByPolicy: byPolicy,
    records,
    recordsByService: byService,
    lines: format === "csv" ? line - 1 : line,
    outOfPolicy,
    permanentRoamers,
    malformed,
  };
}
