import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ingestUsage, ingestWorld, type IngestWorld, writeUsageKeystores } from "../../helpers/ingest";
import { useDeploymentForTasks, FROM, failureOf, captured } from "../../helpers/tasks";
import { formatPeriod } from "../../../lib/core/period";
import { PLMN } from "../../helpers/fixtures";
import { generateUsage } from "../../../lib/usage/generate";
import { pairWorkDir } from "../../../lib/usage/ingest";
import { FolderStore } from "../../../lib/usage/store";
import type { RoamLedgerClient } from "../../../lib/chain/client";
import { revertHint } from "../../../lib/chain/revert";

/**
 * Issue 16, point 1: a usage file whose run is sealed but refused by the chain must not block the pair. The
 * dead end is replayed (a run sealed, its submission cut off, the period closed meanwhile), then left: by
 * running the same command again (the run is abandoned with the reason) or by `usage:ingest --abandon`.
 * Also the pre-seal check, --format, the verify-all run and the messages of issue 16's point 6.
 */

async function world(): Promise<IngestWorld> {
  return ingestWorld({ devices: 40, seed: 16 });
}

/** BR's client whose batch submissions fail from the `failFrom`-th on, as if the node went away (0: all). */
function cutOff(client: RoamLedgerClient, failFrom = 0): RoamLedgerClient {
  let calls = 0;
  const ledger = new Proxy(client.ledger, {
    get(target, key) {
      if (key === "submitBatch" && calls++ >= failFrom) {
        return async () => {
          throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8545"), { code: "ECONNREFUSED" });
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...client, ledger };
}

const nextPeriodOf = (p: number) => (p % 100 === 12 ? p + 89 : p + 1);
const payloads = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".bin")) : []);
const journals = (workDir: string) => {
  const dir = path.join(workDir, "runs");
  return fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"))) : [];
};

describe("tasks: usage:ingest dead end (issue 16), --abandon, --format; usage:verify --period", function () {
  let w: IngestWorld;
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>>;
  let store: string;
  let workDir: string;
  let period: string;

  beforeEach(async function () {
    w = (await loadFixture(world)).freshLocal();
    env = await useDeploymentForTasks(w.c);
    writeUsageKeystores(w, process.env.ROAMLEDGER_HOME!);
    store = path.join(env.dir, "store");
    workDir = pairWorkDir(process.env.ROAMLEDGER_HOME!, PLMN.BR, PLMN.DE);
    period = formatPeriod(w.period);
  });
  afterEach(() => env.cleanup());

  /** A run of the world's file sealed in the task's folders whose submissions fail from the `failFrom`-th on. */
  async function sealedRun(failFrom = 0, batchSize = 1000): Promise<void> {
    const opts = w.ingestOptions({ client: cutOff(w.br, failFrom), workDir, store: new FolderStore(store), batchSize });
    expect(await failureOf(ingestUsage(opts))).to.match(/ECONNREFUSED/);
    expect(journals(workDir).map((j) => j.status)).to.deep.equal(["sealed"]);
  }

  /** A usage file of the same fleet for the month after the world's. */
  function nextMonthFile(): string {
    const usageOut = path.join(env.dir, "next.csv");
    generateUsage({
      home: PLMN.DE,
      visited: PLMN.BR,
      period: nextPeriodOf(w.period),
      devices: 40,
      seed: 16,
      usageOut,
      devicesOut: path.join(env.dir, "next-devices.csv"),
      malformedRate: 0,
    });
    return usageOut;
  }

  it("replays the dead end and leaves it: the refused run is abandoned with its reason, next month's file ingests and verifies in one run", async function () {
    await sealedRun();
    const sealedPayloads = payloads(store);
    expect(sealedPayloads.length).to.be.greaterThan(0);

    // The period closes while the run waits: the chain can never take its batches.
    await time.increaseTo(await w.c.ledger.submissionDeadline(w.period));
    await hre.run("usage:close", { home: "262-01", visited: "724-05", period, from: FROM.outsider });
    const next = nextMonthFile();
    const nextPeriod = formatPeriod(nextPeriodOf(w.period));

    // Before the fix, this is where the pair stayed: every file refused because of the unfinished run.
    const blocked = await failureOf(hre.run("usage:ingest", { file: next, home: "262-01", period: nextPeriod, store, from: FROM.br }));
    expect(blocked).to.match(/an earlier run .* stopped before it finished/);
    expect(blocked).to.contain(`usage:ingest --abandon --home 262-01 --period ${period}`);

    // Running the refused file again abandons its run, saying why and what was dropped.
    const file = w.generated.usageFile;
    const refused = await failureOf(hre.run("usage:ingest", { file, home: "262-01", period, batchSize: 1000, store, from: FROM.br }));
    expect(refused).to.match(new RegExp(`the ledger refuses this run as a whole: period ${period} of 724-05 -> 262-01 is closed`));
    expect(refused).to.match(/Abandoned run [0-9a-f]{32} .*: \d+ sealed batch\(es\) of [\d,]+ records never sent/);
    expect(refused).to.match(/What to do: the period is over for billing/);
    const [journal] = journals(workDir);
    expect(journal.status).to.equal("abandoned");
    expect(journal.abandoned.reason).to.match(/is closed/);
    expect(payloads(store).filter((p) => sealedPayloads.includes(p))).to.deep.equal([]);
    expect(fs.readdirSync(workDir).filter((f) => f.includes("pending"))).to.deep.equal([]);

    // Again: refused before anything is sealed.
    const again = await failureOf(hre.run("usage:ingest", { file, home: "262-01", period, batchSize: 1000, store, from: FROM.br }));
    expect(again).to.match(/is closed: it takes no more batches\nNo run was sealed/);

    // Next month's file ingests; its batch ids come with the command that verifies them all.
    const text = await captured(() =>
      hre.run("usage:ingest", { file: next, home: "262-01", period: nextPeriod, batchSize: 500, store, from: FROM.br }),
    );
    const ids = [...text.matchAll(/batch (0x[0-9a-f]{64}): [\d,]+ records/g)].map((m) => m[1]);
    expect(ids.length).to.be.greaterThan(1);
    expect(text).to.match(/Batch ids \(\d+\), for usage:verify:/);
    expect(text).not.to.match(/tx 0x/);
    expect(text).to.contain(`npx hardhat usage:verify --visited 724-05 --period ${nextPeriod}`);
    for (const id of ids) expect((await w.c.ledger.getBatch(id)).status).to.equal(1n);

    // The home carrier verifies every open batch of the period in one run.
    const verified = await captured(() =>
      hre.run("usage:verify", { visited: "724-05", period: nextPeriod, tolerance: "0", store, from: FROM.de }),
    );
    expect(verified).to.contain(`${ids.length} open batch(es) of ${nextPeriod} from 724-05 to verify.`);
    expect([...verified.matchAll(/action: accepted/g)].length).to.equal(ids.length);
    for (const id of ids) expect((await w.c.ledger.getBatch(id)).status).to.equal(2n);
    const none = await captured(() =>
      hre.run("usage:verify", { visited: "724-05", period: nextPeriod, tolerance: "0", store, from: FROM.de }),
    );
    expect(none).to.contain(`0 open batch(es) of ${nextPeriod}`);
  });

  it("--abandon drops an unfinished run none of whose batches is on chain; the same file then ingests anew", async function () {
    expect(await failureOf(hre.run("usage:ingest", { abandon: true, home: "262-01", period, store, from: FROM.br }))).to.match(
      /no unfinished usage:ingest run of 724-05 -> 262-01 for period/,
    );
    await sealedRun();
    const sealedPayloads = payloads(store);
    const text = await captured(() => hre.run("usage:ingest", { abandon: true, home: "262-01", period, store, from: FROM.br }));
    expect(text).to.match(/Abandoned run [0-9a-f]{32} .*period .*: \d+ sealed batch\(es\)/);
    expect([...text.matchAll(/dropped batch 0x[0-9a-f]{64}: [\d,]+ records \(never on chain\)/g)].length).to.equal(sealedPayloads.length);
    expect(journals(workDir)[0].status).to.equal("abandoned");
    expect(payloads(store)).to.deep.equal([]);

    // The same file is then ingested anew, as if the abandoned run had never been.
    const done = await captured(() =>
      hre.run("usage:ingest", { file: w.generated.usageFile, home: "262-01", period, batchSize: 1000, store, from: FROM.br }),
    );
    expect(done).to.match(/records committed/);
    expect(done).not.to.match(/Already ingested/);
    expect(journals(workDir)[0].status).to.equal("done");
  });

  it("never forgets batches on chain: a partial run cannot be abandoned and stays resumable", async function () {
    await sealedRun(1, 500);
    const failure = await failureOf(hre.run("usage:ingest", { abandon: true, home: "262-01", period, store, from: FROM.br }));
    expect(failure).to.match(/cannot be abandoned: 1 of its \d+ batches are on chain/);
    expect(failure).to.match(/What to do: resume the run instead/);
    expect(journals(workDir)[0].status).to.equal("sealed");
    const resumed = await captured(() =>
      hre.run("usage:ingest", { file: w.generated.usageFile, home: "262-01", period, batchSize: 500, store, from: FROM.br }),
    );
    expect(resumed).to.match(/already on chain before this run/);
    expect(journals(workDir)[0].status).to.equal("done");
  });

  it("closes out a partial run the ledger can no longer finish: its batch on chain stays, the rest is dropped, the pair moves on", async function () {
    await sealedRun(1, 500);
    const sealedPayloads = payloads(store);
    await time.increaseTo(await w.c.ledger.submissionDeadline(w.period));
    const file = w.generated.usageFile;
    const failure = await failureOf(hre.run("usage:ingest", { file, home: "262-01", period, batchSize: 500, store, from: FROM.br }));
    expect(failure).to.match(/the ledger takes no more of this run's batches: period .* its submission deadline .* has passed/);
    expect(failure).to.match(
      /closed out: its 1 batch\(es\) on chain stay billed .*; \d+ batch\(es\) of [\d,]+ records never reached the chain and are not billed/,
    );
    const [journal] = journals(workDir);
    expect(journal.status).to.equal("done");
    expect(journal.batches.map((b: { submitted: string }) => b.submitted)).to.deep.equal(
      ["existing"].concat(Array(journal.batches.length - 1).fill("refused")),
    );
    expect(payloads(store).length).to.equal(1);
    expect(sealedPayloads).to.include(payloads(store)[0]);
    expect((await w.c.ledger.getBatch(journal.batches[0].id)).status).to.equal(1n);

    const again = await captured(() => hre.run("usage:ingest", { file, home: "262-01", period, batchSize: 500, store, from: FROM.br }));
    expect(again).to.match(/Already ingested by an earlier run/);
    expect([...again.matchAll(/not billed: batch 0x[0-9a-f]{64}/g)].length).to.equal(journal.batches.length - 1);
    const next = nextMonthFile();
    const nextPeriod = formatPeriod(nextPeriodOf(w.period));
    const done = await captured(() => hre.run("usage:ingest", { file: next, home: "262-01", period: nextPeriod, store, from: FROM.br }));
    expect(done).to.match(/records committed/);
  });

  it("finishes a run whose batches are all on chain even after its deadline (killed before its state was committed)", async function () {
    const file = w.generated.usageFile;
    await hre.run("usage:ingest", { file, home: "262-01", period, batchSize: 1000, store, from: FROM.br });
    // As if killed after its last batch was mined, before the journal said done.
    const journalFile = path.join(workDir, "runs", fs.readdirSync(path.join(workDir, "runs"))[0]);
    const journal = JSON.parse(fs.readFileSync(journalFile, "utf8"));
    fs.writeFileSync(journalFile, JSON.stringify({ ...journal, status: "sealed" }));
    const before = payloads(store);
    await time.increaseTo(await w.c.ledger.submissionDeadline(w.period));
    const text = await captured(() => hre.run("usage:ingest", { file, home: "262-01", period, batchSize: 1000, store, from: FROM.br }));
    expect(text).to.match(/records committed/);
    expect([...text.matchAll(/batch 0x[0-9a-f]{64}: [\d,]+ records/g)].length).to.equal(journal.batches.length);
    expect(text).not.to.match(/not billed|abandoned|closed out/);
    expect(journals(workDir)[0].status).to.equal("done");
    expect(payloads(store)).to.deep.equal(before);
  });

  it("checks before sealing that the period still takes batches: past its deadline, nothing is written", async function () {
    await time.increaseTo(await w.c.ledger.submissionDeadline(w.period));
    const file = w.generated.usageFile;
    const failure = await failureOf(hre.run("usage:ingest", { file, home: "262-01", period, store, from: FROM.br }));
    expect(failure).to.match(/takes no more batches: its submission deadline .* has passed/);
    expect(failure).to.match(/No run was sealed[\s\S]*What to do: the period is over for billing/);
    expect(journals(workDir)).to.deep.equal([]);
    expect(payloads(store)).to.deep.equal([]);
    expect(revertHint("UsageLedgerPeriodClosed")).to.match(/usage:ingest --abandon/);
    expect(revertHint("UsageLedgerSubmissionClosed")).to.match(/Late usage/);
  });

  it("checks before sealing that the pair has an agreement in force (submitBatch requires one)", async function () {
    const agreements = new Proxy(w.br.agreements, {
      get(target, key) {
        if (key === "hasActiveAgreement") return async () => false;
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const opts = w.ingestOptions({ client: { ...w.br, agreements }, workDir, store: new FolderStore(store) });
    const failure = await failureOf(ingestUsage(opts));
    expect(failure).to.match(/724-05 -> 262-01 has no roaming agreement in force now .*, or one of the two carriers is suspended/);
    expect(failure).to.match(/No run was sealed[\s\S]*What to do: check the agreement with `agreement:show`/);
    expect(journals(workDir)).to.deep.equal([]);
    expect(payloads(store)).to.deep.equal([]);
  });

  it("--format reads a file whose name does not tell; bad --format, own home and missing files are explained", async function () {
    const txt = path.join(env.dir, "usage.txt");
    fs.copyFileSync(w.generated.usageFile, txt);
    const base = { file: txt, home: "262-01", period, store, from: FROM.br };
    const untold = await failureOf(hre.run("usage:ingest", base));
    expect(untold).to.match(/usage\.txt: cannot tell the format from the file name[\s\S]*pass the format \(csv or jsonl\)/);
    expect(await failureOf(hre.run("usage:ingest", { ...base, format: "xml" }))).to.match(/--format: xml is not a usage file format/);
    const done = await captured(() => hre.run("usage:ingest", { ...base, format: "csv" }));
    expect(done).to.match(/records committed/);

    const own = await failureOf(hre.run("usage:ingest", { ...base, home: "724-05" }));
    expect(own).to.match(/--home: 724-05 is your own carrier/);
    expect(own).not.to.match(/keys:receive/);
    const missing = path.join("wa", "nope.csv");
    const nope = await failureOf(hre.run("usage:ingest", { ...base, file: missing }));
    expect(nope).to.match(/^wa\/nope\.csv: file not found\nWhat to do: check the path of the usage file/);
    expect(nope.split(missing).length - 1).to.equal(1);
    expect(await failureOf(hre.run("usage:ingest", { ...base, file: undefined }))).to.match(/--file: missing/);
    expect(await failureOf(hre.run("usage:verify", { tolerance: "0", store, period, from: FROM.de }))).to.match(/--visited: missing/);
    expect(await failureOf(hre.run("usage:verify", { tolerance: "0", store, from: FROM.de }))).to.match(/--batch: missing[\s\S]*--period/);
    const both = { batch: `0x${"ab".repeat(32)}`, visited: "724-05", period, tolerance: "0", store, from: FROM.de };
    expect(await failureOf(hre.run("usage:verify", both))).to.match(/--batch: is not taken with --period/);
  });
});
