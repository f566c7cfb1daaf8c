import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../../core/errors";
import { formatPlmn } from "../../core/plmn";
import { formatPeriod } from "../../core/period";
import { renameIfPresent, writeFileAtomic } from "../../util/fsAtomic";
import type { Hex } from "../../util/hex";
import { totalsFromJson, totalsToJson } from "../payload";
import type { LocalBatch } from "../types";
import type { SealedBatch } from "../batchBuilder";
import type { RejectsSummary } from "../rejects";
import { type BatchOutcome, type IngestOptions, type IngestSummary, peakRssMb, type RunIdentity } from "./types";

/**
 * A run's journal (`runs/<run key>.json` in the pair's work folder): written when the run is sealed
 * (every batch summary, the new local state beside the old one), updated as batches and reports are
 * sent, `done` once the new state is in place. What lets a run killed at any point finish the job.
 */

export interface RoamerReport {
  deviceId: Hex;
  daysPresent: number;
  evidenceHash: Hex;
}

export interface Journal {
  /** 2: batches keep the v2 header and their local part (LocalBatch). */
  version: 2;
  runKey: string;
  file: string;
  fileHash: string;
  visited: Hex;
  home: Hex;
  period: number;
  batchSize: number;
  /** abandoned: none of its batches reached the chain and none ever can (see `abandonRun`). */
  status: "sealed" | "done" | "abandoned";
  /** Why and when the run was abandoned. */
  abandoned?: { at: string; reason: string };
  summary: Omit<IngestSummary, "batches" | "status" | "alreadyDone" | "permanentRoamers">;
  batches: (BatchOutcome & { batch: unknown })[];
  roamers: RoamerReport[];
}

/** What processing a file counted and sealed. */
export interface RunCounts {
  lines: number;
  accepted: number;
  billable: number;
  notBillable: Record<string, number>;
  flagged: ReadonlySet<string>;
  flagsHeld: number;
  flagsStanding: number;
  sealed: readonly (SealedBatch & { id: Hex })[];
  roamers: RoamerReport[];
}

/**
 * A sealed batch as JSON (bigints as decimal strings) and back: what the journal keeps, the header to sign
 * and what stays local (record count, totals, salt; the journal is as private as the payload store).
 */
export function batchToJson(batch: LocalBatch): unknown {
  return { ...batch, totals: totalsToJson(batch.totals) };
}

export function batchFromJson(raw: unknown): LocalBatch {
  const b = raw as LocalBatch & { totals: Record<string, unknown>[] };
  return { ...b, totals: totalsFromJson(b.totals) };
}

export function readJournal(file: string): Journal | undefined {
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, "utf8")) as Journal;
}

export function writeJournal(file: string, journal: Journal): void {
  writeFileAtomic(file, JSON.stringify(journal, null, 1));
}

/** Refuses to start a run while another run of the pair is sealed but not done. */
export function refuseUnfinishedRuns(runsDir: string, runKey: string): void {
  if (!fs.existsSync(runsDir)) return;
  for (const name of fs.readdirSync(runsDir)) {
    if (!name.endsWith(".json") || name === `${runKey}.json`) continue;
    const other = readJournal(path.join(runsDir, name));
    if (other?.status === "sealed") {
      throw new ConfigError(`an earlier run (${other.file}, period ${formatPeriod(other.period)}) stopped before it finished`, {
        details: "Its batches are sealed and its local state is not committed yet; a new file would be counted against the old state.",
        hint: `finish it first: ingest its file again, which resumes it (or, when none of its batches is on chain and they can no longer go there, abandon it: usage:ingest --abandon --home ${formatPlmn(other.home)} --period ${formatPeriod(other.period)}).`,
        next: { operation: "usage:ingest", args: { file: other.file, home: formatPlmn(other.home), period: formatPeriod(other.period) } },
      });
    }
  }
}

/** The local state files of a pair, and those a run writes beside them until it is done. */
export function statePaths(workDir: string, period: number, runKey: string) {
  return {
    state: path.join(workDir, "state.json"),
    statePending: path.join(workDir, `state.pending-${runKey}.json`),
    ids: path.join(workDir, `ids-${period}.bin`),
    idsPending: path.join(workDir, `ids-${period}.pending-${runKey}.bin`),
  };
}
export type StatePaths = ReturnType<typeof statePaths>;

/** Moves a sealed run's new local state into place. */
export function commitState(workDir: string, journal: Journal): void {
  const paths = statePaths(workDir, journal.period, journal.runKey);
  renameIfPresent(paths.statePending, paths.state);
  renameIfPresent(paths.idsPending, paths.ids);
}

/** The summary of a run from its journal. */
export function summaryOf(journal: Journal, alreadyDone: boolean): IngestSummary {
  return {
    ...journal.summary,
    status: "done",
    alreadyDone,
    batches: journal.batches.map(({ batch: _batch, ...rest }) => rest),
    permanentRoamers: journal.roamers.length,
  };
}

/** The journal of a run that is processed: its counts and timing, and every batch summary. */
export function sealedJournal(
  opts: IngestOptions,
  run: RunIdentity,
  done: {
    counts: RunCounts;
    rejects: RejectsSummary;
    devices: number;
    flagTxs: string[];
    timing: { processingMs: number; chainMs: number; processingCpuMs: number };
  },
): Journal {
  const { counts: p, rejects, timing } = done;
  const file = path.resolve(opts.file);
  return {
    version: 2,
    runKey: run.runKey,
    file,
    fileHash: run.fileHash,
    visited: opts.visited,
    home: opts.home,
    period: opts.period,
    batchSize: run.batchSize,
    status: "sealed",
    summary: {
      runKey: run.runKey,
      file,
      lines: p.lines,
      accepted: p.accepted,
      rejected: rejects.total,
      rejectsByCode: rejects.counts,
      rejectsFile: rejects.total > 0 ? rejects.path : undefined,
      billable: p.billable,
      notBillableByReason: p.notBillable,
      flaggedDevices: p.flagged.size - p.flagsHeld,
      flagsHeld: p.flagsHeld,
      flagsStanding: p.flagsStanding,
      flagTxs: done.flagTxs,
      devices: done.devices,
      processingMs: timing.processingMs,
      recordsPerSec: timing.processingMs > 0 ? Math.round((p.accepted / timing.processingMs) * 1000) : p.accepted,
      chainMs: timing.chainMs,
      fileHashMs: run.fileHashMs,
      processingCpuMs: timing.processingCpuMs,
      peakRssMb: peakRssMb(),
    },
    batches: p.sealed.map((b) => ({
      id: b.id,
      sequence: b.sequence,
      records: b.batch.recordCount,
      payloadHash: b.batch.header.payloadHash,
      batch: batchToJson(b.batch),
    })),
    roamers: p.roamers,
  };
}
