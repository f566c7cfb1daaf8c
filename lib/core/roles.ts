import { InputError, type InputLocation } from "./errors";
import { ROLE_BITS, type RoleName } from "./enums";

/** For `requireActiveOperator` and `requireOperator`: any active member, whatever its roles. */
export const ANY_ROLE = 0;

/** Parses `["carrier", "governor"]` into role bits. */
export function parseRoles(value: unknown, location: InputLocation): number {
  if (!Array.isArray(value) || value.length === 0 || value.some((r) => !(r in ROLE_BITS))) {
    throw new InputError(`roles must be a non-empty list of ${Object.keys(ROLE_BITS).join(", ")}`, {
      location,
      hint: 'e.g. "roles": ["carrier", "governor"].',
    });
  }
  return value.reduce((bits: number, r: RoleName) => bits | ROLE_BITS[r], 0);
}

/** Role bits back to their names, e.g. "carrier, governor". */
export function roleNames(bits: bigint | number): string {
  return (Object.entries(ROLE_BITS) as [RoleName, number][])
    .filter(([, bit]) => Number(bits) & bit)
    .map(([name]) => name)
    .join(", ");
}

/**
 * Permission bits of one operator account inside its member, as in contracts/types/Roles.sol
 * (`Permissions.ADMIN` ...), by their names in flags: what that key may do for the member.
 */
export const PERMISSION_BITS = { admin: 1, treasury: 2, usage: 4, devices: 8 } as const;
export type PermissionName = keyof typeof PERMISSION_BITS;

/** Every permission bit (`Permissions.ALL`): what bootstrap and admitted members' operators hold. */
export const ALL_PERMISSIONS = Object.values(PERMISSION_BITS).reduce((bits, bit) => bits | bit, 0);

/** What each permission lets a key do, for help texts. */
export const PERMISSION_MEANINGS: Readonly<Record<PermissionName, string>> = {
  admin: "operators and their permissions, the encryption key, governance votes, agreements",
  treasury: "withdrawals, the payout account, invoice signatures, claims, reveals",
  usage: "submit, accept, reject, dispute and expire usage batches, close periods",
  devices: "policies, registrations, suspensions, fraud flags, IMSI key shares",
};

/**
 * Parses "usage,devices" (or `["usage", "devices"]`, or "all") into permission bits: a non-empty set of
 * known names. Throws InputError at `location` otherwise.
 */
export function parsePermissions(value: unknown, location: InputLocation): number {
  const names = typeof value === "string" ? value.split(",").map((p) => p.trim().toLowerCase()) : value;
  if (Array.isArray(names) && names.length === 1 && names[0] === "all") return ALL_PERMISSIONS;
  if (!Array.isArray(names) || names.length === 0 || names.some((p) => typeof p !== "string" || !(p in PERMISSION_BITS))) {
    throw new InputError(`permissions must be a non-empty list of ${Object.keys(PERMISSION_BITS).join(", ")} (or all)`, {
      location,
      hint: "e.g. usage,devices for an ingest server's key; admin only for keys that manage the member.",
    });
  }
  return names.reduce((bits: number, p: PermissionName) => bits | PERMISSION_BITS[p], 0);
}

/** Permission bits back to their names, e.g. "usage, devices" ("none" for 0). */
export function permissionNames(bits: bigint | number): string {
  const names = (Object.entries(PERMISSION_BITS) as [PermissionName, number][])
    .filter(([, bit]) => Number(bits) & bit)
    .map(([name]) => name);
  return names.length > 0 ? names.join(", ") : "none";
}
