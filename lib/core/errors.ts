/**
 * One error hierarchy for the whole library (after viem's `BaseError`): a short message that says
 * what went wrong, optional details, where it happened (file and line) and what to do about it.
 * Every user-facing command prints `err.message` and exits non-zero; nothing else is shown.
 */

export interface BaseErrorOptions {
  /** Longer explanation, shown after the short message. */
  details?: string;
  /** What the user should do about it. */
  hint?: string;
  /** The underlying error. */
  cause?: unknown;
}

export class BaseError extends Error {
  override name = "BaseError";
  readonly shortMessage: string;
  readonly details?: string;
  readonly hint?: string;

  constructor(shortMessage: string, options: BaseErrorOptions = {}) {
    const parts = [shortMessage];
    if (options.details) parts.push(options.details);
    if (options.hint) parts.push(`What to do: ${options.hint}`);
    super(parts.join("\n"), options.cause === undefined ? undefined : { cause: options.cause });
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.hint = options.hint;
  }
}

/** Where in an input file a problem is. */
export interface InputLocation {
  file: string;
  /** 1-based line number; absent for whole-file problems. */
  line?: number;
  /** Column or field name, when known. */
  field?: string;
}

export function formatLocation(loc: InputLocation): string {
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.field) s += ` (${loc.field})`;
  return s;
}

/** Bad user input: a malformed file line, an unknown PLMN, a bad key. Always says where. */
export class InputError extends BaseError {
  override name = "InputError";
  readonly location?: InputLocation;

  constructor(shortMessage: string, options: BaseErrorOptions & { location?: InputLocation } = {}) {
    super(options.location ? `${formatLocation(options.location)}: ${shortMessage}` : shortMessage, options);
    this.location = options.location;
  }
}

/** Several input problems found in one pass, so the user can fix them all at once. */
export class InputErrors extends BaseError {
  override name = "InputErrors";
  readonly errors: InputError[];

  constructor(errors: InputError[], options: { hint?: string; maxShown?: number } = {}) {
    const maxShown = options.maxShown ?? 20;
    const shown = errors.slice(0, maxShown).map((e) => `  ${e.shortMessage}`);
    if (errors.length > maxShown) shown.push(`  ... and ${errors.length - maxShown} more`);
    super(`${errors.length} problem${errors.length === 1 ? "" : "s"} in the input; nothing was sent to the chain.`, {
      details: shown.join("\n"),
      hint: options.hint ?? "fix the lines named above and run the same command again.",
    });
    this.errors = errors;
  }
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
