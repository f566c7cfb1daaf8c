/**
 * A party's own copy of an agreement version's full terms and their commitment's salt, in its key store:
 *   <key store>/<self, e.g. 262-01>/agreements/<partner>/v<version>.json
 * Both parties write it (the proposer when it proposes, the counterparty when it has opened and checked the
 * sealed terms), so the terms stay readable after either side rotates its encryption key, when the pair's
 * key no longer opens the `AgreementTermsSealed` event. Never in the repository: it is as secret as the keys
 * beside it. A copy is only trusted when it opens the version's on-chain commitment (see ./fullTerms).
 */
import fs from "node:fs";
import path from "node:path";
import { getAddress } from "ethers";
import { ConfigError } from "../core/errors";
import { formatPlmn, parsePlmn } from "../core/plmn";
import { checkSalt, termsCommitment } from "../crypto/commitment";
import type { Keystore } from "../keys/keystore";
import { writeFileAtomic } from "../util/fsAtomic";
import type { Hex } from "../util/hex";
import type { RatePlanStruct, TermsStruct } from "./terms";

/** What the file says it is; a reader refuses any other format or version. */
export const LOCAL_TERMS_FORMAT = "roamledger/agreement-terms";
export const LOCAL_TERMS_VERSION = 1;

/** One version of the agreement between `self` (whose key store it is) and `partner`. */
export interface LocalTermsKey {
  self: Hex;
  partner: Hex;
  version: number;
}

/** The full terms of a version with the salt of their commitment. */
export interface OpenedTerms {
  terms: TermsStruct;
  salt: Hex;
}

/** Where the copy of (self, partner, version) lives in `keystore`. */
export function localTermsPath(keystore: Keystore, { self, partner, version }: LocalTermsKey): string {
  return path.join(keystore.root, formatPlmn(self), "agreements", formatPlmn(partner), `v${version}.json`);
}

/** JSON of terms with every integer that may exceed 2^53 as a decimal string and PLMN ids as MCC-MNC. */
function termsToJson(terms: TermsStruct): unknown {
  const readable = { ...terms, ratePlans: terms.ratePlans.map((p) => ({ ...p, visited: formatPlmn(p.visited) })) };
  return JSON.parse(JSON.stringify(readable, (_key, value) => (typeof value === "bigint" ? value.toString() : value)));
}

type Json = Record<string, unknown>;

const big = (value: unknown): bigint => BigInt(value as string);
const num = (value: unknown): number => Number(value);

function planFromJson(p: Json): RatePlanStruct {
  return {
    visited: parsePlmn(String(p.visited)),
    tariffClass: num(p.tariffClass),
    perMb: big(p.perMb),
    perSignallingEvent: big(p.perSignallingEvent),
    perSms: big(p.perSms),
    perVoiceMinute: big(p.perVoiceMinute),
    monthlyFeePerDevice: big(p.monthlyFeePerDevice),
    tiers: (p.tiers as Json[]).map((t) => ({ fromMb: big(t.fromMb), discountBps: num(t.discountBps) })),
  };
}

/** The terms of {@link termsToJson}, back in the library's struct shape (throws on a malformed file). */
function termsFromJson(t: Json): TermsStruct {
  const sla = t.sla as Json;
  return {
    settlementToken: getAddress(String(t.settlementToken)),
    validFrom: big(t.validFrom),
    validUntil: big(t.validUntil),
    disputeWindow: num(t.disputeWindow),
    permanentRoamingDays: num(t.permanentRoamingDays),
    permanentRoamingSurchargePerDay: big(t.permanentRoamingSurchargePerDay),
    sla: {
      maxLatencyMs: num(sla.maxLatencyMs),
      minThroughputKbps: num(sla.minThroughputKbps),
      minAvailabilityBps: num(sla.minAvailabilityBps),
      latencyCreditBps: num(sla.latencyCreditBps),
      throughputCreditBps: num(sla.throughputCreditBps),
      availabilityCreditBps: num(sla.availabilityCreditBps),
    },
    ratePlans: (t.ratePlans as Json[]).map(planFromJson),
  };
}

/** Writes (or replaces) the copy of a version's terms, atomically and readable by its owner only. */
export function saveLocalTerms(keystore: Keystore, key: LocalTermsKey, { terms, salt }: OpenedTerms): string {
  checkSalt(salt);
  const file = localTermsPath(keystore, key);
  const content = {
    format: LOCAL_TERMS_FORMAT,
    formatVersion: LOCAL_TERMS_VERSION,
    self: formatPlmn(key.self),
    partner: formatPlmn(key.partner),
    agreementVersion: key.version,
    termsCommitment: termsCommitment(terms, salt),
    salt,
    terms: termsToJson(terms),
  };
  writeFileAtomic(file, `${JSON.stringify(content, null, 2)}\n`);
  return file;
}

/** ConfigError for a copy that cannot be used, naming the file. */
function badCopy(file: string, problem: string, cause?: unknown): ConfigError {
  return new ConfigError(`${file}: ${problem}`, {
    hint: "restore the file from your backup, or delete it: the terms are then opened again from the chain while your registered key still opens them.",
    cause,
  });
}

/**
 * The copy of a version's terms, undefined when there is none. ConfigError when the file is not this
 * format, names another pair or version, or its terms and salt do not give the commitment it records.
 */
export function loadLocalTerms(keystore: Keystore, key: LocalTermsKey): (OpenedTerms & { termsCommitment: Hex }) | undefined {
  const file = localTermsPath(keystore, key);
  if (!fs.existsSync(file)) return undefined;
  let parsed: Json;
  let opened: OpenedTerms;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Json;
    opened = { terms: termsFromJson(parsed.terms as Json), salt: String(parsed.salt).toLowerCase() as Hex };
    checkSalt(opened.salt);
  } catch (cause) {
    throw badCopy(file, "not a readable copy of agreement terms", cause);
  }
  const expected = { format: LOCAL_TERMS_FORMAT, formatVersion: LOCAL_TERMS_VERSION, self: formatPlmn(key.self) };
  const names = { ...expected, partner: formatPlmn(key.partner), agreementVersion: key.version };
  for (const [field, value] of Object.entries(names)) {
    if (parsed[field] !== value) throw badCopy(file, `${field} is ${JSON.stringify(parsed[field])}, expected ${JSON.stringify(value)}`);
  }
  const commitment = termsCommitment(opened.terms, opened.salt);
  if (commitment !== String(parsed.termsCommitment).toLowerCase())
    throw badCopy(file, "its terms and salt do not give the commitment it records");
  return { ...opened, termsCommitment: commitment };
}
