/**
 * Where the invoice flow gets its two inputs, as the rest of the library gives them: the period's counted
 * usage (lib/usage `countedPeriod`: the counted batches opened from the payload store, disputed records, the
 * accumulator checked against the ledger) and the full terms of a version (lib/agreements `agreementTerms`:
 * the key store's copy, else opened from `AgreementTermsSealed`). The adapters below take those results by
 * shape; ./chain `readRatingInputs` loads them for a party.
 */
import type { TermsLike } from "../agreements/terms";
import type { ClassTotals, UsageRecord } from "../usage/types";
import type { Hex } from "../util/hex";
import type { FullTerms, PeriodUsage } from "./usage";

/** A counted period as lib/usage's `countedPeriod` returns it (the fields read here). */
export interface CountedPeriodLike {
  home: Hex;
  visited: Hex;
  period: number;
  accumulator: Hex;
  batches: readonly {
    batchId: Hex;
    header: { totalsCommitment: Hex };
    recordCount: number;
    totals: ClassTotals[];
    totalsSalt: Hex;
    disputed: readonly { leafIndex: number; record: UsageRecord }[];
  }[];
}

/** `counted` as the invoice's {@link PeriodUsage}; `txHashes` (by batch id, lower case) name submissions. */
export function periodUsageOf(counted: CountedPeriodLike, txHashes: ReadonlyMap<string, Hex> = new Map()): PeriodUsage {
  return {
    home: counted.home,
    visited: counted.visited,
    period: counted.period,
    accumulator: counted.accumulator,
    batches: counted.batches.map((b) => ({
      batchId: b.batchId,
      txHash: txHashes.get(b.batchId.toLowerCase()),
      totalsCommitment: b.header.totalsCommitment,
      recordCount: b.recordCount,
      totals: b.totals,
      totalsSalt: b.totalsSalt,
      disputed: b.disputed.map((d) => ({ leafIndex: d.leafIndex, record: d.record })),
    })),
  };
}

/** Opened terms as lib/agreements gives them (`{ terms, salt }`) with their version and commitment. */
export function fullTermsOf(opened: { terms: TermsLike; salt: Hex }, version: number, termsCommitment: Hex): FullTerms {
  return { version, terms: opened.terms, termsSalt: opened.salt, termsCommitment };
}
