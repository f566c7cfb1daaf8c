import { task } from "hardhat/config";
import { action, clientFor, memberOfSigner, out } from "./common";
import { FROM_HELP, plmnArg } from "./cli/args";
import { InputError } from "../lib/core/errors";
import { ANY_ROLE, PERMISSION_BITS, PERMISSION_MEANINGS, type PermissionName, parsePermissions, permissionNames } from "../lib/core/roles";
import { acceptOperatorOffer, offerOperator, removeOperator, setOperatorPermissions } from "../lib/consortium/operators";

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

task(
  "operator:offer",
  "Offers an account a place among your member's operators with the given permissions (run by an admin key); the account joins when it runs operator:accept",
)
  .addParam("account", "The account to offer the place to (0x address); it must operate for no member")
  .addParam("permissions", PERMISSIONS_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { account: string; permissions: string; from?: string }, hre) => {
      const permissions = permissionsArg(args.permissions);
      const client = await clientFor(hre, args.from);
      const self = await memberOfSigner(client, ANY_ROLE);
      await offerOperator(client, { account: args.account, permissions });
      out(`Offered ${args.account} a place among ${self.text}'s operators with ${permissionNames(permissions)}.`);
      out(`It joins when it runs: npx hardhat operator:accept --plmn ${self.text} --from ${args.account}`);
    }),
  );

task("operator:accept", "Accepts a member's pending operator offer, from the offered account itself (--from)")
  .addParam("plmn", "The member that made the offer, as MCC-MNC (e.g. 262-01)")
  .addOptionalParam("from", "The offered account: an index into the network's configured accounts or an address")
  .setAction(
    action(async (args: { plmn: string; from?: string }, hre) => {
      const plmn = plmnArg("plmn", args.plmn);
      const client = await clientFor(hre, args.from);
      const { permissions } = await acceptOperatorOffer(client, { plmn });
      out(`Joined ${args.plmn} as an operator with ${permissionNames(permissions)}.`);
    }),
  );

task("operator:permissions", "Sets the permissions of one of your member's operator keys (run by an admin key; one admin always stays)")
  .addParam("account", "The operator account (0x address) whose permissions change")
  .addParam("permissions", PERMISSIONS_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { account: string; permissions: string; from?: string }, hre) => {
      const permissions = permissionsArg(args.permissions);
      const client = await clientFor(hre, args.from);
      const self = await memberOfSigner(client, ANY_ROLE);
      await setOperatorPermissions(client, { account: args.account, permissions });
      out(`${args.account} of ${self.text} now holds ${permissionNames(permissions)}.`);
    }),
  );

task("operator:remove", "Removes an operator key from your member, e.g. a leaked one (run by an admin key; the last admin stays)")
  .addParam("account", "The operator account (0x address) to remove")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { account: string; from?: string }, hre) => {
      const client = await clientFor(hre, args.from);
      const self = await memberOfSigner(client, ANY_ROLE);
      await removeOperator(client, { account: args.account });
      out(`Removed ${args.account} from ${self.text}'s operators.`);
    }),
  );
