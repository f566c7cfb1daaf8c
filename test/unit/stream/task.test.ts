import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ingestWorld, type IngestWorld, writeUsageKeystores } from "../../helpers/ingest";
import { captured, FROM, failureOf, useDeploymentForTasks } from "../../helpers/tasks";
import { PLMN } from "../../helpers/fixtures";
import { receiver } from "../../helpers/webhook";

async function world(): Promise<IngestWorld> {
  return ingestWorld({ devices: 40, seed: 5 });
}

describe("tasks: usage:stream, watch --webhook", function () {
  this.timeout(120_000);
  let w: IngestWorld;
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>>;
  let spool: string;
  let store: string;

  beforeEach(async function () {
    w = (await loadFixture(world)).freshLocal();
    env = await useDeploymentForTasks(w.c);
    writeUsageKeystores(w, process.env.ROAMLEDGER_HOME as string);
    spool = path.join(env.dir, "spool");
    store = path.join(env.dir, "store");
    fs.mkdirSync(spool);
  });
  afterEach(() => env.cleanup());

  it("usage:stream --once drains the spool with a status line per file; the home carrier's watch --webhook POSTs the fraud flags", async function () {
    fs.copyFileSync(w.generated.usageFile, path.join(spool, "cdr-1.csv"));
    const base = { dir: spool, home: "262-01", period: "auto", batchRecords: 1000, settleSeconds: 0, once: true, store, from: FROM.br };
    const text = await captured(() => hre.run("usage:stream", base));
    expect(text).to.match(/Streaming usage of 262-01 on 724-05 from .*spool \(period auto, 1,000 records per batch\), until drained\./);
    expect(text).to.match(/cdr-1\.csv -> done\/cdr-1\.csv/);
    expect(text).to.match(/\d{4}-\d{2}: [\d,]+ records committed, [\d,]+ rejected, [1-9]\d* device\(s\) flagged, [1-9]\d* batch\(es\)/);
    expect(text).to.match(/Streamed 1 file\(s\) \(0 refused whole\)/);
    const flags = await w.c.devices.queryFilter(w.c.devices.filters.FraudFlagged(), 0);
    expect(flags.length).to.be.greaterThan(0);

    // DE follows its devices: each alert reaches its webhook, which fails the first try.
    const r = await receiver((n) => (n === 1 ? 503 : 200));
    try {
      const url = r.url.toString();
      await captured(() =>
        hre.run("watch", { once: true, fromBlock: 0, json: false, observer: false, poll: 1, webhook: url, from: FROM.de }),
      );
      const got = r.got.slice(1).map((g) => g.body);
      const flagged = got.filter((a) => a.kind === "fraud-flag");
      expect(flagged.length).to.equal(flags.length);
      expect(new Set(got.map((a) => a.id)).size, "one id per alert").to.equal(got.length);
    } finally {
      await r.close();
    }
  });

  it("explains bad input before touching anything", async function () {
    const block = await hre.ethers.provider.getBlockNumber();
    const base = { dir: spool, home: "262-01", period: "auto", once: true, store, from: FROM.br };
    const listeners = () => [process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")];
    const before = listeners();
    expect(await failureOf(hre.run("usage:stream", { ...base, period: "2026-13" }))).to.match(/not a billing period/);
    expect(await failureOf(hre.run("usage:stream", { ...base, batchRecords: 0 }))).to.match(/--batch-records: 0 is out of range/);
    expect(await failureOf(hre.run("usage:stream", { ...base, settleSeconds: -1 }))).to.match(/--settle-seconds: -1 is out of range/);
    expect(await failureOf(hre.run("usage:stream", { ...base, dir: path.join(env.dir, "nope") }))).to.match(/--dir: is not a folder/);
    expect(await failureOf(hre.run("usage:stream", { ...base, home: "724-05" }))).to.match(/724-05 is your own carrier/);
    expect(
      await failureOf(hre.run("watch", { once: true, json: false, observer: false, poll: 1, webhook: "ftp://x", from: FROM.de })),
    ).to.match(/--webhook: ftp: is not http or https/);
    // A spool streams one pair.
    fs.mkdirSync(path.join(spool, ".stream"), { recursive: true });
    fs.writeFileSync(path.join(spool, ".stream", "journal.json"), JSON.stringify({ version: 1, visited: PLMN.BR, home: PLMN.US }));
    expect(await failureOf(hre.run("usage:stream", base))).to.match(/streams usage of 310-410 on 724-05[\s\S]*a spool folder of its own/);
    expect(listeners(), "a stream that failed leaves no signal listener behind").to.deep.equal(before);
    expect(await hre.ethers.provider.getBlockNumber()).to.equal(block);
  });
});
