import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { HDNodeWallet, NonceManager, Wallet } from "ethers";
import {
  CarrierRegistry__factory,
  DeviceRegistry__factory,
  Groth16Verifier__factory,
  RatingAdjudicator__factory,
  RoamingAgreements__factory,
  RevealLib__factory,
  SettlementEscrow__factory,
  SettlementToken__factory,
  UsageLedger__factory,
} from "../../typechain-types";
import { connectRoamLedger, type RoamLedgerClient } from "../../lib/chain/client";
import type { RoamLedgerAddresses } from "../../lib/chain/deployment";
import { Amount } from "../../lib/core/amount";
import { pairwiseKey } from "../../lib/crypto/pairwise";
import { readPolicies } from "../../lib/devices/policy";
import { DEFAULT_REGISTER_BATCH, ensurePolicies, readDevices, registerDevices } from "../../lib/devices/registration";
import { depositToEscrow, settlePeriod } from "../../lib/settlement/escrow";
import type { Rating } from "../../lib/settlement/rating";
import { fileClaim } from "../../lib/settlement/claims";
import { cosignInvoice, escrowInvoiceStatus, proposeInvoice, type RateInvoiceOptions } from "../../lib/settlement/invoices";
import { invoiceTotalsSaltOf } from "../../lib/invoice/draft";
import { fullTermsOf, periodUsageOf } from "../../lib/invoice/inputs";
import type { FullTerms } from "../../lib/invoice/usage";
import { closePeriod, countedPeriod } from "../../lib/usage/period";
import { generateUsage } from "../../lib/usage/generate";
import { ingestUsage, pairWorkDir } from "../../lib/usage/ingest";
import { openPayload } from "../../lib/usage/payload";
import { FolderStore } from "../../lib/usage/store";
import { verifyBatch } from "../../lib/usage/verify";
import type { Hex } from "../../lib/util/hex";
import type { ClassTotals } from "../../lib/usage/types";
import { approveVerifier, proposeVerifier } from "../../lib/zk/adjudicator";
import { ensureDevCeremony, type DevCeremony } from "../../lib/zk/ceremony";
import { buildClaimProof, contestWindowEnd, fileClaimProof, requireTrustedKey } from "../../lib/zk/claim";
import { RATING_V1, termsSaltField, totalsSaltField } from "../../lib/zk/encoding";
import { verifierConstructorArgs } from "../../lib/zk/prover";
import { PLMN, ROLE, testEncryptionKey } from "../helpers/fixtures";
import { POLICIES, testPrivateKey } from "../helpers/ingest";
import { agreeSealed } from "../helpers/agreement";
import { GasFreeProvider } from "../helpers/integration";
import { DEV_MNEMONIC, startAnvil, type AnvilNode } from "../helpers/node";
import { monthOf, type Month } from "../helpers/period";
import {
  analyse,
  collectObservations,
  findingsTable,
  overHttp,
  withPublicValues,
  type Observation,
  type Secret,
} from "../helpers/thirdMember";

/**
 * What a third member learns of a pair's period. On a separate node (anvil), DE (home, A) and BR (visited, B)
 * play a full period on RoamLedger v2 while C (US) watches: an agreement and an amendment (sealed), DE's fleet
 * registered, BR's batches (usage:ingest through the library), DE disputes one record, rejects one batch and
 * accepts the rest, both periods close and each payee proposes its invoice. DE co-signs none of BR's: BR
 * claims it past the sign window and, once DE's contest window is over, the claim is decided by PROOF (a
 * Groth16 proof, rating-v1 with the development ceremony's key behind a verifier the governors trusted by
 * quorum, that the net is the rating of the committed totals under the committed terms); BR co-signs DE's
 * invoice. BR settles with netting from DE's deposit. The same period is played twice on fresh contracts, the
 * second time with other rates and other usage: the control run of the probe (test/helpers/thirdMember.ts),
 * which C then points at the first run's contracts with the pair's secrets (every figure of the terms, every
 * batch's and the period's totals, every invoice line, every salt, the field salts of the proof's Poseidon
 * commitments, and the pair key).
 *
 * On the contracts before confidential settlement (v1, main at 7ce4ed6) the same probe found the rates, the
 * per-class totals and the invoice lines in events, calldata and storage; see docs/confidentiality.md.
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
  /** The escrow's claim adjudicator. */
  adjudicator: string;
  /** The transaction that filed BR's proof (proveClaim). */
  proofTx: string;
  fromBlock: number;
  toBlock: number;
  secrets: Secret[];
  /** What moved at settlement, public by design. */
  nets: bigint[];
  /** Values public by design that large values' bytes may hold: addresses, block times and the times derived from them. */
  publics: bigint[];
}

interface World {
  node: AnvilNode;
  provider: GasFreeProvider;
  /** deployer, DE, BR, US: nonces counted locally (the provider caches the node's count for a moment). */
  wallets: NonceManager[];
  addresses: string[];
  dir: string;
  /** The development ceremony's keys (lib/zk/ceremony): the verifier's and BR's prover's. */
  dev: DevCeremony;
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

/** Seconds a batch may still be submitted after its period ends (the ledger's grace). */
const GRACE = 5 * 24 * 3600;
const DAY = 24 * 3600;

/** What `deploy` made besides RoamLedger's contracts: the token, the claim adjudicator and the rating-v1 verifier. */
interface Deployed {
  addresses: RoamLedgerAddresses;
  token: string;
  adjudicator: string;
  verifier: string;
}

/**
 * RoamLedger v2 with three carriers (DE, BR, and US the third member, each a governor), a submission grace, a
 * token, the claim adjudicator behind the escrow, and a Groth16 verifier with the development key (not yet
 * trusted).
 */
async function deploy(w: World): Promise<Deployed> {
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
    await new CarrierRegistry__factory(deployer).deploy(members, 5001, 7 * DAY, [deployerAddress])
  ).waitForDeployment();
  const agreements = await (await new RoamingAgreements__factory(deployer).deploy(carriers)).waitForDeployment();
  const devices = await (await new DeviceRegistry__factory(deployer).deploy(carriers, agreements)).waitForDeployment();
  const ledger = await (await new UsageLedger__factory(deployer).deploy(carriers, agreements, GRACE)).waitForDeployment();
  const reveal = await (await new RevealLib__factory(deployer).deploy()).waitForDeployment();
  const adjudicator = await (await new RatingAdjudicator__factory(deployer).deploy(carriers, agreements)).waitForDeployment();
  const verifier = await (await new Groth16Verifier__factory(deployer).deploy(verifierConstructorArgs(w.dev.vkey))).waitForDeployment();
  const lag = GRACE + Number(await agreements.MAX_DISPUTE_WINDOW());
  const params = {
    signWindow: DAY,
    withdrawalDelay: 31 * DAY + lag + DAY,
    soloSettleDelay: lag + DAY,
    claimBondBps: 500,
    stallPenaltyBps: 500,
  };
  const escrow = await (
    await new SettlementEscrow__factory({ "contracts/libraries/RevealLib.sol:RevealLib": await reveal.getAddress() }, deployer).deploy(
      carriers,
      agreements,
      ledger,
      adjudicator,
      params,
    )
  ).waitForDeployment();
  const token = await (await new SettlementToken__factory(deployer).deploy(deployerAddress)).waitForDeployment();
  const addresses: RoamLedgerAddresses = {
    carrierRegistry: await carriers.getAddress(),
    roamingAgreements: await agreements.getAddress(),
    deviceRegistry: await devices.getAddress(),
    usageLedger: await ledger.getAddress(),
    settlementEscrow: await escrow.getAddress(),
  };
  return { addresses, token: await token.getAddress(), adjudicator: await adjudicator.getAddress(), verifier: await verifier.getAddress() };
}

/**
 * The governors trust the verifier for rating-v1 with the development ceremony's transcript: DE proposes (its
 * approval implied) and US approves, which is the registry's quorum in this world (3 active governors at
 * 50.01 %: ceil(3 * 5001 / 10000) = 2 approvals).
 */
async function trustVerifier(w: World, o: { addresses: RoamLedgerAddresses; verifier: string }): Promise<void> {
  const vote = { circuit: RATING_V1.id, verifier: o.verifier, transcriptHash: w.dev.transcriptHash };
  const carriers = CarrierRegistry__factory.connect(o.addresses.carrierRegistry, w.wallets[0]);
  expect([await carriers.activeGovernorCount(), await carriers.thresholdBps()]).to.deep.equal([3n, 5001n]);
  const proposed = await proposeVerifier(connectRoamLedger(o.addresses, w.wallets[1]), vote, PLMN.DE);
  expect([proposed.approvals, proposed.trusted]).to.deep.equal([1, false]);
  const approved = await approveVerifier(connectRoamLedger(o.addresses, w.wallets[3]), vote, PLMN.US);
  expect([approved.approvals, approved.trusted]).to.deep.equal([2, true]);
}

/** The full terms of each version, as both parties hold them (sealed on chain). */
type Versions = Map<number, FullTerms>;

/**
 * DE proposes version 1 and the amendment sealed for BR, BR accepts each commitment: the secrets of both
 * versions, with the field salt of each direction's rating-v1 commitment. Both versions are rated by rating-v1.
 */
async function agree(
  v: Variant,
  w: World,
  o: { addresses: RoamLedgerAddresses; from: number; token: string },
): Promise<{ secrets: Secret[]; versions: Versions }> {
  const secrets: Secret[] = [];
  const versions: Versions = new Map();
  const agreements = RoamingAgreements__factory.connect(o.addresses.roamingAgreements, w.wallets[1]);
  for (const version of [1, 2]) {
    const terms = pairTerms(v, version, o.from, o.token);
    const sealed = await agreeSealed({
      agreements,
      signer: w.wallets[1],
      acceptor: w.wallets[2],
      proposer: PLMN.DE,
      counterparty: PLMN.BR,
      proposerKey: testPrivateKey(1),
      terms,
    });
    expect(sealed.version).to.equal(version);
    expect((await agreements.getVersion(PLMN.DE, PLMN.BR, version)).terms.ratingCircuit, "the version's rating circuit").to.equal(
      BigInt(RATING_V1.id),
    );
    versions.set(version, fullTermsOf({ terms, salt: sealed.salt }, version, sealed.publicTerms.termsCommitment as Hex));
    secrets.push(
      ...termsSecrets(version, terms),
      { label: `terms v${version} salt`, value: BigInt(sealed.salt) },
      { label: `terms v${version} zk terms salt, BR visited`, value: termsSaltField(sealed.salt, PLMN.BR) },
      { label: `terms v${version} zk terms salt, DE visited`, value: termsSaltField(sealed.salt, PLMN.DE) },
    );
  }
  return { secrets, versions };
}

/** DE's fleet roaming in BR last month: registered by DE; the usage file BR bills. */
async function fleet(w: World, v: Variant, o: { de: RoamLedgerClient; imsiKey: Uint8Array; month: Month }) {
  const { de, imsiKey } = o;
  const dir = path.join(w.dir, v.name);
  const g = generateUsage({
    home: PLMN.DE,
    visited: PLMN.BR,
    period: o.month.period,
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
  await registerDevices(de, devices, { policyIds: ids, batchSize: DEFAULT_REGISTER_BATCH });
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
  await (await de.ledger.rejectBatches([rejected], 3)).wait();
  for (const id of o.ids.filter((x) => x !== disputed && x !== rejected)) expect((await check(id, {})).action).to.equal("accepted");
}

/** The totals of each batch, as the home carrier opens them from the sealed payloads. */
async function batchTotals(store: FolderStore, pairKey: Uint8Array, period: number, hashes: Hex[]): Promise<Secret[]> {
  const out: Secret[] = [];
  for (const [i, hash] of hashes.entries()) {
    const payload = openPayload(pairKey, await store.get(hash), { visited: PLMN.BR, home: PLMN.DE, period });
    out.push(...totalsSecrets(`batch ${i + 1}`, payload.header.totals));
    out.push({ label: `batch ${i + 1} totals salt`, value: BigInt(payload.header.totalsSalt) });
  }
  return out;
}

/** BR bills DE's fleet in BATCHES batches; DE answers them. The totals of every batch. */
async function usage(
  w: World,
  v: Variant,
  c: { de: RoamLedgerClient; br: RoamLedgerClient; imsiKey: Uint8Array; month: Month },
): Promise<{ secrets: Secret[]; store: FolderStore; pairKey: Uint8Array }> {
  const g = await fleet(w, v, { de: c.de, imsiKey: c.imsiKey, month: c.month });
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
    period: c.month.period,
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
  const secrets = await batchTotals(
    store,
    pairKey,
    c.month.period,
    ingested.batches.map((b) => b.payloadHash),
  );
  return { secrets: [...secrets, { label: "pair key", value: BigInt(`0x${Buffer.from(pairKey).toString("hex")}`) }], store, pairKey };
}

/** Moves the chain's clock forward to `at` (unix seconds) and mines a block there. */
async function warpTo(w: World, at: number): Promise<void> {
  const now = (await w.provider.getBlock("latest"))!.timestamp;
  if (at > now) await w.provider.send("evm_increaseTime", [at - now]);
  await w.provider.send("evm_mine", []);
  // The provider answers "latest" from a short cache: wait until it shows the new block, as the library reads it.
  for (let tries = 0; (await w.provider.getBlock("latest"))!.timestamp < at; tries++) {
    if (tries > 100) throw new Error(`the node's clock did not move to ${at}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The node's block number, asked afresh: ethers answers `getBlockNumber` from a 250 ms cache that a
 * transaction's wait keeps warm, so right after the last transaction it can name the block before it and the
 * probe would miss that transaction.
 */
async function headOf(w: World): Promise<number> {
  return Number(await w.provider.send("eth_blockNumber", []));
}

/** The period's counted usage of (home, visited) as `client`'s carrier reads it from its payload copies. */
async function countedUsage(
  client: RoamLedgerClient,
  o: { home: Hex; visited: Hex; period: number; store: FolderStore; pairKey: Uint8Array },
) {
  return periodUsageOf(await countedPeriod(client, o));
}

/** `InvoiceState.resolution` of an invoice closed by proof (ISettlementEscrow.Resolution.Proven). */
const RESOLUTION_PROVEN = 2n;

/**
 * BR's invoice of DE, which DE does not co-sign: past the sign window BR claims it (its bond and DE's
 * reservation on chain), builds the proof from its own copies with the development key the governors trusted,
 * waits out DE's contest window and files it; the escrow closes the invoice at exactly the proven net.
 */
async function claimByProof(
  w: World,
  br: RoamLedgerClient,
  o: RateInvoiceOptions,
): Promise<{ bond: bigint; proven: bigint; proofTx: string; proveMs: number }> {
  const key = { payer: PLMN.DE, payee: PLMN.BR, period: o.usage.period };
  await warpTo(w, (await w.provider.getBlock("latest"))!.timestamp + DAY + 1);
  const { bond } = await fileClaim(br, key);
  expect(bond > 0n, "the claim bonds part of BR's deposit").to.equal(true);
  const kit = { wasm: w.dev.wasm, zkey: w.dev.zkey, vkey: w.dev.vkey };
  await requireTrustedKey(br, kit);
  const proof = await buildClaimProof(br, { ...o, kit });
  await warpTo(w, (await contestWindowEnd(br, o)) + 1);
  const { txHash: proofTx } = await fileClaimProof(br, { ...o, proof: proof.proof });
  const proven = BigInt(proof.publicSignals[2]);
  const state = await br.escrow.invoice(key.payer, key.payee, key.period);
  expect(await escrowInvoiceStatus(br, key)).to.equal("closed");
  expect([state.resolution, state.amount, state.net], "closed by proof at exactly the proven net").to.deep.equal([
    RESOLUTION_PROVEN,
    proven,
    proven,
  ]);
  return { bond, proven, proofTx, proveMs: proof.proveMs };
}

/**
 * Both directions of the period closed and invoiced the v2 way: the ledger's periods closed after the
 * deadline, each payee rates its direction off chain and proposes the signed net with the invoice sealed for
 * the payer. BR bills DE's fleet and DE stalls: BR's claim is decided by proof (claimByProof). DE has nothing
 * to bill BR (net 0): BR recomputes it from its own copies and co-signs. Returns the secrets of BR's invoice
 * (with its totals salt in the field, as the proof's totals commitment takes it), the claim's bond, the
 * proven net, the proof's transaction and how long proving took.
 */
async function invoices(
  w: World,
  c: { de: RoamLedgerClient; br: RoamLedgerClient; month: Month; store: FolderStore; pairKey: Uint8Array; versions: Versions },
): Promise<{ secrets: Secret[]; bond: bigint; proven: bigint; proofTx: string; proveMs: number }> {
  const { de, br, month, store, pairKey } = c;
  await warpTo(w, month.end + GRACE + 1);
  const directions = [
    { home: PLMN.DE, visited: PLMN.BR, payee: br, payer: de },
    { home: PLMN.BR, visited: PLMN.DE, payee: de, payer: br },
  ];
  const out = { secrets: [] as Secret[], bond: 0n, proven: 0n, proofTx: "", proveMs: 0 };
  for (const d of directions) {
    const key = { home: d.home, visited: d.visited, period: month.period };
    await closePeriod(d.payee, key);
    const [, version] = await d.payee.agreements.termsAt(d.home, d.visited, month.start);
    const terms = c.versions.get(Number(version))!;
    const usage = await countedUsage(d.payee, { ...key, store, pairKey });
    const { draft } = await proposeInvoice(d.payee, { key: pairKey, usage, terms });
    if (d.payee === de) {
      await cosignInvoice(d.payer, { key: pairKey, usage: await countedUsage(d.payer, { ...key, store, pairKey }), terms });
      continue;
    }
    Object.assign(out, await claimByProof(w, br, { key: pairKey, usage, terms }));
    expect(out.proven, "the proven net is BR's invoice's").to.equal(draft.rating.net);
    const salt = invoiceTotalsSaltOf(pairKey, { ...key, accumulator: draft.invoice.ledgerAccumulator });
    out.secrets.push(
      ...invoiceSecrets(draft.rating),
      ...totalsSecrets("period", draft.totals),
      { label: "invoice totals salt", value: BigInt(salt) },
      { label: "invoice zk totals salt", value: totalsSaltField(salt) },
    );
  }
  return out;
}

/** The whole period of `v` on fresh contracts: what happened, on which blocks, and the pair's secrets. */
async function playPeriod(w: World, v: Variant): Promise<Played> {
  const startedAt = Date.now();
  const step = (m: string) => console.log(`      [${v.name}] ${((Date.now() - startedAt) / 1000).toFixed(1)} s ${m}`);
  // The period is the chain's current month, played from an hour after it ends (within the submission grace).
  const month = monthOf((await w.provider.getBlock("latest"))!.timestamp);
  await warpTo(w, month.end + 3600);
  const fromBlock = (await headOf(w)) + 1;
  const { addresses, token, adjudicator, verifier } = await deploy(w);
  const [deployer, deWallet, brWallet] = w.wallets;
  const de = connectRoamLedger(addresses, deWallet);
  const br = connectRoamLedger(addresses, brWallet);
  step("deployed");
  await trustVerifier(w, { addresses, verifier });
  step("verifier trusted");
  const { secrets, versions } = await agree(v, w, { addresses, from: month.start, token });
  step("agreed");
  const used = await usage(w, v, { de, br, imsiKey: new Uint8Array(32).fill(v.seed), month });
  secrets.push(...used.secrets);
  step("usage done");
  // Deposits (public by design): DE's backs its fleet's usage, BR's the bond of its claim.
  const funds = 1_000_000n * 10n ** DECIMALS;
  const rlst = { address: token, symbol: "RLST", decimals: Number(DECIMALS) };
  for (const [i, plmn, client] of [
    [1, PLMN.DE, de],
    [2, PLMN.BR, br],
  ] as const) {
    await (await SettlementToken__factory.connect(token, deployer).mint(w.addresses[i], funds)).wait();
    await depositToEscrow(client, { member: plmn, amount: Amount.fromUnits(rlst, funds) });
  }
  step("deposited");
  const invoiced = await invoices(w, { de, br, month, store: used.store, pairKey: used.pairKey, versions });
  secrets.push(...invoiced.secrets);
  step(`invoices closed (one by a claim decided by proof, proven in ${invoiced.proveMs} ms)`);
  const settled = await settlePeriod(br, { self: PLMN.BR, partner: PLMN.DE, period: month.period });
  expect(settled.mode).to.equal("netted");
  expect(settled.partnerOwed > 0n, "DE owes BR for its fleet's usage").to.equal(true);
  expect(settled.partnerOwed, "settled at exactly the net the proof proved").to.equal(invoiced.proven);
  step("settled");
  const toBlock = await headOf(w);
  const nets = [settled.selfOwed, settled.partnerOwed];
  // Deposits are token transfers, public by design: what each put in, what is left after settling, the bond.
  const deposits = [funds, await de.escrow.deposits(PLMN.DE, token), await br.escrow.deposits(PLMN.BR, token), invoiced.bond];
  const publics = await publicValuesOf(w, { addresses, token, adjudicator, fromBlock, toBlock, amounts: [...nets, ...deposits] });
  return { addresses, adjudicator, proofTx: invoiced.proofTx, fromBlock, toBlock, secrets, nets, publics };
}

/**
 * What any member knows of a play without the pair's secrets: the contracts' and accounts' addresses, the
 * settled nets and the deposits, every block's time, and the times the contracts derive from them (a batch's window end, an
 * invoice's sign window, the period's bounds and deadline).
 */
async function publicValuesOf(
  w: World,
  o: { addresses: RoamLedgerAddresses; token: string; adjudicator: string; fromBlock: number; toBlock: number; amounts: bigint[] },
): Promise<bigint[]> {
  const out = [...Object.values(o.addresses), o.token, o.adjudicator, ...w.addresses].map((a) => BigInt(a));
  out.push(...o.amounts);
  const offsets = [0, 7 * DAY, DAY];
  for (let b = o.fromBlock; b <= o.toBlock; b++) {
    const { timestamp } = (await w.provider.getBlock(b))!;
    for (const d of offsets) out.push(BigInt(timestamp + d));
  }
  return out;
}

/** What C reads of a run: every log, input and written slot of the agreements, ledger, escrow and claim adjudicator. */
function observe(w: World, run: Played): Promise<Observation[]> {
  const { roamingAgreements, usageLedger, settlementEscrow } = run.addresses;
  return collectObservations({
    call: overHttp(w.node.url),
    contracts: [roamingAgreements, usageLedger, settlementEscrow, run.adjudicator],
    fromBlock: run.fromBlock,
    toBlock: run.toBlock,
  });
}

describe("confidentiality: a third member's view of a pair's period", function () {
  let w: World;

  before(async function () {
    // The development ceremony is cached in .zk/ (built once per machine: CI builds it in its own step).
    this.timeout(1_800_000);
    const dev = await ensureDevCeremony({ onProgress: (line) => console.log(`      ${line}`) });
    const node = await startAnvil({ blockTime: 0 });
    const provider = new GasFreeProvider(node.url, node.chainId);
    const keys = Array.from({ length: 4 }, (_, i) => HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`));
    const wallets = keys.map((k) => new NonceManager(new Wallet(k.privateKey, provider)));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-leak-"));
    w = { node, provider, wallets, addresses: keys.map((k) => k.address), dir, dev };
  });

  after(async function () {
    w?.provider.destroy();
    await w?.node.stop();
    if (w) fs.rmSync(w.dir, { recursive: true, force: true });
  });

  it("a claim decided by proof settles exactly the proven net; a third member finds none of the pair's rates, totals, invoice lines or salts, only the settled nets", async function () {
    // Two plays of the period (each with one proof) and the probe take 20-40 s on a quiet machine, minutes on
    // a heavily loaded one: each play logs its steps, so that a slow run shows where it spent its time.
    this.timeout(300_000);
    const run = await playPeriod(w, { name: "run", k: 3n, seed: 41 });
    const control = await playPeriod(w, { name: "control", k: 7n, seed: 43 });
    const seen = withPublicValues(await observe(w, run), run.publics);
    const controlSeen = withPublicValues(await observe(w, control), control.publics);
    const report = analyse(seen, run.secrets, { control: controlSeen, publicValues: run.nets });
    console.log(findingsTable(report));

    // The probe read every channel, and it does find what is public by design: the net DE paid BR.
    expect(report.observed.log).to.be.greaterThan(20);
    expect(report.observed.input).to.be.greaterThan(10);
    expect(report.observed.storage).to.be.greaterThan(10);
    // It read the proof path too: the proof as filed (proveClaim's input) and the governors' two votes.
    const inputs = seen.filter((o) => o.channel === "input");
    expect(
      inputs.filter((o) => o.where === `input of tx ${run.proofTx}`),
      "the proof's input",
    ).to.have.length(1);
    expect(
      inputs.filter((o) => o.contract === run.adjudicator.toLowerCase()),
      "the votes on the verifier",
    ).to.have.length(2);
    const paid = analyse(seen, [{ label: "settled net", value: run.nets[1] }]);
    expect(
      paid.findings.some((f) => f.channel === "log"),
      "the settled net is in the settlement's events",
    ).to.equal(true);

    // Every secret was searched (small ones against the control run), except the ones equal to a public net.
    const unsearched = report.skipped.filter((x) => x.reason !== "equal to a value public by design" && x.value !== 0n);
    expect(unsearched, "secrets left unsearched").to.deep.equal([]);
    expect(run.secrets.length).to.be.greaterThan(150);
    expect(report.findings, "what the third member found").to.deep.equal([]);
  });
});
