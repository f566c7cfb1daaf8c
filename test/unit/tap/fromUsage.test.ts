import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { SERVICES } from "../../../lib/core/enums";
import { InputError } from "../../../lib/core/errors";
import { parsePlmn } from "../../../lib/core/plmn";
import { TapBatchEncoder, type TapWriterOptions, writeTapFile } from "../../../lib/tap/fromUsage";
import { TAP_TEST_OPTIONS } from "./millionChild";
import { tapRecordId } from "../../../lib/tap/recordIds";
import { TapFile } from "../../../lib/tap/tap312";
import { RATS, type ParsedRecord } from "../../../lib/usage/types";
import type { Hex } from "../../../lib/util/hex";

const HOME = parsePlmn("262-01") as Hex;
const VISITED = parsePlmn("724-05") as Hex;
const LTE = RATS.indexOf("lte");
const svc = (name: string) => SERVICES.indexOf(name as (typeof SERVICES)[number]);
const unix = (iso: string) => Date.parse(iso) / 1000;
const iso = (t: number) => `${new Date(t * 1000).toISOString().slice(0, 19)}Z`;

const OPTIONS = TAP_TEST_OPTIONS;

function record(position: number, service: string, fields: Partial<ParsedRecord> = {}): ParsedRecord {
  return {
    line: position + 1,
    recordId: tapRecordId("BRAVO", "00042", position),
    imsi: "262010000000001",
    home: HOME,
    visited: VISITED,
    service: svc(service),
    rat: LTE,
    startTime: unix("2026-11-10T12:00:00Z"),
    duration: 0,
    bytesUp: 0,
    bytesDown: 0,
    events: service === "sms" ? 1 : 0,
    latencyMs: 0,
    throughputKbps: 0,
    ...fields,
  };
}

/** Voice, SMS and data records of a month, times chosen to cross midnight and the month's ends in local time. */
function sampleRecords(): ParsedRecord[] {
  return [
    record(1, "voice", { startTime: unix("2026-11-01T01:30:00Z"), duration: 125 }),
    record(2, "sms", { imsi: "26201123456789", startTime: unix("2026-11-01T02:59:59Z") }),
    record(3, "data", { startTime: unix("2026-11-15T23:59:59Z"), duration: 600, bytesUp: 1234, bytesDown: 987_654_321 }),
    record(4, "data", { imsi: "262019999999999", startTime: unix("2026-11-30T23:00:00Z"), duration: 0, bytesUp: 0, bytesDown: 0 }),
    record(5, "voice", { startTime: unix("2026-11-30T23:59:59Z"), duration: 3600 }),
  ];
}

describe("lib/tap/fromUsage: usage records -> TAP 3.12", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-tapgen-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes a file TapFile reads back as the same records, with its header and a passing audit", async () => {
    const records = sampleRecords();
    const file = path.join(dir, "CDBRAVODEUD100042");
    const written = await writeTapFile(file, records, OPTIONS);
    expect(written).to.include({ records: 5, callEvents: 5, fileSequenceNumber: "00042", renamedIds: 0 });
    expect(written.callEventsByService).to.deep.equal({ voice: 2, sms: 1, data: 2 });
    expect([written.earliestCall, written.latestCall]).to.deep.equal(["2026-11-01T01:30:00Z", "2026-11-30T23:59:59Z"]);

    const tap = await TapFile.open(file);
    expect(tap.header).to.deep.include({
      kind: "transferBatch",
      sender: "BRAVO",
      recipient: "DEUD1",
      fileSequenceNumber: "00042",
      specificationVersion: 3,
      releaseVersion: 12,
      fileTypeIndicator: "T",
    });
    expect(tap.header.fileCreation).to.deep.equal({ local: "20261130230000", utcOffset: "-0300", utc: "2026-12-01T02:00:00Z" });
    expect(tap.header.accounting).to.deep.include({ localCurrency: "EUR", tapCurrency: "SDR", tapDecimalPlaces: 5 });
    expect(tap.header.accounting?.exchangeRates).to.deep.equal([{ code: 1, numberOfDecimalPlaces: 6, rate: 1_200_000 }]);
    expect([...tap.header.utcOffsets]).to.deep.equal([[0, "-0300"]]);
    expect(tap.header.recEntities).to.deep.equal([
      { code: 1, type: 1, id: "BRAVOMSC1" },
      { code: 2, type: 4, id: "BRAVOSGSN1" },
    ]);

    const events = [];
    for await (const ev of tap.callEvents()) events.push(ev);
    expect(events.map((ev) => ev.problems)).to.deep.equal(records.map(() => []));
    const back = events.map((ev) => ({
      position: ev.position,
      kind: ev.kind,
      imsi: ev.imsi,
      utc: ev.start?.utc,
      duration: ev.duration,
      teleServiceCodes: ev.teleServiceCodes,
      bytesUp: ev.volumeOutgoing,
      bytesDown: ev.volumeIncoming,
    }));
    expect(back).to.deep.equal(
      records.map((r, i) => ({
        position: i + 1,
        kind: r.service === svc("data") ? "gprsCall" : "mobileOriginatedCall",
        imsi: r.imsi,
        utc: iso(r.startTime),
        duration: r.duration,
        teleServiceCodes: r.service === svc("voice") ? ["11"] : r.service === svc("sms") ? ["22"] : [],
        bytesUp: r.service === svc("data") ? r.bytesUp : undefined,
        bytesDown: r.service === svc("data") ? r.bytesDown : undefined,
      })),
    );
    // Local time in the visited network's offset: 01:30 UTC on Nov 1 is 22:30 on Oct 31 at -0300.
    expect(events[0].start).to.deep.include({ local: "20261031223000", utcOffsetCode: 0 });
    // Charges from the rates (SDR, 5 decimals): 125 s at 0.05/min, one SMS at 0.01, 987,655,555 bytes at 0.005/MB.
    expect(
      events.map((ev) => ev.charges.map((c) => [c.chargedItem, c.chargeType, c.charge, c.chargeableUnits, c.exchangeRateCode])),
    ).to.deep.equal([
      [["D", "00", 10_417, 125, 1]],
      [["E", "00", 1000, 1, 1]],
      [["X", "00", 493_828, 987_655_555, 1]],
      [["X", "00", 0, 0, 1]],
      [["D", "00", 300_000, 3600, 1]],
    ]);
    expect(events.map((ev) => ev.recEntityCode)).to.deep.equal([1, 1, 2, 2, 1]);

    const summary = tap.summary();
    expect(summary.audit.problems).to.deep.equal([]);
    expect(summary.audit.ok).to.equal(true);
    expect(summary.audit.declared).to.deep.include({ callEventDetailsCount: 5, totalCharge: written.totalCharge, totalTaxValue: 0 });
    expect(written.totalCharge).to.equal(10_417 + 1000 + 493_828 + 300_000);
    expect(summary.audit.declared?.earliestCall).to.deep.equal({
      local: "20261031223000",
      utcOffset: "-0300",
      utc: "2026-11-01T01:30:00Z",
    });
    expect(summary.audit.declared?.latestCall).to.deep.equal({ local: "20261130205959", utcOffset: "-0300", utc: "2026-11-30T23:59:59Z" });
    expect(summary.unknownTags).to.equal(0);
  });

  it("streams: TransferBatch and CallEventDetailList have the indefinite length form", async () => {
    const file = path.join(dir, "indefinite");
    await writeTapFile(file, sampleRecords(), OPTIONS);
    const bytes = fs.readFileSync(file);
    // APPLICATION 1 constructed (0x61), length 0x80; the file ends with the list's and the batch's 00 00.
    expect([...bytes.subarray(0, 2)]).to.deep.equal([0x61, 0x80]);
    const list = bytes.indexOf(Buffer.from([0x63, 0x80]));
    expect(list).to.be.greaterThan(2);
    expect([...bytes.subarray(-2)]).to.deep.equal([0, 0]);
    // The encoder's parts, written by hand, give the same bytes.
    const enc = new TapBatchEncoder(OPTIONS);
    const parts = [enc.head()];
    for (const r of sampleRecords()) enc.add(r);
    parts.push(enc.take(), enc.tail());
    expect(Buffer.concat(parts).equals(bytes)).to.equal(true);
  });

  it("refuses what TAP cannot carry, naming the record, and leaves no file", async () => {
    const cases: [Omit<Partial<ParsedRecord>, "service"> & { service?: string }, RegExp][] = [
      [{ service: "signalling", events: 4 }, /TAP has no call event for service signalling/],
      [{ rat: RATS.indexOf("nb-iot") }, /rat nb-iot: TAP 3.12 does not carry the radio access technology, and this file's is lte/],
      [{ latencyMs: 40, throughputKbps: 5000 }, /latency or throughput/],
      [{ service: "sms", events: 3 }, /an SMS record of 3 messages/],
      [{ service: "voice", duration: 10, bytesUp: 5 }, /a voice record with events or bytes/],
      [{ visited: parsePlmn("724-06") as Hex }, /pair 724-06 -> 262-01 is not the file's \(724-05 -> 262-01\)/],
    ];
    for (const [fields, message] of cases) {
      const file = path.join(dir, "refused");
      const { service = "data", ...rest } = fields;
      const bad = record(2, service, { line: 7, bytesUp: service === "data" ? 10 : 0, ...rest });
      const records = [record(1, "data", { bytesUp: 1 }), bad];
      const error = await writeTapFile(file, records, { ...OPTIONS, source: "usage.csv" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, String(message)).to.be.instanceOf(InputError);
      expect((error as Error).message).to.match(message);
      expect((error as Error).message).to.match(/^usage\.csv:7: record TAP-BRAVO-00042-2: /);
      expect(fs.readdirSync(dir).filter((f) => f.startsWith("refused"))).to.deep.equal([]);
    }
  });

  it("splits an SMS record of N messages into N call events when asked", async () => {
    const file = path.join(dir, "split");
    const records = [record(1, "sms", { events: 3 }), record(2, "voice", { duration: 60 })];
    const written = await writeTapFile(file, records, { ...OPTIONS, sms: "split" });
    expect(written).to.include({ records: 2, callEvents: 4, renamedIds: 2 });
    const tap = await TapFile.open(file);
    const kinds = [];
    for await (const ev of tap.callEvents()) kinds.push(ev.teleServiceCodes.join());
    expect(kinds).to.deep.equal(["22", "22", "22", "11"]);
    expect(tap.summary().audit.ok).to.equal(true);
  });

  it("explains bad options", () => {
    const bad: [Partial<TapWriterOptions>, RegExp][] = [
      [{ sender: "BRA" }, /sender: "BRA" is not a TADIG code/],
      [{ recipient: "deud1" }, /recipient: "deud1" is not a TADIG code/],
      [{ fileSequenceNumber: 0 }, /file sequence number 0 is not from 1 to 99999/],
      [{ fileSequenceNumber: 100_000 }, /not from 1 to 99999/],
      [{ utcOffset: "+1" }, /UTC offset "\+1" is not \+hhmm/],
      [{ tapDecimalPlaces: 7 }, /TapDecimalPlaces 7/],
    ];
    for (const [o, message] of bad) expect(() => new TapBatchEncoder({ ...OPTIONS, ...o })).to.throw(InputError, message);
  });

  it("writes and reads back a million call events with flat memory", async function () {
    this.timeout(180_000);
    const count = Number(process.env.ROAMLEDGER_TAP_TEST_EVENTS ?? 1_000_000);
    const file = path.join(dir, "million");
    // In a process of its own (test/unit/tap/millionChild.ts): memory in use after a full garbage collection
    // (heap, Buffers), every 100,000 call events, where nothing but the writer and the reader runs.
    const child = spawnSync(
      process.execPath,
      ["--expose-gc", "-r", "ts-node/register/transpile-only", path.join(__dirname, "millionChild.ts"), file, String(count)],
      { encoding: "utf8", env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" }, maxBuffer: 1 << 20 },
    );
    expect(child.status, child.stderr).to.equal(0);
    const r = JSON.parse(child.stdout.trim().split("\n").pop() as string) as {
      written: number;
      bytes: number;
      n: number;
      bad: number;
      auditOk: boolean;
      volume: number;
      used: number[];
      rss: number[];
      writeMs: number;
      readMs: number;
    };
    expect([r.written, r.n, r.bad, r.auditOk]).to.deep.equal([count, count, 0, true]);
    const third = Math.floor(count / 3);
    expect(r.volume).to.equal(3 * 3 * ((third * (third + 1)) / 2));
    // Flat: memory in use does not grow with the file (about 120 bytes per call event): a writer or reader that
    // kept the file, or the call events, would add at least its size.
    const growthMb = (Math.max(...r.used) - Math.min(...r.used)) / 2 ** 20;
    const fileMb = r.bytes / 2 ** 20;
    const mib = (b: number) => (b / 2 ** 20).toFixed(0);
    console.log(
      `      ${count.toLocaleString("en-US")} call events, ${fileMb.toFixed(0)} MiB: written in ${(r.writeMs / 1000).toFixed(1)} s, ` +
        `read in ${(r.readMs / 1000).toFixed(1)} s; in use after GC ${mib(Math.min(...r.used))} to ${mib(Math.max(...r.used))} MiB, ` +
        `peak RSS ${mib(Math.max(...r.rss))} MiB (a process of its own)`,
    );
    expect(fileMb).to.be.greaterThan(count / 10_000);
    expect(growthMb).to.be.lessThan(Math.min(32, fileMb / 3));
    fs.rmSync(file);
  });
});
