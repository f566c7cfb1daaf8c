import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ingestWorld, ingestUsage, type IngestWorld } from "../../helpers/ingest";
import { PLMN } from "../../helpers/fixtures";
import { createDeviceIdDeriver } from "../../../lib/core/imsi";
import { verifyBatch, type VerifyOptions } from "../../../lib/usage/verify";
import { parseUsageFile } from "../../../lib/usage/parse";
import { MALFORMED_REJECT_CODES, MALFORMED_KINDS } from "../../../lib/usage/generate";
import { checkPayloadCommitments, openPayload } from "../../../lib/usage/payload";
import { bytes32ToRecordId, RECORD_BYTES, unpackRecord } from "../../../lib/usage/leaf";
import { treeDepth } from "../../../lib/usage/merkle";
import { countedPeriod } from "../../../lib/usage/period";
import { fetchBatchSummary } from "../../../lib/usage/verify";
import type { Hex } from "../../../lib/util/hex";
import type { ContentStore } from "../../../lib/usage/store";
import { ConfigError, InputError } from "../../../lib/core/errors";
import { cliMessage } from "../../../tasks/cli/errors";

async function world(): Promise<IngestWorld> {
  return ingestWorld({ devices: 150 });
}

/** DE's check of one batch (optionally against its own records, or with other options). */
function verifyAsHome(w: IngestWorld, batchId: Hex, over: Partial<VerifyOptions> = {}) {
  return verifyBatch({
    batchId,
    client: w.de,
    self: PLMN.DE,
    pairKeyFor: async () => w.pairKey,
    store: w.store,
    imsiKey: w.deImsiKey,
    ...over,
  });
}

/** Everything the chain holds after an ingest that a re-run must not change. */
async function chainState(w: IngestWorld, batchIds: Hex[]) {
  const flags = await w.c.devices.queryFilter(w.c.devices.filters.FraudFlagged(), 0);
  const batches = await w.c.ledger.queryFilter(w.c.ledger.filters.UsageBatchSubmitted(), 0);
  const period = await w.c.ledger.getPeriod(PLMN.DE, PLMN.BR, w.period);
  return {
    flagged: [...new Set(flags.map((e) => e.args.id))].sort(),
    flagEvents: flags.length,
    batches: batches.map((e) => e.args.batchId).sort(),
    batchCount: Number(period.batchCount),
    ids: [...batchIds].sort(),
  };
}

function localState(w: IngestWorld) {
  const dir = w.ingestOptions().workDir;
  return {
    state: fs.readFileSync(path.join(dir, "state.json"), "utf8"),
    ids: fs.readFileSync(path.join(dir, `ids-${w.period}.bin`)).toString("hex"),
    store: fs.readdirSync(w.store.dir).sort(),
  };
}

describe("lib/usage/ingest", function () {
  it("commits a month of usage: rejects with reasons, fraud flagged on-chain, batches verifiable by the home carrier", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const g = w.generated;
    const summary = await ingestUsage(w.ingestOptions());

    // Every malformed line is rejected with the parser's reason, nothing else is.
    const expectedRejects: Record<string, number> = {};
    for (const kind of MALFORMED_KINDS) {
      const n = g.malformed[kind].length;
      if (n) expectedRejects[MALFORMED_REJECT_CODES[kind]] = (expectedRejects[MALFORMED_REJECT_CODES[kind]] ?? 0) + n;
    }
    expect(summary.rejectsByCode).to.deep.equal(expectedRejects);
    expect(summary.accepted).to.equal(g.records);
    expect(summary.lines).to.equal(g.lines);
    const rejectsFile = fs.readFileSync(summary.rejectsFile!, "utf8").trim().split("\n");
    expect(rejectsFile[0]).to.equal("line,code,reason,raw");
    expect(rejectsFile.length - 1).to.equal(summary.rejected);

    // Out-of-policy devices: flagged on-chain, their bad records not billable.
    const derive = createDeviceIdDeriver(w.deImsiKey, PLMN.DE);
    for (const bad of g.outOfPolicy) {
      // F4: the visited carrier's flag stands for its own network; the home has not confirmed it.
      expect(await w.c.devices.flaggedBy(derive(bad.imsi), PLMN.BR), bad.kind).to.equal(true);
    }
    expect(summary.flaggedDevices).to.equal(g.outOfPolicy.length);
    const nonBillable = Object.values(summary.notBillableByReason).reduce((a, b) => a + b, 0);
    expect(nonBillable).to.be.greaterThan(0);
    expect(summary.billable + nonBillable).to.equal(summary.accepted);

    // Permanent roamers (limit 20 days, read from the sealed terms): found, kept local, nothing on chain.
    expect(summary.permanentRoamers).to.be.at.least(g.permanentRoamers.length);

    // Batches: on-chain, each with its records in the store, and the home carrier's check passes.
    expect(summary.batches.length).to.equal(Math.ceil(summary.accepted / 2_000));
    expect(summary.batches.reduce((s, b) => s + b.records, 0)).to.equal(summary.accepted);
    let billableInPayloads = 0;
    for (const b of summary.batches) {
      expect((await w.c.ledger.getBatch(b.id)).status).to.equal(1n);
      const { batch } = await fetchBatchSummary(w.de, b.id);
      // The header carries no volume; the payload opens its commitments.
      expect(Object.keys(batch).sort()).to.deep.equal([
        "home",
        "merkleRoot",
        "payloadHash",
        "period",
        "totalsCommitment",
        "treeDepth",
        "visited",
      ]);
      const sealed = await w.store.get(batch.payloadHash);
      const payload = openPayload(w.pairKey, sealed, batch);
      await checkPayloadCommitments({ payload, sealed }, batch);
      expect(payload.header.recordCount).to.equal(b.records);
      expect(batch.treeDepth).to.equal(treeDepth(b.records));
      for (let i = 0; i < b.records; i++) if (unpackRecord(payload.records, i * RECORD_BYTES).billing === 0) billableInPayloads++;
      const report = await verifyAsHome(w, b.id);
      expect(report.payload).to.equal("ok");
      expect(report.disputed).to.deep.equal([]);
      expect(report.action).to.equal("accepted");
      expect((await w.c.ledger.getBatch(b.id)).status).to.equal(2n);
    }
    expect(billableInPayloads).to.equal(summary.billable);
  });

  it("sends nothing the second time the same file is ingested", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const first = await ingestUsage(w.ingestOptions());
    const before = await chainState(
      w,
      first.batches.map((b) => b.id),
    );
    const block = await w.c.ledger.runner!.provider!.getBlockNumber();
    const second = await ingestUsage(w.ingestOptions());
    expect(second.alreadyDone).to.equal(true);
    expect(await w.c.ledger.runner!.provider!.getBlockNumber()).to.equal(block);
    expect(
      await chainState(
        w,
        second.batches.map((b) => b.id),
      ),
    ).to.deep.equal(before);
  });

  it("seals on a worker thread to the same batches, payloads, flags and state as on the main thread", async function () {
    const base = await loadFixture(world);
    const saved = process.env.ROAMLEDGER_SEAL_THREAD;
    const run = async (thread: "0" | "1") => {
      const w = base.freshLocal();
      process.env.ROAMLEDGER_SEAL_THREAD = thread;
      try {
        const summary = await ingestUsage(w.ingestOptions({ batchSize: 700 }));
        const workDir = w.ingestOptions().workDir;
        return {
          batches: summary.batches.map((b) => [b.id, b.records, b.payloadHash]),
          // Found out of policy: flagged by the first run, found standing by the second.
          flagged: summary.flaggedDevices,
          store: fs.readdirSync(w.store.dir).sort(),
          state: fs.readFileSync(path.join(workDir, "state.json"), "utf8"),
          ids: fs.readFileSync(path.join(workDir, `ids-${w.period}.bin`)).toString("hex"),
          submitted: summary.batches.map((b) => b.submitted),
        };
      } finally {
        if (saved === undefined) delete process.env.ROAMLEDGER_SEAL_THREAD;
        else process.env.ROAMLEDGER_SEAL_THREAD = saved;
      }
    };
    const onThread = await run("1");
    // The same file again, in a fresh local folder: the same batches (already on-chain, so none is sent).
    const onMain = await run("0");
    expect(onThread.batches.length).to.be.greaterThan(3);
    expect(onThread.submitted.every((x) => x === "new")).to.equal(true);
    expect(onMain.submitted.every((x) => x === "existing")).to.equal(true);
    expect({ ...onMain, submitted: [] }).to.deep.equal({ ...onThread, submitted: [] });
  });

  it("rejects a record id already committed by an earlier file of the period", async function () {
    const w = (await loadFixture(world)).freshLocal();
    await ingestUsage(w.ingestOptions());
    const lines = fs.readFileSync(w.generated.usageFile, "utf8").split("\n");
    const second = path.join(w.dir, "again.csv");
    fs.writeFileSync(second, `${[lines[0], lines[1], lines[2]].join("\n")}\n`);
    const summary = await ingestUsage(w.ingestOptions({ file: second }));
    expect(summary.accepted).to.equal(0);
    expect(summary.rejectsByCode).to.deep.equal({ DUPLICATE_RECORD_ID: 2 });
    expect(summary.batches).to.deep.equal([]);
  });

  it("F4: holds back the flags the registry would refuse (ours standing, our cooldown after a dismissal) and still finishes the run", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const first = await ingestUsage(w.ingestOptions());
    const g = w.generated;
    const derive = createDeviceIdDeriver(w.deImsiKey, PLMN.DE);
    const dismissed = derive(g.outOfPolicy[0].imsi);
    await (await w.c.devices.connect(w.c.de).dismissFraudFlags([dismissed], PLMN.BR)).wait();

    // The out-of-policy devices' records again, under new record ids, in a second file of the period.
    const lines = fs.readFileSync(g.usageFile, "utf8").split("\n");
    const header = lines[0].split(",");
    const [idCol, imsiCol] = [header.indexOf("recordId"), header.indexOf("imsi")];
    const bad = new Set(g.outOfPolicy.map((d) => d.imsi));
    // Only the lines the first run took: the generator's malformed lines (a negative volume, a bad timestamp)
    // fall on these devices' lines or not depending on the month the chain is in, and would be rejected again.
    const rejectedLines = new Set(
      fs
        .readFileSync(first.rejectsFile as string, "utf8")
        .split("\n")
        .slice(1)
        .map((l) => Number(l.split(",")[0])),
    );
    const again = lines
      .map((l, i) => ({ f: l.split(","), line: i + 1 }))
      .filter(({ f, line }) => line > 1 && !rejectedLines.has(line) && f.length === header.length && bad.has(f[imsiCol]))
      .map(({ f }) => f)
      .map((f, i) => Object.assign([...f], { [idCol]: `again-${i}` }).join(","));
    const file = path.join(w.dir, "again.csv");
    fs.writeFileSync(file, `${[lines[0], ...again].join("\n")}\n`);
    const flagsBefore = (await w.c.devices.queryFilter(w.c.devices.filters.FraudFlagged(), 0)).length;

    const second = await ingestUsage(w.ingestOptions({ file }));
    expect(second.accepted, `rejected: ${JSON.stringify(second.rejectsByCode)}`).to.equal(again.length);
    // The dismissed one is in our cooldown (held); the others' flags of ours stand (flagged, nothing sent).
    expect(second.flagsHeld).to.equal(1);
    expect(second.flagsStanding).to.equal(g.outOfPolicy.length - 1);
    expect(second.flaggedDevices).to.equal(g.outOfPolicy.length - 1);
    expect(second.flagTxs).to.deep.equal([]);
    expect((await w.c.devices.queryFilter(w.c.devices.filters.FraudFlagged(), 0)).length).to.equal(flagsBefore);
    expect(await w.c.devices.flaggedBy(dismissed, PLMN.BR)).to.equal(false);
    expect(first.flagsHeld).to.equal(0);
  });

  it("rejects records of unknown devices and of devices of another home", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const lines = fs.readFileSync(w.generated.usageFile, "utf8").split("\n");
    const header = lines[0];
    const unknown = lines[1].replace(/,26201\d{10},/, ",262019999999999,");
    const file = path.join(w.dir, "unknown.csv");
    fs.writeFileSync(file, `${header}\n${unknown}\n`);
    const summary = await ingestUsage(w.ingestOptions({ file }));
    expect(summary.rejectsByCode).to.deep.equal({ UNKNOWN_DEVICE: 1 });
  });

  it("keeps the id of a record rejected for its device out of the period's ids: a later file may bring it again", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const lines = fs.readFileSync(w.generated.usageFile, "utf8").split("\n");
    const [header, good, other] = [lines[0], lines[1], lines[2]];
    const unknown = good.replace(/,26201\d{10},/, ",262019999999999,");
    const first = path.join(w.dir, "first.csv");
    // Within the file the rejected record's id still counts: its repeat on line 4 is a duplicate.
    fs.writeFileSync(first, `${[header, unknown, other, good].join("\n")}\n`);
    const one = await ingestUsage(w.ingestOptions({ file: first }));
    expect([one.accepted, one.rejectsByCode]).to.deep.equal([1, { UNKNOWN_DEVICE: 1, DUPLICATE_RECORD_ID: 1 }]);
    expect(fs.readFileSync(one.rejectsFile!, "utf8")).to.contain("recordId repeats line 2");
    const second = path.join(w.dir, "second.csv");
    fs.writeFileSync(second, `${[header, good, other].join("\n")}\n`);
    const two = await ingestUsage(w.ingestOptions({ file: second }));
    expect([two.accepted, two.rejectsByCode]).to.deep.equal([1, { DUPLICATE_RECORD_ID: 1 }]);
  });

  it("commits nothing for a file it cannot read at all", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const file = path.join(w.dir, "binary.csv");
    fs.writeFileSync(file, Buffer.from([0, 1, 2, 3, 0, 255, 254]));
    const block = await w.c.ledger.runner!.provider!.getBlockNumber();
    await expect(ingestUsage(w.ingestOptions({ file }))).to.be.rejectedWith(/binary|NUL|not a text/i);
    expect(await w.c.ledger.runner!.provider!.getBlockNumber()).to.equal(block);
    expect(fs.existsSync(path.join(w.ingestOptions().workDir, "state.json"))).to.equal(false);
    expect(fs.existsSync(`${file}.rejects.csv`)).to.equal(false);
  });

  it("ends a run that died at any step in the same chain and local state as one clean run", async function () {
    // A reference: one clean run in its own chain.
    const clean = (await loadFixture(world)).freshLocal();
    const ref = await ingestUsage(clean.ingestOptions({ batchSize: 700 }));
    const refChain = await chainState(
      clean,
      ref.batches.map((b) => b.id),
    );
    const refLocal = localState(clean);

    // Die while storing the 3rd payload, then while submitting the 4th batch, then after the roamer reports.
    const failures: { label: string; wrap: (w: IngestWorld) => Partial<Parameters<IngestWorld["ingestOptions"]>[0]> }[] = [
      {
        label: "store",
        wrap: (w) => {
          let puts = 0;
          const store: ContentStore = {
            put: async (data) => {
              if (++puts === 3) throw new Error("disk full");
              return w.store.put(data);
            },
            get: (h) => w.store.get(h),
            has: (h) => w.store.has(h),
            describe: () => w.store.describe(),
          };
          return { store };
        },
      },
      {
        label: "submit",
        wrap: (w) => {
          let submits = 0;
          const ledger = new Proxy(w.br.ledger, {
            get(target, prop, receiver) {
              if (prop === "submitBatch") {
                return (...args: unknown[]) => {
                  if (++submits === 4) return Promise.reject(new Error("connection reset"));
                  return (target.submitBatch as unknown as (...a: unknown[]) => unknown)(...args);
                };
              }
              const value = Reflect.get(target, prop, receiver);
              return typeof value === "function" ? value.bind(target) : value;
            },
          });
          return { client: { ...w.br, ledger } };
        },
      },
    ];
    for (const failure of failures) {
      const w = (await loadFixture(world)).freshLocal();
      await expect(ingestUsage(w.ingestOptions({ batchSize: 700, ...failure.wrap(w) })), failure.label).to.be.rejected;
      const resumed = await ingestUsage(w.ingestOptions({ batchSize: 700 }));
      expect(resumed.alreadyDone, failure.label).to.equal(false);
      expect(
        await chainState(
          w,
          resumed.batches.map((b) => b.id),
        ),
        failure.label,
      ).to.deep.equal(refChain);
      expect(localState(w), failure.label).to.deep.equal(refLocal);
    }
  });

  it("refuses a bad batch size, and a new file while an earlier run is unfinished, naming what finishes it", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => expect.fail("no error"),
        (e: unknown) => e,
      );
    const tooSmall = await failure(ingestUsage(w.ingestOptions({ batchSize: 0 })));
    expect(tooSmall)
      .to.be.instanceOf(InputError)
      .and.to.deep.include({ location: { param: "batchSize" } });

    const runs = path.join(w.ingestOptions().workDir, "runs");
    fs.mkdirSync(runs, { recursive: true });
    const earlier = { status: "sealed", file: "/data/october.csv", home: PLMN.DE, period: 202610 };
    fs.writeFileSync(path.join(runs, `${"0".repeat(32)}.json`), JSON.stringify(earlier));
    const unfinished = await failure(ingestUsage(w.ingestOptions()));
    expect(unfinished).to.be.instanceOf(ConfigError);
    expect((unfinished as ConfigError).next).to.deep.equal({
      operation: "usage:ingest",
      args: { file: "/data/october.csv", home: "262-01", period: "2026-10" },
    });
    expect(cliMessage(unfinished as ConfigError)).to.include(
      "run `npx hardhat usage:ingest --file /data/october.csv --home 262-01 --period 2026-10`",
    );
  });

  it("lets the home carrier reject a batch whose payload is missing or not the one committed", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const [first, second] = (await ingestUsage(w.ingestOptions())).batches;
    // A store that answers the first batch's payload hash with the second batch's payload (same pair and period: it opens).
    const swapped: ContentStore = {
      get: (hash) => w.store.get(hash === first.payloadHash ? second.payloadHash : hash),
      put: (data) => w.store.put(data),
      has: (hash) => w.store.has(hash),
      describe: () => "swapped",
    };
    expect(await verifyAsHome(w, first.id, { store: swapped, dryRun: true })).to.include({
      payload: "COMMITMENT_MISMATCH",
      action: "none",
    });

    fs.rmSync(path.join(w.store.dir, `${second.payloadHash.slice(2)}.bin`));
    const missing = await verifyAsHome(w, second.id, { rejectMissing: true });
    expect(missing).to.include({ payload: "PAYLOAD_MISSING", action: "rejected" });
    expect(missing.txHashes).to.have.length(1);
    expect((await w.c.ledger.getBatch(second.id)).status).to.equal(3n);
  });

  it("keeps a device's presence across periods and bills each roamer-day once", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const summary = await ingestUsage(w.ingestOptions());
    const state = JSON.parse(fs.readFileSync(path.join(w.ingestOptions().workDir, "state.json"), "utf8"));
    const derive = createDeviceIdDeriver(w.deImsiKey, PLMN.DE);
    const roamer = state.devices[derive(w.generated.permanentRoamers[0])];
    const fields: string[] = state.fields;
    const value = (f: string) => roamer[fields.indexOf(f)];
    expect(value("lastDay") - value("firstDay") + 1).to.equal(w.generated.days);
    expect(value("roamerReported")).to.equal(true);
    // Roamer-days billed in the batches add up to the days beyond 20 of the devices that stayed.
    let roamerDays = 0;
    for (const b of summary.batches) {
      const { batch } = await fetchBatchSummary(w.br, b.id);
      const payload = openPayload(w.pairKey, await w.store.get(batch.payloadHash), batch);
      roamerDays += payload.header.totals.reduce((s, t) => s + t.roamerDays, 0);
    }
    expect(roamerDays).to.be.at.least(w.generated.permanentRoamers.length * (w.generated.days - 20));
  });

  it("lets the home carrier dispute exactly the records its own counters disagree with, with proofs", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const summary = await ingestUsage(w.ingestOptions());
    // The home carrier's own records: the same, but one billable data record counted 1,000 bytes lower.
    const lines = fs.readFileSync(w.generated.usageFile, "utf8").split("\n");
    const header = lines[0].split(",");
    const col = (name: string) => header.indexOf(name);
    const target = lines.findIndex(
      (l, i) => i > 0 && l.split(",")[col("service")] === "data" && Number(l.split(",")[col("dataVolumeIncoming")]) > 5000,
    );
    const fields = lines[target].split(",");
    const recordId = fields[col("recordId")];
    fields[col("dataVolumeIncoming")] = String(Number(fields[col("dataVolumeIncoming")]) - 1000);
    lines[target] = fields.join(",");
    const own = path.join(w.dir, "own.csv");
    fs.writeFileSync(own, lines.join("\n"));

    const disputedIn: Hex[] = [];
    const reportedIndexes: number[] = [];
    for (const b of summary.batches) {
      const report = await verifyAsHome(w, b.id, { ownFile: own });
      if (report.disputed.length) disputedIn.push(b.id);
      reportedIndexes.push(...report.disputed.map((d) => d.leafIndex));
      for (const d of report.disputed) expect(d).to.include({ recordId, reason: "VOLUME_MISMATCH" });
      expect(report.action).to.equal(report.disputed.length ? "disputed-and-accepted" : "accepted");
    }
    expect(disputedIn.length).to.equal(1);
    // Disputed by position: the event and the ledger hold the index and the leaf, never the record.
    const events = await w.c.ledger.queryFilter(w.c.ledger.filters.UsageRecordDisputed(disputedIn[0]), 0);
    expect(events.length).to.equal(1);
    const [index] = await w.c.ledger.disputedIndexes(disputedIn[0]);
    expect(events[0].args.leafIndex).to.equal(index);
    expect(reportedIndexes).to.deep.equal([Number(index)]);
    // The home carrier reads the disputed record back for the invoice: the period's counted batches,
    // their totals from the payloads, the disputed record, and the ledger's accumulator.
    const counted = await countedPeriod(w.de, { home: PLMN.DE, visited: PLMN.BR, period: w.period, store: w.store, pairKey: w.pairKey });
    expect(counted.batches.map((b) => b.batchId)).to.deep.equal(summary.batches.map((b) => b.id));
    const withDispute = counted.batches.find((b) => b.batchId === disputedIn[0])!;
    expect(withDispute.disputed).to.have.length(1);
    expect(withDispute.disputed[0].leafIndex).to.equal(Number(index));
    expect(bytes32ToRecordId(withDispute.disputed[0].record.recordId)).to.equal(recordId);
    expect(counted.accumulator).to.equal((await w.c.ledger.getPeriod(PLMN.DE, PLMN.BR, w.period)).accumulator);
  });

  it("reads the same records from JSON lines as from CSV", async function () {
    const w = (await loadFixture(world)).freshLocal();
    let csv = 0;
    for await (const chunk of parseUsageFile(w.generated.usageFile, { home: PLMN.DE, visited: PLMN.BR, period: w.period }))
      csv += chunk.records.length;
    expect(csv).to.equal(w.generated.records);
  });
});
