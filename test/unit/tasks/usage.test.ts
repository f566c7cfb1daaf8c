import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ingestWorld, type IngestWorld, writeUsageKeystores } from "../../helpers/ingest";
import { useDeploymentForTasks, FROM, failureOf, captured } from "../../helpers/tasks";
import { formatPeriod } from "../../../lib/core/period";
import { PLMN } from "../../helpers/fixtures";

async function world(): Promise<IngestWorld> {
  return ingestWorld({ devices: 60, seed: 11 });
}

describe("tasks: usage:ingest, usage:verify, usage:expire, usage:close", function () {
  let w: IngestWorld;
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>>;
  let store: string;

  beforeEach(async function () {
    w = (await loadFixture(world)).freshLocal();
    env = await useDeploymentForTasks(w.c);
    writeUsageKeystores(w, process.env.ROAMLEDGER_HOME!);
    store = path.join(env.dir, "store");
  });
  afterEach(() => env.cleanup());

  it("ingests as the visited carrier and verifies as the home carrier", async function () {
    const period = formatPeriod(w.period);
    const text = await captured(() =>
      hre.run("usage:ingest", {
        file: w.generated.usageFile,
        home: "262-01",
        period,
        batchSize: 1000,
        store,
        summary: path.join(env.dir, "summary.json"),
        from: FROM.br,
      }),
    );
    expect(text).to.match(new RegExp(`Usage of ${period}: [\\d,]+ lines, [\\d,]+ records committed`));
    expect(text).to.match(/records\/s \(chain excluded\); peak memory [\d,]+ MB/);
    const summary = JSON.parse(fs.readFileSync(path.join(env.dir, "summary.json"), "utf8"));
    expect(summary.accepted).to.be.greaterThan(0);
    expect(summary.peakRssMb).to.be.greaterThan(0);
    expect(summary.batches.map((b: { id: string }) => b.id)).to.deep.equal(
      [...text.matchAll(/batch (0x[0-9a-f]{64}): /g)].map((m) => m[1]),
    );
    expect(text).to.match(/fraud: \d+ device\(s\) flagged on-chain/);
    const ids = [...text.matchAll(/batch (0x[0-9a-f]{64}): /g)].map((m) => m[1]);
    expect(ids.length).to.be.greaterThan(0);
    for (const id of ids) expect((await w.c.ledger.getBatch(id)).status).to.equal(1n);

    // Running it again sends nothing.
    const again = await captured(() =>
      hre.run("usage:ingest", { file: w.generated.usageFile, home: "262-01", period, batchSize: 1000, store, from: FROM.br }),
    );
    expect(again).to.match(/Already ingested by an earlier run/);

    const report = path.join(env.dir, "verify.json");
    const verified = await captured(() => hre.run("usage:verify", { batch: ids[0], tolerance: "0", store, out: report, from: FROM.de }));
    expect(verified).to.match(/it opens the totals commitment and payload hash, and its records give the root/);
    expect(verified).to.match(/action: accepted/);
    expect(JSON.parse(fs.readFileSync(report, "utf8")).action).to.equal("accepted");
    expect((await w.c.ledger.getBatch(ids[0])).status).to.equal(2n);
  });

  it("explains bad input and missing keys before sending anything", async function () {
    const block = await hre.ethers.provider.getBlockNumber();
    const base = { file: w.generated.usageFile, home: "262-01", period: formatPeriod(w.period), store, from: FROM.br };
    expect(await failureOf(hre.run("usage:ingest", { ...base, period: "2026-13" }))).to.match(/not a billing period[\s\S]*YYYY-MM/);
    expect(await failureOf(hre.run("usage:ingest", { ...base, home: "26-01" }))).to.match(/--home/);
    expect(await failureOf(hre.run("usage:ingest", { ...base, file: path.join(env.dir, "nope.csv") }))).to.match(
      /nope\.csv: file not found/,
    );
    expect(await failureOf(hre.run("usage:ingest", { ...base, home: "310-410" }))).to.match(/keys:receive/);
    expect(await failureOf(hre.run("usage:ingest", { ...base, batchSize: 0 }))).to.match(/--batch-size: 0 is out of range/);
    expect(await failureOf(hre.run("usage:ingest", { ...base, from: FROM.outsider }))).to.match(/NotActiveOperator/);
    const heap = process.env.ROAMLEDGER_HEAP_GROWING_PERCENT;
    try {
      for (const bad of ["fifty", "-5", "12.5", "5000"]) {
        process.env.ROAMLEDGER_HEAP_GROWING_PERCENT = bad;
        expect(await failureOf(hre.run("usage:ingest", base))).to.match(
          new RegExp(`ROAMLEDGER_HEAP_GROWING_PERCENT=${bad} is not a percentage[\\s\\S]*0 to 1000`),
        );
      }
    } finally {
      if (heap === undefined) delete process.env.ROAMLEDGER_HEAP_GROWING_PERCENT;
      else process.env.ROAMLEDGER_HEAP_GROWING_PERCENT = heap;
    }
    expect(await failureOf(hre.run("usage:verify", { batch: "0x1234", tolerance: "0", store, from: FROM.de }))).to.match(/not a batch id/);
    expect(await failureOf(hre.run("usage:verify", { batch: `0x${"ab".repeat(32)}`, tolerance: "0", store, from: FROM.de }))).to.match(
      /no usage batch/,
    );
    const period = { home: "262-01", visited: "724-05", period: formatPeriod(w.period), from: FROM.outsider };
    expect(await failureOf(hre.run("usage:close", period))).to.match(/cannot close before its submission deadline/);
    expect(await failureOf(hre.run("usage:expire", { ...period, visited: "72-405" }))).to.match(/--visited/);
    expect(await hre.ethers.provider.getBlockNumber()).to.equal(block);
  });

  it("expires and closes a period for anyone, saying what is missing until it can", async function () {
    const period = formatPeriod(w.period);
    await hre.run("usage:ingest", { file: w.generated.usageFile, home: "262-01", period, batchSize: 1000, store, from: FROM.br });
    const key = { home: "262-01", visited: "724-05", period, from: FROM.outsider };
    const early = await captured(() => hre.run("usage:expire", key));
    expect(early).to.match(/Expired 0 batch\(es\)[\s\S]*still in their dispute window/);
    await time.increaseTo(await w.c.ledger.submissionDeadline(w.period));
    expect(await failureOf(hre.run("usage:close", key))).to.match(
      /batch\(es\) are still pending[\s\S]*npx hardhat usage:expire --home 262-01 --visited 724-05 --period/,
    );
    const closed = await captured(() => hre.run("usage:close", { ...key, expire: true }));
    expect(closed).to.match(/Expired [1-9]\d* batch\(es\)\.[\s\S]*closed\.[\s\S]*accumulator: 0x[0-9a-f]{64}/);
    expect((await w.c.ledger.getPeriod(PLMN.DE, PLMN.BR, w.period)).closed).to.equal(true);
  });
});
