import { TapFile } from "./tap312";
import { tapEventTime } from "./map";

/**
 * The months (yyyymm, UTC, ascending) in which a TAP file's call events start, for usage:stream's split of a
 * file that spans a month's end (each month's call events go to that period's batches; TapMapper's
 * `monthPart`). Call events without a readable start are not counted (the first month's part reports them).
 * Reads the whole file once, decoding every call event; a file that cannot be read has no months here (the
 * import then refuses it with its reason).
 */
export async function tapFileMonths(file: string): Promise<number[]> {
  const months = new Set<number>();
  try {
    const tap = await TapFile.open(file);
    for await (const ev of tap.callEvents()) {
      const t = tapEventTime(ev);
      if (t === undefined) continue;
      const d = new Date(t * 1000);
      months.add(d.getUTCFullYear() * 100 + d.getUTCMonth() + 1);
    }
  } catch {
    return [];
  }
  return [...months].sort((a, b) => a - b);
}
