import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../../util/fsAtomic";
import type { SpoolFile } from "./spool";

/** At most this many files in one group (one run). */
export const MAX_GROUP_FILES = 1000;

/** The format family of a CSV or JSON-lines name (".jsonl" and ".ndjson" are one), undefined for others (TAP). */
export function familyOf(name: string): "csv" | "jsonl" | undefined {
  const ext = path.extname(name).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  return undefined;
}

/**
 * Counts records (lines; a CSV's header not counted) of spool files, remembered by name, size and time so
 * that a poll does not read a waiting file again.
 */
export class RecordCounter {
  private readonly known = new Map<string, { key: string; records: number; header: string }>();

  /** A file's first line, remembered as its count is. */
  header(dir: string, f: SpoolFile): string {
    this.count(dir, f);
    return (this.known.get(f.name) as { header: string }).header;
  }

  count(dir: string, f: SpoolFile): number {
    const key = `${f.size}/${f.mtimeMs}`;
    const known = this.known.get(f.name);
    if (known?.key === key) return known.records;
    const text = fs.readFileSync(path.join(dir, f.name), "utf8");
    let lines = 0;
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
    if (text.length > 0 && !text.endsWith("\n")) lines++;
    const records = Math.max(0, lines - (familyOf(f.name) === "csv" ? 1 : 0));
    const end = text.indexOf("\n");
    const header = (end < 0 ? text : text.slice(0, end)).replace(/\r$/, "");
    this.known.set(f.name, { key, records, header });
    return records;
  }

  forget(name: string): void {
    this.known.delete(name);
  }
}

/**
 * The files `usage:stream --batch-seconds` ingests together as one run, or undefined while they should wait
 * for more: from the oldest complete CSV or JSON-lines file, the ones after it of its format (a CSV's header
 * the same), in landing order, at most MAX_GROUP_FILES. They are taken once they hold `batchSize` records
 * or more, or the oldest landed `batchSeconds` ago, or `drain` (--once). `files` are the spool's complete
 * usage files, oldest first; a file of another kind (TAP, another format) ends the group and waits for the
 * next.
 */
export function groupToTake(
  dir: string,
  files: readonly SpoolFile[],
  options: { batchSize: number; batchSeconds: number; drain: boolean; now: number; counter: RecordCounter },
): SpoolFile[] | undefined {
  const first = files[0];
  const family = first && familyOf(first.name);
  if (!first || !family) return undefined;
  const header = family === "csv" ? options.counter.header(dir, first) : undefined;
  const group: SpoolFile[] = [];
  let records = 0;
  for (const f of files) {
    if (group.length >= MAX_GROUP_FILES || familyOf(f.name) !== family) break;
    if (header !== undefined && options.counter.header(dir, f) !== header) break;
    group.push(f);
    records += options.counter.count(dir, f);
  }
  const aged = options.now - first.mtimeMs >= options.batchSeconds * 1000;
  return options.drain || aged || records >= options.batchSize ? group : undefined;
}

/**
 * Writes the files of a group (in `dir`, in order) as one file `out`: a CSV's header once, every file's lines
 * after it, each file ending with a line end. Written whole or not at all (a killed write leaves the old
 * file or none); the same files give the same bytes, so a run resumed after a kill has the same run key.
 * Returns each file's first and last line in `out` (1-based), for the rejects' manifest.
 */
export function combineGroup(dir: string, names: readonly string[], out: string): { name: string; from: number; to: number }[] {
  const csv = familyOf(names[0]) === "csv";
  const chunks: string[] = [];
  const ranges: { name: string; from: number; to: number }[] = [];
  let line = 0;
  for (const [i, name] of names.entries()) {
    let text = fs.readFileSync(path.join(dir, name), "utf8");
    if (text.length > 0 && !text.endsWith("\n")) text += "\n";
    if (csv && i > 0) text = text.slice(text.indexOf("\n") + 1);
    else if (csv) {
      chunks.push(text.slice(0, text.indexOf("\n") + 1));
      text = text.slice(text.indexOf("\n") + 1);
      line++;
    }
    const lines = text.length === 0 ? 0 : text.split("\n").length - 1;
    ranges.push({ name, from: line + 1, to: line + lines });
    line += lines;
    chunks.push(text);
  }
  writeFileAtomic(out, chunks);
  return ranges;
}
