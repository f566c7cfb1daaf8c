import { SERVICES } from "../core/enums";
import type { Hex } from "../util/hex";
import type { UsageBatchHeader } from "./batch";
import { TAP_FATAL_CODES } from "../tap/refusal";

/**
 * Shared shapes of the usage-record flow. They mirror contracts/types/UsageTypes.sol: numbers that fit
 * 2^53 are `number` (bytes per record, counts); sums that may not are `bigint`.
 */

/** The leaf's `service` codes (a service's index in SERVICES, the contract's `Service`). */
export const SERVICE_DATA = SERVICES.indexOf("data");
export const SERVICE_SMS = SERVICES.indexOf("sms");
export const SERVICE_VOICE = SERVICES.indexOf("voice");
export const SERVICE_SIGNALLING = SERVICES.indexOf("signalling");

/** Radio access technologies, in the order of the leaf's `rat` code. */
export const RATS = ["nb-iot", "lte-m", "lte", "nr", "utran", "geran"] as const;
export type Rat = (typeof RATS)[number];

/** A record as read and validated from the input file (before the device is resolved). */
export interface ParsedRecord {
  /** 1-based line in the input file. */
  line: number;
  /** ASCII, 1 to 32 bytes. */
  recordId: string;
  imsi: string;
  /** bytes3 hex, lower case, e.g. 0x62f210. */
  home: Hex;
  visited: Hex;
  /** Index into SERVICES (lib/core/enums). */
  service: number;
  /** Index into RATS. */
  rat: number;
  /** Unix seconds, UTC. */
  startTime: number;
  /** Seconds. */
  duration: number;
  bytesUp: number;
  bytesDown: number;
  events: number;
  /** 0 when not measured. */
  latencyMs: number;
  /** 0 when not measured. */
  throughputKbps: number;
}
/** A record as committed: the leaf is keccak256 of its 111-byte packing and the batch's 32-byte salt (lib/usage/leaf.ts). */
/** A record as committed: the leaf is keccak256 of its 111-byte packing (lib/usage/leaf.ts). */
export interface UsageRecord {
  recordId: Hex; // bytes32
  deviceId: Hex; // bytes32
  home: Hex; // bytes3
  visited: Hex; // bytes3
  service: number;
  rat: number;
  startTime: number;
  duration: number;
  bytesUp: number;
  bytesDown: number;
  events: number;
  latencyMs: number;
  throughputKbps: number;
  tariffClass: number;
  /** Index into BILLING. */
  billing: number;
}

/** Billable totals of one tariff class (contract struct `ClassTotals`). */
export interface ClassTotals {
  tariffClass: number;
  records: number;
  activeDevices: number;
  roamerDays: number;
  dataBytes: bigint;
  signallingEvents: bigint;
  smsCount: bigint;
  voiceSeconds: bigint;
  qosSamples: number;
  latencyMsSum: bigint;
  throughputKbpsSum: bigint;
}

/** Totals of one class, all zero. */
export function zeroTotals(tariffClass: number): ClassTotals {
  return {
    tariffClass,
    records: 0,
    activeDevices: 0,
    roamerDays: 0,
    dataBytes: 0n,
    signallingEvents: 0n,
    smsCount: 0n,
    voiceSeconds: 0n,
    qosSamples: 0,
    latencyMsSum: 0n,
    throughputKbpsSum: 0n,
  };
}

/** The signed batch header (contract struct `UsageBatch`); its EIP-712 struct hash is the batch id. */
export type UsageBatch = UsageBatchHeader;

/**
 * A batch as the visited carrier keeps it locally (the ingest's journal): the public header it signs,
 * and what only the sealed payload carries besides the records: the record count, the billable totals
 * and the salt of the header's `totalsCommitment`. Never sent to the chain.
 */
export interface LocalBatch {
  header: UsageBatchHeader;
  /** Records in the batch, billable or not. */
  recordCount: number;
  /** Billable totals, classes strictly ascending. */
  totals: ClassTotals[];
  /** The commitment's 32-byte secret salt. */
  totalsSalt: Hex;
}

/** Reject reason codes of the ingest (as GSMA RAP returns records), in the rejects file. */
export const REJECT_CODES = [
  "MALFORMED",
  "MISSING_FIELD",
  "INVALID_RECORD_ID",
  "INVALID_IMSI",
  "INVALID_PLMN",
  "WRONG_HOME_PLMN",
  "WRONG_VISITED_PLMN",
  "INVALID_SERVICE",
  "INVALID_RAT",
  "INVALID_TIMESTAMP",
  "OUTSIDE_PERIOD",
  "INVALID_NUMBER",
  "NEGATIVE_VOLUME",
  "ABSURD_VOLUME",
  "INCONSISTENT_RECORD",
  "DUPLICATE_RECORD_ID",
  "UNKNOWN_DEVICE",
  "DEVICE_OF_OTHER_HOME",
  "UNPRICED_CLASS",
  // TAP input (lib/tap/map.ts): a call event that maps to no usage record (supplementary service,
  // content, location...), reported but not billed; never returned in RAP.
  "NOT_BILLABLE",
  // TAP input, file level (RAP fatal): the whole file is refused (TAP_SENDER, TAP_RECIPIENT, TAP_VERSION,
  // TAP_SEQUENCE_DUPLICATE, TAP_SEQUENCE_ORDER, TAP_AUDIT, TAP_STRUCTURE).
  ...TAP_FATAL_CODES,
] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

export interface Reject {
  line: number;
  code: RejectCode;
  /** Human-readable: what is wrong with which field. */
  reason: string;
  /** The raw line, truncated to 200 characters. */
  raw: string;
}
