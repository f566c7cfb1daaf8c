import {
  BaseError as ViemBaseError,
  ContractFunctionZeroDataError,
  getAddress,
  type Address,
  type ContractFunctionReturnType,
  type PublicClient,
} from "viem";
import { DevicePolicy__factory, DeviceRegistry__factory } from "../../typechain-types";
import type { RoamLedgerAddresses } from "./deployment";
import { NO_MAKER } from "../devices/registration";
import { InputError } from "../core/errors";
import type { Hex } from "../util/hex";
import { checkPlmnHex, formatPlmn, parsePlmn } from "../core/plmn";
import { predictPolicyAddress } from "../devices/policy";
import {
  DENY_REASONS,
  DEVICE_CLASSES,
  DEVICE_STATUSES,
  type DenyReasonName,
  type DeviceClassName,
  type DeviceStatusName,
  ROUTINGS,
  SERVICES,
  type RoutingName,
  type ServiceName,
} from "../core/enums";

/** A policy definition, decoded for a visited network's backend. */
export interface PolicyView {
  /** Home carrier that defined it, e.g. "262-01". */
  owner: string;
  /** Services whose bit is set (signalling is always allowed, whether listed or not). */
  services: ServiceName[];
  tariffClass: number;
  routing: RoutingName;
  missionCritical: boolean;
  /** 0: no limit. */
  maxVisitedDays: number;
  /** Unix seconds. */
  validFrom: number;
  /** Unix seconds, exclusive; 0: open-ended. */
  validUntil: number;
  /** 0: no requirement. */
  maxLatencyMs: number;
  /** 0: no requirement. */
  minThroughputKbps: number;
  /** 0: no cap. */
  dailyBytesCap: bigint;
  monthlyBytesCap: bigint;
  dailyEventsCap: number;
  monthlyEventsCap: number;
  /** Allowed visited networks, e.g. "724-05"; empty: any network with a roaming agreement. */
  allowedNetworks: string[];
}

/** What a visited network may do with a device now. */
export interface DecisionView {
  serve: boolean;
  /** Why not, when `serve` is false ("none" when it may serve). */
  reason: DenyReasonName;
  /** May the device be steered away under congestion. */
  steerable: boolean;
  /** Must the data session be home-routed. */
  homeRouted: boolean;
  tariffClass: number;
  /** The policy version the answer is based on (0 for an unknown device). */
  policyVersion: number;
  /**
   * The device's current policy definition; null only for an unknown device (whose other fields are
   * the registry's answer as is: serve false, reason "unknown-device", policyVersion 0).
   */
  policy: PolicyView | null;
}

/** A device record as the registry holds it. */
export interface DeviceView {
  /** Home carrier, e.g. "262-01"; null for an unknown device. */
  home: string | null;
  /** Device maker member, e.g. "999-01"; null when none. */
  maker: string | null;
  deviceClass: DeviceClassName;
  status: DeviceStatusName;
  policyVersion: number;
  policyId: bigint;
  /** Unix seconds. */
  policySince: number;
  /** Unix seconds; 0 for an unknown device. */
  registeredAt: number;
}

export interface RoamLedgerReader {
  /** Registry address (checksummed). */
  readonly registry: Address;
  /** The device's policy contract address, computed off-chain (deployed or not). */
  policyAddress(deviceId: Hex): Promise<Address>;
  /**
   * May `visited` ("724-05" or bytes3 hex) serve `service` to the device now. One `eth_call` to the
   * device's policy contract for a registered device (plus one `policyImplementation()` read, once per
   * reader); for an unregistered one the registry's `decide` answers ("unknown-device").
   */
  decide(deviceId: Hex, visited: string, service: ServiceName): Promise<DecisionView>;
  /** The device record, status "none" when unknown. */
  getDevice(deviceId: Hex): Promise<DeviceView>;
}

const POLICY_ABI = DevicePolicy__factory.abi;
const REGISTRY_ABI = DeviceRegistry__factory.abi;

/** "724-05", "72405" or bytes3 hex (either case) to the on-chain bytes3 id. */
function visitedPlmn(visited: string): Hex {
  if (/^0x[0-9a-fA-F]{6}$/.test(visited)) {
    const hex = visited.toLowerCase();
    checkPlmnHex(hex, "visited network");
    return hex;
  }
  return parsePlmn(visited);
}

function serviceIndex(service: string): number {
  const i = SERVICES.indexOf(service as ServiceName);
  if (i < 0) {
    throw new InputError(`"${service}" is not a service`, { hint: `use one of ${SERVICES.join(", ")}.` });
  }
  return i;
}

function deviceIdHex(deviceId: string): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(deviceId)) {
    throw new InputError("a device id must be 32 bytes of hex", { hint: "pass it as 0x followed by 64 hex digits." });
  }
  return deviceId.toLowerCase() as Hex;
}

function enumName<T extends readonly string[]>(names: T, value: number, what: string): T[number] {
  const name = names[value];
  if (name === undefined) throw new RangeError(`unknown ${what} ${value} returned by the contract`);
  return name;
}

function optionalPlmn(hex: string): string | null {
  return hex === NO_MAKER ? null : formatPlmn(hex);
}

/** What `DevicePolicy.decide` returns, as viem decodes it from the typed ABI. */
type DecideResult = ContractFunctionReturnType<typeof POLICY_ABI, "view", "decide">;
type RawDecision = DecideResult[0];
type RawPolicy = DecideResult[1];

function policyView(p: RawPolicy): PolicyView {
  return {
    owner: formatPlmn(p.owner),
    services: SERVICES.filter((_, i) => (p.services & (1 << i)) !== 0),
    tariffClass: p.tariffClass,
    routing: enumName(ROUTINGS, p.routing, "routing"),
    missionCritical: p.missionCritical,
    maxVisitedDays: p.maxVisitedDays,
    validFrom: p.validFrom,
    validUntil: p.validUntil,
    maxLatencyMs: p.maxLatencyMs,
    minThroughputKbps: p.minThroughputKbps,
    dailyBytesCap: p.dailyBytesCap,
    monthlyBytesCap: p.monthlyBytesCap,
    dailyEventsCap: p.dailyEventsCap,
    monthlyEventsCap: p.monthlyEventsCap,
    allowedNetworks: p.allowedNetworks.map((n) => formatPlmn(n)),
  };
}

function decisionView(d: RawDecision, policy: PolicyView | null): DecisionView {
  return {
    serve: d.serve,
    reason: enumName(DENY_REASONS, d.reason, "deny reason"),
    steerable: d.steerable,
    homeRouted: d.homeRouted,
    tariffClass: d.tariffClass,
    policyVersion: d.policyVersion,
    policy,
  };
}

/** True when viem failed because the called address returned no data (no code there). */
function isZeroData(err: unknown): boolean {
  return err instanceof ViemBaseError && err.walk((e) => e instanceof ContractFunctionZeroDataError) !== null;
}

/**
 * A read-only RoamLedger client for a visited carrier's backend, on viem. The policy implementation
 * address is read once and cached; each device's policy contract address is derived off-chain.
 */
export function createRoamLedgerReader(client: PublicClient, addresses: RoamLedgerAddresses): RoamLedgerReader {
  const registry = getAddress(addresses.deviceRegistry);
  let implementation: Promise<Address> | undefined;

  function policyImplementation(): Promise<Address> {
    if (!implementation) {
      implementation = client
        .readContract({ address: registry, abi: REGISTRY_ABI, functionName: "policyImplementation" })
        .catch((err: unknown) => {
          implementation = undefined; // retry on the next call
          throw err;
        });
    }
    return implementation;
  }

  async function policyAddress(deviceId: Hex): Promise<Address> {
    const id = deviceIdHex(deviceId);
    return getAddress(predictPolicyAddress(registry, await policyImplementation(), id));
  }

  async function decide(deviceId: Hex, visited: string, service: ServiceName): Promise<DecisionView> {
    const id = deviceIdHex(deviceId);
    const args = [visitedPlmn(visited), serviceIndex(service)] as const;
    const address = await policyAddress(id);
    try {
      const [decision, policy] = await client.readContract({
        address,
        abi: POLICY_ABI,
        functionName: "decide",
        args,
      });
      return decisionView(decision, policyView(policy));
    } catch (err) {
      // No clone at the address: the device was never registered. The registry answers for it.
      if (!isZeroData(err)) throw err;
    }
    const decision = await client.readContract({
      address: registry,
      abi: REGISTRY_ABI,
      functionName: "decide",
      args: [id, ...args],
    });
    return decisionView(decision, null);
  }

  async function getDevice(deviceId: Hex): Promise<DeviceView> {
    const d = await client.readContract({
      address: registry,
      abi: REGISTRY_ABI,
      functionName: "getDevice",
      args: [deviceIdHex(deviceId)],
    });
    return {
      home: optionalPlmn(d.home),
      maker: optionalPlmn(d.maker),
      deviceClass: enumName(DEVICE_CLASSES, d.deviceClass, "device class"),
      status: enumName(DEVICE_STATUSES, d.status, "device status"),
      policyVersion: d.policyVersion,
      policyId: d.policyId,
      policySince: d.policySince,
      registeredAt: d.registeredAt,
    };
  }

  return { registry, policyAddress, decide, getDevice };
}
