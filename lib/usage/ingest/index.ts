import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { InputError } from "../../core/errors";
import { formatPlmn } from "../../core/plmn";
import { removeStaleTempFiles } from "../../util/fsAtomic";
import type { Hex } from "../../util/hex";
import { commitState, type Journal, readJournal, refuseUnfinishedRuns, summaryOf, writeJournal } from "./journal";
import { Lock } from "./lock";
import { processFile } from "./process";
import { submitBatches } from "./submit";
import { DEFAULT_BATCH_SIZE, type IngestOptions, type IngestSummary, MAX_BATCH_SIZE, peakRssMb, type RunIdentity } from "./types";

export { batchFromJson, batchToJson } from "./journal";
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
 * take the run's batches (started, before its submission deadline, not closed, under the batch cap).
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
    if (journal?.status === "done") {
      log(`this file was already ingested (run ${run.runKey}); nothing to send`);
      return summaryOf(journal, true);
    }
    if (journal) {
      log(`resuming run ${run.runKey}: its batches are sealed, sending what is not on-chain yet`);
    } else {
      refuseUnfinishedRuns(runsDir, run.runKey);
      journal = await processFile(opts, run);
    }
    return await finishRun(opts, { journal, journalFile: run.journalFile, log });
  } finally {
    lock.release();
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
  if (!fs.existsSync(opts.file) || !fs.statSync(opts.file).isFile()) {
    throw new InputError("does not exist or is not a file", {
      location: { file: opts.file },
      hint: "pass the usage file (CSV or JSON lines).",
    });
  }
  const hashStarted = Date.now();
  const fileHash = await hashFile(opts.file);
  const fileHashMs = Date.now() - hashStarted;
  const ledger = await opts.client.ledger.getAddress();
  const runKey = createHash("sha256")
    .update([fileHash, opts.visited, opts.home, opts.period, batchSize, opts.chainId, ledger].join("|"))
    .digest("hex")
    .slice(0, 32);
  return { runKey, fileHash, fileHashMs, batchSize, journalFile: path.join(opts.workDir, "runs", `${runKey}.json`) };
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
  await submitBatches(opts, run);
  commitState(opts.workDir, journal);
  journal.status = "done";
  // The whole command's peak: processing, then the submissions.
  journal.summary.peakRssMb = Math.max(journal.summary.peakRssMb ?? 0, peakRssMb());
  writeJournal(journalFile, journal);
  return summaryOf(journal, false);
}
