/**
 * The salted commitments that stand on chain for what only the two carriers of a pair may see, word for word
 * as contracts/libraries/CommitmentLib.sol computes them: keccak256(abi.encode(tag, salt,
 * keccak256(abi.encode(value)))). The tag separates the kinds; the 256-bit salt is secret and travels only
 * sealed to the counterparty, so no value can be found by hashing candidates.
 */
import { randomBytes } from "node:crypto";
import { AbiCoder, keccak256, type Result, toUtf8Bytes } from "ethers";
import type { TermsLike } from "../agreements/terms";
import { InputError } from "../core/errors";
import type { ClassTotals } from "../usage/types";
import { bytesToHex, type Hex, isHex } from "../util/hex";

/** Bytes of a commitment salt. */
export const SALT_BYTES = 32;

/** `CommitmentLib.TERMS_TAG`: keccak256("RoamLedger.TermsCommitment.v1"). */
export const TERMS_TAG = keccak256(toUtf8Bytes("RoamLedger.TermsCommitment.v1")) as Hex;
/** `CommitmentLib.BATCH_TOTALS_TAG`: keccak256("RoamLedger.BatchTotalsCommitment.v1"). */
export const BATCH_TOTALS_TAG = keccak256(toUtf8Bytes("RoamLedger.BatchTotalsCommitment.v1")) as Hex;
/** `CommitmentLib.PERIOD_TOTALS_TAG`: keccak256("RoamLedger.PeriodTotalsCommitment.v1"). */
export const PERIOD_TOTALS_TAG = keccak256(toUtf8Bytes("RoamLedger.PeriodTotalsCommitment.v1")) as Hex;

/** ABI type of `IRoamingAgreements.Tier`. */
const TIER_TUPLE = "tuple(uint64 fromMb, uint16 discountBps)";
/** ABI type of `IRoamingAgreements.SlaTerms`. */
const SLA_TUPLE =
  "tuple(uint32 maxLatencyMs, uint32 minThroughputKbps, uint16 minAvailabilityBps, uint16 latencyCreditBps, " +
  "uint16 throughputCreditBps, uint16 availabilityCreditBps)";
/** ABI type of `IRoamingAgreements.RatePlan` (PlmnId is bytes3). */
const RATE_PLAN_TUPLE =
  "tuple(bytes3 visited, uint8 tariffClass, uint128 perMb, uint128 perSignallingEvent, uint128 perSms, " +
  `uint128 perVoiceMinute, uint128 monthlyFeePerDevice, ${TIER_TUPLE}[] tiers)`;

/**
 * ABI type of `IRoamingAgreements.Terms`, field for field: ethers encodes a {@link TermsLike} (the struct
 * `readAgreementTerms` returns, or terms read back) with it by field name.
 */
export const TERMS_TUPLE_TYPE =
  "tuple(address settlementToken, uint40 validFrom, uint40 validUntil, uint32 disputeWindow, " +
  `uint16 permanentRoamingDays, uint128 permanentRoamingSurchargePerDay, ${SLA_TUPLE} sla, ${RATE_PLAN_TUPLE}[] ratePlans)`;

/** ABI type of `ClassTotals` (contracts/types/UsageTypes.sol), field for field. */
export const CLASS_TOTALS_TUPLE_TYPE =
  "tuple(uint8 tariffClass, uint32 records, uint32 activeDevices, uint32 roamerDays, uint64 dataBytes, " +
  "uint64 signallingEvents, uint64 smsCount, uint64 voiceSeconds, uint32 qosSamples, uint64 latencyMsSum, uint64 throughputKbpsSum)";

const abi = AbiCoder.defaultAbiCoder();

/** `ClassTotals[]` as decoded with {@link CLASS_TOTALS_TUPLE_TYPE} (every integer a bigint) in the library's shape. */
export function totalsFromAbi(decoded: readonly Result[]): ClassTotals[] {
  return decoded.map((t) => ({
    tariffClass: Number(t.tariffClass),
    records: Number(t.records),
    activeDevices: Number(t.activeDevices),
    roamerDays: Number(t.roamerDays),
    dataBytes: t.dataBytes,
    signallingEvents: t.signallingEvents,
    smsCount: t.smsCount,
    voiceSeconds: t.voiceSeconds,
    qosSamples: Number(t.qosSamples),
    latencyMsSum: t.latencyMsSum,
    throughputKbpsSum: t.throughputKbpsSum,
  }));
}

/** A fresh 256-bit secret salt (node's CSPRNG), as 0x hex. */
export function randomSalt(): Hex {
  return bytesToHex(randomBytes(SALT_BYTES));
}

/** InputError unless `salt` is 32 bytes of lowercase 0x hex. */
export function checkSalt(salt: string, param = "salt"): asserts salt is Hex {
  if (!isHex(salt, SALT_BYTES)) {
    throw new InputError(`a commitment salt must be ${SALT_BYTES} bytes of lowercase 0x hex`, {
      location: { param },
      hint: "use randomSalt(), or the salt that came sealed with the data.",
    });
  }
}

/** keccak256(abi.encode(tag, salt, inner)): the outer word every commitment shares. */
function commit(tag: Hex, salt: string, inner: string): Hex {
  checkSalt(salt);
  return keccak256(abi.encode(["bytes32", "bytes32", "bytes32"], [tag, salt, inner])) as Hex;
}

/** abi.encode(terms) of the Solidity `Terms` struct: what the terms commitment hashes and sealed terms carry. */
export function encodeTerms(terms: TermsLike): Hex {
  return abi.encode([TERMS_TUPLE_TYPE], [terms]) as Hex;
}

/** `CommitmentLib.terms(terms, salt)`: the commitment to an agreement version's full terms. */
export function termsCommitment(terms: TermsLike, salt: Hex): Hex {
  return commit(TERMS_TAG, salt, keccak256(encodeTerms(terms)));
}

/** A batch's billable totals and record count, with the salt of their commitment. */
export interface BatchTotalsOpening {
  /** Records in the batch (billable or not). */
  recordCount: number;
  /** Billable totals, classes strictly ascending. */
  totals: readonly ClassTotals[];
  salt: Hex;
}

/** `CommitmentLib.batchTotals(recordCount, totals, salt)`: what a batch header's `totalsCommitment` is. */
export function batchTotalsCommitment({ recordCount, totals, salt }: BatchTotalsOpening): Hex {
  return commit(BATCH_TOTALS_TAG, salt, keccak256(abi.encode(["uint32", `${CLASS_TOTALS_TUPLE_TYPE}[]`], [recordCount, totals])));
}

/** `CommitmentLib.periodTotals(totals, salt)`: what an invoice's `totalsCommitment` is. */
export function periodTotalsCommitment(totals: readonly ClassTotals[], salt: Hex): Hex {
  return commit(PERIOD_TOTALS_TAG, salt, keccak256(abi.encode([`${CLASS_TOTALS_TUPLE_TYPE}[]`], [totals])));
}
