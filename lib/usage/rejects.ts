import { REJECT_CODES, type Reject, type RejectCode } from "./types";
import { AtomicTextFile } from "../util/fsAtomic";

/**
 * Writes the rejects of one input file as CSV (`line,code,reason,raw`, RFC 4180 quoting, raw line cut
 * to 200 characters) next to it as `<input>.rejects.csv`. Lines go to a temp file in the same folder;
 * `close()` renames it into place (so a crash never leaves half a rejects file, and an old one is
 * replaced only by a complete new one), `abort()` removes it. Written even when there are no rejects
 * (header only), so a stale file from an earlier run never remains.
 */

export const REJECTS_HEADER = "line,code,reason,raw";
const RAW_MAX = 200;

/**
 * Quotes a CSV field when it holds a comma, a quote or a line break. Not lib/util/csv's csvLine (yet):
 * csv-stringify leaves a field with a lone CR unquoted, and a raw line may hold one; readers that take
 * CR as a line break (Python's csv, spreadsheets) would split the reject there.
 */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export interface RejectsSummary {
  /** Where the rejects file is (after close). */
  path: string;
  total: number;
  /** Rejects per code, only codes that occurred, in REJECT_CODES order. */
  counts: Partial<Record<RejectCode, number>>;
}

export class RejectsWriter {
  /** Final path: `<input>.rejects.csv` unless given. */
  readonly path: string;
  private readonly file: AtomicTextFile;
  private readonly counts = new Map<RejectCode, number>();
  private totalCount = 0;
  private state: "open" | "closed" | "aborted" = "open";

  private constructor(target: string) {
    this.path = target;
    this.file = new AtomicTextFile(target);
  }

  /**
   * Creates the temp file for the rejects of `input` (or at `options.path`), after removing the temp
   * files of that rejects file that killed runs left behind.
   */
  static async open(input: string, options: { path?: string } = {}): Promise<RejectsWriter> {
    const writer = new RejectsWriter(options.path ?? `${input}.rejects.csv`);
    await writer.file.open(`${REJECTS_HEADER}\n`);
    return writer;
  }

  /** Rejects written so far. */
  get total(): number {
    return this.totalCount;
  }

  /** Appends rejects (buffered; flushed about every 256 KB). */
  async write(rejects: readonly Reject[]): Promise<void> {
    if (this.state !== "open") throw new Error(`RejectsWriter is ${this.state}`);
    let out = "";
    for (const r of rejects) {
      this.counts.set(r.code, (this.counts.get(r.code) ?? 0) + 1);
      this.totalCount++;
      const raw = r.raw.length > RAW_MAX ? r.raw.slice(0, RAW_MAX) : r.raw;
      out += `${r.line},${r.code},${csvField(r.reason)},${csvField(raw)}\n`;
    }
    await this.file.add(out);
  }

  /** Rejects per code, only codes that occurred, in REJECT_CODES order. */
  summary(): RejectsSummary {
    const counts: Partial<Record<RejectCode, number>> = {};
    for (const code of REJECT_CODES) {
      const n = this.counts.get(code);
      if (n) counts[code] = n;
    }
    return { path: this.path, total: this.totalCount, counts };
  }

  /** Writes what is buffered, and moves the file into place. */
  async close(): Promise<RejectsSummary> {
    if (this.state !== "open") throw new Error(`RejectsWriter is ${this.state}`);
    try {
      await this.file.commit();
      this.state = "closed";
    } catch (err) {
      await this.abort();
      throw err;
    }
    return this.summary();
  }

  /** Removes the temp file; the previous rejects file, if any, stays. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "aborted";
    await this.file.abort();
  }
}

/**
 * The rejects file (`<input>.rejects.csv`, or `options.path`) of an input refused as a whole (a TAP file:
 * lib/tap/refusal.ts TapFileRefused): one row, line 0, the code, the reason, raw `file`. Written atomically;
 * returns its path.
 */
export async function writeRefusal(
  input: string,
  refusal: { code: RejectCode; problem: string },
  options: { path?: string } = {},
): Promise<string> {
  const writer = await RejectsWriter.open(input, options);
  await writer.write([{ line: 0, code: refusal.code, reason: refusal.problem, raw: "file" }]);
  return (await writer.close()).path;
}
