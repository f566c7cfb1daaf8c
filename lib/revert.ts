import { Interface, type ErrorFragment } from "ethers";
import {
  CarrierRegistry__factory,
  DeviceRegistry__factory,
  RoamingAgreements__factory,
  DevicePolicy__factory,
} from "../typechain-types";
import { BaseError, ContractRevertError } from "./errors";
import { formatPlmn, isValidPlmnHex } from "./plmn";

/** Every custom error any RoamLedger contract can revert with (they bubble up through calls). */
const errorInterface = new Interface(
  dedupeErrors([
    ...CarrierRegistry__factory.abi,
    ...DeviceRegistry__factory.abi,
    ...RoamingAgreements__factory.abi,
    ...DevicePolicy__factory.abi,
  ]),
);

function dedupeErrors(abi: readonly { type: string; name?: string }[]) {
  const seen = new Set<string>();
  return abi.filter((f) => f.type === "error" && !seen.has(f.name!) && seen.add(f.name!));
}

/** What to do about the errors a user most often meets. */
const HINTS: Record<string, string> = {
  CarrierRegistryNotActiveOperator:
    "send from an operator account of an active member (--from), or have governance admit or reinstate the member.",
  CarrierRegistryMissingRole: "this member lacks the role the action needs; governance assigns roles at admission.",
  CarrierRegistryAlreadyApproved: "your member has approved this proposal already; wait for the other governors.",
  CarrierRegistryProposalExpired: "make a new proposal; this one can no longer be approved.",
  DeviceRegistryAlreadyRegistered: "the device is registered already; re-running `device:register` skips such devices.",
  DeviceRegistryNotHome: "only the device's home carrier may do this; use an operator account of that carrier.",
  DeviceRegistryNoAgreement: "a visited carrier needs an accepted roaming agreement with the device's home carrier.",
  DeviceRegistryInvalidMaker: "the maker must be an active member with the device-maker role (see `carrier:list`).",
};

function findRevertData(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== "object" || depth > 6) return undefined;
  const e = err as Record<string, unknown>;
  if (typeof e.data === "string" && /^0x[0-9a-fA-F]{8}/.test(e.data)) return e.data;
  for (const key of ["error", "info", "cause", "data"]) {
    const found = findRevertData(e[key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

function show(value: unknown): string {
  if (typeof value === "string" && isValidPlmnHex(value)) return formatPlmn(value);
  return String(value);
}

/**
 * Turns a failed call or transaction into a ContractRevertError naming the custom error and its
 * arguments (PLMN ids shown as 262-01), with a hint when there is a usual remedy. Errors that are not
 * reverts come back as they were.
 */
export function decodeRevert(err: unknown): unknown {
  if (err instanceof BaseError) return err;
  const data = findRevertData(err);
  if (!data) return err;
  let parsed;
  try {
    parsed = errorInterface.parseError(data);
  } catch {
    parsed = null;
  }
  if (!parsed) return err;
  const fragment: ErrorFragment = parsed.fragment;
  const args = fragment.inputs.map((input, i) => `${input.name}=${show(parsed.args[i])}`);
  return new ContractRevertError(parsed.name, args, { hint: HINTS[parsed.name], cause: err });
}

/** Runs a contract call, rethrowing a revert as a decoded ContractRevertError. */
export async function withDecodedRevert<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw decodeRevert(err);
  }
}
