/**
 * Record ids of usage records mapped from TAP call events (issue 17, shared by the TAP reader, the TAP
 * writer and the RAP writer): `TAP-<sender TADIG>-<FileSequenceNumber, 5 digits>-<position>`, the position
 * being the 1-based index of the call event in the CallEventDetailList. Stable, so a file imported twice
 * gives the same ids (the ingest then adds nothing). At most 4 + 5 + 1 + 5 + 1 + 10 = 26 bytes (< 32).
 */

const TAP_RECORD_ID_RE = /^TAP-([A-Z]{3}[A-Z0-9]{2})-(\d{5})-([1-9]\d{0,9})$/;

/** The record id of the call event at `position` (1-based) of file `fsn` (5 digits, e.g. "00042") from `sender`. */
export function tapRecordId(sender: string, fsn: string, position: number): string {
  return `TAP-${sender}-${fsn}-${position}`;
}

/** The parts of a TAP record id, or undefined when `id` is not one. */
export function parseTapRecordId(id: string): { sender: string; fsn: string; position: number } | undefined {
  const m = TAP_RECORD_ID_RE.exec(id);
  return m ? { sender: m[1], fsn: m[2], position: Number(m[3]) } : undefined;
}
