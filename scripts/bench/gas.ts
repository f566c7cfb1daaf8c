import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import hre from "hardhat";
import { takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Signer, TypedDataDomain } from "ethers";
import { CloneGas__Mock__factory, NaiveUsageLedger__Mock__factory } from "../../typechain-types";
import { connectRoamLedger, type RoamLedgerClient } from "../../lib/chain/client";
import { readPolicies } from "../../lib/devices/policy";
import { readDevices, ensurePolicies, registerDevices, DEFAULT_REGISTER_BATCH } from "../../lib/devices/registration";
import { pairwiseKey } from "../../lib/crypto/pairwise";
import { formatPlmn } from "../../lib/core/plmn";
import { BatchBuilder } from "../../lib/usage/batchBuilder";
import { batchId, ledgerDomain, signBatch, toContractBatch } from "../../lib/usage/batch";
import { FolderStore, type ContentStore } from "../../lib/usage/store";
import type { CheckOutcome } from "../../lib/usage/check";
import type { LocalBatch, ParsedRecord, UsageBatch } from "../../lib/usage/types";
import type { Hex } from "../../lib/util/hex";
import { deployConsortium, agreeDeBr, addressesOf, PLMN, type Consortium } from "../../test/helpers/fixtures";
import { POLICIES, testPrivateKey } from "../../test/helpers/ingest";
import { randomRecords } from "../../test/helpers/usage";
import { monthOf } from "../../test/helpers/period";
import { mined, present } from "../util";
import { median } from "./util";

/**
 * Gas benchmarks on the in-process Hardhat network (`npm run bench`, run with `hardhat run`): what a
 * usage batch costs on-chain against its size, what the naive per-record design costs, a device
 * registration, a settlement. Every number is a receipt's gasUsed of a transaction sent here.
 *
 * Each function deploys its own RoamLedger (the Ignition module, test/helpers/fixtures.ts), works inside a
 * chain snapshot that it restores when it returns (time travel and state included), and removes its
 * temporary folders: the functions can run in any order. Do not run them concurrently with anything
 * else that sends transactions on `hre`.
 */

// ------------------------------------------------------------------ shared helpers

const DAY = 86_400;

/** A registered device the synthetic records are of. */
export interface FleetDevice {
  deviceId: Hex;
  imsi: string;
  tariffClass: number;
}

/**
 * Registers `count` devices of the signer's carrier `home` the way `device:register` does
 * (lib/devices/registration.ts: readDevices of a devices CSV, ensurePolicies, registerDevices), policies taken from
 * test/fixtures/policies.json, `policyNames` used round robin. Returns the devices and what the
 * registration transactions and the policy definitions cost.
 */
export async function registerFleet(
  client: RoamLedgerClient,
  opts: { home: Hex; count: number; dir: string; policyNames?: string[]; batchSize?: number; firstMsin?: number },
): Promise<{
  devices: FleetDevice[];
  registrationGas: number;
  transactions: number;
  policyDefinitionGas: number;
  policiesDefined: number;
}> {
  const names = opts.policyNames ?? ["meter", "tracker"];
  // The named policies of test/fixtures/policies.json only (some there do not suit every home network).
  const all = JSON.parse(fs.readFileSync(POLICIES, "utf8")) as Record<string, unknown>;
  const policiesFile = path.join(opts.dir, `policies-${names.join("-")}.json`);
  fs.writeFileSync(policiesFile, JSON.stringify(Object.fromEntries(names.map((n) => [n, all[n]])), null, 2));
  const policies = readPolicies(policiesFile, opts.home);
  const prefix = formatPlmn(opts.home).replace("-", "");
  const msinDigits = 15 - prefix.length;
  const classes = ["nb-iot", "lte-m", "cat-1", "5g"];
  const lines = ["imsi,class,policy"];
  for (let i = 0; i < opts.count; i++) {
    const msin = String((opts.firstMsin ?? 1_000) + i).padStart(msinDigits, "0");
    lines.push(`${prefix}${msin},${classes[i % classes.length]},${names[i % names.length]}`);
  }
  const file = path.join(opts.dir, `devices-${prefix}-${Date.now()}-${opts.count}.csv`);
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
  const imsiKey = randomBytes(32);
  const deviceLines = await readDevices(file, { home: opts.home, imsiKey, policyNames: new Set(policies.keys()) });

  const provider = client.runner.provider ?? hre.ethers.provider;
  const before = await provider.getBlockNumber();
  const { ids, defined } = await ensurePolicies(
    client,
    policies,
    deviceLines.map((d) => d.policyName),
  );
  const after = await provider.getBlockNumber();
  let policyDefinitionGas = 0;
  for (let b = before + 1; b <= after; b++) policyDefinitionGas += Number(present(await provider.getBlock(b), `block ${b}`).gasUsed);

  const result = await registerDevices(client, deviceLines, {
    policyIds: ids,
    batchSize: opts.batchSize ?? Math.min(opts.count, DEFAULT_REGISTER_BATCH),
  });
  // readDevices accepted only the policies' names.
  const tariffClass = (name: string) => present(policies.get(name), `policy ${name}`).tariffClass;
  const devices = deviceLines.map((d) => ({ deviceId: d.deviceId, imsi: d.imsi, tariffClass: tariffClass(d.policyName) }));
  return {
    devices,
    registrationGas: Number(result.gasUsed),
    transactions: result.transactions,
    policyDefinitionGas,
    policiesDefined: defined.length,
  };
}

export interface SyntheticBatchOptions {
  visited: Hex;
  home: Hex;
  period: number;
  records: number;
  devices: readonly FleetDevice[];
  /** Tells batches apart: part of every record id. */
  tag: string;
  /** Record start times are spread over [from, to] (unix seconds, inside the period). */
  from: number;
  to: number;
  pairKey: Uint8Array;
  store: ContentStore;
}

/**
 * A real batch of `records` synthetic data records, built by the product's BatchBuilder (lib/usage/
 * batchBuilder.ts, as usage:ingest builds them): each record packed and hashed into its leaf, the Merkle
 * root over all leaves, the payload sealed with the pair key into the store, billable totals per class.
 * Records go round robin over the devices (all billable, data, QoS measured on every other record).
 */
export async function buildSyntheticBatch(
  o: SyntheticBatchOptions,
): Promise<{ batch: UsageBatch; local: LocalBatch; id: Hex; buildMs: number }> {
  const t0 = performance.now();
  const builder = await BatchBuilder.create({ visited: o.visited, home: o.home, period: o.period, batchSize: o.records });
  const span = Math.max(0, o.to - o.from);
  const r: ParsedRecord = {
    line: 0,
    recordId: "",
    imsi: "",
    home: o.home,
    visited: o.visited,
    service: 0, // data
    rat: 0,
    startTime: o.from,
    duration: 0,
    bytesUp: 0,
    bytesDown: 0,
    events: 0,
    latencyMs: 0,
    throughputKbps: 0,
  };
  const n = o.devices.length;
  const outcome: CheckOutcome = {
    billing: 0,
    tariffClass: 0,
    newlyActive: false,
    newRoamerDay: false,
    becameRoamer: false,
    daysPresent: 1,
  };
  for (let i = 0; i < o.records; i++) {
    const device = o.devices[i % n];
    r.line = i + 2;
    r.recordId = `${o.tag}-${i}`;
    r.imsi = device.imsi;
    r.rat = i % 3;
    r.startTime = o.from + (o.records > 1 ? Math.floor((span * i) / (o.records - 1)) : 0);
    r.duration = 30 + (i % 600);
    r.bytesUp = 200 + ((i * 7919) % 5_000);
    r.bytesDown = 1_000 + ((i * 104_729) % 60_000);
    const measured = (i & 1) === 0;
    r.latencyMs = measured ? 20 + (i % 400) : 0;
    r.throughputKbps = measured ? 100 + (i % 20_000) : 0;
    outcome.tariffClass = device.tariffClass;
    outcome.newlyActive = i < n; // first record of each device in this batch (one period, one batch)
    builder.add(r, outcome, device);
  }
  const { batch: local } = await builder.seal(o.pairKey, o.store);
  return { batch: local.header, local, id: batchId(local.header), buildMs: performance.now() - t0 };
}

/** BR's pair key with DE (both fixture members' encryption keys: DE seed 1, BR seed 3), as BR derives it. */
async function pairKeyBrDe(c: Consortium): Promise<Uint8Array> {
  return pairwiseKey({
    myPrivateKey: testPrivateKey(3),
    theirPublicKey: (await c.carriers.getMember(PLMN.DE)).encryptionKey as Hex,
    plmnA: PLMN.BR,
    plmnB: PLMN.DE,
  });
}

export async function domainOf(c: Consortium): Promise<TypedDataDomain> {
  return ledgerDomain((await hre.ethers.provider.getNetwork()).chainId, await c.ledger.getAddress());
}

async function submitGas(c: Consortium, domain: TypedDataDomain, signer: HardhatEthersSigner | Signer, batch: UsageBatch): Promise<number> {
  const signature = await signBatch(signer, domain, batch);
  const receipt = await mined(c.ledger.connect(signer).submitBatch(toContractBatch(batch), signature));
  return Number(receipt.gasUsed);
}

/** Runs `fn` inside a chain snapshot and a temporary folder, both undone afterwards, errors or not. */
export async function isolated<T>(name: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const snapshot = await takeSnapshot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rl-bench-${name}-`));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await snapshot.restore();
  }
}

/** DE home, BR visited, the agreement in force, in the chain's current month: the usual bench world. */
async function usageWorld(dir: string, fleetSize: number) {
  const c = await deployConsortium();
  await agreeDeBr(c);
  const addresses = await addressesOf(c);
  const fleet = await registerFleet(connectRoamLedger(addresses, c.de), { home: PLMN.DE, count: fleetSize, dir });
  const now = await time.latest();
  const month = monthOf(now);
  return {
    c,
    devices: fleet.devices,
    domain: await domainOf(c),
    pairKey: await pairKeyBrDe(c),
    store: new FolderStore(path.join(dir, "store")),
    now,
    ...month,
  };
}

// ------------------------------------------------------------------ batch gas

export interface BatchGasRow {
  /** Records in each measured batch. */
  records: number;
  /** Batches of this size submitted (each a different batch). */
  submissions: number;
  /** Median receipt gasUsed of `submitBatch` (transaction included: 21,000 base and calldata). */
  gasUsed: number;
  /** gasUsed / records. */
  gasPerRecord: number;
  /** Every measured gasUsed, in submission order. */
  samples: number[];
  /** Whether these were the first batch of their (home, visited, period): never, a warm-up went first. */
  firstOfPeriod: boolean;
  /** Median time to build one batch (pack, leaves, Merkle root, sealed payload), ms. */
  buildMs: number;
}

export interface BatchGasResult {
  description: string;
  period: number;
  /** Devices the records are of (registered, DE home). */
  devices: number;
  /** gasUsed of the warm-up batch (1 record), the first of its period: the period slot is created. */
  firstOfPeriodGas: number;
  rows: BatchGasRow[];
}

/**
 * For each size N, submits real batches of N synthetic usage records (records of registered DE devices
 * roaming in BR; leaves, Merkle root and sealed payload by lib/usage/batchBuilder.ts; EIP-712 signature
 * of BR's operator, lib/usage/batch.ts) to `UsageLedger.submitBatch` and reports the median gasUsed and
 * gas per record. A 1-record warm-up batch goes first, so no measured batch is the first of its period.
 * `repeats(N)`: batches per size (default 5 up to 1,000 records, 3 up to 100,000, 2 beyond).
 */
export async function measureBatchGas(
  sizes: number[],
  opts: { repeats?: (records: number) => number; devices?: number; log?: (line: string) => void } = {},
): Promise<BatchGasResult> {
  for (const n of sizes) {
    if (!Number.isInteger(n) || n < 1 || n > 0xffff_ffff) throw new RangeError(`batch size ${n} is not an integer from 1 to 2^32 - 1`);
  }
  const repeats = opts.repeats ?? ((n: number) => (n <= 1_000 ? 5 : n <= 100_000 ? 3 : 2));
  const log = opts.log ?? (() => {});
  const fleetSize = opts.devices ?? 200;
  return isolated("batch-gas", async (dir) => {
    const w = await usageWorld(dir, fleetSize);
    const build = (records: number, tag: string) =>
      buildSyntheticBatch({
        visited: PLMN.BR,
        home: PLMN.DE,
        period: w.period,
        records,
        devices: w.devices,
        tag,
        from: w.start,
        to: w.now,
        pairKey: w.pairKey,
        store: w.store,
      });
    const warm = await build(1, "warmup");
    const firstOfPeriodGas = await submitGas(w.c, w.domain, w.c.br, warm.batch);
    log(`warm-up (first of period ${w.period}): ${firstOfPeriodGas} gas`);

    const rows: BatchGasRow[] = [];
    for (const [s, records] of sizes.entries()) {
      const samples: number[] = [];
      const buildTimes: number[] = [];
      const count = Math.max(1, repeats(records));
      for (let k = 0; k < count; k++) {
        const { batch, buildMs } = await build(records, `s${s}n${records}k${k}`);
        buildTimes.push(buildMs);
        samples.push(await submitGas(w.c, w.domain, w.c.br, batch));
        // The sealed payloads are not needed after submission: keep the disk use to one batch.
        fs.rmSync(w.store.dir, { recursive: true, force: true });
      }
      const gasUsed = median(samples);
      rows.push({
        records,
        submissions: count,
        gasUsed,
        gasPerRecord: gasUsed / records,
        samples,
        firstOfPeriod: false,
        buildMs: Math.round(median(buildTimes)),
      });
      log(
        `${records} records: ${gasUsed} gas (${(gasUsed / records).toFixed(4)}/record), samples ${samples.join(", ")}, build ${Math.round(median(buildTimes))} ms`,
      );
    }
    return {
      description:
        "UsageLedger.submitBatch receipt gasUsed for real batches (BatchBuilder leaves + Merkle root + sealed payload, " +
        "EIP-712 signature of the visited carrier BR) of N synthetic data records of registered DE devices; " +
        "median per size, each measured batch after a warm-up batch of the same period (not first of period). " +
        "The contract stores only the summary: gas does not grow with N.",
      period: w.period,
      devices: w.devices.length,
      firstOfPeriodGas,
      rows,
    };
  });
}

// ------------------------------------------------------------------ naive per-record design

export interface NaiveGasResult {
  description: string;
  records: number;
  recordsPerTx: number;
  transactions: number;
  /** Median over transactions of gasUsed / records in the transaction. */
  gasPerRecord: number;
  /** Median gasUsed of one transaction. */
  gasPerTx: number;
  samples: number[];
}

/**
 * The design RoamLedger replaces: test/contracts/NaiveUsageLedger__Mock.sol stores every record (4 slots)
 * and logs it. Submits `records` records (test/helpers/usage.ts randomRecords, unique ids) in transactions
 * of `perTx` (default 100) and reports the median gas per record.
 */
export async function measureNaiveGas(records: number, opts: { perTx?: number } = {}): Promise<NaiveGasResult> {
  const perTx = opts.perTx ?? 100;
  if (!Number.isInteger(records) || records < 1) throw new RangeError(`records must be a positive integer, got ${records}`);
  return isolated("naive-gas", async () => {
    const [signer] = await hre.ethers.getSigners();
    const naive = await (await new NaiveUsageLedger__Mock__factory(signer).deploy()).waitForDeployment();
    const startTime = (await time.latest()) - 10 * DAY;
    const samples: number[] = [];
    const txGas: number[] = [];
    for (let done = 0, seed = 1; done < records; seed++) {
      const n = Math.min(perTx, records - done);
      const batch = randomRecords(n, PLMN.DE, PLMN.BR, seed, startTime);
      const receipt = await mined(naive.submitRecords(batch));
      txGas.push(Number(receipt.gasUsed));
      samples.push(Number(receipt.gasUsed) / n);
      done += n;
    }
    const stored = Number(await naive.recordCount());
    if (stored !== records) throw new Error(`naive ledger stored ${stored} records, expected ${records}`);
    return {
      description:
        `NaiveUsageLedger__Mock.submitRecords (every record stored in 4 slots and logged, no access control or signature), ` +
        `${perTx} random records per transaction; median receipt gasUsed / records over ${samples.length} transactions.`,
      records,
      recordsPerTx: perTx,
      transactions: samples.length,
      gasPerRecord: median(samples),
      gasPerTx: median(txGas),
      samples,
    };
  });
}

// ------------------------------------------------------------------ devices

export interface DeviceGasResult {
  description: string;
  devices: number;
  transactions: number;
  /** Sum of gasUsed of the registration transactions. */
  totalGas: number;
  /** totalGas / devices: registry entry, the device's own policy contract (a clone), event, calldata, tx base. */
  gasPerDevice: number;
  /** Of gasPerDevice: deploying the device's policy clone alone (CloneGas__Mock, same clones). */
  policyCloneGasPerDevice: number;
  /** One-off, not per device: defining the shared policies the devices point to. */
  policyDefinitionGas: number;
  policiesDefined: number;
}

/**
 * Registers `devices` (default 1,000) DE devices through lib/devices/registration.ts (as `device:register`,
 * its default of DEFAULT_REGISTER_BATCH devices per transaction: a transaction may not use more than 2^24
 * gas, EIP-7825). DeviceRegistry.registerDevices deploys each device's policy contract at registration
 * (a CREATE2 clone of DevicePolicy with the device id as immutable argument), so its cost is included; the
 * clone's share is measured separately by deploying the same clones with CloneGas__Mock, as many a
 * transaction.
 */
export async function measureDeviceGas(opts: { devices?: number } = {}): Promise<DeviceGasResult> {
  const count = opts.devices ?? 1_000;
  return isolated("device-gas", async (dir) => {
    const c = await deployConsortium();
    const client = connectRoamLedger(await addressesOf(c), c.de);
    const fleet = await registerFleet(client, { home: PLMN.DE, count, dir, batchSize: DEFAULT_REGISTER_BATCH });
    for (const d of fleet.devices.slice(0, 3)) {
      if ((await c.devices.getDevice(d.deviceId)).status !== 1n) throw new Error(`device ${d.deviceId} is not active`);
    }

    // The clones alone: the same CREATE2 clones (other salts) by a contract that does nothing else,
    // less each transaction's base and calldata.
    const mock = await (await new CloneGas__Mock__factory(c.deployer).deploy()).waitForDeployment();
    const ids = fleet.devices.map((d) => hre.ethers.keccak256(d.deviceId));
    const implementation = await c.devices.policyImplementation();
    let cloneGas = 0;
    for (let i = 0; i < ids.length; i += DEFAULT_REGISTER_BATCH) {
      const cloneTx = await mock.cloneMany(implementation, ids.slice(i, i + DEFAULT_REGISTER_BATCH));
      const calldataGas = hre.ethers.getBytes(cloneTx.data).reduce((g, b) => g + (b === 0 ? 4 : 16), 0);
      cloneGas += Number((await mined(cloneTx)).gasUsed) - 21_000 - calldataGas;
    }
    return {
      description:
        `DeviceRegistry.registerDevices of ${count} DE devices (meter/tracker policies) via lib/devices/registration.ts, ` +
        `${DEFAULT_REGISTER_BATCH} a transaction (device:register's default); ` +
        "each registration deploys the device's DevicePolicy clone (CREATE2, immutable device id), included in gasPerDevice; " +
        "policyCloneGasPerDevice = the same clones deployed alone (CloneGas__Mock, less 21,000 and calldata) / devices.",
      devices: count,
      transactions: fleet.transactions,
      totalGas: fleet.registrationGas,
      gasPerDevice: fleet.registrationGas / count,
      policyCloneGasPerDevice: cloneGas / count,
      policyDefinitionGas: fleet.policyDefinitionGas,
      policiesDefined: fleet.policiesDefined,
    };
  });
}
