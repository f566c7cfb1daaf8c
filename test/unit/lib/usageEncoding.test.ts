import { expect } from "chai";
import fc from "fast-check";
import { concat, keccak256, getBytes, hexlify, solidityPackedKeccak256 } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployConsortium, PLMN } from "../../helpers/fixtures";
import { randomRecords } from "../../helpers/usage";
import {
  RECORD_BYTES,
  LeafHasher,
  packRecord,
  packParsedRecord,
  unpackRecord,
  recordIdToBytes32,
  bytes32ToRecordId,
} from "../../../lib/usage/leaf";
import { InputError } from "../../../lib/core/errors";
import type { Hex } from "../../../lib/util/hex";
import type { ParsedRecord, UsageRecord } from "../../../lib/usage/types";

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

const leafHex = (leaves: Buffer, i: number) => hexlify(leaves.subarray(i * 32, i * 32 + 32)) as Hex;

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
    it("gives the contract's leafOf for random records and salts", async function () {
      const { ledger } = await loadFixture(deployConsortium);
      await fc.assert(
        fc.asyncProperty(anyRecord, fc.uint8Array({ minLength: 32, maxLength: 32 }), async (r, salt) => {
          expect(hasher.leafOf(r, salt)).to.equal(await ledger.leafOf(r, salt));
        }),
        { numRuns: 50 },
      );
    });

    it("writes leaves into a target buffer, equal to one-by-one hashing of record || salt", function () {
      const records = randomRecords(20, PLMN.DE, PLMN.BR, 3);
      const salt = new Uint8Array(32).fill(7);
      const leaves = hasher.leavesOfRecords(records, salt);
      expect(leaves.length).to.equal(20 * 32);
      for (const [i, r] of records.entries()) expect(leafHex(leaves, i)).to.equal(hasher.leafOf(r, salt));
      const packed = new Uint8Array(RECORD_BYTES);
      packRecord(records[0], packed);
      expect(hexlify(hasher.leaf(packed, salt))).to.equal(hasher.leafOf(records[0], salt));
      expect(hexlify(hasher.leaf(packed, salt))).to.equal(keccak256(concat([packed, salt])));
      expect(hasher.leafOf(records[0], new Uint8Array(32))).to.not.equal(hasher.leafOf(records[0], salt));
      expect(() => hasher.leaf(packed.subarray(1), salt)).to.throw(RangeError);
      expect(() => hasher.leaf(packed, salt.subarray(1))).to.throw(RangeError);
      expect(() => hasher.leavesOf(packed, 2, salt)).to.throw(RangeError);
    });
  });
});
