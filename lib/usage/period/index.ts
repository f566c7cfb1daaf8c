export { type PeriodKey, submittedBatches } from "./batches";
export { type CloseReport, closePeriod, type ExpireReport, expireBatches } from "./close";
export { type CountedBatchContent, type CountedPeriod, countedPeriod, type DisputedRecord } from "./counted";
