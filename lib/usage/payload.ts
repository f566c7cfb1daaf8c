import { createHash, createHmac } from "node:crypto";
import { keccak } from "hash-wasm";
import { CryptoError, MismatchError } from "../core/errors";
import { batchTotalsCommitment } from "../crypto/commitment";
import { hexToBytes, isHex, type Hex } from "../util/hex";
import { decryptPayload, encryptPayload } from "../crypto/pairwise";
import { RECORD_BYTES } from "./leaf";
import type { ClassTotals } from "./types";

/**
 * The off-chain payload of a batch, before encryption:
 *   "RLUP" | version (1 byte) | header length (4 bytes, big-endian) | header (UTF-8 JSON) | records,
 * records being `recordCount` packed 111-byte leaves preimages (lib/usage/leaf.ts), in leaf order.
 * The header repeats the summary (totals as decimal strings), adds what the visited carrier counted per
 * device, so the home carrier can check every total, and (version 2) the secret salt of the batch header's
 * `totalsCommitment`: with the record count and the totals it opens that commitment
 * ({@link checkPayloadCommitments}), which is all the chain holds of the batch's volumes.
 * Encrypted with the two carriers' pairwise key; the additional data binds it to (visited, home,
 * period), so a payload cannot be passed off for another pair or period.
 */
export const PAYLOAD_MAGIC = "RLUP";
export const PAYLOAD_VERSION = 2;

export interface PayloadHeader {
  visited: Hex;
  home: Hex;
  period: number;
  /** 0-based position of the batch in its run. */
  sequence: number;
  /** Records in the batch, billable or not: the count the totals commitment binds. */
  recordCount: number;
  /** Billable totals, classes strictly ascending. */
  totals: ClassTotals[];
  /** The 32-byte secret salt of the header's `totalsCommitment` (0x hex). */
  totalsSalt: Hex;
  /** Devices counted active in this batch (ids), per the `activeDevices` totals. */
  activeDevices: Hex[];
  /** (device id, UTC day) pairs counted as roamer-days in this batch. */
  roamerDays: [Hex, number][];
}

export interface Payload {
  header: PayloadHeader;
  /** recordCount * RECORD_BYTES bytes. */
  records: Uint8Array;
}

/** Class totals as JSON (bigints as decimal strings) and back: the payload header and the ingest's journal. */
export function totalsToJson(totals: ClassTotals[]): unknown[] {
  return totals.map((t) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v])));
}

const BIGINT_FIELDS = ["dataBytes", "signallingEvents", "smsCount", "voiceSeconds", "latencyMsSum", "throughputKbpsSum"];

/** The reverse of {@link totalsToJson}. */
export function totalsFromJson(raw: Record<string, unknown>[]): ClassTotals[] {
  return raw.map(
    (t) =>
      Object.fromEntries(
        Object.entries(t).map(([k, v]) => [k, BIGINT_FIELDS.includes(k) ? BigInt(v as string) : Number(v)]),
      ) as unknown as ClassTotals,
  );
}

/** The additional data of a sealed payload: the domain string (v2), visited, home and period. */
export function payloadAad(visited: Hex, home: Hex, period: number): Uint8Array {
  return Buffer.concat([Buffer.from("roamledger/usage-payload/v2"), hexToBytes(visited), hexToBytes(home), Buffer.from(String(period))]);
}

/** The payload in its plaintext format (see the top of this file). */
export function encodePayload(payload: Payload): Uint8Array {
  const header = Buffer.from(JSON.stringify({ ...payload.header, totals: totalsToJson(payload.header.totals) }));
  const prefix = Buffer.alloc(9);
  prefix.write(PAYLOAD_MAGIC, 0, "ascii");
  prefix.writeUInt8(PAYLOAD_VERSION, 4);
  prefix.writeUInt32BE(header.length, 5);
  return Buffer.concat([prefix, header, payload.records]);
}

/**
 * The reverse of {@link encodePayload}, `recordBytes` per record. CryptoError when the bytes are not a version 2
 * payload (magic, version, JSON header with a 32-byte totalsSalt, record bytes for recordCount).
 */
export function decodePayload(bytes: Uint8Array, recordBytes: number): Payload {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (what: string) =>
    new CryptoError(`the usage payload is malformed: ${what}`, {
      hint: "reject the batch (usage:verify does): its payload does not match what a batch commits.",
    });
  if (buf.length < 9 || buf.toString("ascii", 0, 4) !== PAYLOAD_MAGIC) throw bad("no RLUP header");
  if (buf.readUInt8(4) !== PAYLOAD_VERSION) throw bad(`unknown version ${buf.readUInt8(4)}`);
  const headerLength = buf.readUInt32BE(5);
  if (9 + headerLength > buf.length) throw bad("header longer than the payload");
  let header: PayloadHeader;
  try {
    const raw = JSON.parse(buf.toString("utf8", 9, 9 + headerLength));
    header = { ...raw, totals: totalsFromJson(raw.totals) };
  } catch {
    throw bad("header is not valid JSON");
  }
  if (!isHex(header.totalsSalt, 32)) throw bad("no 32-byte totalsSalt in the header");
  if (!Number.isSafeInteger(header.recordCount) || header.recordCount < 0) throw bad(`recordCount ${header.recordCount} is not a count`);
  const records = buf.subarray(9 + headerLength);
  if (records.length !== header.recordCount * recordBytes) {
    throw bad(`${records.length} bytes of records for ${header.recordCount} records`);
  }
  return { header, records };
}

/**
 * Encrypts a payload with the pair's key, deterministically (lib/crypto/pairwise encryptPayload): the same
 * payload always seals to the same bytes, so a re-run after a crash stores and commits the same object.
 */
export function sealPayload(key: Uint8Array, payload: Payload): Uint8Array {
  const { visited, home, period } = payload.header;
  return encryptPayload(key, encodePayload(payload), payloadAad(visited, home, period));
}

/** Decrypts and decodes the payload of a batch of `pair` (its records packed as lib/usage/leaf.ts packs them). */
export function openPayload(key: Uint8Array, sealed: Uint8Array, pair: { visited: Hex; home: Hex; period: number }): Payload {
  const plain = decryptPayload(key, sealed, payloadAad(pair.visited, pair.home, pair.period));
  return decodePayload(plain, RECORD_BYTES);
}

/**
 * The salt of a batch's totals commitment, derived from the pair's key and the batch's records:
 * HMAC-SHA256(key, "roamledger/totals-salt/v1" || SHA-256(records)). Secret to everyone without the key,
 * like a random salt, but the same records always give the same salt, so that a batch re-sealed after a
 * crash keeps its payload hash and commitment (sealPayload is deterministic for the same reason).
 */
export function totalsSaltOf(key: Uint8Array, records: Uint8Array): Hex {
  const mac = createHmac("sha256", key);
  mac.update("roamledger/totals-salt/v1");
  mac.update(createHash("sha256").update(records).digest());
  return `0x${mac.digest("hex")}`;
}

/**
 * The salt of the evidence hash of a fraud flag or a permanent-roamer report (the offending record hashed
 * as a leaf is, lib/usage/leaf.ts, under this salt): HMAC-SHA256(key, "roamledger/evidence-salt/v1"). A
 * flag is sent while the file is read, before its batch's salt exists; this one, the pair's, is known to
 * both carriers (the home carrier can match the record) and to no one else (no one can find the record
 * behind the public hash by trying candidates).
 */
export function evidenceSaltOf(key: Uint8Array): Hex {
  return `0x${createHmac("sha256", key).update("roamledger/evidence-salt/v1").digest("hex")}`;
}

/** What a batch header commits to of its payload (contract struct `UsageBatch`, the fields checked here). */
export interface BatchCommitments {
  visited: Hex;
  home: Hex;
  period: number;
  /** The positional tree's depth: at most 2^treeDepth records. */
  treeDepth: number;
  /** keccak256 of the sealed payload. */
  payloadHash: Hex;
  /** `CommitmentLib.batchTotals(recordCount, totals, salt)`. */
  totalsCommitment: Hex;
}

/** A payload as opened, with the sealed bytes it was opened from. */
export interface OpenedPayload {
  payload: Payload;
  sealed: Uint8Array;
}

const REJECT = { hint: "reject the batch: its payload does not open what the header commits." };

/**
 * Checks that an opened payload is the one `header` commits to: same pair and period, a record count the
 * tree depth allows, the sealed bytes hash to `payloadHash`, and (recordCount, totals, totalsSalt) give
 * `totalsCommitment`. Throws MismatchError naming the first field that differs. The records' Merkle root
 * and the totals' sums over the records are checked apart (lib/usage/verify).
 */
export async function checkPayloadCommitments({ payload, sealed }: OpenedPayload, header: BatchCommitments): Promise<void> {
  const { visited, home, period, recordCount, totals, totalsSalt } = payload.header;
  for (const [field, expected, actual] of [
    ["visited", header.visited, visited],
    ["home", header.home, home],
    ["period", header.period, period],
  ] as const) {
    if (expected !== actual) throw new MismatchError(field, { expected, actual }, REJECT);
  }
  if (recordCount > 2 ** header.treeDepth) {
    throw new MismatchError("recordCount", { expected: `at most 2^${header.treeDepth}`, actual: recordCount }, REJECT);
  }
  const payloadHash = `0x${await keccak(sealed, 256)}`;
  if (payloadHash !== header.payloadHash.toLowerCase()) {
    throw new MismatchError("payloadHash", { expected: header.payloadHash, actual: payloadHash }, REJECT);
  }
  const commitment = batchTotalsCommitment({ recordCount, totals, salt: totalsSalt });
  if (commitment !== header.totalsCommitment.toLowerCase()) {
    throw new MismatchError("totalsCommitment", { expected: header.totalsCommitment, actual: commitment }, REJECT);
  }
}
