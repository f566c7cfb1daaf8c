import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../../util/fsAtomic";
import type { Hex } from "../../util/hex";
import type { FilePart } from "./split";

/**
 * The stream's journal (`SPOOL/.stream/journal.json`), written before each step acts, so that a stream
 * killed at any point resumes the file it was on, at the step it was on, and never takes a file twice:
 *
 * 1. `take`: the file chosen (its spool name, the batch size and period setting it is processed with)
 *    before it is moved from the spool to `.stream/work/`; on resume it is moved if still in the spool.
 * 2. `ingest`: its parts (one per month of its records) written; each part is ingested by `usage:ingest`'s
 *    own exactly-once machinery (a run keyed by the part's content and parameters: a part ingested already
 *    sends nothing again, a sealed one resumes); `partsDone` counts those finished.
 * 3. `finish`: every part ingested or refused; the file and its rejects are moved to `done/` (or
 *    `rejected/` when every part was refused), its parts removed; then the journal forgets the file.
 *
 * The stream works on one file (or one group of files, `--batch-seconds`) at a time, so the journal holds
 * at most one. Files it finished are
 * the ones in `done/` and `rejected/`; `.stream/history.jsonl` lists them with their outcome.
 */
export interface StreamJournal {
  version: 1;
  visited: Hex;
  home: Hex;
  active?: ActiveFile;
}

export interface ActiveFile {
  /** Its name in the spool (and in `.stream/work/`); a group's first file. */
  name: string;
  /**
   * `--batch-seconds`: the files ingested together as one run (their names, in landing order, `name` first),
   * combined into `.stream/work/<name>.group<ext>`; absent for a file ingested alone.
   */
  group?: string[];
  /** A group's files' lines in the combined file (for its rejects' manifest). */
  ranges?: { name: string; from: number; to: number }[];
  /** Where a group's other files went (decided at `finish` with `target`). */
  groupTargets?: string[];
  step: "take" | "ingest" | "finish";
  batchSize: number;
  /** A fixed period (yyyymm), or undefined: each record's month. */
  period?: number;
  takenAt: string;
  parts?: FilePart[];
  partsDone?: number;
  /** Why a part was refused whole (its period closed, its file unreadable...), by part index. */
  refused?: Record<number, string>;
  /** Where the file went (decided at `finish`, before it is moved). */
  target?: string;
}

export function journalPath(spool: string): string {
  return path.join(spool, ".stream", "journal.json");
}

export function readStreamJournal(spool: string): StreamJournal | undefined {
  const file = journalPath(spool);
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, "utf8")) as StreamJournal;
}

export function writeStreamJournal(spool: string, journal: StreamJournal): void {
  writeFileAtomic(journalPath(spool), JSON.stringify(journal, null, 1));
}

/**
 * Appends one line per finished file to `.stream/history.jsonl`, once: a stream killed after the append
 * and before the journal forgot the file finds its line last and does not write it again.
 */
export function appendHistory(spool: string, entry: { name: string; takenAt: string } & Record<string, unknown>): void {
  const file = path.join(spool, ".stream", "history.jsonl");
  const line = `${JSON.stringify(entry)}\n`;
  if (fs.existsSync(file)) {
    const size = fs.statSync(file).size;
    const tail = Buffer.alloc(Math.min(size, 1 << 16));
    const fd = fs.openSync(file, "r");
    try {
      fs.readSync(fd, tail, 0, tail.length, size - tail.length);
    } finally {
      fs.closeSync(fd);
    }
    const last = tail.toString("utf8").trimEnd().split("\n").pop() ?? "";
    if (last === line.trimEnd()) return;
  }
  fs.appendFileSync(file, line);
}
