import { checkBatchSize, itemsPerTx, MEASURED_GAS } from "../chain/gasBudget";
import { InputError, InputErrors, BaseError } from "../core/errors";
import { readCsvWithHeader } from "../util/csv";
import { imsiBelongsTo, validateImsi, createDeviceIdDeriver, scopeDeviceId } from "../core/imsi";
import { formatPlmn, parsePlmn } from "../core/plmn";
import { policyContentHash, type PolicyStruct } from "./policy";
import { sendAndWait } from "../chain/send";
import type { Hex } from "../util/hex";
import type { RoamLedgerClient } from "../chain/client";
import { DEVICE_CLASSES, ROLE_BITS, type DeviceClassName } from "../core/enums";

/** One valid line of a devices file. */
export interface DeviceLine {
  line: number;
  imsi: string;
  /** The on-chain id, scoped by home (see scopeDeviceId in lib/core/imsi). */
  deviceId: Hex;
  /** HMAC of the IMSI under the home's IMSI key: what the registration carries. */
  localId: Hex;
  deviceClass: number;
  policyName: string;
  /** Maker PLMN id (bytes3 hex), 0x000000 when none. */
  maker: Hex;
}

export const NO_MAKER = "0x000000" as Hex;

export interface ReadDevicesOptions {
  /** The carrier registering the devices: every IMSI must be of this network. */
  home: Hex;
  /** The home carrier's IMSI key, which makes the device ids. */
  imsiKey: Uint8Array;
  /** The policies a line may name (those of the policies file). */
  policyNames: ReadonlySet<string>;
}

/**
 * Reads and validates a devices CSV (`imsi,class,policy[,maker]`), streaming. Every bad line is
 * collected; if there is any, InputErrors is thrown and nothing should be sent. Checks: IMSI format,
 * IMSI of the home PLMN, duplicate IMSI in the file, known class, policy named in the policies file,
 * maker PLMN format.
 */
export async function readDevices(file: string, options: ReadDevicesOptions): Promise<DeviceLine[]> {
  const { home, imsiKey, policyNames } = options;
  const homeText = formatPlmn(home);
  const deriveId = createDeviceIdDeriver(imsiKey, home);
  const seen = new Map<string, number>();
  const devices: DeviceLine[] = [];
  const errors: InputError[] = [];
  for await (const row of readCsvWithHeader(file, { required: ["imsi", "class", "policy"] })) {
    if ("error" in row) {
      errors.push(row.error);
      continue;
    }
    const { line, record } = row;
    const location = { file, line };
    try {
      const imsi = record.imsi;
      validateImsi(imsi, { ...location, field: "imsi" });
      if (!imsiBelongsTo(imsi, homeText)) {
        throw new InputError(`IMSI is not of the home network ${homeText}`, {
          location: { ...location, field: "imsi" },
          hint: `register only IMSIs starting with ${homeText.replace("-", "")}: another network's devices are registered by their home carrier.`,
        });
      }
      const first = seen.get(imsi);
      if (first !== undefined) {
        throw new InputError(`duplicate device: same IMSI as line ${first}`, {
          location: { ...location, field: "imsi" },
          hint: "keep one line per device.",
        });
      }
      const deviceClass = DEVICE_CLASSES.indexOf(record.class.trim().toLowerCase() as DeviceClassName);
      if (deviceClass < 0) {
        throw new InputError(`unknown device class "${record.class}"`, {
          location: { ...location, field: "class" },
          hint: `use one of ${DEVICE_CLASSES.join(", ")}.`,
        });
      }
      const policyName = record.policy.trim();
      if (!policyNames.has(policyName)) {
        throw new InputError(`unknown policy "${policyName}"`, {
          location: { ...location, field: "policy" },
          hint: `define it in the policies file; it has: ${[...policyNames].join(", ")}.`,
        });
      }
      const makerText = (record.maker ?? "").trim();
      const maker = makerText ? parsePlmn(makerText, { ...location, field: "maker" }) : NO_MAKER;
      seen.set(imsi, line);
      const localId = deriveId.localId(imsi);
      devices.push({ line, imsi, deviceId: scopeDeviceId(home, localId), localId, deviceClass, policyName, maker });
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      errors.push(err);
    }
  }
  if (errors.length) throw new InputErrors(errors);
  if (devices.length === 0) {
    throw new InputError("no devices in the file", { location: { file }, hint: "add one line per device after the header." });
  }
  return devices;
}

/**
 * Makes sure each policy exists on-chain, defining the missing ones (one transaction each).
 * Returns the policy id per name. Safe to repeat: an identical definition is found by its hash.
 */
export async function ensurePolicies(
  client: RoamLedgerClient,
  policies: ReadonlyMap<string, PolicyStruct>,
  names: Iterable<string>,
): Promise<{ ids: Map<string, bigint>; defined: string[] }> {
  const ids = new Map<string, bigint>();
  const defined: string[] = [];
  for (const name of new Set(names)) {
    const policy = policies.get(name);
    if (!policy) {
      throw new InputError(`unknown policy "${name}"`, { hint: `the policies are: ${[...policies.keys()].join(", ")}.` });
    }
    const hash = policyContentHash(policy);
    let id = await client.devices.policyIdByHash(hash);
    if (id === 0n) {
      await sendAndWait(() => client.devices.definePolicy(policy));
      id = await client.devices.policyIdByHash(hash);
      defined.push(name);
    }
    ids.set(name, id);
  }
  return { ids, defined };
}

/** Checks each distinct maker of the file is an active device-maker member; reports the lines. */
export async function checkMakers(client: RoamLedgerClient, devices: readonly DeviceLine[], file: string): Promise<void> {
  const firstLine = new Map<Hex, number>();
  for (const d of devices) if (d.maker !== NO_MAKER && !firstLine.has(d.maker)) firstLine.set(d.maker, d.line);
  const errors: InputError[] = [];
  for (const [maker, line] of firstLine) {
    if (!(await client.carriers.hasRole(maker, ROLE_BITS["device-maker"]))) {
      errors.push(
        new InputError(`maker ${formatPlmn(maker)} is not an active device-maker member`, {
          location: { file, line, field: "maker" },
          hint: "name a maker that is a member with the device-maker role, or have governance admit it first.",
          next: { operation: "carrier:list" },
        }),
      );
    }
  }
  if (errors.length) throw new InputErrors(errors);
}

/** For each device, whether the chain has it registered already (read in chunks). */
export async function registeredMask(client: RoamLedgerClient, ids: readonly Hex[], chunk = 2000): Promise<boolean[]> {
  const out: boolean[] = [];
  for (let i = 0; i < ids.length; i += chunk) {
    out.push(...(await client.devices.registered(ids.slice(i, i + chunk))));
  }
  return out;
}

export interface RegisterResult {
  registered: number;
  skipped: number;
  transactions: number;
  gasUsed: bigint;
}

/** The registry's `batchLimits().register`: the most devices one registration takes. */
export const MAX_REGISTER_BATCH = 170;

/**
 * Devices per registration transaction by default: as many as 3/4 of the EIP-7825 cap of 16,777,216 gas
 * holds at the measured gas per device (policy clone included; lib/chain/gasBudget.ts), at most the
 * registry's limit.
 */
export const DEFAULT_REGISTER_BATCH = itemsPerTx(MEASURED_GAS.registerDevice, MAX_REGISTER_BATCH);

/**
 * Refuses a batch size the registry would not take (its `batchLimits().register`, read from the chain) or
 * whose transaction would pass the EIP-7825 cap at the measured gas per device; the task calls it before
 * it defines any policy, so that a bad `--batch-size` sends nothing. (At 170, the registry's limit binds
 * first: 170 devices use about 13.5 million gas; the gas check holds for a registry deployed with more.)
 */
export async function checkRegisterBatchSize(client: RoamLedgerClient, batchSize: number): Promise<void> {
  checkBatchSize(batchSize, {
    param: "batchSize",
    gas: MEASURED_GAS.registerDevice,
    contractMax: Number((await client.devices.batchLimits()).register),
    contract: "the device registry (batchLimits().register)",
    unit: "devices",
  });
}

export interface RegisterOptions {
  /** The on-chain id of each policy the devices name (from {@link ensurePolicies}). */
  policyIds: ReadonlyMap<string, bigint>;
  /** Devices per transaction, 1 to the registry's maximum. */
  batchSize: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Registers devices of the signer's carrier, in batches of `batchSize` per transaction. Devices the
 * chain already has are skipped, so a run interrupted at any point (a crash, a killed process, a
 * node outage) is completed by running it again: nothing registered twice, nothing skipped. Each
 * transaction is all-or-nothing on-chain.
 */
export async function registerDevices(
  client: RoamLedgerClient,
  devices: readonly DeviceLine[],
  options: RegisterOptions,
): Promise<RegisterResult> {
  const { batchSize } = options;
  await checkRegisterBatchSize(client, batchSize);
  const registrations = devices.map((d) => registration(d, options.policyIds));
  const mask = await registeredMask(
    client,
    devices.map((d) => d.deviceId),
  );
  const todo = registrations.filter((_, i) => !mask[i]);
  const result: RegisterResult = { registered: 0, skipped: devices.length - todo.length, transactions: 0, gasUsed: 0n };
  options.onProgress?.(0, todo.length);
  for (let i = 0; i < todo.length; i += batchSize) {
    await registerBatch(client, todo.slice(i, i + batchSize), result);
    options.onProgress?.(Math.min(i + batchSize, todo.length), todo.length);
  }
  return result;
}

/** A device as the registry's `registerDevices` takes it, with the id the registry derives. */
interface Registration {
  localId: Hex;
  id: Hex;
  deviceClass: number;
  maker: Hex;
  policyId: bigint;
}

/** What the registry takes: it derives the id itself from the caller's PLMN and the local id. */
function onChain(r: Registration): Omit<Registration, "id"> {
  return { localId: r.localId, deviceClass: r.deviceClass, maker: r.maker, policyId: r.policyId };
}

function registration(d: DeviceLine, policyIds: ReadonlyMap<string, bigint>): Registration {
  const policyId = policyIds.get(d.policyName);
  if (policyId === undefined) {
    throw new InputError(`policy "${d.policyName}" has no on-chain id`, {
      hint: "define the policies the devices name on chain first (ensurePolicies) and pass their ids.",
    });
  }
  return { localId: d.localId, id: d.deviceId, deviceClass: d.deviceClass, maker: d.maker, policyId };
}

/**
 * Registers one batch in one transaction, adding to `result`. A transaction sent before a crash may land
 * while this run is going: what it registered is dropped from the batch, which is sent again (twice at most).
 */
async function registerBatch(client: RoamLedgerClient, batch: Registration[], result: RegisterResult): Promise<void> {
  let todo = batch;
  for (let attempt = 0; todo.length > 0; attempt++) {
    try {
      const receipt = await sendAndWait(() => client.devices.registerDevices(todo.map(onChain)));
      result.transactions++;
      result.gasUsed += receipt.gasUsed;
      result.registered += todo.length;
      return;
    } catch (err) {
      const raced = err instanceof BaseError && (err as { errorName?: string }).errorName === "DeviceRegistryAlreadyRegistered";
      if (!raced || attempt >= 2) throw err;
      const again = await registeredMask(
        client,
        todo.map((r) => r.id),
      );
      result.skipped += again.filter(Boolean).length;
      todo = todo.filter((_, j) => !again[j]);
    }
  }
}
