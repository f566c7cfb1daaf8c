/**
 * A member's operator accounts from its own side (ICarrierRegistry, issue 14): each key holds permission
 * bits (admin, treasury, usage, devices), so an ingest server's key cannot move money. An ADMIN offers an
 * account a place with some permissions; the account accepts from its own key (two steps, so no member can
 * take another's address). ADMIN keys set permissions and remove operators; a member keeps one ADMIN.
 * Errors are the registry's decoded reverts, with their hints; inputs are checked before anything is sent.
 */
import { getAddress, isAddress, type Signer } from "ethers";
import { InputError } from "../core/errors";
import { formatPlmn } from "../core/plmn";
import { ALL_PERMISSIONS, permissionNames } from "../core/roles";
import { sendAndWait } from "../chain/send";
import type { Hex } from "../util/hex";
import type { RoamLedgerClient } from "../chain/client";

/** One operator account of a member with its permission bits. */
export interface OperatorAccount {
  account: string;
  permissions: number;
}

/** An account given by the caller, checksummed; InputError at `param` when it is not an address. */
export function operatorAddress(value: string, param = "account"): string {
  if (!isAddress(value)) {
    throw new InputError(`${JSON.stringify(value)} is not an account address`, {
      location: { param },
      hint: "give the operator account as a 0x address of 40 hex digits.",
    });
  }
  return getAddress(value);
}

/** Checks permission bits before they are sent: a non-empty subset of every known bit. */
function checkPermissions(permissions: number): void {
  if (!Number.isInteger(permissions) || permissions <= 0 || (permissions & ~ALL_PERMISSIONS) !== 0) {
    throw new InputError(`permissions ${permissions} are not a non-empty set of admin, treasury, usage, devices`, {
      location: { param: "permissions" },
    });
  }
}

/** The operator accounts of a member with their permissions, in the registry's order. */
export async function operatorsWithPermissions(client: RoamLedgerClient, plmn: Hex): Promise<OperatorAccount[]> {
  const accounts = await client.carriers.operatorsOf(plmn);
  return Promise.all(
    accounts.map(async (account) => ({ account, permissions: Number(await client.carriers.operatorPermissions(account)) })),
  );
}

/**
 * Offers `account` a place among the sender's member's operators with `permissions` (the sender needs
 * ADMIN); the account joins when it runs `acceptOperatorOffer`. Returns the transaction hash.
 */
export async function offerOperator(client: RoamLedgerClient, options: { account: string; permissions: number }): Promise<string> {
  const account = operatorAddress(options.account);
  checkPermissions(options.permissions);
  const receipt = await sendAndWait(() => client.carriers.addOperator(account, options.permissions));
  return receipt.hash;
}

/**
 * Accepts, from the offered account itself, the pending offer of member `plmn`. Fails before sending when
 * there is no such offer. Returns the permissions the account now holds and the transaction hash.
 */
export async function acceptOperatorOffer(
  client: RoamLedgerClient,
  options: { plmn: Hex },
): Promise<{ permissions: number; hash: string }> {
  const account = await (client.runner as Signer).getAddress();
  const [permissions] = await client.carriers.operatorOffer(account, options.plmn);
  if (permissions === 0n) {
    throw new InputError(`${account} has no pending operator offer from ${formatPlmn(options.plmn)}`, {
      location: { param: "plmn" },
      hint: `an admin operator of ${formatPlmn(options.plmn)} offers the place to exactly this account first.`,
      next: { operation: "operator:offer", args: { account } },
    });
  }
  const receipt = await sendAndWait(() => client.carriers.acceptOperator(options.plmn));
  return { permissions: Number(permissions), hash: receipt.hash };
}

/** Sets the permissions of one of the sender's member's operators (the sender needs ADMIN). */
export async function setOperatorPermissions(client: RoamLedgerClient, options: { account: string; permissions: number }): Promise<string> {
  const account = operatorAddress(options.account);
  checkPermissions(options.permissions);
  const receipt = await sendAndWait(() => client.carriers.setOperatorPermissions(account, options.permissions));
  return receipt.hash;
}

/** Removes an operator account from the sender's member (the sender needs ADMIN; one ADMIN stays). */
export async function removeOperator(client: RoamLedgerClient, options: { account: string }): Promise<string> {
  const account = operatorAddress(options.account);
  const receipt = await sendAndWait(() => client.carriers.removeOperator(account));
  return receipt.hash;
}

/** One line per operator: "0xabc…  admin, treasury". */
export function formatOperators(operators: readonly OperatorAccount[]): string[] {
  return operators.map((o) => `${o.account}  ${permissionNames(o.permissions)}`);
}
