import { createKeccak, type IHasher } from "hash-wasm";
import { InputError } from "../core/errors";
import type { Hex } from "../util/hex";
import { checkRecordId, RECORD_ID_HINT, recordIdProblem } from "./recordId";
import type { ParsedRecord, UsageRecord } from "./types";

/**
 * The Merkle leaf of a usage record, as contracts/libraries/UsageBatchLib.sol `leaf` computes it:
 * keccak256 of the record's 15 fields packed in order (`abi.encodePacked`, 111 bytes) followed by the
 * batch's secret 32-byte salt: 143 bytes. Built for the hot path of a batch of a million records: records
 * are packed into one preallocated buffer without ethers' encoder, and hashed with one reused hash-wasm
 * Keccak instance.
 */

/** Bytes of one packed record. */
export const RECORD_BYTES = 111;

/** Byte offset and width of each field in the packing. */
const LAYOUT = {
  recordId: [0, 32],
  deviceId: [32, 32],
  home: [64, 3],
  visited: [67, 3],
  service: [70, 1],
  rat: [71, 1],
  startTime: [72, 5],
  duration: [77, 4],
  bytesUp: [81, 8],
  bytesDown: [89, 8],
  events: [97, 4],
  latencyMs: [101, 4],
  throughputKbps: [105, 4],
  tariffClass: [109, 1],
  billing: [110, 1],
} as const satisfies Record<keyof UsageRecord, readonly [number, number]>;

function badField(field: keyof UsageRecord, what: string): InputError {
  return new InputError(`usage record field ${field} ${what}`, {
    hint: "records are validated on ingest; this one was changed or built by hand.",
  });
}

/** Nibble value of an ASCII code, -1 if not a hex digit. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[97 + i] = 10 + i;
  NIBBLE[65 + i] = 10 + i;
}

function writeHex(out: Uint8Array, hex: string, field: keyof UsageRecord, offset: number): void {
  const [at, width] = LAYOUT[field];
  if (typeof hex !== "string" || hex.length !== 2 + 2 * width || hex.charCodeAt(0) !== 48 || (hex.charCodeAt(1) | 0x20) !== 120) {
    throw badField(field, `must be 0x and ${2 * width} hex digits`);
  }
  let o = offset + at;
  for (let i = 2; i < hex.length; i += 2) {
    const c1 = hex.charCodeAt(i);
    const c2 = hex.charCodeAt(i + 1);
    const hi = c1 < 128 ? NIBBLE[c1] : -1;
    const lo = c2 < 128 ? NIBBLE[c2] : -1;
    if ((hi | lo) < 0) throw badField(field, "is not hex");
    out[o++] = (hi << 4) | lo;
  }
}

function checkUint(value: number, field: keyof UsageRecord, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw badField(field, `must be an integer from 0 to ${max}`);
  return value;
}

const U32 = 0xffff_ffff;
const U40 = 2 ** 40 - 1;
const TWO_32 = 0x1_0000_0000;

/** Writes the low 32 bits of `v` big-endian at `o`. */
function put32(out: Uint8Array, v: number, o: number): void {
  out[o] = v >>> 24;
  out[o + 1] = v >>> 16;
  out[o + 2] = v >>> 8;
  out[o + 3] = v;
}

/**
 * Writes the 111-byte packing of `r` into `out` at `offset`. Throws InputError naming the field when a
 * value does not fit its type (a leaf of a silently truncated value would never verify). Numbers above
 * 2^53 - 1 cannot be represented in a `UsageRecord` and are refused too.
 */
export function packRecord(r: UsageRecord, out: Uint8Array, offset = 0): void {
  if (offset < 0 || offset + RECORD_BYTES > out.length) {
    throw new RangeError(`packRecord: ${RECORD_BYTES} bytes do not fit at offset ${offset} of ${out.length}`);
  }
  const o = offset;
  writeHex(out, r.recordId, "recordId", o);
  writeHex(out, r.deviceId, "deviceId", o);
  packTail(r, r.tariffClass, r.billing, out, o);
}

/** What {@link packParsedRecord} packs: a parsed record, its device id and the check's tariff class and billing code. */
export interface ParsedPacking {
  record: ParsedRecord;
  /** The device id's 32 bytes, at `deviceIdAt` (a table of ids), or the whole array when it is absent. */
  deviceId: Uint8Array;
  deviceIdAt?: number;
  tariffClass: number;
  billing: number;
}

/**
 * Packs a parsed record with its device id, tariff class and billing code at `offset` of `out`: the same
 * 111 bytes as {@link packRecord} of the `UsageRecord` with `recordIdToBytes32(r.recordId)`, without
 * building that record or any hex string (the ingest's hot path, lib/usage/batchBuilder.ts, which refills
 * one `ParsedPacking` per record). Throws as packRecord and recordIdToBytes32 do.
 */
export function packParsedRecord(p: ParsedPacking, out: Uint8Array, offset: number): void {
  if (offset < 0 || offset + RECORD_BYTES > out.length) {
    throw new RangeError(`packParsedRecord: ${RECORD_BYTES} bytes do not fit at offset ${offset} of ${out.length}`);
  }
  const r = p.record;
  const id = r.recordId;
  checkRecordId(id);
  const deviceId = p.deviceId;
  const at = p.deviceIdAt ?? 0;
  if (p.deviceIdAt === undefined ? deviceId.length !== 32 : at < 0 || at + 32 > deviceId.length) {
    throw badField("deviceId", "must be 32 bytes");
  }
  const o = offset;
  for (let i = 0; i < id.length; i++) out[o + i] = id.charCodeAt(i);
  out.fill(0, o + id.length, o + 32);
  // A loop, not set(subarray): no object per record on the hot path.
  for (let i = 0; i < 32; i++) out[o + 32 + i] = deviceId[at + i];
  packTail(r, p.tariffClass, p.billing, out, o);
}

/** Bytes 64 to 110 of a packing: everything after the two ids. */
function packTail(r: ParsedRecord | UsageRecord, tariffClass: number, billing: number, out: Uint8Array, o: number): void {
  writeHex(out, r.home, "home", o);
  writeHex(out, r.visited, "visited", o);
  out[o + 70] = checkUint(r.service, "service", 0xff);
  out[o + 71] = checkUint(r.rat, "rat", 0xff);
  const startTime = checkUint(r.startTime, "startTime", U40);
  out[o + 72] = startTime / TWO_32; // the Uint8Array store truncates: the top byte of 40 bits
  put32(out, startTime, o + 73);
  put32(out, checkUint(r.duration, "duration", U32), o + 77);
  const up = checkUint(r.bytesUp, "bytesUp", Number.MAX_SAFE_INTEGER);
  put32(out, up / TWO_32, o + 81); // `>>>` takes the integer part of the high word
  put32(out, up, o + 85);
  const down = checkUint(r.bytesDown, "bytesDown", Number.MAX_SAFE_INTEGER);
  put32(out, down / TWO_32, o + 89);
  put32(out, down, o + 93);
  put32(out, checkUint(r.events, "events", U32), o + 97);
  put32(out, checkUint(r.latencyMs, "latencyMs", U32), o + 101);
  put32(out, checkUint(r.throughputKbps, "throughputKbps", U32), o + 105);
  out[o + 109] = checkUint(tariffClass, "tariffClass", 0xff);
  out[o + 110] = checkUint(billing, "billing", 0xff);
}

function readHex(bytes: Uint8Array, field: keyof UsageRecord, offset: number): Hex {
  const [at, width] = LAYOUT[field];
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset + offset + at, width).toString("hex")}`;
}

function readUint(bytes: Uint8Array, field: keyof UsageRecord, offset: number): number {
  const [at, width] = LAYOUT[field];
  let v = 0;
  for (let i = 0; i < width; i++) v = v * 256 + bytes[offset + at + i];
  if (v > Number.MAX_SAFE_INTEGER) throw badField(field, "exceeds 2^53 - 1 and cannot be read as a number");
  return v;
}

/** The record packed at `offset` of `bytes` (inverse of {@link packRecord}). */
export function unpackRecord(bytes: Uint8Array, offset = 0): UsageRecord {
  if (offset < 0 || offset + RECORD_BYTES > bytes.length) {
    throw new RangeError(`unpackRecord: no ${RECORD_BYTES} bytes at offset ${offset} of ${bytes.length}`);
  }
  return {
    recordId: readHex(bytes, "recordId", offset),
    deviceId: readHex(bytes, "deviceId", offset),
    home: readHex(bytes, "home", offset),
    visited: readHex(bytes, "visited", offset),
    service: readUint(bytes, "service", offset),
    rat: readUint(bytes, "rat", offset),
    startTime: readUint(bytes, "startTime", offset),
    duration: readUint(bytes, "duration", offset),
    bytesUp: readUint(bytes, "bytesUp", offset),
    bytesDown: readUint(bytes, "bytesDown", offset),
    events: readUint(bytes, "events", offset),
    latencyMs: readUint(bytes, "latencyMs", offset),
    throughputKbps: readUint(bytes, "throughputKbps", offset),
    tariffClass: readUint(bytes, "tariffClass", offset),
    billing: readUint(bytes, "billing", offset),
  };
}

/** A visited carrier's record id (lib/usage/recordId.ts) as bytes32, right-padded with zeros. */
export function recordIdToBytes32(id: string): Hex {
  checkRecordId(id);
  return `0x${Buffer.from(id, "latin1").toString("hex").padEnd(64, "0")}`;
}

/** The record id a bytes32 holds (inverse of {@link recordIdToBytes32}). */
export function bytes32ToRecordId(value: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) throw new InputError(`${value} is not a bytes32`, { hint: RECORD_ID_HINT });
  const bytes = Buffer.from(value.slice(2), "hex");
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  const id = bytes.subarray(0, end).toString("latin1");
  if (recordIdProblem(id)) throw new InputError(`${value} does not hold a record id`, { hint: RECORD_ID_HINT });
  return id;
}

/** A Buffer view of `bytes` (the same memory), for its native `copy`. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bytes of a salt appended to a packed record: the batch's totals salt (lib/usage/payload.ts totalsSaltOf). */
export const LEAF_SALT_BYTES = 32;

/** Bytes hashed into a leaf: a packed record and the batch's salt (143, never the 64 of an inner node). */
export const LEAF_PREIMAGE_BYTES = RECORD_BYTES + LEAF_SALT_BYTES;

/**
 * Leaves of packed records: keccak256(packed record || salt), the salt being the batch's secret 32-byte
 * totals salt, so that a leaf made public (a dispute, a one-record batch's root) cannot be found by hashing
 * candidate records. Create once (`await LeafHasher.create()`) and reuse: it holds one hash-wasm
 * Keccak-256 instance and one 143-byte preimage buffer (each record is copied in before its salt, one
 * `update` per leaf). Not for concurrent use from several async flows at once.
 */
export class LeafHasher {
  private readonly preimage = Buffer.alloc(LEAF_PREIMAGE_BYTES);
  private readonly scratch = new Uint8Array(RECORD_BYTES);

  private constructor(private readonly keccak: IHasher) {}

  static async create(): Promise<LeafHasher> {
    return new LeafHasher(await createKeccak(256));
  }

  /** Puts `salt` after the record in the preimage buffer; RangeError unless it is 32 bytes. */
  private useSalt(salt: Uint8Array): void {
    if (salt.length !== LEAF_SALT_BYTES) throw new RangeError(`a leaf salt is ${LEAF_SALT_BYTES} bytes, not ${salt.length}`);
    this.preimage.set(salt, RECORD_BYTES);
  }

  /** Hashes the record at `offset` of `packed` with the salt already in place (a native copy, no object). */
  private hashAt(packed: Buffer, offset: number): Uint8Array {
    packed.copy(this.preimage, 0, offset, offset + RECORD_BYTES);
    return this.keccak.init().update(this.preimage).digest("binary");
  }

  /** The leaf of one packed record (exactly {@link RECORD_BYTES} bytes) under the batch's `salt`. */
  leaf(packed: Uint8Array, salt: Uint8Array): Uint8Array {
    if (packed.length !== RECORD_BYTES) throw new RangeError(`a packed record is ${RECORD_BYTES} bytes, not ${packed.length}`);
    this.useSalt(salt);
    return this.hashAt(asBuffer(packed), 0);
  }

  /** The leaf of the record packed at `offset` of `packed`, under `salt`. */
  leafAt(packed: Uint8Array, offset: number, salt: Uint8Array): Uint8Array {
    if (offset < 0 || offset + RECORD_BYTES > packed.length) {
      throw new RangeError(`no packed record at offset ${offset} of ${packed.length} bytes`);
    }
    this.useSalt(salt);
    return this.hashAt(asBuffer(packed), offset);
  }

  /** The leaf of a record under `salt`, as hex (packs it into an internal buffer). */
  leafOf(record: UsageRecord, salt: Uint8Array): Hex {
    packRecord(record, this.scratch, 0);
    return `0x${Buffer.from(this.leaf(this.scratch, salt)).toString("hex")}`;
  }

  /**
   * Leaves of `count` records packed back to back in `packed` (count * 111 bytes) under the batch's
   * `salt`, as one buffer of count * 32 bytes: what {@link merkleTree} takes.
   */
  leavesOf(packed: Uint8Array, count: number, salt: Uint8Array): Buffer {
    if (!Number.isInteger(count) || count < 0 || count * RECORD_BYTES > packed.length) {
      throw new RangeError(`${packed.length} bytes do not hold ${count} packed records`);
    }
    this.useSalt(salt);
    const records = asBuffer(packed);
    const out = Buffer.allocUnsafe(count * 32);
    for (let i = 0; i < count; i++) out.set(this.hashAt(records, i * RECORD_BYTES), i * 32);
    return out;
  }

  /** Packs and hashes records: their leaves under `salt` as one buffer of records.length * 32 bytes. */
  leavesOfRecords(records: readonly UsageRecord[], salt: Uint8Array): Buffer {
    const packed = new Uint8Array(records.length * RECORD_BYTES);
    for (let i = 0; i < records.length; i++) packRecord(records[i], packed, i * RECORD_BYTES);
    return this.leavesOf(packed, records.length, salt);
  }
}
