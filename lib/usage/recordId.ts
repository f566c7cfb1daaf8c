/**
 * The one rule for a visited carrier's record id (docs/usage-records.md): 1 to 32 printable ASCII
 * characters without spaces, so that it fits the leaf's bytes32 and reads the same everywhere. The parser
 * checks it in place on the hot path; the leaf packing checks ids built by hand.
 */

import { InputError } from "../core/errors";

export const MAX_RECORD_ID_LENGTH = 32;

export const RECORD_ID_HINT = "a record id is 1 to 32 printable ASCII characters without spaces (! to ~).";

/** What is wrong with the record id in s[a, b) (all of s by default), or undefined when it is fine. */
export function recordIdProblem(s: string, a = 0, b = s.length): string | undefined {
  if (b - a > MAX_RECORD_ID_LENGTH) return `is ${b - a} characters long, at most ${MAX_RECORD_ID_LENGTH}`;
  if (b === a) return "is empty";
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127) {
      const what = c === 32 ? "a space" : c < 32 ? "a control character" : "a non-ASCII character";
      return `has ${what} at position ${i - a + 1} (printable ASCII only)`;
    }
  }
  return undefined;
}

/** Throws InputError (naming the id) unless `id` is a record id. */
export function checkRecordId(id: string): void {
  const problem = recordIdProblem(id);
  if (problem) throw new InputError(`record id "${id.slice(0, 40)}" ${problem}`, { hint: RECORD_ID_HINT });
}
