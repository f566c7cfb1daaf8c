/**
 * The public part's rating commitments (docs/zk.md): for each direction of a pair, the zero-knowledge
 * circuit's Poseidon commitment to the plans, surcharge and SLA that rate that side as the visited network,
 * so that the claim adjudicator can check a proof of an invoice's rating without the terms. The proposer
 * sets them from the terms; the counterparty recomputes them from the sealed terms before it accepts.
 */
import { MismatchError } from "../core/errors";
import { formatPlmn } from "../core/plmn";
import type { Hex } from "../util/hex";
import { RATING_V1, ratingV1Problem, zkTermsCommitment } from "../zk/encoding";
import type { TermsLike } from "./terms";

const ZERO = `0x${"00".repeat(32)}` as Hex;
const REFUSE = { hint: "do not accept this version: ask the partner to propose it again with `agreement:propose`." };

/** What `PublicTerms` carries for the claim adjudicator. */
export interface RatingCommitments {
  /** 1 (rating-v1) when both directions fit the circuit, else 0: claims then end by signature or reveal. */
  ratingCircuit: number;
  ratingCommitmentLo: Hex;
  ratingCommitmentHi: Hex;
}

/** The public part of a version no circuit rates: claims on it end by signature or reveal. */
export const NO_RATING_CIRCUIT: Readonly<RatingCommitments> = Object.freeze({
  ratingCircuit: 0,
  ratingCommitmentLo: ZERO,
  ratingCommitmentHi: ZERO,
});

/** The two parties sorted as the contract's `lo` and `hi` (by PLMN id). */
function sorted(parties: readonly [string, string]): [string, string] {
  const [a, b] = parties.map((p) => p.toLowerCase());
  return BigInt(a) < BigInt(b) ? [a, b] : [b, a];
}

/**
 * Why `terms` between `parties` cannot be rated by proof (more plans or tiers per direction than rating-v1
 * takes), or null when both directions can.
 */
export function ratingProblem(terms: TermsLike, parties: readonly [string, string]): string | null {
  for (const visited of sorted(parties)) {
    const problem = ratingV1Problem(terms, visited);
    if (problem) return `${formatPlmn(visited)} as the visited network: ${problem}`;
  }
  return null;
}

/**
 * The rating circuit and commitments of `terms` under the version's terms `salt` (each direction's own salt
 * is derived from it): rating-v1 when both directions fit it, none otherwise.
 */
export function ratingCommitmentsOf(terms: TermsLike, salt: Hex, parties: readonly [string, string]): RatingCommitments {
  if (ratingProblem(terms, parties) !== null) return { ...NO_RATING_CIRCUIT };
  const [lo, hi] = sorted(parties);
  return {
    ratingCircuit: RATING_V1.id,
    ratingCommitmentLo: zkTermsCommitment(terms, salt, lo),
    ratingCommitmentHi: zkTermsCommitment(terms, salt, hi),
  };
}

/** The public part as the chain holds it (only the fields checked here). */
interface OnChain {
  ratingCircuit: bigint | number | string;
  ratingCommitmentLo: string;
  ratingCommitmentHi: string;
}

/**
 * MismatchError unless the proposal's rating circuit and commitments are what `terms` and `salt` give: a
 * commitment to other plans would let a proof rate the invoices by terms the acceptor never saw.
 */
export function checkRatingCommitments(
  terms: TermsLike,
  salt: Hex,
  publicTerms: OnChain,
  context: { proposer: string; counterparty: string },
): void {
  const expected = ratingCommitmentsOf(terms, salt, [context.proposer, context.counterparty]);
  const fields = [
    ["ratingCircuit", BigInt(publicTerms.ratingCircuit), BigInt(expected.ratingCircuit)],
    ["ratingCommitmentLo", publicTerms.ratingCommitmentLo.toLowerCase(), expected.ratingCommitmentLo],
    ["ratingCommitmentHi", publicTerms.ratingCommitmentHi.toLowerCase(), expected.ratingCommitmentHi],
  ] as const;
  for (const [field, onChain, sealed] of fields) {
    if (onChain !== sealed) throw new MismatchError(field, { expected: `${onChain} (public part)`, actual: `${sealed}` }, REFUSE);
  }
}
