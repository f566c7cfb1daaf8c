import { AbiCoder, concat, getCreate2Address, keccak256, toBeHex } from "ethers";
import { z } from "zod";
import { InputError, InputErrors } from "../core/errors";
import { parsePlmn } from "../core/plmn";
import type { JsonPath } from "../util/json";
import {
  addProblem,
  checkJson,
  jsonInteger,
  jsonObject,
  jsonUtcTime,
  memberName,
  parsedBy,
  readJsonInput,
  withDefault,
} from "../util/jsonSchema";
import type { Hex } from "../util/hex";
import { ROUTINGS, SERVICES, type ServiceName } from "../core/enums";

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

/** What each field of a policy entry is: the hint shown when it is wrong (see docs/devices.md). */
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

const UINT32_MAX = 2n ** 32n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const MAX_ALLOWED_NETWORKS = 64;

/** An optional count or cap: absent or null is 0. */
const count = (max: bigint) => withDefault(jsonInteger(0n, max), 0n);

const services = z
  .custom<ServiceName[]>((v) => Array.isArray(v) && v.every((s) => SERVICES.includes(s)), {
    error: (issue) => `services must be a list of ${SERVICES.join(", ")}, found ${JSON.stringify(issue.input)}`,
  })
  .transform((list) => list.reduce((bits, s) => bits | (1 << SERVICES.indexOf(s)), 0));

const routing = z
  .enum(ROUTINGS, { error: (issue) => `routing must be ${ROUTINGS.join(" or ")}, found ${JSON.stringify(issue.input)}` })
  .transform((name) => ROUTINGS.indexOf(name));

const allowedNetworks = z.array(
  parsedBy((v) => parsePlmn(String(v))),
  { error: "allowedNetworks must be a list of PLMN ids" },
);

/** One entry of a policies file as the contract's struct for `owner`, with the checks the contract makes. */
function policySchema(owner: Hex) {
  return jsonObject(
    {
      services,
      tariffClass: count(255n),
      routing: withDefault(routing, 0),
      missionCritical: withDefault(z.boolean({ error: "missionCritical must be true or false" }), false),
      maxVisitedDays: count(65_535n),
      validFrom: withDefault(jsonUtcTime(), 0n),
      validUntil: withDefault(jsonUtcTime('write it like "2026-11-01T00:00:00Z", or null.'), 0n),
      maxLatencyMs: count(UINT32_MAX),
      minThroughputKbps: count(UINT32_MAX),
      dailyBytes: count(UINT64_MAX),
      monthlyBytes: count(UINT64_MAX),
      dailyEvents: count(UINT32_MAX),
      monthlyEvents: count(UINT32_MAX),
      allowedNetworks: withDefault(allowedNetworks, []),
    },
    '{ "services": ["data"], "tariffClass": 1 }',
  )
    .transform(
      (p): PolicyStruct => ({
        owner,
        services: p.services,
        tariffClass: Number(p.tariffClass),
        routing: p.routing,
        missionCritical: p.missionCritical,
        maxVisitedDays: Number(p.maxVisitedDays),
        validFrom: p.validFrom,
        validUntil: p.validUntil,
        maxLatencyMs: Number(p.maxLatencyMs),
        minThroughputKbps: Number(p.minThroughputKbps),
        dailyBytesCap: p.dailyBytes,
        monthlyBytesCap: p.monthlyBytes,
        dailyEventsCap: Number(p.dailyEvents),
        monthlyEventsCap: Number(p.monthlyEvents),
        allowedNetworks: p.allowedNetworks,
      }),
    )
    .superRefine((policy, ctx) => {
      for (const [field, message] of policyProblems(policy)) addProblem(ctx, message, { path: [field] });
    });
}

/** The checks the contract makes (PolicyLib.invalidField), as [field of the file, problem]. */
function policyProblems(p: PolicyStruct): [keyof typeof FIELDS, string][] {
  const problems: [keyof typeof FIELDS, string][] = [];
  if (p.validUntil !== 0n && p.validUntil <= p.validFrom) problems.push(["validUntil", "validUntil must be after validFrom"]);
  if (p.dailyBytesCap && p.monthlyBytesCap && p.dailyBytesCap > p.monthlyBytesCap) {
    problems.push(["dailyBytes", "dailyBytes is larger than monthlyBytes"]);
  }
  if (p.dailyEventsCap && p.monthlyEventsCap && p.dailyEventsCap > p.monthlyEventsCap) {
    problems.push(["dailyEvents", "dailyEvents is larger than monthlyEvents"]);
  }
  if (p.allowedNetworks.length > MAX_ALLOWED_NETWORKS)
    problems.push(["allowedNetworks", `at most ${MAX_ALLOWED_NETWORKS} allowed networks`]);
  if (p.allowedNetworks.includes(p.owner)) {
    problems.push(["allowedNetworks", "the home network itself cannot be an allowed visited network"]);
  }
  return problems;
}

/** Names a problem of a policy by its field: `["meter", "allowedNetworks", 0]` -> "allowedNetworks". */
function policyField(path: JsonPath): string | undefined {
  return path.length > 1 ? memberName(path.slice(1)) : undefined;
}

function aboutPolicyField(path: JsonPath): string | undefined {
  const key = policyField(path);
  return key !== undefined && key in FIELDS ? FIELDS[key as keyof typeof FIELDS] : undefined;
}

const isNonEmptyObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length > 0;

/**
 * Reads a policies file: a JSON object `{ "<policy name>": { ...fields } }`. All problems are
 * collected and thrown together as InputErrors, each with its file, line and field.
 */
export function readPolicies(file: string, owner: Hex): Map<string, PolicyStruct> {
  const input = readJsonInput(file, "policies");
  if (!isNonEmptyObject(input.value)) {
    throw new InputError('must be a JSON object of named policies, e.g. { "meter": { "services": ["data"] } }', {
      location: { file, line: 1 },
    });
  }
  const checked = checkJson(input, z.record(z.string(), policySchema(owner)), { field: policyField, about: aboutPolicyField });
  if (!checked.ok) throw new InputErrors(checked.errors);
  return new Map(Object.entries(checked.value));
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
