import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { ConfigError, InputError, InputErrors } from "../../lib/core/errors";
import { formatPlmn, parsePlmn } from "../../lib/core/plmn";
import { writeFileAtomic } from "../../lib/util/fsAtomic";
import { addProblem, checkJson, jsonObject, parsedBy, readJsonInput } from "../../lib/util/jsonSchema";

/**
 * Carrier profiles: who a command acts as. `roamledger.json` in the project root (or the file named by
 * `ROAMLEDGER_CONFIG`) holds `{ "profiles": { "<name>": { plmn, from, keystore?, store?, network? } } }`;
 * `ROAMLEDGER_PROFILE=<name>` picks one, and a file with exactly one profile makes it the default. A task's
 * explicit `--from`, `--keystore`, `--store` and `--network` win over the profile.
 */

/** One carrier profile, its paths resolved against the folder of the file that holds it. */
export interface Profile {
  name: string;
  /** The carrier's PLMN id as text ("262-01"). */
  plmn: string;
  /** Its operator account: an index into the network's accounts or an address. */
  from: string;
  keystore?: string;
  store?: string;
  network?: string;
  /** The profiles file it comes from. */
  file: string;
}

/** The active profile and why it is the active one. */
export interface ActiveProfile {
  profile: Profile;
  /** "ROAMLEDGER_PROFILE=262-01" or "the only profile in /x/roamledger.json". */
  source: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const EXAMPLE = '{ "plmn": "262-01", "from": "1", "keystore": ".roamledger/262-01", "network": "localhost" }';

const text = (what: string, hint: string) =>
  z.string({ error: `${what} must be a string` }).refine((v) => v.trim() !== "", { error: `${what} must not be empty`, params: { hint } });

const profileSchema = jsonObject(
  {
    plmn: parsedBy((v) => formatPlmn(parsePlmn(String(v)))),
    from: z
      .union([z.string(), z.number()], { error: "from must be an account index (0, 1, ...) or a 0x address" })
      .transform((v) => String(v))
      .refine((v) => /^\d+$/.test(v) || /^0x[0-9a-fA-F]{40}$/.test(v), {
        error: "from must be an account index (0, 1, ...) or a 0x address",
        params: { hint: 'write the carrier\'s operator account, e.g. "1" or "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".' },
      }),
    keystore: text("keystore", 'write the folder of this carrier\'s key store, e.g. ".roamledger/262-01".').optional(),
    store: text("store", "write the folder of this carrier's sealed-payload store, or leave the field out.").optional(),
    network: text("network", "write a network of the Hardhat config (localhost, besu), or leave the field out.").optional(),
  },
  EXAMPLE,
);

const fileSchema = jsonObject(
  {
    profiles: z
      .record(z.string(), profileSchema, { error: "profiles must be a JSON object of named profiles" })
      .superRefine((profiles, ctx) => {
        for (const name of Object.keys(profiles)) {
          if (!NAME.test(name)) {
            addProblem(ctx, `profile name ${JSON.stringify(name)} is not a plain name`, {
              path: [name],
              hint: "use letters, digits, '.', '_' and '-' (e.g. 262-01 or telekom), as it is written after ROAMLEDGER_PROFILE=.",
            });
          }
        }
      }),
  },
  `{ "profiles": { "262-01": ${EXAMPLE} } }`,
);

/** The profiles file: `$ROAMLEDGER_CONFIG`, else `roamledger.json` in the project root. */
export function profilesFile(root: string): string {
  const configured = process.env.ROAMLEDGER_CONFIG?.trim();
  return path.resolve(root, configured || "roamledger.json");
}

/** Every profile of `file` (checked: each problem with its line), or none when the file does not exist. */
export function readProfiles(file: string, networks?: readonly string[]): Profile[] {
  if (!fs.existsSync(file)) return [];
  const input = readJsonInput(file, "profiles file");
  const checked = checkJson(input, fileSchema);
  if (!checked.ok) throw new InputErrors(checked.errors, { hint: "fix the profiles file (docs: README, Carrier profiles)." });
  const dir = path.dirname(file);
  const resolve = (p?: string) => (p === undefined ? undefined : path.resolve(dir, p));
  const profiles = Object.entries(checked.value.profiles).map(([name, p]) => ({
    name,
    plmn: p.plmn,
    from: p.from,
    keystore: resolve(p.keystore),
    store: resolve(p.store),
    network: p.network,
    file,
  }));
  for (const p of profiles) {
    if (networks && p.network !== undefined && !networks.includes(p.network)) {
      throw new InputError(
        `profile ${p.name}: network ${JSON.stringify(p.network)} is not a network of the Hardhat config (config/base.ts)`,
        {
          location: { file, line: lineOf(input.text, `"${p.network}"`) },
          hint: `use one of ${networks.join(", ")}, or leave "network" out.`,
        },
      );
    }
  }
  return profiles;
}

function lineOf(text: string, needle: string): number | undefined {
  const at = text.indexOf(needle);
  return at < 0 ? undefined : text.slice(0, at).split("\n").length;
}

/**
 * The active profile: the one `ROAMLEDGER_PROFILE` names, else the only profile of the file; undefined when
 * there is no file, or several profiles and none chosen.
 */
export function activeProfile(root: string, networks?: readonly string[]): ActiveProfile | undefined {
  const file = profilesFile(root);
  const chosen = process.env.ROAMLEDGER_PROFILE?.trim();
  if (!chosen) {
    const profiles = readProfiles(file, networks);
    return profiles.length === 1 ? { profile: profiles[0], source: `the only profile in ${file}` } : undefined;
  }
  if (!fs.existsSync(file)) {
    throw new ConfigError(`ROAMLEDGER_PROFILE=${chosen}, but there is no profiles file ${file}`, {
      hint: "create the profile with `npx hardhat profile:add --name <name> --plmn <MCC-MNC> --from <account>`, set ROAMLEDGER_CONFIG to your profiles file, or unset ROAMLEDGER_PROFILE.",
    });
  }
  const profiles = readProfiles(file, networks);
  const profile = profiles.find((p) => p.name === chosen);
  if (!profile) {
    throw new ConfigError(`ROAMLEDGER_PROFILE=${chosen}: ${file} has no profile ${JSON.stringify(chosen)}`, {
      hint: profiles.length
        ? `set ROAMLEDGER_PROFILE to one of ${profiles.map((p) => p.name).join(", ")}, or add it with profile:add.`
        : "add it with `npx hardhat profile:add`.",
    });
  }
  return { profile, source: `ROAMLEDGER_PROFILE=${chosen}` };
}

/** Adds (or replaces) a profile in the profiles file, atomically; the other profiles are kept as written. */
export function saveProfile(
  file: string,
  name: string,
  profile: { plmn: string; from: string; keystore?: string; store?: string; network?: string },
): { replaced: boolean } {
  if (!NAME.test(name)) {
    throw new InputError(`--name ${JSON.stringify(name)} is not a plain name`, {
      hint: "use letters, digits, '.', '_' and '-' (e.g. 262-01 or telekom).",
    });
  }
  readProfiles(file); // refuses to rewrite a file that is not valid
  const raw = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as { profiles: Record<string, unknown> }) : { profiles: {} };
  const replaced = name in raw.profiles;
  const entry = Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== undefined && v !== ""));
  raw.profiles[name] = entry;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(raw, null, 2)}\n`);
  return { replaced };
}
