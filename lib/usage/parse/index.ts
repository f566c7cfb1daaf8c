/**
 * Streaming parser and validator of a visited carrier's usage records (CSV with a header, or JSON
 * lines), see docs/usage-records.md. Whole-file problems throw InputError before the first chunk is
 * yielded; a bad line becomes a `Reject` with its line, a code and a reason, never silently dropped.
 *
 * Hot path: the file is read in blocks of about 1 MiB; a block that is pure ASCII without NUL bytes
 * (checked natively) is decoded line by line as latin1; other lines are checked for UTF-8 one by one.
 * Fields are split with indexOf, numbers and timestamps parsed by hand.
 *
 * The folder by concern: fields.ts (columns, limits, codes), options.ts, header.ts (the CSV header),
 * lineParser.ts (one line: split, validate, the record), values.ts and dates.ts (single values),
 * rules.ts (a record's quantities), quoted.ts (quoted CSV fields), file.ts and reader.ts (the file).
 */
export { daysFromCivil } from "./dates";
export {
  formatFromExtension,
  MAX_LINE_BYTES,
  OPTIONAL_FIELDS,
  REQUIRED_FIELDS,
  USAGE_FIELDS,
  USAGE_LIMITS,
  type UsageField,
  type UsageFormat,
} from "./fields";
export { MAX_RECORD_ID_LENGTH } from "../recordId";
export { checkHeader } from "./header";
export { isReject, parseUsageLine, UsageLineParser } from "./lineParser";
export type { LineParserOptions, ParseChunk, ParseOptions } from "./options";
export { parseUsageFile } from "./reader";
