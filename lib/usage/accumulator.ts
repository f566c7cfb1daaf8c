/**
 * The usage ledger's two hash chains, as contracts/UsageLedger.sol extends them (IUsageLedger, UsageTypes
 * `BatchInfo.disputeHash` and `PeriodInfo.accumulator`): a batch's disputes in the order they were made,
 * and a period's counted batches in the order they were decided. An invoice binds the period's
 * accumulator, so both carriers can check off chain that they rate the same batches less the same disputes.
 */
import { AbiCoder, keccak256, ZeroHash } from "ethers";
import type { Hex } from "../util/hex";

const abi = AbiCoder.defaultAbiCoder();

/** Where both chains start. */
export const ZERO_HASH = ZeroHash as Hex;

/** A disputed record: its position in the batch's tree and its leaf. */
export interface DisputedLeaf {
  leafIndex: number;
  leaf: Hex;
}

/** keccak256(abi.encode(prev, uint32 leafIndex, leaf)): a batch's dispute chain after one more dispute. */
export function nextDisputeHash(prev: Hex, leafIndex: number, leaf: Hex): Hex {
  return keccak256(abi.encode(["bytes32", "uint32", "bytes32"], [prev, leafIndex, leaf])) as Hex;
}

/** A batch's dispute chain over `disputes` in the order they were made, from zero (zero for none). */
export function disputeHashOf(disputes: readonly DisputedLeaf[]): Hex {
  return disputes.reduce((h, d) => nextDisputeHash(h, d.leafIndex, d.leaf), ZERO_HASH);
}

/** What the accumulator takes of a counted (accepted or expired) batch. */
export interface CountedBatch {
  batchId: Hex;
  totalsCommitment: Hex;
  /** Records disputed in it. */
  disputeCount: number;
  /** Its dispute chain ({@link disputeHashOf}). */
  disputeHash: Hex;
}

/**
 * keccak256(abi.encode(prev, batchId, totalsCommitment, uint32 disputeCount, disputeHash)): a period's
 * accumulator after one more counted batch.
 */
export function nextAccumulator(prev: Hex, { batchId, totalsCommitment, disputeCount, disputeHash }: CountedBatch): Hex {
  return keccak256(
    abi.encode(["bytes32", "bytes32", "bytes32", "uint32", "bytes32"], [prev, batchId, totalsCommitment, disputeCount, disputeHash]),
  ) as Hex;
}

/** A period's accumulator over its counted batches in the ledger's counted order, from zero (zero for none). */
export function accumulatorOf(countedBatches: readonly CountedBatch[]): Hex {
  return countedBatches.reduce(nextAccumulator, ZERO_HASH);
}
