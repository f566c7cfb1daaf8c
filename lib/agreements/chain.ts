/**
 * Roaming agreements on the chain: proposing a terms file, accepting, reading versions back in token units
 * and describing them to a person.
 */
import type { ContractRunner } from "ethers";
import { IERC20Metadata__factory } from "../../typechain-types";
import type { Token } from "../core/amount";
import { ConfigError, ContractRevertError, InputError, type InputLocation } from "../core/errors";
import { formatTerms, isoTime, readAgreementTerms, readSettlementToken, type AgreementTermsJson, type TermsStruct } from "./terms";
import { formatPlmn, parsePlmn } from "../core/plmn";
import { withDecodedRevert } from "../chain/revert";
import { sendAndWait } from "../chain/send";
import type { Hex } from "../util/hex";
import type { RoamLedgerClient } from "../chain/client";
import { VERSION_STATUSES, type VersionStatusName } from "../core/enums";

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
}

export interface ProposeOptions {
  /** The proposer: the signer's carrier. */
  self: Hex;
  partner: Hex;
  /** The terms file (JSON, amounts in token units). */
  file: string;
}

/**
 * Proposes the terms of `file` to `partner` on behalf of `self` (the signer's carrier): the initial
 * agreement or an amendment. The file is read and checked in full, amounts converted with the token's
 * decimals, before the transaction is sent. Reverts are decoded.
 */
export async function proposeAgreement(client: RoamLedgerClient, { self, partner, file }: ProposeOptions): Promise<ProposeResult> {
  if (self === partner) {
    throw new InputError(`${formatPlmn(partner)} is your own carrier`, {
      location: { param: "partner" },
      hint: "name the roaming partner.",
    });
  }
  const { token, location } = readSettlementToken(file);
  const info = await tokenInfo(token, client.runner, location);
  const terms = readAgreementTerms(file, { self, partner, decimals: info.decimals, now: await chainTime(client.runner) });
  const receipt = await sendAndWait(() => client.agreements.propose(partner, terms));
  const event = receipt.logs.map((log) => client.agreements.interface.parseLog(log)).find((parsed) => parsed?.name === "AgreementProposed");
  if (!event)
    throw new ConfigError("propose succeeded without an AgreementProposed event", { hint: "check the RoamingAgreements address." });
  return { version: Number(event.args.version), terms, token: info, txHash: receipt.hash };
}

/** Accepts the pending `version` that `partner` proposed; returns the transaction hash. */
export async function acceptAgreement(client: RoamLedgerClient, partner: Hex, version: number): Promise<string> {
  return (await sendAndWait(() => client.agreements.accept(partner, version))).hash;
}

export interface VersionView {
  version: number;
  proposer: Hex;
  status: VersionStatusName;
  proposedAt: bigint;
  /** 0 unless accepted. */
  acceptedAt: bigint;
  terms: AgreementTermsJson;
  token: Token;
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
  /** Tokens read so far, by address (a view of several versions reads each token once). */
  tokens?: Map<string, Promise<Token>>;
}

/** One version of the agreement between `self` and `partner`, terms in human units (decoded revert if unknown). */
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
    terms: formatTerms(v.terms, token.decimals),
    token,
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
}

/** The agreement between `self` and `partner`: one version, or all of them; which is in force now. */
export async function readAgreement(client: RoamLedgerClient, { self, partner, version }: ReadAgreementOptions): Promise<AgreementView> {
  const [count, pending, now] = await Promise.all([
    client.agreements.versionCount(self, partner),
    client.agreements.pendingVersion(self, partner),
    chainTime(client.runner),
  ]);
  const numbers = version === undefined ? Array.from({ length: Number(count) }, (_, i) => i + 1) : [version];
  const tokens = new Map<string, Promise<Token>>();
  const versions: VersionView[] = [];
  for (const n of numbers) versions.push(await readVersion(client, { self, partner, version: n, tokens }));
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

/** Lines describing one version: status, who and when, validity, token, SLA and the rate table. */
export function describeVersion(v: VersionView, self: Hex, inForce = false): string[] {
  const t = v.terms;
  const unit = v.token.symbol || "token units";
  const pr = t.permanentRoaming;
  const lines = [
    `version ${v.version}: ${v.status}${inForce ? ", in force now" : ""}`,
    `  proposed by ${party(v.proposer, self)} at ${isoTime(v.proposedAt)}${v.acceptedAt ? `; accepted at ${isoTime(v.acceptedAt)}` : ""}`,
    `  valid ${t.validFrom} .. ${t.validUntil} (end exclusive)`,
    `  settlement token ${t.settlementToken} (${v.token.symbol || "no symbol"}, ${v.token.decimals} decimals); ` +
      `dispute window ${t.disputeWindowDays} day(s)`,
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
