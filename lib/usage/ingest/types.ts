import type { Signer } from "ethers";
import { itemsPerTx, MEASURED_GAS } from "../../chain/gasBudget";
import type { RoamLedgerClient } from "../../chain/client";
import type { DeviceSource } from "../../devices/resolver";
import type { Hex } from "../../util/hex";
import type { ProgressFactory } from "../../util/progress";
import type { ContentStore } from "../store";
import type { RejectCode } from "../types";
import type { UsageFormat } from "../parse";
import type { TapHeader } from "../../tap/tap312";

/** Records per batch unless told otherwise: ~14 MB of leaves and packed records in memory per batch. */
export const DEFAULT_BATCH_SIZE = 100_000;
/** The most records per batch. */
export const MAX_BATCH_SIZE = 4_000_000;
/**
 * Fraud flags per transaction: as many as 3/4 of 16,777,216 gas (the per-transaction cap of EIP-7825 that
 * nodes apply to gas estimates, anvil does, and that networks enforce from the Osaka fork on) holds at the
 * measured gas per flag (lib/chain/gasBudget.ts), at most the registry's `batchLimits().flagFraud`, 200
 * (also the limit per reporter and UTC day).
 */
export const FLAGS_PER_TX = itemsPerTx(MEASURED_GAS.flagFraud, 200);

export interface IngestOptions {
  file: string;
  /** csv or jsonl; by default from the file's extension (.csv, .jsonl, .ndjson). */
  format?: UsageFormat;
  /** The home partner the file bills, and our own PLMN (bytes3 hex). */
  home: Hex;
  visited: Hex;
  /** yyyymm. */
  period: number;
  /** Connected to an operator of the visited carrier (signs batches, sends flags). */
  client: RoamLedgerClient;
  signer: Signer;
  chainId: bigint;
  /** The home carrier's IMSI key, as shared with us (keys:receive). */
  imsiKey: Uint8Array;
  /** Pairwise payload key of (visited, home). */
  pairKey: Uint8Array;
  /** Local state of this (visited, home) pair: presence, counters, run journals. */
  workDir: string;
  store: ContentStore;
  /** 1 to MAX_BATCH_SIZE; DEFAULT_BATCH_SIZE when absent. */
  batchSize?: number;
  /** Overrides the registry reads (tests). */
  deviceSource?: DeviceSource;
  /**
   * A TAP 3.12 file (told by its content, lib/tap/map.ts): checks its sender and recipient TADIG codes
   * against the pair (lib/tap/map.ts tadigPartyCheck); throws TapFileRefused. Without it, not checked.
   */
  tapParties?: (header: TapHeader) => Promise<void>;
  /** A TAP file: the folder of the file sequence logs (`<store>/tap`, lib/tap/sequenceLog.ts); without it, not checked. */
  tapSequenceDir?: string;
  /**
   * A TAP file imported one month at a time (usage:stream, lib/tap/months.ts): this run takes the call events
   * of `period` and skips the other months' (see TapMapper's `monthPart`).
   */
  tapMonthPart?: { undatedHere: boolean };
  /**
   * False: the file sequence number is checked but not recorded when the run is done (a month part that is
   * not the file's last: the caller records it once every part is done). Default true.
   */
  tapRecordSequence?: boolean;
  /** Reports progress of reading the file and of submitting batches (default: nothing reported). */
  progress?: ProgressFactory;
  /** Status lines (submissions, flags). */
  log?: (line: string) => void;
}

export interface BatchOutcome {
  id: Hex;
  sequence: number;
  records: number;
  payloadHash: Hex;
  /**
   * new: sent by this run; existing: already on-chain (an earlier, interrupted run sent it); refused: never
   * on chain, the ledger could no longer take it (its period closed or past its deadline) and the run was
   * closed out without it (`closeOutRun`).
   */
  submitted?: "new" | "existing" | "refused";
  txHash?: string;
  gasUsed?: string;
}

export interface IngestSummary {
  runKey: string;
  file: string;
  status: "done";
  /** True when an earlier run had already ingested this exact file: nothing was sent. */
  alreadyDone: boolean;
  lines: number;
  accepted: number;
  rejected: number;
  rejectsByCode: Partial<Record<RejectCode, number>>;
  rejectsFile?: string;
  billable: number;
  notBillableByReason: Record<string, number>;
  /**
   * Out-of-policy devices whose flag stands on chain: sent by this run, or found standing (ours, from an
   * earlier run, the stream's screen, or this run before a kill), or flagged by the home's confirmation.
   * The same count however often a run was killed and run again.
   */
  flaggedDevices: number;
  /**
   * Out-of-policy devices not flagged on chain: in our cooldown after the home cleared them, or over the
   * registry's daily quota per reporter (F4).
   */
  flagsHeld: number;
  /** Of `flaggedDevices`, those whose flag of ours stood already (nothing sent for them). */
  flagsStanding?: number;
  flagTxs: string[];
  /**
   * Devices found beyond the agreement's permanent-roaming limit in this run. Kept local: their roamer
   * days count in the sealed totals; nothing about them is reported on chain (it would show the limit).
   */
  permanentRoamers: number;
  devices: number;
  batches: BatchOutcome[];
  /** A TAP file's sender and recipient (TADIG) and file sequence number, recorded in the sequence log once the run is done. */
  tap?: { sender: string; recipient: string; fileSequenceNumber: string; callEvents: number };
  /**
   * Processing (parse, validate, resolve devices from the cache, check, aggregate, Merkle, encrypt, store),
   * chain excluded: the time spent in device and policy reads and in sending fraud flags is taken off.
   */
  processingMs: number;
  recordsPerSec: number;
  /** Chain time taken off `processingMs`: device and policy reads, fraud flags sent and mined. */
  chainMs?: number;
  /** Hashing the file (sha-256, for the run key), before processing. */
  fileHashMs?: number;
  /**
   * CPU time of the process (all its threads) while processing, chain waits included (they cost
   * little CPU): on a machine busy with other work, the wall-clock `processingMs` grows, this does not.
   */
  processingCpuMs?: number;
  /**
   * Peak resident memory of the process (all of it: Node, the parser, caches), MB: at the end of the
   * command (processing, submissions, reports); a summary read back from an unfinished run's journal has
   * the peak at the end of processing.
   */
  peakRssMb?: number;
}

/** Who a run is: its key (from the file's content and the run's parameters) and where its journal goes. */
export interface RunIdentity {
  runKey: string;
  fileHash: string;
  fileHashMs: number;
  batchSize: number;
  journalFile: string;
  /** The file is TAP (BER), not CSV or JSON lines. */
  tap: boolean;
}

/** This process's peak resident memory so far, MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
