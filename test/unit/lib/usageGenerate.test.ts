import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { readDevices } from "../../../lib/devices/registration";
import { InputError } from "../../../lib/core/errors";
import { parsePlmn } from "../../../lib/core/plmn";
import {
  generateUsage,
  MALFORMED_KINDS,
  MALFORMED_REJECT_CODES,
  type GenerateOptions,
  type GenerateSummary,
} from "../../../lib/usage/generate";
import { parseUsageFile } from "../../../lib/usage/parse";
import { RATS, type ParsedRecord, type Reject } from "../../../lib/usage/types";
import { failureOf } from "../../helpers/tasks";
import { SERVICES } from "../../../lib/core/enums";

const HOME = parsePlmn("262-01");
const VISITED = parsePlmn("724-05");
const PERIOD = 202611;
const POLICIES = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "fixtures", "policies.json"), "utf8")) as Record<
  string,
  { services: string[]; dailyBytes?: number }
>;

async function parseAll(file: string): Promise<{ records: ParsedRecord[]; rejects: Reject[] }> {
  const records: ParsedRecord[] = [];
  const rejects: Reject[] = [];
  for await (const chunk of parseUsageFile(file, { home: HOME, visited: VISITED, period: PERIOD })) {
    for (const r of chunk.records) records.push(r);
    for (const r of chunk.rejects) rejects.push(r);
  }
  return { records, rejects };
}

describe("lib/usage/generate", () => {
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-generate-"));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function options(name: string, extra: Partial<GenerateOptions> = {}): GenerateOptions {
    const ext = extra.format === "jsonl" ? ".jsonl" : ".csv";
    return {
      home: HOME,
      visited: VISITED,
      period: PERIOD,
      usageOut: path.join(dir, `${name}${ext}`),
      devicesOut: path.join(dir, `${name}.devices.csv`),
      ...extra,
    };
  }

  it("writes the same bytes for the same seed, and other bytes for another", () => {
    const a = generateUsage(options("a", { devices: 300, seed: 42 }));
    const b = generateUsage(options("b", { devices: 300, seed: 42 }));
    const c = generateUsage(options("c", { devices: 300, seed: 43 }));
    expect(fs.readFileSync(a.usageFile).equals(fs.readFileSync(b.usageFile))).to.equal(true);
    expect(fs.readFileSync(a.devicesFile).equals(fs.readFileSync(b.devicesFile))).to.equal(true);
    expect({ ...a, usageFile: "", devicesFile: "" }).to.deep.equal({ ...b, usageFile: "", devicesFile: "" });
    expect(fs.readFileSync(a.usageFile).equals(fs.readFileSync(c.usageFile))).to.equal(false);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
  });

  describe("what the parser finds in a generated month", () => {
    let summary: GenerateSummary;
    let records: ParsedRecord[];
    let rejects: Reject[];

    before(async () => {
      summary = generateUsage(options("month", { devices: 600, seed: 5, fraudRate: 0.02, malformedRate: 0.02 }));
      ({ records, rejects } = await parseAll(summary.usageFile));
    });

    it("rejects exactly the malformed lines, each with the code of its kind", () => {
      const expected = new Map<number, string>();
      for (const kind of MALFORMED_KINDS) {
        expect(summary.malformed[kind], kind).not.to.be.empty;
        for (const line of summary.malformed[kind]) expected.set(line, MALFORMED_REJECT_CODES[kind]);
      }
      expect(new Map(rejects.map((r) => [r.line, r.code]))).to.deep.equal(expected);
      expect(rejects.length).to.equal(expected.size);
    });

    it("accepts every other line: as many records per service as it says", () => {
      expect(records.length).to.equal(summary.records);
      expect(summary.lines).to.equal(summary.records + rejects.length);
      const byService = Object.fromEntries(SERVICES.map((s, i) => [s, records.filter((r) => r.service === i).length]));
      expect(byService).to.deep.equal(summary.recordsByService);
    });

    it("writes a devices file that device:register reads, holding every IMSI of the usage", async () => {
      const devices = await readDevices(summary.devicesFile, {
        home: HOME,
        imsiKey: new Uint8Array(32).fill(7),
        policyNames: new Set(Object.keys(POLICIES)),
      });
      expect(devices.length).to.equal(summary.devices);
      const policyOf = new Map(devices.map((d) => [d.imsi, d.policyName]));
      const byPolicy = { meter: 0, tracker: 0, drone: 0 } as Record<string, number>;
      for (const p of policyOf.values()) byPolicy[p]++;
      expect(byPolicy).to.deep.equal(summary.devicesByPolicy);
      expect(byPolicy.meter / summary.devices).to.be.within(0.6, 0.8);
      expect(byPolicy.drone).to.be.greaterThan(0);
      expect(records.every((r) => policyOf.has(r.imsi))).to.equal(true);
    });

    it("names as permanent roamers exactly the devices present every day of the month", () => {
      const present = new Map<string, Set<number>>();
      for (const r of records) {
        const d = Math.floor(r.startTime / 86400);
        if (!present.has(r.imsi)) present.set(r.imsi, new Set());
        present.get(r.imsi)!.add(d);
      }
      const everyDay = [...present].filter(([, d]) => d.size === summary.days).map(([imsi]) => imsi);
      expect(everyDay.sort()).to.deep.equal([...summary.permanentRoamers].sort());
      expect(summary.permanentRoamers).to.have.length(12); // 2% of 600
    });

    it("names as out of policy exactly the meters that call, send SMS or exceed their daily cap", async () => {
      const devices = await readDevices(summary.devicesFile, {
        home: HOME,
        imsiKey: new Uint8Array(32).fill(7),
        policyNames: new Set(Object.keys(POLICIES)),
      });
      const found: { imsi: string; kind: string; records: number }[] = [];
      for (const d of devices) {
        const mine = records.filter((r) => r.imsi === d.imsi);
        const policy = POLICIES[d.policyName];
        const perDay = new Map<number, number>();
        for (const r of mine)
          if (r.service === 0)
            perDay.set(Math.floor(r.startTime / 86400), (perDay.get(Math.floor(r.startTime / 86400)) ?? 0) + r.bytesUp + r.bytesDown);
        const voice = mine.filter((r) => r.service === 2).length;
        const sms = mine.filter((r) => r.service === 1).length;
        const overCap = policy.dailyBytes !== undefined && [...perDay.values()].some((b) => b > policy.dailyBytes!);
        if (voice && !policy.services.includes("voice")) found.push({ imsi: d.imsi, kind: "voice", records: voice });
        if (sms && !policy.services.includes("sms")) found.push({ imsi: d.imsi, kind: "sms", records: sms });
        if (overCap)
          found.push({
            imsi: d.imsi,
            kind: "over-cap",
            records: mine.filter((r) => r.service === 0 && r.rat === RATS.indexOf("lte")).length,
          });
      }
      expect(found).to.deep.equal(summary.outOfPolicy);
      expect(summary.outOfPolicy).to.have.length(12); // 2% of 600
      expect(new Set(summary.outOfPolicy.map((d) => d.kind))).to.deep.equal(new Set(["voice", "sms", "over-cap"]));
    });

    it("writes records in time order, with QoS figures on most data records", () => {
      const outOfOrder = records.findIndex((r, i) => i > 0 && r.startTime < records[i - 1].startTime);
      expect(outOfOrder).to.equal(-1);
      const data = records.filter((r) => r.service === 0);
      const measured = data.filter((r) => r.latencyMs > 0);
      expect(measured.length / data.length).to.be.within(0.85, 0.95);
      expect(measured.every((r) => r.throughputKbps > 0)).to.equal(true);
      const nbIot = measured.filter((r) => r.rat === 0);
      expect(nbIot.every((r) => r.latencyMs >= 1600 && r.throughputKbps <= 60)).to.equal(true);
      const nr = measured.filter((r) => r.rat === 3);
      expect(nr.every((r) => r.latencyMs <= 25 && r.throughputKbps >= 50_000)).to.equal(true);
    });
  });

  it("writes the same records as JSON lines for the same seed", async () => {
    const csv = generateUsage(options("same", { devices: 200, seed: 9, malformedRate: 0.01 }));
    const json = generateUsage(options("same", { devices: 200, seed: 9, malformedRate: 0.01, format: "jsonl" }));
    expect(json.usageFile.endsWith(".jsonl")).to.equal(true);
    expect(fs.readFileSync(json.usageFile, "utf8").split("\n")[0]).to.match(/^\{"recordId":/);
    const a = await parseAll(csv.usageFile);
    const b = await parseAll(json.usageFile);
    // (JSON text: chai's deep equal is slow on thousands of objects.)
    expect(JSON.stringify(b.records.map((r) => ({ ...r, line: r.line + 1 })))).to.equal(JSON.stringify(a.records));
    expect(a.records.length).to.equal(csv.records);
    expect(b.rejects.map((r) => [r.line + 1, r.code])).to.deep.equal(a.rejects.map((r) => [r.line, r.code]));
    expect(json.malformed.truncated.map((l) => l + 1)).to.deep.equal(csv.malformed.truncated);
  });

  it("sizes the fleet from a target number of records", () => {
    const s = generateUsage(options("target", { records: 20_000, seed: 1 }));
    expect(s.records).to.be.within(17_000, 23_000);
    expect(s.devices).to.be.within(300, 500);
  });

  it("refuses options it cannot honour", () => {
    expect(() => generateUsage(options("x", { devices: 10, records: 10 }))).to.throw(InputError, /not both/);
    expect(() => generateUsage(options("x"))).to.throw(InputError, /give the number of devices or of records/);
    expect(() => generateUsage(options("x", { devices: 0 }))).to.throw(InputError, /at least 1/);
    expect(() => generateUsage(options("x", { devices: 10, imsiPrefix: "26202" }))).to.throw(InputError, /IMSI prefix "26202"/);
    expect(() => generateUsage(options("x", { devices: 1000, imsiPrefix: "2620112345678" }))).to.throw(InputError, /do not fit/);
    expect(() => generateUsage(options("x", { devices: 10, fraudRate: 2 }))).to.throw(
      InputError,
      /fraudRate must be a number from 0 to 0.5/,
    );
    expect(() => generateUsage(options("x", { devices: 10, period: 202600 }))).to.throw(InputError, /period 202600/);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("x."))).to.deep.equal([]);
  });

  describe("usage:generate task", () => {
    const quiet = process.env.ROAMLEDGER_QUIET;

    before(() => {
      process.env.ROAMLEDGER_QUIET = "1";
    });

    after(() => {
      if (quiet === undefined) delete process.env.ROAMLEDGER_QUIET;
      else process.env.ROAMLEDGER_QUIET = quiet;
    });

    it("writes the usage, devices and summary files", async () => {
      const out = path.join(dir, "task", "usage.jsonl");
      const devicesOut = path.join(dir, "task", "devices.csv");
      const summaryFile = path.join(dir, "task-summary.json");
      await hre.run("usage:generate", {
        home: "262-01",
        visited: "724-05",
        period: "2026-11",
        devices: 50,
        out,
        devicesOut,
        seed: 3,
        summary: summaryFile,
      });
      const summary = JSON.parse(fs.readFileSync(summaryFile, "utf8")) as GenerateSummary;
      expect(summary).to.include({ format: "jsonl", devices: 50, seed: 3, days: 30 });
      expect((await parseAll(out)).records).to.have.length(summary.records);
      expect(fs.readFileSync(devicesOut, "utf8").split("\n")[0]).to.equal("imsi,class,policy");
    });

    it("explains bad arguments", async () => {
      const base = {
        home: "262-01",
        visited: "724-05",
        period: "2026-11",
        records: 100,
        out: path.join(dir, "t.csv"),
        devicesOut: path.join(dir, "t.devices.csv"),
        seed: 1,
      };
      // The same periods, and the same message, as usage:ingest.
      expect(await failureOf(hre.run("usage:generate", { ...base, period: "2026-13" }))).to.match(
        /--period: "2026-13" is not a billing period[\s\S]*YYYY-MM/,
      );
      expect(await failureOf(hre.run("usage:generate", { ...base, period: "1999-12" }))).to.match(/years 2000 to 2399/);
      expect(await failureOf(hre.run("usage:generate", { ...base, home: "2620" }))).to.match(/--home: "2620" is not a PLMN id/);
      expect(await failureOf(hre.run("usage:generate", { ...base, format: "xml" }))).to.match(/--format xml is not csv, jsonl or tap/);
      expect(await failureOf(hre.run("usage:generate", { ...base, devicesOut: base.out }))).to.match(/name the same file/);
      expect(fs.existsSync(base.out)).to.equal(false);
    });
  });
});
