import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { HDNodeWallet, NonceManager, Wallet } from "ethers";
import {
  CarrierRegistry__factory,
  DeviceRegistry__factory,
  RoamingAgreements__factory,
  SettlementEscrow__factory,
  SettlementToken__factory,
  UsageLedger__factory,
} from "../../typechain-types";
import { connectRoamLedger, type RoamLedgerClient } from "../../lib/chain/client";
import type { RoamLedgerAddresses } from "../../lib/chain/deployment";
import { Amount } from "../../lib/core/amount";
import { pairwiseKey } from "../../lib/crypto/pairwise";
import { readPolicies } from "../../lib/devices/policy";
import { ensurePolicies, readDevices, registerDevices } from "../../lib/devices/registration";
import { depositToEscrow, settlePeriod } from "../../lib/settlement/escrow";
import type { Rating } from "../../lib/settlement/rating";
import { generateUsage } from "../../lib/usage/generate";
import { ingestUsage, pairWorkDir } from "../../lib/usage/ingest";
import { openPayload } from "../../lib/usage/payload";
import { FolderStore } from "../../lib/usage/store";
import { verifyBatch } from "../../lib/usage/verify";
import type { Hex } from "../../lib/util/hex";
import type { ClassTotals } from "../../lib/usage/types";
import { PLMN, ROLE, testEncryptionKey } from "../helpers/fixtures";
import { POLICIES, testPrivateKey } from "../helpers/ingest";
import { GasFreeProvider } from "../helpers/integration";
import { DEV_MNEMONIC, startAnvil, type AnvilNode } from "../helpers/node";
import { monthsBefore, type Month } from "../helpers/period";
import { analyse, collectObservations, findingsTable, leakedLabels, overHttp, type Observation, type Secret } from "../helpers/thirdMember";

/**
 * What a third member learns of a pair's period on today's contracts. On a separate node (anvil), DE (home,
 * A) and BR (visited, B) play a full period, C (US) watches: an agreement and an amendment, DE's fleet
 * registered, BR's batches (usage:ingest through the library), DE disputes one record, rejects one batch and
 * accepts the rest, BR closes both invoices and settles from DE's deposit. The same period is played twice
 * on fresh contracts, the second time with other rates and other usage: the control run of the probe
 * (test/helpers/thirdMember.ts), which C then points at the first run's contracts with the pair's secrets.
 */

const BATCHES = 4;
const DEVICES = 24;
const DECIMALS = 6n;

/** One play of the period: what differs between the run and its control. */
interface Variant {
  name: string;
  /** Scales every rate, fee and SLA figure (odd, so no figure equals the other run's). */
  k: bigint;
  seed: number;
}

interface Played {
  addresses: RoamLedgerAddresses;
  fromBlock: number;
  toBlock: number;
  secrets: Secret[];
  /** What moved at settlement, public by design. */
  nets: bigint[];
}

interface World {
  node: AnvilNode;
  provider: GasFreeProvider;
  /** deployer, DE, BR, US: nonces counted locally (the provider caches the node's count for a moment). */
  wallets: NonceManager[];
  addresses: string[];
  month: Month;
  dir: string;
}

// ------------------------------------------------------------------ the pair's terms

/** Terms of DE <-> BR: BR prices classes 1-3 of DE's devices, DE class 1 of BR's; v2 amends every figure. */
function pairTerms(v: Variant, version: number, from: number, token: string) {
  const k = v.k + BigInt(version - 1) * 2n;
  const unit = 10n ** DECIMALS;
  const plan = (visited: string, tariffClass: number) => ({
    visited,
    tariffClass,
    perMb: ((50n + 7n * BigInt(tariffClass)) * k * unit) / 1000n,
    perSignallingEvent: 13n * k,
    perSms: 1_100n * k + BigInt(tariffClass),
    perVoiceMinute: 2_300n * k + BigInt(tariffClass),
    monthlyFeePerDevice: 5_300n * k + BigInt(tariffClass),
    tiers: [{ fromMb: 17n * k + BigInt(tariffClass), discountBps: Number(97n * k) % 9_000 }],
  });
  return {
    settlementToken: token,
    validFrom: from,
    validUntil: from + 400 * 24 * 3600,
    disputeWindow: 7 * 24 * 3600,
    permanentRoamingDays: 20,
    permanentRoamingSurchargePerDay: 4_100n * k,
    sla: {
      maxLatencyMs: Number(23n * k),
      minThroughputKbps: Number(3n * k),
      minAvailabilityBps: 9_000 + Number(k),
      latencyCreditBps: Number(11n * k),
      throughputCreditBps: Number(19n * k),
      availabilityCreditBps: Number(29n * k),
    },
    ratePlans: [plan(PLMN.BR, 1), plan(PLMN.BR, 2), plan(PLMN.BR, 3), plan(PLMN.DE, 1)],
  };
}

/** Every figure of the terms, labelled. */
function termsSecrets(version: number, t: ReturnType<typeof pairTerms>): Secret[] {
  const at = `terms v${version}`;
  const out: Secret[] = [
    { label: `${at} surchargePerDay`, value: t.permanentRoamingSurchargePerDay },
    ...Object.entries(t.sla).map(([field, value]) => ({ label: `${at} sla ${field}`, value: BigInt(value) })),
  ];
  for (const p of t.ratePlans) {
    const plan = `${at} ${p.visited === PLMN.BR ? "BR" : "DE"} class ${p.tariffClass}`;
    for (const field of ["perMb", "perSignallingEvent", "perSms", "perVoiceMinute", "monthlyFeePerDevice"] as const) {
      out.push({ label: `${plan} ${field}`, value: p[field] });
    }
    out.push(
      { label: `${plan} tier fromMb`, value: p.tiers[0].fromMb },
      { label: `${plan} tier discountBps`, value: BigInt(p.tiers[0].discountBps) },
    );
  }
  return out;
}

function totalsSecrets(at: string, totals: readonly ClassTotals[]): Secret[] {
  return totals.flatMap((t) =>
    Object.entries(t)
      .filter(([field]) => field !== "tariffClass")
      .map(([field, value]) => ({ label: `${at} class ${t.tariffClass} ${field}`, value: BigInt(value) })),
  );
}

function invoiceSecrets(r: Rating): Secret[] {
  const lines = r.lines.flatMap((l) =>
    (["data", "signalling", "sms", "voice", "monthly", "surcharge", "total"] as const).map((field) => ({
      label: `invoice class ${l.tariffClass} ${field}`,
      value: l[field],
    })),
  );
  return [
    ...lines,
    { label: "invoice subtotal", value: r.subtotal },
    { label: "invoice credit", value: r.credit },
    { label: "invoice qos avgLatencyMs", value: r.avgLatencyMs },
    { label: "invoice qos avgThroughputKbps", value: r.avgThroughputKbps },
  ];
}

// ------------------------------------------------------------------ one play of the period

/** RoamLedger with three carriers (DE, BR, and US the third member), no submission grace, and a token. */
async function deploy(w: World): Promise<{ addresses: RoamLedgerAddresses; token: string }> {
  const [deployer] = w.wallets;
  const [deployerAddress, deAddress, brAddress, usAddress] = w.addresses;
  const member = (plmn: Hex, seed: number, operator: string) => ({
    plmn,
    roles: ROLE.CARRIER | ROLE.GOVERNOR,
    name: `carrier ${plmn}`,
    encryptionKey: testEncryptionKey(seed),
    operators: [operator],
  });
  const members = [member(PLMN.DE, 1, deAddress), member(PLMN.US, 2, usAddress), member(PLMN.BR, 3, brAddress)];
  const carriers = await (
    await new CarrierRegistry__factory(deployer).deploy(members, 5001, 7 * 24 * 3600, [deployerAddress])
  ).waitForDeployment();
  const agreements = await (await new RoamingAgreements__factory(deployer).deploy(carriers)).waitForDeployment();
  const devices = await (await new DeviceRegistry__factory(deployer).deploy(carriers, agreements)).waitForDeployment();
  const ledger = await (await new UsageLedger__factory(deployer).deploy(carriers, agreements, devices, 0)).waitForDeployment();
  const escrow = await (await new SettlementEscrow__factory(deployer).deploy(carriers, agreements, ledger)).waitForDeployment();
  const token = await (await new SettlementToken__factory(deployer).deploy(deployerAddress)).waitForDeployment();
  const addresses: RoamLedgerAddresses = {
    carrierRegistry: await carriers.getAddress(),
    roamingAgreements: await agreements.getAddress(),
    deviceRegistry: await devices.getAddress(),
    usageLedger: await ledger.getAddress(),
    settlementEscrow: await escrow.getAddress(),
  };
  return { addresses, token: await token.getAddress() };
}

/** DE proposes version 1 and the amendment, BR accepts each: the secrets of both versions. */
async function agree(v: Variant, de: RoamLedgerClient, br: RoamLedgerClient, o: { from: number; token: string }): Promise<Secret[]> {
  const out: Secret[] = [];
  for (const version of [1, 2]) {
    const terms = pairTerms(v, version, o.from, o.token);
    await (await de.agreements.propose(PLMN.BR, terms)).wait();
    await (await br.agreements.accept(PLMN.DE, version)).wait();
    out.push(...termsSecrets(version, terms));
  }
  return out;
}

/** DE's fleet roaming in BR last month: registered by DE; the usage file BR bills. */
async function fleet(w: World, v: Variant, de: RoamLedgerClient, imsiKey: Uint8Array) {
  const dir = path.join(w.dir, v.name);
  const g = generateUsage({
    home: PLMN.DE,
    visited: PLMN.BR,
    period: w.month.period,
    devices: DEVICES,
    seed: v.seed,
    malformedRate: 0,
    fraudRate: 0,
    usageOut: path.join(dir, "usage.csv"),
    devicesOut: path.join(dir, "devices.csv"),
  });
  const policies = readPolicies(POLICIES, PLMN.DE);
  const devices = await readDevices(g.devicesFile, { home: PLMN.DE, imsiKey, policyNames: new Set(policies.keys()) });
  const { ids } = await ensurePolicies(
    de,
    policies,
    devices.map((d) => d.policyName),
  );
  await registerDevices(de, devices, { policyIds: ids, batchSize: 500 });
  return g;
}

/** DE's own records: BR's file with the first data record's outgoing volume 400 bytes lower (a dispute). */
function ownRecords(usageFile: string): string {
  const lines = fs.readFileSync(usageFile, "utf8").split("\n");
  const header = lines[0].split(",");
  const col = (name: string) => header.indexOf(name);
  const target = lines.findIndex((l, i) => i > 0 && l.split(",")[col("service")] === "data");
  const fields = lines[target].split(",");
  fields[col("dataVolumeOutgoing")] = String(Number(fields[col("dataVolumeOutgoing")]) - 400);
  lines[target] = fields.join(",");
  const own = `${usageFile}.own.csv`;
  fs.writeFileSync(own, lines.join("\n"));
  return own;
}

/** DE answers BR's batches: disputes the record its own counters disagree with, rejects one, accepts the rest. */
async function answer(de: RoamLedgerClient, o: { ids: Hex[]; store: FolderStore; pairKey: Uint8Array; imsiKey: Uint8Array; own: string }) {
  const check = (batchId: Hex, extra: { ownFile?: string; dryRun?: boolean }) =>
    verifyBatch({ batchId, client: de, self: PLMN.DE, pairKeyFor: async () => o.pairKey, store: o.store, imsiKey: o.imsiKey, ...extra });
  const dry = await Promise.all(o.ids.map((id) => check(id, { ownFile: o.own, dryRun: true })));
  const disputed = o.ids[dry.findIndex((r) => r.disputed.length > 0)];
  expect((await check(disputed, { ownFile: o.own })).action).to.equal("disputed-and-accepted");
  const rejected = o.ids.find((id) => id !== disputed) as Hex;
  await (await de.ledger.rejectBatch(rejected, 3)).wait();
  for (const id of o.ids.filter((x) => x !== disputed && x !== rejected)) expect((await check(id, {})).action).to.equal("accepted");
}

/** The totals of each batch, as the home carrier opens them from the sealed payloads. */
async function batchTotals(store: FolderStore, pairKey: Uint8Array, period: number, hashes: Hex[]): Promise<Secret[]> {
  const out: Secret[] = [];
  for (const [i, hash] of hashes.entries()) {
    const payload = openPayload(pairKey, await store.get(hash), { visited: PLMN.BR, home: PLMN.DE, period });
    out.push(...totalsSecrets(`batch ${i + 1}`, payload.header.totals));
  }
  return out;
}

/** BR bills DE's fleet in BATCHES batches; DE answers them. The totals of every batch. */
async function usage(w: World, v: Variant, c: { de: RoamLedgerClient; br: RoamLedgerClient; imsiKey: Uint8Array }): Promise<Secret[]> {
  const g = await fleet(w, v, c.de, c.imsiKey);
  const store = new FolderStore(path.join(w.dir, v.name, "store"));
  const pairKey = pairwiseKey({
    myPrivateKey: testPrivateKey(3),
    theirPublicKey: testEncryptionKey(1) as Hex,
    plmnA: PLMN.BR,
    plmnB: PLMN.DE,
  });
  const ingested = await ingestUsage({
    file: g.usageFile,
    home: PLMN.DE,
    visited: PLMN.BR,
    period: w.month.period,
    client: c.br,
    signer: w.wallets[2],
    chainId: BigInt(w.node.chainId),
    imsiKey: c.imsiKey,
    pairKey,
    workDir: pairWorkDir(path.join(w.dir, v.name, "br"), PLMN.BR, PLMN.DE),
    store,
    batchSize: Math.ceil(g.records / BATCHES),
  });
  expect(ingested.batches).to.have.length(BATCHES);
  const ids = ingested.batches.map((b) => b.id);
  await answer(c.de, { ids, store, pairKey, imsiKey: c.imsiKey, own: ownRecords(g.usageFile) });
  return batchTotals(
    store,
    pairKey,
    w.month.period,
    ingested.batches.map((b) => b.payloadHash),
  );
}

/** The whole period of `v` on fresh contracts: what happened, on which blocks, and the pair's secrets. */
async function playPeriod(w: World, v: Variant): Promise<Played> {
  const startedAt = Date.now();
  const step = (m: string) => console.log(`      [${v.name}] ${((Date.now() - startedAt) / 1000).toFixed(1)} s ${m}`);
  const fromBlock = (await w.provider.getBlockNumber()) + 1;
  const { addresses, token } = await deploy(w);
  const [deployer, deWallet, brWallet] = w.wallets;
  const de = connectRoamLedger(addresses, deWallet);
  const br = connectRoamLedger(addresses, brWallet);
  step("deployed");
  const secrets = await agree(v, de, br, { from: w.month.start, token });
  step("agreed");
  secrets.push(...(await usage(w, v, { de, br, imsiKey: randomBytes(32) })));

  step("usage done");
  const funds = 1_000_000n * 10n ** DECIMALS;
  await (await SettlementToken__factory.connect(token, deployer).mint(w.addresses[1], funds)).wait();
  const rlst = { address: token, symbol: "RLST", decimals: Number(DECIMALS) };
  await depositToEscrow(de, { member: PLMN.DE, amount: Amount.fromUnits(rlst, funds) });
  step("deposited");
  const settled = await settlePeriod(br, { self: PLMN.BR, partner: PLMN.DE, period: w.month.period });
  step("settled");
  const billed = settled.closed.find((x) => x.payer === PLMN.DE);
  if (!billed?.rating) throw new Error("BR's invoice to DE was not closed by settlePeriod");
  secrets.push(...invoiceSecrets(billed.rating));
  const toBlock = await w.provider.getBlockNumber();
  return { addresses, fromBlock, toBlock, secrets, nets: [billed.amount, settled.selfOwed, settled.partnerOwed] };
}

/** What C reads of a run: every log, input and written slot of the agreements, ledger and escrow. */
function observe(w: World, run: Played): Promise<Observation[]> {
  const { roamingAgreements, usageLedger, settlementEscrow } = run.addresses;
  return collectObservations({
    call: overHttp(w.node.url),
    contracts: [roamingAgreements, usageLedger, settlementEscrow],
    fromBlock: run.fromBlock,
    toBlock: run.toBlock,
  });
}

describe("confidentiality: a third member's view of a pair's period", function () {
  let w: World;

  before(async function () {
    const node = await startAnvil({ blockTime: 0 });
    const provider = new GasFreeProvider(node.url, node.chainId);
    const keys = Array.from({ length: 4 }, (_, i) => HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`));
    const wallets = keys.map((k) => new NonceManager(new Wallet(k.privateKey, provider)));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-leak-"));
    w = {
      node,
      provider,
      wallets,
      addresses: keys.map((k) => k.address),
      dir,
      month: monthsBefore((await provider.getBlock("latest"))!.timestamp),
    };
  });

  after(async function () {
    w?.provider.destroy();
    await w?.node.stop();
    if (w) fs.rmSync(w.dir, { recursive: true, force: true });
  });

  it("today's contracts leak the pair's rates, per-class totals and invoice lines to a third member", async function () {
    // Two plays of the period and the probe take 10-15 s on a quiet machine, over two minutes on a heavily loaded one:
    // each play logs its steps, so that a slow run shows where it spent its time.
    this.timeout(300_000);
    const run = await playPeriod(w, { name: "run", k: 3n, seed: 41 });
    const control = await playPeriod(w, { name: "control", k: 7n, seed: 43 });
    const report = analyse(await observe(w, run), run.secrets, { control: await observe(w, control), publicValues: run.nets });
    console.log(findingsTable(report));

    const leaked = [...leakedLabels(report)];
    const some = (re: RegExp) => leaked.filter((l) => re.test(l));
    expect(some(/^terms v\d .* perMb$/), "rates").to.not.be.empty;
    expect(some(/^batch \d+ class \d+ (dataBytes|smsCount|voiceSeconds|signallingEvents)$/), "per-class totals").to.not.be.empty;
    expect(some(/^invoice class \d+ (data|sms|voice|signalling|monthly|total)$/), "invoice lines").to.not.be.empty;
    expect(report.findings.filter((f) => f.channel === "log")).to.not.be.empty;
  });
});
