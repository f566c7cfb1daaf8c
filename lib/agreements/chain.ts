/**
 * Roaming agreements on the chain (RoamingAgreements v2, docs/confidentiality.md): proposing a terms file
 * sealed for the partner, accepting only terms that were opened and checked, reading versions back (the
 * public part for anyone, the full terms in token units for a party) and describing them to a person.
 */
import type { ContractRunner, ContractTransactionReceipt } from "ethers";
import { IERC20Metadata__factory } from "../../typechain-types";
import type { Token } from "../core/amount";
import {
  type BaseError,
  ConfigError,
  ContractRevertError,
  CryptoError,
  InputError,
  InputErrors,
  type InputLocation,
  MismatchError,
} from "../core/errors";
import { formatTerms, isoTime, readAgreementTerms, readSettlementToken, type AgreementTermsJson, type TermsStruct } from "./terms";
import { formatPlmn, parsePlmn } from "../core/plmn";
import { withDecodedRevert } from "../chain/revert";
import { sendAndWait } from "../chain/send";
import type { Hex } from "../util/hex";
import type { RoamLedgerClient } from "../chain/client";
import { VERSION_STATUSES, type VersionStatusName } from "../core/enums";
import { randomSalt } from "../crypto/commitment";
import type { Keystore } from "../keys/keystore";
import { pairKeyWith } from "../usage/pair";
import { agreementTerms, type FullTerms, openVersionTerms, termsContextOf } from "./fullTerms";
import { saveLocalTerms } from "./localTerms";
import { classList, type PricedClasses, sealTerms } from "./sealed";

const DAY = 86_400;

/**
 * The decimals (and symbol) of a settlement token. A token that does not answer `decimals()` is an
 * InputError at `location` (where a file or a parameter names it).
 */
export async function tokenInfo(token: string, runner: ContractRunner, location?: InputLocation): Promise<Token> {
  const erc20 = IERC20Metadata__factory.connect(token, runner);
  let decimals: number;
  try {
    decimals = Number(await erc20.decimals());
  } catch (cause) {
    throw new InputError(`settlementToken ${token} does not answer decimals(): not an ERC-20 token on this network`, {
      location,
      cause,
      hint: "use the address of the consortium's settlement token on this network.",
    });
  }
  const symbol = await erc20.symbol().catch(() => "");
  return { address: token, decimals, symbol };
}

/** Chain time: the latest block's timestamp. */
export async function chainTime(runner: ContractRunner): Promise<bigint> {
  const block = await runner.provider?.getBlock("latest");
  return BigInt(block?.timestamp ?? Math.floor(Date.now() / 1000));
}

export interface ProposeResult {
  version: number;
  terms: TermsStruct;
  token: Token;
  txHash: string;
  /** The commitment the chain holds for the terms. */
  termsCommitment: Hex;
  /** Bytes of the sealed terms the transaction carried. */
  sealedBytes: number;
  /** The proposer's copy of the terms and salt in its key store. */
  localFile: string;
}

export interface ProposeOptions {
  /** The proposer: the signer's carrier. */
  self: Hex;
  partner: Hex;
  /** The terms file (JSON, amounts in token units). */
  file: string;
  /** The proposer's key store: its encryption key seals the terms, and the terms are copied there. */
  keystore: Keystore;
}

/** The `AgreementProposed` event's version in a `propose` receipt. */
function proposedVersion(client: RoamLedgerClient, receipt: ContractTransactionReceipt): number {
  const event = receipt.logs.map((log) => client.agreements.interface.parseLog(log)).find((parsed) => parsed?.name === "AgreementProposed");
  if (!event)
    throw new ConfigError("propose succeeded without an AgreementProposed event", { hint: "check the RoamingAgreements address." });
  return Number(event.args.version);
}

/**
 * Proposes the terms of `file` to `partner` on behalf of `self` (the signer's carrier): the initial
 * agreement or an amendment. The file is read and checked in full, amounts converted with the token's
 * decimals; the chain gets only the public part and a commitment under a fresh random salt, the partner the
 * terms and salt sealed with the pair's key. The terms and salt are then copied to the key store, so they
 * stay readable after a key rotation. Reverts are decoded.
 */
export async function proposeAgreement(
  client: RoamLedgerClient,
  { self, partner, file, keystore }: ProposeOptions,
): Promise<ProposeResult> {
  if (self === partner) {
    throw new InputError(`${formatPlmn(partner)} is your own carrier`, {
      location: { param: "partner" },
      hint: "name the roaming partner.",
    });
  }
  const { token, location } = readSettlementToken(file);
  const info = await tokenInfo(token, client.runner, location);
  const terms = readAgreementTerms(file, { self, partner, decimals: info.decimals, now: await chainTime(client.runner) });
  const [key, context] = await Promise.all([pairKeyWith(client, { keystore, self, partner }), termsContextOf(client, self, partner)]);
  const salt = randomSalt();
  const { sealed, publicTerms } = sealTerms({ key, context, terms, salt });
  const receipt = await sendAndWait(() => client.agreements.propose(partner, publicTerms, sealed));
  const version = proposedVersion(client, receipt);
  const localFile = saveLocalTerms(keystore, { self, partner, version }, { terms, salt });
  return {
    version,
    terms,
    token: info,
    txHash: receipt.hash,
    termsCommitment: publicTerms.termsCommitment,
    sealedBytes: sealed.length,
    localFile,
  };
}

export interface AcceptOptions {
  /** The acceptor: the signer's carrier. */
  self: Hex;
  /** The proposer. */
  partner: Hex;
  version: number;
  /** The acceptor's key store: its encryption key opens the terms, which are copied there. */
  keystore: Keystore;
}

export interface AcceptResult {
  txHash: string;
  terms: TermsStruct;
  termsCommitment: Hex;
}

/**
 * Accepts the pending `version` that `partner` proposed, only after opening its sealed terms with the pair's
 * key and checking them (commitment, public part, the terms rules): a proposal that does not open or does
 * not check is refused with the reason and nothing is sent. A dry run first surfaces the contract's own
 * refusals (not pending, expired, the proposer's side) before anything is opened. The opened terms are
 * copied to the key store before the transaction, so an accepted version is never without them.
 */
export async function acceptAgreement(
  client: RoamLedgerClient,
  { self, partner, version, keystore }: AcceptOptions,
): Promise<AcceptResult> {
  const onChain = await withDecodedRevert(() => client.agreements.getVersion(self, partner, version));
  const commitment = onChain.terms.termsCommitment.toLowerCase() as Hex;
  await withDecodedRevert(() => client.agreements.accept.staticCall(partner, version, commitment));
  const opened = await openVersionTerms(client, { keystore, self, partner, version, onChain });
  saveLocalTerms(keystore, { self, partner, version }, opened);
  const receipt = await sendAndWait(() => client.agreements.accept(partner, version, commitment));
  return { txHash: receipt.hash, terms: opened.terms, termsCommitment: commitment };
}

/** The public part of a version in human units: what every member reads. */
export interface PublicTermsView {
  settlementToken: string;
  validFrom: string;
  validUntil: string;
  disputeWindowDays: number;
  termsCommitment: Hex;
  /** The tariff classes each party prices as the visited network (public: which classes, not their rates). */
  pricedClasses: { visited: Hex; classes: string }[];
}

/** The full terms of a version as its party reads them, or why they are not shown. */
export type FullTermsView =
  | { readable: true; terms: AgreementTermsJson; source: FullTerms["source"] }
  | { readable: false; reason: string };

export interface VersionView {
  version: number;
  proposer: Hex;
  status: VersionStatusName;
  proposedAt: bigint;
  /** 0 unless accepted. */
  acceptedAt: bigint;
  publicTerms: PublicTermsView;
  token: Token;
  /** The full terms, only for a party reading with its key store. */
  full: FullTermsView;
}

export interface AgreementView {
  self: Hex;
  partner: Hex;
  /** Chain time the view was read at. */
  now: bigint;
  /** The versions asked for, ascending. */
  versions: VersionView[];
  /** Number of versions proposed so far. */
  versionCount: number;
  /** The pending proposal, 0 when none. */
  pending: number;
  /** The version in force now (per the contract's rule), 0 when none. */
  inForce: number;
}

export interface ReadVersionOptions {
  self: Hex;
  partner: Hex;
  version: number;
  /** `self`'s key store: with it, the full terms are read too (./fullTerms); without, the public part only. */
  keystore?: Keystore;
  /** Tokens read so far, by address (a view of several versions reads each token once). */
  tokens?: Map<string, Promise<Token>>;
}

/** Errors that mean "this key store cannot read these terms", shown as the reason rather than thrown. */
const UNREADABLE = [ConfigError, CryptoError, MismatchError, InputError, InputErrors];

/** The full terms of a version for `self`'s key store, or why it cannot read them. */
async function fullTermsView(client: RoamLedgerClient, options: ReadVersionOptions & { decimals: number }): Promise<FullTermsView> {
  const { keystore, self, partner, version, decimals } = options;
  if (!keystore) return { readable: false, reason: "no key store was given" };
  try {
    const { terms, source } = await agreementTerms(client, { keystore, self, partner, version });
    return { readable: true, terms: formatTerms(terms, decimals), source };
  } catch (err) {
    if (!UNREADABLE.some((kind) => err instanceof kind)) throw err;
    return { readable: false, reason: (err as BaseError).shortMessage };
  }
}

/** Each party's priced classes of a version's public part, lower PLMN id first. */
function pricedClassesView(self: Hex, partner: Hex, terms: PricedClasses): PublicTermsView["pricedClasses"] {
  const [lo, hi] = BigInt(self) < BigInt(partner) ? [self, partner] : [partner, self];
  return [
    { visited: lo, classes: classList(BigInt(terms.pricedClassesLo)) },
    { visited: hi, classes: classList(BigInt(terms.pricedClassesHi)) },
  ];
}

/**
 * One version of the agreement between `self` and `partner`: its public part for anyone, its full terms in
 * human units when `keystore` is `self`'s and `self` is a party (decoded revert if the version is unknown).
 */
export async function readVersion(client: RoamLedgerClient, options: ReadVersionOptions): Promise<VersionView> {
  const { self, partner, version, tokens = new Map<string, Promise<Token>>() } = options;
  const v = await withDecodedRevert(() => client.agreements.getVersion(self, partner, version));
  const address = v.terms.settlementToken;
  const reading = tokens.get(address) ?? tokenInfo(address, client.runner);
  tokens.set(address, reading);
  const token = await reading;
  return {
    version,
    proposer: v.proposer as Hex,
    status: VERSION_STATUSES[Number(v.status)],
    proposedAt: v.proposedAt,
    acceptedAt: v.acceptedAt,
    publicTerms: {
      settlementToken: v.terms.settlementToken,
      validFrom: isoTime(v.terms.validFrom),
      validUntil: isoTime(v.terms.validUntil),
      disputeWindowDays: Number(v.terms.disputeWindow) / DAY,
      termsCommitment: v.terms.termsCommitment.toLowerCase() as Hex,
      pricedClasses: pricedClassesView(self, partner, v.terms),
    },
    token,
    full: await fullTermsView(client, { ...options, decimals: token.decimals }),
  };
}

/** The version in force between `a` and `b` at `time`, asked of the contract; 0 when none. */
async function versionInForce(client: RoamLedgerClient, a: Hex, b: Hex, time: bigint): Promise<number> {
  try {
    const [, version] = await withDecodedRevert(() => client.agreements.termsAt(a, b, time));
    return Number(version);
  } catch (err) {
    if (err instanceof ContractRevertError && err.errorName === "RoamingAgreementsNoAgreementAt") return 0;
    throw err;
  }
}

export interface ReadAgreementOptions {
  self: Hex;
  partner: Hex;
  /** Only this version (default: all of them). */
  version?: number;
  /** `self`'s key store, to read the full terms too. */
  keystore?: Keystore;
}

/** The agreement between `self` and `partner`: one version, or all of them (see readVersion); which is in force now. */
export async function readAgreement(
  client: RoamLedgerClient,
  { self, partner, version, keystore }: ReadAgreementOptions,
): Promise<AgreementView> {
  const [count, pending, now] = await Promise.all([
    client.agreements.versionCount(self, partner),
    client.agreements.pendingVersion(self, partner),
    chainTime(client.runner),
  ]);
  const numbers = version === undefined ? Array.from({ length: Number(count) }, (_, i) => i + 1) : [version];
  const tokens = new Map<string, Promise<Token>>();
  const versions: VersionView[] = [];
  for (const n of numbers) versions.push(await readVersion(client, { self, partner, version: n, keystore, tokens }));
  return {
    self,
    partner,
    now,
    versions,
    versionCount: Number(count),
    pending: Number(pending),
    inForce: await versionInForce(client, self, partner, now),
  };
}

// ---------------------------------------------------------------------------------------------------
// Describing agreements to a person
// ---------------------------------------------------------------------------------------------------

/** Rows of cells as left-aligned columns. */
function columns(rows: readonly string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]))
      .join("  ")
      .trimEnd(),
  );
}

/** A PLMN id as text, marked when it is `self`. */
function party(plmn: string, self: Hex): string {
  return `${formatPlmn(plmn)}${plmn === self ? " (you)" : ""}`;
}

/** Lines of full terms: permanent roaming, SLA and the rate table. */
function describeFullTerms(t: AgreementTermsJson, token: Token, self: Hex): string[] {
  const unit = token.symbol || "token units";
  const pr = t.permanentRoaming;
  const lines = [
    `  permanent roaming: ${pr ? `after ${pr.days} days, ${pr.surchargePerDay} ${unit} per device-day` : "no limit"}`,
    `  SLA: latency <= ${t.sla.maxLatencyMs || "-"} ms, throughput >= ${t.sla.minThroughputKbps || "-"} kbit/s, ` +
      `availability >= ${t.sla.minAvailabilityPercent || "-"} %; credits ${t.sla.latencyCreditPercent} % / ` +
      `${t.sla.throughputCreditPercent} % / ${t.sla.availabilityCreditPercent} % (latency / throughput / availability)`,
    `  rates in ${unit}:`,
  ];
  const header = ["visited", "class", "per MB", "per signalling", "per SMS", "per voice min", "per device-month", "volume tiers"];
  const rows = t.rates.map((p) => [
    party(parsePlmn(p.visited), self),
    String(p.tariffClass),
    p.perMb,
    p.perSignallingEvent,
    p.perSms,
    p.perVoiceMinute,
    p.monthlyFeePerDevice,
    p.tiers.map((tier) => `>${tier.fromMb} MB -${tier.discountPercent} %`).join(", ") || "-",
  ]);
  return [...lines, ...columns([header, ...rows]).map((line) => `    ${line}`)];
}

const SOURCES: Record<FullTerms["source"], string> = {
  local: "from your key store",
  chain: "opened from the chain with the pair's key, now copied to your key store",
};

/**
 * Lines describing one version: status, who and when, the public part (validity, token, dispute window,
 * commitment), then the full terms (SLA, rate table) when the reader is a party, or why they are not shown.
 */
export function describeVersion(v: VersionView, self: Hex, inForce = false): string[] {
  const p = v.publicTerms;
  const lines = [
    `version ${v.version}: ${v.status}${inForce ? ", in force now" : ""}`,
    `  proposed by ${party(v.proposer, self)} at ${isoTime(v.proposedAt)}${v.acceptedAt ? `; accepted at ${isoTime(v.acceptedAt)}` : ""}`,
    `  valid ${p.validFrom} .. ${p.validUntil} (end exclusive)`,
    `  settlement token ${p.settlementToken} (${v.token.symbol || "no symbol"}, ${v.token.decimals} decimals); ` +
      `dispute window ${p.disputeWindowDays} day(s)`,
    `  terms commitment ${p.termsCommitment}`,
    `  tariff classes priced (public): ${p.pricedClasses.map((c) => `by ${party(c.visited, self)} as visited: ${c.classes}`).join("; ")}`,
  ];
  if (!v.full.readable) {
    return [...lines, `  full terms (rates, tiers, SLA): sealed for the two parties, not shown (${v.full.reason})`];
  }
  return [...lines, `  full terms (${SOURCES[v.full.source]}):`, ...describeFullTerms(v.full.terms, v.token, self)];
}

/** Lines describing an agreement view: a heading, each version, and which one is in force now. */
export function describeAgreement(view: AgreementView): string[] {
  const pair = `${party(view.self, view.self)} and ${formatPlmn(view.partner)}`;
  if (view.versionCount === 0) return [`No agreement has been proposed between ${pair}.`];
  const lines = [`Agreement between ${pair}: ${view.versionCount} version(s), chain time ${isoTime(view.now)}`];
  for (const v of view.versions) lines.push(...describeVersion(v, view.self, v.version === view.inForce));
  lines.push(
    view.inForce ? `In force now: version ${view.inForce}.` : "No version is in force now.",
    view.pending ? `Pending proposal: version ${view.pending}.` : "No proposal is pending.",
  );
  return lines;
}
