import { InputError, type InputLocation } from "./errors";
import { ROLE_BITS, type RoleName } from "./enums";

/** For `requireActiveOperator`: any active member, whatever its roles. */
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
