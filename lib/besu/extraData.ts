import { decodeRlp, encodeRlp, getAddress, isAddress } from "ethers";
import { ConfigError, InputError } from "../core/errors";
import type { Hex } from "../util/hex";

/**
 * QBFT `extraData` of a Besu genesis block (block-header validator selection):
 * `RLP([32 bytes vanity, [validator addresses], vote, round, [seals]])`, where the genesis block has
 * no vote (an empty list), round 0 (the empty byte string) and no seals. This is what
 * `besu rlp encode --type=QBFT_EXTRA_DATA` produces for a list of validators.
 */

const VANITY = `0x${"00".repeat(32)}` as Hex;

/** A decoded QBFT extraData. */
export interface QbftExtraData {
  vanity: Hex;
  /** Checksummed, in the order the extraData lists them. */
  validators: string[];
  /** The vote carried by the block, if any: who, and whether to add (true) or drop them. */
  vote: { recipient: string; add: boolean } | null;
  round: number;
  seals: Hex[];
}

/** Validator addresses checksummed, without duplicates, in ascending order (as Besu expects them). */
export function sortValidators(validators: readonly string[]): string[] {
  if (validators.length === 0) {
    throw new InputError("a QBFT network needs at least one validator", {
      hint: "generate four: BFT tolerates one faulty validator in four.",
    });
  }
  const seen = new Set<string>();
  for (const v of validators) {
    if (!isAddress(v)) throw new InputError(`validator ${JSON.stringify(v)} is not an address`);
    const lower = v.toLowerCase();
    if (seen.has(lower)) throw new InputError(`validator ${getAddress(v)} is listed twice`);
    seen.add(lower);
  }
  return [...seen].sort().map((v) => getAddress(v));
}

/** The genesis extraData naming `validators` (sorted ascending), with no vote, round 0 and no seals. */
export function encodeQbftExtraData(validators: readonly string[]): Hex {
  const sorted = sortValidators(validators).map((v) => v.toLowerCase());
  return encodeRlp([VANITY, sorted, [], "0x", []]).toLowerCase() as Hex;
}

function fail(reason: string): never {
  throw new ConfigError(`extraData is not a QBFT extraData: ${reason}`, {
    hint: "regenerate the genesis (Besu's own `rlp encode` makes a QBFT extraData too).",
    next: { operation: "besu:genesis" },
  });
}

const isBytes = (x: unknown): x is string => typeof x === "string";

/** Decodes a QBFT extraData (any block's, not only genesis); throws ConfigError when malformed. */
export function decodeQbftExtraData(extraData: string): QbftExtraData {
  let decoded: unknown;
  try {
    decoded = decodeRlp(extraData);
  } catch (cause) {
    fail(`not RLP (${(cause as Error).message})`);
  }
  if (!Array.isArray(decoded) || decoded.length !== 5) fail("expected a list of 5 items [vanity, validators, vote, round, seals]");
  const [vanity, validators, vote, round, seals] = decoded as unknown[];
  if (!isBytes(vanity) || vanity.length !== 2 + 64) fail("the vanity is not 32 bytes");
  if (!Array.isArray(validators) || !validators.every((v) => isBytes(v) && v.length === 2 + 40)) {
    fail("the validators are not a list of 20-byte addresses");
  }
  let parsedVote: QbftExtraData["vote"] = null;
  if (!Array.isArray(vote)) fail("the vote is not a list");
  if (vote.length > 0) {
    const [recipient, kind] = vote as unknown[];
    if (vote.length !== 2 || !isBytes(recipient) || recipient.length !== 42 || !isBytes(kind)) fail("the vote is not [address, type]");
    parsedVote = { recipient: getAddress(recipient), add: kind === "0xff" };
  }
  if (!isBytes(round) || round.length > 2 + 8) fail("the round is not a 4-byte integer");
  if (!Array.isArray(seals) || !seals.every(isBytes)) fail("the seals are not a list of signatures");
  return {
    vanity: vanity as Hex,
    validators: (validators as string[]).map((v) => getAddress(v)),
    vote: parsedVote,
    round: round === "0x" ? 0 : Number(BigInt(round)),
    seals: seals as Hex[],
  };
}
