import { batchTotalsCommitment } from "../crypto/commitment";
import type { Hex } from "../util/hex";
import { merkleRoot, treeDepth } from "./merkle";
import { type PayloadHeader, sealPayload, totalsSaltOf } from "./payload";

/** A batch's payload header before sealing: the totals salt is derived when it is sealed. */
export type UnsaltedHeader = Omit<PayloadHeader, "totalsSalt">;

/** What sealing a batch gives: the header's commitments and the sealed payload. */
export interface BatchSeal {
  root: Hex;
  treeDepth: number;
  totalsSalt: Hex;
  totalsCommitment: Hex;
  sealed: Uint8Array;
}

/**
 * Seals one batch (on the main thread or the seal worker, the same bytes either way): the positional
 * Merkle root over `leaves` and its depth, the totals salt derived from the pair's key and the records
 * (so a re-run after a crash commits the same), the totals commitment, and the sealed payload v2.
 */
export async function sealBatch(args: {
  pairKey: Uint8Array;
  header: UnsaltedHeader;
  leaves: Uint8Array;
  records: Uint8Array;
}): Promise<BatchSeal> {
  const { pairKey, header, leaves, records } = args;
  const root = await merkleRoot(leaves);
  const totalsSalt = totalsSaltOf(pairKey, records);
  const totalsCommitment = batchTotalsCommitment({ recordCount: header.recordCount, totals: header.totals, salt: totalsSalt });
  const sealed = sealPayload(pairKey, { header: { ...header, totalsSalt }, records });
  return { root, treeDepth: treeDepth(header.recordCount), totalsSalt, totalsCommitment, sealed };
}
