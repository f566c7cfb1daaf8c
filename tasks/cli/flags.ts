import { InputError } from "../../lib/core/errors";
import { parsePlmn } from "../../lib/core/plmn";
import type { Hex } from "../../lib/util/hex";
import { flagOf } from "./errors";

/** Help text of the `--from` parameter every state-changing task has. */
export const FROM_HELP =
  "Operator account to send from: an index into the network's configured accounts or an address (default: the first account)";

/** A PLMN id given as the task parameter `name` (`--partner 724-05`); the error names the flag. */
export function plmnArg(name: string, value: string | undefined): Hex {
  if (!value) throw new InputError(`${flagOf(name)} is required`, { hint: `pass ${flagOf(name)} like 262-01 (MCC-MNC).` });
  return parsePlmn(value, { param: name });
}
