import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { ConfigError, InputError } from "../../core/errors";
import { formatPeriod } from "../../core/period";
import { formatPlmn } from "../../core/plmn";
import { removeStaleTempFiles } from "../../util/fsAtomic";
import type { Hex } from "../../util/hex";
import { commitState, type Journal, readJournal, refuseUnfinishedRuns, summaryOf, writeJournal } from "./journal";
import { type AbandonedRun, abandonRun, closeOutRun } from "./abandon";
import { BATCH_STATUSES } from "../../core/enums";
import { Lock } from "./lock";
import { periodRefusal } from "./period";
import { chainTime } from "./process";
import { formatFromExtension } from "../parse";
import { isTapFile } from "../../tap/sniff";
import { TapSequenceLog } from "../../tap/sequenceLog";
import { TapFileRefused } from "../../tap/refusal";
import { processFile } from "./process";
import { submitBatches } from "./submit";
import { DEFAULT_BATCH_SIZE, type IngestOptions, type IngestSummary, MAX_BATCH_SIZE, peakRssMb, type RunIdentity } from "./types";

export { batchFromJson, batchToJson } from "./journal";
export { type AbandonedRun, abandonRun, abandonUnfinished, type ClosedOutRun, closeOutRun, unfinishedRuns } from "./abandon";
export { checkPeriodTakesBatches, LATE_USAGE_HINT, periodRefusal } from "./period";
export { newScreenCarry, type ScreenCarry, screenFile } from "./process";
export {
  type BatchOutcome,
  DEFAULT_BATCH_SIZE,
  FLAGS_PER_TX,
  type IngestOptions,
  type IngestSummary,
  MAX_BATCH_SIZE,
} from "./types";

/** The state folder of a (visited, home) pair under a carrier's home folder. */
export function pairWorkDir(root: string, visited: Hex, home: Hex): string {
  return path.join(root, "usage", `${formatPlmn(visited)}_${formatPlmn(home)}`);
}

/**
 * Ingests one usage file of the visited carrier for one home partner and period, end to end:
 * parse and validate (rejects to `<file>.rejects.csv`), resolve devices and policies (cached), check
 * each record against its policy (out-of-policy use is committed as not billable and flagged as fraud
 * on-chain while the file is read), detect permanent roamers across periods, aggregate per tariff class,
 * commit batches (positional Merkle root, sealed payload v2 in the store, salted totals commitment,
 * EIP-712 signed header), then commit the local state. Before anything is sealed, the period must still
 * take the run's batches (started, before its submission deadline, not closed, under the batch cap,
 * an agreement in force). A sealed run the ledger can never take is abandoned or closed out with the reason.
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
  const run = await identifyRun(opts);
  const lock = Lock.acquire(opts.workDir);
  try {
    const runsDir = path.dirname(run.journalFile);
    // A run killed mid-write leaves temp files; under the lock, no other run of the pair is writing.
    removeStaleTempFiles(opts.workDir);
    removeStaleTempFiles(runsDir);
    opts.store.removeStaleTemps?.();
    let journal = readJournal(run.journalFile);
    // An abandoned run of the same file is processed anew (the period check refuses it if it still must).
    if (journal?.status === "abandoned") journal = undefined;
    if (journal?.status === "done") {
      log(`this file was already ingested (run ${run.runKey}); nothing to send`);
      recordTapImport(opts, journal.summary.tap, run.runKey);
      return summaryOf(journal, true);
    }
    if (journal) {
      log(`resuming run ${run.runKey}: its batches are sealed, sending what is not on-chain yet`);
      await abandonIfRefused(opts, { journal, journalFile: run.journalFile, log });
    } else {
      refuseUnfinishedRuns(runsDir, run.runKey);
      journal = await processFile(opts, run);
    }
    const summary = await finishRun(opts, { journal, journalFile: run.journalFile, log });
    recordTapImport(opts, summary.tap, run.runKey);
    return summary;
  } finally {
    lock.release();
  }
}

/**
 * Records a TAP file's sequence number once its run is done (lib/tap/sequenceLog.ts): not before, so that
 * a resumed run is not refused as a duplicate. Idempotent: a run found done again records nothing new.
 */
function recordTapImport(opts: IngestOptions, tap: IngestSummary["tap"], runKey: string): void {
  if (opts.tapRecordSequence === false) return;
  recordTapSequence(opts, tap, `usage:ingest run ${runKey}`);
}

/** Records a TAP file's sequence number in `opts.tapSequenceDir` unless it is there already (no-op for a file that is not TAP). */
export function recordTapSequence(opts: Pick<IngestOptions, "tapSequenceDir" | "log">, tap: IngestSummary["tap"], why: string): void {
  if (tap === undefined || opts.tapSequenceDir === undefined) return;
  const log = TapSequenceLog.open(opts.tapSequenceDir, tap.sender, tap.recipient);
  if (log.imports.some((i) => i.fsn === tap.fileSequenceNumber)) return;
  try {
    log.record(tap.fileSequenceNumber, why);
  } catch (error) {
    // The file is ingested; only its place in the numbering is in doubt (another file was recorded meanwhile).
    if (!(error instanceof TapFileRefused)) throw error;
    opts.log?.(`file sequence number ${tap.fileSequenceNumber} not recorded in ${log.file}: ${error.problem}`);
  }
}

/** Checks the options that need no chain, and derives the run key from the file's content and the run's parameters. */
async function identifyRun(opts: IngestOptions): Promise<RunIdentity> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new InputError(`${batchSize} is out of range`, {
      location: { param: "batchSize" },
      hint: `use 1 to ${MAX_BATCH_SIZE.toLocaleString("en-US")} records per batch.`,
    });
  }
  if (!fs.existsSync(opts.file)) {
    throw new InputError("file not found", {
      location: { file: opts.file },
      hint: `check the path of the usage file (relative paths start from ${process.cwd()}).`,
    });
  }
  if (!fs.statSync(opts.file).isFile()) {
    throw new InputError("is not a file", {
      location: { file: opts.file },
      hint: "pass the usage file itself (CSV or JSON lines), not a folder.",
    });
  }
  const byName = formatFromExtension(opts.file);
  // A TAP file is told by its content (a BER root), whatever its name (TD.57 names have no extension).
  const tap = await isTapFile(opts.file);
  if (!tap && opts.format === undefined && byName === undefined) {
    throw new InputError("cannot tell the format from the file name", {
      location: { file: opts.file },
      hint: "name the file .csv, .jsonl or .ndjson, or pass the format (csv or jsonl).",
    });
  }
  const hashStarted = Date.now();
  const fileHash = await hashFile(opts.file);
  const fileHashMs = Date.now() - hashStarted;
  const ledger = await opts.client.ledger.getAddress();
  const runKey = createHash("sha256")
    // A format other than the name's is part of the run (the same bytes read otherwise); none keeps older keys.
    .update(
      [fileHash, opts.visited, opts.home, opts.period, batchSize, opts.chainId, ledger]
        .concat(tap ? ["tap"] : opts.format !== undefined && opts.format !== byName ? [opts.format] : [])
        // A TAP file's month part skips (does not reject) the other months' call events: another run.
        .concat(tap && opts.tapMonthPart ? [`month-part${opts.tapMonthPart.undatedHere ? "+undated" : ""}`] : [])
        .join("|"),
    )
    .digest("hex")
    .slice(0, 32);
  return { runKey, fileHash, fileHashMs, batchSize, journalFile: path.join(opts.workDir, "runs", `${runKey}.json`), tap };
}

/** Sha-256 of a file, streamed. */
async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Submits a sealed run's batches, commits its local state and marks it done. */
async function finishRun(
  opts: IngestOptions,
  run: { journal: Journal; journalFile: string; log: (line: string) => void },
): Promise<IngestSummary> {
  const { journal, journalFile } = run;
  try {
    await submitBatches(opts, run);
  } catch (error) {
    // A revert a re-run cannot fix (the period closed, its deadline passed) leaves no way to finish.
    // Only its own verdict replaces the error: a failure to read the chain (the node is gone) keeps the original.
    await abandonIfRefused(opts, run, error).catch((verdict: unknown) => {
      if (verdict instanceof ConfigError) throw verdict;
    });
    throw error;
  }
  commitState(opts.workDir, journal);
  journal.status = "done";
  // The whole command's peak: processing, then the submissions.
  journal.summary.peakRssMb = Math.max(journal.summary.peakRssMb ?? 0, peakRssMb());
  writeJournal(journalFile, journal);
  return summaryOf(journal, false);
}

/**
 * When the ledger can no longer take the run's batches for a reason no re-run fixes (its period is closed,
 * past its submission deadline or full), ends the run and throws a ConfigError saying why and what was
 * dropped: a run with no batch on chain is abandoned ({@link abandonRun}), one with batches on chain is
 * closed out without the rest ({@link closeOutRun}: nothing on chain is forgotten). Returns when the period
 * still takes batches, or when the reason may pass (a pause, no agreement in force yet), so that the
 * caller resumes or rethrows.
 */
async function abandonIfRefused(
  opts: IngestOptions,
  run: { journal: Journal; journalFile: string; log: (line: string) => void },
  cause?: unknown,
): Promise<void> {
  const { journal } = run;
  const target = { visited: opts.visited, home: opts.home, period: journal.period, now: await chainTime(opts.signer) };
  const refusal = await periodRefusal(opts.client, target, 1);
  if (!refusal?.final) return;
  const onChain = await batchesOnChain(opts, journal);
  // Every batch is on chain already (a run killed before its state was committed): it just finishes.
  if (onChain === journal.batches.length) return;
  if (onChain > 0) {
    const closed = await closeOutRun(opts, { journal, journalFile: run.journalFile, reason: refusal.problem });
    const records = closed.refused.reduce((sum, b) => sum + b.records, 0).toLocaleString("en-US");
    run.log(`closed out run ${journal.runKey}: ${refusal.problem}`);
    throw new ConfigError(`the ledger takes no more of this run's batches: ${refusal.problem}`, {
      details:
        `Run ${journal.runKey} was closed out: its ${closed.onChain.length} batch(es) on chain stay billed (the home carrier verifies them); ` +
        `${closed.refused.length} batch(es) of ${records} records never reached the chain and are not billed: ${closed.refused.map((b) => b.id).join(", ")}. ` +
        "The run's local state is committed, so the next file ingests.",
      hint: refusal.hint,
      cause,
    });
  }
  const abandoned = await abandonRun(opts, { journal, journalFile: run.journalFile, reason: refusal.problem });
  run.log(`abandoned run ${journal.runKey}: ${refusal.problem}`);
  throw new ConfigError(`the ledger refuses this run as a whole: ${refusal.problem}`, {
    details: `${describeAbandoned(abandoned)} Nothing of it is on chain; the pair's local state is what it was before the run, so the next file ingests.`,
    hint: refusal.hint,
    cause,
  });
}

/** How many of a run's batches are on chain. */
async function batchesOnChain(opts: IngestOptions, journal: Journal): Promise<number> {
  let count = 0;
  for (const b of journal.batches) {
    if (BATCH_STATUSES[Number((await opts.client.ledger.getBatch(b.id)).status)] !== "none") count++;
  }
  return count;
}

/** One sentence on what abandoning a run dropped. */
export function describeAbandoned(a: AbandonedRun): string {
  const records = a.batches.reduce((sum, b) => sum + b.records, 0).toLocaleString("en-US");
  const removed = a.batches.filter((b) => b.payloadRemoved).length;
  return (
    `Abandoned run ${a.runKey} (${a.file}, period ${formatPeriod(a.period)}): ${a.batches.length} sealed batch(es) of ${records} records never sent, ` +
    `${removed} sealed payload(s) removed from the store, ${a.stateFiles.length} pending state file(s) removed; the journal is kept as ${a.journalFile}.`
  );
}
