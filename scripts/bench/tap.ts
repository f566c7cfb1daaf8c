/**
 * `npm run bench -- --only tap`: TAP 3.12 reading throughput and memory. Writes a TransferBatch of N call
 * events once (default 8,000,000, about 1 GB: a third each voice calls, SMS and GPRS calls, from usage
 * records through lib/tap/fromUsage.ts, indefinite lengths) to a temporary folder, then reads it `runs` times
 * in a fresh `node` process each: decoded only (`TapFile.callEvents()`), and decoded and mapped to usage records
 * (`TapMapper`, lib/tap/map.ts: the checks and record ids). Reports call events per second (median),
 * the CPU time, and the reading process's peak RSS. The file is deleted at the end.
 *
 *   npx ts-node --transpile-only scripts/bench/tap.ts [events] [--runs N] [--keep]   (standalone, prints the figures)
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SERVICES } from "../../lib/core/enums";
import { parsePlmn } from "../../lib/core/plmn";
import { writeTapFile } from "../../lib/tap/fromUsage";
import { TapMapper } from "../../lib/tap/map";
import { tapRecordId } from "../../lib/tap/recordIds";
import { TapFile } from "../../lib/tap/tap312";
import { type ParsedRecord, RATS } from "../../lib/usage/types";
import type { Hex } from "../../lib/util/hex";
import { median } from "./util";

const HOME = parsePlmn("262-01") as Hex;
const VISITED = parsePlmn("724-05") as Hex;
const PERIOD = 202611;
const SENDER = "BRA05";

/** One reading of the file, as the child process reports it. */
export interface TapReadRun {
  callEvents: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

export interface TapBenchResult {
  callEvents: number;
  fileMb: number;
  writeSeconds: number;
  runs: number;
  /** Medians. */
  decodedPerSec: number;
  mappedPerSec: number;
  /** Largest peak RSS of the reading processes (Node and ts-node included). */
  decodePeakRssMb: number;
  mapPeakRssMb: number;
  all: { decoded: TapReadRun[]; mapped: TapReadRun[] };
}

/** `count` usage records of November 2026, voice, SMS and data in turn, their ids those TAP gives them back. */
function* records(count: number): Generator<ParsedRecord> {
  const base = Date.UTC(2026, 10, 1) / 1000;
  const r: ParsedRecord = {
    line: 0,
    recordId: "",
    imsi: "",
    home: HOME,
    visited: VISITED,
    service: 0,
    rat: RATS.indexOf("lte"),
    ...{ startTime: 0, duration: 0, bytesUp: 0, bytesDown: 0, events: 0, latencyMs: 0, throughputKbps: 0 },
  };
  for (let i = 1; i <= count; i++) {
    const kind = i % 3;
    r.line = i;
    r.recordId = tapRecordId(SENDER, "00001", i);
    r.imsi = `26201${String(1_000_000_000 + (i % 200_000))}`;
    r.service = SERVICES.indexOf(kind === 0 ? "data" : kind === 1 ? "voice" : "sms");
    r.startTime = base + Math.floor((i / count) * 2_591_999);
    r.duration = kind === 2 ? 0 : 1 + (i % 3600);
    r.bytesUp = kind === 0 ? 500 + ((i * 7) % 1_000_000) : 0;
    r.bytesDown = kind === 0 ? 2000 + ((i * 13) % 50_000_000) : 0;
    r.events = kind === 2 ? 1 : 0;
    yield r;
  }
}

/** In the child process: reads `file` (decoded, or decoded and mapped) and prints a TapReadRun as JSON. */
async function readOnce(file: string, map: boolean): Promise<TapReadRun> {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let n = 0;
  if (map) {
    const mapper = await TapMapper.open(file, { home: HOME, visited: VISITED, period: PERIOD });
    for await (const chunk of mapper.chunks()) {
      if (chunk.rejects.length > 0) throw new Error(`call event ${chunk.rejects[0].line}: ${chunk.rejects[0].reason}`);
      n += chunk.records.length;
    }
  } else {
    const tap = await TapFile.open(file);
    for await (const ev of tap.callEvents()) {
      if (ev.problems.length > 0) throw new Error(`call event ${ev.position}: ${ev.problems[0].message}`);
      n++;
    }
    const audit = tap.summary().audit;
    if (!audit.ok) throw new Error(`audit: ${audit.problems.join("; ")}`);
  }
  const used = process.cpuUsage(cpu);
  return {
    callEvents: n,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** One reading in a fresh process, so its peak RSS is the reading's alone. */
function readInChild(file: string, map: boolean): TapReadRun {
  const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", __filename, "--read", file, ...(map ? ["--map"] : [])], {
    encoding: "utf8",
    cwd: path.join(__dirname, "..", ".."),
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`reading ${file} failed (exit ${r.status}): ${r.stderr.trim().slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() as string) as TapReadRun;
}

/** Writes the file, reads it `runs` times each way, deletes it. */
export async function measureTap(o: {
  events: number;
  runs: number;
  log: (line: string) => void;
  keep?: boolean;
}): Promise<TapBenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-tap-bench-"));
  const file = path.join(dir, `CD${SENDER}DEU0100001`);
  try {
    const started = Date.now();
    const written = await writeTapFile(file, records(o.events), {
      sender: SENDER,
      recipient: "DEU01",
      fileSequenceNumber: 1,
      utcOffset: "-0300",
    });
    const writeSeconds = (Date.now() - started) / 1000;
    const fileMb = Math.round((written.bytes ?? 0) / 1e6);
    o.log(
      `    wrote ${o.events.toLocaleString("en-US")} call events, ${fileMb.toLocaleString("en-US")} MB, in ${writeSeconds.toFixed(1)} s`,
    );
    const decoded: TapReadRun[] = [];
    const mapped: TapReadRun[] = [];
    for (let i = 0; i < o.runs; i++) {
      // Alternating, so load on the machine hits both alike.
      decoded.push(readInChild(file, false));
      mapped.push(readInChild(file, true));
      const rate = (r: TapReadRun) => Math.round(r.callEvents / r.seconds).toLocaleString("en-US");
      o.log(
        `    run ${i + 1}/${o.runs}: decoded ${rate(decoded[i])}/s (peak RSS ${decoded[i].peakRssMb} MB), decoded and mapped ${rate(mapped[i])}/s (peak RSS ${mapped[i].peakRssMb} MB)`,
      );
    }
    for (const r of [...decoded, ...mapped])
      if (r.callEvents !== o.events) throw new Error(`read ${r.callEvents} call events of ${o.events}`);
    return {
      callEvents: o.events,
      fileMb,
      writeSeconds: Math.round(writeSeconds * 10) / 10,
      runs: o.runs,
      decodedPerSec: Math.round(median(decoded.map((r) => r.callEvents / r.seconds))),
      mappedPerSec: Math.round(median(mapped.map((r) => r.callEvents / r.seconds))),
      decodePeakRssMb: Math.max(...decoded.map((r) => r.peakRssMb)),
      mapPeakRssMb: Math.max(...mapped.map((r) => r.peakRssMb)),
      all: { decoded, mapped },
    };
  } finally {
    if (o.keep) o.log(`    kept ${file}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const read = argv.indexOf("--read");
  if (read >= 0) {
    process.stdout.write(`${JSON.stringify(await readOnce(argv[read + 1], argv.includes("--map")))}\n`);
    return;
  }
  const runs = argv.includes("--runs") ? Number(argv[argv.indexOf("--runs") + 1]) : 3;
  const events = Number(argv.find((a, i) => /^\d+$/.test(a) && argv[i - 1] !== "--runs") ?? 8_000_000);
  const r = await measureTap({ events, runs, log: (l) => console.log(l), keep: argv.includes("--keep") });
  console.log(JSON.stringify({ ...r, all: undefined }, null, 2));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
