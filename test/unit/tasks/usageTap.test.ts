import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ingestWorld, type IngestWorld, writeUsageKeystores } from "../../helpers/ingest";
import { captured, failureOf, FROM, useDeploymentForTasks } from "../../helpers/tasks";
import { formatPeriod } from "../../../lib/core/period";
import { parseUsageFile } from "../../../lib/usage/parse";
import { SERVICES } from "../../../lib/core/enums";
import type { TapEventSpec } from "../../../lib/tap/tapEncode";
import { PLMN } from "../../helpers/fixtures";
import { buildTap } from "../tap/tapFiles";

async function world(): Promise<IngestWorld> {
  const w = await ingestWorld({ devices: 40, seed: 17 });
  return w;
}

/** CCYYMMDDhhmmss of unix seconds, in UTC (the files' offset code 0 is +0000). */
function local(t: number): string {
  return new Date(t * 1000).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** The generated month's voice, SMS and data records as TAP call events (eventCount 1 per SMS), up to `max`. */
async function tapEventsOf(w: IngestWorld, max: number): Promise<TapEventSpec[]> {
  const specs: TapEventSpec[] = [];
  for await (const chunk of parseUsageFile(w.generated.usageFile, { home: PLMN.DE, visited: PLMN.BR, period: w.period })) {
    for (const r of chunk.records) {
      const service = SERVICES[r.service];
      if (specs.length >= max || service === "signalling" || (service === "sms" && r.events !== 1)) continue;
      const base = { imsi: r.imsi, local: local(r.startTime), offsetCode: 0, charge: 100 + (specs.length % 50) };
      if (service === "data") {
        specs.push({ ...base, kind: "gprsCall", duration: r.duration, volumeIncoming: r.bytesDown, volumeOutgoing: r.bytesUp });
      } else {
        specs.push({
          ...base,
          kind: "mobileOriginatedCall",
          duration: service === "sms" ? 0 : r.duration,
          teleService: service === "sms" ? "21" : "11",
        });
      }
    }
  }
  return specs;
}

const UTC = new Map([[0, "+0000"]]);

describe("tasks: usage:tap, and usage:ingest of a TAP file", function () {
  let w: IngestWorld;
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>>;
  let store: string;
  let specs: TapEventSpec[];
  let period: string;

  beforeEach(async function () {
    w = (await loadFixture(world)).freshLocal();
    env = await useDeploymentForTasks(w.c);
    writeUsageKeystores(w, process.env.ROAMLEDGER_HOME!);
    store = path.join(env.dir, "store");
    period = formatPeriod(w.period);
    await hre.run("carrier:tadig", { add: "DEUD1", from: FROM.de });
    await hre.run("carrier:tadig", { add: "BRAVO", from: FROM.br });
    specs = await tapEventsOf(w, 400);
  });
  afterEach(() => env.cleanup());

  const tapFile = (name: string, o: Parameters<typeof buildTap>[1] = {}) => {
    const file = path.join(env.dir, name);
    fs.writeFileSync(file, buildTap(specs, { sender: "BRAVO", recipient: "DEUD1", offsets: UTC, ...o }));
    return file;
  };

  it("usage:tap converts to a CSV usage:ingest takes, writes the charges and reports TAP's charge beside RoamLedger's rating", async function () {
    const file = tapFile("CDBRAVODEUD100001");
    const out = path.join(env.dir, "tap.csv");
    const text = await captured(() => hre.run("usage:tap", { file, home: "262-01", period, out, from: FROM.br }));
    expect(text).to.contain("sender BRAVO (724-05), recipient DEUD1 (262-01), checked on chain");
    expect(text).to.match(/AuditControlInfo: passes/);
    expect(text).to.match(/voice: TAP \d+\.\d{3} SDR \(tax 0\.000 SDR, discount 0\.000 SDR\); RoamLedger [\d.]+ RLST \(class 1\), /);
    const lines = fs.readFileSync(out, "utf8").trim().split("\n");
    expect(lines[0]).to.equal(
      "recordId,imsi,homePlmn,visitedPlmn,service,callEventStartTimeStamp,totalCallEventDuration,dataVolumeOutgoing,dataVolumeIncoming,eventCount,rat,latencyMs,throughputKbps",
    );
    expect(lines).to.have.length(specs.length + 1);
    expect(lines[1]).to.match(/^TAP-BRAVO-00001-1,\d{15},262-01,724-05,(voice|sms|data),/);
    const charges = fs.readFileSync(`${out}.charges.csv`, "utf8").trim().split("\n");
    expect(charges).to.have.length(specs.length + 1);
    expect(charges[1]).to.equal(`TAP-BRAVO-00001-1,${lines[1].split(",")[4]},${specs[0].charge},0,0,SDR,3,,,`);
    expect(fs.readFileSync(`${file}.rejects.csv`, "utf8")).to.equal("line,code,reason,raw\n");
    // Without the key store, the terms cannot be opened: TAP's side only, and why.
    const empty = fs.mkdtempSync(path.join(env.dir, "ks-"));
    const bare = await captured(() => hre.run("usage:tap", { file, home: "262-01", period, out, keystore: empty, from: FROM.br }));
    expect(bare).to.match(/RoamLedger's rating is not shown: the agreement's terms cannot be read: .+/);
    expect(bare).to.match(/voice: TAP \d+\.\d{3} SDR \(tax 0\.000 SDR, discount 0\.000 SDR\)$/m);
    // The CSV goes through usage:ingest as any usage file.
    const ingested = await captured(() => hre.run("usage:ingest", { file: out, home: "262-01", period, store, from: FROM.br }));
    expect(ingested).to.match(new RegExp(`Usage of ${period}: ${specs.length} lines`));
  });

  it("usage:tap refuses a file of the wrong parties, version or audit (no CSV, a one-row rejects file), and explains bad input", async function () {
    const out = path.join(env.dir, "x.csv");
    for (const [o, code] of [
      [{ sender: "ZZZZ9" }, "TAP_SENDER"],
      [{ recipient: "BRAVO" }, "TAP_RECIPIENT"],
      [{ release: 11 }, "TAP_VERSION"],
      [{ auditCount: 1 }, "TAP_AUDIT"],
    ] as const) {
      const file = tapFile(`CD${code}`, o);
      expect(await failureOf(hre.run("usage:tap", { file, home: "262-01", period, out, from: FROM.br }))).to.contain(`(${code})`);
      expect(fs.existsSync(out)).to.equal(false);
      expect(fs.existsSync(`${out}.charges.csv`)).to.equal(false);
      const rows = fs.readFileSync(`${file}.rejects.csv`, "utf8").trim().split("\n");
      expect(rows).to.have.length(2);
      expect(rows[1]).to.match(new RegExp(`^0,${code},.*,file$`));
    }
    expect(fs.readdirSync(env.dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);

    const base = { file: tapFile("CDBRAVODEUD100001"), home: "262-01", period, out, from: FROM.br };
    expect(await failureOf(hre.run("usage:tap", { ...base, file: path.join(env.dir, "nope") }))).to.match(/nope: file not found/);
    expect(await failureOf(hre.run("usage:tap", { ...base, rat: "5g" }))).to.match(
      /--rat: 5g is not a radio access technology[\s\S]*nb-iot/,
    );
    expect(await failureOf(hre.run("usage:tap", { ...base, out: path.join(env.dir, "no", "x.csv") }))).to.match(
      /--out: the folder .* does not exist/,
    );
    expect(await failureOf(hre.run("usage:tap", { ...base, out: base.file }))).to.match(/--out: is the TAP file itself/);
    expect(await failureOf(hre.run("usage:tap", { ...base, home: "262-1" }))).to.match(/--home/);
  });

  it("usage:ingest takes the TAP file itself: batches sealed and verified, the sequence number recorded; the same number again is refused", async function () {
    const file = tapFile("CDBRAVODEUD100007", { fsn: "00007" });
    const text = await captured(() => hre.run("usage:ingest", { file, home: "262-01", period, batchSize: 100, store, from: FROM.br }));
    expect(text).to.match(new RegExp(`Usage of ${period}: ${specs.length} lines, [\\d,]+ records committed`));
    const ids = [...text.matchAll(/batch (0x[0-9a-f]{64}): /g)].map((m) => m[1]);
    expect(ids.length).to.be.greaterThan(1);
    const log = JSON.parse(fs.readFileSync(path.join(store, "tap", "BRAVO-DEUD1.json"), "utf8"));
    expect(log.cycle.map((i: { fsn: string }) => i.fsn)).to.deep.equal(["00007"]);
    const verified = await captured(() => hre.run("usage:verify", { batch: ids.join(","), tolerance: "0", store, from: FROM.de }));
    expect(verified.match(/action: accepted/g)).to.have.length(ids.length);

    // The same file again adds nothing; another file with the same number is refused as a whole.
    const twice = { file, home: "262-01", period, batchSize: 100, store, from: FROM.br };
    expect(await captured(() => hre.run("usage:ingest", twice))).to.match(/Already ingested/);
    specs = specs.slice(1);
    const again = tapFile("CDBRAVODEUD100007b", { fsn: "00007" });
    const block = await hre.ethers.provider.getBlockNumber();
    expect(await failureOf(hre.run("usage:ingest", { file: again, home: "262-01", period, store, from: FROM.br }))).to.match(
      /file sequence number 00007 of BRAVO -> DEUD1 was imported already[\s\S]*TAP_SEQUENCE_DUPLICATE/,
    );
    expect(fs.readFileSync(`${again}.rejects.csv`, "utf8")).to.match(/^line,code,reason,raw\n0,TAP_SEQUENCE_DUPLICATE,.*,file\n$/);
    expect(await hre.ethers.provider.getBlockNumber()).to.equal(block);
  });

  it("usage:ingest of a TAP file refused at its end (AuditControlInfo) commits nothing: no transaction, no journal, no payload", async function () {
    const file = tapFile("CDBRAVODEUD100001", { auditCharge: 1 });
    const block = await hre.ethers.provider.getBlockNumber();
    expect(await failureOf(hre.run("usage:ingest", { file, home: "262-01", period, batchSize: 50, store, from: FROM.br }))).to.match(
      /TotalCharge is 1, the call events add up to \d+[\s\S]*TAP_AUDIT/,
    );
    expect(await hre.ethers.provider.getBlockNumber()).to.equal(block);
    expect(fs.readFileSync(`${file}.rejects.csv`, "utf8").split("\n")[1]).to.match(/^0,TAP_AUDIT,/);
    const payloads = fs.existsSync(store) ? fs.readdirSync(store).filter((f) => f.endsWith(".bin")) : [];
    expect(payloads).to.deep.equal([]);
    expect(fs.existsSync(path.join(store, "tap", "BRAVO-DEUD1.json"))).to.equal(false);
  });
});
