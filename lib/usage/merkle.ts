import { createKeccak, type IHasher } from "hash-wasm";
import { keccak256 } from "ethers";
import { InputError } from "../core/errors";
import type { Hex } from "../util/hex";

/**
 * Positional Merkle trees over usage-record leaves, as contracts/libraries/UsageBatchLib.sol verifies
 * them: a tree of depth `ceil(log2(N))` (0 for one leaf), padded with zero leaves to 2^depth, an inner node
 * keccak256(left || right) in position order, so a proof fixes the leaf's index. Leaves come as one buffer
 * of N * 32 bytes (lib/usage/leaf.ts `leavesOf`); the levels are buffers too, hashed with one reused
 * hash-wasm instance: no hex strings on the way. The padding is never stored nor hashed: a missing right
 * node at level `l` is the precomputed root of a zero subtree of height `l`.
 */

/** The levels of a tree: `levels[0]` the leaves (without padding), the last one the 32-byte root. */
export type MerkleTree = readonly Buffer[];

/** Deepest tree the contract takes (`UsageLedger.MAX_TREE_DEPTH`): 2^24 leaves. */
export const MAX_TREE_DEPTH = 24;

const ZERO_WORD = Buffer.alloc(32);

/** `ZERO_HASHES[l]`: the root of a subtree of height `l` whose leaves are all zero. */
const ZERO_HASHES: readonly Buffer[] = (() => {
  const hashes = [ZERO_WORD];
  for (let l = 1; l <= MAX_TREE_DEPTH; l++) {
    const below = hashes[l - 1];
    hashes.push(Buffer.from(keccak256(Buffer.concat([below, below])).slice(2), "hex"));
  }
  return hashes;
})();

let sharedHasher: Promise<IHasher> | undefined;

/** One Keccak-256 instance for all trees: building a level is synchronous, so calls never interleave. */
function hasher(): Promise<IHasher> {
  sharedHasher ??= createKeccak(256);
  return sharedHasher;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Depth of the positional tree over `leafCount` leaves: ceil(log2(leafCount)), 0 for one leaf. */
export function treeDepth(leafCount: number): number {
  if (!Number.isSafeInteger(leafCount) || leafCount < 1) throw new InputError(`a Merkle tree needs at least one leaf, not ${leafCount}`);
  let depth = 0;
  while (2 ** depth < leafCount) depth++;
  return depth;
}

/** The depth of a built tree (its number of levels above the leaves). */
export function depthOf(tree: MerkleTree): number {
  return tree.length - 1;
}

/** The level above `level` (`n` nodes at height `height`): pairs hashed in order, a lone last node with the zero subtree. */
function nextLevel(keccak: IHasher, level: Buffer, n: number, height: number): Buffer {
  const m = (n + 1) >>> 1;
  const next = Buffer.allocUnsafe(m * 32);
  const full = n >>> 1;
  for (let p = 0; p < full; p++) {
    next.set(
      keccak
        .init()
        .update(level.subarray(p * 64, p * 64 + 64))
        .digest("binary"),
      p * 32,
    );
  }
  if (n & 1) {
    const pair = Buffer.concat([level.subarray((n - 1) * 32, n * 32), ZERO_HASHES[height]]);
    next.set(keccak.init().update(pair).digest("binary"), full * 32);
  }
  return next;
}

/** All levels of the tree over `leaves` (N * 32 bytes, 1 <= N <= 2^24). Level 0 shares memory with `leaves`. */
export async function merkleTree(leaves: Uint8Array): Promise<MerkleTree> {
  if (leaves.length === 0 || leaves.length % 32 !== 0) {
    throw new InputError(
      leaves.length === 0 ? "a Merkle tree needs at least one leaf" : `${leaves.length} bytes are not a whole number of 32-byte leaves`,
    );
  }
  const depth = treeDepth(leaves.length / 32);
  if (depth > MAX_TREE_DEPTH) throw new InputError(`${leaves.length / 32} leaves need a tree deeper than ${MAX_TREE_DEPTH}`);
  const keccak = await hasher();
  const levels: Buffer[] = [asBuffer(leaves)];
  for (let height = 0, n = leaves.length / 32; height < depth; height++, n = (n + 1) >>> 1) {
    levels.push(nextLevel(keccak, levels[height], n, height));
  }
  return levels;
}

/** The root of the tree over `leaves` (N * 32 bytes); for one leaf, the leaf itself. */
export async function merkleRoot(leaves: Uint8Array): Promise<Hex> {
  const levels = await merkleTree(leaves);
  return `0x${levels[levels.length - 1].toString("hex")}`;
}

/** The proof of leaf `index`: its `depth` siblings from the bottom up, zero subtrees where the padding is. */
export function merkleProof(tree: MerkleTree, index: number): Hex[] {
  const count = tree[0].length / 32;
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`leaf index ${index} is not in 0..${count - 1}`);
  }
  const proof: Hex[] = [];
  for (let l = 0, i = index; l < tree.length - 1; l++, i >>>= 1) {
    const sibling = i ^ 1;
    const word = sibling * 32 < tree[l].length ? tree[l].subarray(sibling * 32, sibling * 32 + 32) : ZERO_HASHES[l];
    proof.push(`0x${word.toString("hex")}`);
  }
  return proof;
}

/** What {@link verifyProof} checks: `leaf` at position `index` under `root`. */
export interface PositionalProof {
  leaf: string;
  index: number;
  proof: readonly string[];
  root: string;
}

const WORD_RE = /^0x[0-9a-fA-F]{64}$/;

/**
 * True when `proof` leads from `leaf` at `index` to `root` (UsageBatchLib.processProof with the contract's
 * checks: a non-zero leaf, `index < 2^proof.length`).
 */
export function verifyProof({ leaf, index, proof, root }: PositionalProof): boolean {
  for (const value of [...proof, root, leaf]) {
    if (!WORD_RE.test(value)) throw new InputError(`${value} is not a 32-byte hex value`);
  }
  if (!Number.isSafeInteger(index) || index < 0) throw new InputError(`leaf index ${index} is not a non-negative integer`);
  if (index >= 2 ** proof.length || BigInt(leaf) === 0n) return false;
  let node = leaf.toLowerCase();
  let i = index;
  for (const sibling of proof) {
    const s = sibling.toLowerCase();
    node = i % 2 === 0 ? keccak256(`${node}${s.slice(2)}`) : keccak256(`${s}${node.slice(2)}`);
    i = Math.floor(i / 2);
  }
  return node === root.toLowerCase();
}
