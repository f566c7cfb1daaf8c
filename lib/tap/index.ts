// TAP 3.12 in, RAP 1.5 out (docs/tap.md): what a carrier backend calls, from the package root.
export { TapFile, TapVersionError, auditCheck, TAP_MAX_DEPTH } from "./tap312";
export type { TapHeader, TapSummary, TapAuditCheck, TapAuditControlInfo, TapAccounting, TapExchangeRate } from "./tap312";
export type { TapCallEvent, TapCharge, TapTax, TapDiscount, CallEventKind } from "./callEvent";
export { BerError } from "./ber";
export { TapMapper, tadigPartyCheck } from "./map";
export type { TapChunk, TapMapOptions, TapRecordCharges } from "./map";
export { convertTap, usageCsvLine } from "./convert";
export type { TapConversion, TapConvertOptions, ServiceTotals } from "./convert";
export { TapBatchEncoder, writeTapFile, DEFAULT_TAP_RATES } from "./fromUsage";
export type { TapWriterOptions, TapWriteSummary, TapRates } from "./fromUsage";
export { readRap } from "./rap";
export type { RapReturnBatch, RapAcknowledgement, RapReturn } from "./rap";
export { writeReturnBatch } from "./rapEncode";
export type { RapWriteInput, RapWriteResult } from "./rapEncode";
export { TapSequenceLog } from "./sequenceLog";
export { tapRecordId, parseTapRecordId } from "./recordIds";
export { TapFileRefused, TAP_FATAL_CODES, isTapFatalCode, type TapFatalCode } from "./refusal";
export { isTapFile } from "./sniff";
