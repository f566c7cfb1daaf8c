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
  /** The current policy (undefined for an unknown device); {@link DeviceResolver.policyAt} gives a past one. */
  policy: PolicyRules | undefined;
  /** The current policy version (from 1) and when it started to apply (unix seconds); 0 when unknown. */
  policyVersion: number;
  policySince: number;
  /**
   * The older versions read so far, newest first, each with its window [since, until): read on demand, only
   * for devices with a record older than `policySince` (a policy update), and once per device.
   */
  history: PolicyWindow[] | undefined;
  /** The device id's 32 bytes: `ids` at `idAt` (a table the resolver shares among devices). */
  ids: Uint8Array;
  idAt: number;
  /** Hot-path cache of the ingest (set by its user): the check state. */
  state: unknown;
  stateOwner: unknown;
}

/** One past version of a device's policy and the window it applied in: [since, until). */
export interface PolicyWindow {
  version: number;
  since: number;
  until: number;
  rules: PolicyRules;
}

/** Device ids per table of the resolver: 32 bytes each, 128 KiB a table. */
const IDS_PER_TABLE = 4096;

/** Where devices and policies are read from: the DeviceRegistry, or a fake in tests. */
export interface DeviceSource {
  getDevices(
    ids: Hex[],
  ): Promise<{ status: number; home: Hex; maker: Hex; policyId: bigint; policyVersion?: number; policySince?: number }[]>;
  getPolicy(policyId: bigint): Promise<PolicyStruct>;
  /**
   * A past version of a device's policy (`IDeviceRegistry.policyVersion`): its definition's id and window.
   * A source without it has no history: every record is checked against the current policy.
   */
  policyVersion?(id: Hex, version: number): Promise<{ policyId: bigint; since: number; until: number }>;
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
        policyVersion: Number(d.policyVersion),
        policySince: Number(d.policySince),
      }));
    },
    async policyVersion(id, version) {
      const v = await withDecodedRevert(() => registry.policyVersion(id, version));
      return { policyId: BigInt(v.policyId), since: Number(v.since), until: Number(v.until) };
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
    const started = Date.now();
    const found = await this.source.getDevices(ids);
    this.readMs += Date.now() - started;
    this.reads++;
    for (const d of found) {
      if (d.status !== STATUS.None) await this.rulesOf(d.policyId);
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
        policyVersion: d.policyVersion ?? 0,
        policySince: d.policySince ?? 0,
        history: undefined,
        ids: this.idTable,
        idAt,
        state: undefined,
        stateOwner: undefined,
      };
      this.byImsi.set(own, device);
      this.devices.push(device);
    });
  }

  /**
   * Reads the past policy versions that the records of `devices` (in the same order, with their start
   * times) need: for each device with a record that started before its current version, the versions back
   * to the one in force at its earliest such record. Each version is read once per run, each definition
   * once; devices whose records all fall in their current version cost nothing.
   */
  async loadHistory(devices: readonly ResolvedDevice[], startTimes: readonly number[]): Promise<void> {
    if (!this.source.policyVersion) return;
    const earliest = new Map<ResolvedDevice, number>();
    for (let i = 0; i < devices.length; i++) {
      const d = devices[i];
      if (d.policy === undefined || d.policyVersion <= 1 || startTimes[i] >= d.policySince) continue;
      const known = earliest.get(d);
      if (known === undefined || startTimes[i] < known) earliest.set(d, startTimes[i]);
    }
    for (const [device, time] of earliest) await this.readBack(device, time);
  }

  /**
   * The policy in force for `device` at `time` (unix seconds): the version whose window [since, until)
   * holds it, the current one from `policySince` on. Before the first version's start (usage before the
   * device was registered) the first version applies: it was set at registration and cannot change. Needs
   * {@link loadHistory} for the records' times first; a source without history gives the current policy.
   * Undefined for an unknown device.
   */
  policyAt(device: ResolvedDevice, time: number): PolicyRules | undefined {
    const current = device.policy;
    if (current === undefined || time >= device.policySince || device.policyVersion <= 1 || !this.source.policyVersion) return current;
    const history = device.history ?? [];
    for (const v of history) if (time >= v.since) return v.rules;
    const first = history[history.length - 1];
    if (first?.version !== 1) throw new Error(`the policy history of device ${device.deviceId} was not read back to ${time}`);
    return first.rules;
  }

  /** Reads versions of `device` older than those held, down to the one in force at `time` or version 1. */
  private async readBack(device: ResolvedDevice, time: number): Promise<void> {
    if (device.history === undefined) device.history = [];
    const history = device.history;
    let version = history.length > 0 ? history[history.length - 1].version - 1 : device.policyVersion - 1;
    let since = history.length > 0 ? history[history.length - 1].since : device.policySince;
    const read = this.source.policyVersion;
    while (read && version >= 1 && since > time) {
      const started = Date.now();
      const v = await read(device.deviceId, version);
      this.readMs += Date.now() - started;
      this.reads++;
      history.push({ version, since: v.since, until: v.until, rules: await this.rulesOf(v.policyId) });
      since = v.since;
      version--;
    }
  }

  /** The rules of a policy definition, read once per run. */
  private async rulesOf(policyId: bigint): Promise<PolicyRules> {
    const known = this.policies.get(policyId);
    if (known) return known;
    const started = Date.now();
    const policy = await this.source.getPolicy(policyId);
    this.readMs += Date.now() - started;
    this.reads++;
    const rules = policyRules(policyId, policy);
    this.policies.set(policyId, rules);
    return rules;
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
