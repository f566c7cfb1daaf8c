/** The registry's answers about members that tadig.ts, nodes.ts and besu/permissions.ts share. */
import type { Signer } from "ethers";
import { formatPlmn } from "../core/plmn";
import type { RoamLedgerClient } from "../chain/client";
import type { Hex } from "../util/hex";

/** The PLMN id the registry answers for "no member" (memberOf, plmnOfTadig, nodeHolder). */
export const NO_MEMBER = "0x000000";

/** A PLMN id the registry answered, in lower case, or undefined for NO_MEMBER. */
export function memberOrNone(plmn: string): Hex | undefined {
  const lower = plmn.toLowerCase() as Hex;
  return lower === NO_MEMBER ? undefined : lower;
}

/** The member the client's signer operates for (undefined for none). */
export async function signerMember(client: RoamLedgerClient): Promise<Hex | undefined> {
  return memberOrNone(await client.carriers.memberOf(await (client.runner as Signer).getAddress()));
}

/** "262-01 Telekom Deutschland IoT": a member as messages name it. */
export async function memberLabel(client: RoamLedgerClient, plmn: Hex): Promise<string> {
  return `${formatPlmn(plmn)} ${(await client.carriers.getMember(plmn)).name}`;
}
