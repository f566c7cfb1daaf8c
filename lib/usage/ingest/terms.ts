import { getBytes, solidityPackedKeccak256 } from "ethers";
import { openTerms } from "../../agreements/sealed";
import { ConfigError } from "../../core/errors";
import { formatPlmn } from "../../core/plmn";
import { periodBounds } from "../../core/period";
import { withDecodedRevert } from "../../chain/revert";
import type { Hex } from "../../util/hex";
import type { IngestOptions } from "./types";

/** `AgreementTermsLib.key(a, b)`: keccak256 of the two PLMN ids packed, lower first. */
export function agreementKey(a: Hex, b: Hex): Hex {
  const [lo, hi] = BigInt(a) < BigInt(b) ? [a, b] : [b, a];
  return solidityPackedKeccak256(["bytes3", "bytes3"], [lo, hi]) as Hex;
}

/** One accepted version's window and the tariff classes the visited carrier prices in it (bit c: class c). */
export interface PricedWindow {
  version: number;
  validFrom: number;
  validUntil: number;
  classes: bigint;
  /** `classes` as one byte per class (1: priced), for the per-record check. */
  priced: Uint8Array;
}

/**
 * The tariff classes `visited` prices for `home`'s devices in each accepted version of their agreement, oldest
 * first: the public sets of each version (`PublicTerms.pricedClassesLo` / `Hi`), read once per run.
 */
export async function agreementPricing(opts: Pick<IngestOptions, "client" | "home" | "visited">): Promise<PricedWindow[]> {
  const { client, home, visited } = opts;
  const versions = await withDecodedRevert(() => client.agreements.acceptedVersions(home, visited));
  const visitedIsLo = BigInt(visited) < BigInt(home);
  const windows: PricedWindow[] = [];
  for (const v of versions) {
    const { terms } = await withDecodedRevert(() => client.agreements.getVersion(home, visited, v));
    const classes = BigInt(visitedIsLo ? terms.pricedClassesLo : terms.pricedClassesHi);
    const priced = new Uint8Array(256);
    for (let c = 0; c < 256; c++) priced[c] = Number((classes >> BigInt(c)) & 1n);
    windows.push({ version: Number(v), validFrom: Number(terms.validFrom), validUntil: Number(terms.validUntil), classes, priced });
  }
  return windows;
}

/**
 * Whether a version in force at `time` prices `tariffClass`: the contracts' lookup rule (the newest accepted
 * version whose validFrom <= time, if time < its validUntil), as `RoamingAgreements.pricedClassesAt`.
 */
export function pricedAt(windows: readonly PricedWindow[], time: number, tariffClass: number): boolean {
  for (let i = windows.length - 1; i >= 0; i--) {
    const w = windows[i];
    if (w.validFrom <= time) return time < w.validUntil && w.priced[tariffClass] === 1;
  }
  return false;
}

/**
 * The agreement's permanent-roaming limit in days, as of the period's start (or now, before it starts),
 * from the sealed terms of the version in force ({@link openTermsInForce}).
 */
export async function agreementRoamingDays(opts: IngestOptions, now: bigint): Promise<number> {
  const { client, home, visited } = opts;
  if (!(await client.agreements.hasActiveAgreement(home, visited, now))) {
    throw new ConfigError(`${formatPlmn(visited)} and ${formatPlmn(home)} have no roaming agreement in force`, {
      hint: "propose one and have the partner accept it before billing usage.",
    });
  }
  return Number((await openTermsInForce(opts, now)).permanentRoamingDays);
}

/**
 * The full terms of the agreement version in force at the period's start (or now, before it starts). The
 * chain keeps only the public part of the terms, so they come from the version's sealed terms (its
 * `AgreementTermsSealed` event), opened with the pair's key and checked against the version's commitment.
 * Chain time, not this machine's clock: the version in force is the one the contracts see.
 */
export async function openTermsInForce(
  opts: Pick<IngestOptions, "client" | "home" | "visited" | "period" | "pairKey" | "chainId">,
  now: bigint,
): Promise<ReturnType<typeof openTerms>["terms"]> {
  const { client, home, visited } = opts;
  const agreements = client.agreements;
  const [start] = periodBounds(opts.period);
  const at = BigInt(start) > now ? now : BigInt(start);
  const [publicTerms, version] = await withDecodedRevert(() => agreements.termsAt(home, visited, at)).catch(() =>
    agreements.termsAt(home, visited, now),
  );
  const { proposer } = await agreements.getVersion(home, visited, version);
  const logs = await agreements.queryFilter(agreements.filters.AgreementTermsSealed(agreementKey(home, visited), version));
  if (logs.length === 0) {
    throw new ConfigError(`no sealed terms of version ${version} of ${formatPlmn(visited)}-${formatPlmn(home)} on this chain`, {
      hint: "the node does not serve the agreement's old logs: connect to a node with the full history.",
    });
  }
  const proposerHex = proposer.toLowerCase() as Hex;
  const { terms } = openTerms({
    key: opts.pairKey,
    context: {
      chainId: opts.chainId,
      agreements: await agreements.getAddress(),
      proposer: proposerHex,
      counterparty: proposerHex === home ? visited : home,
    },
    sealed: getBytes(logs[0].args.sealedTerms),
    publicTerms,
  });
  return terms;
}
