import { task } from "hardhat/config";
import type { ConfigurableTaskDefinition, HardhatRuntimeEnvironment } from "hardhat/types";
import type { Signer } from "ethers";
import { action, clientFor, out } from "./common";
import { commandLine } from "./cli/errors";
import { FROM_HELP, plmnArg } from "./cli/args";
import { InputError } from "../lib/core/errors";
import { ANY_ROLE, PERMISSION_BITS, PERMISSION_MEANINGS, type PermissionName, parsePermissions, permissionNames } from "../lib/core/roles";
import { acceptOperatorOffer, offerOperator, removeOperator, setOperatorPermissions } from "../lib/consortium/operators";
import { formatPlmn } from "../lib/core/plmn";
import { withDecodedRevert } from "../lib/chain/revert";
import type { RoamLedgerClient } from "../lib/chain/client";
import type { Hex } from "../lib/util/hex";

/**
 * A member's operator keys (ICarrierRegistry, issue 14): offer a place with named permissions, accept it
 * from the offered key, change a key's permissions, remove a key. Thin: parsing here, the rest in
 * lib/consortium/operators.
 */

const PERMISSIONS_HELP = `Comma-separated permissions of the key: ${(Object.keys(PERMISSION_BITS) as PermissionName[])
  .map((p) => `${p} (${PERMISSION_MEANINGS[p]})`)
  .join("; ")}; or all. Give each key only what its job needs, e.g. usage,devices for an ingest server`;

function permissionsArg(value: string | undefined): number {
  if (!value) throw new InputError("--permissions is required", { hint: "e.g. --permissions usage,devices (or all)." });
  return parsePermissions(value, { param: "permissions" });
}

/**
 * The client of an ADMIN key and its member, checked before anything is sent (a decoded revert
 * otherwise). A suspended member's ADMIN passes: stripping and removing keys stay open to it.
 */
async function adminClient(hre: HardhatRuntimeEnvironment, from: string | undefined): Promise<{ client: RoamLedgerClient; self: string }> {
  const client = await clientFor(hre, from);
  const address = await (client.runner as Signer).getAddress();
  const plmn = await withDecodedRevert(() => client.carriers.requireDefendingOperator(address, ANY_ROLE, PERMISSION_BITS.admin));
  return { client, self: formatPlmn(plmn as Hex) };
}

/** A task of an ADMIN key about one account and a set of permissions (offer, set). */
function accountPermissionsTask(
  definition: ConfigurableTaskDefinition,
  accountHelp: string,
  run: (client: RoamLedgerClient, options: { account: string; permissions: number; self: string }) => Promise<string>,
): void {
  definition
    .addParam("account", accountHelp)
    .addParam("permissions", PERMISSIONS_HELP)
    .addOptionalParam("from", FROM_HELP)
    .setAction(
      action(async (args: { account: string; permissions: string; from?: string }, hre) => {
        const permissions = permissionsArg(args.permissions);
        const { client, self } = await adminClient(hre, args.from);
        for (const line of (await run(client, { account: args.account, permissions, self })).split("\n")) out(line);
      }),
    );
}

accountPermissionsTask(
  task(
    "operator:offer",
    "Offers an account a place among your member's operators with the given permissions (run by an admin key); the account joins when it runs operator:accept",
  ),
  "The account to offer the place to (0x address); it must operate for no member",
  async (client, { account, permissions, self }) => {
    await offerOperator(client, { account, permissions });
    return (
      `Offered ${account} a place among ${self}'s operators with ${permissionNames(permissions)}.\n` +
      `It joins when it runs: ${commandLine({ operation: "operator:accept", args: { plmn: self }, by: { member: self, account } })}`
    );
  },
);

accountPermissionsTask(
  task(
    "operator:permissions",
    "Sets the permissions of one of your member's operator keys (run by an admin key; one admin always stays). Taking admin from a key voids your member's pending offers",
  ),
  "The operator account (0x address) whose permissions change",
  async (client, { account, permissions, self }) => {
    await setOperatorPermissions(client, { account, permissions });
    return `${account} of ${self} now holds ${permissionNames(permissions)}.`;
  },
);

task("operator:accept", "Accepts a member's pending operator offer, from the offered account itself (--from)")
  .addParam("plmn", "The member that made the offer, as MCC-MNC (e.g. 262-01)")
  .addOptionalParam("from", "The offered account: an index into the network's configured accounts or an address")
  .setAction(
    action(async (args: { plmn: string; from?: string }, hre) => {
      const plmn = plmnArg("plmn", args.plmn);
      const client = await clientFor(hre, args.from);
      const { permissions } = await acceptOperatorOffer(client, { plmn });
      out(`Joined ${formatPlmn(plmn)} as an operator with ${permissionNames(permissions)}.`);
    }),
  );

task(
  "operator:remove",
  "Removes an operator key from your member, e.g. a leaked one (run by an admin key, also while suspended; not the last key nor the last admin). Removing an admin key voids your member's pending offers",
)
  .addParam("account", "The operator account (0x address) to remove")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { account: string; from?: string }, hre) => {
      const { client, self } = await adminClient(hre, args.from);
      await removeOperator(client, { account: args.account });
      out(`Removed ${args.account} from ${self}'s operators.`);
    }),
  );
