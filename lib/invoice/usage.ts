/**
 * What a carrier brings to rate a closed period: the FULL terms of the agreement version (from its key
 * store, or opened from `AgreementTermsSealed`: lib/agreements) and the period's usage (the counted batches
 * in the ledger's order, each opened from its payload, with its disputed records: lib/usage). Both sides
 * build these from their own copies; the invoice is made and checked from them alone.
 */
import type { TermsLike } from "../agreements/terms";
import type { ClassTotals, UsageRecord } from "../usage/types";
import type { Hex } from "../util/hex";

/** A disputed record of a counted batch: its leaf index and the full record (from the payload). */
export interface DisputedRecord {
  leafIndex: number;
  record: UsageRecord;
}

/** One counted (accepted or expired) batch of the period, opened. */
export interface CountedBatchUsage {
  batchId: Hex;
  /** The submission transaction, when known (lines name it). */
  txHash?: Hex;
  totalsCommitment: Hex;
  /** The opening of `totalsCommitment`: record count, billable totals per class, salt (from the payload). */
  recordCount: number;
  totals: ClassTotals[];
  totalsSalt: Hex;
  /** Its disputed records, in the ledger's `disputedIndexes` order. */
  disputed: DisputedRecord[];
}

/** The period's usage of one direction (home pays visited), as the ledger counted it. */
export interface PeriodUsage {
  home: Hex;
  visited: Hex;
  /** yyyymm. */
  period: number;
  /** The counted batches in the ledger's counted order (`countedBatch(home, visited, period, i)`). */
  batches: CountedBatchUsage[];
  /** The ledger's accumulator of the closed period, checked against the batches (lib/usage/accumulator). */
  accumulator: Hex;
}

/** The full terms of one agreement version, with the salt of its commitment. */
export interface FullTerms {
  version: number;
  terms: TermsLike;
  termsSalt: Hex;
  /** The version's `termsCommitment` on chain (`CommitmentLib.terms(terms, termsSalt)`). */
  termsCommitment: Hex;
}
