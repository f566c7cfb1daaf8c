import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { once } from "node:events";
import { removeStaleTempFiles } from "../../util/fsAtomic";

/** The first ISO 8601 date-time of a line: its callEventStartTimeStamp, the only time a usage record has. */
const DATE_TIME = /(\d{4})-(\d{2})-\d{2}[Tt]\d{2}:\d{2}:\d{2}/;

/** yyyymm of the start time written in a usage line, or undefined when it has none. */
export function monthOfLine(line: string): number | undefined {
  const m = DATE_TIME.exec(line);
  if (!m) return undefined;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return undefined;
  return Number(m[1]) * 100 + month;
}

export interface FilePart {
  period: number;
  /** The file to ingest for the period: the file itself when it holds one month only. */
  file: string;
  /**
   * A TAP file spanning months: `file` is a link to the whole file, whose run takes this month's call events
   * only (`undatedHere`: and those without a readable start; lib/tap/months.ts).
   */
  tapMonth?: { undatedHere: boolean };
}

/**
 * Splits a CSV or JSON-lines usage file by the month of its records' start times, for the stream's month
 * rollover: each month's records go to that period's batches. A file of one month (the usual case) is not
 * copied: its only part is the file itself (rejects keep the file's line numbers). Otherwise each month's
 * lines (a CSV's with its header line) are written to `<partsDir>/<yyyymm>.<ext>`, complete or not at all
 * (temp files renamed at the end; a killed split leaves temp files that the next one removes, and writes
 * the parts anew: they are a function of the file). A line without a readable start time stays with the
 * line before it (the first month's when it comes first), where `usage:ingest` rejects it with its reason.
 * Parts come in period order. `fallback` is the period of a file without any readable start time.
 */
export async function splitByMonth(file: string, options: { csv: boolean; partsDir: string; fallback: number }): Promise<FilePart[]> {
  const months = new Set<number>();
  for await (const line of lines(file)) {
    const m = monthOfLine(line);
    if (m !== undefined) months.add(m);
    if (months.size > 1) break;
  }
  if (months.size <= 1) return [{ period: [...months][0] ?? options.fallback, file }];
  fs.mkdirSync(options.partsDir, { recursive: true });
  removeStaleTempFiles(options.partsDir);
  const ext = path.extname(file);
  const writers = new Map<number, { stream: fs.WriteStream; temp: string; final: string }>();
  let header: string | undefined;
  let current: number | undefined;
  const pending: string[] = []; // lines before the first datable one
  const writerOf = (period: number) => {
    let w = writers.get(period);
    if (!w) {
      const final = path.join(options.partsDir, `${period}${ext}`);
      const temp = path.join(options.partsDir, `.${period}${ext}.${process.pid}.${Date.now().toString(16)}.tmp`);
      w = { stream: fs.createWriteStream(temp, { flags: "wx", mode: 0o600 }), temp, final };
      if (header !== undefined) w.stream.write(`${header}\n`);
      writers.set(period, w);
    }
    return w;
  };
  let first = true;
  for await (const line of lines(file)) {
    if (first && options.csv) {
      header = line;
      first = false;
      continue;
    }
    first = false;
    current = monthOfLine(line) ?? current;
    if (current === undefined) {
      pending.push(line);
      continue;
    }
    const w = writerOf(current);
    for (const p of pending.splice(0)) w.stream.write(`${p}\n`);
    if (!w.stream.write(`${line}\n`)) await once(w.stream, "drain");
  }
  const parts: FilePart[] = [];
  for (const [period, w] of [...writers].sort((a, b) => a[0] - b[0])) {
    await new Promise<void>((resolve, reject) => w.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const fd = fs.openSync(w.temp, "r");
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(w.temp, w.final);
    parts.push({ period, file: w.final });
  }
  return parts;
}

/** A file's lines (without their line ends); the file is closed when the loop ends, early or not. */
async function* lines(file: string): AsyncGenerator<string> {
  const input = fs.createReadStream(file);
  const rl = readline.createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    yield* rl;
  } finally {
    rl.close();
    input.destroy();
  }
}
