import { RAT_NB_IOT, SERVICE_DATA, SERVICE_SMS, SERVICE_VOICE } from "./fields";

/** Why a record's quantities do not fit its service, or undefined when they do (docs/usage-records.md). */
export function inconsistent(service: number, rat: number, duration: number, bytes: number, events: number): string | undefined {
  if (service === SERVICE_DATA) {
    return bytes === 0 && duration === 0 ? "a data record with 0 bytes and a duration of 0" : undefined;
  }
  const name = service === SERVICE_SMS ? "an SMS" : service === SERVICE_VOICE ? "a voice" : "a signalling";
  if (bytes > 0) return `${name} record with a data volume (${bytes} bytes): bytes are billed in data records`;
  if (service === SERVICE_VOICE) {
    if (duration === 0) return "a voice record with a duration of 0";
    if (rat === RAT_NB_IOT) return "a voice record on NB-IoT, which carries no voice";
    return undefined;
  }
  return events === 0 ? `${name} record with an eventCount of 0` : undefined;
}
