import { isAscii, isUtf8 } from "node:buffer";
import { InputError } from "../../core/errors";
import { checkPlmnHex } from "../../core/plmn";
import { checkPeriod } from "../../core/period";
import type { ParsedRecord, Reject } from "../types";
import { formatFromExtension, MAX_LINE_BYTES, RAW_MAX } from "./fields";
import { openUsageFile, sniff } from "./file";
import { checkHeader, headerError } from "./header";
import { UsageLineParser } from "./lineParser";
import type { ParseChunk, ParseOptions } from "./options";
import { truncateRaw } from "./values";

const READ_BYTES = 1 << 20;

/**
 * Reads a usage file and yields its records and rejects in chunks of one read block (~1 MiB), in
 * line order. Throws InputError, before yielding anything, when the file cannot be used at all
 * (missing, empty, binary, not UTF-8, bad header, unknown format); and later only if reading fails
 * midway (then a caller must commit nothing of the file).
 */
export async function* parseUsageFile(file: string, options: ParseOptions): AsyncGenerator<ParseChunk> {
  const format = options.format ?? formatFromExtension(file);
  if (format === undefined) {
    throw new InputError("cannot tell the format from the file name", {
      location: { file },
      hint: "name the file .csv, .jsonl or .ndjson, or pass the format (csv or jsonl).",
    });
  }
  checkPlmnHex(options.home, "home");
  checkPlmnHex(options.visited, "visited");
  checkPeriod(options.period);

  const { handle, size } = await openUsageFile(file);
  // About 100 bytes per CSV record, 250 per JSON line: size the id table once.
  const expectedRecords = Math.ceil(size / (format === "csv" ? 100 : 250));
  try {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    let kept = 0; // bytes of an unfinished line at the start of buf
    let skipping = false; // discarding the rest of an over-long line, rejected already
    let lineNo = 0; // lines started so far
    let bytesRead = 0;
    let first = true;
    let parser: UsageLineParser | undefined = format === "jsonl" ? new UsageLineParser({ ...options, format, expectedRecords }) : undefined;
    let sawContent = false;

    for (;;) {
      let n: number;
      try {
        ({ bytesRead: n } = await handle.read(buf, kept, buf.length - kept, null));
      } catch (cause) {
        throw new InputError(`reading failed after line ${lineNo}`, {
          location: { file },
          cause,
          details: (cause as Error).message,
          hint: "check that the file is still there and readable, then run again; commit nothing of this file.",
        });
      }
      const eof = n === 0;
      bytesRead += n;
      let end = kept + n;
      let pos = 0;
      if (first) {
        if (end === 0) throw new InputError("the file is empty", { location: { file }, hint: "export the usage records again." });
        first = false;
        sniff(file, buf.subarray(0, end));
        if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
          buf.copy(buf, 0, 3, end);
          end -= 3;
        }
      }
      const view = buf.subarray(0, end);
      const records: ParsedRecord[] = [];
      const rejects: Reject[] = [];

      // Complete lines end at the last \n; at EOF the rest is a final line without a line break.
      const stop = eof ? end : view.lastIndexOf(10) + 1;
      if (stop <= pos && !eof) {
        if (end < buf.length) {
          kept = end;
          continue;
        }
        // A whole block without a line break: reject the line once and discard it up to the next \n.
        if (!skipping) {
          lineNo++;
          if (parser === undefined) throw headerError(file, lineNo, `the first line is longer than ${MAX_LINE_BYTES} bytes`);
          const raw = truncateRaw(view.toString("utf8", pos, pos + RAW_MAX * 4));
          rejects.push({ line: lineNo, code: "MALFORMED", reason: `the line is longer than ${MAX_LINE_BYTES} bytes`, raw });
          skipping = true;
          sawContent = true;
        }
        kept = 0;
        yield { records, rejects, bytesRead };
        continue;
      }

      const ascii = isAscii(view.subarray(pos, stop));
      let nul = view.indexOf(0, pos);
      while (pos < stop) {
        let nl = view.indexOf(10, pos);
        const terminated = nl !== -1 && nl < stop;
        if (!terminated) nl = stop;
        const lineStart = pos;
        const lineEnd = nl > pos && view[nl - 1] === 13 ? nl - 1 : nl;
        pos = terminated ? nl + 1 : stop;
        if (skipping) {
          skipping = false;
          continue;
        }
        lineNo++;
        if (lineEnd === lineStart) continue;

        let text: string;
        if (nul !== -1 && nul < nl) {
          while (nul !== -1 && nul < nl) nul = view.indexOf(0, nul + 1);
          if (parser === undefined) throw headerError(file, lineNo, "the header contains a NUL byte");
          text = view.toString("latin1", lineStart, Math.min(lineEnd, lineStart + RAW_MAX)).replace(/\0/g, "\\0");
          rejects.push({ line: lineNo, code: "MALFORMED", reason: "the line contains a NUL byte (binary data)", raw: text });
          sawContent = true;
          continue;
        }
        if (ascii || isAscii(view.subarray(lineStart, lineEnd))) {
          text = view.toString("latin1", lineStart, lineEnd);
        } else if (isUtf8(view.subarray(lineStart, lineEnd))) {
          text = view.toString("utf8", lineStart, lineEnd);
        } else {
          if (parser === undefined) {
            throw headerError(
              file,
              lineNo,
              "the header is not valid UTF-8 text",
              "save the file as UTF-8 (not Latin-1 or a spreadsheet's own format).",
            );
          }
          text = view.toString("utf8", lineStart, lineEnd);
          rejects.push({ line: lineNo, code: "MALFORMED", reason: "the line is not valid UTF-8 text", raw: truncateRaw(text) });
          sawContent = true;
          continue;
        }
        if (isBlank(text)) continue;

        if (parser === undefined) {
          parser = new UsageLineParser({ ...options, format, expectedRecords, columns: checkHeader(file, lineNo, text) });
          sawContent = true;
          continue;
        }
        if (!sawContent) {
          sawContent = true;
          if (/^[A-Za-z"]/.test(text) && text.includes(",")) {
            throw headerError(
              file,
              lineNo,
              "the first line looks like a CSV header, not a JSON object",
              "name the file .csv (or pass the format csv) for CSV.",
            );
          }
        }
        const outcome = parser.parse(text, lineNo, !terminated);
        if ("code" in outcome) rejects.push(outcome);
        else records.push(outcome);
      }

      if (eof) {
        if (!sawContent)
          throw new InputError("the file is empty (blank lines only)", { location: { file }, hint: "export the usage records again." });
        yield { records, rejects, bytesRead };
        return;
      }
      kept = end - stop;
      if (kept > 0) buf.copy(buf, 0, stop, end);
      // Nothing is yielded before the header (CSV) or the first line (JSON lines) is known to be fine.
      if (sawContent) yield { records, rejects, bytesRead };
    }
  } finally {
    await handle.close();
  }
}

function isBlank(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c !== 32 && c !== 9 && c !== 13) return false;
  return text.trim() === "";
}
