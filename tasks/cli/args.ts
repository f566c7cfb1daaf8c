import type { Signer } from "ethers";
import { Amount, type Token } from "../../lib/core/amount";
import { InputError } from "../../lib/core/errors";
import { parsePlmn } from "../../lib/core/plmn";
import type { RoamLedgerClient } from "../../lib/chain/client";
import type { Hex } from "../../lib/util/hex";
import { flagOf } from "./errors";

/**
 * Task arguments as the CLI reads them: the text of a flag (or Hardhat's parsed value) into what the
 * library takes. Errors name the flag; the library itself never does.
 */

/** Help text of the `--from` parameter every state-changing task has. */
export const FROM_HELP =
  "Operator account to send from: an index into the network's configured accounts or an address (default: the active carrier profile's, ROAMLEDGER_PROFILE in roamledger.json; else the first account)";

/** A PLMN id given as the task parameter `name` (`--partner 724-05`); the error names the flag. */
export function plmnArg(name: string, value: string | undefined): Hex {
  if (!value) throw new InputError(`${flagOf(name)} is required`, { hint: `pass ${flagOf(name)} like 262-01 (MCC-MNC).` });
  return parsePlmn(value, { param: name });
}

/**
 * A block number flag (`--from-block`): digits, or an integer Hardhat parsed; undefined when not given
 * (the library's default applies: block 0 for escrow and invoices, the next block for watch).
 */
export function fromBlockArg(value: string | number | undefined, param = "fromBlock"): number | undefined {
  if (value === undefined || value === "") return undefined;
  const block = typeof value === "number" ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(block) || block < 0) {
    throw new InputError(`${JSON.stringify(value)} is not a block number`, {
      location: { param },
      hint: "give a block number: 0 or more, digits only.",
    });
  }
  return block;
}

/** An amount flag (`--amount`) in token units ("1000.50"), exactly, above zero. */
export function amountArg(text: string | undefined, token: Token, param = "amount"): Amount {
  const flag = flagOf(param);
  if (text === undefined || text === "")
    throw new InputError(`${flag} is required`, { hint: `give it in token units, e.g. ${flag} 1000.50.` });
  const amount = Amount.parse(text, token, { location: { param } });
  if (amount.isZero()) throw new InputError(`${flag} must be more than 0`);
  return amount;
}

/** `--as payer|payee`: which side of an invoice we are (`fallback` when not given). */
export function sideArg(value: string | undefined, fallback: "payer" | "payee"): "payer" | "payee" {
  if (value === undefined || value === "") return fallback;
  if (value !== "payer" && value !== "payee") {
    throw new InputError(`--as must be payer or payee, found ${JSON.stringify(value)}`, {
      hint: `payer: the invoice you pay as the home carrier; payee: the one you bill as the visited carrier (default ${fallback}).`,
    });
  }
  return value;
}

/** `--format`: one of `allowed`, in any case (`fallback` when not given). */
export function formatArg<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T): T {
  const v = (value ?? fallback).toLowerCase() as T;
  if (!allowed.includes(v)) throw new InputError(`--format must be one of ${allowed.join(", ")}, found ${JSON.stringify(value)}`);
  return v;
}

/** The member the client's account operates for, when it is one (read-only tasks may run from any account). */
export async function accountMember(client: RoamLedgerClient): Promise<Hex | undefined> {
  const plmn = (await client.carriers.memberOf(await (client.runner as Signer).getAddress())) as Hex;
  return plmn === "0x000000" ? undefined : plmn;
}
