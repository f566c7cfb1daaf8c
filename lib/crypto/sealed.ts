/**
 * The pair's sealed messages on chain (agreement terms, invoices): a 5-byte header (4 ASCII magic bytes that
 * say what it is, 1 version byte), then AES-256-GCM (./aead `seal`: random nonce, ciphertext, tag) of an ABI
 * encoding padded with zeros to a multiple of {@link PAD_BUCKET} bytes. The header is authenticated with
 * the caller's additional data, which binds the message to its chain, contract, pair and commitment.
 *
 * The padding is why a sealed message's length tells a third member only a bucket of its size (for terms:
 * about the number of rate plans and tiers, within 1,024 bytes), never the exact encoding.
 */
import { AbiCoder, type Result } from "ethers";
import { CryptoError } from "../core/errors";
import { bytesToHex } from "../util/hex";
import { open, SEAL_OVERHEAD, seal } from "./aead";

/** Plaintexts are padded to a multiple of this many bytes. */
export const PAD_BUCKET = 1024;
/** Bytes of the magic + version header. */
export const SEALED_HEADER_BYTES = 5;

const abi = AbiCoder.defaultAbiCoder();

/** What kind of sealed message, by its header. */
export interface SealedKind {
  /** 4 ASCII characters. */
  magic: string;
  version: number;
  /** What it is, for messages ("sealed terms"). */
  what: string;
}

/** Bytes of the sealed message of a plaintext of `plainBytes` bytes: header, nonce, tag, padded plaintext. */
export function sealedLength(plainBytes: number): number {
  return SEALED_HEADER_BYTES + SEAL_OVERHEAD + Math.max(1, Math.ceil(plainBytes / PAD_BUCKET)) * PAD_BUCKET;
}

/** The 5-byte header of `kind`: magic, then version. */
function headerOf(kind: SealedKind): Buffer {
  const header = Buffer.alloc(SEALED_HEADER_BYTES);
  header.write(kind.magic, 0, 4, "ascii");
  header.writeUInt8(kind.version, 4);
  return header;
}

/** The CryptoError of a message that opened (or not) but is not a well-formed `kind`. */
function malformed(kind: SealedKind, problem: string): CryptoError {
  return new CryptoError(`the ${kind.what} are malformed: ${problem}`, {
    hint: `refuse them and ask the sender for the ${kind.what} again.`,
  });
}

/** What {@link sealAbi} seals. */
export interface SealAbiArgs {
  key: Uint8Array;
  kind: SealedKind;
  /** ABI types of the values. */
  types: readonly string[];
  values: readonly unknown[];
  /** Additional data: what the message is bound to (the header is added to it). */
  aad: Uint8Array;
}

/** Seals abi.encode(types, values), zero-padded to a multiple of {@link PAD_BUCKET}, under `kind`'s header. */
export function sealAbi({ key, kind, types, values, aad }: SealAbiArgs): Uint8Array {
  const encoded = Buffer.from(abi.encode(types, values).slice(2), "hex");
  const padded = Buffer.alloc(Math.max(1, Math.ceil(encoded.length / PAD_BUCKET)) * PAD_BUCKET);
  encoded.copy(padded);
  const header = headerOf(kind);
  return Buffer.concat([header, seal(key, padded, Buffer.concat([header, aad]))]);
}

/** What {@link openAbi} opens. */
export interface OpenAbiArgs {
  key: Uint8Array;
  kind: SealedKind;
  types: readonly string[];
  sealed: Uint8Array;
  aad: Uint8Array;
}

/**
 * Reverses {@link sealAbi}. CryptoError when the header is not `kind`'s, when the key or `aad` is wrong or
 * the bytes were altered (GCM), and when the plaintext is not the canonical encoding of `types` followed
 * by zeros only, so one message has exactly one plaintext.
 */
export function openAbi({ key, kind, types, sealed, aad }: OpenAbiArgs): Result {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const header = headerOf(kind);
  if (bytes.length < SEALED_HEADER_BYTES || !bytes.subarray(0, SEALED_HEADER_BYTES).equals(header)) {
    throw malformed(kind, `they do not start with "${kind.magic}" version ${kind.version}`);
  }
  const padded = Buffer.from(open(key, bytes.subarray(SEALED_HEADER_BYTES), Buffer.concat([header, aad])));
  if (padded.length % PAD_BUCKET !== 0) throw malformed(kind, `${padded.length} bytes are not a whole number of ${PAD_BUCKET}-byte blocks`);
  let values: Result;
  try {
    values = abi.decode(types, bytesToHex(padded));
  } catch (cause) {
    throw new CryptoError(`the ${kind.what} are malformed: not an ABI encoding of (${types.join(", ")})`, { cause });
  }
  const canonical = Buffer.from(abi.encode(types, values).slice(2), "hex");
  if (!padded.subarray(0, canonical.length).equals(canonical) || padded.subarray(canonical.length).some((b) => b !== 0)) {
    throw malformed(kind, "the encoding is not canonical or the padding is not zeros");
  }
  return values;
}
