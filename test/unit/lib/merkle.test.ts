import { expect } from "chai";
import fc from "fast-check";
import { concat, hexlify, keccak256, ZeroHash } from "ethers";
import { PLMN } from "../../helpers/fixtures";
import { randomRecords } from "../../helpers/usage";
import { LeafHasher } from "../../../lib/usage/leaf";
import { depthOf, MAX_TREE_DEPTH, merkleProof, merkleRoot, merkleTree, treeDepth, verifyProof } from "../../../lib/usage/merkle";
import { InputError } from "../../../lib/core/errors";
import type { Hex } from "../../../lib/util/hex";

const leafHex = (leaves: Buffer, i: number) => hexlify(leaves.subarray(i * 32, i * 32 + 32)) as Hex;
const hexLeavesOf = (leaves: Buffer) => [...Array(leaves.length / 32).keys()].map((i) => leafHex(leaves, i));

/** The plain reference: the leaves padded with zero words to 2^depth, every level hashed in hex. */
function referenceLevels(leaves: Hex[]): Hex[][] {
  let depth = 0;
  while (2 ** depth < leaves.length) depth++;
  let level: Hex[] = [...leaves, ...Array<Hex>(2 ** depth - leaves.length).fill(ZeroHash as Hex)];
  const levels = [level];
  while (level.length > 1) {
    const next: Hex[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(keccak256(concat([level[i], level[i + 1]])) as Hex);
    levels.push(next);
    level = next;
  }
  return levels;
}

describe("lib/usage/merkle", function () {
  let hasher: LeafHasher;
  const SALT = new Uint8Array(32).fill(0x33);
  const leavesOf = (n: number, seed = n) => hasher.leavesOfRecords(randomRecords(n, PLMN.DE, PLMN.BR, seed), SALT);

  before(async function () {
    hasher = await LeafHasher.create();
  });

  describe("treeDepth", function () {
    it("is ceil(log2(n)), 0 for one leaf", function () {
      const cases: [number, number][] = [
        [1, 0],
        [2, 1],
        [3, 2],
        [4, 2],
        [5, 3],
        [1000, 10],
        [1024, 10],
        [1025, 11],
        [100_000, 17],
        [2 ** 24, 24],
      ];
      for (const [n, depth] of cases) expect(treeDepth(n), `${n} leaves`).to.equal(depth);
    });

    it("throws for no leaves", function () {
      expect(() => treeDepth(0)).to.throw(InputError);
      expect(() => treeDepth(1.5)).to.throw(InputError);
    });
  });

  describe("merkleTree / merkleRoot / merkleProof", function () {
    it("equals the padded reference tree, root and proofs, for 1 to 70 leaves", async function () {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 70 }), fc.integer(), async (n, seed) => {
          const leaves = leavesOf(n, seed);
          const reference = referenceLevels(hexLeavesOf(leaves));
          const tree = await merkleTree(leaves);
          const root = await merkleRoot(leaves);
          expect(depthOf(tree))
            .to.equal(treeDepth(n))
            .and.to.equal(reference.length - 1);
          expect(root).to.equal(reference[reference.length - 1][0]);
          for (let i = 0; i < n; i++) {
            const proof = merkleProof(tree, i);
            expect(proof).to.deep.equal(reference.slice(0, -1).map((level, l) => level[(i >> l) ^ 1]));
            expect(verifyProof({ leaf: leafHex(leaves, i), index: i, proof, root })).to.equal(true);
          }
        }),
        { numRuns: 40 },
      );
    });

    it("gives the leaf itself as the root of one leaf, with an empty proof", async function () {
      const leaves = leavesOf(1);
      const tree = await merkleTree(leaves);
      expect(await merkleRoot(leaves)).to.equal(leafHex(leaves, 0));
      expect(merkleProof(tree, 0)).to.deep.equal([]);
      expect(verifyProof({ leaf: leafHex(leaves, 0), index: 0, proof: [], root: leafHex(leaves, 0) })).to.equal(true);
    });

    it("proves identical leaves at each of their positions, and a proof only at a position that hashes the same way", async function () {
      const one = leavesOf(1);
      const leaves = Buffer.concat([one, one, one]);
      const tree = await merkleTree(leaves);
      const root = await merkleRoot(leaves);
      const leaf = leafHex(one, 0);
      for (const i of [0, 1, 2]) expect(verifyProof({ leaf, index: i, proof: merkleProof(tree, i), root })).to.equal(true);
      // [x, x, x, 0]: positions 0 and 1 have the same siblings, position 2 does not.
      expect(merkleProof(tree, 0)).to.deep.equal(merkleProof(tree, 1));
      expect(verifyProof({ leaf, index: 0, proof: merkleProof(tree, 2), root })).to.equal(false);
      expect(verifyProof({ leaf, index: 3, proof: merkleProof(tree, 2), root })).to.equal(false);
    });

    it("builds 1,000,000 leaves in seconds", async function () {
      this.timeout(60_000);
      const n = 1_000_000;
      const leaves = Buffer.allocUnsafe(n * 32);
      for (let i = 0; i < n; i++) leaves.writeUInt32BE(i + 1, i * 32 + 28);
      leaves.fill(7, 0, 28);
      const started = Date.now();
      const tree = await merkleTree(leaves);
      const elapsed = Date.now() - started;
      expect(depthOf(tree)).to.equal(20);
      expect(elapsed).to.be.below(15_000);
      const proof = merkleProof(tree, n - 1);
      expect(verifyProof({ leaf: leafHex(leaves, n - 1), index: n - 1, proof, root: hexlify(tree[20]) })).to.equal(true);
    });

    it("throws for no leaves, a partial leaf and an index out of range", async function () {
      const failure = async (leaves: Uint8Array) =>
        merkleTree(leaves).then(
          () => undefined,
          (err: unknown) => err,
        );
      expect(await failure(Buffer.alloc(0))).to.be.instanceOf(InputError);
      expect(await failure(Buffer.alloc(33))).to.be.instanceOf(InputError);
      expect(await merkleRoot(Buffer.alloc(0)).catch((err: unknown) => err)).to.be.instanceOf(InputError);
      const tree = await merkleTree(Buffer.alloc(96, 1));
      expect(() => merkleProof(tree, 3)).to.throw(RangeError);
      expect(() => merkleProof(tree, -1)).to.throw(RangeError);
      expect(MAX_TREE_DEPTH).to.equal(24);
    });
  });

  describe("verifyProof", function () {
    it("refuses a tampered leaf, another index, a wrong root, a zero leaf and an index beyond the tree", async function () {
      const records = randomRecords(100, PLMN.DE, PLMN.BR, 11);
      const leaves = hasher.leavesOfRecords(records, SALT);
      const tree = await merkleTree(leaves);
      const root = await merkleRoot(leaves);
      const proof = merkleProof(tree, 17);
      const leaf = leafHex(leaves, 17);
      expect(verifyProof({ leaf, index: 17, proof, root })).to.equal(true);
      const tampered = hasher.leafOf({ ...records[17], bytesUp: records[17].bytesUp + 1 }, SALT);
      expect(verifyProof({ leaf: tampered, index: 17, proof, root })).to.equal(false);
      expect(verifyProof({ leaf, index: 16, proof, root })).to.equal(false);
      expect(verifyProof({ leaf, index: 17 + 128, proof, root })).to.equal(false);
      expect(verifyProof({ leaf: leafHex(leaves, 18), index: 17, proof, root })).to.equal(false);
      expect(verifyProof({ leaf, index: 17, proof, root: leafHex(leaves, 0) })).to.equal(false);
      // Position 100 of 128 is padding: its zero leaf is a valid path, but no record.
      expect(
        verifyProof({ leaf: ZeroHash, index: 100, proof: merkleProof(tree, 99).map((p, l) => (l === 0 ? leafHex(leaves, 99) : p)), root }),
      ).to.equal(false);
    });

    it("throws for values that are not 32-byte words and negative indexes", function () {
      expect(() => verifyProof({ leaf: "0x12", index: 0, proof: [], root: ZeroHash })).to.throw(InputError);
      expect(() => verifyProof({ leaf: ZeroHash, index: -1, proof: [], root: ZeroHash })).to.throw(InputError);
    });
  });
});
