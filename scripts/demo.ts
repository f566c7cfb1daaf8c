/**
 * `npm run demo`: RoamLedger's whole job on an embedded chain (the in-process Hardhat network), start
 * to finish, with a short account of each step and its figures. Writes everything under out/demo/
 * (cleaned first): each carrier's key store, the shared payload store, the generated device lists and
 * usage files, and the invoices.
 *
 * The story: Germany (262-01) and the USA (310-410) are home carriers whose meters, trackers and drones
 * roam in Brazil (724-05); Brazil's own devices roam in Germany and the USA. The agreements' rates travel
 * sealed between each pair; last month's usage is billed both ways (sealed payloads, salted commitments on
 * chain), checked, disputed where the home carrier's counters disagree, one batch rejected, closed; each
 * payee rates its invoice off chain and proposes it, the payer recomputes it from its own copies and
 * co-signs; both directions settle with netting through the escrow. A fourth carrier (UK), a member
 * with a node of its own, watches everything and learns only the public facts. The billed month is the
 * one before the chain's clock: the consortium's submission grace is set so that it is still open, and the
 * embedded chain's clock is moved past that grace before closing (the only time travel).
 */
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { ZeroAddress } from "ethers";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { SettlementToken__factory, type SettlementToken } from "../typechain-types";
import RoamLedgerModule from "../ignition/modules/RoamLedger";
import SettlementTokenModule from "../ignition/modules/SettlementToken";
import { Keystore } from "../lib/keys/keystore";
import { connectRoamLedger, type RoamLedgerClient } from "../lib/chain/client";
import { registerTadig } from "../lib/consortium/tadig";
import type { RoamLedgerAddresses } from "../lib/chain/deployment";
import { readPolicies } from "../lib/devices/policy";
import { DEFAULT_REGISTER_BATCH, readDevices, ensurePolicies, registerDevices } from "../lib/devices/registration";
import { shareImsiKey, receiveImsiKey } from "../lib/keys/share";
import { createDeviceIdDeriver } from "../lib/core/imsi";
import { formatPlmn, parsePlmn } from "../lib/core/plmn";
import { cliProgress, Progress } from "../tasks/cli/progress";
import { acceptAgreement, proposeAgreement, tokenInfo } from "../lib/agreements/chain";
import { agreementTerms, termsContextOf } from "../lib/agreements/fullTerms";
import { openTerms } from "../lib/agreements/sealed";
import { depositToEscrow, settlePeriod } from "../lib/settlement/escrow";
import { cosignInvoice, invoicePublicView, proposeInvoice, versionInForce } from "../lib/settlement/invoices";
import type { Rating } from "../lib/settlement/rating";
import { fullTermsOf, periodUsageOf } from "../lib/invoice/inputs";
import type { FullTerms, PeriodUsage } from "../lib/invoice/usage";
import { readInvoiceData } from "../lib/invoice/chain";
import { buildInvoiceModel } from "../lib/invoice/model";
import { invoiceToCsv, invoiceToJson } from "../lib/invoice/render";
import { renderInvoicePdf } from "../lib/invoice/pdf";
import { buildReport, reportToJson, reportToText } from "../lib/settlement/report";
import { Amount, formatAmount } from "../lib/core/amount";
import { generateUsage, type GenerateSummary } from "../lib/usage/generate";
import { ingestUsage, pairWorkDir, type IngestSummary } from "../lib/usage/ingest";
import { verifyBatches } from "../lib/usage/verify";
import { closePeriod as closeLedgerPeriod, countedPeriod } from "../lib/usage/period";
import { pairKeyWith } from "../lib/usage/pair";
import { FolderStore } from "../lib/usage/store";
import { formatPeriod, periodBounds } from "../lib/core/period";
import { watchChain, type WatchEvent } from "../lib/watch/watch";
import type { Hex } from "../lib/util/hex";
import { ROLE_BITS } from "../lib/core/enums";
import { monthsBefore } from "../test/helpers/period";
import { PERMANENT_ROAMING_DAYS, writeTermsFile, type TermsFileRates } from "../test/helpers/termsFile";
import { mined, present } from "./util";

const OUT = path.join(hre.config.paths.root, "out", "demo");
const INVOICES = path.join(OUT, "invoices");
const POLICIES = path.join(hre.config.paths.root, "test", "fixtures", "policies.json");
/** Same seed, same devices, same usage, same figures (amounts, rejects, fraud) on every run. */
const SEED = 2026;
/** Records per usage batch: a few batches per file, each one on-chain slot whatever its size. */
const BATCH_SIZE = 25_000;
const TOKEN_DECIMALS = 6;
/** Days in one visited network after which a device is a permanent roamer (the agreements' limit). */
const ROAMING_DAYS = PERMANENT_ROAMING_DAYS;
const DENY = [
  "none",
  "unknown device",
  "suspended",
  "fraud-flagged",
  "not yet valid",
  "expired",
  "service not allowed",
  "network not allowed",
  "no agreement",
];

type CarrierKey = "de" | "us" | "br";

interface Carrier {
  key: CarrierKey;
  plmn: string;
  hex: Hex;
  name: string;
  country: string;
  /** Its TADIG code, registered on chain (TAP files name it as sender or recipient). */
  tadig: string;
  signer: HardhatEthersSigner;
  /** Its own key store and local usage state (what ROAMLEDGER_HOME would be on its backend). */
  keystore: Keystore;
  client: RoamLedgerClient;
}

/**
 * The month's traffic: which visited carrier bills which home carrier, for how many devices. The
 * home carriers' fleets are the big ones; Brazil's devices abroad are fewer (and a separate IMSI range
 * per destination, so each roams in one country).
 */
const TRAFFIC: { visited: CarrierKey; home: CarrierKey; devices: number; imsiPrefix?: string; maker?: string }[] = [
  { visited: "br", home: "de", devices: 1500, maker: "999-01" },
  { visited: "br", home: "us", devices: 1500 },
  { visited: "de", home: "br", devices: 250, imsiPrefix: "724051" },
  { visited: "us", home: "br", devices: 150, imsiPrefix: "724052" },
];

const n = (x: number | bigint) => x.toLocaleString("en-US");
/** Token units, exact, with thousands separators and at least two decimals: "1,234.5" -> "1,234.50 RLST". */
function tokens(units: bigint): string {
  const [whole, fraction = ""] = formatAmount(units, TOKEN_DECIMALS).split(".");
  return `${BigInt(whole).toLocaleString("en-US")}.${fraction.padEnd(2, "0")} RLST`;
}
/** Progress bars on a terminal only: piped output stays a plain account of the steps. */
const PROGRESS = process.stderr.isTTY === true;
const rel = (p: string) => path.relative(process.cwd(), p) || ".";
/** "1 batch", "4 batches". */
const count = (k: number, one: string, many = `${one}s`) => `${n(k)} ${k === 1 ? one : many}`;

function step(title: string) {
  console.log(`\n== ${title}`);
}

/** The fixture policies with each carrier's own roaming partners as the trackers' allowed networks. */
function writePolicies(file: string, partners: string[]): void {
  const policies = JSON.parse(fs.readFileSync(POLICIES, "utf8")) as Record<string, { allowedNetworks?: string[] }>;
  policies.tracker.allowedNetworks = partners;
  fs.writeFileSync(file, `${JSON.stringify(policies, null, 2)}\n`);
}

/**
 * The demo's rates: meters (class 1) send little and pay per MB dearly; drones (class 3) move gigabytes at
 * bulk rates, 10 % off above 10 GB and 25 % above 50 GB.
 */
const DEMO_RATES: TermsFileRates = {
  perMb: ["2.00", "0.50", "0.002"],
  tiers: [
    { fromMb: 10_000, discountPercent: 10 },
    { fromMb: 50_000, discountPercent: 25 },
  ],
  surchargePerDay: "0.02",
  maxLatencyMs: 3000,
  latencyCreditPercent: 2,
};

/**
 * The home carrier's own records of the usage: the visited carrier's file with one billable data record
 * counted 400 bytes lower (a tracker's, which is in policy). Returns the record id.
 */
function writeOwnRecords(usageFile: string, ownFile: string): string {
  const lines = fs.readFileSync(usageFile, "utf8").split("\n");
  const header = lines[0].split(",");
  const col = (name: string) => header.indexOf(name);
  const target = lines.findIndex((l, i) => {
    if (i === 0) return false;
    const f = l.split(",");
    return (
      f.length === header.length &&
      f[col("service")] === "data" &&
      f[col("rat")] === "lte-m" &&
      Number(f[col("dataVolumeOutgoing")]) >= 1000
    );
  });
  if (target < 0) throw new Error(`${usageFile} has no LTE-M data record of 1,000 bytes or more to alter`);
  const fields = lines[target].split(",");
  fields[col("dataVolumeOutgoing")] = String(Number(fields[col("dataVolumeOutgoing")]) - 400);
  lines[target] = fields.join(",");
  fs.writeFileSync(ownFile, lines.join("\n"));
  return fields[col("recordId")];
}

/** The first IMSI of each policy in a devices CSV (imsi,class,policy[,maker]). */
function sampleImsis(devicesFile: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(devicesFile, "utf8").trim().split("\n").slice(1)) {
    const [imsi, , policy] = line.split(",");
    out[policy] ??= imsi;
  }
  return out;
}

/**
 * Gas figures are noise for a billing team on a gas-free chain: the demo prints them only with
 * ROAMLEDGER_VERBOSE=1 (`hardhat run` passes no flags to a script, and Hardhat's own --verbose is its debug log).
 */
const VERBOSE = process.env.ROAMLEDGER_VERBOSE === "1";

/** " (text)" with ROAMLEDGER_VERBOSE=1, else nothing: `text` (which may read receipts) is computed only when shown. */
async function gasNote(text: () => string | Promise<string>, open = " (", close = ")"): Promise<string> {
  return VERBOSE ? `${open}${await text()}${close}` : "";
}

/** gasNote of a figure at hand. */
function gasNoteSync(text: () => string, open = " (", close = ")"): string {
  return VERBOSE ? `${open}${text()}${close}` : "";
}

async function gasOf(hashes: string[]): Promise<bigint> {
  let gas = 0n;
  for (const h of hashes) gas += present(await hre.ethers.provider.getTransactionReceipt(h), `the receipt of ${h}`).gasUsed;
  return gas;
}

/** The consortium as the demo drives it: the carriers with their own key stores and clients, the shared payload store. */
interface Demo {
  deployer: HardhatEthersSigner;
  makerOp: HardhatEthersSigner;
  ukOp: HardhatEthersSigner;
  carrier: Record<CarrierKey, Carrier>;
  carriers: Carrier[];
  /** The UK carrier admitted in step 2: a member with a node, party to none of the agreements. */
  uk: { hex: Hex; plmn: string; keystore: Keystore; client: RoamLedgerClient };
  addresses: RoamLedgerAddresses;
  settlementToken: SettlementToken;
  /** The settlement token's address. */
  token: string;
  store: FolderStore;
}

/** The billed month: the one before the chain's clock, so it is over. */
interface Billing {
  period: number;
  periodStart: number;
  periodText: string;
  /** The ledger's submission grace: last month's batches are still taken today (whole days). */
  grace: number;
}

interface Generated {
  visited: Carrier;
  home: Carrier;
  g: GenerateSummary;
}

interface Ingested extends Generated {
  s: IngestSummary;
}

const keystoreOf = (key: string) => new Keystore(path.join(OUT, "carriers", key));

const CARRIER_DEFS = [
  { key: "de", plmn: "262-01", name: "Telekom Deutschland IoT", country: "Germany", tadig: "DEUD1" },
  { key: "us", plmn: "310-410", name: "US Mobile IoT", country: "USA", tadig: "USACG" },
  { key: "br", plmn: "724-05", name: "Vivo Brasil", country: "Brazil", tadig: "BRAV2" },
] as const;

// ------------------------------------------------------------------ 1. deploy

/** The bootstrap members: the three carriers (carrier + governor) and the device maker, each with its encryption key. */
function bootstrapMembers(operators: Record<CarrierKey, HardhatEthersSigner>, makerOp: HardhatEthersSigner) {
  return [
    ...CARRIER_DEFS.map((c) => ({
      plmn: parsePlmn(c.plmn),
      roles: ROLE_BITS.carrier | ROLE_BITS.governor,
      name: c.name,
      encryptionKey: keystoreOf(c.key).ensureEncryptionKey(c.plmn).publicKey,
      operators: [operators[c.key].address],
    })),
    {
      plmn: parsePlmn("999-01"),
      roles: ROLE_BITS["device-maker"],
      name: "Acme Smart Meters",
      encryptionKey: keystoreOf("maker").ensureEncryptionKey("999-01").publicKey,
      operators: [makerOp.address],
    },
  ];
}

const DAY = 24 * 3600;

/**
 * The escrow's delays for a ledger with `grace`: at their minimum (a month, the grace, the longest dispute
 * window of 90 days and the 7-day sign window) plus a day, as the constructor requires.
 */
function escrowDelays(grace: number) {
  const lag = grace + 90 * DAY + 7 * DAY;
  return { signWindow: 7 * DAY, withdrawalDelay: 31 * DAY + lag + DAY, soloSettleDelay: lag + DAY };
}

/** RoamLedger and the settlement token through their Ignition modules. */
async function deployContracts(deployer: HardhatEthersSigner, members: ReturnType<typeof bootstrapMembers>, grace: number) {
  const deployed = await hre.ignition.deploy(RoamLedgerModule, {
    parameters: {
      CarrierRegistry: {
        bootstrapMembers: members,
        thresholdBps: 5001,
        proposalLifetime: 7 * 24 * 3600,
        infraAccounts: [deployer.address],
      },
      UsageLedger: { submissionGrace: grace },
      SettlementEscrow: escrowDelays(grace),
    },
    displayUi: false,
  });
  const tokenDeployment = await hre.ignition.deploy(SettlementTokenModule, { displayUi: false });
  const settlementToken = SettlementToken__factory.connect(await tokenDeployment.settlementToken.getAddress(), deployer);
  const addresses: RoamLedgerAddresses = {
    carrierRegistry: await deployed.carrierRegistry.getAddress(),
    roamingAgreements: await deployed.roamingAgreements.getAddress(),
    deviceRegistry: await deployed.deviceRegistry.getAddress(),
    usageLedger: await deployed.usageLedger.getAddress(),
    settlementEscrow: await deployed.settlementEscrow.getAddress(),
  };
  return { addresses, settlementToken };
}

async function deploy(b: Billing): Promise<Demo> {
  const [deployer, deOp, usOp, brOp, makerOp, ukOp] = await hre.ethers.getSigners();
  const operators: Record<CarrierKey, HardhatEthersSigner> = { de: deOp, us: usOp, br: brOp };
  const store = new FolderStore(path.join(OUT, "store"));

  step("1. Consortium: three carriers and a device maker deploy RoamLedger, each with its own key store");
  const { addresses, settlementToken } = await deployContracts(deployer, bootstrapMembers(operators, makerOp), b.grace);
  const carrier = {} as Record<CarrierKey, Carrier>;
  for (const d of CARRIER_DEFS) {
    const signer = operators[d.key];
    carrier[d.key] = { ...d, signer, hex: parsePlmn(d.plmn), keystore: keystoreOf(d.key), client: connectRoamLedger(addresses, signer) };
    carrier[d.key].keystore.ensureImsiKey(d.plmn);
    await registerTadig(carrier[d.key].client, d.tadig);
  }
  const carriers = Object.values(carrier);
  for (const c of carriers)
    console.log(`   ${c.plmn.padEnd(8)} ${c.name} (${c.country}), carrier + governor, TADIG ${c.tadig}, keys in ${rel(c.keystore.root)}/`);
  console.log(`   999-01   Acme Smart Meters, device maker`);
  const token = await settlementToken.getAddress();
  console.log(`   UsageLedger ${addresses.usageLedger}, SettlementEscrow ${addresses.settlementEscrow}, token RLST ${token}`);
  console.log(
    `   submission grace ${b.grace / DAY} days (${b.periodText}'s batches are still taken), escrow sign window 7 days, withdrawals after ${escrowDelays(b.grace).withdrawalDelay / DAY} days`,
  );
  const uk = { hex: parsePlmn("234-15"), plmn: "234-15", keystore: keystoreOf("uk"), client: connectRoamLedger(addresses, ukOp) };
  return { deployer, makerOp, ukOp, carrier, carriers, uk, addresses, settlementToken, token, store };
}

// ------------------------------------------------------------------ 2. admit

async function admit(d: Demo): Promise<void> {
  const { de, us } = d.carrier;
  step("2. Governance: DE proposes to admit a UK carrier, US approves (quorum 2 of 3); it will watch as a third member");
  const ukKey = d.uk.keystore.ensureEncryptionKey(d.uk.plmn).publicKey;
  await mined(
    de.client.carriers.proposeAdmission({
      plmn: parsePlmn("234-15"),
      roles: ROLE_BITS.carrier,
      name: "Vodafone UK IoT",
      encryptionKey: ukKey,
      operators: [d.ukOp.address],
    }),
  );
  const vote = await mined(us.client.carriers.approve(1));
  console.log(
    `   234-15 admitted: ${await de.client.carriers.isActive(parsePlmn("234-15"))}${await gasNote(() => `vote gas ${n(vote.gasUsed)}`)}`,
  );
  const allowed = (from: string) => de.client.carriers.transactionAllowed(from, d.ukOp.address, 0, 0, 0, "0x");
  console.log(
    `   Besu permissioning: transactionAllowed(UK operator) = ${await allowed(d.ukOp.address)}, stranger = ${await allowed("0x000000000000000000000000000000000000dEaD")}`,
  );
}

/**
 * Last month by the chain's clock: over, so every batch can be answered. The grace runs to a day past
 * today (at least the default 3 days), so its batches are still taken for the whole demo.
 */
async function lastMonth(): Promise<Billing> {
  const latest = present(await hre.ethers.provider.getBlock("latest"), "the latest block");
  const { period, start } = monthsBefore(latest.timestamp);
  const [, end] = periodBounds(period);
  const grace = Math.max(3, Math.ceil((latest.timestamp - end) / DAY) + 1) * DAY;
  return { period, periodStart: start, periodText: formatPeriod(period), grace };
}

// ------------------------------------------------------------------ 3. agree

const PAIRS = [
  ["de", "br"],
  ["us", "br"],
] as const;

async function agree(d: Demo, b: Billing): Promise<void> {
  step(`3. Roaming agreements in force from ${b.periodText}: DE-BR and US-BR, rates sealed between each pair`);
  for (const [ka, kb] of PAIRS) {
    const [a, c] = [d.carrier[ka], d.carrier[kb]];
    const file = path.join(OUT, `terms-${a.plmn}-${c.plmn}.json`);
    writeTermsFile(file, { a: a.plmn, b: c.plmn, from: b.periodStart, token: d.token, ...DEMO_RATES });
    const p = await proposeAgreement(a.client, { self: a.hex, partner: c.hex, file, keystore: a.keystore });
    const acc = await acceptAgreement(c.client, { self: c.hex, partner: a.hex, version: p.version, keystore: c.keystore });
    console.log(
      `   ${a.plmn} <-> ${c.plmn}: ${a.plmn} proposes ${p.terms.ratePlans.length} rate plans, valid from ${new Date(b.periodStart * 1000).toISOString().slice(0, 10)}${await gasNote(async () => `gas ${n(await gasOf([p.txHash]))}`)}`,
    );
    console.log(
      `      on chain: token, validity, dispute window and the salted commitment ${p.termsCommitment.slice(0, 18)}…; the terms went sealed (${n(p.sealedBytes)} bytes)`,
    );
    console.log(
      `      ${c.plmn} opens them with the pair's key, checks them against the commitment, accepts${await gasNote(async () => `gas ${n(await gasOf([acc.txHash]))}`)}; copies in both key stores`,
    );
  }
  console.log(
    `   per MB: meters 2.00, trackers 0.50, drones 0.002 RLST (10 % off above 10 GB, 25 % above 50 GB); SMS 0.01, voice 0.02/min,`,
  );
  console.log(
    `   signalling 0.0001, 0.05 per active device; permanent roamers after ${ROAMING_DAYS} days, 0.02 per day; SLA latency 3 s, throughput 100 kbps; disputes within 7 days`,
  );
}

// ------------------------------------------------------------------ 4. generate

function generate(d: Demo, b: Billing): Generated[] {
  step(`4. A month of roaming (${b.periodText}), generated (seed ${SEED}): device lists and the visited carriers' usage files`);
  const generated = TRAFFIC.map((t, i) => {
    const visited = d.carrier[t.visited];
    const home = d.carrier[t.home];
    const g = generateUsage({
      home: home.hex,
      visited: visited.hex,
      period: b.period,
      devices: t.devices,
      seed: SEED + i,
      imsiPrefix: t.imsiPrefix,
      maker: t.maker,
      usageOut: path.join(OUT, "usage", `${visited.plmn}-bills-${home.plmn}.csv`),
      devicesOut: path.join(OUT, "devices", `${home.plmn}-in-${visited.plmn}.csv`),
    });
    const malformed = Object.values(g.malformed).reduce((s, l) => s + l.length, 0);
    console.log(
      `   ${visited.plmn} serves ${n(g.devices).padStart(5)} devices of ${home.plmn.padEnd(7)}: ${n(g.records).padStart(7)} records ` +
        `(${n(g.recordsByService.data)} data, ${n(g.recordsByService.signalling)} signalling, ${n(g.recordsByService.sms)} SMS, ${n(g.recordsByService.voice)} voice), ` +
        `${count(malformed, "malformed line")}, ${count(g.outOfPolicy.length, "stolen SIM")}, ${count(g.permanentRoamers.length, "device")} there all month`,
    );
    return { visited, home, g };
  });
  console.log(`   ${n(totalRecords(generated))} records in all, in ${rel(path.join(OUT, "usage"))}/`);
  return generated;
}

const totalRecords = (generated: readonly Generated[]) => generated.reduce((s, x) => s + x.g.records, 0);

// ------------------------------------------------------------------ 5. register

/** One generated fleet registered by its home carrier, with a progress bar on a terminal. */
async function registerFleet(home: Carrier, g: GenerateSummary, policies: ReturnType<typeof readPolicies>) {
  const devices = await readDevices(g.devicesFile, {
    home: home.hex,
    imsiKey: home.keystore.imsiKey(home.plmn),
    policyNames: new Set(policies.keys()),
  });
  const { ids } = await ensurePolicies(
    home.client,
    policies,
    devices.map((x) => x.policyName),
  );
  let progress: Progress | undefined;
  const r = await registerDevices(home.client, devices, {
    policyIds: ids,
    batchSize: DEFAULT_REGISTER_BATCH,
    onProgress: (done, total) => {
      progress ??= new Progress({ label: `   ${home.plmn} registering`, total, unit: "devices", enabled: PROGRESS });
      progress.update(done);
    },
  });
  progress?.done();
  const byPolicy = Object.entries(g.devicesByPolicy)
    .map(([p, k]) => `${n(k)} ${p}s`)
    .join(", ");
  console.log(
    `   ${home.plmn.padEnd(7)} ${n(r.registered).padStart(5)} devices (${byPolicy}) in ${count(r.transactions, "transaction")}${await gasNote(() => `${n(Math.round(Number(r.gasUsed) / r.registered))} gas each`, ", ", "")}`,
  );
  return r;
}

async function register(d: Demo, generated: readonly Generated[]): Promise<{ devices: number; gas: bigint }> {
  step("5. Devices: each home carrier registers its fleet, each device with its own policy contract");
  const { de, us, br } = d.carrier;
  let gas = 0n;
  let devices = 0;
  for (const home of d.carriers) {
    const partners = home.key === "br" ? [de.plmn, us.plmn] : [br.plmn];
    const policiesFile = path.join(OUT, "devices", `policies-${home.plmn}.json`);
    writePolicies(policiesFile, partners);
    const policies = readPolicies(policiesFile, home.hex);
    for (const { g } of generated.filter((x) => x.home === home)) {
      const r = await registerFleet(home, g, policies);
      gas += r.gasUsed;
      devices += r.registered;
    }
  }
  console.log(
    `   ${n(devices)} devices${await gasNote(() => `${n(Math.round(Number(gas) / devices))} gas per device on average (target: at most 100k)`, ", ", "")}`,
  );
  return { devices, gas };
}

// ------------------------------------------------------------------ 6. share keys

async function shareKeys(d: Demo): Promise<void> {
  step("6. Key sharing: each home carrier seals its IMSI key to its partner's registered key; the partner opens it");
  for (const [kh, kp] of [
    ["de", "br"],
    ["us", "br"],
    ["br", "de"],
    ["br", "us"],
  ] as const) {
    const [home, partner] = [d.carrier[kh], d.carrier[kp]];
    const { fingerprint } = await shareImsiKey(home.client, { keystore: home.keystore, home: home.hex, partner: partner.hex });
    await receiveImsiKey(partner.client, { keystore: partner.keystore, self: partner.hex, home: home.hex });
    console.log(
      `   ${home.plmn.padEnd(7)} -> ${partner.plmn.padEnd(7)} envelope on-chain, opened into ${rel(partner.keystore.partnerImsiKeyPath(partner.plmn, home.plmn))} (fingerprint ${fingerprint})`,
    );
  }
}

// ------------------------------------------------------------------ 7. a device attaches

/** What a German device's policy contract decides for `service` in `visited` (Brazil by default): one eth_call. */
async function decide(d: Demo, imsi: string, service: number, visited = d.carrier.br.hex) {
  const { br, de } = d.carrier;
  const deriveDe = createDeviceIdDeriver(br.keystore.partnerImsiKey(br.plmn, de.plmn), de.plmn);
  const policy = br.client.policyAt(await br.client.devices.predictPolicyAddress(deriveDe(imsi)));
  const [decision] = await policy.decide(visited, service);
  return decision;
}

const verdict = (x: { serve: boolean; reason: bigint }) => (x.serve ? "serve" : `refuse (${DENY[Number(x.reason)]})`);

async function attach(d: Demo, generated: readonly Generated[]): Promise<void> {
  step("7. A German device attaches in Brazil: one eth_call to its policy contract decides");
  const deFleet = sampleImsis(generated[0].g.devicesFile);
  for (const s of [
    { imsi: deFleet.meter, what: "meter asks for data", service: 0 },
    { imsi: deFleet.meter, what: "meter SIM places a voice call", service: 2 },
    { imsi: deFleet.drone, what: "drone asks for data", service: 0 },
  ]) {
    const x = await decide(d, s.imsi, s.service);
    console.log(
      `   ${s.what.padEnd(30)} -> ${verdict(x)}, ` +
        `${x.steerable ? "steerable" : "never steer"}, ${x.homeRouted ? "home-routed" : "local breakout"}, tariff class ${x.tariffClass}`,
    );
  }
}

// ------------------------------------------------------------------ 8. ingest

/** The visited carrier ingests its usage file of the home carrier's devices. */
async function ingestPair(d: Demo, b: Billing, { visited, home, g }: Generated, chainId: bigint): Promise<IngestSummary> {
  return ingestUsage({
    file: g.usageFile,
    home: home.hex,
    visited: visited.hex,
    period: b.period,
    client: visited.client,
    signer: visited.signer,
    chainId,
    imsiKey: visited.keystore.partnerImsiKey(visited.plmn, home.plmn),
    pairKey: await pairKeyWith(visited.client, { keystore: visited.keystore, self: visited.hex, partner: home.hex }),
    workDir: pairWorkDir(visited.keystore.root, visited.hex, home.hex),
    store: d.store,
    batchSize: BATCH_SIZE,
    progress: PROGRESS ? cliProgress : undefined,
  });
}

function printIngest(x: Ingested): void {
  const { visited, home, g, s } = x;
  const rejects = Object.entries(s.rejectsByCode)
    .map(([code, k]) => `${code} ${k}`)
    .join(", ");
  const notBillable = Object.entries(s.notBillableByReason)
    .map(([r, k]) => `${r} ${n(k)}`)
    .join(", ");
  const gas = s.batches.reduce((sum, batch) => sum + BigInt(batch.gasUsed ?? 0), 0n);
  console.log(
    `   ${visited.plmn} bills ${home.plmn}: ${n(s.lines)} lines -> ${n(s.accepted)} records committed, ${n(s.rejected)} rejected (${rejects || "none"})`,
  );
  console.log(
    `      billable ${n(s.billable)}, not billable ${n(s.accepted - s.billable)}${notBillable ? ` (${notBillable})` : ""}; ${n(s.recordsPerSec)} records/s`,
  );
  console.log(
    `      fraud: ${count(s.flaggedDevices, "device")} flagged on-chain as the file was read (the generator planted ${count(g.outOfPolicy.length, "stolen SIM")})`,
  );
  console.log(
    `      permanent roamers: ${count(s.permanentRoamers, "device")} stayed over ${ROAMING_DAYS} days (the generator kept ${g.permanentRoamers.length} there all month): their surcharge days go in the sealed totals, nothing about them on chain`,
  );
  console.log(
    `      ${count(s.batches.length, "batch", "batches")}` +
      `${gasNoteSync(() => `submitBatch gas ${s.batches.map((batch) => n(Number(batch.gasUsed))).join(" / ")}: ${(Number(gas) / s.accepted).toFixed(2)} gas per record`, ", ", "")}` +
      `; on chain per batch: a root, the tree depth, the payload hash and a salted totals commitment`,
  );
}

async function ingest(d: Demo, b: Billing, generated: readonly Generated[]): Promise<Ingested[]> {
  step(
    `8. Usage: each visited carrier ingests its file for ${b.periodText} (validate, check policies, flag fraud, seal payloads, commit batches of ${n(BATCH_SIZE)})`,
  );
  const { chainId } = await hre.ethers.provider.getNetwork();
  const ingested: Ingested[] = [];
  for (const x of generated) {
    const done = { ...x, s: await ingestPair(d, b, x, chainId) };
    ingested.push(done);
    printIngest(done);
  }
  return ingested;
}

// ------------------------------------------------------------------ 9. watch

/** What `watch --once` shows `self` (as a party, as device maker, or as an observer of every pair) from `fromBlock` on. */
async function watched(d: Demo, self: Hex, fromBlock: number, opts: { maker?: boolean; observer?: boolean } = {}): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  await watchChain({
    client: d.uk.client,
    provider: hre.ethers.provider,
    self,
    ...opts,
    fromBlock,
    once: true,
    onEvent: (e) => events.push(e),
  });
  return events;
}

const kindCount = (events: readonly WatchEvent[], kind: WatchEvent["kind"]) => events.filter((e) => e.kind === kind).length;

async function watchAlerts(d: Demo, ingested: readonly Ingested[], ingestFrom: number): Promise<void> {
  step("9. Alerts: what each carrier's watcher (eth_getLogs, `watch --once`) shows since the ingest began");
  for (const home of d.carriers) {
    const events = (await watched(d, home.hex, ingestFrom + 1)).filter((e) => e.as === "home");
    console.log(
      `   ${home.plmn} (home): ${kindCount(events, "fraud-flag")} fraud alerts, ${kindCount(events, "batch-submitted")} batches billed to it`,
    );
    for (const e of [
      ...events.filter((x) => x.kind === "fraud-flag").slice(0, 2),
      ...events.filter((x) => x.kind === "batch-submitted").slice(0, 1),
    ])
      console.log(`      [block ${e.block}] ${e.text}`);
  }
  const makerEvents = (await watched(d, parsePlmn("999-01"), ingestFrom + 1, { maker: true })).filter((e) => e.as === "maker");
  console.log(`   999-01 (maker of DE's fleet): ${kindCount(makerEvents, "fraud-flag")} fraud alerts among its devices`);
  const stolen = ingested[0].g.outOfPolicy[0];
  const after = await decide(d, stolen.imsi, 0);
  const inUs = await decide(d, stolen.imsi, 0, d.carrier.us.hex);
  console.log(
    `   a flagged DE meter (${stolen.kind}) asks for data: Brazil, which flagged it, gets ${verdict(after)}; the US gets ${verdict(inUs)} (a partner's flag counts on its own network until DE confirms it)`,
  );
}

// ------------------------------------------------------------------ 10. verify, dispute, reject

/** The home carrier checks each batch its partner billed, against its own records when it has them. */
async function verifyPair(d: Demo, { visited, home, s }: Ingested, ownFile?: string): Promise<void> {
  const reports = await verifyBatches({
    batchIds: s.batches.map((x) => x.id),
    client: home.client,
    self: home.hex,
    pairKeyFor: (v) => pairKeyWith(home.client, { keystore: home.keystore, self: home.hex, partner: v }),
    store: d.store,
    imsiKey: home.keystore.imsiKey(home.plmn),
    ownFile,
    rejectMissing: true,
  });
  const disputed = reports.flatMap((r) => r.disputed);
  const ok = reports.filter((r) => r.payload === "ok");
  const rejected = reports.filter((r) => r.action === "rejected");
  console.log(
    `   ${home.plmn} checks ${visited.plmn}'s ${count(reports.length, "batch", "batches")}: ${ok.length} open with the pair's key and match their roots and commitments (${n(ok.reduce((x, r) => x + r.recordCount, 0))} records)` +
      `${ownFile ? `, compared with its own ${n(ok[0].compared?.ownRecords ?? 0)} records` : ""}; ${disputed.length} disputed, ${ok.length} accepted, ${rejected.length} rejected${await gasNote(async () => `gas ${n(await gasOf([...new Set(reports.flatMap((r) => r.txHashes))]))}`)}`,
  );
  for (const dispute of disputed)
    console.log(
      `      DISPUTE ${dispute.recordId} (leaf #${dispute.leafIndex}): ${dispute.reason}, ${dispute.detail}; on chain only its position, salted leaf and proof`,
    );
  for (const r of rejected) console.log(`      REJECT batch ${r.batchId.slice(0, 18)}…: ${r.payload} (${r.problems[0] ?? ""})`);
  if (reports.some((r) => r.action === "none")) throw new Error(`${home.plmn} left a batch of ${visited.plmn} undecided`);
}

async function verify(d: Demo, ingested: readonly Ingested[]): Promise<void> {
  step("10. Verification: each home carrier opens the sealed payloads, recomputes roots and totals, accepts, disputes or rejects");
  const { de, br, us } = d.carrier;
  const ownFile = path.join(OUT, "usage", `${de.plmn}-own-records-in-${br.plmn}.csv`);
  const alteredId = writeOwnRecords(ingested[0].g.usageFile, ownFile);
  // BR's last payload for US never reached the shared store: US cannot check that batch and rejects it.
  const toUs = present(
    ingested.find((x) => x.home === us && x.visited === br),
    "BR's ingest for US",
  );
  const lost = present(toUs.s.batches.at(-1), "BR's last batch for US");
  fs.rmSync(path.join(d.store.dir, `${lost.payloadHash.slice(2)}.bin`));
  for (const x of ingested) await verifyPair(d, x, x.home === de && x.visited === br ? ownFile : undefined);
  console.log(
    `   (DE's own records, ${rel(ownFile)}, count record ${alteredId} 400 bytes lower; BR's payload of batch ${lost.id.slice(0, 18)}… was missing from the store)`,
  );
}

// ------------------------------------------------------------------ 11. fund the escrow

async function fund(d: Demo): Promise<void> {
  step("11. Escrow: the token issuer funds the carriers; each deposits into the escrow (approval included)");
  const rlst = await tokenInfo(d.token, d.deployer);
  const deposit = 5_000n * 10n ** BigInt(rlst.decimals);
  for (const c of d.carriers) {
    await mined(d.settlementToken.mint(c.signer.address, deposit));
    const x = await depositToEscrow(c.client, { member: c.hex, amount: Amount.fromUnits(rlst, deposit) });
    const gas = async () => `approve gas ${n(x.approveTx ? await gasOf([x.approveTx]) : 0n)}, deposit gas ${n(await gasOf([x.depositTx]))}`;
    console.log(`   ${c.plmn.padEnd(7)} deposits ${tokens(x.amount)}${await gasNote(gas)}`);
  }
}

// ------------------------------------------------------------------ 12. close the period

async function closePeriods(d: Demo, b: Billing, ingested: readonly Ingested[]): Promise<void> {
  const deadline = Number(await d.uk.client.ledger.submissionDeadline(b.period));
  step(
    `12. Closing ${b.periodText}: the embedded chain's clock moves to the submission deadline (${isoDay(deadline)}); anyone closes each direction`,
  );
  await time.increaseTo(deadline);
  for (const { visited, home } of ingested) {
    const r = await closeLedgerPeriod(d.uk.client, { home: home.hex, visited: visited.hex, period: b.period });
    console.log(
      `   ${visited.plmn.padEnd(7)} bills ${home.plmn.padEnd(7)}: ${count(r.countedBatches, "batch", "batches")} counted, ${r.rejectedBatches} rejected; accumulator ${r.accumulator.slice(0, 18)}…${await gasNote(async () => `closePeriod gas ${n(await gasOf([present(r.txHash, "the close")]))}, the same for any number of batches`)}`,
    );
  }
}

const isoDay = (t: number) => new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ");
// ------------------------------------------------------------------ 13. invoices: propose and co-sign

/** What one side brings to rate a direction: its own copies of the counted usage and of the terms in force. */
interface SideInputs {
  key: Uint8Array;
  usage: PeriodUsage;
  terms: FullTerms;
}

/** `self`'s inputs for (home, visited): the counted batches opened from the store, the terms from its key store. */
async function inputsOf(d: Demo, b: Billing, self: Carrier, pair: { home: Carrier; visited: Carrier }): Promise<SideInputs> {
  const partner = self === pair.home ? pair.visited : pair.home;
  const key = await pairKeyWith(self.client, { keystore: self.keystore, self: self.hex, partner: partner.hex });
  const counted = await countedPeriod(self.client, {
    home: pair.home.hex,
    visited: pair.visited.hex,
    period: b.period,
    store: d.store,
    pairKey: key,
  });
  const inForce = await versionInForce(self.client, { payer: pair.home.hex, payee: pair.visited.hex, period: b.period });
  const opened = await agreementTerms(self.client, {
    keystore: self.keystore,
    self: self.hex,
    partner: partner.hex,
    version: inForce.version,
  });
  return { key, usage: periodUsageOf(counted), terms: fullTermsOf(opened, inForce.version, inForce.termsCommitment) };
}

type Charge = "data" | "signalling" | "sms" | "voice" | "monthly" | "surcharge";

function printRating(r: Rating): void {
  const charges = (k: Charge) => r.lines.reduce((sum, l) => sum + l[k], 0n);
  console.log(
    `      data ${tokens(charges("data"))}, signalling ${tokens(charges("signalling"))}, SMS ${tokens(charges("sms"))}, voice ${tokens(charges("voice"))}, ` +
      `device fees ${tokens(charges("monthly"))}, permanent roaming ${tokens(charges("surcharge"))}`,
  );
  const sla = r.creditBps > 0 ? `credit ${r.creditBps / 100} % = ${tokens(r.credit)}` : "no credit";
  console.log(
    `      subtotal ${tokens(r.subtotal)}; SLA: average latency ${n(r.avgLatencyMs)} ms, throughput ${n(r.avgThroughputKbps)} kbps over ${n(r.qosSamples)} samples -> ${sla}`,
  );
}

/**
 * One direction: the payee rates it and proposes (signed, sealed for the payer); the payer opens it,
 * rates it again from its own copies and co-signs, which closes it. Checks that both ratings and the
 * escrow's amount agree; returns the net.
 */
async function invoicePair(d: Demo, b: Billing, pair: Ingested): Promise<{ net: bigint; usage: PeriodUsage }> {
  const { visited, home } = pair;
  const payee = await inputsOf(d, b, visited, pair);
  const proposed = await proposeInvoice(visited.client, payee);
  const payer = await inputsOf(d, b, home, pair);
  const cosigned = await cosignInvoice(home.client, payer);
  const view = await invoicePublicView(home.client, { payer: home.hex, payee: visited.hex, period: b.period });
  const net = proposed.draft.rating.net;
  if (cosigned.draft.rating.net !== net || view.amount !== net || view.status !== "closed") {
    throw new Error(
      `${home.plmn} -> ${visited.plmn}: payee rated ${net}, payer ${cosigned.draft.rating.net}, escrow ${view.amount} (${view.status})`,
    );
  }
  const records = proposed.draft.totals.reduce((sum, t) => sum + BigInt(t.records), 0n);
  const disputes = payee.usage.batches.reduce((sum, x) => sum + x.disputed.length, 0);
  console.log(
    `   ${home.plmn.padEnd(7)} owes ${visited.plmn.padEnd(7)} ${tokens(net).padStart(17)}: ${n(records)} billable records in ${count(payee.usage.batches.length, "counted batch", "counted batches")}, ${count(disputes, "disputed record")} taken off` +
      `${await gasNote(() => `gas: proposeInvoice ${n(proposed.gasUsed)}, cosignInvoice ${n(cosigned.gasUsed)}`, " (")}`,
  );
  printRating(proposed.draft.rating);
  return { net, usage: payee.usage };
}

/** Every billed direction proposed and co-signed; the nets by "home>visited", and the usages rated. */
async function invoicePeriod(
  d: Demo,
  b: Billing,
  ingested: readonly Ingested[],
): Promise<{ nets: Map<string, bigint>; usages: PeriodUsage[] }> {
  step(
    `13. Invoices of ${b.periodText}: each payee rates off chain and proposes (net on chain, lines sealed); the payer recomputes and co-signs`,
  );
  const nets = new Map<string, bigint>();
  const usages: PeriodUsage[] = [];
  for (const x of ingested) {
    const { net, usage } = await invoicePair(d, b, x);
    nets.set(`${x.home.plmn}>${x.visited.plmn}`, net);
    usages.push(usage);
  }
  return { nets, usages };
}

// ------------------------------------------------------------------ 14. settle

async function settle(d: Demo, b: Billing, nets: ReadonlyMap<string, bigint>): Promise<void> {
  step("14. Settlement with netting: both invoices of a pair settle together, only the difference moves");
  for (const [kh, kv] of PAIRS) {
    const [a, c] = [d.carrier[kh], d.carrier[kv]];
    const deposits = async () => ({ a: await a.client.escrow.deposits(a.hex, d.token), b: await a.client.escrow.deposits(c.hex, d.token) });
    const before = await deposits();
    const settled = await settlePeriod(a.client, { self: a.hex, partner: c.hex, period: b.period });
    const after = await deposits();
    const [owes, owed] = [nets.get(`${a.plmn}>${c.plmn}`) ?? 0n, nets.get(`${c.plmn}>${a.plmn}`) ?? 0n];
    const moved = settled.payments.reduce((sum, p) => sum + p.paid, 0n);
    if (
      settled.mode !== "netted" ||
      settled.selfOwed !== owes ||
      settled.partnerOwed !== owed ||
      moved !== (owes > owed ? owes - owed : owed - owes)
    ) {
      throw new Error(
        `${a.plmn} <-> ${c.plmn}: the escrow settled ${settled.selfOwed} / ${settled.partnerOwed} (${moved} moved), the invoices say ${owes} / ${owed}`,
      );
    }
    console.log(
      `   ${a.plmn} <-> ${c.plmn}: ${a.plmn} -> ${c.plmn} ${tokens(owes)} and ${c.plmn} -> ${a.plmn} ${tokens(owed)}${await gasNote(() => `gas ${n(settled.gasUsed)}`)}`,
    );
    for (const p of settled.payments) {
      const payout = p.payout === ZeroAddress ? "credited to its deposit" : `paid to ${p.payout}`;
      console.log(`      netted: ${formatPlmn(p.debtor)} pays ${formatPlmn(p.creditor)} ${tokens(p.paid)}, ${payout}`);
    }
    for (const sh of settled.shortfalls)
      console.log(`      SHORTFALL: ${formatPlmn(sh.debtor)} paid ${tokens(sh.paid)} of ${tokens(sh.owed)}; the rest is a debt`);
    console.log(`      deposits: ${a.plmn} ${tokens(before.a)} -> ${tokens(after.a)}, ${c.plmn} ${tokens(before.b)} -> ${tokens(after.b)}`);
  }
}

// ------------------------------------------------------------------ 15. invoices and reports

/** The visited carrier's invoice to the home carrier, as JSON, CSV and PDF. */
async function issueInvoice(d: Demo, b: Billing, { visited, home }: Generated, fromBlock: number): Promise<void> {
  const data = await readInvoiceData(visited.client, {
    self: visited.hex,
    partner: home.hex,
    period: b.period,
    as: "payee",
    keystore: visited.keystore,
    store: d.store,
    fromBlock,
  });
  const model = buildInvoiceModel(data);
  const base = path.join(INVOICES, `${model.invoiceNumber}`);
  fs.writeFileSync(`${base}.json`, invoiceToJson(model));
  fs.writeFileSync(`${base}.csv`, invoiceToCsv(model));
  fs.writeFileSync(`${base}.pdf`, await renderInvoicePdf(model));
  console.log(
    `   ${model.invoiceNumber.padEnd(37)} ${visited.plmn.padEnd(7)} to ${home.plmn.padEnd(7)} ${tokens(model.net.units).padStart(17)}, ${model.status.state}, ${count(model.lines.length, "line")}, ${count(model.batches.length, "batch", "batches")}, ${count(model.disputes.records, "disputed record")}`,
  );
}

/** A carrier's accounting report of the period, as text and JSON. */
async function writeReport(d: Demo, c: Carrier, b: Billing, fromBlock: number): Promise<void> {
  const viewer = { plmn: c.hex, keystore: c.keystore, store: d.store };
  const report = await buildReport(c.client, { self: c.hex, period: b.period, viewer, fromBlock });
  fs.writeFileSync(path.join(INVOICES, `report-${c.plmn}-${b.periodText}.txt`), reportToText(report));
  fs.writeFileSync(path.join(INVOICES, `report-${c.plmn}-${b.periodText}.json`), reportToJson(report));
  const net = report.partners.reduce((sum, p) => sum + (p.net ?? 0n), 0n);
  console.log(
    `   report of ${c.plmn.padEnd(7)}: ${count(report.partners.length, "partner")}, ${report.partners.every((p) => p.settled) ? "all settled" : "not all settled"}, net ${net >= 0n ? "owed to it" : "owed by it"} ${tokens(net >= 0n ? net : -net)}`,
  );
}

async function issueInvoices(d: Demo, b: Billing, ingested: readonly Ingested[], fromBlock: number): Promise<void> {
  step("15. Invoices (JSON, CSV, PDF), issued by each visited carrier, and each carrier's accounting report");
  fs.mkdirSync(INVOICES, { recursive: true });
  for (const x of ingested) await issueInvoice(d, b, x, fromBlock);
  for (const c of d.carriers) await writeReport(d, c, b, fromBlock);
}

// ------------------------------------------------------------------ 16. a third member

/** UK's attempt to open DE's sealed terms for BR with its own key: it must fail. */
async function ukOpensTerms(d: Demo): Promise<string> {
  const { de, br } = d.carrier;
  const agreements = d.uk.client.agreements;
  const version = await agreements.getVersion(de.hex, br.hex, 1);
  const [log] = await agreements.queryFilter(agreements.filters.AgreementTermsSealed(await agreements.agreementKey(de.hex, br.hex), 1));
  const key = await pairKeyWith(d.uk.client, { keystore: d.uk.keystore, self: d.uk.hex, partner: de.hex });
  try {
    openTerms({
      key,
      context: await termsContextOf(d.uk.client, de.hex, br.hex),
      sealed: Buffer.from(log.args.sealedTerms.slice(2), "hex"),
      publicTerms: version.terms,
    });
  } catch (err) {
    return (err as Error).message.split("\n")[0];
  }
  throw new Error("UK opened DE's sealed terms for BR");
}

/** Figures of the pairs' sealed totals (large enough not to match by chance) found in `text`. */
function leakedFigures(text: string, usages: readonly PeriodUsage[]): string[] {
  const figures = usages.flatMap((u) =>
    u.batches.flatMap((x) => x.totals.flatMap((t) => [t.dataBytes, t.voiceSeconds, t.signallingEvents])),
  );
  return figures.map(String).filter((f) => f.length >= 6 && text.includes(f));
}

async function thirdMember(d: Demo, b: Billing, fromBlock: number, usages: readonly PeriodUsage[]): Promise<void> {
  step(`16. What the third member (UK, 234-15, a node with every log and slot) sees of ${b.periodText}: the public facts only`);
  const events = await watched(d, d.uk.hex, fromBlock, { observer: true });
  const byKind = new Map<string, number>();
  for (const e of events) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
  console.log(`   ${events.length} events of other pairs: ${[...byKind].map(([k, v]) => `${v} ${k}`).join(", ")}`);
  for (const kind of [
    "batch-submitted",
    "record-disputed",
    "batch-rejected",
    "period-closed",
    "invoice-proposed",
    "invoice-closed",
    "settled",
  ] as const) {
    const e = events.find((x) => x.kind === kind);
    if (e) console.log(`      [block ${e.block}] ${e.text}`);
  }
  const { de, br } = d.carrier;
  const v = (await d.uk.client.agreements.getVersion(de.hex, br.hex, 1)).terms;
  console.log(
    `   DE-BR agreement: version 1, valid ${isoDay(Number(v.validFrom))} to ${isoDay(Number(v.validUntil))}, disputes within ${Number(v.disputeWindow) / DAY} days, token ${v.settlementToken.slice(0, 10)}…, commitment ${v.termsCommitment.slice(0, 18)}…`,
  );
  console.log(`   its rates: UK's key does not open them (${await ukOpensTerms(d)})`);
  const report = await buildReport(d.uk.client, { self: de.hex, period: b.period, fromBlock });
  for (const p of report.partners) {
    for (const [label, x] of [
      ["owes", p.weOwe],
      ["is owed", p.owedToUs],
    ] as const) {
      const detail = x.detail ? "per-class figures SHOWN" : "no per-class figure, subtotal or credit";
      console.log(
        `   UK's report of 262-01: ${label} ${p.partner.text} ${tokens(x.amount ?? 0n)} (${x.state}, ${x.resolution}), ${count(x.countedBatches, "counted batch", "counted batches")}, ${count(x.disputedRecords, "disputed record")}; ${detail}`,
      );
      if (x.detail) throw new Error("the third member's report has a party's figures");
    }
  }
  const leaked = leakedFigures(JSON.stringify(events), usages);
  if (leaked.length > 0) throw new Error(`the third member's view shows sealed figures: ${leaked.join(", ")}`);
  console.log(
    "   no per-class total (bytes, voice seconds, signalling events) of any pair appears in what it read; the nets that moved are public by design",
  );
}
// ------------------------------------------------------------------ the story

async function main() {
  const started = Date.now();
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const b = await lastMonth();
  const d = await deploy(b);
  const deployBlock = await hre.ethers.provider.getBlockNumber();
  await admit(d);
  await agree(d, b);
  const generated = generate(d, b);
  const fleets = await register(d, generated);
  await shareKeys(d);
  await attach(d, generated);
  const ingestFrom = await hre.ethers.provider.getBlockNumber();
  const ingested = await ingest(d, b, generated);
  await watchAlerts(d, ingested, ingestFrom);
  await verify(d, ingested);
  await fund(d);
  await closePeriods(d, b, ingested);
  const { nets, usages } = await invoicePeriod(d, b, ingested);
  await settle(d, b, nets);
  await issueInvoices(d, b, ingested, ingestFrom);
  await thirdMember(d, b, deployBlock, usages);

  const elapsed = (Date.now() - started) / 1000;
  const summary = {
    period: b.periodText,
    devices: fleets.devices,
    gasPerDevice: Math.round(Number(fleets.gas) / fleets.devices),
    records: totalRecords(generated),
    addresses: d.addresses,
    invoices: Object.fromEntries([...nets].map(([k, v]) => [k, formatAmount(v, TOKEN_DECIMALS)])),
    seconds: elapsed,
  };
  fs.writeFileSync(path.join(OUT, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    `\nDone in ${elapsed.toFixed(1)} s. Invoices and reports: ${rel(INVOICES)}/ ; key stores, usage files, payloads: ${rel(OUT)}/`,
  );
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
