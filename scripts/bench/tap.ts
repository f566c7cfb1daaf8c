/**
 * TAP 3.12 decoding throughput: writes a TransferBatch of N call events (default 1,000,000: a third each
 * mobile-originated, mobile-terminated and GPRS calls, built with the BER encoder, streamed to a temporary
 * file with indefinite lengths for the batch and the call event list), then decodes it with `TapFile` from
 * the file in chunks and reports call events per second on one core, MB/s and peak RSS.
 *
 *   node --expose-gc -r ts-node/register/transpile-only scripts/bench/tap.ts [events] [--keep]
 *   (or npx ts-node --transpile-only scripts/bench/tap.ts [events]: the same without a GC before decoding)
 *
 * Then decodes it again and maps every call event to a usage record (lib/tap/map.ts: the checks, record
 * ids, charges beside each record), which is what usage:ingest and usage:tap do: call events per second
 * decoded and mapped, on one core (the target: 300,000).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { END_OF_CONTENTS, openIndefinite } from "../../lib/tap/berEncode";
import { TapFile } from "../../lib/tap/tap312";
import { TapMapper } from "../../lib/tap/map";
import { encodeAuditControl, encodeBatchHead, encodeCallEvent, type TapEventSpec } from "../../lib/tap/tapEncode";
import { T } from "../../lib/tap/tags";

const KINDS: TapEventSpec["kind"][] = ["mobileOriginatedCall", "mobileTerminatedCall", "gprsCall"];

/** The i-th generated call event: varied IMSIs, times, durations and volumes. */
function spec(i: number): TapEventSpec {
  const kind = KINDS[i % 3];
  const day = 1 + (i % 28);
  const second = i % 86_400;
  const hh = String(Math.floor(second / 3600)).padStart(2, "0");
  const mm = String(Math.floor(second / 60) % 60).padStart(2, "0");
  const ss = String(second % 60).padStart(2, "0");
  return {
    kind,
    imsi: `26201${String(1_000_000_000 + (i % 50_000)).padStart(10, "0")}`,
    local: `202603${String(day).padStart(2, "0")}${hh}${mm}${ss}`,
    offsetCode: i % 2,
    duration: kind === "gprsCall" ? 600 + (i % 3000) : 1 + (i % 900),
    teleService: i % 6 === 1 ? "21" : "11",
    volumeIncoming: 1000 + i * 7,
    volumeOutgoing: 500 + i * 3,
    charge: 100 + (i % 1000),
  };
}

/** Streams the file to `file`; returns its size and the call events' total charge. */
async function writeTap(file: string, count: number): Promise<number> {
  const out = fs.createWriteStream(file);
  const write = (b: Buffer) => (out.write(b) ? undefined : new Promise<void>((r) => out.once("drain", () => r())));
  const offsets = new Map([
    [0, "+0100"],
    [1, "+0200"],
  ]);
  const head = {
    sender: "DEUD1",
    recipient: "USAAT",
    fileSequenceNumber: "00001",
    created: "20260401000000",
    utcOffset: "+0200",
    currency: "SDR",
    tapDecimalPlaces: 5,
    offsets,
  };
  await write(Buffer.concat([openIndefinite(T.TransferBatch), encodeBatchHead(head), openIndefinite(T.CallEventDetailList)]));
  let total = 0;
  let pending: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const s = spec(i);
    total += s.charge;
    pending.push(encodeCallEvent(s));
    if (pending.length === 4096 || i === count - 1) {
      await write(Buffer.concat(pending));
      pending = [];
    }
  }
  await write(Buffer.concat([END_OF_CONTENTS, encodeAuditControl(count, total), END_OF_CONTENTS]));
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return fs.statSync(file).size;
}

/** Decodes and maps the file to usage records (home 262-01: the generated IMSIs' network), timing it. */
async function benchMapping(file: string, count: number, size: number): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const t = Date.now();
  const cpu = process.cpuUsage();
  const mapper = await TapMapper.open(file, { home: "0x62f210", visited: "0x02f810", period: 202603 });
  let records = 0;
  let rejects = 0;
  for await (const chunk of mapper.chunks()) {
    records += chunk.records.length;
    rejects += chunk.rejects.length;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  const seconds = (Date.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  if (records + rejects !== count) throw new Error(`mapped ${records} records and ${rejects} rejects of ${count} call events`);
  console.log(`decoded and mapped ${count} call events in ${seconds.toFixed(2)} s (cpu ${((used.user + used.system) / 1e6).toFixed(2)} s)`);
  console.log(
    `  ${Math.round(count / seconds).toLocaleString("en")} call events/s, ${(size / 1e6 / seconds).toFixed(1)} MB/s; ${records} records, ${rejects} rejects`,
  );
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  console.log(`  RSS ${mib(before)} MiB before, peak ${mib(peak)} MiB while mapping`);
}

async function main(): Promise<void> {
  const count = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-tap-bench-"));
  const file = path.join(dir, "CDDEUD1USAAT00001");
  try {
    let t = Date.now();
    const size = await writeTap(file, count);
    console.log(`wrote ${count} call events, ${(size / 1e6).toFixed(1)} MB, in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    t = Date.now();
    const cpu = process.cpuUsage();
    const tap = await TapFile.open(file);
    let n = 0;
    for await (const ev of tap.callEvents()) {
      if (ev.problems.length > 0) throw new Error(`call event ${ev.position}: ${ev.problems[0].message}`);
      if (++n % 65_536 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    const seconds = (Date.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    const summary = tap.summary();
    if (!summary.audit.ok || summary.callEvents !== count) throw new Error(`audit: ${summary.audit.problems.join("; ")}`);
    console.log(`decoded ${n} call events in ${seconds.toFixed(2)} s (cpu ${((used.user + used.system) / 1e6).toFixed(2)} s)`);
    console.log(`  ${Math.round(n / seconds).toLocaleString("en")} call events/s, ${(size / 1e6 / seconds).toFixed(1)} MB/s`);
    const mib = (b: number) => (b / 2 ** 20).toFixed(0);
    console.log(
      `  RSS ${mib(before)} MiB before decoding, peak ${mib(peak)} MiB while decoding; audit ${summary.audit.ok ? "passes" : "fails"}`,
    );
    await benchMapping(file, count, size);
  } finally {
    if (!process.argv.includes("--keep")) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${file}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
