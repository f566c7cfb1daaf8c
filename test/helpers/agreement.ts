/**
 * Agreements between test carriers on RoamingAgreements v2, sealed as lib/agreements seals them: the chain
 * gets the public part and the commitment, the counterparty the terms and salt sealed with the pair's key.
 */
import { getBytes, type Signer } from "ethers";
import type { TermsLike } from "../../lib/agreements/terms";
import { sealTerms, type PublicTerms } from "../../lib/agreements/sealed";
import { randomSalt } from "../../lib/crypto/commitment";
import { pairwiseKey } from "../../lib/crypto/pairwise";
import type { Hex } from "../../lib/util/hex";
import { CarrierRegistry__factory, type RoamingAgreements } from "../../typechain-types";

/** The encryption private key behind `testEncryptionKey(seed)` of the fixtures. */
export const fixturePrivateKey = (seed: number) => `0x${seed.toString(16).padStart(64, "0")}` as Hex;

export interface SealedProposal {
  publicTerms: PublicTerms;
  sealed: Uint8Array;
  salt: Hex;
}

export interface ProposeSealedArgs {
  agreements: RoamingAgreements;
  /** An operator of the proposer. */
  signer: Signer;
  proposer: Hex;
  counterparty: Hex;
  /** The proposer's encryption private key (its registered public key's). */
  proposerKey: Hex;
  terms: TermsLike;
  /** Default: a fresh random salt. */
  salt?: Hex;
}

/** Seals `terms` for the counterparty (its registered key) and has the proposer propose them. */
export async function proposeSealed(args: ProposeSealedArgs): Promise<SealedProposal> {
  const { agreements, signer, proposer, counterparty, proposerKey, terms, salt = randomSalt() } = args;
  const carriers = CarrierRegistry__factory.connect(await agreements.carrierRegistry(), signer);
  const theirPublicKey = (await carriers.getMember(counterparty)).encryptionKey as Hex;
  const key = pairwiseKey({ myPrivateKey: proposerKey, theirPublicKey, plmnA: proposer, plmnB: counterparty });
  if (!signer.provider) throw new Error("the proposer's signer has no provider");
  const { chainId } = await signer.provider.getNetwork();
  const context = { chainId, agreements: await agreements.getAddress(), proposer, counterparty };
  const { sealed, publicTerms } = sealTerms({ key, context, terms, salt });
  await (await agreements.connect(signer).propose(counterparty, publicTerms, sealed)).wait();
  return { publicTerms, sealed: getBytes(sealed), salt };
}

export interface AgreeSealedArgs extends ProposeSealedArgs {
  /** An operator of the counterparty, which accepts the version. */
  acceptor: Signer;
}

/**
 * The proposer proposes sealed `terms` and the counterparty accepts the new version with its commitment
 * (the pending version: versionCount after the proposal). Returns the version and what was proposed.
 */
export async function agreeSealed(args: AgreeSealedArgs): Promise<SealedProposal & { version: number }> {
  const proposal = await proposeSealed(args);
  const { agreements, acceptor, proposer, counterparty } = args;
  const version = Number(await agreements.versionCount(proposer, counterparty));
  await (await agreements.connect(acceptor).accept(proposer, version, proposal.publicTerms.termsCommitment)).wait();
  return { ...proposal, version };
}
