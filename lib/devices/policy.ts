import { AbiCoder, concat, getCreate2Address, keccak256, toBeHex } from "ethers";
import { InputError, InputErrors, type InputLocation } from "../core/errors";
import { parsePlmn } from "../core/plmn";
import { lineOf, readJsonFile } from "../util/json";
import type { Hex } from "../util/hex";
import { ROUTINGS, SERVICES, type RoutingName, type ServiceName } from "../core/enums";

/** The contract's `Policy` struct, as ethers passes it. */
export interface PolicyStruct {
  owner: Hex;
  services: number;
  tariffClass: number;
  routing: number;
  missionCritical: boolean;
  maxVisitedDays: number;
  validFrom: bigint;
  validUntil: bigint;
  maxLatencyMs: number;
  minThroughputKbps: number;
  dailyBytesCap: bigint;
  monthlyBytesCap: bigint;
  dailyEventsCap: number;
  monthlyEventsCap: number;
  allowedNetworks: Hex[];
}

const POLICY_TUPLE =
  "tuple(bytes3 owner, uint8 services, uint8 tariffClass, uint8 routing, bool missionCritical, uint16 maxVisitedDays, " +
  "uint40 validFrom, uint40 validUntil, uint32 maxLatencyMs, uint32 minThroughputKbps, uint64 dailyBytesCap, " +
  "uint64 monthlyBytesCap, uint32 dailyEventsCap, uint32 monthlyEventsCap, bytes3[] allowedNetworks)";

/** `keccak256(abi.encode(policy))`, the key under which the registry dedupes definitions. */
export function policyContentHash(policy: PolicyStruct): Hex {
  return keccak256(AbiCoder.defaultAbiCoder().encode([POLICY_TUPLE], [policy])) as Hex;
}

/** Fields a policy entry of a policies file may have; see docs/devices.md. */
const FIELDS = {
  services: "list of data, sms, voice (signalling is always allowed)",
  tariffClass: "integer 0-255: the agreement's tariff class",
  routing: "home-routed or local-breakout",
  missionCritical: "true or false: never steer under congestion",
  maxVisitedDays: "integer 0-65535: days before a permanent roamer (0: no limit)",
  validFrom: "ISO 8601 UTC time, e.g. 2026-01-01T00:00:00Z",
  validUntil: "ISO 8601 UTC time or null (open-ended)",
  maxLatencyMs: "integer ms (0: no requirement)",
  minThroughputKbps: "integer kbps (0: no requirement)",
  dailyBytes: "integer bytes per day (0: no cap)",
  monthlyBytes: "integer bytes per month (0: no cap)",
  dailyEvents: "integer signalling events per day (0: no cap)",
  monthlyEvents: "integer signalling events per month (0: no cap)",
  allowedNetworks: 'list of PLMN ids like "724-05" (empty: any network with an agreement)',
} as const;

type Raw = Record<string, unknown>;

function integer(raw: Raw, key: string, max: number | bigint, at: InputLocation): bigint {
  const v = raw[key] ?? 0;
  const ok = (typeof v === "number" && Number.isInteger(v)) || (typeof v === "string" && /^\d+$/.test(v));
  if (!ok || BigInt(v as number | string) < 0n || BigInt(v as number | string) > BigInt(max)) {
    throw new InputError(`${key} must be an integer from 0 to ${max}, found ${JSON.stringify(v)}`, {
      location: { ...at, field: key },
      hint: `${key}: ${FIELDS[key as keyof typeof FIELDS]}.`,
    });
  }
  return BigInt(v as number | string);
}

function timestamp(raw: Raw, key: string, at: InputLocation, nullable: boolean): bigint {
  const v = raw[key];
  if ((v === null || v === undefined) && nullable) return 0n;
  const ms = typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) {
    throw new InputError(`${key} must be an ISO 8601 UTC time, found ${JSON.stringify(v)}`, {
      location: { ...at, field: key },
      hint: `write it like "2026-01-01T00:00:00Z"${nullable ? ", or null" : ""}.`,
    });
  }
  return BigInt(Math.floor(ms / 1000));
}

/** Validates one policy entry of a policies file and builds the contract struct for `owner`. */
export function policyFromJson(raw: unknown, owner: Hex, at: InputLocation): PolicyStruct {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InputError("a policy must be a JSON object", { location: at, hint: "see docs/devices.md for its fields." });
  }
  const r = raw as Raw;
  for (const key of Object.keys(r)) {
    if (!(key in FIELDS)) {
      throw new InputError(`unknown field "${key}"`, {
        location: { ...at, field: key },
        hint: `the fields are: ${Object.keys(FIELDS).join(", ")}.`,
      });
    }
  }
  const services = r.services;
  if (!Array.isArray(services) || services.some((s) => !SERVICES.includes(s as ServiceName))) {
    throw new InputError(`services must be a list of ${SERVICES.join(", ")}, found ${JSON.stringify(services)}`, {
      location: { ...at, field: "services" },
      hint: 'e.g. "services": ["data", "sms"].',
    });
  }
  const routing = r.routing ?? "home-routed";
  if (!ROUTINGS.includes(routing as RoutingName)) {
    throw new InputError(`routing must be ${ROUTINGS.join(" or ")}, found ${JSON.stringify(routing)}`, {
      location: { ...at, field: "routing" },
    });
  }
  if (r.missionCritical !== undefined && typeof r.missionCritical !== "boolean") {
    throw new InputError("missionCritical must be true or false", { location: { ...at, field: "missionCritical" } });
  }
  const networks = r.allowedNetworks ?? [];
  if (!Array.isArray(networks)) {
    throw new InputError("allowedNetworks must be a list of PLMN ids", {
      location: { ...at, field: "allowedNetworks" },
      hint: 'e.g. "allowedNetworks": ["724-05", "310-410"].',
    });
  }
  const policy: PolicyStruct = {
    owner,
    services: services.reduce((bits: number, s) => bits | (1 << SERVICES.indexOf(s as ServiceName)), 0),
    tariffClass: Number(integer(r, "tariffClass", 255, at)),
    routing: ROUTINGS.indexOf(routing as RoutingName),
    missionCritical: r.missionCritical === true,
    maxVisitedDays: Number(integer(r, "maxVisitedDays", 65535, at)),
    validFrom: r.validFrom === undefined ? 0n : timestamp(r, "validFrom", at, false),
    validUntil: timestamp(r, "validUntil", at, true),
    maxLatencyMs: Number(integer(r, "maxLatencyMs", 2 ** 32 - 1, at)),
    minThroughputKbps: Number(integer(r, "minThroughputKbps", 2 ** 32 - 1, at)),
    dailyBytesCap: integer(r, "dailyBytes", 2n ** 64n - 1n, at),
    monthlyBytesCap: integer(r, "monthlyBytes", 2n ** 64n - 1n, at),
    dailyEventsCap: Number(integer(r, "dailyEvents", 2 ** 32 - 1, at)),
    monthlyEventsCap: Number(integer(r, "monthlyEvents", 2 ** 32 - 1, at)),
    allowedNetworks: networks.map((n) => parsePlmn(String(n), { ...at, field: "allowedNetworks" })),
  };
  checkPolicy(policy, at);
  return policy;
}

/** The checks the contract makes (PolicyLib.invalidField), made before anything is sent. */
export function checkPolicy(p: PolicyStruct, at: InputLocation): void {
  const fail = (field: string, msg: string) => {
    throw new InputError(msg, { location: { ...at, field } });
  };
  if (p.validUntil !== 0n && p.validUntil <= p.validFrom) fail("validUntil", "validUntil must be after validFrom");
  if (p.dailyBytesCap && p.monthlyBytesCap && p.dailyBytesCap > p.monthlyBytesCap) {
    fail("dailyBytes", "dailyBytes is larger than monthlyBytes");
  }
  if (p.dailyEventsCap && p.monthlyEventsCap && p.dailyEventsCap > p.monthlyEventsCap) {
    fail("dailyEvents", "dailyEvents is larger than monthlyEvents");
  }
  if (p.allowedNetworks.length > 64) fail("allowedNetworks", "at most 64 allowed networks");
  if (p.allowedNetworks.includes(p.owner)) {
    fail("allowedNetworks", "the home network itself cannot be an allowed visited network");
  }
}

/**
 * Reads a policies file: a JSON object `{ "<policy name>": { ...fields } }`. All problems are
 * collected and thrown together as InputErrors, each with its file and line.
 */
export function readPolicies(file: string, owner: Hex): Map<string, PolicyStruct> {
  const { value: parsed, text } = readJsonFile(file, "policies");
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
    throw new InputError('must be a JSON object of named policies, e.g. { "meter": { "services": ["data"] } }', {
      location: { file, line: 1 },
    });
  }
  const out = new Map<string, PolicyStruct>();
  const errors: InputError[] = [];
  for (const [name, raw] of Object.entries(parsed)) {
    try {
      out.set(name, policyFromJson(raw, owner, { file, line: lineOf(text, name) }));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      errors.push(err);
    }
  }
  if (errors.length) throw new InputErrors(errors);
  return out;
}

/**
 * Address of a device's policy contract: the CREATE2 address of OpenZeppelin's ERC-1167 clone with
 * immutable args (`Clones.cloneDeterministicWithImmutableArgs`), args = salt = the device id.
 * Anyone can compute it off-chain from the registry, the implementation and the device id.
 */
export function predictPolicyAddress(registry: string, implementation: string, deviceId: Hex): string {
  const args = deviceId;
  const initCode = concat([
    "0x61",
    toBeHex(32 + 45, 2),
    "0x3d81600a3d39f3363d3d373d3d3d363d73",
    implementation,
    "0x5af43d82803e903d91602b57fd5bf3",
    args,
  ]);
  return getCreate2Address(registry, deviceId, keccak256(initCode));
}
