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

/** `npx hardhat keys:init --plmn 262-01`: the command line of a next step. */
export function commandLine(next: NextStep): string {
  const args = Object.entries(next.args ?? {}).map(([k, v]) => `${flagOf(k)} ${/\s/.test(v) ? JSON.stringify(v) : v}`);
  return ["npx hardhat", next.operation, ...args].join(" ");
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
