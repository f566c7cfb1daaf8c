import { batchTotalsCommitment } from "../crypto/commitment";
import { type Hex, hexToBytes } from "../util/hex";
import type { LeafHasher } from "./leaf";
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
 * Seals one batch (on the main thread or the seal worker, the same bytes either way), in this order: the
 * totals salt derived from the pair's key and the records (so a re-run after a crash commits the same);
 * the records' leaves salted with it (lib/usage/leaf.ts); the positional Merkle root over them and its
 * depth; the totals commitment; the sealed payload v2. `records` holds `header.recordCount` packed records.
 */
export async function sealBatch(args: {
  pairKey: Uint8Array;
  header: UnsaltedHeader;
  records: Uint8Array;
  hasher: LeafHasher;
}): Promise<BatchSeal> {
  const { pairKey, header, records, hasher } = args;
  const totalsSalt = totalsSaltOf(pairKey, records);
  const root = await merkleRoot(hasher.leavesOf(records, header.recordCount, hexToBytes(totalsSalt)));
  const totalsCommitment = batchTotalsCommitment({ recordCount: header.recordCount, totals: header.totals, salt: totalsSalt });
  const sealed = sealPayload(pairKey, { header: { ...header, totalsSalt }, records });
  return { root, treeDepth: treeDepth(header.recordCount), totalsSalt, totalsCommitment, sealed };
}
