import { type ParsedRecord, SERVICE_DATA, SERVICE_SMS, SERVICE_VOICE } from "../types";
import { RAT_NB_IOT, USAGE_LIMITS } from "./fields";

/** What a record counts and how it was carried: what the rules below judge (docs/usage-records.md). */
export type RecordQuantities = Pick<
  ParsedRecord,
  "service" | "rat" | "duration" | "bytesUp" | "bytesDown" | "events" | "latencyMs" | "throughputKbps"
>;

/** Which quantity is beyond what one call event can be (USAGE_LIMITS), or undefined. */
export function absurdVolume(q: RecordQuantities): string | undefined {
  const bytes = q.bytesUp + q.bytesDown;
  if (bytes > USAGE_LIMITS.maxBytes) {
    return `dataVolumeOutgoing + dataVolumeIncoming is ${bytes} bytes, more than ${USAGE_LIMITS.maxBytes} in one record`;
  }
  if (q.duration > USAGE_LIMITS.maxDuration) return `totalCallEventDuration is ${q.duration} s, more than 31 days`;
  if (q.events > USAGE_LIMITS.maxEvents) return `eventCount is ${q.events}, more than ${USAGE_LIMITS.maxEvents}`;
  if (q.latencyMs > USAGE_LIMITS.maxLatencyMs) return `latencyMs is ${q.latencyMs}, more than ${USAGE_LIMITS.maxLatencyMs}`;
  if (q.throughputKbps > USAGE_LIMITS.maxThroughputKbps) {
    return `throughputKbps is ${q.throughputKbps}, more than ${USAGE_LIMITS.maxThroughputKbps}`;
  }
  return undefined;
}

/** Why a record's quantities do not fit its service, or undefined when they do. */
export function inconsistent(q: RecordQuantities): string | undefined {
  const bytes = q.bytesUp + q.bytesDown;
  if (q.service === SERVICE_DATA) {
    return bytes === 0 && q.duration === 0 ? "a data record with 0 bytes and a duration of 0" : undefined;
  }
  const name = q.service === SERVICE_SMS ? "an SMS" : q.service === SERVICE_VOICE ? "a voice" : "a signalling";
  if (bytes > 0) return `${name} record with a data volume (${bytes} bytes): bytes are billed in data records`;
  if (q.service === SERVICE_VOICE) {
    if (q.duration === 0) return "a voice record with a duration of 0";
    if (q.rat === RAT_NB_IOT) return "a voice record on NB-IoT, which carries no voice";
    return undefined;
  }
  return q.events === 0 ? `${name} record with an eventCount of 0` : undefined;
}
