/**
 * `npm run demo`: RoamLedger's main job on an embedded chain (the in-process Hardhat network), start
 * to finish, with a short account of each step. Writes its files under out/demo/.
 *
 * Today it covers the consortium, devices with their policy contracts, roaming agreements, IMSI-key
 * sharing, a visited network's policy checks and a fraud flag reaching the home carrier. Usage
 * ingestion, settlement and invoices join as they land.
 */
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import RoamLedgerModule from "../ignition/modules/RoamLedger";
import SettlementTokenModule from "../ignition/modules/SettlementToken";
import { Keystore } from "../lib/keystore";
import { connectRoamLedger, type RoamLedgerClient } from "../lib/client";
import { readPolicies } from "../lib/policy";
import { readDevices, ensurePolicies, registerDevices } from "../lib/devices";
import { shareImsiKey, receiveImsiKey } from "../lib/keyshare";
import { createDeviceIdDeriver } from "../lib/imsi";
import { formatPlmn, parsePlmn } from "../lib/plmn";
import { Progress } from "../lib/progress";
import { ROLE_BITS } from "../lib/roles";
import { proposeAgreement } from "../lib/agreementOps";

const OUT = path.join(hre.config.paths.root, "out", "demo");
const DEVICES_PER_HOME = 1500;
const DENY = ["none", "unknown device", "suspended", "fraud-flagged", "not yet valid", "expired", "service not allowed", "network not allowed", "no agreement"];

const CARRIERS = [
  { key: "de", plmn: "262-01", name: "Telekom Deutschland IoT", country: "Germany" },
  { key: "us", plmn: "310-410", name: "US Mobile IoT", country: "USA" },
  { key: "br", plmn: "724-05", name: "Vivo Brasil", country: "Brazil" },
] as const;

function step(title: string) {
  console.log(`\n== ${title}`);
}

/** Writes a devices CSV for a home carrier: NB-IoT meters, LTE-M trackers, a few 5G drones. */
function writeDevicesCsv(file: string, plmn: string, n: number): void {
  const digits = plmn.replace("-", "");
  const lines = ["imsi,class,policy,maker"];
  for (let i = 0; i < n; i++) {
    const msin = String(i).padStart(15 - digits.length, "0");
    const [cls, policy, maker] = i % 50 === 49 ? ["5g", "drone", ""] : i % 3 === 2 ? ["lte-m", "tracker", ""] : ["nb-iot", "meter", "999-01"];
    lines.push(`${digits}${msin},${cls},${policy},${maker}`);
  }
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

function writePolicies(file: string, partners: string[]): void {
  const policies = {
    meter: { services: ["data"], tariffClass: 1, routing: "home-routed", maxVisitedDays: 90, dailyBytes: 20_000, monthlyBytes: 500_000, dailyEvents: 100, monthlyEvents: 2_000 },
    tracker: { services: ["data", "sms"], tariffClass: 2, routing: "local-breakout", maxVisitedDays: 30, dailyBytes: 5_000_000, allowedNetworks: partners },
    drone: { services: ["data", "sms", "voice"], tariffClass: 3, routing: "local-breakout", missionCritical: true, maxLatencyMs: 50, minThroughputKbps: 20_000 },
  };
  fs.writeFileSync(file, JSON.stringify(policies, null, 2) + "\n");
}

/** A terms file both ways between two carriers, in the format `agreement:propose --terms` takes. */
function writeTerms(file: string, a: string, b: string, from: number, token: string): void {
  const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const rate = (visited: string, tariffClass: number, perMb: string) => ({
    visited,
    tariffClass,
    perMb,
    perSignallingEvent: "0.0001",
    perSms: "0.01",
    perVoiceMinute: "0.02",
    monthlyFeePerDevice: "0.05",
    tiers: [{ fromMb: 10000, discountPercent: 10 }],
  });
  const terms = {
    settlementToken: token,
    validFrom: iso(from),
    validUntil: iso(from + 365 * 24 * 3600),
    disputeWindowDays: 7,
    permanentRoaming: { days: 90, surchargePerDay: "0.01" },
    sla: { maxLatencyMs: 300, minThroughputKbps: 100, minAvailabilityPercent: 99.5, latencyCreditPercent: 1, throughputCreditPercent: 1, availabilityCreditPercent: 2 },
    rates: [
      [1, "0.50"],
      [2, "0.25"],
      [3, "0.15"],
    ].flatMap(([c, perMb]) => [rate(a, c as number, perMb as string), rate(b, c as number, perMb as string)]),
  };
  fs.writeFileSync(file, JSON.stringify(terms, null, 2) + "\n");
}

async function main() {
  const started = Date.now();
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const keystore = new Keystore(path.join(OUT, "keys"));
  const [deployer, deOp, usOp, brOp, makerOp, ukOp] = await hre.ethers.getSigners();
  const ops: Record<string, HardhatEthersSigner> = { de: deOp, us: usOp, br: brOp };

  step("1. Consortium: three carriers and a device maker deploy RoamLedger");
  const bootstrapMembers = [
    ...CARRIERS.map((c) => ({
      plmn: parsePlmn(c.plmn),
      roles: ROLE_BITS.carrier | ROLE_BITS.governor,
      name: c.name,
      encryptionKey: keystore.ensureEncryptionKey(c.plmn).publicKey,
      operators: [ops[c.key].address],
    })),
    { plmn: parsePlmn("999-01"), roles: ROLE_BITS["device-maker"], name: "Acme Smart Meters", encryptionKey: keystore.ensureEncryptionKey("999-01").publicKey, operators: [makerOp.address] },
  ];
  const deployed = await hre.ignition.deploy(RoamLedgerModule, {
    parameters: { CarrierRegistry: { bootstrapMembers, thresholdBps: 5001, proposalLifetime: 7 * 24 * 3600, infraAccounts: [deployer.address] } },
    displayUi: false,
  });
  const { settlementToken } = await hre.ignition.deploy(SettlementTokenModule, { displayUi: false });
  const addresses = {
    carrierRegistry: await deployed.carrierRegistry.getAddress(),
    roamingAgreements: await deployed.roamingAgreements.getAddress(),
    deviceRegistry: await deployed.deviceRegistry.getAddress(),
  };
  const as = (signer: HardhatEthersSigner): RoamLedgerClient => connectRoamLedger(addresses, signer);
  for (const c of CARRIERS) console.log(`   ${c.plmn.padEnd(8)} ${c.name} (${c.country}), carrier + governor`);
  console.log(`   999-01   Acme Smart Meters, device maker`);
  console.log(`   CarrierRegistry ${addresses.carrierRegistry}, DeviceRegistry ${addresses.deviceRegistry}`);

  step("2. Governance: DE proposes to admit a UK carrier, US approves (quorum 2 of 3)");
  const ukKey = keystore.ensureEncryptionKey("234-15").publicKey;
  await (await as(deOp).carriers.proposeAdmission({ plmn: parsePlmn("234-15"), roles: ROLE_BITS.carrier, name: "Vodafone UK IoT", encryptionKey: ukKey, operators: [ukOp.address] })).wait();
  const vote = await (await as(usOp).carriers.approve(1)).wait();
  console.log(`   234-15 admitted: ${await as(deployer).carriers.isActive(parsePlmn("234-15"))} (vote gas ${vote!.gasUsed})`);
  console.log(`   Besu permissioning: transactionAllowed(UK operator) = ${await as(deployer).carriers.transactionAllowed(ukOp.address, ukOp.address, 0, 0, 0, "0x")}, stranger = ${await as(deployer).carriers.transactionAllowed("0x000000000000000000000000000000000000dEaD", ukOp.address, 0, 0, 0, "0x")}`);

  step("3. Roaming agreements: negotiate once (DE-BR, US-BR, DE-US), rates per tariff class and direction");
  const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  const token = await settlementToken.getAddress();
  for (const [a, b] of [["de", "br"], ["us", "br"], ["de", "us"]] as const) {
    const pa = CARRIERS.find((c) => c.key === a)!.plmn;
    const pb = CARRIERS.find((c) => c.key === b)!.plmn;
    const file = path.join(OUT, `terms-${pa}-${pb}.json`);
    writeTerms(file, pa, pb, now, token);
    const p = await proposeAgreement(as(ops[a]), parsePlmn(pa), parsePlmn(pb), file);
    const acc = await (await as(ops[b]).agreements.accept(parsePlmn(pa), p.version)).wait();
    console.log(`   ${pa} <-> ${pb}: ${path.basename(file)} proposed by ${pa}, accepted by ${pb}, ${p.terms.ratePlans.length} rate plans (accept gas ${acc!.gasUsed})`);
  }

  step(`4. Devices: each home carrier registers ${DEVICES_PER_HOME.toLocaleString("en-US")} devices, each with its own policy contract`);
  let totalGas = 0n;
  let totalDevices = 0;
  for (const c of CARRIERS.filter((x) => x.key !== "br")) {
    const home = parsePlmn(c.plmn);
    const csv = path.join(OUT, `devices-${c.plmn}.csv`);
    const policiesFile = path.join(OUT, `policies-${c.plmn}.json`);
    writeDevicesCsv(csv, c.plmn, DEVICES_PER_HOME);
    writePolicies(policiesFile, ["724-05"]);
    const imsiKey = keystore.ensureImsiKey(c.plmn);
    const policies = readPolicies(policiesFile, home);
    const devices = await readDevices(csv, home, imsiKey, new Set(policies.keys()));
    const client = as(ops[c.key]);
    const { ids } = await ensurePolicies(client, policies, devices.map((d) => d.policyName));
    let progress: Progress | undefined;
    const r = await registerDevices(client, devices, ids, {
      batchSize: 500,
      onProgress: (done, total) => {
        progress ??= new Progress({ label: `   ${c.plmn} registering`, total, unit: "devices" });
        progress.update(done);
      },
    });
    progress?.done();
    totalGas += r.gasUsed;
    totalDevices += r.registered;
    console.log(`   ${c.plmn}: ${r.registered} devices in ${r.transactions} transactions, ${(Number(r.gasUsed) / r.registered).toFixed(0)} gas per device`);
  }
  console.log(`   ${totalDevices} devices, ${(Number(totalGas) / totalDevices).toFixed(0)} gas per device on average (target: at most 100k)`);

  step("5. Key sharing: DE and US seal their IMSI keys to Brazil's registered key; Brazil opens them");
  for (const home of ["262-01", "310-410"]) {
    const { fingerprint } = await shareImsiKey(as(ops[home === "262-01" ? "de" : "us"]), keystore, parsePlmn(home), parsePlmn("724-05"));
    await receiveImsiKey(as(brOp), keystore, parsePlmn("724-05"), parsePlmn(home));
    console.log(`   ${home} -> 724-05: envelope on-chain, opened by 724-05 (fingerprint ${fingerprint})`);
  }

  step("6. A roaming device attaches in Brazil: one eth_call to its policy contract decides");
  const br = as(brOp);
  const deriveDe = createDeviceIdDeriver(keystore.partnerImsiKey("724-05", "262-01"));
  const sample = [
    { imsi: "262010000000000", what: "meter asks for data", service: 0 },
    { imsi: "262010000000000", what: "meter SIM places a voice call", service: 2 },
    { imsi: "262010000000049", what: "drone asks for data", service: 0 },
  ];
  for (const s of sample) {
    const id = deriveDe(s.imsi);
    const policyAddress = await br.devices.predictPolicyAddress(id);
    const [d] = await br.policyAt(policyAddress).decide(parsePlmn("724-05"), s.service);
    console.log(
      `   ${s.what.padEnd(30)} -> ${d.serve ? "serve" : `refuse (${DENY[Number(d.reason)]})`}, ` +
        `${d.steerable ? "steerable" : "never steer"}, ${d.homeRouted ? "home-routed" : "local breakout"}, tariff class ${d.tariffClass}`,
    );
  }

  step("7. Fraud: Brazil flags the meter SIM that made a call; Germany's watcher sees it at once");
  const stolen = deriveDe("262010000000000");
  const evidence = hre.ethers.id("voice CDR 2026-11-26T09:12:44Z 124s");
  const flag = await (await br.devices.flagFraud([{ id: stolen, reason: 2, evidenceHash: evidence }])).wait();
  const de = as(deOp);
  const alerts = await de.devices.queryFilter(de.devices.filters.FraudFlagged(undefined, parsePlmn("262-01")), flag!.blockNumber);
  for (const a of alerts) {
    console.log(`   ALERT for 262-01: device ${a.args.id.slice(0, 18)}… flagged by ${formatPlmn(a.args.reporter)}, reason ${a.args.reason}, evidence ${a.args.evidenceHash.slice(0, 18)}…`);
  }
  const [after] = await br.policyAt(await br.devices.predictPolicyAddress(stolen)).decide(parsePlmn("724-05"), 0);
  console.log(`   every visited network now gets: ${after.serve ? "serve" : `refuse (${DENY[Number(after.reason)]})`}`);

  const summary = { devices: totalDevices, gasPerDevice: Number(totalGas) / totalDevices, addresses, fraudAlerts: alerts.length };
  fs.writeFileSync(path.join(OUT, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Files (device lists, policies, keys, summary.json) are in ${path.relative(process.cwd(), OUT)}/`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
