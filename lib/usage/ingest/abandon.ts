import fs from "node:fs";
import path from "node:path";
import { BATCH_STATUSES } from "../../core/enums";
import { ConfigError } from "../../core/errors";
import { formatPeriod } from "../../core/period";
import { formatPlmn } from "../../core/plmn";
import type { Signer } from "ethers";
import type { RoamLedgerClient } from "../../chain/client";
import type { Hex } from "../../util/hex";
import type { ContentStore } from "../store";
import { batchFromJson, commitState, type Journal, readJournal, statePaths, writeJournal } from "./journal";
import { Lock } from "./lock";

/** What abandoning a run dropped. */
export interface AbandonedRun {
  runKey: string;
  file: string;
  period: number;
  reason: string;
  /** Every batch of the run (none of them on chain) and whether its sealed payload was removed from the store. */
  batches: { id: Hex; records: number; payloadHash: Hex; payloadRemoved: boolean }[];
  /** The new local state files the run had written beside the old ones, removed. */
  stateFiles: string[];
  /** The journal, kept with status `abandoned` and the reason. */
  journalFile: string;
}

/**
 * Abandons a sealed run none of whose batches is on chain: removes its sealed payloads from the store
 * (when the store can) and the new local state it wrote beside the old one, and marks its journal
 * `abandoned` with the reason (kept, so that what happened stays on record). The pair's local state is
 * then what it was before the run: the next file is counted against it. A run with a batch on chain is
 * refused: those batches are the home carrier's to decide, and the run stays resumable. The caller holds
 * the pair's lock.
 */
export async function abandonRun(
  opts: { client: Pick<RoamLedgerClient, "ledger">; store: ContentStore; workDir: string },
  run: { journal: Journal; journalFile: string; reason: string },
): Promise<AbandonedRun> {
  const known = await onChainFlags(opts.client, run.journal);
  const { journal } = run;
  const onChain = journal.batches.filter((_, i) => known[i]).map((b) => b.id);
  if (onChain.length > 0) {
    throw new ConfigError(
      `run ${journal.runKey} (${journal.file}, period ${formatPeriod(journal.period)}) cannot be abandoned: ${onChain.length} of its ${journal.batches.length} batches are on chain (${onChain.join(", ")})`,
      {
        details: "Batches on chain bill the home carrier whatever happens locally; forgetting them would count their records again later.",
        hint: "resume the run instead: ingest its file again with the same period and batch size; it sends only what is missing (and, when the ledger can no longer take the rest, closes the run out without it).",
      },
    );
  }
  // The journal first: once it says abandoned, the run is over whatever happens to the cleanup after it
  // (a payload or pending file left by a killed cleanup is referenced by nothing).
  journal.status = "abandoned";
  journal.abandoned = { at: new Date().toISOString(), reason: run.reason };
  writeJournal(run.journalFile, journal);
  const batches: AbandonedRun["batches"] = [];
  for (const b of journal.batches) {
    const payloadHash = batchFromJson(b.batch).header.payloadHash;
    const payloadRemoved = opts.store.remove ? await opts.store.remove(payloadHash) : false;
    batches.push({ id: b.id, records: b.records, payloadHash, payloadRemoved });
  }
  const paths = statePaths(opts.workDir, journal.period, journal.runKey);
  const stateFiles = [paths.statePending, paths.idsPending].filter((file) => fs.existsSync(file));
  for (const file of stateFiles) fs.rmSync(file);
  const { runKey, file, period } = journal;
  return { runKey, file, period, reason: run.reason, batches, stateFiles, journalFile: run.journalFile };
}

/** For each batch of the run, whether the ledger knows it (any status but none): one read per batch. */
async function onChainFlags(client: Pick<RoamLedgerClient, "ledger">, journal: Journal): Promise<boolean[]> {
  const infos = await Promise.all(journal.batches.map((b) => client.ledger.getBatch(b.id)));
  return infos.map((info) => BATCH_STATUSES[Number(info.status)] !== "none");
}

/** What closing a run out left off the chain. */
export interface ClosedOutRun {
  runKey: string;
  /** Batches on chain: billed, the home carrier's to verify. */
  onChain: Hex[];
  /** Batches the ledger could no longer take: dropped, their records not billed. */
  refused: { id: Hex; records: number }[];
}

/**
 * Ends a sealed run part of whose batches is on chain when the ledger can take no more of them (its period
 * is closed, past its deadline or full): the batches on chain stay as they are (billed, nothing forgotten),
 * the others are marked `refused` and their sealed payloads removed, the run's local state is committed
 * (its records did happen: presence and caps carry over to later periods) and the run is `done`, with the
 * reason. The pair then ingests its next file. The caller holds the pair's lock and has checked the reason.
 */
export async function closeOutRun(
  opts: { client: Pick<RoamLedgerClient, "ledger">; store: ContentStore; workDir: string },
  run: { journal: Journal; journalFile: string; reason: string },
): Promise<ClosedOutRun> {
  const { journal } = run;
  const out: ClosedOutRun = { runKey: journal.runKey, onChain: [], refused: [] };
  const known = await onChainFlags(opts.client, journal);
  for (const [i, b] of journal.batches.entries()) {
    if (known[i]) {
      b.submitted ??= "existing";
      out.onChain.push(b.id);
      continue;
    }
    b.submitted = "refused";
    out.refused.push({ id: b.id, records: b.records });
    await opts.store.remove?.(batchFromJson(b.batch).header.payloadHash);
  }
  commitState(opts.workDir, journal);
  journal.status = "done";
  journal.abandoned = { at: new Date().toISOString(), reason: `closed out without ${out.refused.length} batch(es): ${run.reason}` };
  writeJournal(run.journalFile, journal);
  return out;
}

/** The sealed (unfinished) runs of a pair's work folder, for one period or all. */
export function unfinishedRuns(workDir: string, period?: number): { journal: Journal; journalFile: string }[] {
  const runsDir = path.join(workDir, "runs");
  if (!fs.existsSync(runsDir)) return [];
  const out: { journal: Journal; journalFile: string }[] = [];
  for (const name of fs.readdirSync(runsDir).sort()) {
    if (!name.endsWith(".json")) continue;
    const journalFile = path.join(runsDir, name);
    const journal = readJournal(journalFile);
    if (journal?.status === "sealed" && (period === undefined || journal.period === period)) out.push({ journal, journalFile });
  }
  return out;
}

/**
 * Refuses while the operator account has transactions the node has not mined yet: a batch a killed run sent
 * may still land, and abandoning its run would remove the payload it commits.
 */
async function refuseWhileSending(client: Pick<RoamLedgerClient, "runner">): Promise<void> {
  const runner = client.runner as Partial<Signer>;
  const provider = client.runner.provider;
  if (!provider || typeof runner.getAddress !== "function") return;
  const address = await runner.getAddress();
  const [mined, pending] = await Promise.all([
    provider.getTransactionCount(address, "latest"),
    provider.getTransactionCount(address, "pending"),
  ]);
  if (pending > mined) {
    throw new ConfigError(`${address} has ${pending - mined} transaction(s) not mined yet`, {
      details: "A batch an interrupted run sent may still reach the chain; abandoning the run now would remove the payload it commits.",
      hint: "wait until they are mined (or dropped by the node), then run the same command again.",
    });
  }
}

/**
 * The explicit way out of an unfinished run (`usage:ingest --abandon`): abandons every sealed run of the
 * pair for `period` none of whose batches is on chain, under the pair's lock. ConfigError when there is
 * none, or when a run has batches on chain (nothing is abandoned then).
 */
export async function abandonUnfinished(opts: {
  client: Pick<RoamLedgerClient, "ledger" | "runner">;
  store: ContentStore;
  workDir: string;
  visited: Hex;
  home: Hex;
  period: number;
  reason?: string;
}): Promise<AbandonedRun[]> {
  const lock = Lock.acquire(opts.workDir);
  try {
    await refuseWhileSending(opts.client);
    const runs = unfinishedRuns(opts.workDir, opts.period);
    if (runs.length === 0) {
      const other = unfinishedRuns(opts.workDir).map((r) => formatPeriod(r.journal.period));
      throw new ConfigError(
        `no unfinished usage:ingest run of ${formatPlmn(opts.visited)} -> ${formatPlmn(opts.home)} for period ${formatPeriod(opts.period)}`,
        {
          hint:
            other.length > 0
              ? `the pair has unfinished runs for ${[...new Set(other)].join(", ")}; abandon with that period.`
              : "nothing to abandon: the pair's runs are all done (ingest the next file).",
        },
      );
    }
    const reason = opts.reason ?? "abandoned on request";
    const out: AbandonedRun[] = [];
    for (const run of runs) out.push(await abandonRun(opts, { ...run, reason }));
    return out;
  } finally {
    lock.release();
  }
}
