/**
 * `npm run demo`: RoamLedger's whole job on an embedded chain (the in-process Hardhat network), start
 * to finish, with a short account of each step and its figures. Writes everything under out/demo/
 * (cleaned first): each carrier's key store and local usage state, the shared payload store, the
 * generated device lists and usage files, and the invoices.
 *
 * The story: Germany (262-01) and the USA (310-410) are home carriers whose meters, trackers and drones
 * roam in Brazil (724-05); Brazil's own devices roam in Germany and the USA. Last month's usage is
 * billed both ways, checked, disputed where the home carrier's counters disagree, closed, netted and
 * settled through the escrow, and invoiced. No time travel: the period is the month before the chain's
 * clock, so it has ended, every batch is answered by its home carrier, and each visited carrier closes
 * the invoice it bills (waiving the submission grace, as the ledger lets it).
 */
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { ZeroAddress } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { SettlementToken__factory } from "../typechain-types";
import RoamLedgerModule from "../ignition/modules/RoamLedger";
import SettlementTokenModule from "../ignition/modules/SettlementToken";
import { Keystore } from "../lib/keys/keystore";
import { connectRoamLedger, type RoamLedgerClient } from "../lib/chain/client";
import type { RoamLedgerAddresses } from "../lib/chain/deployment";
import { readPolicies } from "../lib/devices/policy";
import { readDevices, ensurePolicies, registerDevices } from "../lib/devices/registration";
import { shareImsiKey, receiveImsiKey } from "../lib/keys/share";
import { createDeviceIdDeriver } from "../lib/core/imsi";
import { formatPlmn, parsePlmn } from "../lib/core/plmn";
import { cliProgress, Progress } from "../tasks/cli/progress";
import { proposeAgreement, tokenInfo } from "../lib/agreements/chain";
import { closeInvoice, depositToEscrow, settlePeriod } from "../lib/settlement/escrow";
import { readInvoiceData } from "../lib/invoice/chain";
import { buildInvoiceModel } from "../lib/invoice/model";
import { invoiceToCsv, invoiceToJson } from "../lib/invoice/render";
import { renderInvoicePdf } from "../lib/invoice/pdf";
import { buildReport, reportToJson, reportToText } from "../lib/settlement/report";
import { Amount, formatAmount } from "../lib/core/amount";
import { generateUsage, type GenerateSummary } from "../lib/usage/generate";
import { ingestUsage, pairWorkDir, type IngestSummary } from "../lib/usage/ingest";
import { verifyBatch, type VerifyReport } from "../lib/usage/verify";
import { pairKeyWith } from "../lib/usage/pair";
import { FolderStore } from "../lib/usage/store";
import { formatPeriod, periodBounds } from "../lib/core/period";
import { watchChain, type WatchEvent } from "../lib/watch/watch";
import type { Hex } from "../lib/util/hex";
import { ROLE_BITS } from "../lib/core/enums";

const OUT = path.join(hre.config.paths.root, "out", "demo");
const POLICIES = path.join(hre.config.paths.root, "test", "fixtures", "policies.json");
/** Same seed, same devices, same usage, same figures (amounts, rejects, fraud) on every run. */
const SEED = 2026;
/** Records per usage batch: a few batches per file, each one on-chain slot whatever its size. */
const BATCH_SIZE = 25_000;
const TOKEN_DECIMALS = 6;
/** Days in one visited network after which a device is a permanent roamer (the agreements' limit). */
const ROAMING_DAYS = 20;
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

/** A terms file both ways between two carriers, in the format `agreement:propose --terms` takes. */
function writeTerms(file: string, a: string, b: string, from: number, token: string): void {
  const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  // Meters (class 1) send little and pay per MB dearly; drones (class 3) move gigabytes at bulk rates.
  const rate = (visited: string, tariffClass: number, perMb: string) => ({
    visited,
    tariffClass,
    perMb,
    perSignallingEvent: "0.0001",
    perSms: "0.01",
    perVoiceMinute: "0.02",
    monthlyFeePerDevice: "0.05",
    tiers: [
      { fromMb: 10_000, discountPercent: 10 },
      { fromMb: 50_000, discountPercent: 25 },
    ],
  });
  const terms = {
    settlementToken: token,
    validFrom: iso(from),
    validUntil: iso(from + 365 * 24 * 3600),
    disputeWindowDays: 7,
    permanentRoaming: { days: ROAMING_DAYS, surchargePerDay: "0.02" },
    sla: {
      maxLatencyMs: 3000,
      minThroughputKbps: 100,
      minAvailabilityPercent: 99.5,
      latencyCreditPercent: 2,
      throughputCreditPercent: 1,
      availabilityCreditPercent: 2,
    },
    rates: [
      [1, "2.00"],
      [2, "0.50"],
      [3, "0.002"],
    ].flatMap(([c, perMb]) => [rate(a, c as number, perMb as string), rate(b, c as number, perMb as string)]),
  };
  fs.writeFileSync(file, `${JSON.stringify(terms, null, 2)}\n`);
}

/** The month before the one `time` (unix seconds) falls in, as yyyymm. */
function previousMonth(time: number): number {
  const d = new Date(time * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth(); // 0-based: the previous month, 1-based
  return m === 0 ? (y - 1) * 100 + 12 : y * 100 + m;
}

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

async function gasOf(hashes: string[]): Promise<bigint> {
  let gas = 0n;
  for (const h of hashes) gas += (await hre.ethers.provider.getTransactionReceipt(h))!.gasUsed;
  return gas;
}

async function main() {
  const started = Date.now();
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const [deployer, deOp, usOp, brOp, makerOp, ukOp] = await hre.ethers.getSigners();
  const defs = [
    { key: "de", plmn: "262-01", name: "Telekom Deutschland IoT", country: "Germany", signer: deOp },
    { key: "us", plmn: "310-410", name: "US Mobile IoT", country: "USA", signer: usOp },
    { key: "br", plmn: "724-05", name: "Vivo Brasil", country: "Brazil", signer: brOp },
  ] as const;
  const keystoreOf = (key: string) => new Keystore(path.join(OUT, "carriers", key));
  const store = new FolderStore(path.join(OUT, "store"));

  step("1. Consortium: three carriers and a device maker deploy RoamLedger, each with its own key store");
  const bootstrapMembers = [
    ...defs.map((c) => ({
      plmn: parsePlmn(c.plmn),
      roles: ROLE_BITS.carrier | ROLE_BITS.governor,
      name: c.name,
      encryptionKey: keystoreOf(c.key).ensureEncryptionKey(c.plmn).publicKey,
      operators: [c.signer.address],
    })),
    {
      plmn: parsePlmn("999-01"),
      roles: ROLE_BITS["device-maker"],
      name: "Acme Smart Meters",
      encryptionKey: keystoreOf("maker").ensureEncryptionKey("999-01").publicKey,
      operators: [makerOp.address],
    },
  ];
  const deployed = await hre.ignition.deploy(RoamLedgerModule, {
    parameters: {
      CarrierRegistry: { bootstrapMembers, thresholdBps: 5001, proposalLifetime: 7 * 24 * 3600, infraAccounts: [deployer.address] },
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
  const as = (signer: HardhatEthersSigner): RoamLedgerClient => connectRoamLedger(addresses, signer);
  const C = {} as Record<CarrierKey, Carrier>;
  for (const d of defs) {
    C[d.key] = { ...d, hex: parsePlmn(d.plmn), keystore: keystoreOf(d.key), client: as(d.signer) };
    C[d.key].keystore.ensureImsiKey(d.plmn);
  }
  const carriers = Object.values(C);
  for (const c of carriers)
    console.log(`   ${c.plmn.padEnd(8)} ${c.name} (${c.country}), carrier + governor, keys in ${rel(c.keystore.root)}/`);
  console.log(`   999-01   Acme Smart Meters, device maker`);
  console.log(
    `   UsageLedger ${addresses.usageLedger}, SettlementEscrow ${addresses.settlementEscrow}, token RLST ${await settlementToken.getAddress()}`,
  );

  step("2. Governance: DE proposes to admit a UK carrier, US approves (quorum 2 of 3)");
  const ukKey = keystoreOf("uk").ensureEncryptionKey("234-15").publicKey;
  await (
    await C.de.client.carriers.proposeAdmission({
      plmn: parsePlmn("234-15"),
      roles: ROLE_BITS.carrier,
      name: "Vodafone UK IoT",
      encryptionKey: ukKey,
      operators: [ukOp.address],
    })
  ).wait();
  const vote = await (await C.us.client.carriers.approve(1)).wait();
  console.log(`   234-15 admitted: ${await C.de.client.carriers.isActive(parsePlmn("234-15"))} (vote gas ${n(vote!.gasUsed)})`);
  console.log(
    `   Besu permissioning: transactionAllowed(UK operator) = ${await C.de.client.carriers.transactionAllowed(ukOp.address, ukOp.address, 0, 0, 0, "0x")}, stranger = ${await C.de.client.carriers.transactionAllowed("0x000000000000000000000000000000000000dEaD", ukOp.address, 0, 0, 0, "0x")}`,
  );

  const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  const period = previousMonth(now);
  const [periodStart] = periodBounds(period);
  const periodText = formatPeriod(period);
  const token = await settlementToken.getAddress();

  step(`3. Roaming agreements in force from ${periodText}: DE-BR and US-BR, rates per tariff class in both directions`);
  for (const [a, b] of [
    ["de", "br"],
    ["us", "br"],
  ] as const) {
    const file = path.join(OUT, `terms-${C[a].plmn}-${C[b].plmn}.json`);
    writeTerms(file, C[a].plmn, C[b].plmn, periodStart, token);
    const p = await proposeAgreement(C[a].client, { self: C[a].hex, partner: C[b].hex, file });
    const acc = await (await C[b].client.agreements.accept(C[a].hex, p.version)).wait();
    console.log(
      `   ${C[a].plmn} <-> ${C[b].plmn}: proposed by ${C[a].plmn}, accepted by ${C[b].plmn} (gas ${n(acc!.gasUsed)}): ${p.terms.ratePlans.length} rate plans, valid from ${new Date(periodStart * 1000).toISOString().slice(0, 10)}`,
    );
  }
  console.log(
    `   per MB: meters 2.00, trackers 0.50, drones 0.002 RLST (10 % off above 10 GB, 25 % above 50 GB); SMS 0.01, voice 0.02/min,`,
  );
  console.log(
    `   signalling 0.0001, 0.05 per active device; permanent roamers after ${ROAMING_DAYS} days, 0.02 per day; SLA latency 3 s, throughput 100 kbps; disputes within 7 days`,
  );

  step(`4. A month of roaming (${periodText}), generated (seed ${SEED}): device lists and the visited carriers' usage files`);
  const generated: { visited: Carrier; home: Carrier; g: GenerateSummary }[] = [];
  for (const [i, t] of TRAFFIC.entries()) {
    const visited = C[t.visited];
    const home = C[t.home];
    const g = generateUsage({
      home: home.hex,
      visited: visited.hex,
      period,
      devices: t.devices,
      seed: SEED + i,
      imsiPrefix: t.imsiPrefix,
      maker: t.maker,
      usageOut: path.join(OUT, "usage", `${visited.plmn}-bills-${home.plmn}.csv`),
      devicesOut: path.join(OUT, "devices", `${home.plmn}-in-${visited.plmn}.csv`),
    });
    generated.push({ visited, home, g });
    const malformed = Object.values(g.malformed).reduce((s, l) => s + l.length, 0);
    console.log(
      `   ${visited.plmn} serves ${n(g.devices).padStart(5)} devices of ${home.plmn.padEnd(7)}: ${n(g.records).padStart(7)} records ` +
        `(${n(g.recordsByService.data)} data, ${n(g.recordsByService.signalling)} signalling, ${n(g.recordsByService.sms)} SMS, ${n(g.recordsByService.voice)} voice), ` +
        `${count(malformed, "malformed line")}, ${count(g.outOfPolicy.length, "stolen SIM")}, ${count(g.permanentRoamers.length, "device")} there all month`,
    );
  }
  const totalRecords = generated.reduce((s, x) => s + x.g.records, 0);
  console.log(`   ${n(totalRecords)} records in all, in ${rel(path.join(OUT, "usage"))}/`);

  step("5. Devices: each home carrier registers its fleet, each device with its own policy contract");
  let totalGas = 0n;
  let totalDevices = 0;
  for (const home of carriers) {
    const partners = home.key === "br" ? [C.de.plmn, C.us.plmn] : [C.br.plmn];
    const policiesFile = path.join(OUT, "devices", `policies-${home.plmn}.json`);
    writePolicies(policiesFile, partners);
    const policies = readPolicies(policiesFile, home.hex);
    for (const { g } of generated.filter((x) => x.home === home)) {
      const devices = await readDevices(g.devicesFile, {
        home: home.hex,
        imsiKey: home.keystore.imsiKey(home.plmn),
        policyNames: new Set(policies.keys()),
      });
      const { ids } = await ensurePolicies(
        home.client,
        policies,
        devices.map((d) => d.policyName),
      );
      let progress: Progress | undefined;
      const r = await registerDevices(home.client, devices, {
        policyIds: ids,
        batchSize: 500,
        onProgress: (done, total) => {
          progress ??= new Progress({ label: `   ${home.plmn} registering`, total, unit: "devices", enabled: PROGRESS });
          progress.update(done);
        },
      });
      progress?.done();
      totalGas += r.gasUsed;
      totalDevices += r.registered;
      const byPolicy = Object.entries(g.devicesByPolicy)
        .map(([p, k]) => `${n(k)} ${p}s`)
        .join(", ");
      console.log(
        `   ${home.plmn.padEnd(7)} ${n(r.registered).padStart(5)} devices (${byPolicy}) in ${count(r.transactions, "transaction")}, ${n(Math.round(Number(r.gasUsed) / r.registered))} gas each`,
      );
    }
  }
  console.log(
    `   ${n(totalDevices)} devices, ${n(Math.round(Number(totalGas) / totalDevices))} gas per device on average (target: at most 100k)`,
  );

  step("6. Key sharing: each home carrier seals its IMSI key to its partner's registered key; the partner opens it");
  for (const [home, partner] of [
    ["de", "br"],
    ["us", "br"],
    ["br", "de"],
    ["br", "us"],
  ] as const) {
    const { fingerprint } = await shareImsiKey(C[home].client, { keystore: C[home].keystore, home: C[home].hex, partner: C[partner].hex });
    await receiveImsiKey(C[partner].client, { keystore: C[partner].keystore, self: C[partner].hex, home: C[home].hex });
    console.log(
      `   ${C[home].plmn.padEnd(7)} -> ${C[partner].plmn.padEnd(7)} envelope on-chain, opened into ${rel(C[partner].keystore.partnerImsiKeyPath(C[partner].plmn, C[home].plmn))} (fingerprint ${fingerprint})`,
    );
  }

  step("7. A German device attaches in Brazil: one eth_call to its policy contract decides");
  const deFleet = sampleImsis(generated[0].g.devicesFile);
  const deriveDe = createDeviceIdDeriver(C.br.keystore.partnerImsiKey(C.br.plmn, C.de.plmn));
  const decide = async (imsi: string, service: number, visited = C.br.hex) => {
    const policy = C.br.client.policyAt(await C.br.client.devices.predictPolicyAddress(deriveDe(imsi)));
    const [d] = await policy.decide(visited, service);
    return d;
  };
  for (const s of [
    { imsi: deFleet.meter, what: "meter asks for data", service: 0 },
    { imsi: deFleet.meter, what: "meter SIM places a voice call", service: 2 },
    { imsi: deFleet.drone, what: "drone asks for data", service: 0 },
  ]) {
    const d = await decide(s.imsi, s.service);
    console.log(
      `   ${s.what.padEnd(30)} -> ${d.serve ? "serve" : `refuse (${DENY[Number(d.reason)]})`}, ` +
        `${d.steerable ? "steerable" : "never steer"}, ${d.homeRouted ? "home-routed" : "local breakout"}, tariff class ${d.tariffClass}`,
    );
  }

  step(
    `8. Usage: each visited carrier ingests its file for ${periodText} (validate, check policies, flag fraud, commit batches of ${n(BATCH_SIZE)})`,
  );
  const { chainId } = await hre.ethers.provider.getNetwork();
  const ingestFrom = await hre.ethers.provider.getBlockNumber();
  const ingested: { visited: Carrier; home: Carrier; g: GenerateSummary; s: IngestSummary }[] = [];
  for (const { visited, home, g } of generated) {
    const s = await ingestUsage({
      file: g.usageFile,
      home: home.hex,
      visited: visited.hex,
      period,
      client: visited.client,
      signer: visited.signer,
      chainId,
      imsiKey: visited.keystore.partnerImsiKey(visited.plmn, home.plmn),
      pairKey: await pairKeyWith(visited.client, { keystore: visited.keystore, self: visited.hex, partner: home.hex }),
      workDir: pairWorkDir(visited.keystore.root, visited.hex, home.hex),
      store,
      batchSize: BATCH_SIZE,
      progress: PROGRESS ? cliProgress : undefined,
    });
    ingested.push({ visited, home, g, s });
    const rejects = Object.entries(s.rejectsByCode)
      .map(([code, k]) => `${code} ${k}`)
      .join(", ");
    const notBillable = Object.entries(s.notBillableByReason)
      .map(([r, k]) => `${r} ${n(k)}`)
      .join(", ");
    const gas = s.batches.reduce((sum, b) => sum + BigInt(b.gasUsed ?? 0), 0n);
    console.log(
      `   ${visited.plmn} bills ${home.plmn}: ${n(s.lines)} lines -> ${n(s.accepted)} records committed, ${n(s.rejected)} rejected (${rejects || "none"})`,
    );
    console.log(
      `      billable ${n(s.billable)}, not billable ${n(s.accepted - s.billable)}${notBillable ? ` (${notBillable})` : ""}; ${n(s.recordsPerSec)} records/s`,
    );
    const derive = createDeviceIdDeriver(visited.keystore.partnerImsiKey(visited.plmn, home.plmn));
    let allMonthCaught = 0;
    for (const imsi of g.permanentRoamers)
      if ((await visited.client.ledger.permanentRoaming(derive(imsi), visited.hex)).reportedAt > 0n) allMonthCaught++;
    console.log(
      `      fraud: ${count(s.flaggedDevices, "device")} flagged on-chain as the file was read (the generator planted ${count(g.outOfPolicy.length, "stolen SIM")})`,
    );
    console.log(
      `      permanent roamers: ${count(s.permanentRoamers, "device")} stayed over ${ROAMING_DAYS} days, reported on-chain (${allMonthCaught} of the ${g.permanentRoamers.length} there the whole month among them)`,
    );
    console.log(
      `      ${count(s.batches.length, "batch", "batches")}, submitBatch gas ${s.batches.map((b) => n(Number(b.gasUsed))).join(" / ")}: ` +
        `${(Number(gas) / s.accepted).toFixed(2)} gas per record`,
    );
  }

  step("9. Alerts: what each carrier's watcher (eth_getLogs, `watch --once`) shows since the ingest began");
  const watched = async (self: Hex, maker = false) => {
    const events: WatchEvent[] = [];
    await watchChain({
      client: C.de.client,
      provider: hre.ethers.provider,
      self,
      maker,
      fromBlock: ingestFrom + 1,
      once: true,
      onEvent: (e) => events.push(e),
    });
    return events;
  };
  for (const home of carriers) {
    const events = (await watched(home.hex)).filter((e) => e.as === "home");
    const count = (kind: WatchEvent["kind"]) => events.filter((e) => e.kind === kind).length;
    console.log(
      `   ${home.plmn} (home): ${count("fraud-flag")} fraud alerts, ${count("permanent-roamer")} permanent roamers, ${count("batch-submitted")} batches billed to it`,
    );
    for (const e of [
      ...events.filter((x) => x.kind === "fraud-flag").slice(0, 2),
      ...events.filter((x) => x.kind === "permanent-roamer").slice(0, 1),
    ]) {
      console.log(`      [block ${e.block}] ${e.text}`);
    }
  }
  const makerEvents = (await watched(parsePlmn("999-01"), true)).filter((e) => e.as === "maker");
  console.log(
    `   999-01 (maker of DE's fleet): ${makerEvents.filter((e) => e.kind === "fraud-flag").length} fraud alerts, ${makerEvents.filter((e) => e.kind === "permanent-roamer").length} permanent roamers among its devices`,
  );
  const stolen = ingested[0].g.outOfPolicy[0];
  const after = await decide(stolen.imsi, 0);
  const inUs = await decide(stolen.imsi, 0, C.us.hex);
  console.log(
    `   a flagged DE meter (${stolen.kind}) asks for data: Brazil gets ${after.serve ? "serve" : `refuse (${DENY[Number(after.reason)]})`}, any other network too: ${inUs.serve ? "serve" : `refuse (${DENY[Number(inUs.reason)]})`}`,
  );

  step("10. Verification: each home carrier decrypts the batches, recomputes roots and totals, accepts or disputes");
  const verified: { home: Carrier; visited: Carrier; reports: VerifyReport[]; gas: bigint }[] = [];
  const ownFile = path.join(OUT, "usage", `${C.de.plmn}-own-records-in-${C.br.plmn}.csv`);
  const alteredId = writeOwnRecords(ingested[0].g.usageFile, ownFile);
  for (const { visited, home, s } of ingested) {
    const own = home === C.de && visited === C.br ? ownFile : undefined;
    const reports: VerifyReport[] = [];
    for (const b of s.batches) {
      reports.push(
        await verifyBatch({
          batchId: b.id,
          client: home.client,
          self: home.hex,
          pairKeyFor: (v) => pairKeyWith(home.client, { keystore: home.keystore, self: home.hex, partner: v }),
          store,
          imsiKey: home.keystore.imsiKey(home.plmn),
          ownFile: own,
        }),
      );
    }
    const gas = await gasOf(reports.flatMap((r) => r.txHashes));
    verified.push({ home, visited, reports, gas });
    const disputed = reports.flatMap((r) => r.disputed);
    const ok = reports.filter((r) => r.payload === "ok").length;
    console.log(
      `   ${home.plmn} checks ${visited.plmn}'s ${count(reports.length, "batch", "batches")} (${n(reports.reduce((x, r) => x + r.recordCount, 0))} records): ${ok} decrypt and match their roots and totals` +
        `${own ? `, compared with its own ${n(reports[0].compared?.ownRecords ?? 0)} records` : ""}; ${disputed.length} disputed, all accepted (gas ${n(gas)})`,
    );
    for (const r of reports.filter((x) => x.disputed.length > 0)) {
      const disputeGas = await gasOf(r.txHashes.slice(0, -1));
      for (const d of r.disputed)
        console.log(`      DISPUTE ${d.recordId}: ${d.reason}, ${d.detail}; sent with its Merkle proof (gas ${n(disputeGas)})`);
    }
  }
  console.log(`   (DE's own records, ${rel(ownFile)}, count record ${alteredId} 400 bytes lower)`);

  step("11. Escrow: the token issuer funds the carriers; each deposits into the escrow (approval included)");
  const rlst = await tokenInfo(token, deployer);
  const deposit = 5_000n * 10n ** BigInt(rlst.decimals);
  for (const c of carriers) {
    await (await settlementToken.mint(c.signer.address, deposit)).wait();
    const d = await depositToEscrow(c.client, { member: c.hex, amount: Amount.fromUnits(rlst, deposit) });
    console.log(
      `   ${c.plmn.padEnd(7)} deposits ${tokens(d.amount)} (approve gas ${n(await gasOf([d.approveTx!]))}, deposit gas ${n(await gasOf([d.depositTx]))})`,
    );
  }

  step(`12. Closing ${periodText}: each visited carrier closes the period it bills; the escrow rates the invoice and reserves it`);
  const invoices = new Map<string, bigint>();
  for (const { visited, home } of ingested) {
    const closed = await closeInvoice(visited.client, { payer: home.hex, payee: visited.hex, period, fromBlock: ingestFrom });
    const r = closed.rating!;
    invoices.set(`${home.plmn}>${visited.plmn}`, closed.amount);
    const totals = await visited.client.ledger.periodTotals(home.hex, visited.hex, period);
    const records = totals.reduce((sum, t) => sum + t.records, 0n);
    const ledgerClose = await visited.client.ledger.queryFilter(
      visited.client.ledger.filters.PeriodClosed(home.hex, visited.hex, period),
      ingestFrom,
    );
    const [ledgerGas, escrowGas] = [await gasOf([ledgerClose[0].transactionHash]), await gasOf([closed.txHash!])];
    console.log(
      `   ${home.plmn.padEnd(7)} owes ${visited.plmn.padEnd(7)} ${tokens(closed.amount).padStart(17)}: ${n(records)} billable records in ${count(closed.batches, "batch", "batches")}, net of disputes ` +
        `(gas: ledger closePeriod ${n(ledgerGas)}, escrow closeInvoice ${n(escrowGas)})`,
    );
    const charges = (k: "data" | "signalling" | "sms" | "voice" | "monthly" | "surcharge") => r.lines.reduce((sum, l) => sum + l[k], 0n);
    console.log(
      `      data ${tokens(charges("data"))}, signalling ${tokens(charges("signalling"))}, SMS ${tokens(charges("sms"))}, voice ${tokens(charges("voice"))}, ` +
        `device fees ${tokens(charges("monthly"))}, permanent roaming ${tokens(charges("surcharge"))}`,
    );
    const sla = r.creditBps > 0 ? `credit ${r.creditBps / 100} % = ${tokens(r.credit)}` : "no credit";
    console.log(
      `      subtotal ${tokens(r.subtotal)}; SLA: average latency ${n(r.avgLatencyMs)} ms, throughput ${n(r.avgThroughputKbps)} kbps over ${n(r.qosSamples)} samples -> ${sla}`,
    );
  }

  step("13. Settlement with netting: both invoices of a pair settle together, only the difference moves");
  for (const [home, visited] of [
    ["de", "br"],
    ["us", "br"],
  ] as const) {
    const a = C[home];
    const b = C[visited];
    const before = { a: await a.client.escrow.deposits(a.hex, token), b: await a.client.escrow.deposits(b.hex, token) };
    const settled = await settlePeriod(a.client, { self: a.hex, partner: b.hex, period, fromBlock: ingestFrom });
    const after = { a: await a.client.escrow.deposits(a.hex, token), b: await a.client.escrow.deposits(b.hex, token) };
    console.log(
      `   ${a.plmn} <-> ${b.plmn}: invoices ${a.plmn} -> ${b.plmn} ${tokens(settled.selfOwed)} and ${b.plmn} -> ${a.plmn} ${tokens(settled.partnerOwed)} (gas ${n(await gasOf([settled.txHash]))})`,
    );
    for (const p of settled.payments) {
      const payout = p.payout === ZeroAddress ? "credited to its deposit" : `paid to ${p.payout}`;
      console.log(`      netted: ${formatPlmn(p.debtor)} pays ${formatPlmn(p.creditor)} ${tokens(p.paid)}, ${payout}`);
    }
    for (const sh of settled.shortfalls)
      console.log(`      SHORTFALL: ${formatPlmn(sh.debtor)} paid ${tokens(sh.paid)} of ${tokens(sh.owed)}; the rest is a debt`);
    console.log(`      deposits: ${a.plmn} ${tokens(before.a)} -> ${tokens(after.a)}, ${b.plmn} ${tokens(before.b)} -> ${tokens(after.b)}`);
  }

  step("14. Invoices (JSON, CSV, PDF), issued by each visited carrier, and each carrier's accounting report");
  const invoiceDir = path.join(OUT, "invoices");
  fs.mkdirSync(invoiceDir, { recursive: true });
  for (const { visited, home } of ingested) {
    const data = await readInvoiceData(visited.client, {
      payer: home.hex,
      payee: visited.hex,
      period,
      perspective: "payee",
      payloads: { key: await pairKeyWith(visited.client, { keystore: visited.keystore, self: visited.hex, partner: home.hex }), store },
      fromBlock: ingestFrom,
    });
    const model = buildInvoiceModel(data);
    const base = path.join(invoiceDir, `${model.invoiceNumber}`);
    fs.writeFileSync(`${base}.json`, invoiceToJson(model));
    fs.writeFileSync(`${base}.csv`, invoiceToCsv(model));
    fs.writeFileSync(`${base}.pdf`, await renderInvoicePdf(model));
    console.log(
      `   ${model.invoiceNumber.padEnd(37)} ${visited.plmn.padEnd(7)} to ${home.plmn.padEnd(7)} ${tokens(model.net.units).padStart(17)}, ${model.status.state}, ${count(model.lines.length, "line")}, ${count(model.batches.length, "batch", "batches")}, ${count(model.disputes.records, "disputed record")}`,
    );
  }
  for (const c of carriers) {
    const report = await buildReport(c.client, { self: c.hex, period, fromBlock: ingestFrom });
    fs.writeFileSync(path.join(invoiceDir, `report-${c.plmn}-${periodText}.txt`), reportToText(report));
    fs.writeFileSync(path.join(invoiceDir, `report-${c.plmn}-${periodText}.json`), reportToJson(report));
    const net = report.partners.reduce((sum, p) => sum + (p.net ?? 0n), 0n);
    console.log(
      `   report of ${c.plmn.padEnd(7)}: ${count(report.partners.length, "partner")}, ${report.partners.every((p) => p.settled) ? "all settled" : "not all settled"}, net ${net >= 0n ? "owed to it" : "owed by it"} ${tokens(net >= 0n ? net : -net)}`,
    );
  }

  const elapsed = (Date.now() - started) / 1000;
  const summary = {
    period: periodText,
    devices: totalDevices,
    gasPerDevice: Math.round(Number(totalGas) / totalDevices),
    records: totalRecords,
    addresses,
    invoices: Object.fromEntries([...invoices].map(([k, v]) => [k, formatAmount(v, TOKEN_DECIMALS)])),
    seconds: elapsed,
  };
  fs.writeFileSync(path.join(OUT, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    `\nDone in ${elapsed.toFixed(1)} s. Invoices and reports: ${rel(invoiceDir)}/ ; key stores, usage files, payloads: ${rel(OUT)}/`,
  );
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
