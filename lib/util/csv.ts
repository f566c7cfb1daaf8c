import fs from "node:fs";
import readline from "node:readline";
import { CsvError, type CsvErrorCode, parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { InputError } from "../core/errors";

/**
 * Streaming CSV reader (RFC 4180 quoting, one record per line, parsed by csv-parse): memory stays flat
 * whatever the file size. Row-level problems are yielded as `{ line, error }` so a caller can collect all
 * of them; problems with the whole file (missing, unreadable, bad header) are thrown.
 */

export interface CsvRow {
  /** 1-based physical line number. */
  line: number;
  fields: string[];
}

export interface CsvRecord {
  line: number;
  /** Field values by header column name. */
  record: Record<string, string>;
}

export interface CsvLineError {
  line: number;
  error: InputError;
}

export interface CsvOptions {
  /** One character; "," by default. */
  delimiter?: string;
}

export interface CsvHeaderOptions extends CsvOptions {
  /** Columns the header must name; others are allowed and kept. */
  required: readonly string[];
}

const BOM = "\uFEFF";
const QUOTING_HINT =
  'put fields that contain the delimiter or a quote in double quotes, write a quote inside them as "", and keep each record on one line.';

/** What csv-parse's quoting errors mean, in the words of the file's author. */
const QUOTING_PROBLEMS: Partial<Record<CsvErrorCode, string>> = {
  CSV_QUOTE_NOT_CLOSED: "quoted field is not closed on this line",
  INVALID_OPENING_QUOTE: "quote inside a field that does not start with one",
  CSV_INVALID_CLOSING_QUOTE: "text after the closing quote",
};

type ParsedLine = { fields: string[] } | { problem: string };

/** A non-blank physical line of the file. */
interface Line {
  line: number;
  text: string;
}

/** Lines parsed in one call: csv-parse costs far more per call than per line. */
const BATCH_LINES = 512;

/**
 * One physical line as one record. A record never spans lines (a quote left open at the end of the line
 * is an error there), so a bad line is reported at its own number and the next line is read afresh.
 */
function parseLine(text: string, delimiter: string): ParsedLine {
  try {
    const [fields] = parse(text, { delimiter, relax_column_count: true });
    return { fields };
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    // csv-parse counts fields from 0 in `column`.
    const field = typeof err.column === "number" ? `field ${err.column + 1}: ` : "";
    return { problem: `${field}${QUOTING_PROBLEMS[err.code] ?? err.message}` };
  }
}

/**
 * The records of a batch of lines parsed together, one per line; undefined when a line is malformed or
 * a quoted field runs on into the next line (fewer records than lines), which line by line parsing
 * then reports at the right line.
 */
function parseBatch(batch: readonly Line[], delimiter: string): string[][] | undefined {
  try {
    const records = parse(batch.map((l) => l.text).join("\n"), { delimiter, relax_column_count: true });
    return records.length === batch.length ? records : undefined;
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    return undefined;
  }
}

function* rowsOf(batch: readonly Line[], delimiter: string, file: string): Generator<CsvRow | CsvLineError> {
  const records = parseBatch(batch, delimiter);
  for (const [i, { line, text }] of batch.entries()) {
    const parsed = records ? { fields: records[i] } : parseLine(text, delimiter);
    if ("fields" in parsed) yield { line, fields: parsed.fields };
    else yield { line, error: new InputError(parsed.problem, { location: { file, line }, hint: QUOTING_HINT }) };
  }
}

async function openFile(file: string): Promise<fs.promises.FileHandle> {
  const location = { file };
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, "r");
  } catch (cause) {
    const code = cause instanceof Error && "code" in cause ? String(cause.code) : undefined;
    if (code === "ENOENT") {
      throw new InputError("file not found", {
        location,
        cause,
        hint: `check the path (relative paths start from ${process.cwd()}).`,
      });
    }
    if (code === "EISDIR") throw directoryError(file);
    throw new InputError(`cannot open the file (${code ?? String(cause)})`, {
      location,
      cause,
      hint: "check that the file exists and that you may read it.",
    });
  }
  if ((await handle.stat()).isDirectory()) {
    await handle.close();
    throw directoryError(file);
  }
  return handle;
}

function directoryError(file: string): InputError {
  return new InputError("is a directory, not a CSV file", {
    location: { file },
    hint: "pass the path of the CSV file itself.",
  });
}

/** Yields each non-blank line as fields, or as an error when its quoting is malformed. */
export async function* readCsv(file: string, options: CsvOptions = {}): AsyncGenerator<CsvRow | CsvLineError> {
  const delimiter = options.delimiter ?? ",";
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === "\r" || delimiter === "\n") {
    throw new InputError(`CSV delimiter ${JSON.stringify(delimiter)} is not usable`, {
      hint: 'use a single character other than a quote or line break, such as "," or ";".',
    });
  }
  const handle = await openFile(file);
  const input = handle.createReadStream({ encoding: "utf8" });
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  let batch: Line[] = [];
  try {
    for await (let text of lines) {
      line++;
      if (line === 1 && text.startsWith(BOM)) text = text.slice(BOM.length);
      if (text.trim() === "") continue;
      batch.push({ line, text });
      if (batch.length < BATCH_LINES) continue;
      yield* rowsOf(batch, delimiter, file);
      batch = [];
    }
    yield* rowsOf(batch, delimiter, file);
  } catch (cause) {
    throw new InputError(`reading failed after line ${line}`, {
      location: { file },
      cause,
      details: cause instanceof Error ? cause.message : String(cause),
      hint: "check that the file is still there and readable, then run the command again.",
    });
  } finally {
    lines.close();
    input.destroy();
  }
}

/**
 * Reads a CSV whose first non-blank line names the columns. Throws InputError when the header is
 * missing, malformed or lacks a required column; yields each later line as a record by column name,
 * or as an error when it is malformed or has the wrong number of fields.
 */
export async function* readCsvWithHeader(file: string, options: CsvHeaderOptions): AsyncGenerator<CsvRecord | CsvLineError> {
  let header: string[] | undefined;
  for await (const row of readCsv(file, options)) {
    if (header === undefined) {
      if ("error" in row) throw row.error;
      header = checkHeader(
        row.fields.map((name) => name.trim()),
        options.required,
        { file, line: row.line },
      );
      continue;
    }
    if ("error" in row) {
      yield row;
    } else if (row.fields.length !== header.length) {
      const error = new InputError(`expected ${header.length} fields, found ${row.fields.length}`, {
        location: { file, line: row.line },
        hint: `every line has the columns of the header (${header.join(", ")}); ${QUOTING_HINT}`,
      });
      yield { line: row.line, error };
    } else {
      const fields = row.fields;
      yield { line: row.line, record: Object.fromEntries(header.map((name, i) => [name, fields[i]])) };
    }
  }
  if (header === undefined) {
    throw new InputError("the file is empty", {
      location: { file },
      hint: `the first line must name the columns, including ${options.required.join(", ")}.`,
    });
  }
}

function checkHeader(names: string[], required: readonly string[], location: { file: string; line: number }): string[] {
  const hint = `the first line must name the columns, including ${required.join(", ")}.`;
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) {
    throw new InputError(`column "${duplicate}" appears twice in the header`, { location, hint });
  }
  const missing = required.filter((name) => !names.includes(name));
  if (missing.length > 0) {
    throw new InputError(`missing column${missing.length === 1 ? "" : "s"} ${missing.join(", ")}; the header has ${names.join(", ")}`, {
      location,
      hint,
    });
  }
  return names;
}

/** A value of a CSV field as the writers take it; `undefined` is an empty field. */
export type CsvValue = string | number | bigint | undefined;

const text = (values: readonly CsvValue[]): string[] => values.map((v) => (v === undefined ? "" : String(v)));

/** One record as a CSV line ending in "\n", quoted as RFC 4180 wants (for writers that stream). */
export function csvLine(values: readonly CsvValue[]): string {
  return stringify([text(values)], { record_delimiter: "unix" });
}

/** A whole CSV document: the header, then one line per row, each ending in "\n". */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return stringify([text(header), ...rows.map(text)], { record_delimiter: "unix" });
}
