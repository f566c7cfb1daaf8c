/**
 * The names of the ledger's reason codes, one place for every output (watch, invoice, report, usage:verify):
 * a dispute's `reason` of `UsageRecordDisputed` and a rejection's of `UsageBatchRejected`. The code alone
 * ("reason 2") says nothing to a billing team; the name says what the home carrier found.
 */
import { REJECT_REASONS } from "./verify/content";
import { DISPUTE_REASONS, type DisputeReason } from "./verify/disputes";

/** What each dispute reason means, in words. */
export const DISPUTE_REASON_TEXT: Record<DisputeReason, string> = {
  NOT_IN_HOME_RECORDS: "no record with this id in the home carrier's own records",
  VOLUME_MISMATCH: "the home carrier's record of this id has another volume",
  DEVICE_MISMATCH: "the home carrier's record of this id is of another device or service",
  NOT_OUR_DEVICE: "the device is not registered to the home carrier",
};

const nameIn = (table: Record<string, number>, code: number): string | undefined => Object.entries(table).find(([, v]) => v === code)?.[0];

/** The name of a dispute reason code ("VOLUME_MISMATCH"), or "unknown reason 9" for a code no release defines. */
export function disputeReasonName(code: number): string {
  return nameIn(DISPUTE_REASONS, code) ?? `unknown reason ${code}`;
}

/** A dispute reason code with what it means: "VOLUME_MISMATCH (the home carrier's record ... another volume)". */
export function disputeReasonText(code: number): string {
  const name = nameIn(DISPUTE_REASONS, code) as DisputeReason | undefined;
  return name ? `${name} (${DISPUTE_REASON_TEXT[name]})` : `unknown reason ${code}`;
}

/** The name of a batch rejection code ("TOTALS_MISMATCH"), or "unknown reason 9". */
export function rejectReasonName(code: number): string {
  return nameIn(REJECT_REASONS, code) ?? `unknown reason ${code}`;
}
