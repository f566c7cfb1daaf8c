/**
 * The full terms of an agreement version for one of its two parties: from its key store's copy
 * (./localTerms), else opened from the version's `AgreementTermsSealed` event with the pair's key and
 * checked (./sealed openTerms), then copied. What ingest, invoices and reports rate with: the chain itself
 * gives only the public part (`termsAt`, `getVersion`).
 */
import { getBytes } from "ethers";
import { ConfigError, CryptoError, InputError } from "../core/errors";
import { formatPlmn } from "../core/plmn";
import { withDecodedRevert } from "../chain/revert";
import type { RoamLedgerClient } from "../chain/client";
import type { Keystore } from "../keys/keystore";
import { pairKeyWith } from "../usage/pair";
import type { Hex } from "../util/hex";
import { loadLocalTerms, saveLocalTerms, type LocalTermsKey, type OpenedTerms } from "./localTerms";
import { openTerms, type PublicTermsLike, type TermsContext } from "./sealed";

/** One version of the agreement between `self` (whose key store is given) and `partner`. */
export interface VersionTermsOptions extends LocalTermsKey {
  keystore: Keystore;
}

/** Full terms and where they came from. */
export interface FullTerms extends OpenedTerms {
  /** "local": the key store's copy; "chain": opened from the sealed event just now (and copied). */
  source: "local" | "chain";
}

/** The `sealedTerms` of the version's `AgreementTermsSealed` event. */
async function sealedTermsOf(client: RoamLedgerClient, { self, partner, version }: LocalTermsKey): Promise<Uint8Array> {
  const { agreements } = client;
  const key = await agreements.agreementKey(self, partner);
  const events = await agreements.queryFilter(agreements.filters.AgreementTermsSealed(key, version), 0);
  if (events.length !== 1) {
    throw new ConfigError(
      `found ${events.length} AgreementTermsSealed events for version ${version} of ${formatPlmn(self)}-${formatPlmn(partner)}`,
      {
        hint: "connect to a node that keeps every log of the RoamingAgreements contract (not a pruned one).",
      },
    );
  }
  return getBytes(events[0].args.sealedTerms);
}

/** Where the sealed terms of a version proposed by `proposer` to `counterparty` belong: this chain and contract. */
export async function termsContextOf(client: RoamLedgerClient, proposer: Hex, counterparty: Hex): Promise<TermsContext> {
  const network = await client.runner.provider?.getNetwork();
  if (!network) throw new ConfigError("the client has no provider to read the chain id from", { hint: "connect the client to a node." });
  return { chainId: network.chainId, agreements: await client.agreements.getAddress(), proposer, counterparty };
}

/** What {@link openVersionTerms} opens: a version, read from the chain. */
export interface OpenVersionOptions extends VersionTermsOptions {
  /** The version's proposer and public terms, when already read (`getVersion`). */
  onChain?: { proposer: string; terms: PublicTermsLike };
}

/**
 * Opens a version's sealed terms with the pair's key and checks them as a counterparty must before it
 * accepts (commitment, public part, the terms rules). CryptoError (they do not open with the pair's key)
 * or MismatchError / InputError(s) (they open but are not the terms committed to, or break the rules),
 * each saying what to do.
 */
export async function openVersionTerms(client: RoamLedgerClient, options: OpenVersionOptions): Promise<OpenedTerms> {
  const { keystore, self, partner, version } = options;
  const onChain = options.onChain ?? (await withDecodedRevert(() => client.agreements.getVersion(self, partner, version)));
  const proposer = onChain.proposer.toLowerCase() as Hex;
  const counterparty = proposer === self ? partner : self;
  const [sealed, context, key] = await Promise.all([
    sealedTermsOf(client, options),
    termsContextOf(client, proposer, counterparty),
    pairKeyWith(client, { keystore, self, partner }),
  ]);
  try {
    return openTerms({ key, context, sealed, publicTerms: onChain.terms });
  } catch (cause) {
    if (!(cause instanceof CryptoError)) throw cause;
    throw new CryptoError(`the sealed terms of version ${version} from ${formatPlmn(proposer)} do not open with the pair's key`, {
      details: cause.shortMessage,
      hint:
        proposer === self
          ? "your encryption key changed since you proposed them and no copy of the terms is in your key store: restore the copy or the old key from your backup."
          : `do not accept them: ask ${formatPlmn(proposer)} to propose its terms again (sealed for your registered key), or restore the key you had when they were proposed.`,
      cause,
    });
  }
}

/**
 * The full terms of `version` of the agreement between `self` and `partner`, for `self`: its key store's copy
 * when that opens the version's on-chain commitment, else opened from the chain ({@link openVersionTerms})
 * and copied to the key store. InputError when `self` is not a party (then it has no way to the terms).
 */
export async function agreementTerms(client: RoamLedgerClient, options: VersionTermsOptions): Promise<FullTerms> {
  const { keystore, self, partner, version } = options;
  if (self === partner) {
    throw new InputError(`${formatPlmn(self)} has no agreement with itself`, {
      location: { param: "partner" },
      hint: "name the roaming partner.",
    });
  }
  const onChain = await withDecodedRevert(() => client.agreements.getVersion(self, partner, version));
  const local = loadLocalTerms(keystore, options);
  if (local && local.termsCommitment === onChain.terms.termsCommitment.toLowerCase()) {
    return { terms: local.terms, salt: local.salt, source: "local" };
  }
  const opened = await openVersionTerms(client, { ...options, onChain });
  saveLocalTerms(keystore, options, opened);
  return { ...opened, source: "chain" };
}

/** What {@link agreementTermsAt} reads: the version in force between `home` and `visited` at `time`. */
export interface TermsAtOptions {
  keystore: Keystore;
  /** The party asking (home or visited). */
  self: Hex;
  home: Hex;
  visited: Hex;
  /** Chain time (seconds). */
  time: bigint | number;
}

/** The version in force at `time` (the contract's `termsAt` rule) and its full terms, for `self`. */
export async function agreementTermsAt(client: RoamLedgerClient, options: TermsAtOptions): Promise<FullTerms & { version: number }> {
  const { keystore, self, home, visited, time } = options;
  if (self !== home && self !== visited) {
    throw new InputError(`${formatPlmn(self)} is not a party to the agreement of ${formatPlmn(home)} and ${formatPlmn(visited)}`, {
      location: { param: "self" },
      hint: "only the two parties can read the full terms; anyone can read the public part.",
    });
  }
  const [, version] = await withDecodedRevert(() => client.agreements.termsAt(home, visited, time));
  const partner = self === home ? visited : home;
  const full = await agreementTerms(client, { keystore, self, partner, version: Number(version) });
  return { ...full, version: Number(version) };
}
