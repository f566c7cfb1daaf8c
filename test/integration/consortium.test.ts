import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { decodeBytes32String, id as keccakText, hexlify, NonceManager, randomBytes } from "ethers";
import { DeviceRegistry__factory, SettlementToken__factory } from "../../typechain-types";
import {
  chainTime,
  clientOf,
  deployWithTask,
  membersOf,
  openIntegrationNetwork,
  placeholderEncryptionKey,
  runTask,
  writeDevicesCsv,
  type Deployment,
  type IntegrationNetwork,
  type Member,
  type MemberKey,
} from "../helpers/integration";
import { createRoamLedgerReader, type RoamLedgerReader } from "../../lib/chain/viem";
import { connectRoamLedger } from "../../lib/chain/client";
import { createDeviceIdDeriver } from "../../lib/core/imsi";
import { shareImsiKey, receiveImsiKey } from "../../lib/keys/share";
import { acceptAgreement, proposeAgreement, readAgreement, tokenInfo } from "../../lib/agreements/chain";
import { agreementTerms } from "../../lib/agreements/fullTerms";
import { formatPeriod } from "../../lib/core/period";
import { monthsBefore } from "../helpers/period";
import { writeTermsFile } from "../helpers/termsFile";
import { readPolicies } from "../../lib/devices/policy";
import { DEFAULT_REGISTER_BATCH, readDevices, ensurePolicies, registerDevices } from "../../lib/devices/registration";
import type { RoamLedgerClient } from "../../lib/chain/client";
import { generateUsage, MALFORMED_KINDS, MALFORMED_REJECT_CODES, type GenerateSummary } from "../../lib/usage/generate";
import { ingestUsage, pairWorkDir } from "../../lib/usage/ingest";
import { verifyBatch } from "../../lib/usage/verify";
import { pairKeyWith } from "../../lib/usage/pair";
import { FolderStore } from "../../lib/usage/store";
import { depositToEscrow } from "../../lib/settlement/escrow";
import { cosignInvoice, invoicePublicView, proposeInvoice, versionInForce } from "../../lib/settlement/invoices";
import { countedPeriod } from "../../lib/usage/period";
import { fullTermsOf, periodUsageOf } from "../../lib/invoice/inputs";
import { watchChain, type WatchEvent } from "../../lib/watch/watch";
import { Amount, formatAmount } from "../../lib/core/amount";
import type { Hex } from "../../lib/util/hex";
import { DENY_REASONS, SERVICES, type ServiceName } from "../../lib/core/enums";

const POLICIES = path.join(__dirname, "..", "fixtures", "policies.json");

/** Moves the node's clock to `t` (anvil); false when the node keeps real time (Besu). */
async function travelTo(net: IntegrationNetwork, t: number): Promise<boolean> {
  try {
    await net.provider.send("evm_setNextBlockTimestamp", [t]);
    await net.provider.send("evm_mine", []);
    return true;
  } catch {
    return false;
  }
}
const DE_DEVICES = 300;
const US_DEVICES = 120;

/**
 * Three carriers and a device maker on a separate node (anvil, or Besu with --network besu), each
 * with its own account and key store, driving RoamLedger through the Hardhat tasks (subprocesses)
 * and the library (ethers and viem clients), over standard eth_* JSON-RPC only.
 *
 * The steps build on each other, in order; a later step (usage ingestion, settlement) continues
 * from `flow`.
 */
describe("integration: a consortium on a separate node", function () {
  let net: IntegrationNetwork;
  let m: Record<MemberKey, Member>;
  let deployment: Deployment;
  const client = (key: MemberKey): RoamLedgerClient => clientOf(m[key], deployment.addresses);
  /** `travels`: the node's clock can be moved (anvil), so last month can be billed, then closed after its grace. */
  const flow = { deDevices: [] as string[], usDevices: [] as string[], period: 0, travels: false };

  before(async function () {
    net = await openIntegrationNetwork();
    m = membersOf(net);
  });

  after(async function () {
    await net?.close();
  });

  it("deploys RoamLedger through Ignition with the deploy task, each member with its own key", async function () {
    // DE creates its keys with the task; US and the maker with the library; BR is admitted with a
    // key it does not hold yet (it registers its own in the next step).
    await runTask(net, ["keys:init", "--plmn", m.de.plmn], { home: m.de.home });
    m.us.keystore.ensureImsiKey(m.us.plmn);
    // An hour into next month: last month (the billed one) is over and its batches are taken for the
    // 3 days of the submission grace; the settlement step moves the clock past it to close the period.
    flow.travels = await travelTo(net, monthsBefore(await chainTime(net), -1).start + 3600);
    deployment = await deployWithTask(net, m, { keys: { br: placeholderEncryptionKey() } });
    expect(deployment.run.stdout).to.contain(`RoamLedger deployed on ${net.networkName}:`);

    const carriers = client("de").carriers;
    expect([...(await carriers.memberIds())]).to.have.members([m.de.plmnHex, m.us.plmnHex, m.br.plmnHex, m.maker.plmnHex]);
    expect((await carriers.getMember(m.de.plmnHex)).encryptionKey).to.equal(m.de.keystore.encryptionKey(m.de.plmn).publicKey);
    expect(await carriers.isInfraAccount(net.wallets[0].address)).to.equal(true);
    // What a Besu node with account permissioning asks the registry for every transaction.
    const allowed = (sender: string) => carriers.transactionAllowed(sender, deployment.addresses.deviceRegistry, 0, 0, 0, "0x");
    expect(await allowed(m.br.wallet.address)).to.equal(true);
    expect(await allowed(net.wallets[0].address)).to.equal(true);
    expect(await allowed(hexlify(randomBytes(20)))).to.equal(false);
    expect(await net.provider.getCode(deployment.token)).to.not.equal("0x");
  });

  it("BR creates its keys and registers its encryption key (keys:init, carrier:rotate-key)", async function () {
    await runTask(net, ["keys:init", "--plmn", m.br.plmn], { home: m.br.home });
    await runTask(net, ["carrier:rotate-key", "--from", m.br.from], { home: m.br.home });
    const onChain = (await client("br").carriers.getMember(m.br.plmnHex)).encryptionKey;
    expect(onChain).to.equal(m.br.keystore.encryptionKey(m.br.plmn).publicKey);
  });

  it("DE and US share their IMSI keys with BR, which opens them (keys:share, keys:receive, library)", async function () {
    await runTask(net, ["keys:share", "--partner", m.br.plmn, "--from", m.de.from], { home: m.de.home });
    await runTask(net, ["keys:receive", "--home", m.de.plmn, "--from", m.br.from], { home: m.br.home });
    await shareImsiKey(client("us"), { keystore: m.us.keystore, home: m.us.plmnHex, partner: m.br.plmnHex });
    await receiveImsiKey(client("br"), { keystore: m.br.keystore, self: m.br.plmnHex, home: m.us.plmnHex });
    for (const home of [m.de, m.us]) {
      expect(hexlify(m.br.keystore.partnerImsiKey(m.br.plmn, home.plmn))).to.equal(hexlify(home.keystore.imsiKey(home.plmn)));
    }
  });

  it("DE-BR agree on sealed terms (agreement:propose, agreement:accept with the key stores), US-BR through the library", async function () {
    // In force since the start of last month, the period the usage steps bill and settle.
    const lastMonth = monthsBefore(await chainTime(net));
    flow.period = lastMonth.period;
    const from = lastMonth.start;
    const deBr = path.join(net.dir, "terms-de-br.json");
    writeTermsFile(deBr, { a: m.de.plmn, b: m.br.plmn, from, token: deployment.token });
    const proposed = await runTask(net, ["agreement:propose", "--partner", m.br.plmn, "--terms", deBr, "--from", m.de.from], {
      home: m.de.home,
    });
    expect(proposed.stdout).to.match(/the full terms went sealed for 724-05 \([\d,]+ bytes\)/);
    const accepted = await runTask(net, ["agreement:accept", "--partner", m.de.plmn, "--agreement-version", "1", "--from", m.br.from], {
      home: m.br.home,
    });
    expect(accepted.stdout).to.contain("accepted version 1");

    const usBr = path.join(net.dir, "terms-us-br.json");
    writeTermsFile(usBr, { a: m.us.plmn, b: m.br.plmn, from, token: deployment.token });
    const us = await proposeAgreement(client("us"), { self: m.us.plmnHex, partner: m.br.plmnHex, file: usBr, keystore: m.us.keystore });
    await acceptAgreement(client("br"), { self: m.br.plmnHex, partner: m.us.plmnHex, version: us.version, keystore: m.br.keystore });

    for (const home of [m.de, m.us]) {
      const view = await readAgreement(client("br"), { self: m.br.plmnHex, partner: home.plmnHex, keystore: m.br.keystore });
      expect(view.inForce, `${home.plmn}-${m.br.plmn} in force`).to.equal(1);
      const full = view.versions[0].full;
      expect(full.readable && full.terms.rates).to.have.length(6);
    }
    expect((await readAgreement(client("de"), { self: m.de.plmnHex, partner: m.us.plmnHex })).inForce).to.equal(0);
  });

  it(`registers devices with their policy contracts: ${DE_DEVICES} of DE (device:register), ${US_DEVICES} of US (library)`, async function () {
    const deCsv = path.join(net.dir, "devices-de.csv");
    flow.deDevices = writeDevicesCsv(deCsv, m.de.plmn, DE_DEVICES);
    const run = await runTask(
      net,
      ["device:register", "--file", deCsv, "--policies", POLICIES, "--batch-size", "120", "--from", m.de.from],
      { home: m.de.home },
    );
    expect(run.stdout).to.contain(`registered ${DE_DEVICES} devices in 3 transactions`);

    // US uses the same policies, its trackers allowed in BR only (a home network is never a visited one).
    const usCsv = path.join(net.dir, "devices-us.csv");
    flow.usDevices = writeDevicesCsv(usCsv, m.us.plmn, US_DEVICES);
    const usPolicies = path.join(net.dir, "policies-us.json");
    const fixture = JSON.parse(fs.readFileSync(POLICIES, "utf8")) as Record<string, { allowedNetworks?: string[] }>;
    fixture.tracker.allowedNetworks = [m.br.plmn];
    fs.writeFileSync(usPolicies, JSON.stringify(fixture, null, 2));
    // Policies, then devices, back to back: NonceManager counts the nonces (the provider's pending count is cached 250 ms).
    const us = connectRoamLedger(deployment.addresses, new NonceManager(m.us.wallet));
    const policies = readPolicies(usPolicies, m.us.plmnHex);
    const devices = await readDevices(usCsv, {
      home: m.us.plmnHex,
      imsiKey: m.us.keystore.imsiKey(m.us.plmn),
      policyNames: new Set(policies.keys()),
    });
    const { ids } = await ensurePolicies(
      us,
      policies,
      devices.map((d) => d.policyName),
    );
    const result = await registerDevices(us, devices, { policyIds: ids, batchSize: 100 });
    expect(result).to.include({ registered: US_DEVICES, skipped: 0, transactions: 2 });

    const deIds = flow.deDevices.map(createDeviceIdDeriver(m.de.keystore.imsiKey(m.de.plmn), m.de.plmn));
    expect(await client("de").devices.registered(deIds)).to.deep.equal(deIds.map(() => true));
    // Running the task again registers nothing twice.
    const again = await runTask(net, ["device:register", "--file", deCsv, "--policies", POLICIES, "--from", m.de.from], {
      home: m.de.home,
    });
    expect(again.stdout).to.contain(`registered 0 devices in 0 transactions`).and.to.contain(`${DE_DEVICES} already registered`);
  });

  describe("BR serves roaming devices", function () {
    let reader: RoamLedgerReader;
    let deId: (imsi: string) => Hex;
    let usId: (imsi: string) => Hex;

    before(function () {
      reader = createRoamLedgerReader(net.publicClient, deployment.addresses);
      // BR derives the ids from the IMSIs it sees, with the keys DE and US shared with it.
      deId = createDeviceIdDeriver(m.br.keystore.partnerImsiKey(m.br.plmn, m.de.plmn), m.de.plmn);
      usId = createDeviceIdDeriver(m.br.keystore.partnerImsiKey(m.br.plmn, m.us.plmn), m.us.plmn);
    });

    /** The decision as the ethers (typechain) client reads it from the device's policy contract. */
    async function decideWithEthers(id: Hex, visited: Hex, service: ServiceName) {
      const br = client("br");
      const [d] = await br.policyAt(await br.devices.predictPolicyAddress(id)).decide(visited, SERVICES.indexOf(service));
      return {
        serve: d.serve,
        reason: DENY_REASONS[Number(d.reason)],
        steerable: d.steerable,
        homeRouted: d.homeRouted,
        tariffClass: Number(d.tariffClass),
        policyVersion: Number(d.policyVersion),
      };
    }

    it("gets the same decisions from the ethers and the viem clients", async function () {
      const sample = [
        ...[0, 1, 2, 49, 99, 150, 299].map((i) => ({ id: deId(flow.deDevices[i]), i })),
        ...[0, 2, 49, 119].map((i) => ({ id: usId(flow.usDevices[i]), i })),
      ];
      for (const { id, i } of sample) {
        expect(await reader.policyAddress(id)).to.equal(await client("br").devices.predictPolicyAddress(id));
        for (const service of ["data", "sms", "voice"] as const) {
          const viaViem = await reader.decide(id, m.br.plmn, service);
          const { policy, ...decision } = viaViem;
          expect(decision, `device ${i} ${service}`).to.deep.equal(await decideWithEthers(id, m.br.plmnHex, service));
          expect(policy).to.not.equal(null);
        }
      }
    });

    it("answers what each policy allows", async function () {
      const meter = await reader.decide(deId(flow.deDevices[0]), m.br.plmn, "data");
      expect(meter).to.include({ serve: true, reason: "none", steerable: true, homeRouted: true, tariffClass: 1 });
      expect(await reader.decide(deId(flow.deDevices[0]), m.br.plmn, "voice")).to.include({ serve: false, reason: "service-not-allowed" });
      const tracker = await reader.decide(deId(flow.deDevices[2]), m.br.plmn, "sms");
      expect(tracker).to.include({ serve: true, homeRouted: false, tariffClass: 2 });
      const drone = await reader.decide(usId(flow.usDevices[49]), m.br.plmn, "voice");
      expect(drone).to.include({ serve: true, steerable: false, tariffClass: 3 });
      // DE and US have no agreement: a DE meter is not served in the US.
      expect(await reader.decide(deId(flow.deDevices[0]), m.us.plmn, "data")).to.include({ serve: false, reason: "no-agreement" });
      // An IMSI nobody registered.
      expect(await reader.decide(deId("262019999999999"), m.br.plmn, "data")).to.include({ serve: false, reason: "unknown-device" });
    });

    it("flags a fraudulent SIM, which DE sees through eth_getLogs and every visited network refuses", async function () {
      const stolen = deId(flow.deDevices[3]); // a data-only meter
      const evidence = keccakText("voice CDR 2026-11-26T09:12:44Z 124s") as Hex;
      const fromBlock = await net.provider.getBlockNumber();
      const receipt = await (await client("br").devices.flagFraud([{ id: stolen, reason: 2, evidenceHash: evidence }])).wait();

      // DE's watcher: raw eth_getLogs on the registry, filtered on its own PLMN (the `home` topic).
      const registry = DeviceRegistry__factory.createInterface();
      const logs = await net.provider.getLogs({
        address: deployment.addresses.deviceRegistry,
        topics: registry.encodeFilterTopics("FraudFlagged", [null, m.de.plmnHex]),
        fromBlock,
        toBlock: receipt!.blockNumber,
      });
      expect(logs).to.have.length(1);
      const alert = registry.parseLog(logs[0])!;
      expect(alert.args.id).to.equal(stolen);
      expect(alert.args.reporter).to.equal(m.br.plmnHex);
      expect(alert.args.reason).to.equal(2n);
      expect(alert.args.evidenceHash).to.equal(evidence);

      expect(await reader.getDevice(stolen)).to.include({ status: "fraud-flagged", home: m.de.plmn });
      for (const visited of [m.br, m.us]) {
        expect((await decideWithEthers(stolen, visited.plmnHex, "data")).reason).to.equal("device-fraud-flagged");
      }
    });
  });

  /**
   * Last month, billed both ways and checked: BR bills DE's roaming fleet with the usage:ingest task, DE's
   * watcher sees the fraud flags and the batches (watch --once --json), DE disputes the one record its own
   * counters disagree with (usage:verify --own). DE bills BR's devices and BR bills US's through the
   * library; BR accepts DE's batches, US accepts BR's. Each payee proposes its invoice, the payer co-signs
   * it, and both pairs settle with netting; US watches the DE-BR pair as a third member.
   */
  describe("usage of last month", function () {
    const usage = {} as {
      deFleet: GenerateSummary;
      ingestBlock: number;
      batchIds: Hex[];
      own: string;
      alteredId: string;
      store: string;
      /** Billable records of BR's bill to DE, as usage:ingest counted them. */
      billable: number;
      settleBlock: number;
      nets: { deOwes: bigint; brOwesDe: bigint };
    };

    /** Generates `devices` devices of `home` roaming in `visited` for last month, registered by `home`. */
    async function fleet(
      home: Member,
      visited: Member,
      devices: number,
      seed: number,
      imsiPrefix: string,
      policies: string,
    ): Promise<GenerateSummary> {
      const g = generateUsage({
        home: home.plmnHex,
        visited: visited.plmnHex,
        period: flow.period,
        devices,
        seed,
        imsiPrefix,
        malformedRate: 0.005,
        usageOut: path.join(net.dir, `usage-${visited.key}-bills-${home.key}.csv`),
        devicesOut: path.join(net.dir, `fleet-${home.key}-in-${visited.key}.csv`),
      });
      const c = client(home.key);
      const defs = readPolicies(policies, home.plmnHex);
      const lines = await readDevices(g.devicesFile, {
        home: home.plmnHex,
        imsiKey: home.keystore.imsiKey(home.plmn),
        policyNames: new Set(defs.keys()),
      });
      const { ids: policyIds } = await ensurePolicies(
        c,
        defs,
        lines.map((d) => d.policyName),
      );
      await registerDevices(c, lines, { policyIds: policyIds, batchSize: DEFAULT_REGISTER_BATCH });
      return g;
    }

    before(function () {
      usage.store = path.join(net.dir, "store");
      // On a node that keeps real time (Besu), last month is past its grace unless run on the first days
      // of a month, and cannot be closed within the test: these steps need anvil.
      if (!flow.travels) this.skip();
    });

    it("BR bills DE's roaming fleet with usage:ingest: rejects by reason, fraud flagged while reading, permanent roamers, batches", async function () {
      usage.deFleet = await fleet(m.de, m.br, 150, 31, "2620150", POLICIES);
      const g = usage.deFleet;
      usage.ingestBlock = await net.provider.getBlockNumber();
      const run = await runTask(
        net,
        [
          "usage:ingest",
          "--file",
          g.usageFile,
          "--home",
          m.de.plmn,
          "--period",
          formatPeriod(flow.period),
          "--batch-size",
          "3000",
          "--store",
          usage.store,
          "--from",
          m.br.from,
        ],
        { home: m.br.home },
      );
      const n = (x: number) => x.toLocaleString("en-US");
      expect(run.stdout).to.contain(`${n(g.lines)} lines, ${n(g.records)} records committed`);
      for (const kind of MALFORMED_KINDS) {
        const count = g.malformed[kind].length;
        if (count > 0) expect(run.stdout).to.contain(`rejected ${MALFORMED_REJECT_CODES[kind]}: ${count}`);
      }
      expect(run.stdout).to.contain(`fraud: ${g.outOfPolicy.length} device(s) flagged on-chain`);
      usage.batchIds = [...run.stdout.matchAll(/batch (0x[0-9a-f]{64}): /g)].map((x) => x[1] as Hex);
      usage.billable = Number(/billable ([\d,]+);/.exec(run.stdout)![1].replace(/,/g, ""));
      expect(usage.batchIds).to.have.length(Math.ceil(g.records / 3000));

      const ledger = client("de").ledger;
      expect((await ledger.getPeriod(m.de.plmnHex, m.br.plmnHex, flow.period)).batchCount).to.equal(BigInt(usage.batchIds.length));
      for (const id of usage.batchIds) expect((await ledger.getBatch(id)).status).to.equal(1n); // submitted
      const derive = createDeviceIdDeriver(m.de.keystore.imsiKey(m.de.plmn), m.de.plmn);
      for (const bad of g.outOfPolicy) {
        // F4: BR's flag stands for BR's network only until DE confirms it.
        expect(await client("de").devices.flaggedBy(derive(bad.imsi), m.br.plmnHex), bad.imsi).to.equal(true);
      }
      // Permanent roamers stay local (their days are in the sealed totals): nothing on chain shows the limit.
      expect(run.stdout).to.match(/permanent roamers found: [\d,]+ \(their roamer days are in the sealed totals\)/);
    });

    it("DE's watcher sees the alerts (watch --once --json) while DE disputes the record its counters disagree with (usage:verify --own)", async function () {
      // DE's own records: BR's file with one billable tracker data record counted 400 bytes lower.
      const lines = fs.readFileSync(usage.deFleet.usageFile, "utf8").split("\n");
      const header = lines[0].split(",");
      const col = (name: string) => header.indexOf(name);
      const target = lines.findIndex(
        (l, i) =>
          i > 0 && l.split(",")[col("rat")] === "lte-m" && l.split(",")[col("service")] === "data" && l.split(",").length === header.length,
      );
      const fields = lines[target].split(",");
      fields[col("dataVolumeOutgoing")] = String(Number(fields[col("dataVolumeOutgoing")]) - 400);
      lines[target] = fields.join(",");
      usage.own = path.join(net.dir, "de-own-records.csv");
      usage.alteredId = fields[col("recordId")];
      fs.writeFileSync(usage.own, lines.join("\n"));

      // Which batch holds it: a dry run of the home carrier's check sends nothing.
      const de = client("de");
      const check = (batchId: Hex, dryRun: boolean) =>
        verifyBatch({
          batchId,
          client: de,
          self: m.de.plmnHex,
          pairKeyFor: (visited) => pairKeyWith(de, { keystore: m.de.keystore, self: m.de.plmnHex, partner: visited }),
          store: new FolderStore(usage.store),
          imsiKey: m.de.keystore.imsiKey(m.de.plmn),
          ownFile: usage.own,
          dryRun,
        });
      const dry = await Promise.all(usage.batchIds.map((id) => check(id, true)));
      const disputedBatch = usage.batchIds[dry.findIndex((r) => r.disputed.length > 0)];
      expect(dry.flatMap((r) => r.disputed).map((d) => d.recordId)).to.deep.equal([usage.alteredId]);

      const [watch, verify] = await Promise.all([
        runTask(net, ["watch", "--once", "--json", "--from-block", String(usage.ingestBlock + 1), "--from", m.de.from]),
        runTask(net, ["usage:verify", "--batch", disputedBatch, "--own", usage.own, "--store", usage.store, "--from", m.de.from], {
          home: m.de.home,
        }),
      ]);

      const events = watch.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { kind: string; as: string; data: Record<string, string | number> });
      const derive = createDeviceIdDeriver(m.de.keystore.imsiKey(m.de.plmn), m.de.plmn);
      const flagged = events.filter((e) => e.kind === "fraud-flag" && e.as === "home").map((e) => e.data.deviceId);
      expect(flagged).to.have.members(usage.deFleet.outOfPolicy.map((d) => derive(d.imsi)));
      const submitted = events.filter((e) => e.kind === "batch-submitted");
      expect(submitted.map((e) => e.data.batchId)).to.have.members(usage.batchIds);
      // A batch shows its tree depth, never its record count or totals.
      for (const e of submitted) expect(Object.keys(e.data)).to.not.include("records");

      expect(verify.stdout).to.contain("payload: opened; it opens the totals commitment and payload hash");
      expect(verify.stdout).to.match(/disputed: 1 of [\d,]+ billable records/);
      expect(verify.stdout).to.match(new RegExp(`#\\d+ ${usage.alteredId}: VOLUME_MISMATCH`));
      expect(verify.stdout).to.contain("action: disputed-and-accepted");
      const disputes = await de.ledger.queryFilter(de.ledger.filters.UsageRecordDisputed(disputedBatch), usage.ingestBlock);
      expect(disputes).to.have.length(1);
      expect((await de.ledger.getBatch(disputedBatch)).status).to.equal(2n); // accepted

      // The other batches match DE's records: accepted.
      for (const id of usage.batchIds.filter((x) => x !== disputedBatch)) {
        expect((await check(id, false)).action).to.equal("accepted");
      }
    });

    it("DE bills BR's devices, BR accepts; BR bills US's devices, US accepts (library)", async function () {
      const brPolicies = path.join(net.dir, "policies-br.json");
      const fixture = JSON.parse(fs.readFileSync(POLICIES, "utf8")) as Record<string, { allowedNetworks?: string[] }>;
      fixture.tracker.allowedNetworks = [m.de.plmn, m.us.plmn];
      fs.writeFileSync(brPolicies, JSON.stringify(fixture, null, 2));
      const brFleet = await fleet(m.br, m.de, 40, 32, "7240519", brPolicies);
      const usFleet = await fleet(m.us, m.br, 40, 33, "3104105", path.join(net.dir, "policies-us.json"));
      await shareImsiKey(client("br"), { keystore: m.br.keystore, home: m.br.plmnHex, partner: m.de.plmnHex });
      await receiveImsiKey(client("de"), { keystore: m.de.keystore, self: m.de.plmnHex, home: m.br.plmnHex });

      const store = new FolderStore(usage.store);
      const ingest = async (visited: Member, home: Member, file: string) =>
        ingestUsage({
          file,
          home: home.plmnHex,
          visited: visited.plmnHex,
          period: flow.period,
          client: client(visited.key),
          signer: visited.wallet,
          chainId: BigInt(net.chainId),
          imsiKey: visited.keystore.partnerImsiKey(visited.plmn, home.plmn),
          pairKey: await pairKeyWith(client(visited.key), { keystore: visited.keystore, self: visited.plmnHex, partner: home.plmnHex }),
          workDir: pairWorkDir(visited.home, visited.plmnHex, home.plmnHex),
          store,
        });
      const deBillsBr = await ingest(m.de, m.br, brFleet.usageFile);
      expect(deBillsBr.accepted).to.equal(brFleet.records);
      for (const b of deBillsBr.batches) {
        const report = await verifyBatch({
          batchId: b.id,
          client: client("br"),
          self: m.br.plmnHex,
          pairKeyFor: (visited) => pairKeyWith(client("br"), { keystore: m.br.keystore, self: m.br.plmnHex, partner: visited }),
          store,
          imsiKey: m.br.keystore.imsiKey(m.br.plmn),
        });
        expect(report.action).to.equal("accepted");
      }
      const brBillsUs = await ingest(m.br, m.us, usFleet.usageFile);
      expect(brBillsUs.accepted).to.equal(usFleet.records);
      for (const b of brBillsUs.batches) {
        const report = await verifyBatch({
          batchId: b.id,
          client: client("us"),
          self: m.us.plmnHex,
          pairKeyFor: (visited) => pairKeyWith(client("us"), { keystore: m.us.keystore, self: m.us.plmnHex, partner: visited }),
          store,
          imsiKey: m.us.keystore.imsiKey(m.us.plmn),
        });
        expect(report.action).to.equal("accepted");
      }
    });
    /** `self`'s own copies of a direction: the counted batches opened from the store, the terms from its key store. */
    async function inputsOf(self: Member, home: Member, visited: Member) {
      const c = client(self.key);
      const partner = self === home ? visited : home;
      const key = await pairKeyWith(c, { keystore: self.keystore, self: self.plmnHex, partner: partner.plmnHex });
      const store = new FolderStore(usage.store);
      const counted = await countedPeriod(c, { home: home.plmnHex, visited: visited.plmnHex, period: flow.period, store, pairKey: key });
      const inForce = await versionInForce(c, { payer: home.plmnHex, payee: visited.plmnHex, period: flow.period });
      const opened = await agreementTerms(c, {
        keystore: self.keystore,
        self: self.plmnHex,
        partner: partner.plmnHex,
        version: inForce.version,
      });
      return { key, usage: periodUsageOf(counted), terms: fullTermsOf(opened, inForce.version, inForce.termsCommitment) };
    }

    /** The payee proposes the invoice of (home, visited), the payer recomputes it and co-signs; returns the net. */
    async function proposeAndCosign(home: Member, visited: Member): Promise<bigint> {
      const proposed = await proposeInvoice(client(visited.key), await inputsOf(visited, home, visited));
      const cosigned = await cosignInvoice(client(home.key), await inputsOf(home, home, visited));
      expect(cosigned.draft.rating.net).to.equal(proposed.draft.rating.net);
      const view = await invoicePublicView(client(home.key), { payer: home.plmnHex, payee: visited.plmnHex, period: flow.period });
      expect([view.status, view.resolution, view.amount]).to.deep.equal(["closed", "co-signed", proposed.draft.rating.net]);
      return proposed.draft.rating.net;
    }

    it("closes last month (usage:close), invoices it both ways (payee proposes, payer co-signs) and settles with escrow:settle, netted", async function () {
      // The token issuer (the deployer, owner of the dev token) funds the carriers; each deposits.
      const token = SettlementToken__factory.connect(deployment.token, net.wallets[0]);
      const rlst = await tokenInfo(deployment.token, net.provider);
      const funds = 100_000n * 10n ** BigInt(rlst.decimals);
      for (const who of [m.de, m.us, m.br]) {
        await (await token.mint(who.wallet.address, funds)).wait();
        await depositToEscrow(client(who.key), { member: who.plmnHex, amount: Amount.fromUnits(rlst, funds) });
      }
      const escrow = client("br").escrow;
      const deposits = async () => ({
        de: await escrow.deposits(m.de.plmnHex, deployment.token),
        us: await escrow.deposits(m.us.plmnHex, deployment.token),
        br: await escrow.deposits(m.br.plmnHex, deployment.token),
      });
      const before = await deposits();
      usage.settleBlock = await net.provider.getBlockNumber();

      // Every batch is decided: once the grace is over, anyone closes each direction.
      await travelTo(net, Number(await client("us").ledger.submissionDeadline(flow.period)));
      const period = formatPeriod(flow.period);
      const closed = await runTask(net, [
        "usage:close",
        "--home",
        m.de.plmn,
        "--visited",
        m.br.plmn,
        "--period",
        period,
        "--from",
        m.us.from,
      ]);
      expect(closed.stdout).to.match(/0x[0-9a-f]{64}/);
      for (const [home, visited] of [
        [m.br, m.de],
        [m.us, m.br],
        [m.br, m.us],
      ] as const) {
        await (await client("us").ledger.closePeriod(home.plmnHex, visited.plmnHex, flow.period)).wait();
      }
      const deOwes = await proposeAndCosign(m.de, m.br);
      const brOwesDe = await proposeAndCosign(m.br, m.de);
      const usOwes = await proposeAndCosign(m.us, m.br);
      const brOwesUs = await proposeAndCosign(m.br, m.us);
      expect(deOwes).to.be.greaterThan(brOwesDe).and.greaterThan(0n);
      expect(brOwesDe).to.be.greaterThan(0n);
      // BR's devices were not in the US: a zero invoice, co-signed like any other.
      expect(usOwes).to.be.greaterThan(0n);
      expect(brOwesUs).to.equal(0n);
      // The disputed record is off DE's invoice.
      const deUsage = (await inputsOf(m.de, m.de, m.br)).usage;
      expect(deUsage.batches.flatMap((b) => b.disputed).map((d) => decodeBytes32String(d.record.recordId))).to.deep.equal([
        usage.alteredId,
      ]);

      const [deBr, brUs] = await Promise.all([
        runTask(net, ["escrow:settle", "--partner", m.br.plmn, "--period", period, "--from", m.de.from]),
        runTask(net, ["escrow:settle", "--partner", m.us.plmn, "--period", period, "--from", m.br.from]),
      ]);
      const units = (x: bigint) => `${formatAmount(x, rlst.decimals)} RLST`;
      for (const [payer, payee] of [
        [m.de, m.br],
        [m.br, m.de],
        [m.us, m.br],
        [m.br, m.us],
      ] as const) {
        expect((await escrow.invoice(payer.plmnHex, payee.plmnHex, flow.period)).status, `${payer.key} -> ${payee.key}`).to.equal(5n); // settled
      }
      expect(deBr.stdout)
        .to.contain(`owed ${units(deOwes)}`)
        .and.to.contain(`owed ${units(brOwesDe)}`);
      const deNet = deOwes - brOwesDe;
      expect(deBr.stdout).to.contain(`${m.de.plmn} paid ${m.br.plmn} ${units(deNet)} of ${units(deNet)} (credited to its deposit)`);
      expect(brUs.stdout).to.contain(`${m.us.plmn} paid ${m.br.plmn} ${units(usOwes)}`);

      const after = await deposits();
      expect(after.de).to.equal(before.de - deNet);
      expect(after.us).to.equal(before.us - usOwes);
      expect(after.br).to.equal(before.br + deNet + usOwes);
      expect(await token.balanceOf(deployment.addresses.settlementEscrow)).to.equal(3n * funds);
      usage.nets = { deOwes, brOwesDe };
    });

    it("US, a third member of DE-BR, watches the pair (watch --observer): public facts only, no figure of the sealed totals", async function () {
      const events: WatchEvent[] = [];
      await watchChain({
        client: client("us"),
        provider: net.provider,
        self: m.us.plmnHex,
        observer: true,
        fromBlock: usage.ingestBlock + 1,
        once: true,
        onEvent: (e) => events.push(e),
      });
      const deBr = events.filter(
        (e) => e.as === "observer" && [e.data.home, e.data.payer, e.data.a].some((x) => x === m.de.plmn || x === m.br.plmn),
      );
      const kinds = new Set(deBr.map((e) => e.kind));
      for (const kind of [
        "batch-submitted",
        "record-disputed",
        "batch-accepted",
        "period-closed",
        "invoice-proposed",
        "invoice-closed",
        "settled",
      ]) {
        expect(kinds.has(kind as WatchEvent["kind"]), kind).to.equal(true);
      }
      const proposed = deBr.find((e) => e.kind === "invoice-proposed" && e.data.payer === m.de.plmn);
      expect(proposed?.data.net).to.equal(usage.nets.deOwes.toString());
      // What DE's opened payloads say (bytes and voice seconds per class) is nowhere in what US read.
      const own = await inputsOf(m.de, m.de, m.br);
      const figures = own.usage.batches.flatMap((b) => b.totals.flatMap((t) => [t.dataBytes, t.voiceSeconds])).map(String);
      const seen = JSON.stringify(events);
      expect(figures.filter((f) => f.length >= 5 && seen.includes(f))).to.deep.equal([]);
    });

    it("BR's invoice to DE and its report, read from the chain and its own copies by the tasks", async function () {
      const period = formatPeriod(flow.period);
      const invoiceFile = path.join(net.dir, "invoice-br-de.json");
      const reportFile = path.join(net.dir, "report-br.json");
      await Promise.all([
        runTask(
          net,
          [
            "invoice",
            "--partner",
            m.de.plmn,
            "--period",
            period,
            "--format",
            "json",
            "--out",
            invoiceFile,
            "--store",
            usage.store,
            "--from",
            m.br.from,
          ],
          { home: m.br.home },
        ),
        runTask(net, ["report", "--period", period, "--format", "json", "--out", reportFile, "--store", usage.store, "--from", m.br.from], {
          home: m.br.home,
        }),
      ]);
      const doc = JSON.parse(fs.readFileSync(invoiceFile, "utf8"));
      expect(doc.net.units).to.equal(usage.nets.deOwes.toString());
      expect(doc.status.state).to.equal("settled");
      expect(doc.disputes.records).to.equal(1);
      const report = JSON.parse(fs.readFileSync(reportFile, "utf8"));
      expect(report.partners.map((p: { partner: { text: string }; settled: boolean }) => [p.partner.text, p.settled])).to.have.deep.members(
        [
          [m.de.plmn, true],
          [m.us.plmn, true],
        ],
      );
    });
  });
});
