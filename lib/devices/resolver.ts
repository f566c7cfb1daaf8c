import type { DeviceRegistry } from "../../typechain-types";
import { DEVICE_STATUSES } from "../core/enums";
import { createDeviceIdDeriver } from "../core/imsi";
import { hexToBytes, type Hex } from "../util/hex";
import type { PolicyStruct } from "./policy";
import { withDecodedRevert } from "../chain/revert";

/** What the ingest needs of a policy, normalized once per definition. */
export interface PolicyRules {
  policyId: bigint;
  services: number;
  tariffClass: number;
  maxVisitedDays: number;
  /** Unix seconds; validUntil 0 = open-ended. */
  validFrom: number;
  validUntil: number;
  dailyBytesCap: number;
  monthlyBytesCap: number;
  dailyEventsCap: number;
  monthlyEventsCap: number;
  /** Empty: any network with an agreement. */
  allowedNetworks: Set<string>;
}

/** Device status codes, as the contract's `DeviceStatus` (their names in DEVICE_STATUSES). */
export const STATUS = {
  None: DEVICE_STATUSES.indexOf("none"),
  Active: DEVICE_STATUSES.indexOf("active"),
  Suspended: DEVICE_STATUSES.indexOf("suspended"),
  FraudFlagged: DEVICE_STATUSES.indexOf("fraud-flagged"),
} as const;

/** A device as the visited carrier's ingest sees it. `index` numbers devices of one run from 0. */
export interface ResolvedDevice {
  index: number;
  imsi: string;
  deviceId: Hex;
  /** 0 when the device is unknown. */
  status: number;
  home: Hex;
  maker: Hex;
  policy: PolicyRules | undefined;
  /** The device id's 32 bytes: `ids` at `idAt` (a table the resolver shares among devices). */
  ids: Uint8Array;
  idAt: number;
  /** Hot-path cache of the ingest (set by its user): the check state. */
  state: unknown;
  stateOwner: unknown;
}

/** Device ids per table of the resolver: 32 bytes each, 128 KiB a table. */
const IDS_PER_TABLE = 4096;

/** Where devices and policies are read from: the DeviceRegistry, or a fake in tests. */
export interface DeviceSource {
  getDevices(ids: Hex[]): Promise<{ status: number; home: Hex; maker: Hex; policyId: bigint }[]>;
  getPolicy(policyId: bigint): Promise<PolicyStruct>;
}

/** Reads in chunks of this many ids per eth_call. */
export const DEVICE_READ_CHUNK = 1000;

/** A DeviceSource over the registry contract: one call per 1,000 devices, one per distinct policy. */
export function registrySource(registry: DeviceRegistry): DeviceSource {
  return {
    async getDevices(ids) {
      const out = await withDecodedRevert(() => registry.getDevices(ids));
      return out.map((d) => ({
        status: Number(d.status),
        home: (d.home as string).toLowerCase() as Hex,
        maker: (d.maker as string).toLowerCase() as Hex,
        policyId: BigInt(d.policyId),
      }));
    },
    async getPolicy(policyId) {
      const p = await withDecodedRevert(() => registry.getPolicy(policyId));
      return {
        owner: p.owner as Hex,
        services: Number(p.services),
        tariffClass: Number(p.tariffClass),
        routing: Number(p.routing),
        missionCritical: p.missionCritical,
        maxVisitedDays: Number(p.maxVisitedDays),
        validFrom: BigInt(p.validFrom),
        validUntil: BigInt(p.validUntil),
        maxLatencyMs: Number(p.maxLatencyMs),
        minThroughputKbps: Number(p.minThroughputKbps),
        dailyBytesCap: BigInt(p.dailyBytesCap),
        monthlyBytesCap: BigInt(p.monthlyBytesCap),
        dailyEventsCap: Number(p.dailyEventsCap),
        monthlyEventsCap: Number(p.monthlyEventsCap),
        allowedNetworks: p.allowedNetworks.map((n: string) => n.toLowerCase() as Hex),
      };
    },
  };
}

/** Caps beyond 2^53 bytes are no cap in practice: JS numbers keep the hot path free of bigint. */
function capNumber(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(value);
}

export function policyRules(policyId: bigint, p: PolicyStruct): PolicyRules {
  return {
    policyId,
    services: p.services,
    tariffClass: p.tariffClass,
    maxVisitedDays: p.maxVisitedDays,
    validFrom: Number(p.validFrom),
    validUntil: Number(p.validUntil),
    dailyBytesCap: capNumber(p.dailyBytesCap),
    monthlyBytesCap: capNumber(p.monthlyBytesCap),
    dailyEventsCap: p.dailyEventsCap,
    monthlyEventsCap: p.monthlyEventsCap,
    allowedNetworks: new Set(p.allowedNetworks.map((n) => n.toLowerCase())),
  };
}

/**
 * Resolves IMSIs to devices and policies with a cache: each IMSI is hashed (HMAC under the home
 * carrier's IMSI key) and read once per run, each policy definition once. Reads are batched: the ingest
 * passes the IMSIs of a whole chunk of records to `resolveEach`.
 *
 * Memory: a run may see hundreds of thousands of devices, so a device costs a few hundred bytes: its id
 * bytes sit in shared tables, carrier and maker addresses are shared strings, and the IMSI is a copy
 * of its own (a slice of the record's line would keep the whole line alive).
 */
export class DeviceResolver {
  private readonly byImsi = new Map<string, ResolvedDevice>();
  private readonly policies = new Map<bigint, PolicyRules>();
  private readonly addresses = new Map<string, Hex>();
  private idTable = new Uint8Array(0);
  private readonly deriveId: (imsi: string) => Hex;
  /** Devices in the order they were first seen. */
  readonly devices: ResolvedDevice[] = [];
  reads = 0;
  /** Milliseconds spent waiting for the source (chain reads); hashing IMSIs and the cache are not in it. */
  readMs = 0;

  constructor(
    private readonly source: DeviceSource,
    imsiKey: Uint8Array,
    home: Hex,
  ) {
    this.deriveId = createDeviceIdDeriver(imsiKey, home);
  }

  /** The devices of `imsis`, in the same order, reading what is not cached (one cache lookup per IMSI). */
  async resolveEach(imsis: readonly string[]): Promise<ResolvedDevice[]> {
    const out = new Array<ResolvedDevice>(imsis.length);
    const missingAt: number[] = [];
    for (let i = 0; i < imsis.length; i++) {
      const d = this.byImsi.get(imsis[i]);
      if (d) out[i] = d;
      else missingAt.push(i);
    }
    if (missingAt.length === 0) return out;
    const unique = [...new Set(missingAt.map((at) => imsis[at]))];
    for (let i = 0; i < unique.length; i += DEVICE_READ_CHUNK) await this.read(unique.slice(i, i + DEVICE_READ_CHUNK));
    for (const at of missingAt) {
      const d = this.byImsi.get(imsis[at]);
      // read() resolves every IMSI it is given, known to the registry or not.
      if (d === undefined) throw new Error(`the device of IMSI ${imsis[at]} was read but not kept`);
      out[at] = d;
    }
    return out;
  }

  private async read(slice: string[]): Promise<void> {
    const ids = slice.map((imsi) => this.deriveId(imsi));
    let started = Date.now();
    const found = await this.source.getDevices(ids);
    this.readMs += Date.now() - started;
    this.reads++;
    for (const d of found) {
      if (d.status !== STATUS.None && !this.policies.has(d.policyId)) {
        started = Date.now();
        const policy = await this.source.getPolicy(d.policyId);
        this.readMs += Date.now() - started;
        this.policies.set(d.policyId, policyRules(d.policyId, policy));
        this.reads++;
      }
    }
    slice.forEach((imsi, k) => {
      const d = found[k];
      const index = this.devices.length;
      const idAt = (index % IDS_PER_TABLE) * 32;
      if (idAt === 0) this.idTable = new Uint8Array(IDS_PER_TABLE * 32);
      this.idTable.set(hexToBytes(ids[k], { byteLength: 32, what: "device id" }), idAt);
      const own = copyString(imsi);
      const device: ResolvedDevice = {
        index,
        imsi: own,
        deviceId: ids[k],
        status: d.status,
        home: this.shared(d.home),
        maker: this.shared(d.maker),
        policy: d.status === STATUS.None ? undefined : this.policies.get(d.policyId),
        ids: this.idTable,
        idAt,
        state: undefined,
        stateOwner: undefined,
      };
      this.byImsi.set(own, device);
      this.devices.push(device);
    });
  }

  /** One string per distinct carrier or maker address. */
  private shared(address: Hex): Hex {
    const known = this.addresses.get(address);
    if (known !== undefined) return known;
    this.addresses.set(address, address);
    return address;
  }
}

/** A copy of `text` that shares no memory with the string it was cut from. */
function copyString(text: string): string {
  return Buffer.from(text, "utf8").toString("utf8");
}
