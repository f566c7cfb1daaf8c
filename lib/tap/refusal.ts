import { InputError } from "../core/errors";

/**
 * The RAP "fatal" checks of a TAP file (issue 17, tapspec 4): each refuses the whole file, nothing of it
 * is committed, and the rejects file gets one row (line 0, the code, the reason, raw `file`).
 */
export const TAP_FATAL_CODES = [
  "TAP_SENDER",
  "TAP_RECIPIENT",
  "TAP_VERSION",
  "TAP_SEQUENCE_DUPLICATE",
  "TAP_SEQUENCE_ORDER",
  "TAP_AUDIT",
  "TAP_STRUCTURE",
] as const;
export type TapFatalCode = (typeof TAP_FATAL_CODES)[number];

/** A TAP file refused as a whole: `code` says which check, `offset` the byte the problem was found at. */
export class TapFileRefused extends InputError {
  override name = "TapFileRefused";
  readonly code: TapFatalCode;
  readonly offset: number;

  constructor(
    code: TapFatalCode,
    problem: string,
    options: { file?: string; offset?: number; hint?: string; details?: string; cause?: unknown } = {},
  ) {
    const offset = options.offset ?? 0;
    super(`${problem} (${code}); the whole file is refused, nothing of it is imported`, {
      location: { file: options.file ?? "input", field: `byte ${offset}` },
      hint: options.hint,
      details: options.details,
      cause: options.cause,
    });
    this.code = code;
    this.offset = offset;
  }
}

export function isTapFatalCode(code: string): code is TapFatalCode {
  return (TAP_FATAL_CODES as readonly string[]).includes(code);
}
