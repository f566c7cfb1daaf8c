import path from "node:path";
import { SERVICES } from "../../core/enums";
import { RATS, type RejectCode } from "../types";

/** The two layouts of a usage file (docs/usage-records.md): CSV with a header, or JSON lines. */
export type UsageFormat = "csv" | "jsonl";

/** Column names, in the canonical order (the generator writes them in this order). */
export const USAGE_FIELDS = [
  "recordId",
  "imsi",
  "homePlmn",
  "visitedPlmn",
  "service",
  "callEventStartTimeStamp",
  "totalCallEventDuration",
  "dataVolumeOutgoing",
  "dataVolumeIncoming",
  "eventCount",
  "rat",
  "latencyMs",
  "throughputKbps",
] as const;
export type UsageField = (typeof USAGE_FIELDS)[number];

/** Fields that may be absent or empty (then 0: not measured). */
export const OPTIONAL_FIELDS: readonly UsageField[] = ["latencyMs", "throughputKbps"];
export const REQUIRED_FIELDS: readonly UsageField[] = USAGE_FIELDS.filter((f) => !OPTIONAL_FIELDS.includes(f));

/** Above these a value is ABSURD_VOLUME: no real record of one call event comes near them. */
export const USAGE_LIMITS = {
  /** Bytes up + down in one record (1 TB). */
  maxBytes: 1e12,
  /** Seconds (31 days). */
  maxDuration: 31 * 86_400,
  /** Signalling events or SMS in one record. */
  maxEvents: 1e6,
  maxLatencyMs: 60_000,
  /** 10 Gbit/s. */
  maxThroughputKbps: 1e7,
} as const;

/** Longest line read; a longer one is rejected (MALFORMED) and skipped. */
export const MAX_LINE_BYTES = 1 << 20;
/** Characters of a rejected line kept in the reject. */
export const RAW_MAX = 200;

// Field indices (positions in USAGE_FIELDS).
export const F_ID = 0;
export const F_IMSI = 1;
export const F_HOME = 2;
export const F_VISITED = 3;
export const F_SERVICE = 4;
export const F_START = 5;
export const F_DURATION = 6;
export const F_UP = 7;
export const F_DOWN = 8;
export const F_EVENTS = 9;
export const F_RAT = 10;
export const F_LATENCY = 11;
export const F_THROUGHPUT = 12;
export const FIELD_COUNT = USAGE_FIELDS.length;
export const FIELD_INDEX = new Map<string, number>(USAGE_FIELDS.map((f, i) => [f, i]));

/** Service and radio names as files write them, and their codes (lib/core/enums SERVICES, RATS). */
export const SERVICE_NAMES: readonly string[] = SERVICES;
export const SERVICE_INDEX = new Map<string, number>(SERVICES.map((name, code) => [name, code]));
export const RAT_NAMES: readonly string[] = RATS;
export const RAT_INDEX = new Map<string, number>(RATS.map((name, code) => [name, code]));
export const RAT_NB_IOT = RATS.indexOf("nb-iot");

/** Unit of each numeric field, by field index. */
export const UNITS: Record<number, string> = {
  [F_DURATION]: "seconds",
  [F_UP]: "bytes",
  [F_DOWN]: "bytes",
  [F_EVENTS]: "events",
  [F_LATENCY]: "milliseconds",
  [F_THROUGHPUT]: "kbit/s",
};
/** Fields a JSON line must give as strings. */
export const STRING_FIELDS = [F_ID, F_IMSI, F_HOME, F_VISITED, F_SERVICE, F_START, F_RAT];
/** The reject code of a string field given as another JSON type. */
export const STRING_FIELD_CODES: Record<number, RejectCode> = {
  [F_ID]: "INVALID_RECORD_ID",
  [F_IMSI]: "INVALID_IMSI",
  [F_HOME]: "INVALID_PLMN",
  [F_VISITED]: "INVALID_PLMN",
  [F_SERVICE]: "INVALID_SERVICE",
  [F_START]: "INVALID_TIMESTAMP",
  [F_RAT]: "INVALID_RAT",
};

/** The format of a usage file from its extension, or undefined when the extension says nothing. */
export function formatFromExtension(file: string): UsageFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  return undefined;
}
