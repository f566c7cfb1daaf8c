/**
 * The property suites' own deployment (test/property/): CarrierRegistry, RoamingAgreements, UsageLedger,
 * SettlementEscrow v2 linked to RevealLib and a settlement token, deployed directly with ethers factories (no
 * Ignition module, no shared fixture), one DE-BR agreement version in force for the period, and the usage
 * the sequences draw from: seeded records, their trees, honest and inflated committed totals, signed headers.
 */
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import {
  Interface,
  SigningKey,
  ZeroAddress,
  getBytes,
  hexlify,
  keccak256,
  solidityPacked,
  toUtf8Bytes,
  type TypedDataDomain,
} from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { batchTotalsCommitment, termsCommitment } from "../../lib/crypto/commitment";
import { pricedClassesOf } from "../../lib/agreements/sealed";
import { NO_RATING_CIRCUIT } from "../../lib/agreements/ratingCommitments";
import { batchId, ledgerDomain, signBatch, type UsageBatchHeader } from "../../lib/usage/batch";
import { type LeafHasher, recordIdToBytes32 } from "../../lib/usage/leaf";
import { merkleTree, treeDepth, type MerkleTree } from "../../lib/usage/merkle";
import { escrowDomain } from "../../lib/settlement/invoiceSignature";
import { addTotals } from "../../lib/settlement/totals";
import { zeroTotals, type ClassTotals, type UsageRecord } from "../../lib/usage/types";
import type { TermsLike } from "../../lib/agreements/terms";
import type { Hex } from "../../lib/util/hex";
import {
  CarrierRegistry__factory,
  DeviceRegistry__factory,
  RevealLib__factory,
  RoamingAgreements__factory,
  SettlementEscrow__factory,
  UsageLedger__factory,
  type CarrierRegistry,
  type DeviceRegistry,
  type InvariantLens__Mock,
  type RoamingAgreements,
  type SettlementEscrow,
  type SettlementToken,
  type UsageLedger,
} from "../../typechain-types";

export const DAY = 24 * 3600;
/** EIP-7825: the most gas one transaction may use. */
export const TX_GAS_CAP = 16_777_216n;
/** The agreement's dispute window, the ledger's submission grace. */
export const WINDOW = 7 * DAY;
export const GRACE = 3600;
/** The escrow's parameters: 7-day sign window, 10 % claim bond, 5 % stall penalty. */
export const PARAMS = {
  signWindow: 7 * DAY,
  withdrawalDelay: 130 * DAY,
  soloSettleDelay: 100 * DAY,
  claimBondBps: 1_000,
  stallPenaltyBps: 500,
};
/** PLMN ids (bytes3 TBCD): 262-01, 724-05, 310-410, 999-01. */
export const PLMN = { DE: "0x62f210", BR: "0x27f450", US: "0x130014", MAKER: "0x99f910" } as const;
const ROLE = { CARRIER: 1, DEVICE_MAKER: 2, GOVERNOR: 4 } as const;

export type Member = "de" | "br" | "us";
export const MEMBERS: Member[] = ["de", "br", "us"];
export const PLMN_OF: Record<Member, Hex> = { de: PLMN.DE, br: PLMN.BR, us: PLMN.US };
/** Directions: 0 = BR serves DE's devices (DE pays BR), 1 = DE serves BR's (BR pays DE). */
export const DIRS = [
  { visited: "br" as Member, home: "de" as Member },
  { visited: "de" as Member, home: "br" as Member },
];

/** The devices each home registers (the records' device ids draw from them) and its tariff classes (3: priced by no agreement). */
export const DEVICES_PER_HOME = 4;
export const CLASSES = [1, 2, 3] as const;
/** The homes with devices, and the networks that hold an agreement with each (the partners that may serve and flag them). */
export const FLEETS: Member[] = ["de", "br"];
export const PARTNERS: Record<Member, Member[]> = { de: ["br", "us"], br: ["de"], us: [] };
/** The classes the agreement of (home, visited) prices, by the visited network's rate plans. */
export const PRICED: Record<string, readonly number[]> = { "de>br": [1, 2], "br>de": [1, 2], "de>us": [1] };

/** The local id `home` registers its device `k` under. */
export function localIdOf(home: Hex, k: number): Hex {
  return keccak256(toUtf8Bytes(`device ${home} ${k}`)) as Hex;
}

/** The id of `home`'s device `k` (the one place that knows how device ids are made): keyed by home (F3). */
export function deviceIdOf(home: Hex, k: number): Hex {
  return keccak256(solidityPacked(["bytes3", "bytes32"], [home, localIdOf(home, k)])) as Hex;
}

/** mulberry32: the same records on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Service codes (contract enum `Service`). */
const SERVICE = { data: 0, sms: 1, voice: 2, signalling: 3 } as const;

/** `count` seeded records of `home`'s devices (4 of them) served by `visited`: every service, classes 1-2, 1 in 5 not billable. */
export function seededRecords(count: number, home: Hex, visited: Hex, seed: number, start: number): UsageRecord[] {
  const rnd = prng(seed);
  const int = (max: number) => Math.floor(rnd() * (max + 1));
  return Array.from({ length: count }, (_, i) => {
    const service = int(3);
    const measured = rnd() < 0.5;
    return {
      recordId: recordIdToBytes32(`P-${seed}-${i}`),
      deviceId: deviceIdOf(home, int(DEVICES_PER_HOME - 1)),
      home,
      visited,
      service,
      rat: int(5),
      startTime: start + int(20 * DAY),
      duration: service === SERVICE.voice ? 1 + int(3_600) : int(600),
      bytesUp: service === SERVICE.data ? int(20_000_000) : 0,
      bytesDown: service === SERVICE.data ? int(80_000_000) : 0,
      events: service === SERVICE.sms || service === SERVICE.signalling ? 1 + int(20) : 0,
      latencyMs: measured ? 1 + int(900) : 0,
      throughputKbps: measured ? 1 + int(50_000) : 0,
      tariffClass: 1 + int(1),
      billing: rnd() < 0.2 ? 1 + int(5) : 0,
    };
  });
}

/** What one billable record adds to its class, as a dispute takes it off: 1 record, its service's measure, its QoS sample. */
export function measuredOf(r: UsageRecord): ClassTotals {
  const t = zeroTotals(r.tariffClass);
  t.records = 1;
  if (r.service === SERVICE.data) t.dataBytes = BigInt(r.bytesUp) + BigInt(r.bytesDown);
  if (r.service === SERVICE.sms) t.smsCount = BigInt(r.events);
  if (r.service === SERVICE.voice) t.voiceSeconds = BigInt(r.duration);
  if (r.service === SERVICE.signalling) t.signallingEvents = BigInt(r.events);
  if (r.latencyMs > 0 && r.throughputKbps > 0) {
    t.qosSamples = 1;
    t.latencyMsSum = BigInt(r.latencyMs);
    t.throughputKbpsSum = BigInt(r.throughputKbps);
  }
  return t;
}

/** Billable totals per class (ascending): measured usage plus each class's distinct devices. */
export function honestTotals(records: readonly UsageRecord[]): ClassTotals[] {
  const byClass = new Map<number, ClassTotals>();
  const devices = new Map<number, Set<string>>();
  for (const r of records) {
    if (r.billing !== 0) continue;
    const t = addTotals(byClass.get(r.tariffClass) ?? zeroTotals(r.tariffClass), measuredOf(r));
    const seen = devices.get(r.tariffClass) ?? new Set<string>();
    seen.add(r.deviceId);
    devices.set(r.tariffClass, seen);
    t.activeDevices = seen.size;
    byClass.set(r.tariffClass, t);
  }
  return [...byClass.values()].sort((a, b) => a.tariffClass - b.tariffClass);
}

/** Totals a dishonest visited carrier commits: every class blown up (and class 1 when nothing was billable). */
export function inflatedTotals(records: readonly UsageRecord[]): ClassTotals[] {
  const honest = honestTotals(records);
  const base = honest.length > 0 ? honest : [zeroTotals(1)];
  return base.map((t) => ({
    ...t,
    records: t.records + 3,
    activeDevices: t.activeDevices + 2,
    dataBytes: t.dataBytes * 3n + 500_000_000n,
    smsCount: t.smsCount + 40n,
  }));
}

/** A signed batch header with everything needed to dispute its records and open its totals. */
export interface PreparedBatch {
  dir: number;
  label: string;
  inflated: boolean;
  records: UsageRecord[];
  leaves: Hex[];
  tree: MerkleTree;
  recordCount: number;
  totals: ClassTotals[];
  salt: Hex;
  header: UsageBatchHeader;
  id: Hex;
  signature: Hex;
}

export interface World {
  carriers: CarrierRegistry;
  agreements: RoamingAgreements;
  ledger: UsageLedger;
  escrow: SettlementEscrow;
  token: SettlementToken;
  lens: InvariantLens__Mock;
  devices: DeviceRegistry;
  /** Policy ids of each fleet's home, by tariff class. */
  policies: Record<Member, Record<number, bigint>>;
  /** Each fleet's devices (ids as the registry keys them) and the class each was registered in. */
  fleet: Record<Member, Hex[]>;
  initialClass: (k: number) => number;
  /** When the agreements end (both were agreed with the same validity). */
  agreementsUntil: number;
  signer: Record<Member, HardhatEthersSigner>;
  outsider: HardhatEthersSigner;
  maker: HardhatEthersSigner;
  payoutAccount: Record<Member, string>;
  addresses: { escrow: string; ledger: string; token: string; devices: string };
  terms: TermsLike;
  termsSalt: Hex;
  termsCommitment: Hex;
  version: number;
  ledgerDomain: TypedDataDomain;
  escrowDomain: TypedDataDomain;
  period: number;
  start: number;
  end: number;
  deadline: number;
}

/** Terms both ways, classes 1 and 2, a volume tier, an SLA; in force from before the period. */
function propertyTerms(token: string, validFrom: number, visited: readonly [Hex, Hex] = [PLMN.BR, PLMN.DE], classes = 2): TermsLike {
  const rates = (visited: string, tariffClass: number, perMb: bigint) => ({
    visited,
    tariffClass,
    perMb,
    perSignallingEvent: 3n,
    perSms: 20n,
    perVoiceMinute: 120n,
    monthlyFeePerDevice: 700n,
    tiers: [{ fromMb: 100n, discountBps: 1500 }],
  });
  return {
    settlementToken: token,
    validFrom: BigInt(validFrom),
    validUntil: BigInt(validFrom + 400 * DAY),
    disputeWindow: WINDOW,
    permanentRoamingDays: 30,
    permanentRoamingSurchargePerDay: 11n,
    sla: {
      maxLatencyMs: 400,
      minThroughputKbps: 20_000,
      minAvailabilityBps: 9900,
      latencyCreditBps: 150,
      throughputCreditBps: 250,
      availabilityCreditBps: 0,
    },
    ratePlans: [
      rates(visited[0], 1, 1_000n),
      ...(classes > 1 ? [rates(visited[0], 2, 2_000n)] : []),
      rates(visited[1], 1, 800n),
      ...(classes > 1 ? [rates(visited[1], 2, 1_700n)] : []),
    ],
  };
}

/** Month bounds (UTC) of the month holding `t`, and its yyyymm. */
function monthAround(t: number): { period: number; start: number; end: number } {
  const d = new Date(t * 1000);
  const [y, m] = [d.getUTCFullYear(), d.getUTCMonth()];
  return { period: y * 100 + m + 1, start: Date.UTC(y, m, 1) / 1000, end: Date.UTC(y, m + 1, 1) / 1000 };
}

async function deployRegistry(deployer: HardhatEthersSigner, s: Record<Member | "maker", HardhatEthersSigner>): Promise<CarrierRegistry> {
  const member = (plmn: string, roles: number, name: string, account: string, seed: number) => ({
    plmn,
    roles,
    name,
    encryptionKey: SigningKey.computePublicKey(`0x${seed.toString(16).padStart(64, "0")}`, true),
    operators: [account],
  });
  const bootstrap = [
    member(PLMN.DE, ROLE.CARRIER | ROLE.GOVERNOR, "DE", s.de.address, 1),
    member(PLMN.US, ROLE.CARRIER | ROLE.GOVERNOR, "US", s.us.address, 2),
    member(PLMN.BR, ROLE.CARRIER | ROLE.GOVERNOR, "BR", s.br.address, 3),
    member(PLMN.MAKER, ROLE.DEVICE_MAKER, "MAKER", s.maker.address, 4),
  ];
  const registry = await new CarrierRegistry__factory(deployer).deploy(bootstrap, 5001, 7 * DAY, [deployer.address]);
  return registry.waitForDeployment() as unknown as Promise<CarrierRegistry>;
}

/** A policy of `owner`'s for its devices in `tariffClass`: data, SMS and voice, anywhere with an agreement, open-ended. */
function fleetPolicy(owner: Hex, tariffClass: number) {
  return {
    owner,
    services: 0x07,
    tariffClass,
    routing: 1,
    missionCritical: false,
    maxVisitedDays: 0,
    validFrom: 0,
    validUntil: 0,
    maxLatencyMs: 0,
    minThroughputKbps: 0,
    dailyBytesCap: 0,
    monthlyBytesCap: 0,
    dailyEventsCap: 0,
    monthlyEventsCap: 0,
    allowedNetworks: [],
  };
}

/** Each fleet's policies (classes 1-3) and its devices, registered in class 1 or 2. */
async function registerFleets(devices: DeviceRegistry, signer: Record<Member, HardhatEthersSigner>, initialClass: (k: number) => number) {
  const policies = { de: {}, br: {}, us: {} } as Record<Member, Record<number, bigint>>;
  const fleet = { de: [], br: [], us: [] } as Record<Member, Hex[]>;
  for (const home of FLEETS) {
    for (const cls of CLASSES) {
      await devices.connect(signer[home]).definePolicy(fleetPolicy(PLMN_OF[home], cls));
      policies[home][cls] = await devices.policyCount();
    }
    fleet[home] = Array.from({ length: DEVICES_PER_HOME }, (_, k) => deviceIdOf(PLMN_OF[home], k));
    await registerDevices(devices, signer[home], home, policies[home], initialClass);
  }
  return { policies, fleet };
}

/** Deploys the five contracts, agrees DE-BR terms, funds the carriers; the chain is one day into the period. */
export async function deployWorld(): Promise<World> {
  const [deployer, de, us, br, maker, outsider, ...spare] = await hre.ethers.getSigners();
  const signer = { de, br, us };
  const carriers = await deployRegistry(deployer, { ...signer, maker });
  const agreements = await new RoamingAgreements__factory(deployer).deploy(await carriers.getAddress());
  const ledger = await new UsageLedger__factory(deployer).deploy(await carriers.getAddress(), await agreements.getAddress(), GRACE);
  const revealLib = await new RevealLib__factory(deployer).deploy();
  const escrow = await new SettlementEscrow__factory(
    { "contracts/libraries/RevealLib.sol:RevealLib": await revealLib.getAddress() },
    deployer,
  ).deploy(await carriers.getAddress(), await agreements.getAddress(), await ledger.getAddress(), ZeroAddress, PARAMS);
  const token = (await hre.ethers.deployContract("SettlementToken", [deployer.address])) as unknown as SettlementToken;
  const lens = (await hre.ethers.deployContract("InvariantLens__Mock")) as unknown as InvariantLens__Mock;
  const addresses = {
    escrow: await escrow.getAddress(),
    ledger: await ledger.getAddress(),
    token: await token.getAddress(),
    devices: "",
  };

  const now = await time.latest();
  const { period, start, end } = monthAround(monthAround(now).end);
  const terms = propertyTerms(addresses.token, now);
  const termsSalt = keccak256(toUtf8Bytes("property terms salt")) as Hex;
  const commitment = termsCommitment(terms, termsSalt);
  const publicTerms = { ...terms, termsCommitment: commitment, ...pricedClassesOf(terms, PLMN.DE, PLMN.BR), ...NO_RATING_CIRCUIT };
  await agreements.connect(de).propose(PLMN.BR, publicTerms, "0x5ea1ed");
  await agreements.connect(br).accept(PLMN.DE, 1, commitment);
  // DE and US agree too, US pricing class 1 only: a partner that may flag DE's fleet, and a class it does not price.
  const usTerms = propertyTerms(addresses.token, now, [PLMN.US, PLMN.DE], 1);
  const usCommitment = termsCommitment(usTerms, termsSalt);
  const usPriced = pricedClassesOf(usTerms, PLMN.DE, PLMN.US);
  await agreements
    .connect(de)
    .propose(PLMN.US, { ...usTerms, termsCommitment: usCommitment, ...usPriced, ...NO_RATING_CIRCUIT }, "0x5ea1ed");
  await agreements.connect(us).accept(PLMN.DE, 1, usCommitment);
  const devices = await new DeviceRegistry__factory(deployer).deploy(await carriers.getAddress(), await agreements.getAddress());
  const initialClass = (k: number) => 1 + (k % 2);
  const { policies, fleet } = await registerFleets(devices, signer, initialClass);
  addresses.devices = await devices.getAddress();
  for (const m of MEMBERS) {
    await token.connect(deployer).mint(signer[m].address, 10n ** 15n);
    await token.connect(signer[m]).approve(addresses.escrow, hre.ethers.MaxUint256);
  }
  await time.increaseTo(start + DAY);
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  return {
    carriers: carriers as unknown as CarrierRegistry,
    agreements: agreements as unknown as RoamingAgreements,
    ledger: ledger as unknown as UsageLedger,
    escrow: escrow as unknown as SettlementEscrow,
    token,
    lens,
    devices,
    policies,
    fleet,
    initialClass,
    agreementsUntil: Number(terms.validUntil),
    signer,
    outsider,
    maker,
    payoutAccount: { de: spare[0].address, br: spare[1].address, us: spare[2].address },
    addresses,
    terms,
    termsSalt,
    termsCommitment: commitment,
    version: 1,
    ledgerDomain: ledgerDomain(chainId, addresses.ledger),
    escrowDomain: escrowDomain(chainId, addresses.escrow),
    period,
    start,
    end,
    deadline: end + GRACE,
  };
}

/** Builds and signs a batch of `records` for direction `dir` (BR or DE as visited). */
export async function prepareBatch(
  w: World,
  opts: { dir: number; label: string; records: UsageRecord[]; inflated: boolean; hasher: LeafHasher },
): Promise<PreparedBatch> {
  const { visited, home } = DIRS[opts.dir];
  // The totals salt first: it salts the leaves too.
  const salt = keccak256(toUtf8Bytes(`salt ${opts.label}`)) as Hex;
  const leavesBuf = opts.hasher.leavesOfRecords(opts.records, getBytes(salt));
  const tree = await merkleTree(leavesBuf);
  const leaves = opts.records.map((_, i) => hexlify(leavesBuf.subarray(i * 32, i * 32 + 32)) as Hex);
  const totals = opts.inflated ? inflatedTotals(opts.records) : honestTotals(opts.records);
  const recordCount = opts.records.length;
  const header: UsageBatchHeader = {
    visited: PLMN_OF[visited],
    home: PLMN_OF[home],
    period: w.period,
    merkleRoot: hexlify(tree[tree.length - 1]) as Hex,
    treeDepth: treeDepth(recordCount),
    payloadHash: keccak256(toUtf8Bytes(`payload ${opts.label}`)) as Hex,
    totalsCommitment: batchTotalsCommitment({ recordCount, totals, salt }),
  };
  const signature = await signBatch(w.signer[visited], w.ledgerDomain, header);
  return { ...opts, leaves, tree, recordCount, totals, salt, header, id: batchId(header), signature };
}

/** Every custom error of the contracts the sequences call, to name a revert. */
export const ERRORS = new Interface(
  [
    ...CarrierRegistry__factory.abi,
    ...RoamingAgreements__factory.abi,
    ...DeviceRegistry__factory.abi,
    ...UsageLedger__factory.abi,
    ...SettlementEscrow__factory.abi,
    ...RevealLib__factory.abi,
  ].filter(
    (f, i, all) => f.type === "error" && all.findIndex((g) => g.type === "error" && "name" in g && "name" in f && g.name === f.name) === i,
  ),
);

const names = new Map<string, string>();

/** The custom error's name of a failed call, or its message. */
export function errorName(err: unknown): string {
  const e = err as { data?: unknown; error?: { data?: unknown }; message?: string };
  const data = typeof e.data === "string" ? e.data : typeof e.error?.data === "string" ? e.error.data : undefined;
  if (data && data.length >= 10) {
    const selector = data.slice(0, 10);
    if (!names.has(selector)) names.set(selector, ERRORS.getError(selector)?.name ?? "");
    if (names.get(selector)) return names.get(selector)!;
  }
  return e.message ?? String(err);
}

// ------------------------------------------------------------------------------------------------ calls
// One helper per contract call the sequences make outside the ledger and the escrow, so that a change of
// signature (registration by local id, two-step operators, fraud confirmation) is one edit here.

/** Registers `home`'s fleet, device `k` in `initialClass(k)`. */
export async function registerDevices(
  devices: DeviceRegistry,
  by: HardhatEthersSigner,
  home: Member,
  policies: Record<number, bigint>,
  initialClass: (k: number) => number,
): Promise<void> {
  const registrations = Array.from({ length: DEVICES_PER_HOME }, (_, k) => ({
    localId: localIdOf(PLMN_OF[home], k),
    deviceClass: 0,
    maker: "0x000000",
    policyId: policies[initialClass(k)],
  }));
  await (await devices.connect(by).registerDevices(registrations)).wait();
}

/** `by` flags `ids` for fraud, with evidence `evidence`. */
export function flagFraud(w: World, by: HardhatEthersSigner, ids: Hex[], evidence: number) {
  const evidenceHash = keccak256(toUtf8Bytes(`evidence ${evidence}`));
  return w.devices.connect(by).flagFraud(ids.map((id) => ({ id, reason: 1, evidenceHash })));
}

/** The home confirms partners' flags on `ids`: then every network refuses them. */
export function confirmFraud(w: World, by: HardhatEthersSigner, ids: Hex[]) {
  return w.devices.connect(by).confirmFraud(ids);
}

/** The home dismisses `reporter`'s flags on `ids`. */
export function dismissFraudFlags(w: World, by: HardhatEthersSigner, ids: Hex[], reporter: Member) {
  return w.devices.connect(by).dismissFraudFlags(ids, PLMN_OF[reporter]);
}

/** `by` reinstates `ids` (suspended or flagged). */
export function reinstateDevices(w: World, by: HardhatEthersSigner, ids: Hex[]) {
  return w.devices.connect(by).reinstateDevices(ids);
}

/** `by` suspends `ids`. */
export function suspendDevices(w: World, by: HardhatEthersSigner, ids: Hex[]) {
  return w.devices.connect(by).suspendDevices(ids, 2);
}

/** `by` moves `ids` to the policy of `home`'s in tariff class `cls`. */
export function movePolicies(w: World, by: HardhatEthersSigner, ids: Hex[], home: Member, cls: number) {
  return w.devices.connect(by).updatePolicies(ids, w.policies[home][cls]);
}

/** Governance: `proposer` proposes to suspend (or reinstate) `target`, `approver` approves: 2 of 3 governors, executed. */
export async function changeStatus(w: World, opts: { proposer: Member; approver: Member; target: Member; suspend: boolean }) {
  const { proposer, approver, target, suspend } = opts;
  await (await w.carriers.connect(w.signer[proposer]).proposeStatusChange(suspend ? 1 : 2, PLMN_OF[target])).wait();
  return w.carriers.connect(w.signer[approver]).approve(await w.carriers.proposalCount());
}
