/**
 * An invoice's `totalsCommitment`: what the payee commits to as the period's rated totals. For terms the
 * rating-v1 circuit can rate (docs/zk.md), the circuit's Poseidon commitment, so that a claim can be proven
 * without the totals; otherwise `CommitmentLib.periodTotals` (keccak), which only a reveal opens.
 */
import { ratingProblem } from "../agreements/ratingCommitments";
import type { TermsLike } from "../agreements/terms";
import { periodTotalsCommitment } from "../crypto/commitment";
import type { ClassTotalsLike } from "../settlement/rating";
import type { Hex } from "../util/hex";
import { zkTotalsCommitment } from "../zk/encoding";

/** What {@link invoiceTotalsCommitment} commits to. */
export interface InvoiceTotalsArgs {
  totals: readonly ClassTotalsLike[];
  /** The invoice's 32-byte secret totals salt. */
  totalsSalt: Hex;
  /** The version's full terms; without them (or when the circuit cannot rate them) the keccak commitment. */
  terms?: TermsLike;
  payer: string;
  payee: string;
  period: number;
}

/** The invoice's totals commitment: rating-v1's Poseidon commitment when `terms` fit the circuit, else keccak. */
export function invoiceTotalsCommitment({ totals, totalsSalt, terms, payer, payee, period }: InvoiceTotalsArgs): Hex {
  if (terms && ratingProblem(terms, [payer, payee]) === null) {
    return zkTotalsCommitment({ totals, terms, payer, payee, period, totalsSalt });
  }
  return periodTotalsCommitment(totals as Parameters<typeof periodTotalsCommitment>[0], totalsSalt);
}
