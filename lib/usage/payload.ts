import { CryptoError } from "../core/errors";
import { hexToBytes, type Hex } from "../util/hex";
import { decryptPayload, encryptPayload } from "../crypto/pairwise";
import { RECORD_BYTES } from "./leaf";
import type { ClassTotals } from "./types";

/**
 * The off-chain payload of a batch, before encryption:
 *   "RLUP" | version (1 byte) | header length (4 bytes, big-endian) | header (UTF-8 JSON) | records,
 * records being `recordCount` packed 111-byte leaves preimages (lib/usage/leaf.ts), in leaf order.
 * The header repeats the summary (totals as decimal strings) and adds what the visited carrier
 * counted per device, so the home carrier can check every total.
 * Encrypted with the two carriers' pairwise key; the additional data binds it to (visited, home,
 * period), so a payload cannot be passed off for another pair or period.
 */
export const PAYLOAD_MAGIC = "RLUP";
export const PAYLOAD_VERSION = 1;

export interface PayloadHeader {
  visited: Hex;
  home: Hex;
  period: number;
  /** 0-based position of the batch in its run. */
  sequence: number;
  recordCount: number;
  totals: ClassTotals[];
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

export function totalsFromJson(raw: Record<string, unknown>[]): ClassTotals[] {
  return raw.map(
    (t) =>
      Object.fromEntries(
        Object.entries(t).map(([k, v]) => [k, BIGINT_FIELDS.includes(k) ? BigInt(v as string) : Number(v)]),
      ) as unknown as ClassTotals,
  );
}

export function payloadAad(visited: Hex, home: Hex, period: number): Uint8Array {
  return Buffer.concat([Buffer.from("roamledger/usage-payload/v1"), hexToBytes(visited), hexToBytes(home), Buffer.from(String(period))]);
}

export function encodePayload(payload: Payload): Uint8Array {
  const header = Buffer.from(JSON.stringify({ ...payload.header, totals: totalsToJson(payload.header.totals) }));
  const prefix = Buffer.alloc(9);
  prefix.write(PAYLOAD_MAGIC, 0, "ascii");
  prefix.writeUInt8(PAYLOAD_VERSION, 4);
  prefix.writeUInt32BE(header.length, 5);
  return Buffer.concat([prefix, header, payload.records]);
}

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
  const records = buf.subarray(9 + headerLength);
  if (records.length !== header.recordCount * recordBytes) {
    throw bad(`${records.length} bytes of records for ${header.recordCount} records`);
  }
  return { header, records };
}

export function sealPayload(key: Uint8Array, payload: Payload): Uint8Array {
  const { visited, home, period } = payload.header;
  return encryptPayload(key, encodePayload(payload), payloadAad(visited, home, period));
}

/** Decrypts and decodes the payload of a batch of `pair` (its records packed as lib/usage/leaf.ts packs them). */
export function openPayload(key: Uint8Array, sealed: Uint8Array, pair: { visited: Hex; home: Hex; period: number }): Payload {
  const plain = decryptPayload(key, sealed, payloadAad(pair.visited, pair.home, pair.period));
  return decodePayload(plain, RECORD_BYTES);
}
