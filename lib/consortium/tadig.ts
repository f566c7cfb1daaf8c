/**
 * A carrier's TADIG codes on chain (ICarrierRegistry.registerTadig): GSMA's 5-character network codes that
 * TAP and RAP files name as sender and recipient. Each carrier member registers the codes its billing
 * system writes, so a TAP file's parties are looked up on the chain (`plmnOfTadig`) instead of in a table
 * each carrier keeps. A code is held by one member at a time; a suspended member keeps its codes (the
 * lookup still answers its PLMN, whose status then says it is not active). Inputs are checked and the
 * code's holder looked up before anything is sent; a revert comes back decoded, with its hint.
 */
import { InputError } from "../core/errors";
import { formatPlmn } from "../core/plmn";
import { sendAndWait } from "../chain/send";
import { memberLabel, memberOrNone, signerMember } from "./members";
import type { RoamLedgerClient } from "../chain/client";
import type { Hex } from "../util/hex";

/** A TADIG code: 3 upper-case letters (GSMA: the ISO 3166 alpha-3 country), 2 upper-case letters or digits. */
export const TADIG_RE = /^[A-Z]{3}[A-Z0-9]{2}$/;

/** How many TADIG codes a member may hold at once (CarrierRegistry's MAX_TADIGS). */
export const MAX_TADIG_CODES = 16;

/** What a TADIG code looks like, for messages. */
export const TADIG_FORMAT = "3 upper-case letters and 2 upper-case letters or digits, e.g. DEUD1";

/** `code` when it is a TADIG code, else an InputError naming `param` (default "code") and the format. */
export function checkTadig(code: string, param = "code"): string {
  if (!TADIG_RE.test(code)) {
    throw new InputError(`${JSON.stringify(code)} is not a TADIG code`, {
      location: { param },
      hint: `a TADIG code is ${TADIG_FORMAT} (GSMA's code of the network, as TAP files name it).`,
    });
  }
  return code;
}

/** A TADIG code as the registry takes it: its five ASCII bytes (bytes5), e.g. DEUD1 -> 0x4445554431. */
export function tadigToBytes5(code: string): Hex {
  return `0x${Buffer.from(checkTadig(code), "ascii").toString("hex")}`;
}

/** The text of a bytes5 the registry returns (only valid codes are ever registered). */
export function tadigFromBytes5(hex: string): string {
  return Buffer.from(hex.slice(2), "hex").toString("ascii");
}

/**
 * The PLMN id (bytes3 hex, e.g. 0x62f210) of the member holding a TADIG code, active or suspended, or
 * undefined when no member holds it. A string that is not a TADIG code is held by nobody: undefined too
 * (a TAP file's sender is checked this way; the caller reports it).
 */
export async function plmnOfTadig(client: RoamLedgerClient, code: string): Promise<Hex | undefined> {
  if (!TADIG_RE.test(code)) return undefined;
  return memberOrNone(await client.carriers.plmnOfTadig(tadigToBytes5(code)));
}

/** The TADIG codes a member holds, in the registry's order (empty for none or no member). */
export async function tadigCodesOf(client: RoamLedgerClient, plmn: Hex): Promise<string[]> {
  return (await client.carriers.tadigCodesOf(plmn)).map(tadigFromBytes5);
}

/**
 * Registers a TADIG code for the signer's member (the signer: an admin key of an active carrier member).
 * Refused before sending: a malformed code, a code any member holds (named, the signer's own member
 * included: registering twice is an error, not a no-op), a 17th code. `param` names where the code came
 * from in errors (default "code"). Returns the transaction hash.
 */
export async function registerTadig(client: RoamLedgerClient, code: string, options: { param?: string } = {}): Promise<string> {
  const param = options.param ?? "code";
  checkTadig(code, param);
  const [holder, self] = await Promise.all([plmnOfTadig(client, code), signerMember(client)]);
  if (holder !== undefined) {
    const own = holder === self;
    throw new InputError(`TADIG code ${code} is held by ${own ? "your member, " : ""}${await memberLabel(client, holder)}`, {
      location: { param },
      hint: own
        ? "nothing to do: it is registered already."
        : `one member holds a code at a time: if GSMA assigned ${code} to you, ask ${formatPlmn(holder)} to release it (a member that will not is a matter for the consortium's governors).`,
    });
  }
  if (self !== undefined && (await client.carriers.tadigCodesOf(self)).length >= MAX_TADIG_CODES) {
    throw new InputError(`${formatPlmn(self)} holds ${MAX_TADIG_CODES} TADIG codes already, the most a member may`, {
      location: { param },
      hint: "release one it no longer uses first.",
      next: { operation: "carrier:tadig", args: { remove: "CODE" }, caller: true },
    });
  }
  const receipt = await sendAndWait(() => client.carriers.registerTadig(tadigToBytes5(code)));
  return receipt.hash;
}

/**
 * Releases one of the signer's member's TADIG codes (the signer: an admin key of an active carrier member);
 * any carrier member may register it afterwards. Refused before sending when the member does not hold it
 * (saying who does); `param` as for registerTadig. Returns the transaction hash.
 */
export async function releaseTadig(client: RoamLedgerClient, code: string, options: { param?: string } = {}): Promise<string> {
  const param = options.param ?? "code";
  checkTadig(code, param);
  const [holder, self] = await Promise.all([plmnOfTadig(client, code), signerMember(client)]);
  if (self !== undefined && holder !== self) {
    throw new InputError(
      `${formatPlmn(self)} does not hold TADIG code ${code}: ${holder === undefined ? "no member does" : `${await memberLabel(client, holder)} does`}`,
      { location: { param }, hint: "release only a code your member holds; listing them shows which." },
    );
  }
  const receipt = await sendAndWait(() => client.carriers.releaseTadig(tadigToBytes5(code)));
  return receipt.hash;
}

/**
 * Makes the signer's member hold `codes` (a deployment's or re-run's list): registers those it does not hold
 * yet, in order, and leaves the others. Refused before sending when another member holds one of them.
 * Returns the codes registered now and those held already.
 */
export async function ensureTadigCodes(
  client: RoamLedgerClient,
  codes: readonly string[],
): Promise<{ registered: string[]; held: string[] }> {
  const self = await signerMember(client);
  const holders = await Promise.all(codes.map((c) => plmnOfTadig(client, checkTadig(c))));
  const taken = codes.findIndex((_, i) => holders[i] !== undefined && holders[i] !== self);
  if (taken >= 0) {
    throw new InputError(`TADIG code ${codes[taken]} is held by ${await memberLabel(client, holders[taken] as Hex)}`, {
      location: { param: "tadig" },
      hint: "a code is held by one member at a time: give this member its own codes.",
    });
  }
  const registered: string[] = [];
  for (const [i, code] of codes.entries()) {
    if (holders[i] !== undefined) continue;
    await sendAndWait(() => client.carriers.registerTadig(tadigToBytes5(code)));
    registered.push(code);
  }
  return { registered, held: codes.filter((_, i) => holders[i] !== undefined) };
}
