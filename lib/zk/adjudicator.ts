/**
 * The claim adjudicator's verifiers (contracts/RatingAdjudicator.sol, docs/zk.md): which verifier decides the
 * claims of each rating circuit, and the governors' vote that trusts one after the consortium's ceremony.
 */
import { ZeroAddress, ZeroHash } from "ethers";
import { RatingAdjudicator__factory, type RatingAdjudicator } from "../../typechain-types";
import { ConfigError, InputError } from "../core/errors";
import type { RoamLedgerClient } from "../chain/client";
import { sendAndWait } from "../chain/send";
import type { Hex } from "../util/hex";

/** The escrow's claim adjudicator, or a ConfigError when the escrow was deployed without one. */
export async function adjudicatorOf(client: RoamLedgerClient): Promise<RatingAdjudicator> {
  const address = await client.escrow.claimAdjudicator();
  if (address === ZeroAddress) {
    throw new ConfigError("this escrow was deployed without a claim adjudicator: claims cannot be proven", {
      hint: "claims end by the payer's signature or, as the last resort, a reveal; redeploy with `deploy` for proofs.",
    });
  }
  return RatingAdjudicator__factory.connect(address, client.runner);
}

/** A circuit's trusted verifier as the adjudicator holds it (`verifier` zero: none yet). */
export interface TrustedVerifier {
  circuit: number;
  verifier: Hex;
  transcriptHash: Hex;
  verificationKeyHash: Hex;
  /** Unix seconds; 0 when not trusted. */
  trustedAt: number;
}

/** The trusted verifier of `circuit`. */
export async function trustedVerifier(client: RoamLedgerClient, circuit: number): Promise<TrustedVerifier> {
  const v = await (await adjudicatorOf(client)).verifierOf(circuit);
  return {
    circuit,
    verifier: v.verifier.toLowerCase() as Hex,
    transcriptHash: v.transcriptHash.toLowerCase() as Hex,
    verificationKeyHash: v.verificationKeyHash.toLowerCase() as Hex,
    trustedAt: Number(v.trustedAt),
  };
}

/** What a governor proposes or approves: a verifier of a circuit, from a ceremony's transcript. */
export interface VerifierVote {
  circuit: number;
  verifier: string;
  transcriptHash: string;
}

function checkVote({ circuit, verifier, transcriptHash }: VerifierVote): void {
  if (!Number.isInteger(circuit) || circuit < 1 || circuit > 65_535) {
    throw new InputError(`the circuit must be an integer from 1 to 65535, found ${circuit}`, {
      location: { param: "circuit" },
      hint: "rating-v1 is circuit 1.",
    });
  }
  if (!/^0x[0-9a-fA-F]{40}$/.test(verifier) || verifier === ZeroAddress) {
    throw new InputError(`${JSON.stringify(verifier)} is not a verifier contract address`, {
      location: { param: "verifier" },
      hint: "give the address `zk:verifier:deploy` printed.",
    });
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(transcriptHash) || transcriptHash === ZeroHash) {
    throw new InputError(`${JSON.stringify(transcriptHash)} is not a transcript hash`, {
      location: { param: "transcript" },
      hint: "give the 32-byte hash `zk:ceremony:finalize` printed (`zk:ceremony:verify` prints it again).",
    });
  }
}

/** The approvals so far and whether the verifier is trusted now, after a vote. */
export interface VoteResult {
  txHash: string;
  approvals: number;
  trusted: boolean;
}

async function vote(client: RoamLedgerClient, v: VerifierVote, kind: "propose" | "approve", self: Hex): Promise<VoteResult> {
  checkVote(v);
  const adjudicator = await adjudicatorOf(client);
  const send =
    kind === "propose"
      ? () => adjudicator.proposeVerifier(v.circuit, v.verifier, v.transcriptHash)
      : () => adjudicator.approveVerifier(v.circuit, v.verifier, v.transcriptHash);
  const receipt = await sendAndWait(send);
  const [count] = await adjudicator.approvals(v.circuit, v.verifier, v.transcriptHash, self);
  const trusted = (await adjudicator.verifierOf(v.circuit)).verifier.toLowerCase() === v.verifier.toLowerCase();
  return { txHash: receipt.hash, approvals: Number(count), trusted };
}

/** A governor's proposal of a verifier (its own approval included). `self`: the governor's PLMN id. */
export function proposeVerifier(client: RoamLedgerClient, v: VerifierVote, self: Hex): Promise<VoteResult> {
  return vote(client, v, "propose", self);
}

/** A governor's approval of a standing proposal, restated in full. */
export function approveVerifier(client: RoamLedgerClient, v: VerifierVote, self: Hex): Promise<VoteResult> {
  return vote(client, v, "approve", self);
}
