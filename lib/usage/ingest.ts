import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import type { Signer } from "ethers";
import { ConfigError, InputError } from "../core/errors";
import { bytesToHex, type Hex } from "../util/hex";
import { formatPlmn } from "../core/plmn";
import { noProgress, type ProgressFactory } from "../util/progress";
import { writeFileAtomic, renameIfPresent, removeStaleTempFiles, processAlive } from "../util/fsAtomic";
import { withDecodedRevert } from "../chain/revert";
import type { RoamLedgerClient } from "../chain/client";
import { DeviceResolver, registrySource, STATUS, type DeviceSource } from "../devices/resolver";
import { RecordChecker, isFraud } from "./check";
import { loadState, saveState } from "./state";
import { formatFromExtension, parseUsageFile } from "./parse";
import { RecordIdSet } from "./recordIdSet";
import { RejectsWriter } from "./rejects";
import { BatchBuilder, type SealedBatch } from "./batchBuilder";
import { SealThread, sealOnThread } from "./sealThread";
import { batchId as batchIdOf, ledgerDomain, signBatch, toContractBatch } from "./batch";
import { periodBounds, formatPeriod } from "../core/period";
import { totalsFromJson, totalsToJson } from "./payload";
import type { ContentStore } from "./store";
import { TxQueue } from "../chain/txQueue";
import type { ParsedRecord, Reject, RejectCode, UsageBatch } from "./types";
import { BILLING } from "../core/enums";

/** Records per batch unless told otherwise: ~14 MB of leaves and packed records in memory per batch. */
export const DEFAULT_BATCH_SIZE = 100_000;
/**
 * Fraud flags per transaction (the registry takes up to 2,000): about 40,000 gas each, so a transaction
 * stays under 16,777,216 gas, the per-transaction cap of EIP-7825 that nodes apply to gas estimates
 * (anvil does) and that networks enforce from the Osaka fork on.
 */
export const FLAGS_PER_TX = 300;
/** Permanent-roamer reports per transaction: about 32,500 gas each, under the same cap. */
export const ROAMERS_PER_TX = 300;

export interface IngestOptions {
  file: string;
  /** The home partner the file bills, and our own PLMN (bytes3 hex). */
  home: Hex;
  visited: Hex;
  /** yyyymm. */
  period: number;
  /** Connected to an operator of the visited carrier (signs batches, sends flags). */
  client: RoamLedgerClient;
  signer: Signer;
  chainId: bigint;
  /** The home carrier's IMSI key, as shared with us (keys:receive). */
  imsiKey: Uint8Array;
  /** Pairwise payload key of (visited, home). */
  pairKey: Uint8Array;
  /** Local state of this (visited, home) pair: presence, counters, run journals. */
  workDir: string;
  store: ContentStore;
  batchSize?: number;
  /** Overrides the registry reads (tests). */
  deviceSource?: DeviceSource;
  /** Reports progress of reading the file and of submitting batches (default: nothing reported). */
  progress?: ProgressFactory;
  /** Status lines (submissions, flags). */
  log?: (line: string) => void;
}

export interface BatchOutcome {
  id: Hex;
  sequence: number;
  records: number;
  payloadHash: Hex;
  /** new: sent by this run; existing: already on-chain (an earlier, interrupted run sent it). */
  submitted?: "new" | "existing";
  txHash?: string;
  gasUsed?: string;
}

export interface IngestSummary {
  runKey: string;
  file: string;
  status: "done";
  /** True when an earlier run had already ingested this exact file: nothing was sent. */
  alreadyDone: boolean;
  lines: number;
  accepted: number;
  rejected: number;
  rejectsByCode: Partial<Record<RejectCode, number>>;
  rejectsFile?: string;
  billable: number;
  notBillableByReason: Record<string, number>;
  flaggedDevices: number;
  flagTxs: string[];
  permanentRoamers: number;
  roamerTxs: string[];
  devices: number;
  batches: BatchOutcome[];
  /**
   * Processing (parse, validate, resolve devices from the cache, check, aggregate, Merkle, encrypt, store),
   * chain excluded: the time spent in device and policy reads and in sending fraud flags is taken off.
   */
  processingMs: number;
  recordsPerSec: number;
  /** Chain time taken off `processingMs`: device and policy reads, fraud flags sent and mined. */
  chainMs?: number;
  /** Hashing the file (sha-256, for the run key), before processing. */
  fileHashMs?: number;
  /**
   * CPU time of the process (all its threads) while processing, chain waits included (they cost
   * little CPU): on a machine busy with other work, the wall-clock `processingMs` grows, this does not.
   */
  processingCpuMs?: number;
  /**
   * Peak resident memory of the process (all of it: Node, the parser, caches), MB: at the end of the
   * command (processing, submissions, reports); a summary read back from an unfinished run's journal has
   * the peak at the end of processing.
   */
  peakRssMb?: number;
}

interface RoamerReport {
  deviceId: Hex;
  daysPresent: number;
  evidenceHash: Hex;
}

interface Journal {
  version: 1;
  runKey: string;
  file: string;
  fileHash: string;
  visited: Hex;
  home: Hex;
  period: number;
  batchSize: number;
  status: "sealed" | "done";
  summary: Omit<IngestSummary, "batches" | "status" | "alreadyDone" | "roamerTxs" | "permanentRoamers">;
  batches: (BatchOutcome & { batch: unknown })[];
  roamers: RoamerReport[];
  roamerTxs: string[];
}

/** A batch summary as JSON (bigints as decimal strings) and back: what the journal keeps. */
export function batchToJson(batch: UsageBatch): unknown {
  return { ...batch, totals: totalsToJson(batch.totals) };
}

export function batchFromJson(raw: unknown): UsageBatch {
  const b = raw as UsageBatch & { totals: Record<string, unknown>[] };
  return { ...b, totals: totalsFromJson(b.totals) };
}

/** Sha-256 of a file, streamed. */
async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The state folder of a (visited, home) pair under a carrier's home folder. */
export function pairWorkDir(root: string, visited: Hex, home: Hex): string {
  return path.join(root, "usage", `${formatPlmn(visited)}_${formatPlmn(home)}`);
}

class Lock {
  private constructor(private readonly file: string) {}

  static acquire(dir: string): Lock {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "lock");
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, String(process.pid), { flag: "wx" });
        return new Lock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const pid = Number(fs.readFileSync(file, "utf8"));
        if (pid && pid !== process.pid && processAlive(pid)) {
          throw new ConfigError(`another usage:ingest (process ${pid}) is working on ${dir}`, {
            hint: "wait for it to finish; runs of one partner pair are strictly one after the other.",
          });
        }
        fs.rmSync(file, { force: true }); // a dead run's lock
      }
    }
    throw new ConfigError(`cannot lock ${dir}`, { hint: "remove the stale `lock` file there." });
  }

  release(): void {
    fs.rmSync(this.file, { force: true });
  }
}

function readJournal(file: string): Journal | undefined {
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, "utf8")) as Journal;
}

function writeJournal(file: string, journal: Journal): void {
  writeFileAtomic(file, JSON.stringify(journal, null, 1));
}

/**
 * Ingests one usage file of the visited carrier for one home partner and period, end to end:
 * parse and validate (rejects to `<file>.rejects.csv`), resolve devices and policies (cached), check
 * each record against its policy (out-of-policy use is committed as not billable and flagged as fraud
 * on-chain while the file is read), detect permanent roamers across periods, aggregate per tariff class,
 * commit batches (Merkle root, encrypted payload in the store, EIP-712 signed summary), report permanent
 * roamers, then commit the local state.
 *
 * Crash safety: the run key is derived from the file's content and the run's parameters. Processing
 * changes nothing but flags (idempotent) and content-addressed store objects until the run is sealed:
 * a journal with every batch summary and the new local state written beside the old one. Submission
 * skips batches already on-chain; the final step renames the new state into place. Running the same
 * command again after a crash at any point therefore ends in the same chain and local state as one
 * clean run, and running it after success sends nothing. Temp files a killed run left in the work
 * folder, the payload store and beside the rejects file are removed by the next run.
 */
export async function ingestUsage(opts: IngestOptions): Promise<IngestSummary> {
  const log = opts.log ?? (() => {});
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 4_000_000) {
    throw new InputError(`--batch-size ${batchSize} is out of range`, { hint: "use 1 to 4,000,000 records per batch." });
  }
  if (!fs.existsSync(opts.file) || !fs.statSync(opts.file).isFile()) {
    throw new InputError(`${opts.file} does not exist or is not a file`, {
      location: { file: opts.file },
      hint: "pass the usage file (CSV or JSON lines) with --file.",
    });
  }
  const ledger = opts.client.ledger;
  const hashStarted = Date.now();
  const fileHash = await hashFile(opts.file);
  const fileHashMs = Date.now() - hashStarted;
  const runKey = createHash("sha256")
    .update([fileHash, opts.visited, opts.home, opts.period, batchSize, opts.chainId, await ledger.getAddress()].join("|"))
    .digest("hex")
    .slice(0, 32);
  const runsDir = path.join(opts.workDir, "runs");
  const journalFile = path.join(runsDir, `${runKey}.json`);
  const lock = Lock.acquire(opts.workDir);
  try {
    // A run killed mid-write leaves temp files; under the lock, no other run of the pair is writing.
    removeStaleTempFiles(opts.workDir);
    removeStaleTempFiles(runsDir);
    opts.store.removeStaleTemps?.();
    let journal = readJournal(journalFile);
    if (journal?.status === "done") {
      log(`this file was already ingested (run ${runKey}); nothing to send`);
      return summaryOf(journal, true);
    }
    if (!journal) {
      refuseUnfinishedRuns(runsDir, runKey);
      journal = await processFile(opts, { runKey, fileHash, fileHashMs, batchSize, journalFile });
    } else {
      log(`resuming run ${runKey}: its batches are sealed, sending what is not on-chain yet`);
    }
    await submitBatches(opts, journal, journalFile, log);
    await reportRoamers(opts, journal, journalFile, log);
    commitState(opts, journal);
    journal.status = "done";
    // The whole command's peak: processing, then the submissions and reports.
    journal.summary.peakRssMb = Math.max(journal.summary.peakRssMb ?? 0, peakRssMb());
    writeJournal(journalFile, journal);
    return summaryOf(journal, false);
  } finally {
    lock.release();
  }
}

/** This process's peak resident memory so far, MB. */
function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

function refuseUnfinishedRuns(runsDir: string, runKey: string): void {
  if (!fs.existsSync(runsDir)) return;
  for (const name of fs.readdirSync(runsDir)) {
    if (!name.endsWith(".json") || name === `${runKey}.json`) continue;
    const other = readJournal(path.join(runsDir, name));
    if (other && other.status !== "done") {
      throw new ConfigError(`an earlier run (${other.file}, period ${other.period}) stopped before it finished`, {
        details: "Its batches are sealed and its local state is not committed yet; a new file would be counted against the old state.",
        hint: `run usage:ingest again with --file ${other.file} --period ${formatPeriod(other.period)} first.`,
      });
    }
  }
}

function statePaths(workDir: string, period: number, runKey: string) {
  return {
    state: path.join(workDir, "state.json"),
    statePending: path.join(workDir, `state.pending-${runKey}.json`),
    ids: path.join(workDir, `ids-${period}.bin`),
    idsPending: path.join(workDir, `ids-${period}.pending-${runKey}.bin`),
  };
}

async function processFile(
  opts: IngestOptions,
  run: { runKey: string; fileHash: string; fileHashMs: number; batchSize: number; journalFile: string },
): Promise<Journal> {
  const log = opts.log ?? (() => {});
  const { client, visited, home, period } = opts;
  const [start] = periodBounds(period);
  // Chain time, not this machine's clock: the agreement in force is the one the contracts will see.
  const latest = await opts.signer.provider!.getBlock("latest");
  const now = BigInt(latest!.timestamp);
  const agreementTime = BigInt(start) > now ? now : BigInt(start);
  if (!(await client.agreements.hasActiveAgreement(home, visited, now))) {
    throw new ConfigError(`${formatPlmn(visited)} and ${formatPlmn(home)} have no roaming agreement in force`, {
      hint: "propose and accept one (agreement:propose / agreement:accept) before billing usage.",
    });
  }
  const [terms] = await withDecodedRevert(() => client.agreements.termsAt(home, visited, agreementTime)).catch(() =>
    client.agreements.termsAt(home, visited, now),
  );
  const agreementDays = Number(terms.permanentRoamingDays);

  const paths = statePaths(opts.workDir, period, run.runKey);
  const state = loadState(paths.state);
  const fileSize = fs.statSync(opts.file).size;
  // One table for the ids of the period's earlier files and of this one (with their lines), sized once
  // for both: about 100 bytes per CSV record, 250 per JSON line, as the parser estimates.
  const seenIds = await RecordIdSet.load(paths.ids, {
    missingOk: true,
    withValues: true,
    room: Math.ceil(fileSize / (formatFromExtension(opts.file) === "jsonl" ? 250 : 100)),
  });
  const resolver = new DeviceResolver(opts.deviceSource ?? registrySource(client.devices), opts.imsiKey);
  const checker = new RecordChecker(state, visited, period, agreementDays);
  const thread = sealOnThread(fileSize) ? new SealThread() : undefined;
  const builder = await BatchBuilder.create({ visited, home, period, batchSize: run.batchSize, thread });
  const rejects = await RejectsWriter.open(opts.file);
  const flags = new TxQueue(log);
  const progress = (opts.progress ?? noProgress)({ label: `ingest ${path.basename(opts.file)}`, total: fileSize, unit: "bytes" });

  const sealed: (SealedBatch & { id: Hex })[] = [];
  const roamers: RoamerReport[] = [];
  const flagged = new Set<string>();
  const pendingFlags: { id: Hex; reason: number; evidenceHash: Hex }[] = [];
  const notBillable: Record<string, number> = {};
  let lines = 0;
  let accepted = 0;
  let billable = 0;
  const startedAt = Date.now();
  const startedCpu = process.cpuUsage();
  let chainMs = 0;

  /** Sends every pending flag, FLAGS_PER_TX per transaction, without waiting for them to be mined. */
  const sendFlags = async () => {
    while (pendingFlags.length > 0) {
      const chunk = pendingFlags.splice(0, FLAGS_PER_TX);
      const t = Date.now();
      await flags.send(`fraud flags for ${chunk.length} device(s)`, () => client.devices.flagFraud(chunk));
      chainMs += Date.now() - t;
    }
  };

  const rejectRecord = (record: ParsedRecord, code: RejectCode, reason: string) => {
    const reject: Reject = { line: record.line, code, reason, raw: record.imsi ? `${record.recordId},${record.imsi}` : "" };
    pendingRejects.push(reject);
    // Not committed: a later file of the period may bring the record again.
    seenIds.keepOut(record.recordId);
  };
  const pendingRejects: Reject[] = [];

  /** The batch being sealed (on the thread, while the next one fills): one at a time, in order. */
  let sealing: Promise<SealedBatch & { id: Hex }> | undefined;
  const startSeal = async () => {
    if (sealing) sealed.push(await sealing);
    sealing = sealBatch(opts, builder);
    sealing.catch(() => {}); // awaited later; a failure surfaces there
  };

  try {
    for await (const chunk of parseUsageFile(opts.file, { home, visited, period, seenIds })) {
      await rejects.write(chunk.rejects);
      lines += chunk.records.length + chunk.rejects.length;
      const devices = await resolver.resolveEach(chunk.records.map((r) => r.imsi));
      for (let i = 0; i < chunk.records.length; i++) {
        const record = chunk.records[i];
        const device = devices[i];
        if (device.status === STATUS.None) {
          rejectRecord(record, "UNKNOWN_DEVICE", `imsi: no device of ${formatPlmn(home)} is registered for this IMSI`);
          continue;
        }
        if (device.home !== home) {
          rejectRecord(record, "DEVICE_OF_OTHER_HOME", `imsi: the device is registered by ${formatPlmn(device.home)}`);
          continue;
        }
        const outcome = checker.check(record, device);
        builder.add(record, device.deviceId, outcome, device.ids, device.idAt);
        accepted++;
        if (outcome.billing === 0) {
          billable++;
        } else {
          const name = BILLING[outcome.billing];
          notBillable[name] = (notBillable[name] ?? 0) + 1;
          if (isFraud(outcome.billing) && !flagged.has(device.deviceId)) {
            flagged.add(device.deviceId);
            if (device.status !== STATUS.FraudFlagged) {
              pendingFlags.push({ id: device.deviceId, reason: outcome.billing, evidenceHash: bytesToHex(builder.lastLeaf()) });
            }
          }
        }
        if (outcome.becameRoamer) {
          roamers.push({ deviceId: device.deviceId, daysPresent: outcome.daysPresent, evidenceHash: bytesToHex(builder.lastLeaf()) });
        }
        if (builder.full) await startSeal();
      }
      if (pendingRejects.length > 0) await rejects.write(pendingRejects.splice(0));
      // Fraud is reported while the file is read, not at the end: the home carrier sees it at once.
      await sendFlags();
      progress.update(chunk.bytesRead, `${accepted.toLocaleString("en-US")} records`);
    }
    if (builder.count > 0) await startSeal();
    if (sealing) sealed.push(await sealing);
    sealing = undefined;
    await sendFlags();
    const t = Date.now();
    await flags.drain();
    chainMs += Date.now() - t;
  } catch (error) {
    await sealing?.catch(() => {});
    await rejects.abort();
    progress.done("failed");
    await flags.drain().catch(() => {});
    throw error;
  } finally {
    await thread?.close();
  }
  const rejectsSummary = await rejects.close();
  const rejectCounts = rejectsSummary.counts;
  const rejectsFile = rejectsSummary.path;
  chainMs += resolver.readMs;
  const processingMs = Date.now() - startedAt - chainMs;
  const cpu = process.cpuUsage(startedCpu);
  progress.done(`${accepted.toLocaleString("en-US")} records in ${sealed.length} batch(es)`);

  // Seal: the new local state beside the old one, then the journal that names both.
  saveState(paths.statePending, state);
  await seenIds.save(paths.idsPending);
  const rejected = rejectsSummary.total;
  const journal: Journal = {
    version: 1,
    runKey: run.runKey,
    file: path.resolve(opts.file),
    fileHash: run.fileHash,
    visited,
    home,
    period,
    batchSize: run.batchSize,
    status: "sealed",
    summary: {
      runKey: run.runKey,
      file: path.resolve(opts.file),
      lines,
      accepted,
      rejected,
      rejectsByCode: rejectCounts,
      rejectsFile: rejected > 0 ? rejectsFile : undefined,
      billable,
      notBillableByReason: notBillable,
      flaggedDevices: flagged.size,
      flagTxs: flags.hashes,
      devices: resolver.devices.length,
      processingMs,
      recordsPerSec: processingMs > 0 ? Math.round((accepted / processingMs) * 1000) : accepted,
      chainMs,
      fileHashMs: run.fileHashMs,
      processingCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      peakRssMb: peakRssMb(),
    },
    batches: sealed.map((b) => ({
      id: b.id,
      sequence: b.sequence,
      records: b.batch.recordCount,
      payloadHash: b.batch.payloadHash,
      batch: batchToJson(b.batch),
    })),
    roamers,
    roamerTxs: [],
  };
  writeJournal(run.journalFile, journal);
  return journal;
}

async function sealBatch(opts: IngestOptions, builder: BatchBuilder): Promise<SealedBatch & { id: Hex }> {
  const sealed = await builder.seal(opts.pairKey, opts.store);
  return { ...sealed, id: batchIdOf(sealed.batch) };
}

async function submitBatches(opts: IngestOptions, journal: Journal, journalFile: string, log: (l: string) => void) {
  const ledger = opts.client.ledger;
  const domain = ledgerDomain(opts.chainId, await ledger.getAddress());
  const queue = new TxQueue(log);
  const progress = (opts.progress ?? noProgress)({ label: "submit batches", total: journal.batches.length, unit: "batches" });
  const sent: { entry: BatchOutcome; index: number }[] = [];
  for (const entry of journal.batches) {
    const info = await ledger.getBatch(entry.id);
    if (Number(info.status) !== 0) {
      entry.submitted ??= "existing";
      progress.tick();
      continue;
    }
    const batch = batchFromJson(entry.batch) as UsageBatch;
    if (!(await opts.store.has(batch.payloadHash))) {
      throw new ConfigError(`the payload of batch ${entry.id} is missing from the store ${opts.store.describe()}`, {
        hint: "restore the store folder; the batch cannot be committed without the payload the home carrier will fetch.",
      });
    }
    const signature = await signBatch(opts.signer, domain, batch);
    const index = await queue.send(
      `batch ${entry.sequence + 1}/${journal.batches.length} (${entry.records.toLocaleString("en-US")} records)`,
      () => ledger.submitBatch(toContractBatch(batch), signature),
    );
    sent.push({ entry, index });
    progress.tick();
  }
  const receipts = await queue.drain();
  for (const { entry, index } of sent) {
    entry.submitted = "new";
    entry.txHash = receipts[index].hash;
    entry.gasUsed = receipts[index].gasUsed.toString();
  }
  progress.done();
  writeJournal(journalFile, journal);
}

async function reportRoamers(opts: IngestOptions, journal: Journal, journalFile: string, log: (l: string) => void) {
  if (journal.roamers.length === 0) return;
  const ledger = opts.client.ledger;
  const queue = new TxQueue(log);
  for (let i = 0; i < journal.roamers.length; i += ROAMERS_PER_TX) {
    const chunk = journal.roamers.slice(i, i + ROAMERS_PER_TX);
    queue.send(`permanent-roamer reports for ${chunk.length} devices`, () => ledger.reportPermanentRoamers(journal.home, chunk));
  }
  const receipts = await queue.drain();
  journal.roamerTxs = receipts.map((r) => r.hash);
  writeJournal(journalFile, journal);
}

function commitState(opts: IngestOptions, journal: Journal): void {
  const paths = statePaths(opts.workDir, journal.period, journal.runKey);
  renameIfPresent(paths.statePending, paths.state);
  renameIfPresent(paths.idsPending, paths.ids);
}

function summaryOf(journal: Journal, alreadyDone: boolean): IngestSummary {
  return {
    ...journal.summary,
    status: "done",
    alreadyDone,
    batches: journal.batches.map(({ batch: _batch, ...rest }) => rest),
    permanentRoamers: journal.roamers.length,
    roamerTxs: journal.roamerTxs,
  };
}
