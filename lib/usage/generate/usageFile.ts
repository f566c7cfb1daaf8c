import type { ServiceName } from "../../core/enums";
import type { Rat } from "../types";
import { plmnMcc, plmnMnc } from "../../core/plmn";
import { USAGE_FIELDS } from "../parse";
import { BlockWriter } from "./blockWriter";
import { DayPlan } from "./dayPlan";
import { type Fleet, METER, TRACKER } from "./fleet";
import type { Rng } from "./rng";
import { MALFORMED_KINDS, type MalformedKind, type Settings } from "./settings";

/**
 * The usage file of a fleet, day by day, each day's records in time order. Memory holds one day of
 * planned records (about 20 bytes each), never the whole file. The order of the draws is part of the
 * output: same seed, same bytes.
 */

// Planned record kinds.
const K_DATA = 0;
const K_SMS = 1;
const K_VOICE = 2;
const K_SIGNALLING = 3;
const K_FRAUD_VOICE = 4;
const K_FRAUD_SMS = 5;
const K_FRAUD_DATA = 6;

const RAT_LTE: Rat = "lte";
const RAT_NR: Rat = "nr";

/** One record being written (rendered to a CSV or JSON line, or encoded as a TAP call event). */
export interface Row {
  recordId: string;
  imsi: string;
  homePlmn: string;
  visitedPlmn: string;
  service: ServiceName;
  time: string;
  /** The same instant as `time`, Unix seconds. */
  startTime: number;
  duration: number;
  up: number;
  down: number;
  events: number;
  rat: Rat;
  latency: number;
  throughput: number;
}

// Hand-written rather than lib/util/csv's csvLine: no field needs quoting, and this runs once per record
// (with csvLine, generating 300k records took 2.7 s of CPU instead of 0.8 s).
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

/** What went into the usage file. */
export interface UsageFileSummary {
  records: number;
  recordsByService: Record<ServiceName, number>;
  /** Usage lines after the header. */
  lines: number;
  malformed: Record<MalformedKind, number[]>;
  /** Out-of-policy records written, by device. */
  fraudRecords: Uint32Array;
}

/** Writes the usage file of `fleet` to `file`. */
export function writeUsageFile(
  from: { settings: Settings; fleet: Fleet; rng: Rng },
  out: { file: string; onProgress?: (lines: number) => void },
): UsageFileSummary {
  return BlockWriter.writeFile(out.file, (writer) => new UsageFileWriter(from, { writer, onProgress: out.onProgress }).write());
}

/** Where the records go instead of text lines (a TAP file, tapFile.ts). */
export interface RecordSink {
  /** Before the first record. */
  start(): void;
  /** Writes the record of `row`; returns how many records it became (0: left out). */
  add(row: Row): number;
  /** Writes what is buffered when it is a block; true when it did. */
  flush(): boolean;
}

export class UsageFileWriter {
  private readonly render: (r: Row) => string;
  private readonly headerLines: number;
  private readonly otherHome: string;
  private readonly idPrefix: string;
  private readonly plan = new DayPlan();
  private readonly row: Row;
  private readonly summary: UsageFileSummary;
  /** The file's line last written. */
  private line = 0;
  /** Record ids handed out. */
  private seq = 0;

  private readonly s: Settings;
  private readonly fleet: Fleet;
  private readonly rng: Rng;
  private readonly writer: BlockWriter;
  private readonly onProgress?: (lines: number) => void;
  private readonly sink?: RecordSink;

  constructor(
    from: { settings: Settings; fleet: Fleet; rng: Rng },
    out: { writer: BlockWriter; onProgress?: (lines: number) => void; sink?: RecordSink },
  ) {
    const s = from.settings;
    this.s = s;
    this.fleet = from.fleet;
    this.rng = from.rng;
    this.writer = out.writer;
    this.onProgress = out.onProgress;
    this.sink = out.sink;
    this.render = s.format === "csv" ? renderCsv : renderJson;
    this.headerLines = s.format === "csv" ? 1 : 0;
    const mnc = plmnMnc(s.homeText);
    this.otherHome = `${plmnMcc(s.homeText)}-${String((Number(mnc) + 1) % 10 ** mnc.length).padStart(mnc.length, "0")}`;
    this.idPrefix = `${plmnMcc(s.visitedText)}${plmnMnc(s.visitedText)}-${s.period}-`;
    this.row = {
      recordId: "",
      imsi: "",
      homePlmn: s.homeText,
      visitedPlmn: s.visitedText,
      service: "data",
      time: "",
      startTime: 0,
      duration: 0,
      up: 0,
      down: 0,
      events: 0,
      rat: "nb-iot",
      latency: 0,
      throughput: 0,
    };
    this.summary = {
      records: 0,
      recordsByService: { data: 0, sms: 0, voice: 0, signalling: 0 },
      lines: 0,
      malformed: Object.fromEntries(MALFORMED_KINDS.map((k) => [k, [] as number[]])) as Record<MalformedKind, number[]>,
      fraudRecords: new Uint32Array(from.fleet.count),
    };
  }

  write(): UsageFileSummary {
    if (this.sink) this.sink.start();
    else if (this.s.format === "csv") this.writer.write(`${USAGE_FIELDS.join(",")}\n`);
    this.line = this.headerLines;
    for (let d = 0; d < this.s.days; d++) this.writeDay(d);
    this.summary.lines = this.line - this.headerLines;
    this.onProgress?.(this.summary.lines);
    return this.summary;
  }

  private writeDay(d: number): void {
    this.planDay(d);
    const datePrefix = `${this.s.year}-${pad2(this.s.month)}-${pad2(d + 1)}T`;
    const dayStart = Date.UTC(this.s.year, this.s.month - 1, d + 1) / 1000;
    for (const e of this.plan.inTimeOrder()) {
      const t = this.plan.time[e];
      this.fillRow(this.plan.device[e], this.plan.kind[e]);
      this.row.time = `${datePrefix}${pad2(Math.floor(t / 3600))}:${pad2(Math.floor(t / 60) % 60)}:${pad2(t % 60)}Z`;
      this.row.startTime = dayStart + t;
      if (this.sink) {
        this.toSink(this.sink, this.plan.device[e], this.plan.kind[e]);
        continue;
      }
      const text = this.render(this.row);
      this.summary.recordsByService[this.row.service]++;
      this.summary.records++;
      this.line++;
      if (this.writer.write(text)) this.onProgress?.(this.line - this.headerLines);
      if (this.s.malformedRate > 0 && this.rng.chance(this.s.malformedRate)) this.writeMalformed(text);
    }
  }

  /** The row to the sink, counted as the records it became. */
  private toSink(sink: RecordSink, device: number, kind: number): void {
    const service = this.row.service;
    const n = sink.add(this.row);
    this.summary.recordsByService[service] += n;
    this.summary.records += n;
    this.line += n;
    if (kind >= K_FRAUD_VOICE) this.summary.fraudRecords[device] += n - 1;
    if (sink.flush()) this.onProgress?.(this.line);
  }

  /** Plans the records of day d of every device present that day. */
  private planDay(d: number): void {
    const { fleet, rng } = this;
    this.plan.count = 0;
    const bit = 1 << d;
    for (let i = 0; i < fleet.count; i++) {
      if (!(fleet.presence[i] & bit)) continue;
      if (fleet.kind[i] === METER) {
        this.planRecords(i, K_DATA, rng.int(1, 4));
        if (rng.chance(0.6)) this.planRecords(i, K_SIGNALLING, 1);
      } else if (fleet.kind[i] === TRACKER) {
        this.planRecords(i, K_DATA, rng.int(2, 8));
        if (rng.chance(0.3)) this.planRecords(i, K_SMS, 1);
        this.planRecords(i, K_SIGNALLING, 1);
      } else {
        this.planRecords(i, K_DATA, rng.int(1, 6));
        if (rng.chance(0.3)) this.planRecords(i, K_VOICE, rng.int(1, 2));
        if (rng.chance(0.1)) this.planRecords(i, K_SMS, 1);
        this.planRecords(i, K_SIGNALLING, 1);
      }
      const fraud = fleet.fraud[i];
      if (fleet.fraudDays[i] & bit) this.planRecords(i, K_FRAUD_VOICE + fraud - 1, fraud === 1 ? rng.int(2, 10) : rng.int(3, 10));
    }
  }

  private planRecords(device: number, kind: number, count: number): void {
    for (let n = 0; n < count; n++) this.plan.add(device, this.rng.int(0, 86_399), kind);
  }

  /** The row of a planned record of device i: id, IMSI, radio and the quantities of its kind (not the time). */
  private fillRow(i: number, k: number): void {
    const { row, fleet } = this;
    const cls = fleet.kind[i];
    row.recordId = this.nextRecordId();
    row.imsi = fleet.imsis[i];
    row.duration = 0;
    row.up = 0;
    row.down = 0;
    row.events = 0;
    row.latency = 0;
    row.throughput = 0;
    row.rat = cls === METER ? "nb-iot" : cls === TRACKER ? "lte-m" : fleet.droneRat[i] === 1 ? RAT_NR : RAT_LTE;
    if (k <= K_SIGNALLING) this.fillUsage(k, cls);
    else this.fillOutOfPolicy(i, k);
  }

  private nextRecordId(): string {
    return this.idPrefix + String(++this.seq).padStart(9, "0");
  }

  /** The quantities of a record within the device's policy. */
  private fillUsage(k: number, cls: number): void {
    const { row, rng } = this;
    if (k === K_DATA) {
      row.service = "data";
      if (cls === METER) [row.up, row.down, row.duration] = [rng.int(50, 400), rng.int(10, 150), rng.int(1, 30)];
      else if (cls === TRACKER) [row.up, row.down, row.duration] = [rng.int(500, 12_000), rng.int(200, 4000), rng.int(5, 600)];
      else [row.up, row.down, row.duration] = [rng.logInt(100_000, 2_000_000_000), rng.logInt(50_000, 500_000_000), rng.int(60, 7200)];
      this.qos(row.rat);
    } else if (k === K_SMS) {
      row.service = "sms";
      row.events = rng.int(1, 3);
    } else if (k === K_VOICE) {
      row.service = "voice";
      row.duration = rng.int(30, 900);
    } else {
      row.service = "signalling";
      row.events = cls === METER ? rng.int(1, 8) : cls === TRACKER ? rng.int(2, 20) : rng.int(5, 50);
    }
  }

  /** A meter's SIM in an LTE phone: voice calls, SMS, or streaming far beyond the daily cap. */
  private fillOutOfPolicy(i: number, k: number): void {
    const { row, rng } = this;
    row.rat = RAT_LTE;
    this.summary.fraudRecords[i]++;
    if (k === K_FRAUD_VOICE) {
      row.service = "voice";
      row.duration = rng.int(30, 1200);
    } else if (k === K_FRAUD_SMS) {
      row.service = "sms";
      row.events = rng.int(1, 5);
    } else if (k === K_FRAUD_DATA) {
      row.service = "data";
      [row.up, row.down, row.duration] = [rng.int(100_000, 5_000_000), rng.int(5_000_000, 200_000_000), rng.int(60, 3600)];
      this.qos(RAT_LTE);
    }
  }

  /** Latency and throughput of a data record, measured on most of them. */
  private qos(rat: Rat): void {
    const { row, rng } = this;
    if (!rng.chance(0.9)) {
      row.latency = 0;
      row.throughput = 0;
      return;
    }
    if (rat === "nb-iot") [row.latency, row.throughput] = [rng.int(1600, 8000), rng.int(20, 60)];
    else if (rat === "lte-m") [row.latency, row.throughput] = [rng.int(50, 300), rng.int(100, 1000)];
    else if (rat === RAT_LTE) [row.latency, row.throughput] = [rng.int(20, 80), rng.int(5000, 60_000)];
    else [row.latency, row.throughput] = [rng.int(5, 25), rng.int(50_000, 1_000_000)];
  }

  /** A malformed line after the record `text` (of the row), of a kind drawn at random. */
  private writeMalformed(text: string): void {
    const { rng } = this;
    const what = MALFORMED_KINDS[rng.int(0, MALFORMED_KINDS.length - 1)];
    let bad: string;
    if (what === "duplicate-id") {
      bad = text;
    } else {
      const copy: Row = { ...this.row, recordId: this.nextRecordId() };
      if (what === "bad-imsi") copy.imsi = rng.chance(0.5) ? copy.imsi.slice(0, 14) : `${copy.imsi.slice(0, 9)}X${copy.imsi.slice(10)}`;
      else if (what === "bad-timestamp") copy.time = this.badTime(copy.time);
      else if (what === "negative-volume") copy.down = -(copy.down || rng.int(1, 5000));
      else if (what === "wrong-home") copy.homePlmn = this.otherHome;
      bad = this.render(copy);
      if (what === "truncated") {
        const body = bad.slice(0, -1);
        const limit = this.s.format === "csv" ? body.lastIndexOf(",") : body.length - 1;
        bad = `${body.slice(0, rng.int(1, limit - 1))}\n`;
      }
    }
    this.line++;
    this.summary.malformed[what].push(this.line);
    this.writer.write(bad);
  }

  /** A start time the parser refuses: an hour 25, a space and no zone, or an offset. */
  private badTime(time: string): string {
    const variant = this.rng.int(0, 2);
    if (variant === 0) return `${time.slice(0, 11)}25${time.slice(13)}`;
    if (variant === 1) return time.replace("T", " ").slice(0, -1);
    return `${time.slice(0, -1)}+02:00`;
  }
}
