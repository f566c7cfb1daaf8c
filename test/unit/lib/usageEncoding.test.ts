import { expect } from "chai";
import hre from "hardhat";
import fc from "fast-check";
import { keccak256, concat, getBytes, hexlify, solidityPackedKeccak256, recoverAddress, TypedDataEncoder, Wallet } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployConsortium, PLMN } from "../../helpers/fixtures";
import { randomRecords, makeBatch, bigTotals } from "../../helpers/usage";
import {
  RECORD_BYTES,
  LeafHasher,
  packRecord,
  packParsedRecord,
  unpackRecord,
  recordIdToBytes32,
  bytes32ToRecordId,
} from "../../../lib/usage/leaf";
import { merkleRoot, merkleTree, merkleProof, verifyProof } from "../../../lib/usage/merkle";
import {
  USAGE_BATCH_TYPES,
  batchId,
  batchDigest,
  ledgerDomain,
  signBatch,
  toContractBatch,
  packTotals,
  unpackTotals,
} from "../../../lib/usage/batch";
import { InputError } from "../../../lib/core/errors";
import type { Hex } from "../../../lib/util/hex";
import type { ParsedRecord, UsageRecord } from "../../../lib/usage/types";
import type { MerkleProof__Mock } from "../../../typechain-types";

const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => hexlify(b) as Hex);
const uint = (bits: number) => fc.integer({ min: 0, max: Math.min(2 ** bits - 1, Number.MAX_SAFE_INTEGER) });
/** Record ids: printable ASCII without spaces, 1 to 32 characters (lib/usage/recordId.ts). */
const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 32 });

/** Any record the types allow, edge values included. */
const anyRecord: fc.Arbitrary<UsageRecord> = fc.record({
  recordId: printable.map(recordIdToBytes32),
  deviceId: hex(32),
  home: hex(3),
  visited: hex(3),
  service: uint(8),
  rat: uint(8),
  startTime: uint(40),
  duration: uint(32),
  bytesUp: uint(64),
  bytesDown: uint(64),
  events: uint(32),
  latencyMs: uint(32),
  throughputKbps: uint(32),
  tariffClass: uint(8),
  billing: uint(8),
});

/** The plain reference: hex strings, ethers keccak, odd node promoted. */
function referenceRoot(leaves: Hex[]): Hex {
  let level = leaves;
  while (level.length > 1) {
    const next: Hex[] = [];
    for (let i = 0; i < level.length; i += 2) {
      if (i + 1 === level.length) {
        next.push(level[i]);
        continue;
      }
      const [a, b] = BigInt(level[i]) <= BigInt(level[i + 1]) ? [level[i], level[i + 1]] : [level[i + 1], level[i]];
      next.push(keccak256(concat([a, b])) as Hex);
    }
    level = next;
  }
  return level[0];
}

/** Number of levels at which leaf `index` of `n` has a sibling. */
function expectedProofLength(n: number, index: number): number {
  let length = 0;
  for (let i = index, m = n; m > 1; i >>= 1, m = (m + 1) >> 1) if ((i ^ 1) < m) length++;
  return length;
}

const leafHex = (leaves: Buffer, i: number) => hexlify(leaves.subarray(i * 32, i * 32 + 32)) as Hex;

/** The consortium and OpenZeppelin's MerkleProof on its own (in a fixture: other fixtures revert the chain). */
async function withVerifier() {
  const c = await deployConsortium();
  const verifier = (await hre.ethers.deployContract("MerkleProof__Mock")) as unknown as MerkleProof__Mock;
  return { ...c, verifier };
}

describe("lib/usage encoding", function () {
  let hasher: LeafHasher;

  before(async function () {
    hasher = await LeafHasher.create();
  });

  describe("packRecord / unpackRecord", function () {
    it("round-trip any record through 111 bytes", function () {
      fc.assert(
        fc.property(anyRecord, fc.integer({ min: 0, max: 50 }), (r, offset) => {
          const buf = new Uint8Array(offset + RECORD_BYTES + 3);
          packRecord(r, buf, offset);
          expect(unpackRecord(buf, offset)).to.deep.equal(r);
        }),
        { numRuns: 300 },
      );
    });

    it("packs like solidityPacked with the contract's field types", function () {
      const [r] = randomRecords(1, PLMN.DE, PLMN.BR, 7);
      const buf = new Uint8Array(RECORD_BYTES);
      packRecord(r, buf);
      const types = [
        "bytes32",
        "bytes32",
        "bytes3",
        "bytes3",
        "uint8",
        "uint8",
        "uint40",
        "uint32",
        "uint64",
        "uint64",
        "uint32",
        "uint32",
        "uint32",
        "uint8",
        "uint8",
      ];
      expect(keccak256(buf)).to.equal(solidityPackedKeccak256(types, Object.values(r)));
    });

    it("packs a parsed record with its device id, class and billing as packRecord packs the UsageRecord", function () {
      fc.assert(
        fc.property(anyRecord, printable, fc.integer({ min: 0, max: 50 }), (r, id, offset) => {
          const parsed: ParsedRecord = { ...r, line: 2, recordId: id, imsi: "262010000000001" };
          const direct = new Uint8Array(offset + RECORD_BYTES);
          const reference = new Uint8Array(offset + RECORD_BYTES);
          direct.fill(0xee); // stale bytes of an earlier record must not leak into the padding
          packParsedRecord(
            { record: parsed, deviceId: getBytes(r.deviceId), tariffClass: r.tariffClass, billing: r.billing },
            direct,
            offset,
          );
          packRecord({ ...r, recordId: recordIdToBytes32(id) }, reference, offset);
          expect(hexlify(direct.subarray(offset))).to.equal(hexlify(reference.subarray(offset)));
        }),
        { numRuns: 300 },
      );
      const [r] = randomRecords(1, PLMN.DE, PLMN.BR, 7);
      const parsed: ParsedRecord = { ...r, line: 2, recordId: "R-1", imsi: "262010000000001" };
      const buf = new Uint8Array(RECORD_BYTES);
      expect(() =>
        packParsedRecord(
          { record: { ...parsed, recordId: "x".repeat(33) }, deviceId: getBytes(r.deviceId), tariffClass: 1, billing: 0 },
          buf,
          0,
        ),
      ).to.throw(InputError, /record id/);
      expect(() =>
        packParsedRecord({ record: parsed, deviceId: getBytes(r.deviceId).subarray(1), tariffClass: 1, billing: 0 }, buf, 0),
      ).to.throw(InputError, /field deviceId/);
      expect(() =>
        packParsedRecord({ record: { ...parsed, duration: -1 }, deviceId: getBytes(r.deviceId), tariffClass: 1, billing: 0 }, buf, 0),
      ).to.throw(InputError, /field duration/);
      expect(() => packParsedRecord({ record: parsed, deviceId: getBytes(r.deviceId), tariffClass: 256, billing: 0 }, buf, 0)).to.throw(
        InputError,
        /field tariffClass/,
      );
      expect(() => packParsedRecord({ record: parsed, deviceId: getBytes(r.deviceId), tariffClass: 1, billing: 0 }, buf, 1)).to.throw(
        RangeError,
      );
    });

    it("throws naming the field when a value does not fit its type", function () {
      const [r] = randomRecords(1, PLMN.DE, PLMN.BR, 7);
      const buf = new Uint8Array(RECORD_BYTES);
      const cases: [Partial<UsageRecord>, string][] = [
        [{ service: 256 }, "service"],
        [{ startTime: 2 ** 40 }, "startTime"],
        [{ duration: -1 }, "duration"],
        [{ bytesUp: 1.5 }, "bytesUp"],
        [{ bytesDown: 2 ** 53 }, "bytesDown"],
        [{ home: "0x62f2" as Hex }, "home"],
        [{ deviceId: `0x${"zz".repeat(32)}` as Hex }, "deviceId"],
      ];
      for (const [override, field] of cases) {
        expect(() => packRecord({ ...r, ...override }, buf)).to.throw(InputError, new RegExp(`field ${field} `));
      }
      expect(() => packRecord(r, buf, 1)).to.throw(RangeError);
    });
  });

  describe("recordIdToBytes32", function () {
    it("right-pads ASCII ids and reads them back", function () {
      expect(recordIdToBytes32("A")).to.equal(`0x41${"0".repeat(62)}`);
      fc.assert(
        fc.property(printable, (id) => {
          expect(bytes32ToRecordId(recordIdToBytes32(id))).to.equal(id);
        }),
      );
    });

    it("refuses empty, long and non-ASCII ids, and spaces as the parser does", function () {
      for (const id of ["", "x".repeat(33), "caf\u00e9", "tab\there", "r 1"]) expect(() => recordIdToBytes32(id)).to.throw(InputError);
      expect(() => bytes32ToRecordId(`0x${"0".repeat(64)}`)).to.throw(InputError);
      expect(() => bytes32ToRecordId(`0x4100${"0".repeat(60)}41`)).to.throw(InputError);
    });
  });

  describe("LeafHasher", function () {
    it("gives the contract's leafOf for random records", async function () {
      const { ledger } = await loadFixture(deployConsortium);
      await fc.assert(
        fc.asyncProperty(anyRecord, async (r) => {
          expect(hasher.leafOf(r)).to.equal(await ledger.leafOf(r));
        }),
        { numRuns: 50 },
      );
    });

    it("writes leaves into a target buffer, equal to one-by-one hashing", function () {
      const records = randomRecords(20, PLMN.DE, PLMN.BR, 3);
      const leaves = hasher.leavesOfRecords(records);
      expect(leaves.length).to.equal(20 * 32);
      for (const [i, r] of records.entries()) expect(leafHex(leaves, i)).to.equal(hasher.leafOf(r));
      const packed = new Uint8Array(RECORD_BYTES);
      packRecord(records[0], packed);
      expect(hexlify(hasher.leaf(packed))).to.equal(hasher.leafOf(records[0]));
      expect(() => hasher.leaf(packed.subarray(1))).to.throw(RangeError);
    });
  });

  describe("merkle", function () {
    it("builds roots and proofs that OpenZeppelin MerkleProof verifies, for N = 1, 2, 3, 5, 8, 1000", async function () {
      const { verifier } = await loadFixture(withVerifier);
      for (const n of [1, 2, 3, 5, 8, 1000]) {
        const leaves = hasher.leavesOfRecords(randomRecords(n, PLMN.DE, PLMN.BR, n));
        const tree = await merkleTree(leaves);
        const root = await merkleRoot(leaves);
        expect(root).to.equal(hexlify(tree[tree.length - 1]));
        if (n === 1) expect(root).to.equal(leafHex(leaves, 0));
        const indexes = n <= 8 ? [...Array(n).keys()] : [0, 1, 499, 500, 998, 999];
        for (const i of indexes) {
          const proof = merkleProof(tree, i);
          expect(proof).to.have.length(expectedProofLength(n, i));
          expect(verifyProof(proof, root, leafHex(leaves, i))).to.equal(true);
          expect(await verifier.verify(proof, root, leafHex(leaves, i))).to.equal(true);
        }
      }
    });

    it("has the expected proof sizes where odd nodes move up", async function () {
      const sizes = async (n: number, index: number) =>
        merkleProof(await merkleTree(hasher.leavesOfRecords(randomRecords(n, PLMN.DE, PLMN.BR, n))), index).length;
      expect(await sizes(1, 0)).to.equal(0);
      expect(await sizes(3, 2)).to.equal(1);
      expect(await sizes(5, 4)).to.equal(1);
      expect(await sizes(5, 0)).to.equal(3);
      expect(await sizes(8, 5)).to.equal(3);
      expect(await sizes(1000, 0)).to.equal(10);
      expect(await sizes(1000, 999)).to.equal(8);
    });

    it("refuses a tampered leaf, a proof of another leaf and a wrong root", async function () {
      const { verifier } = await loadFixture(withVerifier);
      const records = randomRecords(1000, PLMN.DE, PLMN.BR, 11);
      const leaves = hasher.leavesOfRecords(records);
      const tree = await merkleTree(leaves);
      const root = await merkleRoot(leaves);
      const proof = merkleProof(tree, 17);
      const tampered = hasher.leafOf({ ...records[17], bytesUp: records[17].bytesUp + 1 });
      expect(verifyProof(proof, root, tampered)).to.equal(false);
      expect(await verifier.verify(proof, root, tampered)).to.equal(false);
      expect(verifyProof(proof, root, leafHex(leaves, 18))).to.equal(false);
      expect(verifyProof(proof, leafHex(leaves, 0), leafHex(leaves, 17))).to.equal(false);
    });

    it("equals a plain reference implementation", async function () {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 70 }), fc.integer(), async (n, seed) => {
          const leaves = hasher.leavesOfRecords(randomRecords(n, PLMN.DE, PLMN.BR, seed));
          const hexLeaves = [...Array(n).keys()].map((i) => leafHex(leaves, i));
          expect(await merkleRoot(leaves)).to.equal(referenceRoot(hexLeaves));
        }),
        { numRuns: 60 },
      );
      const many = hasher.leavesOfRecords(randomRecords(1000, PLMN.DE, PLMN.BR, 5));
      expect(await merkleRoot(many)).to.equal(referenceRoot([...Array(1000).keys()].map((i) => leafHex(many, i))));
    });

    it("throws for no leaves, a partial leaf and an index out of range", async function () {
      let caught: unknown;
      try {
        await merkleRoot(Buffer.alloc(0));
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(InputError);
      caught = undefined;
      try {
        await merkleTree(Buffer.alloc(33));
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(InputError);
      const tree = await merkleTree(Buffer.alloc(64, 1));
      expect(() => merkleProof(tree, 2)).to.throw(RangeError);
    });
  });

  describe("batch EIP-712", function () {
    it("batchId equals the contract's hashBatch, digest its batchDigest, for 0 to 3 classes", async function () {
      const { ledger } = await loadFixture(deployConsortium);
      const domain = ledgerDomain((await hre.ethers.provider.getNetwork()).chainId, await ledger.getAddress());
      for (const totals of [[], [bigTotals(1)], [bigTotals(0), bigTotals(7, 5), bigTotals(255, 1)]]) {
        const batch = makeBatch(PLMN.BR, PLMN.DE, 202611, { totals });
        expect(await ledger.hashBatch(toContractBatch(batch))).to.equal(batchId(batch));
        expect(await ledger.batchDigest(toContractBatch(batch))).to.equal(batchDigest(domain, batch));
      }
    });

    it("type strings match the contract's (EIP-712 encodeType)", async function () {
      const encoder = new TypedDataEncoder(USAGE_BATCH_TYPES);
      expect(encoder.primaryType).to.equal("UsageBatch");
      expect(encoder.encodeType("UsageBatch")).to.equal(
        "UsageBatch(bytes3 visited,bytes3 home,uint32 period,bytes32 merkleRoot,uint32 recordCount,bytes32 payloadHash,ClassTotals[] totals)" +
          "ClassTotals(uint8 tariffClass,uint32 records,uint32 activeDevices,uint32 roamerDays,uint64 dataBytes,uint64 signallingEvents,uint64 smsCount,uint64 voiceSeconds,uint32 qosSamples,uint64 latencyMsSum,uint64 throughputKbpsSum)",
      );
    });

    it("packs class totals to 65 bytes each and back", function () {
      const u = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
      const totals = fc.record({
        tariffClass: fc.integer({ min: 0, max: 255 }),
        records: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        activeDevices: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        roamerDays: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        dataBytes: u(64),
        signallingEvents: u(64),
        smsCount: u(64),
        voiceSeconds: u(64),
        qosSamples: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        latencyMsSum: u(64),
        throughputKbpsSum: u(64),
      });
      fc.assert(
        fc.property(fc.array(totals, { maxLength: 4 }), (list) => {
          const packed = packTotals(list);
          expect(packed.length).to.equal(2 + 130 * list.length);
          expect(unpackTotals(packed)).to.deep.equal(list);
        }),
      );
      expect(packTotals([bigTotals(1, 2)]).slice(0, 12)).to.equal("0x0100000002");
      expect(() => packTotals([{ ...bigTotals(1), dataBytes: 1n << 64n }])).to.throw(InputError, /dataBytes/);
      expect(() => unpackTotals("0x00")).to.throw(InputError);
    });

    it("signs so that the digest recovers to the signer", async function () {
      const wallet = Wallet.createRandom();
      const domain = ledgerDomain(31337, wallet.address);
      const batch = makeBatch(PLMN.BR, PLMN.DE, 202611, { totals: [bigTotals(1), bigTotals(2)] });
      const signature = await signBatch(wallet, domain, batch);
      expect(recoverAddress(batchDigest(domain, batch), signature)).to.equal(wallet.address);
    });
  });
});
