import { getAddress, isAddress } from "ethers";
import { InputError, InputErrors } from "../core/errors";
import { readJsonFile, lineOf } from "../util/json";
import { parsePlmn } from "../core/plmn";
import { validateEncryptionPublicKey } from "../crypto/keys";
import { parseRoles } from "../core/roles";
import type { Hex } from "../util/hex";
import type { Keystore } from "../keys/keystore";
import { ROLE_BITS } from "../core/enums";

/** A member as the CarrierRegistry constructor takes it. */
export interface MemberInit {
  plmn: Hex;
  roles: number;
  name: string;
  encryptionKey: Hex;
  operators: string[];
}

/** Ignition parameters of the RoamLedger module. */
export interface RoamLedgerParameters {
  CarrierRegistry: {
    bootstrapMembers: MemberInit[];
    thresholdBps: number;
    proposalLifetime: number;
    infraAccounts: string[];
  };
  UsageLedger: {
    /** Seconds after a period's end during which only the visited carrier may close it. */
    submissionGrace: number;
  };
}

/**
 * An account reference in a parameters file: an address, or a number = index into the network's
 * configured accounts (handy on a dev chain). Returns the checksummed address.
 */
function account(value: unknown, accounts: readonly string[], location: { file: string; line?: number; field?: string }) {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value < accounts.length) {
    return accounts[value];
  }
  if (typeof value === "string" && isAddress(value)) return getAddress(value);
  throw new InputError(`${JSON.stringify(value)} is neither an address nor an account index (0-${accounts.length - 1})`, {
    location,
    hint: "write an operator as a 0x address, or as the index of an account configured for this network.",
  });
}

/**
 * Reads and validates a deployment parameters file (see ignition/parameters/*.json and README):
 * `{ thresholdBps, proposalLifetimeDays, submissionGraceDays, infraAccounts, members: [{ plmn, name, roles,
 * operators, encryptionKey }] }`. `encryptionKey: "keystore"` takes (and if needed creates) the member's key in
 * the local key store, for dev chains where one machine plays every carrier. All problems are
 * reported together, each with file and line; nothing is deployed unless all is well.
 */
export function readDeployParameters(file: string, accounts: readonly string[], keystore: Keystore): RoamLedgerParameters {
  const { value, text } = readJsonFile(file, "deployment parameters");
  const raw = value as Record<string, unknown>;
  const errors: InputError[] = [];
  const at = (key: string, from = 0) => ({ file, line: lineOf(text, key, from), field: key });
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      errors.push(err);
      return undefined;
    }
  };
  const thresholdBps = raw.thresholdBps ?? 5001;
  if (!Number.isInteger(thresholdBps) || (thresholdBps as number) < 1 || (thresholdBps as number) > 10000) {
    errors.push(new InputError("thresholdBps must be an integer from 1 to 10000", { location: at("thresholdBps") }));
  }
  const days = raw.proposalLifetimeDays ?? 7;
  if (typeof days !== "number" || !(days > 0) || days > 365) {
    errors.push(new InputError("proposalLifetimeDays must be a number of days from 1 to 365", { location: at("proposalLifetimeDays") }));
  }
  const graceDays = raw.submissionGraceDays ?? 3;
  if (typeof graceDays !== "number" || !(graceDays >= 0) || graceDays > 90) {
    errors.push(new InputError("submissionGraceDays must be a number of days from 0 to 90", { location: at("submissionGraceDays") }));
  }
  const infra = (Array.isArray(raw.infraAccounts) ? raw.infraAccounts : []).map((a) =>
    attempt(() => account(a, accounts, at("infraAccounts"))),
  );
  const members: MemberInit[] = [];
  if (!Array.isArray(raw.members) || raw.members.length === 0) {
    errors.push(new InputError("members must be a non-empty list", { location: at("members") }));
  } else {
    let from = 0;
    for (const m of raw.members as Record<string, unknown>[]) {
      const line = lineOf(text, "plmn", from);
      from = text.indexOf('"plmn"', from) + 1;
      const loc = (field: string) => ({ file, line, field });
      const plmn = attempt(() => parsePlmn(String(m.plmn ?? ""), loc("plmn")));
      const roles = attempt(() => parseRoles(m.roles, loc("roles")));
      const name = typeof m.name === "string" && m.name.length > 0 && Buffer.byteLength(m.name) <= 64 ? m.name : undefined;
      if (!name) errors.push(new InputError("name must be 1 to 64 bytes of text", { location: loc("name") }));
      const operators = Array.isArray(m.operators) && m.operators.length > 0 ? m.operators : undefined;
      if (!operators) errors.push(new InputError("operators must be a non-empty list", { location: loc("operators") }));
      const ops = (operators ?? []).map((o) => attempt(() => account(o, accounts, loc("operators"))));
      const encryptionKey = attempt(() => {
        if (m.encryptionKey === "keystore" && plmn) return keystore.ensureEncryptionKey(String(m.plmn)).publicKey;
        validateEncryptionPublicKey(String(m.encryptionKey ?? ""), loc("encryptionKey"));
        return String(m.encryptionKey) as Hex;
      });
      if (plmn && roles && name && encryptionKey && ops.every(Boolean)) {
        members.push({ plmn, roles, name, encryptionKey, operators: ops as string[] });
      }
    }
    if (!members.some((m) => m.roles & ROLE_BITS.governor) && errors.length === 0) {
      errors.push(new InputError("at least one member must have the governor role", { location: at("members") }));
    }
  }
  if (errors.length) throw new InputErrors(errors, { hint: "fix the parameters file; nothing was deployed." });
  return {
    CarrierRegistry: {
      bootstrapMembers: members,
      thresholdBps: thresholdBps as number,
      proposalLifetime: Math.round((days as number) * 24 * 3600),
      infraAccounts: infra as string[],
    },
    UsageLedger: { submissionGrace: Math.round((graceDays as number) * 24 * 3600) },
  };
}
