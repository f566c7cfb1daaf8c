import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ingestWorld, type IngestWorld } from "../../helpers/ingest";
import { PLMN } from "../../helpers/fixtures";
import { writeTapFile } from "../../../lib/tap/fromUsage";
import { TapSequenceLog } from "../../../lib/tap/sequenceLog";
import { SERVICES } from "../../../lib/core/enums";
import { parseUsageFile } from "../../../lib/usage/parse";
import { type ParsedRecord, RATS } from "../../../lib/usage/types";
import type { FileOutcome } from "../../../lib/usage/stream";
import { ingestUsage } from "../../../lib/usage/ingest";
import {
  completeFiles,
  isCandidateName,
  monthOfLine,
  readStreamJournal,
  splitByMonth,
  type StreamOptions,
  streamUsage,
} from "../../../lib/usage/stream";

async function world(): Promise<IngestWorld> {
  return ingestWorld({ devices: 40, seed: 5 });
}

/** The generated file as `count` CSV files (each with the header), in order. */
function chunks(file: string, count: number): string[] {
  const [header, ...lines] = fs.readFileSync(file, "utf8").trimEnd().split("\n");
  const size = Math.ceil(lines.length / count);
  return Array.from({ length: count }, (_, i) => `${[header, ...lines.slice(i * size, (i + 1) * size)].join("\n")}\n`);
}

/** Drops a file as the mediation does: written as name.tmp, then renamed; its mtime `order` seconds ago. */
function drop(spool: string, name: string, text: string, order = 0): void {
  const temp = path.join(spool, `${name}.tmp`);
  fs.writeFileSync(temp, text);
  const t = new Date(Date.now() - 100_000 + order * 1000);
  fs.utimesSync(temp, t, t);
  fs.renameSync(temp, path.join(spool, name));
}

/** Drops a file as it lands now (written as name.tmp, renamed): its mtime is the landing time. */
function dropNow(spool: string, name: string, text: string): void {
  fs.writeFileSync(path.join(spool, `${name}.tmp`), text);
  fs.renameSync(path.join(spool, `${name}.tmp`), path.join(spool, name));
}

/** The data lines of CSV texts (each without its header). */
const dataLines = (texts: string[]) => texts.reduce((n, t) => n + t.trimEnd().split("\n").length - 1, 0);

describe("usage:stream (lib/usage/stream)", function () {
  this.timeout(120_000);

  describe("spool contract and month split", function () {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-spool-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("takes only complete usage files: final names, settled, oldest first", function () {
      const exts = [".csv", ".jsonl", ".ndjson"];
      expect(["a.csv", "b.JSONL", "c.ndjson"].every((n) => isCandidateName(n, exts))).to.equal(true);
      for (const n of [".a.csv", "a.csv.tmp", "a.csv.part", "a.txt", "a.csv.rejects.csv", "a.csv.filepart"]) {
        expect(isCandidateName(n, exts), n).to.equal(false);
      }
      fs.writeFileSync(path.join(dir, "new.csv"), "x");
      fs.writeFileSync(path.join(dir, "old.csv"), "x");
      fs.writeFileSync(path.join(dir, "older.csv"), "x");
      fs.writeFileSync(path.join(dir, "half.csv.tmp"), "x");
      fs.mkdirSync(path.join(dir, "done"));
      const now = Date.now();
      fs.utimesSync(path.join(dir, "old.csv"), new Date(now - 5000), new Date(now - 5000));
      fs.utimesSync(path.join(dir, "older.csv"), new Date(now - 9000), new Date(now - 9000));
      expect(completeFiles(dir, { settleMs: 2000, extensions: exts, now }).map((f) => f.name)).to.deep.equal(["older.csv", "old.csv"]);
      expect(completeFiles(dir, { settleMs: 0, extensions: exts, now: now + 1 }).map((f) => f.name)).to.deep.equal([
        "older.csv",
        "old.csv",
        "new.csv",
      ]);
    });

    it("splits a file spanning a month end by its records' months, keeping the CSV header and undated lines in place", async function () {
      expect(monthOfLine("r1,262010000000001,262-01,724-05,data,2026-11-30T23:59:59Z,1,2,3,1,lte-m")).to.equal(202611);
      expect(monthOfLine('{"recordId":"72405-202611-1","callEventStartTimeStamp":"2026-12-01T00:00:00Z"}')).to.equal(202612);
      expect(monthOfLine("r3,no time here")).to.equal(undefined);
      const file = path.join(dir, "f.csv");
      fs.writeFileSync(
        file,
        ["h1,h2", "a,2026-11-30T23:59:59Z", "b,bad", "c,2026-12-01T00:00:00Z", "d,2026-11-29T10:00:00Z", ""].join("\n"),
      );
      const parts = await splitByMonth(file, { csv: true, partsDir: path.join(dir, "parts"), fallback: 202601 });
      expect(parts.map((p) => p.period)).to.deep.equal([202611, 202612]);
      expect(fs.readFileSync(parts[0].file, "utf8")).to.equal("h1,h2\na,2026-11-30T23:59:59Z\nb,bad\nd,2026-11-29T10:00:00Z\n");
      expect(fs.readFileSync(parts[1].file, "utf8")).to.equal("h1,h2\nc,2026-12-01T00:00:00Z\n");
      const one = path.join(dir, "one.jsonl");
      fs.writeFileSync(one, '{"t":"2026-11-01T00:00:00Z"}\n{"t":"2026-11-02T00:00:00Z"}\n');
      expect(await splitByMonth(one, { csv: false, partsDir: path.join(dir, "p2"), fallback: 202601 })).to.deep.equal([
        { period: 202611, file: one },
      ]);
      expect(fs.existsSync(path.join(dir, "p2"))).to.equal(false);
    });
  });

  describe("on a chain", function () {
    let w: IngestWorld;
    let spool: string;
    const options = (over: Partial<StreamOptions> = {}): StreamOptions => {
      const { file: _f, period: _p, batchSize: _b, ...base } = w.ingestOptions();
      return { ...base, spool, batchSize: 500, settleMs: 0, pollMs: 50, once: true, ...over };
    };

    beforeEach(async function () {
      w = (await loadFixture(world)).freshLocal();
      spool = fs.mkdtempSync(path.join(w.dir, "spool-"));
    });

    it("--once drains the spool: each file ingested once, moved to done/ with its rejects; a second pass sends nothing", async function () {
      const files = chunks(w.generated.usageFile, 3);
      for (const [i, text] of files.entries()) drop(spool, `cdr-${i}.csv`, text, i);
      fs.writeFileSync(path.join(spool, "still-writing.csv.tmp"), files[0]);
      const lines: string[] = [];
      const totals = await streamUsage(options({ log: (l) => lines.push(l) }));
      expect(totals.files).to.equal(3);
      expect(totals.flagged, "the generated month has out-of-policy use").to.be.greaterThan(0);
      expect(
        fs
          .readdirSync(path.join(spool, "done"))
          .filter((n) => n.endsWith(".csv") && !n.includes("rejects"))
          .sort(),
      ).to.deep.equal(["cdr-0.csv", "cdr-1.csv", "cdr-2.csv"]);
      expect(
        fs.readdirSync(path.join(spool, "done")).some((n) => n.endsWith(".rejects.csv")),
        "the 1% malformed lines",
      ).to.equal(true);
      expect(fs.readdirSync(spool).sort()).to.deep.equal([".stream", "done", "rejected", "still-writing.csv.tmp"]);
      expect(readStreamJournal(spool)?.active).to.equal(undefined);
      const history = fs
        .readFileSync(path.join(spool, ".stream", "history.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(history.map((h) => h.name)).to.deep.equal(["cdr-0.csv", "cdr-1.csv", "cdr-2.csv"]);
      const batches = Number((await w.c.ledger.getPeriod(PLMN.DE, PLMN.BR, w.period)).batchCount);
      expect(batches).to.equal(totals.batches);
      expect(lines.join("\n")).to.match(/taken cdr-0\.csv/);

      // The same content dropped again under another name: the ingest's run key knows it, nothing is sent.
      drop(spool, "cdr-0-again.csv", files[0]);
      const again = await streamUsage(options());
      expect(again.files).to.equal(1);
      expect(again.batches).to.equal(0);
      expect(Number((await w.c.ledger.getPeriod(PLMN.DE, PLMN.BR, w.period)).batchCount)).to.equal(batches);
      expect(await streamUsage(options())).to.deep.include({ files: 0 });
    });

    it("resumes a file from the journal's step: taken but not moved, and ingested but not journaled", async function () {
      const [first, second] = chunks(w.generated.usageFile, 2);
      drop(spool, "a.csv", first, 0);
      // Killed right after journaling the take: the file is still in the spool.
      fs.mkdirSync(path.join(spool, ".stream"), { recursive: true });
      const journal = {
        version: 1,
        visited: PLMN.BR,
        home: PLMN.DE,
        active: { name: "a.csv", step: "take", batchSize: 500, takenAt: "t" },
      };
      fs.writeFileSync(path.join(spool, ".stream", "journal.json"), JSON.stringify(journal));
      expect((await streamUsage(options())).files).to.equal(1);
      const after1 = Number((await w.c.ledger.getPeriod(PLMN.DE, PLMN.BR, w.period)).batchCount);

      // Killed after the part was ingested and before the journal said so.
      const work = path.join(spool, ".stream", "work");
      fs.writeFileSync(path.join(work, "b.csv"), second);
      const summary = await ingestUsage(w.ingestOptions({ file: path.join(work, "b.csv"), batchSize: 500 }));
      const parts = [{ period: w.period, file: path.join(work, "b.csv") }];
      const active = { name: "b.csv", step: "ingest", batchSize: 500, takenAt: "t", parts, partsDone: 0, refused: {} };
      fs.writeFileSync(path.join(spool, ".stream", "journal.json"), JSON.stringify({ ...journal, active }));
      const outcomes: unknown[] = [];
      // It counts what it sent: nothing, the part was on chain already.
      expect((await streamUsage(options({ onFile: (o) => outcomes.push(o) }))).batches).to.equal(0);
      expect(outcomes).to.have.length(1);
      expect((outcomes[0] as { parts: { summary: { alreadyDone: boolean } }[] }).parts[0].summary.alreadyDone).to.equal(true);
      expect(Number((await w.c.ledger.getPeriod(PLMN.DE, PLMN.BR, w.period)).batchCount)).to.equal(after1 + summary.batches.length);
      expect(fs.existsSync(path.join(spool, "done", "b.csv"))).to.equal(true);
    });

    it("rolls over at the month end: a file spanning it goes to both periods' batches", async function () {
      const [header, ...lines] = fs.readFileSync(w.generated.usageFile, "utf8").trimEnd().split("\n");
      const next = w.period % 100 === 12 ? w.period + 89 : w.period + 1;
      const nextText = `${Math.floor(next / 100)}-${String(next % 100).padStart(2, "0")}`;
      const late = lines.slice(0, 300);
      // The same records again in the next month's first day, with ids of their own.
      const early = lines.slice(300, 600).map((l) => l.replace(/^([^,]*),/, "$1-n,").replace(/\d{4}-\d{2}-\d{2}T/, `${nextText}-01T`));
      drop(spool, "rollover.csv", `${[header, ...late, ...early].join("\n")}\n`);
      const end = Date.UTC(Math.floor(next / 100), (next % 100) - 1, 1) / 1000;
      // Half an hour into the new month: the old period still takes batches until its submission deadline.
      await time.increaseTo(end + 1800);
      const outcomes: { parts: { period: number; summary?: { accepted: number } }[] }[] = [];
      await streamUsage(options({ onFile: (o) => outcomes.push(o) }));
      expect(outcomes[0].parts.map((p) => p.period)).to.deep.equal([w.period, next]);
      expect(outcomes[0].parts.every((p) => (p.summary?.accepted ?? 0) > 0)).to.equal(true);
      expect(Number((await w.c.ledger.getPeriod(PLMN.DE, PLMN.BR, w.period)).batchCount)).to.be.greaterThan(0);
      expect(Number((await w.c.ledger.getPeriod(PLMN.DE, PLMN.BR, next)).batchCount)).to.be.greaterThan(0);
      const done = fs.readdirSync(path.join(spool, "done")).sort();
      expect(done).to.include("rollover.csv");
      expect(fs.existsSync(path.join(spool, ".stream", "work", "rollover.csv.parts"))).to.equal(false);
    });

    it("refuses a file whole when its period is past its submission deadline: rejected/ with the reason, the stream goes on", async function () {
      await time.increaseTo(await w.c.ledger.submissionDeadline(w.period));
      drop(spool, "late.csv", fs.readFileSync(w.generated.usageFile, "utf8"));
      const totals = await streamUsage(options());
      expect(totals).to.deep.include({ files: 1, rejectedFiles: 1, batches: 0 });
      expect(fs.readFileSync(path.join(spool, "rejected", "late.csv.refused.txt"), "utf8")).to.match(/submission deadline .* has passed/);
      expect(fs.existsSync(path.join(spool, "rejected", "late.csv"))).to.equal(true);
      expect(Number((await w.c.ledger.getPeriod(PLMN.DE, PLMN.BR, w.period)).batchCount)).to.equal(0);
    });

    it("takes a TAP 3.12 file (a TD.57 name, no extension) by its content, as usage:ingest does", async function () {
      const records: ParsedRecord[] = [];
      const lte = RATS.indexOf("lte");
      for await (const chunk of parseUsageFile(w.generated.usageFile, { home: PLMN.DE, visited: PLMN.BR, period: w.period })) {
        for (const r of chunk.records) if (r.service !== 3) records.push({ ...r, rat: lte, latencyMs: 0, throughputKbps: 0 });
      }
      const name = "CDBRAVODEUD100001";
      const written = await writeTapFile(path.join(spool, name), records.slice(0, 400), {
        sender: "BRAVO",
        recipient: "DEUD1",
        fileSequenceNumber: 1,
        sms: "split",
      });
      fs.writeFileSync(path.join(spool, "notes.txt"), "not usage");
      const outcomes: FileOutcome[] = [];
      const totals = await streamUsage(options({ onFile: (o) => outcomes.push(o) }));
      expect(totals.files).to.equal(1);
      const summary = outcomes[0].parts[0].summary;
      expect(summary?.tap?.callEvents).to.equal(written.callEvents);
      expect((summary?.accepted ?? 0) + (summary?.rejected ?? 0)).to.equal(written.callEvents);
      expect(totals.batches).to.be.greaterThan(0);
      expect(fs.existsSync(path.join(spool, "done", name))).to.equal(true);
      expect(fs.existsSync(path.join(spool, "notes.txt")), "anything else is left alone").to.equal(true);
    });

    it("splits a TAP file spanning a month end: each month's call events to that period, every one reported once, its sequence number recorded once", async function () {
      const records: ParsedRecord[] = [];
      const lte = RATS.indexOf("lte");
      for await (const chunk of parseUsageFile(w.generated.usageFile, { home: PLMN.DE, visited: PLMN.BR, period: w.period })) {
        for (const r of chunk.records) if (r.service !== 3) records.push({ ...r, rat: lte, latencyMs: 0, throughputKbps: 0 });
      }
      const next = w.period % 100 === 12 ? w.period + 89 : w.period + 1;
      const end = Date.UTC(Math.floor(next / 100), (next % 100) - 1, 1) / 1000;
      // The last 200 call events happened on the next month's first day (a file sent after the month's end).
      const spanning = records.slice(0, 600).map((r, i) => (i < 400 ? r : { ...r, startTime: end + (r.startTime % 86_400) }));
      const name = "CDBRAVODEUD100001";
      const written = await writeTapFile(path.join(spool, name), spanning, {
        sender: "BRAVO",
        recipient: "DEUD1",
        fileSequenceNumber: 1,
        sms: "split",
      });
      await time.increaseTo(end + 1800);
      const tapSequenceDir = path.join(w.dir, "tap-sequence");
      const outcomes: FileOutcome[] = [];
      await streamUsage(options({ onFile: (o) => outcomes.push(o), tapSequenceDir }));
      const parts = outcomes[0].parts;
      expect(parts.map((p) => p.period)).to.deep.equal([w.period, next]);
      const reported = parts.map((p) => (p.summary?.accepted ?? 0) + (p.summary?.rejected ?? 0));
      expect(reported[0] + reported[1], "each call event once across the parts").to.equal(written.callEvents);
      // One call event per record, one per message for an SMS (the writer splits them): the moved ones are part 2's.
      const events = (r: ParsedRecord) => (r.service === SERVICES.indexOf("sms") ? Math.max(1, r.events) : 1);
      expect(reported[1]).to.equal(spanning.slice(400).reduce((n, r) => n + events(r), 0));
      for (const period of [w.period, next]) {
        expect(Number((await w.c.ledger.getPeriod(PLMN.DE, PLMN.BR, period)).batchCount), String(period)).to.be.greaterThan(0);
      }
      // no OUTSIDE_PERIOD reject: the other month's call events are that part's, not errors
      const rejects = fs.readdirSync(path.join(spool, "done")).filter((n) => n.endsWith(".rejects.csv"));
      for (const f of rejects) expect(fs.readFileSync(path.join(spool, "done", f), "utf8")).to.not.match(/OUTSIDE_PERIOD/);
      const log = TapSequenceLog.open(tapSequenceDir, "BRAVO", "DEUD1");
      expect(log.imports.map((i) => i.fsn)).to.deep.equal(["00001"]);
      expect(fs.existsSync(path.join(spool, "done", name))).to.equal(true);
      expect(fs.existsSync(path.join(spool, ".stream", "work", `${name}.parts`))).to.equal(false);
      // the same file again (a resend): every part's run is done, nothing is sent, the number stays recorded once
      fs.copyFileSync(path.join(spool, "done", name), path.join(spool, `${name}.again`));
      const again = await streamUsage(options({ tapSequenceDir }));
      expect(again.batches).to.equal(0);
    });

    it("--batch-seconds with --once: the spool's files go in one run (one batch, not one per file), each to done/, with a manifest of their lines", async function () {
      const files = chunks(w.generated.usageFile, 4);
      for (const [i, text] of files.entries()) drop(spool, `cdr-${i}.csv`, text, i);
      const outcomes: FileOutcome[] = [];
      const totals = await streamUsage(options({ batchSeconds: 30, batchSize: 100_000, onFile: (o) => outcomes.push(o) }));
      expect(totals).to.deep.include({ files: 4, batches: 1 });
      expect(outcomes).to.have.length(1);
      expect(outcomes[0].files).to.deep.equal(["cdr-0.csv", "cdr-1.csv", "cdr-2.csv", "cdr-3.csv"]);
      expect(Number((await w.c.ledger.getPeriod(PLMN.DE, PLMN.BR, w.period)).batchCount)).to.equal(1);
      const done = fs.readdirSync(path.join(spool, "done"));
      for (let i = 0; i < 4; i++) expect(done).to.include(`cdr-${i}.csv`);
      const manifest = fs
        .readFileSync(path.join(spool, "done", "cdr-0.csv.group.txt"), "utf8")
        .trim()
        .split("\n")
        .slice(1);
      expect(manifest.map((l) => l.split("\t")[0])).to.deep.equal(["cdr-0.csv", "cdr-1.csv", "cdr-2.csv", "cdr-3.csv"]);
      // the run's lines: the header, then each file's data lines in turn
      expect(manifest[0]).to.match(/\tlines 2-/);
      const rejects = done.filter((n) => n.endsWith(".rejects.csv"));
      expect(rejects).to.deep.equal([`cdr-0.csv.${w.period}.rejects.csv`]);
      const rejected =
        fs
          .readFileSync(path.join(spool, "done", rejects[0]), "utf8")
          .trim()
          .split("\n").length - 1;
      expect(totals.records + rejected, "every data line a record or a reject").to.equal(dataLines(files));
      expect(fs.readdirSync(path.join(spool, ".stream", "work"))).to.deep.equal([]);
    });

    it("--batch-seconds: a group taken but not all moved when killed resumes as the same one run", async function () {
      const [first, second] = chunks(w.generated.usageFile, 2);
      drop(spool, "a.csv", first, 0);
      drop(spool, "b.csv", second, 1);
      const work = path.join(spool, ".stream", "work");
      fs.mkdirSync(work, { recursive: true });
      fs.renameSync(path.join(spool, "a.csv"), path.join(work, "a.csv"));
      const active = { name: "a.csv", group: ["a.csv", "b.csv"], step: "take", batchSize: 100_000, takenAt: "t" };
      fs.writeFileSync(
        path.join(spool, ".stream", "journal.json"),
        JSON.stringify({ version: 1, visited: PLMN.BR, home: PLMN.DE, active }),
      );
      const totals = await streamUsage(options({ batchSeconds: 30, batchSize: 100_000 }));
      expect(totals).to.deep.include({ files: 2, batches: 1 });
      expect(
        fs
          .readdirSync(path.join(spool, "done"))
          .filter((n) => n.endsWith(".csv") && !n.includes("rejects"))
          .sort(),
      ).to.deep.equal(["a.csv", "b.csv"]);
      expect(readStreamJournal(spool)?.active).to.equal(undefined);
    });

    it("--batch-seconds while following: fraud is flagged as the files land, before their batch; the batch is sealed once the oldest is T seconds old", async function () {
      const controller = new AbortController();
      const lines: string[] = [];
      // Room for a slow machine (the coverage run's instrumented chain): the flag must come before the batch.
      const batchSeconds = 6;
      const running = streamUsage(
        options({
          once: false,
          settleMs: 0,
          pollMs: 100,
          batchSeconds,
          batchSize: 100_000,
          signal: controller.signal,
          log: (l) => lines.push(l),
        }),
      );
      const batches = async () => Number((await w.c.ledger.getPeriod(PLMN.DE, PLMN.BR, w.period)).batchCount);
      try {
        const files = chunks(w.generated.usageFile, 3);
        const landed = Date.now();
        for (const [i, text] of files.entries()) dropNow(spool, `g-${i}.csv`, text);
        let flags = 0;
        while (flags === 0 && Date.now() - landed < 20_000) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          flags = (await w.c.devices.queryFilter(w.c.devices.filters.FraudFlagged(), 0)).length;
        }
        const flagDelay = Date.now() - landed;
        expect(flags, "the screen flagged the month's out-of-policy use").to.be.greaterThan(0);
        expect(await batches(), "flagged before any batch").to.equal(0);
        while ((await batches()) === 0 && Date.now() - landed < 40_000) await new Promise((resolve) => setTimeout(resolve, 100));
        const batchDelay = Date.now() - landed;
        console.log(
          `      files landed to first flag ${flagDelay} ms, to their one batch ${batchDelay} ms (--batch-seconds ${batchSeconds})`,
        );
        expect(batchDelay).to.be.at.least(batchSeconds * 1000 - 100);
        expect(await batches()).to.equal(1);
        expect(lines.join("\n")).to.match(/taken 3 files from g-0\.csv as one run/);
        // the run found the flags standing: it sent none again
        expect((await w.c.devices.queryFilter(w.c.devices.filters.FraudFlagged(), 0)).length).to.equal(flags);
      } finally {
        controller.abort();
        await running;
      }
    });

    it("puts a fraud record's flag on chain within 10 s of its file landing, while following the spool", async function () {
      const controller = new AbortController();
      const running = streamUsage(options({ once: false, settleMs: 200, signal: controller.signal }));
      try {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const landed = Date.now();
        drop(spool, "live.csv", fs.readFileSync(w.generated.usageFile, "utf8"), 99);
        let flagged = 0;
        while (flagged === 0 && Date.now() - landed < 15_000) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          flagged = (await w.c.devices.queryFilter(w.c.devices.filters.FraudFlagged(), 0)).length;
        }
        const delay = Date.now() - landed;
        console.log(`      file landed to first fraud flag on chain: ${delay} ms`);
        expect(flagged).to.be.greaterThan(0);
        expect(delay).to.be.below(10_000);
      } finally {
        controller.abort();
        await running;
      }
    });
  });
});
