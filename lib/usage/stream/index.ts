import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BaseError, ConfigError, InputError } from "../../core/errors";
import { formatPeriod, periodBounds } from "../../core/period";
import { formatPlmn } from "../../core/plmn";
import { renameIfPresent, writeFileAtomic } from "../../util/fsAtomic";
import { chainTime } from "../ingest/process";
import { periodRefusal } from "../ingest/period";
import { ingestUsage, type IngestOptions, type IngestSummary, recordTapSequence } from "../ingest";
import { tapFileMonths } from "../../tap/months";
import { Lock } from "../ingest/lock";
import { formatFromExtension } from "../parse";
import { isTapFile } from "../../tap/sniff";
import { type ActiveFile, appendHistory, readStreamJournal, type StreamJournal, writeStreamJournal } from "./journal";
import { completeFiles, freeName, isCandidateName } from "./spool";
import { type FilePart, splitByMonth } from "./split";
import { combineGroup, RecordCounter, groupToTake } from "./group";
import { StreamScreen } from "./screen";

export { completeFiles, isCandidateName, TEMP_SUFFIXES } from "./spool";
export { monthOfLine, splitByMonth } from "./split";
export { readStreamJournal, type StreamJournal } from "./journal";

/** Extensions of the files the stream takes (what usage:ingest reads by the file's name). */
export const STREAM_EXTENSIONS: readonly string[] = [".csv", ".jsonl", ".ndjson"];
/** How long a file must stay unchanged before it is taken, unless told otherwise. */
export const DEFAULT_SETTLE_MS = 1000;
/** How often the spool is looked at, unless told otherwise. */
export const DEFAULT_POLL_MS = 500;
/** A period that cannot take batches yet (not started, no agreement in force): a following stream waits and tries again. */
class PeriodNotOpen extends ConfigError {}

/** The longest wait between two tries after a failure to reach the chain. */
const MAX_RETRY_MS = 30_000;

export interface StreamOptions extends Omit<IngestOptions, "file" | "period" | "format" | "batchSize"> {
  /** The spool folder the mediation drops usage files into. */
  spool: string;
  /** A fixed period (yyyymm) for every record, or undefined: each record's month (rollover at month ends). */
  period?: number;
  /** Records per batch. */
  batchSize: number;
  /**
   * 0 or absent: each file is a run of its own (its last batch sealed when it ends). More: CSV and JSON-lines
   * files wait in the spool and are ingested together as one run once they hold `batchSize` records or the
   * oldest landed this many seconds ago, whichever comes first; their fraud is screened (flags sent) as each
   * lands (./screen.ts).
   */
  batchSeconds?: number;
  settleMs?: number;
  pollMs?: number;
  /** Drain what is in the spool and return. */
  once?: boolean;
  /** Stops the stream after the file it is on. */
  signal?: AbortSignal;
  /** Each finished file's outcome. */
  onFile?: (outcome: FileOutcome) => void;
}

export interface FileOutcome {
  name: string;
  /** A group's files (`--batch-seconds`), `name` first. */
  files?: string[];
  /** Where it went: `done/<name>` or `rejected/<name>`, relative to the spool. */
  movedTo: string;
  parts: { period: number; summary?: IngestSummary; refused?: string }[];
  takenAt: string;
  finishedAt: string;
}

export interface StreamTotals {
  files: number;
  rejectedFiles: number;
  records: number;
  flagged: number;
  batches: number;
}

/**
 * Follows a spool folder (see ./spool.ts for when a file counts as complete): each complete file is taken
 * at once, in the order it landed, and ingested as `usage:ingest` ingests a file (the same parsing,
 * checks against policy, fraud flags sent while it is read, sealing, journal and submission), one part
 * per month of its records; then moved to `done/` (or `rejected/`) with its rejects. Exactly once across
 * kills: see ./journal.ts. Returns when `once` and the spool is drained, or when `signal` aborts.
 */
export async function streamUsage(opts: StreamOptions): Promise<StreamTotals> {
  const log = opts.log ?? (() => {});
  const totals: StreamTotals = { files: 0, rejectedFiles: 0, records: 0, flagged: 0, batches: 0 };
  const lock = lockSpool(opts.spool);
  try {
    let journal = openJournal(opts);
    let failures = 0;
    let idle = false;
    const grouping = (opts.batchSeconds ?? 0) > 0 ? { counter: new RecordCounter(), screen: new StreamScreen(opts) } : undefined;
    while (!opts.signal?.aborted) {
      try {
        if (!journal.active) journal = (await takeNext(opts, journal, grouping)) ?? journal;
        if (journal.active) {
          idle = false;
          count(totals, await processActive(opts, journal));
          grouping?.screen.reset();
          failures = 0;
          continue;
        }
      } catch (error) {
        if (!retryable(error) || opts.once) throw error;
        failures++;
        const wait = Math.min(MAX_RETRY_MS, 1000 * 2 ** Math.min(failures - 1, 5));
        log(`cannot finish ${journal.active?.name ?? "the next file"} now (${(error as Error).message}); trying again in ${wait / 1000} s`);
        await sleep(wait, undefined, { signal: opts.signal }).catch(() => {});
        continue;
      }
      if (opts.once && !(await pendingInSpool(opts.spool))) break;
      if (!idle) log(`waiting for files in ${opts.spool}`);
      idle = true;
      await sleep(opts.pollMs ?? DEFAULT_POLL_MS, undefined, { signal: opts.signal }).catch(() => {});
    }
    return totals;
  } finally {
    lock.release();
  }
}

/** Adds what a file sent (a part an earlier run or a restart had ingested already sent nothing now). */
function count(totals: StreamTotals, outcome: FileOutcome): void {
  totals.files += outcome.files?.length ?? 1;
  if (outcome.movedTo.startsWith("rejected")) totals.rejectedFiles++;
  for (const p of outcome.parts) {
    if (p.summary?.alreadyDone) continue;
    totals.records += p.summary?.accepted ?? 0;
    totals.flagged += p.summary?.flaggedDevices ?? 0;
    totals.batches += p.summary?.batches.length ?? 0;
  }
}

/** Errors that a later try may not meet: a node gone, a timeout. Our own errors (bad setup) stop the stream. */
function retryable(error: unknown): boolean {
  if (error instanceof PeriodNotOpen) return true;
  return !(error instanceof BaseError) && !(error instanceof TypeError) && !(error instanceof RangeError);
}

function lockSpool(spool: string): Lock {
  if (!fs.existsSync(spool) || !fs.statSync(spool).isDirectory()) {
    throw new InputError("is not a folder", {
      location: { param: "dir" },
      hint: `create the spool folder ${spool} or pass the right one.`,
    });
  }
  return Lock.acquire(path.join(spool, ".stream"), "usage:stream");
}

/** The spool's journal; a spool streams one (visited, home) pair. */
function openJournal(opts: StreamOptions): StreamJournal {
  const journal = readStreamJournal(opts.spool) ?? { version: 1, visited: opts.visited, home: opts.home };
  if (journal.home !== opts.home || journal.visited !== opts.visited) {
    throw new ConfigError(`the spool ${opts.spool} streams usage of ${formatPlmn(journal.home)} on ${formatPlmn(journal.visited)}`, {
      hint: "give each home partner a spool folder of its own, and pass that partner's --home with it.",
    });
  }
  for (const dir of ["work", "done", "rejected"].map((d) =>
    d === "work" ? path.join(opts.spool, ".stream", d) : path.join(opts.spool, d),
  )) {
    fs.mkdirSync(dir, { recursive: true });
  }
  return journal;
}

/** True when the spool holds a usage file, complete or still settling. */
async function pendingInSpool(spool: string): Promise<boolean> {
  for (const name of fs.readdirSync(spool)) {
    const file = path.join(spool, name);
    if (isCandidateName(name, STREAM_EXTENSIONS, true) && fs.statSync(file).isFile() && (await isUsageFile(file))) return true;
  }
  return false;
}

/** A usage file the stream takes: CSV or JSON lines by its name, TAP 3.12 by its content. */
async function isUsageFile(file: string): Promise<boolean> {
  return isCandidateName(path.basename(file), STREAM_EXTENSIONS) || (await isTapFile(file).catch(() => false));
}

/** What `--batch-seconds` keeps between polls: the files' record counts and the fraud screen. */
interface Grouping {
  counter: RecordCounter;
  screen: StreamScreen;
}

/**
 * Journals the next complete file of the spool (or, with `--batch-seconds`, the next group of files, once it
 * is due) as taken (before it is moved), or returns undefined.
 */
async function takeNext(opts: StreamOptions, journal: StreamJournal, grouping: Grouping | undefined): Promise<StreamJournal | undefined> {
  const complete = completeFiles(opts.spool, { settleMs: opts.settleMs ?? DEFAULT_SETTLE_MS, extensions: STREAM_EXTENSIONS, others: true });
  // Alone, the first usage file is all it needs: the others' content is not read (a TAP file is told by it).
  const usage: typeof complete = [];
  for (const f of complete) {
    if (await isUsageFile(path.join(opts.spool, f.name))) usage.push(f);
    if (!grouping && usage.length > 0) break;
  }
  if (usage.length === 0) return undefined;
  let names = [usage[0].name];
  if (grouping && isCandidateName(usage[0].name, STREAM_EXTENSIONS)) {
    // (Draining, the group is taken now: its run flags what it finds.)
    if (!opts.once) await grouping.screen.screen(usage.filter((f) => isCandidateName(f.name, STREAM_EXTENSIONS)));
    const group = groupToTake(opts.spool, usage, {
      batchSize: opts.batchSize,
      batchSeconds: opts.batchSeconds ?? 0,
      drain: opts.once === true,
      now: Date.now(),
      counter: grouping.counter,
    });
    if (!group) return undefined;
    names = group.map((f) => f.name);
    for (const name of names) grouping.counter.forget(name);
  }
  const active: ActiveFile = {
    name: names[0],
    ...(names.length > 1 ? { group: names } : {}),
    step: "take",
    batchSize: opts.batchSize,
    period: opts.period,
    takenAt: new Date().toISOString(),
  };
  const taken = { ...journal, active };
  writeStreamJournal(opts.spool, taken);
  return taken;
}

const workDirOf = (spool: string) => path.join(spool, ".stream", "work");

/** The file a group is combined into (`.stream/work/<first>.group<ext>`: its extension tells the format). */
const groupFileOf = (spool: string, active: ActiveFile) => path.join(workDirOf(spool), `${active.name}.group${path.extname(active.name)}`);

/** Runs the active file's steps from where the journal says it is. */
async function processActive(opts: StreamOptions, journal: StreamJournal): Promise<FileOutcome> {
  const active = journal.active as ActiveFile;
  const log = opts.log ?? (() => {});
  const work = path.join(workDirOf(opts.spool), active.name);
  if (active.step === "take") {
    for (const name of active.group ?? [active.name]) {
      const moved = path.join(workDirOf(opts.spool), name);
      renameIfPresent(path.join(opts.spool, name), moved);
      if (!fs.existsSync(moved)) throw new ConfigError(`${name} was taken from the spool and is gone from ${workDirOf(opts.spool)}`);
    }
    let input = work;
    if (active.group) {
      input = groupFileOf(opts.spool, active);
      active.ranges = combineGroup(workDirOf(opts.spool), active.group, input);
    }
    active.parts = await partsOf(opts, active, input);
    active.partsDone = 0;
    active.refused = {};
    active.step = "ingest";
    writeStreamJournal(opts.spool, journal);
    const months = active.parts.map((p) => formatPeriod(p.period)).join(", ");
    const what = active.group ? `${active.group.length} files from ${active.name} as one run` : active.name;
    log(`taken ${what} (${fs.statSync(input).size.toLocaleString("en-US")} bytes; period ${months})`);
  }
  const parts = await ingestParts(opts, journal);
  return finish(opts, journal, parts);
}

/** The file's parts: one per month of its records, or the whole file for a fixed period. */
async function partsOf(opts: StreamOptions, active: ActiveFile, work: string): Promise<FilePart[]> {
  if (active.period !== undefined) return [{ period: active.period, file: work }];
  const format = formatFromExtension(work);
  const now = Number(await chainTime(opts.signer));
  const d = new Date(now * 1000);
  const fallback = d.getUTCFullYear() * 100 + d.getUTCMonth() + 1;
  if (await isTapFile(work).catch(() => false)) return tapParts(work, fallback);
  if (format === undefined) return [{ period: fallback, file: work }];
  return splitByMonth(work, { csv: format === "csv", partsDir: `${work}.parts`, fallback });
}

/**
 * A TAP file's parts: one per month its call events start in (a file sent after a month's end often holds
 * the last days of the month before). One month: the file itself, billed to that month. More: a hard link
 * (a copy where links are refused) per month in `<work>.parts/`, each run taking its month's call events;
 * the first month's part also reports those without a readable start. A file whose call events cannot be
 * read is one part of the chain's month (`fallback`), where the import refuses it with its reason.
 */
async function tapParts(work: string, fallback: number): Promise<FilePart[]> {
  const months = await tapFileMonths(work);
  if (months.length <= 1) return [{ period: months[0] ?? fallback, file: work }];
  const dir = `${work}.parts`;
  fs.mkdirSync(dir, { recursive: true });
  return months.map((period, i) => {
    const file = path.join(dir, `${period}.tap`);
    fs.rmSync(file, { force: true }); // a killed take may have left it
    try {
      fs.linkSync(work, file);
    } catch {
      fs.copyFileSync(work, file);
    }
    return { period, file, tapMonth: { undatedHere: i === 0 } };
  });
}

/** Ingests the parts not done yet, journaling each one's end; a part refused as a whole is noted, not retried. */
async function ingestParts(opts: StreamOptions, journal: StreamJournal): Promise<FileOutcome["parts"]> {
  const active = journal.active as ActiveFile;
  const parts = active.parts as FilePart[];
  const out: FileOutcome["parts"] = parts.map((p, i) => ({ period: p.period, refused: active.refused?.[i] }));
  for (let i = 0; i < parts.length; i++) {
    if (out[i].refused !== undefined) continue;
    // A part done before a kill is asked again: its run says it is done (nothing sent) and gives its summary.
    try {
      await checkPeriodOpen(opts, parts[i].period);
      const summary = await ingestUsage({
        ...opts,
        file: parts[i].file,
        period: parts[i].period,
        batchSize: active.batchSize,
        tapMonthPart: parts[i].tapMonth,
        // A TAP file in month parts: its sequence number is recorded once every part is done (below).
        tapRecordSequence: parts[i].tapMonth === undefined,
      });
      out[i].summary = summary;
      if (!summary.alreadyDone && summary.batches.length > 0) await warnBatchPace(opts, parts[i].period);
    } catch (error) {
      const refusal = refusedWhole(error);
      if (refusal === undefined) throw error;
      out[i].refused = refusal;
      active.refused = { ...active.refused, [i]: refusal };
    }
    if (i >= (active.partsDone ?? 0)) {
      active.partsDone = i + 1;
      writeStreamJournal(opts.spool, journal);
    }
  }
  const tap = out.find((p) => p.summary?.tap !== undefined)?.summary?.tap;
  if (parts.some((p) => p.tapMonth !== undefined))
    recordTapSequence(opts, tap, `usage:stream, ${active.name} in ${parts.length} month parts`);
  return out;
}

/** Periods (by pair) the batch-pace warning was given for: once per period and process. */
const paceWarned = new Set<string>();

/**
 * Warns (once per period) when the period's batches are used up faster than its time (see batchPaceWarning).
 */
async function warnBatchPace(opts: StreamOptions, period: number): Promise<void> {
  const key = `${opts.visited}/${opts.home}/${period}`;
  if (paceWarned.has(key)) return;
  const [info, max, now] = await Promise.all([
    opts.client.ledger.getPeriod(opts.visited, opts.home, period),
    opts.client.ledger.MAX_BATCHES_PER_PERIOD(),
    chainTime(opts.signer),
  ]);
  const warning = batchPaceWarning(period, Number(info.batchCount), Number(max), Number(now));
  if (warning === undefined) return;
  paceWarned.add(key);
  (opts.log ?? (() => {}))(warning);
}

/**
 * The warning for a period whose batches are used up faster than its time: more than a tenth of the ledger's
 * cap (`max`) ahead of the share of the month gone by at `now` (seconds). At that pace the period refuses
 * batches before the month ends; fewer, fuller batches (`--batch-seconds`, a larger `--batch-records`) avoid
 * it. Undefined when the pace is fine.
 */
export function batchPaceWarning(period: number, batchCount: number, max: number, now: number): string | undefined {
  const [start, end] = periodBounds(period);
  const gone = Math.min(1, Math.max(0, (now - start) / (end - start)));
  if (batchCount / max <= gone + 0.1) return undefined;
  const perDay = gone > 0 ? batchCount / (gone * ((end - start) / 86_400)) : batchCount;
  return `period ${formatPeriod(period)} has used ${batchCount} of its ${max} batches ${Math.round(gone * 100)}% into the month (about ${Math.round(perDay)} a day): at this pace it refuses batches before the month ends. Give --batch-seconds (a batch every ${Math.ceil((end - start) / max / 60)} minutes on average fills the month) or a larger --batch-records.`;
}

/**
 * Throws an InputError when the ledger refuses the period's batches for good (closed, past its submission
 * deadline, full: the part is refused whole), a PeriodNotOpen when it may take them later.
 */
async function checkPeriodOpen(opts: StreamOptions, period: number): Promise<void> {
  const now = await chainTime(opts.signer);
  const refusal = await periodRefusal(opts.client, { visited: opts.visited, home: opts.home, period, now }, 1);
  if (!refusal) return;
  if (refusal.final) throw new InputError(refusal.problem, { hint: refusal.hint });
  throw new PeriodNotOpen(refusal.problem, { hint: refusal.hint });
}

/**
 * Why a part is refused for good, or undefined when the error is not such a refusal: bad input in the file
 * (a header, the format), or a ledger that refuses the run as a whole (its period closed or past its
 * deadline: usage:ingest abandoned the run and left the local state as it was).
 */
function refusedWhole(error: unknown): string | undefined {
  if (error instanceof InputError) return error.message;
  if (error instanceof ConfigError && /^the ledger (refuses this run as a whole|takes no more of this run's batches)/.test(error.message)) {
    return `${error.message}${error.details ? ` (${error.details})` : ""}`;
  }
  return undefined;
}

/** Moves the file (a group's files) and its rejects to done/ (rejected/ when every part was refused), then forgets it. */
function finish(opts: StreamOptions, journal: StreamJournal, parts: FileOutcome["parts"]): FileOutcome {
  const active = journal.active as ActiveFile;
  const work = path.join(workDirOf(opts.spool), active.name);
  if (active.step !== "finish") {
    const folder = parts.every((p) => p.refused !== undefined) ? "rejected" : "done";
    active.target = path.join(folder, freeName(path.join(opts.spool, folder), active.name));
    // The group's other files: names free of the first's and of one another's.
    const taken = new Set([path.basename(active.target)]);
    active.groupTargets = (active.group ?? []).slice(1).map((name) => {
      let free = freeName(path.join(opts.spool, folder), name);
      for (let i = 2; taken.has(free); i++) free = `${path.basename(name, path.extname(name))}-${i}${path.extname(name)}`;
      taken.add(free);
      return path.join(folder, free);
    });
    active.step = "finish";
    writeStreamJournal(opts.spool, journal);
  }
  const target = path.join(opts.spool, active.target as string);
  const refusals = parts.flatMap((p) => (p.refused ? [`${formatPeriod(p.period)}: ${p.refused}`] : []));
  if (refusals.length > 0) writeFileAtomic(`${target}.refused.txt`, `${refusals.join("\n")}\n`);
  const split = (active.parts as FilePart[]).length > 1 || (active.parts as FilePart[])[0].file !== work;
  for (const part of active.parts as FilePart[]) {
    const suffix = split ? `.${part.period}.rejects.csv` : ".rejects.csv";
    renameIfPresent(`${part.file}.rejects.csv`, `${target}${suffix}`);
  }
  if (active.group) {
    writeFileAtomic(`${target}.group.txt`, groupManifest(active));
    const combined = groupFileOf(opts.spool, active);
    fs.rmSync(combined, { force: true });
    fs.rmSync(`${combined}.parts`, { recursive: true, force: true });
    active.group.slice(1).forEach((name, i) => {
      renameIfPresent(path.join(workDirOf(opts.spool), name), path.join(opts.spool, (active.groupTargets as string[])[i]));
    });
  }
  fs.rmSync(`${work}.parts`, { recursive: true, force: true });
  renameIfPresent(work, target);
  const outcome: FileOutcome = {
    name: active.name,
    ...(active.group ? { files: active.group } : {}),
    movedTo: active.target as string,
    parts,
    takenAt: active.takenAt,
    finishedAt: new Date().toISOString(),
  };
  appendHistory(opts.spool, historyEntry(outcome));
  journal.active = undefined;
  writeStreamJournal(opts.spool, journal);
  opts.onFile?.(outcome);
  return outcome;
}

/** Which lines of the group's run (and of its rejects) came from which file. */
function groupManifest(active: ActiveFile): string {
  const rows = (active.ranges ?? []).map((r, i) => {
    const where = i === 0 ? active.target : (active.groupTargets ?? [])[i - 1];
    return `${r.name}\t${where}\tlines ${r.from}-${r.to}`;
  });
  return `# ingested as one run (usage:stream --batch-seconds): file, where it went, its lines in the run's numbering (its rejects' line column)\n${rows.join("\n")}\n`;
}

function historyEntry(o: FileOutcome): { name: string; takenAt: string } & Record<string, unknown> {
  return {
    name: o.name,
    ...(o.files ? { files: o.files } : {}),
    takenAt: o.takenAt,
    movedTo: o.movedTo,
    parts: o.parts.map((p) => ({
      period: formatPeriod(p.period),
      ...(p.refused !== undefined
        ? { refused: p.refused }
        : {
            runKey: p.summary?.runKey,
            accepted: p.summary?.accepted,
            rejected: p.summary?.rejected,
            flagged: p.summary?.flaggedDevices,
            batches: p.summary?.batches.map((b) => b.id),
          }),
    })),
  };
}
