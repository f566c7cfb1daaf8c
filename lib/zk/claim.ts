/**
 * A payee's claim decided by proof (docs/zk.md): the Groth16 proof that the invoice's net is the rating-v1
 * rating of the totals its `totalsCommitment` commits to under the terms of the agreement version's rating
 * commitment, built from the payee's own copies of the usage and terms, checked locally against the verifier
 * the governors approved, then filed with `proveClaim` once the payer's contest window is over.
 */
import type { RoamLedgerClient } from "../chain/client";
import { InputError, MismatchError } from "../core/errors";
import { formatPeriod } from "../core/period";
import { formatPlmn } from "../core/plmn";
import { draftInvoice } from "../invoice/draft";
import { proveClaim } from "../settlement/claims";
import type { RateInvoiceOptions } from "../settlement/invoices";
import type { Hex } from "../util/hex";
import { adjudicatorOf, trustedVerifier } from "./adjudicator";
import { RATING_V1, ratingV1Input } from "./encoding";
import { proofToBytes, proveGroth16, type SnarkjsVerificationKey, verificationKeyHash, verifyGroth16 } from "./prover";

/** Where the proving key and the circuit's witness generator are, and the key that verifies (a ceremony's). */
export interface ProvingKit {
  /** The circuit's witness generator (rating_v1.wasm). */
  wasm: string;
  /** The ceremony's final proving key. */
  zkey: string;
  /** The ceremony's verification key (verification_key.json, parsed). */
  vkey: SnarkjsVerificationKey;
}

/** A built proof and what it proves. */
export interface ClaimProof {
  /** `abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)`: what `proveClaim` takes. */
  proof: Hex;
  /** The snarkjs proof object (to save or send). */
  raw: object;
  /** termsCommitment, totalsCommitment, net: decimal strings, the circuit's public inputs. */
  publicSignals: string[];
  net: bigint;
  /** Milliseconds the prover took. */
  proveMs: number;
}

const what = (o: RateInvoiceOptions) =>
  `the invoice of ${formatPlmn(o.usage.home)} to ${formatPlmn(o.usage.visited)} for ${formatPeriod(o.usage.period)}`;

/**
 * Builds the proof of the invoice that `usage` and `terms` give (the payee's draft: the same totals, salt
 * and net as proposed) and checks it locally with `kit.vkey`. InputError when the terms cannot be rated by
 * rating-v1; MismatchError when the invoice on chain is not this draft (so no proof of it can be built).
 */
export async function buildClaimProof(client: RoamLedgerClient, o: RateInvoiceOptions & { kit: ProvingKit }): Promise<ClaimProof> {
  const draft = draftInvoice(o);
  const state = await client.escrow.invoice(o.usage.home, o.usage.visited, o.usage.period);
  const onChain = [
    ["totalsCommitment", state.totalsCommitment.toLowerCase(), draft.invoice.totalsCommitment.toLowerCase()],
    ["net", BigInt(state.net), draft.invoice.net],
    ["agreementVersion", BigInt(state.agreementVersion), BigInt(draft.invoice.agreementVersion)],
  ] as const;
  for (const [subject, chain, ours] of onChain) {
    if (chain !== ours) {
      throw new MismatchError(
        `${what(o)}: ${subject}`,
        { expected: chain, actual: ours },
        {
          hint: "the proposed invoice is not the one your usage and terms give: propose it again (invoice:propose), then claim.",
        },
      );
    }
  }
  const input = ratingV1Input({
    terms: o.terms.terms,
    termsSalt: o.terms.termsSalt,
    totals: draft.totals,
    totalsSalt: draft.contents.totalsSalt,
    payer: o.usage.home,
    payee: o.usage.visited,
    period: o.usage.period,
    net: draft.rating.net,
  });
  const started = Date.now();
  const { proof, publicSignals } = await proveGroth16(input, { wasm: o.kit.wasm, zkey: o.kit.zkey });
  const proveMs = Date.now() - started;
  if (!(await verifyGroth16(o.kit.vkey, publicSignals, proof))) {
    throw new InputError(`the proof of ${what(o)} does not verify with the ceremony's verification key`, {
      hint: "the proving key and the verification key are not of the same ceremony: use the finalized ceremony folder's files.",
    });
  }
  return { proof: proofToBytes(proof), raw: proof, publicSignals, net: draft.rating.net, proveMs };
}

/**
 * ConfigError-like InputError unless the adjudicator trusts a verifier for rating-v1 whose verification key
 * is `kit.vkey`: a proof under another key would be refused on chain.
 */
export async function requireTrustedKey(client: RoamLedgerClient, kit: ProvingKit): Promise<void> {
  const trusted = await trustedVerifier(client, RATING_V1.id);
  if (trusted.trustedAt === 0) {
    throw new InputError(`the governors have not approved a verifier for ${RATING_V1.name} yet`, {
      hint: "after the ceremony: `zk:verifier:deploy`, then `zk:verifier:propose` and the governors' `zk:verifier:approve`.",
    });
  }
  const ours = verificationKeyHash(kit.vkey);
  if (ours.toLowerCase() !== trusted.verificationKeyHash) {
    throw new MismatchError(
      "verificationKeyHash",
      { expected: trusted.verificationKeyHash, actual: ours },
      {
        hint: "your proving key is not the one of the ceremony the governors approved: use that ceremony's folder (--zk).",
      },
    );
  }
}

/** When the payer's contest window of a filed claim ends (claimedAt + SIGN_WINDOW). */
export async function contestWindowEnd(client: RoamLedgerClient, o: Pick<RateInvoiceOptions, "usage">): Promise<number> {
  const [state, window] = await Promise.all([
    client.escrow.invoice(o.usage.home, o.usage.visited, o.usage.period),
    client.escrow.SIGN_WINDOW(),
  ]);
  return Number(state.claimedAt) + Number(window);
}

/**
 * Files `proof` for the claimed invoice (lib/settlement/claims `proveClaim`): refused before the payer's contest
 * window ends (InputError saying when) and unless the invoice is claimed.
 */
export function fileClaimProof(
  client: RoamLedgerClient,
  o: RateInvoiceOptions & { proof: Hex },
): Promise<{ txHash: string; gasUsed: bigint }> {
  return proveClaim(client, { payer: o.usage.home, payee: o.usage.visited, period: o.usage.period, proof: o.proof });
}

/**
 * Whether the escrow's adjudicator accepts `proof` for the invoice as the escrow holds it (a call: what
 * `proveClaim` would check, without sending).
 */
export async function adjudicatorAccepts(
  client: RoamLedgerClient,
  o: { payer: string; payee: string; period: number; proof: Pick<ClaimProof, "proof"> },
): Promise<boolean> {
  const state = await client.escrow.invoice(o.payer, o.payee, o.period);
  const adjudicator = await adjudicatorOf(client);
  return adjudicator.verify(o.payer, o.payee, state.agreementVersion, state.totalsCommitment, state.net, o.proof.proof);
}
