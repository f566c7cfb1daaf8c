import type fs from "node:fs";
import { isAscii, isUtf8 } from "node:buffer";
import { InputError } from "../../core/errors";
import { checkPlmnHex } from "../../core/plmn";
import { checkPeriod } from "../../core/period";
import type { ParsedRecord, Reject } from "../types";
import { formatFromExtension, MAX_LINE_BYTES, RAW_MAX, type UsageFormat } from "./fields";
import { openUsageFile, sniff } from "./file";
import { checkHeader, headerError } from "./header";
import { UsageLineParser } from "./lineParser";
import type { LineParserOptions, ParseChunk, ParseOptions } from "./options";
import { truncateRaw } from "./values";

const READ_BYTES = 1 << 20;

/**
 * Reads a usage file and yields its records and rejects in chunks of one read block (~1 MiB), in
 * line order. Throws InputError, before yielding anything, when the file cannot be used at all
 * (missing, empty, binary, not UTF-8, bad header, unknown format); and later only if reading fails
 * midway (then a caller must commit nothing of the file).
 */
export async function* parseUsageFile(file: string, options: ParseOptions): AsyncGenerator<ParseChunk> {
  const format = formatOf(file, options);
  checkPlmnHex(options.home, "home");
  checkPlmnHex(options.visited, "visited");
  checkPeriod(options.period);
  const { handle, size } = await openUsageFile(file);
  try {
    // About 100 bytes per CSV record, 250 per JSON line: size the id table once.
    const expectedRecords = Math.ceil(size / (format === "csv" ? 100 : 250));
    yield* new UsageFileReader(file, handle, { ...options, format, expectedRecords }).chunks();
  } finally {
    await handle.close();
  }
}

function formatOf(file: string, options: ParseOptions): UsageFormat {
  const format = options.format ?? formatFromExtension(file);
  if (format === undefined) {
    throw new InputError("cannot tell the format from the file name", {
      location: { file },
      hint: "name the file .csv, .jsonl or .ndjson, or pass the format (csv or jsonl).",
    });
  }
  return format;
}

/**
 * The reading of one usage file: blocks of READ_BYTES, cut at the last line break (the unfinished line
 * is kept for the next block), lines decoded and handed to the line parser. The CSV header makes the
 * parser; JSON lines have one from the start.
 */
class UsageFileReader {
  private readonly buf = Buffer.allocUnsafe(READ_BYTES);
  /** Bytes of an unfinished line at the start of buf. */
  private kept = 0;
  /** Discarding the rest of an over-long line, rejected already. */
  private skipping = false;
  /** Lines started so far. */
  private lineNo = 0;
  private bytesRead = 0;
  /** A header, record or reject was seen: the file is not empty and its first line is fine. */
  private sawContent = false;
  private parser: UsageLineParser | undefined;
  /** The next NUL byte of the block, -1 when none is left. */
  private nul = -1;
  private records: ParsedRecord[] = [];
  private rejects: Reject[] = [];

  constructor(
    private readonly file: string,
    private readonly handle: fs.promises.FileHandle,
    private readonly options: LineParserOptions & { format: UsageFormat },
  ) {
    if (options.format === "jsonl") this.parser = new UsageLineParser(options);
  }

  async *chunks(): AsyncGenerator<ParseChunk> {
    for (let first = true; ; first = false) {
      const n = await this.read();
      const eof = n === 0;
      const end = first ? this.startFile(this.kept + n) : this.kept + n;
      const view = this.buf.subarray(0, end);
      // Complete lines end at the last \n; at EOF the rest is a final line without a line break.
      const stop = eof ? end : view.lastIndexOf(10) + 1;
      if (stop === 0 && !eof) {
        if (end < this.buf.length) {
          this.kept = end;
          continue;
        }
        this.overlongLine(view);
        this.kept = 0;
        yield this.chunk();
        continue;
      }
      this.takeLines(view, stop);
      if (eof) {
        if (!this.sawContent) {
          throw new InputError("the file is empty (blank lines only)", {
            location: { file: this.file },
            hint: "export the usage records again.",
          });
        }
        yield this.chunk();
        return;
      }
      this.kept = end - stop;
      if (this.kept > 0) this.buf.copy(this.buf, 0, stop, end);
      // Nothing is yielded before the header (CSV) or the first line (JSON lines) is known to be fine.
      if (this.sawContent) yield this.chunk();
    }
  }

  /** Reads the next block after the kept bytes; returns the bytes read (0 at the end of the file). */
  private async read(): Promise<number> {
    try {
      const { bytesRead } = await this.handle.read(this.buf, this.kept, this.buf.length - this.kept, null);
      this.bytesRead += bytesRead;
      return bytesRead;
    } catch (cause) {
      throw new InputError(`reading failed after line ${this.lineNo}`, {
        location: { file: this.file },
        cause,
        details: (cause as Error).message,
        hint: "check that the file is still there and readable, then run again; commit nothing of this file.",
      });
    }
  }

  /** Checks the first block (not empty, text) and drops a UTF-8 byte order mark; returns its new end. */
  private startFile(end: number): number {
    if (end === 0) throw new InputError("the file is empty", { location: { file: this.file }, hint: "export the usage records again." });
    sniff(this.file, this.buf.subarray(0, end), end < this.buf.length ? end : undefined);
    if (end >= 3 && this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf) {
      this.buf.copy(this.buf, 0, 3, end);
      return end - 3;
    }
    return end;
  }

  /** A whole block without a line break: rejects the line once and discards it up to the next \n. */
  private overlongLine(view: Buffer): void {
    if (this.skipping) return;
    this.lineNo++;
    if (this.parser === undefined) throw headerError(this.at(), `the first line is longer than ${MAX_LINE_BYTES} bytes`);
    this.rejectLine(`the line is longer than ${MAX_LINE_BYTES} bytes`, truncateRaw(view.toString("utf8", 0, RAW_MAX * 4)));
    this.skipping = true;
  }

  /** Takes the lines of view[0, stop): the hot loop. */
  private takeLines(view: Buffer, stop: number): void {
    const ascii = isAscii(view.subarray(0, stop));
    this.nul = view.indexOf(0);
    let pos = 0;
    while (pos < stop) {
      let nl = view.indexOf(10, pos);
      const terminated = nl !== -1 && nl < stop;
      if (!terminated) nl = stop;
      const lineStart = pos;
      const lineEnd = nl > pos && view[nl - 1] === 13 ? nl - 1 : nl;
      pos = terminated ? nl + 1 : stop;
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      this.lineNo++;
      if (lineEnd === lineStart) continue;
      const text = this.decode(view, lineStart, lineEnd, nl, ascii);
      if (text !== undefined && !isBlank(text)) this.takeLine(text, terminated);
    }
  }

  /** The text of view[a, b) (the line ending at nl), or undefined when it is rejected as binary or not UTF-8. */
  private decode(view: Buffer, a: number, b: number, nl: number, ascii: boolean): string | undefined {
    if (this.nul !== -1 && this.nul < nl) {
      while (this.nul !== -1 && this.nul < nl) this.nul = view.indexOf(0, this.nul + 1);
      if (this.parser === undefined) throw headerError(this.at(), "the header contains a NUL byte");
      this.rejectLine(
        "the line contains a NUL byte (binary data)",
        view.toString("latin1", a, Math.min(b, a + RAW_MAX)).replace(/\0/g, "\\0"),
      );
      return undefined;
    }
    if (ascii || isAscii(view.subarray(a, b))) return view.toString("latin1", a, b);
    if (isUtf8(view.subarray(a, b))) return view.toString("utf8", a, b);
    if (this.parser === undefined) {
      throw headerError(
        this.at(),
        "the header is not valid UTF-8 text",
        "save the file as UTF-8 (not Latin-1 or a spreadsheet's own format).",
      );
    }
    this.rejectLine("the line is not valid UTF-8 text", truncateRaw(view.toString("utf8", a, b)));
    return undefined;
  }

  /** One non-blank line: the CSV header, else a record or a reject. */
  private takeLine(text: string, terminated: boolean): void {
    if (this.parser === undefined) {
      this.parser = new UsageLineParser({ ...this.options, columns: checkHeader(this.file, this.lineNo, text) });
      this.sawContent = true;
      return;
    }
    if (!this.sawContent) {
      this.sawContent = true;
      if (/^[A-Za-z"]/.test(text) && text.includes(",")) {
        throw headerError(
          this.at(),
          "the first line looks like a CSV header, not a JSON object",
          "name the file .csv (or pass the format csv) for CSV.",
        );
      }
    }
    const outcome = this.parser.parse(text, this.lineNo, !terminated);
    if ("code" in outcome) this.rejects.push(outcome);
    else this.records.push(outcome);
  }

  /** The current line, for errors. */
  private at(): { file: string; line: number } {
    return { file: this.file, line: this.lineNo };
  }

  private rejectLine(reason: string, raw: string): void {
    this.rejects.push({ line: this.lineNo, code: "MALFORMED", reason, raw });
    this.sawContent = true;
  }

  /** What was read since the last chunk. */
  private chunk(): ParseChunk {
    const chunk = { records: this.records, rejects: this.rejects, bytesRead: this.bytesRead };
    this.records = [];
    this.rejects = [];
    return chunk;
  }
}

function isBlank(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c !== 32 && c !== 9 && c !== 13) return false;
  return text.trim() === "";
}
