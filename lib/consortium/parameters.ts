import { getAddress, isAddress } from "ethers";
import { z } from "zod";
import { ConfigError, InputError, InputErrors } from "../core/errors";
import type { JsonPath } from "../util/json";
import { addProblem, checkJson, jsonInteger, jsonObject, memberName, parsedBy, readJsonInput, withDefault } from "../util/jsonSchema";
import { formatPlmn, parsePlmn } from "../core/plmn";
import { validateEncryptionPublicKey } from "../crypto/keys";
import { parseRoles } from "../core/roles";
import type { Hex } from "../util/hex";
import { Keystore } from "../keys/keystore";
import { ROLE_BITS } from "../core/enums";
import { checkTadig, MAX_TADIG_CODES, TADIG_FORMAT } from "./tadig";

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

/** A bootstrap member's TADIG codes, registered by its admin key once it is admitted (`deploy`). */
export interface MemberTadigCodes {
  plmn: Hex;
  codes: string[];
  /** The member's operator accounts (each holds every permission at admission). */
  operators: string[];
}

/** What `deploy` does with a parameters file: the Ignition parameters, then the members' TADIG codes. */
export type DeployParameters = RoamLedgerParameters & { tadig: MemberTadigCodes[] };

/** What each field of a parameters file is: the hint shown when it is wrong. */
const FIELDS = {
  thresholdBps:
    "integer 5001-10000: the share of active governors whose approval carries a proposal, in basis points; a strict majority, so that one of two governors cannot act alone (default 5001)",
  proposalLifetimeDays: "days (more than 0, at most 365) a governance proposal stays open (default 7)",
  submissionGraceDays: "days 0-90 after a period's end during which only the visited carrier may close it (default 3)",
  infraAccounts: "list of accounts that may transact without being a member's operator (the deployer, node operations)",
  members: "non-empty list of bootstrap members { plmn, name, roles, operators, encryptionKey, tadig }",
  plmn: 'the member as MCC-MNC, e.g. "262-01"',
  name: "the member's name, 1 to 64 bytes",
  roles: "list of carrier, device-maker, governor",
  operators: "non-empty list of the member's operator accounts",
  tadig: `optional list of the carrier's TADIG codes (at most ${MAX_TADIG_CODES}, each held by one member; ${TADIG_FORMAT}), registered by its operator once admitted`,
  encryptionKey:
    'the member\'s encryption public key (0x02 or 0x03 and 64 hex digits, printed by keys:init in the carrier\'s own key store); "keystore:<folder>" to read it from that carrier\'s key store; or "dev-keystore" (development chains only) to create it in the deploying key store',
} as const;

/**
 * An account reference in a parameters file: an address, or a number = index into the network's
 * configured accounts (handy on a dev chain), as the checksummed address.
 */
function accountSchema(accounts: readonly string[]) {
  return parsedBy((value) => {
    if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value < accounts.length) return accounts[value];
    if (typeof value === "string" && isAddress(value)) return getAddress(value);
    throw new InputError(`${JSON.stringify(value)} is neither an address nor an account index (0-${accounts.length - 1})`, {
      hint: "write an operator as a 0x address, or as the index of an account configured for this network.",
    });
  });
}

/** A number of days in [min, max] (min itself allowed when `from` is "min", else excluded). */
function days(name: string, range: { min: number; max: number; from: "min" | "above" }, fallback: number) {
  const text = `${name} must be a number of days from ${range.from === "min" ? range.min : range.min + 1} to ${range.max}`;
  const ok = (v: number) => (range.from === "min" ? v >= range.min : v > range.min) && v <= range.max;
  return withDefault(z.number({ error: text }).refine(ok, { error: text }), fallback);
}

/** Where a member's encryption public key comes from, as the parameters file says. */
export type EncryptionKeySource = Hex | { keystore: string } | "dev-keystore";

/** `"keystore"`, `"keystore:<folder>"`, `"dev-keystore"` or a public key (refused: dev-keystore off development chains). */
function encryptionKeySource(value: unknown, development: boolean): EncryptionKeySource {
  const v = String(value);
  if (v === "dev-keystore") {
    if (!development) {
      throw new InputError('"dev-keystore" creates members\' private keys in one key store: development chains only', {
        hint: 'each carrier runs keys:init in its own key store and gives governance its public key: write it here (or "keystore:<folder>").',
      });
    }
    return v;
  }
  if (v === "keystore") {
    throw new InputError(
      '"keystore" no longer says whose key store: write "keystore:<folder>" (the carrier\'s own key store) or the public key',
      {
        hint: 'each carrier creates its key with keys:init --plmn <P> --keystore .roamledger/<P>; "dev-keystore" (development chains only) creates every member\'s key in the deploying key store.',
      },
    );
  }
  if (v.startsWith("keystore:")) {
    const folder = v.slice("keystore:".length).trim();
    if (!folder) throw new InputError('"keystore:" needs the folder of the carrier\'s key store, e.g. "keystore:.roamledger/262-01"');
    return { keystore: folder };
  }
  validateEncryptionPublicKey(v);
  return v as Hex;
}

/** A member as the file has it; its encryption key may still be a key store's. */
function memberSchema(accounts: readonly string[], development: boolean) {
  return jsonObject(
    {
      plmn: parsedBy((v) => parsePlmn(String(v))),
      roles: parsedBy((v) => parseRoles(v, {})),
      name: z
        .string({ error: "name must be 1 to 64 bytes of text" })
        .refine((n) => n.length > 0 && Buffer.byteLength(n) <= 64, { error: "name must be 1 to 64 bytes of text" }),
      operators: z.array(accountSchema(accounts), { error: "operators must be a non-empty list" }).min(1, {
        error: "operators must be a non-empty list",
      }),
      encryptionKey: parsedBy((v) => encryptionKeySource(v, development)),
      tadig: withDefault(
        z
          .array(
            parsedBy((v) => checkTadig(String(v))),
            { error: FIELDS.tadig },
          )
          .max(MAX_TADIG_CODES, { error: FIELDS.tadig }),
        [],
      ),
    },
    '{ "plmn": "262-01", "name": "...", "roles": ["carrier"], "operators": [1], "encryptionKey": "0x02...", "tadig": ["DEUD1"] }',
  );
}

function parametersSchema(accounts: readonly string[], development: boolean) {
  return jsonObject(
    {
      thresholdBps: withDefault(jsonInteger(5001n, 10_000n), 5001n),
      proposalLifetimeDays: days("proposalLifetimeDays", { min: 0, max: 365, from: "above" }, 7),
      submissionGraceDays: days("submissionGraceDays", { min: 0, max: 90, from: "min" }, 3),
      infraAccounts: withDefault(z.array(accountSchema(accounts), { error: "infraAccounts must be a list of accounts" }), []),
      members: z.array(memberSchema(accounts, development), { error: "members must be a non-empty list" }).min(1, {
        error: "members must be a non-empty list",
      }),
    },
    '{ "thresholdBps": 5001, "members": [...] }',
  ).superRefine((p, ctx) => {
    if (!p.members.some((m) => m.roles & ROLE_BITS.governor)) {
      addProblem(ctx, "at least one member must have the governor role", { path: ["members"] });
    }
    checkTadigCodes(p.members, ctx);
  });
}

/** Each TADIG code goes to one carrier member, once: the registry refuses the rest. */
function checkTadigCodes(members: readonly { plmn: Hex; roles: number; tadig: string[] }[], ctx: Parameters<typeof addProblem>[0]): void {
  const holder = new Map<string, string>();
  members.forEach((m, i) => {
    if (m.tadig.length > 0 && !(m.roles & ROLE_BITS.carrier)) {
      addProblem(ctx, `only a carrier member holds TADIG codes; ${formatPlmn(m.plmn)} is not one`, { path: ["members", i, "tadig"] });
    }
    m.tadig.forEach((code, j) => {
      const earlier = holder.get(code);
      if (earlier !== undefined) {
        addProblem(ctx, `TADIG code ${code} is given to ${earlier} already: a code is held by one member, once`, {
          path: ["members", i, "tadig", j],
        });
      }
      holder.set(code, earlier ?? formatPlmn(m.plmn));
    });
  });
}

/** The public key a member's `encryptionKey` stands for. */
function publicKeyOf(plmn: Hex, source: EncryptionKeySource, devKeystore: Keystore): Hex {
  const text = formatPlmn(plmn);
  if (source === "dev-keystore") return devKeystore.ensureEncryptionKey(text).publicKey;
  if (typeof source === "string") return source;
  const own = new Keystore(source.keystore);
  if (!own.hasEncryptionKey(text)) {
    throw new ConfigError(`no encryption key of ${text} in its key store ${own.root} ("encryptionKey": "keystore:${source.keystore}")`, {
      hint: `as ${text}, create it there first; nothing was deployed.`,
      next: { operation: "keys:init", args: { plmn: text, keystore: source.keystore } },
    });
  }
  return own.encryptionKey(text).publicKey;
}

function aboutParameter(path: JsonPath): string | undefined {
  const key = memberName(path);
  return key !== undefined && key in FIELDS ? FIELDS[key as keyof typeof FIELDS] : undefined;
}

/**
 * Reads and validates a deployment parameters file (see ignition/parameters/*.json and README):
 * `{ thresholdBps, proposalLifetimeDays, submissionGraceDays, infraAccounts, members: [{ plmn, name, roles,
 * operators, encryptionKey, tadig }] }`. A carrier's `tadig` codes are not Ignition parameters: `deploy`
 * registers them once the member is admitted, from its operator account (`tadig` of the result). A member's `encryptionKey` is its public key as the carrier gave it, or
 * `"keystore:<folder>"`: read from that carrier's own key store (made by keys:init; never created here), or
 * `"dev-keystore"`: taken (and if needed created) in `keystore`, the deploying key store, for development
 * chains where one machine plays every carrier (`development`; refused elsewhere). Keys are read only once
 * the whole file is valid. All problems are reported together, each with file and line; nothing is deployed
 * unless all is well.
 */
export function readDeployParameters(
  file: string,
  accounts: readonly string[],
  keystore: Keystore,
  options: { development?: boolean } = {},
): DeployParameters {
  const checked = checkJson(readJsonInput(file, "deployment parameters"), parametersSchema(accounts, options.development ?? false), {
    // A problem is named by its member alone (`operators`, not `members[2].operators[0]`): the line says which.
    field: memberName,
    about: aboutParameter,
  });
  if (!checked.ok) throw new InputErrors(checked.errors, { hint: "fix the parameters file; nothing was deployed." });
  const p = checked.value;
  const bootstrapMembers = p.members.map(({ tadig: _, ...m }) => ({ ...m, encryptionKey: publicKeyOf(m.plmn, m.encryptionKey, keystore) }));
  return {
    CarrierRegistry: {
      bootstrapMembers,
      thresholdBps: Number(p.thresholdBps),
      proposalLifetime: Math.round(p.proposalLifetimeDays * 24 * 3600),
      infraAccounts: p.infraAccounts,
    },
    UsageLedger: { submissionGrace: Math.round(p.submissionGraceDays * 24 * 3600) },
    tadig: p.members.filter((m) => m.tadig.length > 0).map((m) => ({ plmn: m.plmn, codes: m.tadig, operators: m.operators })),
  };
}
