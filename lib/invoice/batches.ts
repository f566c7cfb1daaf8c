/** The period's batches as the invoice names them: "B1", "B2", ... in ascending id order. */
import { isoTime } from "../agreements/terms";
import type { BatchEvidence, BatchRef, InvoiceModel } from "./types";

/** A batch of the period with its short reference in the document. */
export type NumberedBatch = BatchEvidence & { ref: string };

export function numberBatches(batches: readonly BatchEvidence[]): NumberedBatch[] {
  return batches.map((b, i) => ({ ...b, ref: `B${i + 1}` }));
}

/** The evidence appendix's list of batches. */
export function batchRefs(batches: readonly NumberedBatch[]): BatchRef[] {
  return batches.map((b) => ({
    ref: b.ref,
    batchId: b.batchId,
    state: b.state,
    submittedAt: isoTime(b.submittedAt),
    submitTx: b.submitTx,
    recordCount: b.recordCount,
    acceptTx: b.acceptTx,
    rejectTx: b.rejectTx,
  }));
}

/** The batches the home carrier rejected: they count for nothing. */
export function rejectedBatches(batches: readonly NumberedBatch[]): InvoiceModel["rejectedBatches"] {
  return batches
    .filter((b) => b.state === "rejected")
    .map((b) => ({
      ref: b.ref,
      batchId: b.batchId,
      recordCount: b.recordCount,
      reason: b.rejectReason?.name ?? "unknown",
      rejectTx: b.rejectTx,
      submitTx: b.submitTx,
      totals: b.totals,
    }));
}
