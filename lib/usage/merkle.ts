import { createKeccak, type IHasher } from "hash-wasm";
import { keccak256 } from "ethers";
import { InputError } from "../core/errors";
import type { Hex } from "../util/hex";

/**
 * Merkle trees over usage-record leaves that OpenZeppelin `MerkleProof.verify` accepts: an inner node
 * is keccak256 of its two children sorted (commutative hashing), and an odd node at the end of a level
 * moves up unchanged. Leaves come as one buffer of N * 32 bytes (lib/usage/leaf.ts `leavesOf`); the
 * levels are buffers too, hashed with one reused hash-wasm instance: no hex strings on the way.
 */

/** The levels of a tree: `levels[0]` the leaves, the last one the 32-byte root. */
export type MerkleTree = readonly Buffer[];

let sharedHasher: Promise<IHasher> | undefined;

/** One Keccak-256 instance for all trees: building a level is synchronous, so calls never interleave. */
function hasher(): Promise<IHasher> {
  sharedHasher ??= createKeccak(256);
  return sharedHasher;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** All levels of the tree over `leaves` (N * 32 bytes, N >= 1). Level 0 shares memory with `leaves`. */
export async function merkleTree(leaves: Uint8Array): Promise<MerkleTree> {
  if (leaves.length === 0 || leaves.length % 32 !== 0) {
    throw new InputError(
      leaves.length === 0 ? "a Merkle tree needs at least one leaf" : `${leaves.length} bytes are not a whole number of 32-byte leaves`,
    );
  }
  const keccak = await hasher();
  const pair = Buffer.allocUnsafe(64);
  const levels: Buffer[] = [asBuffer(leaves)];
  let level = levels[0];
  let n = level.length / 32;
  while (n > 1) {
    const m = (n + 1) >>> 1;
    const next = Buffer.allocUnsafe(m * 32);
    for (let a = 0, o = 0; a + 32 < n * 32; a += 64, o += 32) {
      const b = a + 32;
      // Sorted pair: the smaller 32-byte word first, as OpenZeppelin's commutative hash.
      if (level.compare(level, b, b + 32, a, a + 32) <= 0) {
        level.copy(pair, 0, a, b);
        level.copy(pair, 32, b, b + 32);
      } else {
        level.copy(pair, 0, b, b + 32);
        level.copy(pair, 32, a, b);
      }
      next.set(keccak.init().update(pair).digest("binary"), o);
    }
    if (n & 1) level.copy(next, (m - 1) * 32, (n - 1) * 32, n * 32);
    levels.push(next);
    level = next;
    n = m;
  }
  return levels;
}

/** The root of the tree over `leaves` (N * 32 bytes); for one leaf, the leaf itself. */
export async function merkleRoot(leaves: Uint8Array): Promise<Hex> {
  const levels = await merkleTree(leaves);
  return `0x${levels[levels.length - 1].toString("hex")}`;
}

/** The proof of leaf `index`: its siblings from the bottom up, levels where it has none left out. */
export function merkleProof(tree: MerkleTree, index: number): Hex[] {
  const count = tree[0].length / 32;
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`leaf index ${index} is not in 0..${count - 1}`);
  }
  const proof: Hex[] = [];
  let i = index;
  for (let l = 0; l < tree.length - 1; l++) {
    const sibling = i ^ 1;
    if (sibling * 32 < tree[l].length) proof.push(`0x${tree[l].toString("hex", sibling * 32, sibling * 32 + 32)}`);
    i >>>= 1;
  }
  return proof;
}

const WORD_RE = /^0x[0-9a-fA-F]{64}$/;

/** True when `proof` leads from `leaf` to `root` (OpenZeppelin `MerkleProof.verify`). */
export function verifyProof(proof: readonly string[], root: string, leaf: string): boolean {
  for (const value of [...proof, root, leaf]) {
    if (!WORD_RE.test(value)) throw new InputError(`${value} is not a 32-byte hex value`);
  }
  let node = leaf.toLowerCase();
  for (const sibling of proof) {
    const s = sibling.toLowerCase();
    node = node <= s ? keccak256(`${node}${s.slice(2)}`) : keccak256(`${s}${node.slice(2)}`);
  }
  return node === root.toLowerCase();
}
