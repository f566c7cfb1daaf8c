/**
 * An agreement version's full terms sealed for the counterparty: what `propose` emits in
 * `AgreementTermsSealed` while the chain keeps only the public part and the commitment.
 *
 * Format (lib/crypto/sealed): "RLST", version 1, then AES-256-GCM with the pair's key (lib/crypto/pairwise)
 * of abi.encode(Terms, bytes32 salt) padded with zeros to a multiple of 1,024 bytes, so that the blob's
 * length tells a third member only a bucket of the number of rate plans and tiers (the encoding is 512
 * bytes, plus 320 per plan and 64 per tier: a bucket holds about three plans), never the counts. The additional data binds the chain id, the
 * RoamingAgreements address, the proposer, the counterparty and the terms commitment: a blob cannot be
 * replayed for another chain, contract, pair (or direction) or commitment.
 */
import { AbiCoder, getAddress, isAddress, type Result } from "ethers";
import { InputError, MismatchError } from "../core/errors";
import { checkPlmnHex, formatPlmn } from "../core/plmn";
import { checkSalt, TERMS_TUPLE_TYPE, termsCommitment } from "../crypto/commitment";
import { openAbi, type SealedKind, sealAbi } from "../crypto/sealed";
import type { Hex } from "../util/hex";
import { checkTerms, type Int, type TermsLike, type TermsStruct } from "./terms";
import { checkRatingCommitments, ratingCommitmentsOf } from "./ratingCommitments";

/** Header of sealed terms. */
export const SEALED_TERMS_KIND: SealedKind = { magic: "RLST", version: 1, what: "sealed terms" };

const TYPES = [TERMS_TUPLE_TYPE, "bytes32"] as const;
const AAD_TYPES = ["string", "uint256", "address", "bytes3", "bytes3", "bytes32"];
const AAD_DOMAIN = "roamledger/sealed-terms/v1";

/** Where sealed terms belong: the chain, the contract and the proposal's direction. */
export interface TermsContext {
  chainId: bigint | number;
  /** Address of the RoamingAgreements contract. */
  agreements: string;
  /** The carrier that proposes (bytes3). */
  proposer: Hex;
  /** The carrier the terms are proposed to. */
  counterparty: Hex;
}

/** `IRoamingAgreements.PublicTerms`: what the chain keeps of a version (as built, or as read back). */
export interface PublicTermsLike {
  settlementToken: string;
  validFrom: Int;
  validUntil: Int;
  disputeWindow: Int;
  termsCommitment: string;
  pricedClassesLo: Int;
  pricedClassesHi: Int;
  ratingCircuit: Int;
  ratingCommitmentLo: string;
  ratingCommitmentHi: string;
}

/** `IRoamingAgreements.PublicTerms` as this library builds it. */
export interface PublicTerms {
  settlementToken: string;
  validFrom: bigint;
  validUntil: bigint;
  disputeWindow: number;
  termsCommitment: Hex;
  /** The classes the lower PLMN id of the pair prices as the visited network (bit c: class c). */
  pricedClassesLo: bigint;
  /** The same for the higher PLMN id. */
  pricedClassesHi: bigint;
  /** The claim adjudicator's circuit that rates this version by proof (1: rating-v1), 0 for none. */
  ratingCircuit: number;
  /** That circuit's commitment to the terms rating the lower PLMN id as the visited network (zero: none). */
  ratingCommitmentLo: Hex;
  /** The same for the higher PLMN id. */
  ratingCommitmentHi: Hex;
}

/** The tariff classes each side of a pair prices, as `PublicTerms` carries them (bit c: class c). */
export interface PricedClasses {
  pricedClassesLo: bigint;
  pricedClassesHi: bigint;
}

/**
 * The classes each party of (`a`, `b`) prices as the visited network in `terms`: `AgreementTermsLib.pricedClasses`
 * (lo and hi as in the agreement key: the lower PLMN id first). Plans for a third carrier count for no side.
 */
export function pricedClassesOf(
  terms: { ratePlans: readonly { visited: string; tariffClass: bigint | number | string }[] },
  a: string,
  b: string,
): PricedClasses {
  const [lo, hi] = BigInt(a) < BigInt(b) ? [a.toLowerCase(), b.toLowerCase()] : [b.toLowerCase(), a.toLowerCase()];
  const priced = { pricedClassesLo: 0n, pricedClassesHi: 0n };
  for (const plan of terms.ratePlans) {
    const bit = 1n << BigInt(plan.tariffClass);
    const visited = plan.visited.toLowerCase();
    if (visited === lo) priced.pricedClassesLo |= bit;
    else if (visited === hi) priced.pricedClassesHi |= bit;
  }
  return priced;
}

/** The classes of a mask, ascending ("1, 2"; "none" for 0). */
export function classList(mask: bigint): string {
  const classes: number[] = [];
  for (let c = 0; c < 256; c++) if ((mask >> BigInt(c)) & 1n) classes.push(c);
  return classes.length === 0 ? "none" : classes.join(", ");
}

/** InputError unless the context names two different carriers and a contract address. */
function checkContext(context: TermsContext): void {
  checkPlmnHex(context.proposer, "proposer");
  checkPlmnHex(context.counterparty, "counterparty");
  if (context.proposer === context.counterparty) {
    throw new InputError("the proposer and the counterparty are the same carrier", { location: { param: "counterparty" } });
  }
  if (!isAddress(context.agreements)) {
    throw new InputError(`${context.agreements} is not a contract address`, { location: { param: "agreements" } });
  }
}

/** The additional data of sealed terms: abi.encode of the domain string and the context with the commitment. */
function termsAad(context: TermsContext, commitment: string): Uint8Array {
  checkContext(context);
  const values = [AAD_DOMAIN, context.chainId, context.agreements, context.proposer, context.counterparty, commitment];
  return Buffer.from(AbiCoder.defaultAbiCoder().encode(AAD_TYPES, values).slice(2), "hex");
}

/**
 * The public part of `terms` between the `parties` with its commitment under `salt`: what `propose` takes. The
 * priced classes of each side come from the rate plans.
 */
export function publicTermsOf(terms: TermsLike, salt: Hex, parties: readonly [string, string]): PublicTerms {
  return {
    settlementToken: getAddress(terms.settlementToken),
    validFrom: BigInt(terms.validFrom),
    validUntil: BigInt(terms.validUntil),
    disputeWindow: Number(terms.disputeWindow),
    termsCommitment: termsCommitment(terms, salt),
    ...pricedClassesOf(terms, parties[0], parties[1]),
    ...ratingCommitmentsOf(terms, salt, parties),
  };
}

/** What {@link sealTerms} seals. */
export interface SealTermsArgs {
  /** The pair's key (pairwiseKey). */
  key: Uint8Array;
  context: TermsContext;
  terms: TermsLike;
  /** The commitment's secret salt (randomSalt()). */
  salt: Hex;
}

/**
 * Seals `terms` and `salt` for the counterparty. Checks the terms first as the counterparty will
 * ({@link checkTerms}): a proposal it must refuse is never sent. Returns the blob for `propose`'s
 * `sealedTerms` and the public part (with the commitment) for its `terms`.
 */
export function sealTerms({ key, context, terms, salt }: SealTermsArgs): { sealed: Uint8Array; publicTerms: PublicTerms } {
  checkContext(context);
  checkSalt(salt);
  checkTerms(terms, { self: context.proposer, partner: context.counterparty, what: "terms to seal" });
  const publicTerms = publicTermsOf(terms, salt, [context.proposer, context.counterparty]);
  const sealed = sealAbi({
    key,
    kind: SEALED_TERMS_KIND,
    types: TYPES,
    values: [terms, salt],
    aad: termsAad(context, publicTerms.termsCommitment),
  });
  return { sealed, publicTerms };
}

/** Decoded ABI `Terms` in the library's struct shape (small integers as numbers). */
function termsFromAbi(t: Result): TermsStruct {
  return {
    settlementToken: getAddress(t.settlementToken),
    validFrom: t.validFrom,
    validUntil: t.validUntil,
    disputeWindow: Number(t.disputeWindow),
    permanentRoamingDays: Number(t.permanentRoamingDays),
    permanentRoamingSurchargePerDay: t.permanentRoamingSurchargePerDay,
    sla: {
      maxLatencyMs: Number(t.sla.maxLatencyMs),
      minThroughputKbps: Number(t.sla.minThroughputKbps),
      minAvailabilityBps: Number(t.sla.minAvailabilityBps),
      latencyCreditBps: Number(t.sla.latencyCreditBps),
      throughputCreditBps: Number(t.sla.throughputCreditBps),
      availabilityCreditBps: Number(t.sla.availabilityCreditBps),
    },
    ratePlans: t.ratePlans.map((p: Result) => ({
      visited: p.visited.toLowerCase() as Hex,
      tariffClass: Number(p.tariffClass),
      perMb: p.perMb,
      perSignallingEvent: p.perSignallingEvent,
      perSms: p.perSms,
      perVoiceMinute: p.perVoiceMinute,
      monthlyFeePerDevice: p.monthlyFeePerDevice,
      tiers: p.tiers.map((tier: Result) => ({ fromMb: tier.fromMb, discountBps: Number(tier.discountBps) })),
    })),
  };
}

const REFUSE = { hint: "do not accept this proposal: ask the proposer to propose its terms again." };

/**
 * MismatchError unless the classes each party prices on chain are those its rate plans in `terms` price: the
 * public sets decide which devices a visited network may serve (F10), so a proposal that declares a class it
 * does not price, or hides one it does, is refused.
 */
function checkPricedClasses(terms: TermsStruct, publicTerms: PublicTermsLike, context: TermsContext): void {
  const priced = pricedClassesOf(terms, context.proposer, context.counterparty);
  const [lo, hi] =
    BigInt(context.proposer) < BigInt(context.counterparty)
      ? [context.proposer, context.counterparty]
      : [context.counterparty, context.proposer];
  const sides = [
    [lo, BigInt(publicTerms.pricedClassesLo), priced.pricedClassesLo],
    [hi, BigInt(publicTerms.pricedClassesHi), priced.pricedClassesHi],
  ] as const;
  for (const [side, onChain, sealed] of sides) {
    if (onChain === sealed) continue;
    const subject = `the tariff classes ${formatPlmn(side)} prices as the visited network`;
    throw new MismatchError(subject, { expected: `[${classList(onChain)}] (public part)`, actual: `[${classList(sealed)}]` }, REFUSE);
  }
}

/** MismatchError for the first public field of `terms` that differs from the chain's `publicTerms`. */
function checkPublicPart(terms: TermsStruct, publicTerms: PublicTermsLike): void {
  const fields = [
    ["settlementToken", getAddress(publicTerms.settlementToken), terms.settlementToken],
    ["validFrom", BigInt(publicTerms.validFrom), terms.validFrom],
    ["validUntil", BigInt(publicTerms.validUntil), terms.validUntil],
    ["disputeWindow", BigInt(publicTerms.disputeWindow), BigInt(terms.disputeWindow)],
  ] as const;
  for (const [field, onChain, sealed] of fields) {
    if (onChain !== sealed) throw new MismatchError(field, { expected: onChain, actual: sealed }, REFUSE);
  }
}

/** What {@link openTerms} opens. */
export interface OpenTermsArgs {
  key: Uint8Array;
  context: TermsContext;
  /** The `sealedTerms` of the version's `AgreementTermsSealed` event. */
  sealed: Uint8Array;
  /** The version's public terms as the chain holds them (`getVersion(...).terms`). */
  publicTerms: PublicTermsLike;
}

/**
 * Opens sealed terms and checks everything the counterparty must check before it accepts: they decrypt
 * for this chain, contract, pair and commitment (CryptoError otherwise), the terms and salt give the
 * on-chain commitment, the token, validity, dispute window, each side's priced tariff classes and rating
 * commitments (the zero-knowledge circuit's, docs/zk.md) equal the public ones (MismatchError naming the field), and the terms pass the terms file's validation ({@link checkTerms}: InputError(s)).
 */
export function openTerms({ key, context, sealed, publicTerms }: OpenTermsArgs): { terms: TermsStruct; salt: Hex } {
  const values = openAbi({ key, kind: SEALED_TERMS_KIND, types: TYPES, sealed, aad: termsAad(context, publicTerms.termsCommitment) });
  const terms = termsFromAbi(values[0]);
  const salt = (values[1] as string).toLowerCase() as Hex;
  const commitment = termsCommitment(terms, salt);
  if (commitment !== publicTerms.termsCommitment.toLowerCase()) {
    throw new MismatchError("termsCommitment", { expected: publicTerms.termsCommitment, actual: commitment }, REFUSE);
  }
  checkPublicPart(terms, publicTerms);
  checkPricedClasses(terms, publicTerms, context);
  checkRatingCommitments(terms, salt, publicTerms, context);
  checkTerms(terms, { self: context.proposer, partner: context.counterparty, what: "sealed terms" });
  return { terms, salt };
}
