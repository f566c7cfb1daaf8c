import type { Hex } from "../../util/hex";
import type { RecordIdSet } from "../recordIdSet";
import type { ParsedRecord, Reject } from "../types";
import type { UsageFormat } from "./fields";

export interface ParseOptions {
  /** Home carrier of this run (bytes3): every record must be of its devices. */
  home: Hex;
  /** Our own PLMN (bytes3): the network that served the records. */
  visited: Hex;
  /** yyyymm, e.g. 202611: every record must start in this month (UTC). */
  period: number;
  /** By default from the extension: .csv, .jsonl, .ndjson. */
  format?: UsageFormat;
  /**
   * The record ids of the period, made `withValues`: those accepted from earlier files (loaded, no
   * value), to which the parser adds the id of each record it yields, with its line. A record whose id
   * is in it already is rejected as a duplicate. Keep the ids of records you then do not commit out
   * (`keepOut`) and save the set when you commit. Without it, the parser keeps a table of its own.
   */
  seenIds?: RecordIdSet;
}

export interface ParseChunk {
  records: ParsedRecord[];
  rejects: Reject[];
  /** Bytes of the file consumed so far (for progress against the file size). */
  bytesRead: number;
}

export interface LineParserOptions extends ParseOptions {
  /** CSV columns in file order (the header); USAGE_FIELDS by default. */
  columns?: readonly string[];
  /** Records expected, to size the table of ids seen (it grows when needed). */
  expectedRecords?: number;
}
