import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import hre from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CarrierRegistryModule from "../../ignition/modules/CarrierRegistry";
import RoamingAgreementsModule from "../../ignition/modules/RoamingAgreements";
import DeviceRegistryModule from "../../ignition/modules/DeviceRegistry";
import UsageLedgerModule from "../../ignition/modules/UsageLedger";
import SettlementTokenModule from "../../ignition/modules/SettlementToken";
import { carrierRegistryParameters, PLMN, SUBMISSION_GRACE } from "./fixtures";
import { connectRoamLedger, type RoamLedgerClient } from "../../lib/chain/client";
import type { RoamLedgerAddresses } from "../../lib/chain/deployment";
import { sealTerms } from "../../lib/agreements/sealed";
import { randomSalt } from "../../lib/crypto/commitment";
import type { CarrierRegistry, DeviceRegistry, RoamingAgreements, SettlementToken, UsageLedger } from "../../typechain-types";
import { readPolicies } from "../../lib/devices/policy";
import { DEFAULT_REGISTER_BATCH, readDevices, ensurePolicies, registerDevices } from "../../lib/devices/registration";
import { generateUsage, type GenerateSummary } from "../../lib/usage/generate";
import { pairwiseKey } from "../../lib/crypto/pairwise";
import { FolderStore } from "../../lib/usage/store";
import { ingestUsage, pairWorkDir, type IngestOptions } from "../../lib/usage/ingest";
import { bytesToHex, type Hex } from "../../lib/util/hex";
import { Keystore } from "../../lib/keys/keystore";

export const POLICIES = path.join(__dirname, "..", "fixtures", "policies.json");

/** Private key of the test encryption key `testEncryptionKey(seed)` (fixtures.ts). */
export const testPrivateKey = (seed: number) => `0x${seed.toString(16).padStart(64, "0")}` as Hex;

/** DE <-> BR terms: BR bills DE for tariff classes 1-3 (meter, tracker, drone), roaming limit 20 days. */
export function ingestTerms(from: number, token: string) {
  const plan = (visited: string, tariffClass: number, perMb: bigint) => ({
    visited,
    tariffClass,
    perMb,
    perSignallingEvent: 2n,
    perSms: 30n,
    perVoiceMinute: 90n,
    monthlyFeePerDevice: 500n,
    tiers: [{ fromMb: 10n, discountBps: 1000 }],
  });
  return {
    settlementToken: token,
    validFrom: from,
    validUntil: from + 400 * 24 * 3600,
    disputeWindow: 7 * 24 * 3600,
    permanentRoamingDays: 20,
    permanentRoamingSurchargePerDay: 40n,
    sla: {
      maxLatencyMs: 800,
      minThroughputKbps: 50,
      minAvailabilityBps: 0,
      latencyCreditBps: 200,
      throughputCreditBps: 300,
      availabilityCreditBps: 0,
    },
    ratePlans: [plan(PLMN.BR, 1, 2_000n), plan(PLMN.BR, 2, 1_500n), plan(PLMN.BR, 3, 1_000n), plan(PLMN.DE, 1, 2_000n)],
  };
}

/**
 * The contracts of the usage flow and the fixture members' accounts (the escrow is left out: usage does
 * not need it, and it is being migrated apart).
 */
export interface UsageConsortium {
  carriers: CarrierRegistry;
  agreements: RoamingAgreements;
  devices: DeviceRegistry;
  ledger: UsageLedger;
  token: SettlementToken;
  deployer: HardhatEthersSigner;
  de: HardhatEthersSigner;
  us: HardhatEthersSigner;
  br: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  addresses: RoamLedgerAddresses;
}

/** RoamLedger without the escrow. */
const UsageModule = buildModule("RoamLedgerUsage", (m) => {
  const { carrierRegistry } = m.useModule(CarrierRegistryModule);
  const { roamingAgreements } = m.useModule(RoamingAgreementsModule);
  const { deviceRegistry } = m.useModule(DeviceRegistryModule);
  const { usageLedger } = m.useModule(UsageLedgerModule);
  return { carrierRegistry, roamingAgreements, deviceRegistry, usageLedger };
});

/** Deploys the registry, agreements, device registry and usage ledger through their Ignition modules. */
export async function deployUsageConsortium(): Promise<UsageConsortium> {
  const [deployer, de, us, br, maker, de2, outsider] = await hre.ethers.getSigners();
  const parameters = {
    CarrierRegistry: carrierRegistryParameters({ deployer, de, de2, us, br, maker }),
    UsageLedger: { submissionGrace: SUBMISSION_GRACE },
  };
  const { carrierRegistry, roamingAgreements, deviceRegistry, usageLedger } = await hre.ignition.deploy(UsageModule, { parameters });
  const { settlementToken } = await hre.ignition.deploy(SettlementTokenModule);
  const addresses: RoamLedgerAddresses = {
    carrierRegistry: await carrierRegistry.getAddress(),
    roamingAgreements: await roamingAgreements.getAddress(),
    deviceRegistry: await deviceRegistry.getAddress(),
    usageLedger: await usageLedger.getAddress(),
    // No escrow in this world; the tasks' client checks that every address has code, and usage never
    // calls the escrow: the token stands in until the escrow v2 is deployed with the rest.
    settlementEscrow: await settlementToken.getAddress(),
  };
  return {
    carriers: carrierRegistry as unknown as CarrierRegistry,
    agreements: roamingAgreements as unknown as RoamingAgreements,
    devices: deviceRegistry as unknown as DeviceRegistry,
    ledger: usageLedger as unknown as UsageLedger,
    token: settlementToken as unknown as SettlementToken,
    deployer,
    de,
    us,
    br,
    outsider,
    addresses,
  };
}

/** DE proposes `terms` to BR sealed with the pair's key, and BR accepts the version. */
export async function agreeSealed(c: UsageConsortium, terms: ReturnType<typeof ingestTerms>, pairKey: Uint8Array): Promise<void> {
  const { chainId } = await hre.ethers.provider.getNetwork();
  const context = { chainId, agreements: c.addresses.roamingAgreements, proposer: PLMN.DE as Hex, counterparty: PLMN.BR as Hex };
  const { sealed, publicTerms } = sealTerms({ key: pairKey, context, terms, salt: randomSalt() });
  await c.agreements.connect(c.de).propose(PLMN.BR, publicTerms, sealed);
  const version = await c.agreements.versionCount(PLMN.DE, PLMN.BR);
  await c.agreements.connect(c.br).accept(PLMN.DE, version, publicTerms.termsCommitment);
}

export interface IngestWorld {
  c: UsageConsortium;
  dir: string;
  period: number;
  generated: GenerateSummary;
  /** BR's client (visited) and DE's (home). */
  br: RoamLedgerClient;
  de: RoamLedgerClient;
  deImsiKey: Uint8Array;
  pairKey: Uint8Array;
  store: FolderStore;
  chainId: bigint;
  /** Options for BR's ingest of the generated file; override per test. */
  ingestOptions(over?: Partial<IngestOptions>): IngestOptions;
  /**
   * The same world with new, empty local folders (BR's state and the payload store): a chain snapshot
   * (loadFixture) does not roll back files, so each test takes fresh ones.
   */
  freshLocal(): IngestWorld;
  cleanup(): void;
}

/**
 * A consortium where DE registered a generated fleet (meters, trackers, drones) and BR has a month of
 * their usage in a file: the period is the chain's current month, the agreement starts at its first second.
 */
export async function ingestWorld(opts: { devices?: number; seed?: number; format?: "csv" | "jsonl" } = {}): Promise<IngestWorld> {
  const c = await deployUsageConsortium();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-ingest-"));
  const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  const d = new Date(now * 1000);
  const period = d.getUTCFullYear() * 100 + d.getUTCMonth() + 1;
  const periodStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
  // Encryption keys of the fixture members: DE seed 1, BR seed 3.
  const pairKey = pairwiseKey({
    myPrivateKey: testPrivateKey(3),
    theirPublicKey: (await c.carriers.getMember(PLMN.DE)).encryptionKey as Hex,
    plmnA: PLMN.BR,
    plmnB: PLMN.DE,
  });
  await agreeSealed(c, ingestTerms(periodStart, await c.token.getAddress()), pairKey);

  const generated = generateUsage({
    home: PLMN.DE,
    visited: PLMN.BR,
    period,
    devices: opts.devices ?? 150,
    seed: opts.seed ?? 7,
    usageOut: path.join(dir, `usage.${opts.format ?? "csv"}`),
    devicesOut: path.join(dir, "devices.csv"),
    malformedRate: 0.01,
  });
  const de = connectRoamLedger(c.addresses, c.de);
  const br = connectRoamLedger(c.addresses, c.br);
  const deImsiKey = randomBytes(32);
  const policies = readPolicies(POLICIES, PLMN.DE);
  const devices = await readDevices(generated.devicesFile, { home: PLMN.DE, imsiKey: deImsiKey, policyNames: new Set(policies.keys()) });
  const { ids } = await ensurePolicies(
    de,
    policies,
    devices.map((x) => x.policyName),
  );
  await registerDevices(de, devices, { policyIds: ids, batchSize: DEFAULT_REGISTER_BATCH });
  const { chainId } = await hre.ethers.provider.getNetwork();
  const make = (local: string): IngestWorld => {
    const store = new FolderStore(path.join(local, "store"));
    const world: IngestWorld = {
      c,
      dir,
      period,
      generated,
      br,
      de,
      deImsiKey,
      pairKey,
      store,
      chainId,
      ingestOptions: (over = {}) => ({
        file: generated.usageFile,
        home: PLMN.DE,
        visited: PLMN.BR,
        period,
        client: br,
        signer: c.br,
        chainId,
        imsiKey: deImsiKey,
        pairKey,
        workDir: pairWorkDir(path.join(local, "br-home"), PLMN.BR, PLMN.DE),
        store,
        batchSize: 2_000,
        ...over,
      }),
      freshLocal: () => make(fs.mkdtempSync(path.join(dir, "local-"))),
      cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
    return world;
  };
  return make(fs.mkdtempSync(path.join(dir, "local-")));
}

export { ingestUsage };

/** Key stores of DE and BR in `root` as their operators would have them after keys:init / keys:receive. */
export function writeUsageKeystores(w: IngestWorld, root: string): void {
  const write = (file: string, hex: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, `${hex}\n`, { mode: 0o600 });
  };
  const ks = new Keystore(root);
  write(ks.encryptionKeyPath("262-01"), testPrivateKey(1));
  write(ks.imsiKeyPath("262-01"), bytesToHex(w.deImsiKey));
  write(ks.encryptionKeyPath("724-05"), testPrivateKey(3));
  ks.savePartnerImsiKey("724-05", "262-01", w.deImsiKey);
}
