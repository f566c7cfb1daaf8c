import {
  type BaseError,
  InputError,
  InputErrors,
  composeMessage,
  formatLocation,
  listProblems,
  type NextStep,
} from "../../lib/core/errors";

/**
 * The CLI's wording of library errors: a library parameter becomes the task's flag (`batchSize` ->
 * `--batch-size`), and an error's next operation becomes the command to paste. The library itself never
 * names a flag or a command line.
 */

/** The flag of a library parameter: `batchSize` -> `--batch-size`. */
export function flagOf(param: string): string {
  return `--${param.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** What a printed command line must repeat of the command that prints it. */
export interface CommandContext {
  /** The network the command runs on, and Hardhat's default one (the profile's, else hardhat). */
  network?: string;
  defaultNetwork?: string;
  /**
   * The `--from` the command was given explicitly, repeated in the steps the caller runs (`caller`); a
   * profile or the default account is not repeated, nor is it in a step whose runner is not known.
   */
  from?: string;
  /** Whether a task takes a parameter (a step's `--from` is only added where the task has one). */
  takes?: (operation: string, param: string) => boolean;
}

let context: CommandContext = {};

/** Set by every task as it starts (tasks/common.ts), and when its account is chosen. */
export function setCommandContext(update: CommandContext, options: { reset?: boolean } = {}): void {
  context = options.reset ? { ...update } : { ...context, ...update };
}

const shellWord = (v: string) => (/^[A-Za-z0-9_./:@%+=,-]+$/.test(v) ? v : `'${v.replace(/'/g, "'\\''")}'`);

/**
 * `npx hardhat keys:init --plmn 262-01 --network localhost`: the command line of a next step, as it pastes
 * and runs in the same shell: with `--network` unless it is the default one, the caller's explicit `--from` in
 * a step the caller runs, and for a step another member runs, that member's profile
 * (`ROAMLEDGER_PROFILE=<name> npx hardhat ...`) or account (`--from`).
 */
export function commandLine(next: NextStep, ctx: CommandContext = context): string {
  const args = Object.entries(next.args ?? {}).map(([k, v]) => `${flagOf(k)} ${shellWord(v)}`);
  const words = ["npx hardhat", next.operation, ...args];
  const by = next.by;
  const prefix = by?.profile ? [`ROAMLEDGER_PROFILE=${shellWord(by.profile)}`] : [];
  if (ctx.network && (ctx.network !== ctx.defaultNetwork || prefix.length > 0)) words.push(`--network ${shellWord(ctx.network)}`);
  const takesFrom = ctx.takes?.(next.operation, "from") ?? true;
  if (!takesFrom) {
    // keys:init and the like act on no account.
  } else if (by) {
    if (!by.profile && by.account) words.push(`--from ${shellWord(by.account)}`);
  } else if (ctx.from && next.caller) {
    words.push(`--from ${shellWord(ctx.from)}`);
  }
  return [...prefix, ...words].join(" ");
}

function inputHeadline(err: InputError): string {
  return err.location ? `${formatLocation(err.location, flagOf)}: ${err.problem}` : err.problem;
}

/** An error as a command prints it: what, where (file and line, or flag), what to do (with the command). */
export function cliMessage(err: BaseError): string {
  const headline = err instanceof InputError ? inputHeadline(err) : err.shortMessage;
  const details = err instanceof InputErrors ? listProblems(err.errors, err.maxShown, inputHeadline) : err.details;
  const hint = [err.hint, err.next && `run \`${commandLine(err.next)}\`.`].filter(Boolean).join(" ");
  return composeMessage(headline, { details, hint: hint || undefined });
}
