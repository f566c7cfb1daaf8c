/**
 * The million-call-event check of fromUsage.test.ts, run in a process of its own (`node --expose-gc -r
 * ts-node/register/transpile-only test/unit/tap/millionChild.ts FILE COUNT`): memory in use is measured where
 * nothing else runs (in mocha's process, timers and caches other test files leave behind move it by tens of MB).
 * Writes COUNT call events to FILE with the TAP writer, reads them back, and prints one JSON line: what was read,
 * and memory in use after a full garbage collection every 100,000 call events.
 */
import { SERVICES } from "../../../lib/core/enums";
import { parsePlmn } from "../../../lib/core/plmn";
import { type TapWriterOptions, writeTapFile } from "../../../lib/tap/fromUsage";
import { tapRecordId } from "../../../lib/tap/recordIds";
import { TapFile } from "../../../lib/tap/tap312";
import { type ParsedRecord, RATS } from "../../../lib/usage/types";
import type { Hex } from "../../../lib/util/hex";

// Hardhat's test task loads every file under test/: this one does its work only when run as a program.
const [file, countArg] = process.argv.slice(2);
const count = Number(countArg);
const used: number[] = [];
const rss: number[] = [];
const sample = () => {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  used.push(m.heapUsed + m.external);
  rss.push(m.rss);
};
/** The file's header in these tests (fromUsage.test.ts uses the same). */
export const TAP_TEST_OPTIONS: TapWriterOptions = {
  sender: "BRAVO",
  recipient: "DEUD1",
  fileSequenceNumber: 42,
  created: new Date("2026-12-01T02:00:00Z"),
  utcOffset: "-0300",
  testData: true,
};

const svc = (name: string) => SERVICES.indexOf(name as (typeof SERVICES)[number]);
const base = Date.parse("2026-11-01T00:00:00Z") / 1000;

function* many(): Generator<ParsedRecord> {
  const r: ParsedRecord = {
    line: 2,
    recordId: "",
    imsi: "",
    home: parsePlmn("262-01") as Hex,
    visited: parsePlmn("724-05") as Hex,
    service: 0,
    rat: RATS.indexOf("lte"),
    startTime: base,
    duration: 0,
    bytesUp: 0,
    bytesDown: 0,
    events: 0,
    latencyMs: 0,
    throughputKbps: 0,
  };
  for (let i = 1; i <= count; i++) {
    const service = i % 3 === 0 ? "data" : i % 3 === 1 ? "voice" : "sms";
    r.recordId = tapRecordId("BRAVO", "00042", i);
    r.imsi = `2620100${String(i % 100_000).padStart(8, "0")}`;
    r.service = svc(service);
    r.startTime = base + Math.floor((i * 2_591_999) / count);
    r.duration = service === "sms" ? 0 : 1 + (i % 900);
    r.bytesUp = service === "data" ? i : 0;
    r.bytesDown = service === "data" ? 3 * i : 0;
    r.events = service === "sms" ? 1 : 0;
    if (i % 100_000 === 0) sample();
    yield r;
  }
}

async function main(): Promise<void> {
  if ((globalThis as { gc?: () => void }).gc === undefined) throw new Error("run with node --expose-gc");
  const started = Date.now();
  const written = await writeTapFile(file, many(), TAP_TEST_OPTIONS);
  const writeMs = Date.now() - started;
  const tap = await TapFile.open(file);
  let n = 0;
  let bad = 0;
  let volume = 0;
  for await (const ev of tap.callEvents()) {
    n++;
    if (ev.problems.length > 0 || ev.position !== n) bad++;
    volume += ev.volumeIncoming ?? 0;
    if (n % 100_000 === 0) sample();
  }
  const readMs = Date.now() - started - writeMs;
  const out = {
    written: written.callEvents,
    bytes: written.bytes,
    n,
    bad,
    auditOk: tap.summary().audit.ok,
    volume,
    used,
    rss,
    writeMs,
    readMs,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
