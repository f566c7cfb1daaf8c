/**
 * One error hierarchy for the whole library (after viem's `BaseError`): a short message that says
 * what went wrong, optional details, where it happened (file and line, or which parameter) and what to
 * do about it. The library speaks of operations and parameters, never of command lines: the CLI renders
 * `location.param` as its flag and `next` as the command to run (tasks/cli/errors.ts).
 */

/**
 * The operation that gets the user past this error, by its name in the library's vocabulary ("keys:init",
 * "escrow:close") with its arguments by parameter name. A backend shows `hint`; the CLI turns this into
 * the exact command line.
 */
export interface NextStep {
  operation: string;
  args?: Record<string, string>;
  /**
   * Who runs it when not the caller: the member (PLMN text) and, when known, its operator account or the
   * name of its carrier profile. The CLI then names that profile or account on the command line.
   */
  by?: { member: string; account?: string; profile?: string };
  /** The caller itself runs it, as the same account: the CLI repeats the caller's explicit `--from`. */
  caller?: boolean;
}

export interface BaseErrorOptions {
  /** Longer explanation, shown after the short message. */
  details?: string;
  /** What the user should do about it, in words (no command lines). */
  hint?: string;
  /** The operation that helps, when there is one (the CLI prints it as a command). */
  next?: NextStep;
  /** The underlying error. */
  cause?: unknown;
}

export class BaseError extends Error {
  override name = "BaseError";
  readonly shortMessage: string;
  readonly details?: string;
  readonly hint?: string;
  readonly next?: NextStep;

  constructor(shortMessage: string, options: BaseErrorOptions = {}) {
    super(composeMessage(shortMessage, options), options.cause === undefined ? undefined : { cause: options.cause });
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.hint = options.hint;
    this.next = options.next;
  }
}

/** The full message: short message, details, then "What to do:" with the hint and the next operation. */
export function composeMessage(headline: string, options: { details?: string; hint?: string; next?: NextStep }): string {
  const parts = [headline];
  if (options.details) parts.push(options.details);
  const todo = [options.hint, options.next && describeNextStep(options.next)].filter(Boolean);
  if (todo.length > 0) parts.push(`What to do: ${todo.join(" ")}`);
  return parts.join("\n");
}

/** A next step in library words: `keys:init (plmn 262-01)`. */
export function describeNextStep(next: NextStep): string {
  const args = Object.entries(next.args ?? {}).map(([k, v]) => `${k} ${v}`);
  return `Operation: ${next.operation}${args.length > 0 ? ` (${args.join(", ")})` : ""}.`;
}

/**
 * Where in an input a problem is: a file (with line and field), or a parameter of the library call
 * (`param`, e.g. "batchSize"; the CLI names the matching flag, `--batch-size`).
 */
export interface InputLocation {
  /** The input file, or a description of the input when it is not a file. */
  file?: string;
  /** The library call's parameter the value came from. */
  param?: string;
  /** 1-based line number; absent for whole-file problems. */
  line?: number;
  /** Column or field name, when known. */
  field?: string;
}

export function formatLocation(loc: InputLocation, paramName: (param: string) => string = (p) => p): string {
  let s = loc.file ?? (loc.param !== undefined ? paramName(loc.param) : "input");
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.field) s += ` (${loc.field})`;
  return s;
}

/** Bad user input: a malformed file line, an unknown PLMN, a bad key. Always says where. */
export class InputError extends BaseError {
  override name = "InputError";
  readonly location?: InputLocation;
  /** The problem without its location (`shortMessage` starts with the location). */
  readonly problem: string;

  constructor(shortMessage: string, options: BaseErrorOptions & { location?: InputLocation } = {}) {
    super(options.location ? `${formatLocation(options.location)}: ${shortMessage}` : shortMessage, options);
    this.location = options.location;
    this.problem = shortMessage;
  }
}

/** Several input problems found in one pass, so the user can fix them all at once. */
export class InputErrors extends BaseError {
  override name = "InputErrors";
  readonly errors: InputError[];
  /** How many of `errors` the details list. */
  readonly maxShown: number;

  constructor(errors: InputError[], options: { hint?: string; maxShown?: number } = {}) {
    const maxShown = options.maxShown ?? 20;
    super(`${errors.length} problem${errors.length === 1 ? "" : "s"} in the input; nothing was sent to the chain.`, {
      details: listProblems(errors, maxShown, (e) => e.shortMessage),
      hint: options.hint ?? "fix the lines named above and run the same command again.",
    });
    this.errors = errors;
    this.maxShown = maxShown;
  }
}

/** The first `maxShown` problems, one indented line each (worded by `line`), then how many more there are. */
export function listProblems(errors: readonly InputError[], maxShown: number, line: (e: InputError) => string): string {
  const shown = errors.slice(0, maxShown).map((e) => `  ${line(e)}`);
  if (errors.length > maxShown) shown.push(`  ... and ${errors.length - maxShown} more`);
  return shown.join("\n");
}

/** Configuration is missing or wrong: no deployment on this network, no keystore, bad parameters. */
export class ConfigError extends BaseError {
  override name = "ConfigError";
}

/** A contract call reverted; `errorName` and `args` are the decoded custom error. */
export class ContractRevertError extends BaseError {
  override name = "ContractRevertError";
  readonly errorName: string;
  readonly args: readonly unknown[];

  constructor(errorName: string, args: readonly unknown[], options: BaseErrorOptions = {}) {
    super(`The chain refused the transaction: ${errorName}(${args.map(String).join(", ")})`, options);
    this.errorName = errorName;
    this.args = args;
  }
}

/** A transaction was mined but failed without a reason the contracts give (e.g. it ran out of gas). */
export class TransactionFailedError extends BaseError {
  override name = "TransactionFailedError";
}

/** The chain node cannot be reached, or the connection to it broke in the middle of a command. */
export class NodeConnectionError extends BaseError {
  override name = "NodeConnectionError";
}

/** The chain node answered a request with an error that is neither a revert nor a lost connection. */
export class NodeRequestError extends BaseError {
  override name = "NodeRequestError";
}

/** Decryption or key handling failed: wrong key, tampered ciphertext, malformed envelope. */
export class CryptoError extends BaseError {
  override name = "CryptoError";
}

/**
 * What a counterparty sent sealed does not agree with what the chain holds: a commitment that the opened
 * values do not give, or a public field that differs. The receiver must refuse it (not accept the terms,
 * reject the batch, not sign the invoice).
 */
export class MismatchError extends BaseError {
  override name = "MismatchError";
  /** What differs: "termsCommitment", "validFrom", "payloadHash"... */
  readonly subject: string;
  /** The value the chain (or the signed message) holds. */
  readonly expected: string;
  /** The value the sealed data gives. */
  readonly actual: string;

  constructor(subject: string, values: { expected: unknown; actual: unknown }, options: BaseErrorOptions = {}) {
    super(`${subject} does not match: expected ${String(values.expected)}, the sealed data gives ${String(values.actual)}`, options);
    this.subject = subject;
    this.expected = String(values.expected);
    this.actual = String(values.actual);
  }
}
