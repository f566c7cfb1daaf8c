import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { SERVICES } from "../../../lib/core/enums";
import { InputError } from "../../../lib/core/errors";
import { parsePlmn } from "../../../lib/core/plmn";
import { convertTap } from "../../../lib/tap/convert";
import { writeTapFile } from "../../../lib/tap/fromUsage";
import { TapMapper } from "../../../lib/tap/map";
import { tapRecordId } from "../../../lib/tap/recordIds";
import { TapFile } from "../../../lib/tap/tap312";
import { defaultTadig, defaultUtcOffset, type GenerateOptions, type GenerateSummary, generateUsage } from "../../../lib/usage/generate";
import { parseUsageFile } from "../../../lib/usage/parse";
import { RATS, type ParsedRecord } from "../../../lib/usage/types";
import type { Hex } from "../../../lib/util/hex";
import { failureOf } from "../../helpers/tasks";

const HOME = parsePlmn("262-01") as Hex;
const VISITED = parsePlmn("724-05") as Hex;
const PERIOD = 202611;
const SMS = SERVICES.indexOf("sms");
const DATA = SERVICES.indexOf("data");
const VOICE = SERVICES.indexOf("voice");

async function parseAll(file: string): Promise<ParsedRecord[]> {
  const records: ParsedRecord[] = [];
  for await (const chunk of parseUsageFile(file, { home: HOME, visited: VISITED, period: PERIOD })) {
    expect(chunk.rejects).to.deep.equal([]);
    for (const r of chunk.records) records.push(r);
  }
  return records;
}

/** What a record says that TAP carries (its id aside). */
const usage = (r: ParsedRecord) => [r.imsi, r.service, r.startTime, r.duration, r.bytesUp, r.bytesDown, r.events].join();

describe("usage:generate --format tap (lib/usage/generate/tapFile.ts)", () => {
  let dir: string;
  const options = (name: string, extra: Partial<GenerateOptions> = {}): GenerateOptions => ({
    home: HOME,
    visited: VISITED,
    period: PERIOD,
    devices: 300,
    seed: 11,
    usageOut: path.join(dir, `${name}.tap`),
    devicesOut: path.join(dir, `${name}.devices.csv`),
    ...extra,
  });

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-tapgen-"));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("derives TADIG codes and UTC offsets from MCC-MNC", () => {
    expect([defaultTadig("262-01"), defaultTadig("724-05"), defaultTadig("310-410"), defaultTadig("901-70")]).to.deep.equal([
      "DEU01",
      "BRA05",
      "USA10",
      "JAB70",
    ]);
    expect([defaultUtcOffset("724-05"), defaultUtcOffset("404-45"), defaultUtcOffset("901-70")]).to.deep.equal(["-0300", "+0530", "+0000"]);
  });

  describe("a generated month", () => {
    let summary: GenerateSummary;
    let csvRecords: ParsedRecord[];
    const csvOut = () => path.join(dir, "month.csv");

    before(async () => {
      summary = generateUsage(options("month", { tap: { csvOut: csvOut() } }));
      csvRecords = await parseAll(csvOut());
    });

    it("is the CSV generator's usage of the same seed, as TAP carries it", async () => {
      const plain = generateUsage(options("plain", { usageOut: path.join(dir, "plain.csv"), malformedRate: 0 }));
      const expected: string[] = [];
      for (const r of await parseAll(plain.usageFile)) {
        if (r.service !== DATA && r.service !== SMS && r.service !== VOICE) continue;
        // One message per SMS record, the file's radio access technology, no QoS.
        const n = r.service === SMS ? r.events : 1;
        for (let k = 0; k < n; k++) expected.push(usage({ ...r, events: r.service === SMS ? 1 : 0 }));
      }
      expect(csvRecords.map(usage)).to.deep.equal(expected);
      expect(summary.tap?.signallingLeftOut).to.equal(plain.recordsByService.signalling);
      expect(summary.records).to.equal(expected.length);
      expect(summary.recordsByService.signalling).to.equal(0);
      expect(csvRecords.every((r) => r.rat === RATS.indexOf("lte") && r.latencyMs === 0 && r.throughputKbps === 0)).to.equal(true);
      expect(summary.devices).to.equal(plain.devices);
      expect(summary.outOfPolicy.map((d) => d.imsi)).to.deep.equal(plain.outOfPolicy.map((d) => d.imsi));
    });

    it("decodes to the records of its CSV, ids by position, and passes the audit", async () => {
      expect(summary.format).to.equal("tap");
      expect(summary.tap).to.include({ sender: "BRA05", recipient: "DEU01", fileSequenceNumber: "00001", callEvents: csvRecords.length });
      const tap = await TapFile.open(summary.usageFile);
      expect(tap.header).to.deep.include({ sender: "BRA05", recipient: "DEU01", fileSequenceNumber: "00001", releaseVersion: 12 });
      expect([...tap.header.utcOffsets]).to.deep.equal([[0, "-0300"]]);
      const mismatches: string[] = [];
      for await (const ev of tap.callEvents()) {
        const r = csvRecords[ev.position - 1];
        const service = ev.kind === "gprsCall" ? DATA : ev.teleServiceCodes[0] === "22" ? SMS : VOICE;
        const got = [ev.imsi, service, ev.start?.utc, ev.duration, ev.volumeOutgoing ?? 0, ev.volumeIncoming ?? 0].join();
        const want = [
          r.imsi,
          r.service,
          `${new Date(r.startTime * 1000).toISOString().slice(0, 19)}Z`,
          r.duration,
          r.bytesUp,
          r.bytesDown,
        ].join();
        if (got !== want || r.recordId !== tapRecordId("BRA05", "00001", ev.position) || ev.problems.length > 0) {
          mismatches.push(`${ev.position}: ${got} / ${want} ${r.recordId}`);
        }
      }
      expect(mismatches.slice(0, 5)).to.deep.equal([]);
      const s = tap.summary();
      expect(s.callEvents).to.equal(csvRecords.length);
      expect(s.audit.ok, s.audit.problems.join("; ")).to.equal(true);
      expect(s.audit.declared?.totalCharge).to.equal(summary.tap?.totalCharge);
    });

    it("is what the TAP writer makes of its CSV (CSV -> TAP), byte for byte; the same seed gives the same bytes", async () => {
      const again = generateUsage(options("again", { tap: { csvOut: path.join(dir, "again.csv") } }));
      expect(fs.readFileSync(again.usageFile).equals(fs.readFileSync(summary.usageFile))).to.equal(true);
      expect(fs.readFileSync(path.join(dir, "again.csv"), "utf8")).to.equal(fs.readFileSync(csvOut(), "utf8"));
      const file = path.join(dir, "from-csv.tap");
      const written = await writeTapFile(file, csvRecords, {
        sender: "BRA05",
        recipient: "DEU01",
        fileSequenceNumber: 1,
        created: new Date(Date.UTC(2026, 11, 1)),
        utcOffset: "-0300",
        source: csvOut(),
      });
      expect(written.renamedIds).to.equal(0);
      expect(fs.readFileSync(file).equals(fs.readFileSync(summary.usageFile))).to.equal(true);
    });

    it("round trip: CSV -> TAP -> CSV gives the same file (the TAP writer, then usage:tap's conversion)", async () => {
      const file = path.join(dir, "round-trip.tap");
      await writeTapFile(file, csvRecords, { sender: "BRA05", recipient: "DEU01", fileSequenceNumber: 1, utcOffset: "-0300" });
      const back = path.join(dir, "round-trip.csv");
      const conversion = await convertTap({ file, out: back, home: HOME, visited: VISITED, period: PERIOD });
      expect(conversion.summary.audit.ok).to.equal(true);
      expect(conversion.rejects).to.deep.include({ total: 0 });
      expect(fs.readFileSync(back, "utf8")).to.equal(fs.readFileSync(csvOut(), "utf8"));
      // And record by record, as the mapper gives them (the CSV's line is the position + 1, its header).
      const mapper = await TapMapper.open(file, { home: HOME, visited: VISITED, period: PERIOD });
      const records: ParsedRecord[] = [];
      for await (const chunk of mapper.chunks()) records.push(...chunk.records);
      expect(JSON.stringify(records.map((r) => ({ ...r, line: r.line + 1 })))).to.equal(JSON.stringify(csvRecords));
    });
  });

  it("refuses malformed lines, an unknown radio and bad TAP numbering, leaving no file", () => {
    expect(() => generateUsage(options("bad", { malformedRate: 0.01 }))).to.throw(
      InputError,
      /malformed-line rate of 0.01 with a TAP file/,
    );
    expect(() => generateUsage(options("bad", { tap: { sequence: 0 } }))).to.throw(InputError, /file sequence number 0/);
    expect(() => generateUsage(options("bad", { tap: { sender: "B5" } }))).to.throw(InputError, /"B5" is not a TADIG code/);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("bad."))).to.deep.equal([]);
  });

  describe("the task", () => {
    // Task output off while the tests run, as it was after.
    const saved = process.env.ROAMLEDGER_QUIET;
    before(() => Object.assign(process.env, { ROAMLEDGER_QUIET: "1" }));
    after(() => (saved === undefined ? delete process.env.ROAMLEDGER_QUIET : Object.assign(process.env, { ROAMLEDGER_QUIET: saved })));

    const base = () => ({
      home: "262-01",
      visited: "724-05",
      period: "2026-11",
      devices: 40,
      out: path.join(dir, "task", "CDBRAVODEUD100007"),
      devicesOut: path.join(dir, "task", "devices.csv"),
      seed: 2,
      testData: false,
    });

    it("writes a TAP file with the sender, recipient, sequence and flags given", async () => {
      const csvOut = path.join(dir, "task", "records.csv");
      await hre.run("usage:generate", {
        ...base(),
        format: "tap",
        sender: "BRAVO",
        recipient: "DEUD1",
        sequence: 7,
        utcOffset: "+0100",
        rat: "nb-iot",
        testData: true,
        csvOut,
      });
      const tap = await TapFile.open(base().out);
      expect(tap.header).to.deep.include({ sender: "BRAVO", recipient: "DEUD1", fileSequenceNumber: "00007", fileTypeIndicator: "T" });
      let n = 0;
      for await (const _ of tap.callEvents()) n++;
      expect(tap.summary().audit.ok).to.equal(true);
      const lines = fs.readFileSync(csvOut, "utf8").trim().split("\n");
      expect(lines).to.have.length(n + 1);
      expect(lines[1]).to.match(/^TAP-BRAVO-00007-1,\d{15},262-01,724-05,\w+,2026-11-\d\dT[\d:]{8}Z,\d+,\d+,\d+,[01],nb-iot,0,0$/);
    });

    it("explains bad arguments", async () => {
      const bad = { ...base(), out: path.join(dir, "task", "bad.tap") };
      expect(await failureOf(hre.run("usage:generate", { ...bad, format: "xml" }))).to.match(/--format xml is not csv, jsonl or tap/);
      expect(await failureOf(hre.run("usage:generate", { ...bad, format: "csv", sender: "BRAVO" }))).to.match(
        /--sender is for TAP files[\s\S]*--format tap/,
      );
      expect(await failureOf(hre.run("usage:generate", { ...bad, format: "csv", csvOut: "x.csv" }))).to.match(/--csv-out is for TAP files/);
      expect(await failureOf(hre.run("usage:generate", { ...bad, format: "tap", rat: "6g" }))).to.match(
        /--rat 6g is not a radio access technology/,
      );
      expect(await failureOf(hre.run("usage:generate", { ...bad, format: "tap", sequence: 100_000 }))).to.match(
        /--sequence: file sequence number 100000 is not from 1 to 99999/,
      );
      expect(await failureOf(hre.run("usage:generate", { ...bad, format: "tap", utcOffset: "1" }))).to.match(
        /UTC offset "1" is not \+hhmm/,
      );
      expect(await failureOf(hre.run("usage:generate", { ...bad, format: "tap", malformedRate: 0.1 }))).to.match(
        /--malformed-rate: a malformed-line rate of 0.1 with a TAP file/,
      );
      expect(fs.existsSync(bad.out)).to.equal(false);
    });
  });
});
