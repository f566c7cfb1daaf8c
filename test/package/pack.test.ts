import { expect } from "chai";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { NonceManager } from "ethers";
import hre from "hardhat";
import { atExit } from "../helpers/node";
import {
  chainTime,
  clientOf,
  deployWithTask,
  type IntegrationNetwork,
  type Member,
  type MemberKey,
  membersOf,
  openIntegrationNetwork,
} from "../helpers/integration";
import { writeTermsFile } from "../helpers/termsFile";
import { monthsBefore } from "../helpers/period";
import { importProblems } from "./distImports";
import { acceptAgreement, proposeAgreement } from "../../lib/agreements/chain";
import { connectRoamLedger } from "../../lib/chain/client";
import { formatPeriod, periodBounds } from "../../lib/core/period";
import { deviceIdFromImsi } from "../../lib/core/imsi";
import { readPolicies } from "../../lib/devices/policy";
import { DEFAULT_REGISTER_BATCH, ensurePolicies, readDevices, registerDevices } from "../../lib/devices/registration";
import { receiveImsiKey, shareImsiKey } from "../../lib/keys/share";
import { agreementTerms } from "../../lib/agreements/fullTerms";
import { fullTermsOf, periodUsageOf } from "../../lib/invoice/inputs";
import { cosignInvoice, proposeInvoice, versionInForce } from "../../lib/settlement/invoices";
import type { RoamLedgerClient } from "../../lib/chain/client";
import { countedPeriod } from "../../lib/usage/period";
import { generateUsage, type GenerateSummary } from "../../lib/usage/generate";
import { ingestUsage, pairWorkDir } from "../../lib/usage/ingest";
import { LeafHasher, RECORD_BYTES } from "../../lib/usage/leaf";
import { merkleRoot } from "../../lib/usage/merkle";
import { totalsSaltOf } from "../../lib/usage/payload";
import { pairKeyWith } from "../../lib/usage/pair";
import { FolderStore } from "../../lib/usage/store";
import { verifyBatch } from "../../lib/usage/verify";
import { type Hex, hexToBytes } from "../../lib/util/hex";
import type * as Sdk from "../../lib";

/**
 * The package as a carrier backend gets it: `npm run build`, `npm pack`, the tarball installed into an
 * empty project outside the repository with its declared dependencies only, the example backend
 * (examples/backend) compiled there against the installed declarations and run with plain `node` against
 * a local chain (test/helpers/integration.ts) on which 724-05 billed 262-01 for last month: sealed terms,
 * batches, fraud flags, the batches accepted, the period closed, the invoice proposed by 724-05 and
 * co-signed by 262-01. Nothing of the repository's layout or devDependencies is within reach of the
 * installed package.
 */

const ROOT = hre.config.paths.root;
const POLICIES = path.join(ROOT, "test", "fixtures", "policies.json");
const TSC = require.resolve("typescript/bin/tsc");
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  name: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const run = promisify(execFile);

/** npm in a clean environment: npm's own variables of a parent `npm test` must not steer the install. */
function npm(args: string[], cwd: string) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle)_/i.test(k) && k !== "INIT_CWD"),
  );
  return run("npm", args, { cwd, env, maxBuffer: 64 << 20, timeout: 240_000 });
}

interface PackedFile {
  path: string;
  size: number;
}

/** Build, pack and install into `dir`/backend, a copy of the example whose `roamledger` is the tarball. */
async function installPackage(dir: string): Promise<{ project: string; files: PackedFile[] }> {
  await npm(["run", "build"], ROOT);
  const packed = JSON.parse((await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", dir], ROOT)).stdout) as {
    filename: string;
    files: PackedFile[];
  }[];
  const tarball = path.join(dir, packed[0].filename);
  const project = path.join(dir, "backend");
  const example = path.join(ROOT, "examples", "backend");
  fs.mkdirSync(project);
  fs.cpSync(path.join(example, "src"), path.join(project, "src"), { recursive: true });
  fs.copyFileSync(path.join(example, "tsconfig.json"), path.join(project, "tsconfig.json"));
  const pkg = JSON.parse(fs.readFileSync(path.join(example, "package.json"), "utf8"));
  pkg.dependencies[manifest.name] = `file:${tarball}`;
  // Compiling is the repository's tsc's job here: the example's devDependencies (typescript, Node's
  // types) stay out, or they would be in reach of the installed package.
  delete pkg.devDependencies;
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify(pkg, null, 2));
  await npm(["install", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund", tarball], project);
  return { project, files: packed[0].files };
}

/** What the chain holds once 724-05 billed 262-01 for `period` and the invoice is closed. */
interface Activity {
  period: number;
  fleet: GenerateSummary;
  batchIds: Hex[];
  store: string;
  invoiceUnits: bigint;
}

/** 262-01's devices, generated roaming in 724-05 for `period`, registered by 262-01 with their policies. */
async function registerFleet(net: IntegrationNetwork, home: Member, visited: Member, client: Sdk.RoamLedgerClient, period: number) {
  const fleet = generateUsage({
    home: home.plmnHex,
    visited: visited.plmnHex,
    period,
    devices: 40,
    seed: 7,
    imsiPrefix: "2620177",
    usageOut: path.join(net.dir, "usage.csv"),
    devicesOut: path.join(net.dir, "fleet.csv"),
  });
  const policies = readPolicies(POLICIES, home.plmnHex);
  const devices = await readDevices(fleet.devicesFile, {
    home: home.plmnHex,
    imsiKey: home.keystore.imsiKey(home.plmn),
    policyNames: new Set(policies.keys()),
  });
  const { ids } = await ensurePolicies(
    client,
    policies,
    devices.map((d) => d.policyName),
  );
  await registerDevices(client, devices, { policyIds: ids, batchSize: DEFAULT_REGISTER_BATCH });
  return fleet;
}

/** Moves anvil's clock to `t`. */
async function travelTo(net: IntegrationNetwork, t: number): Promise<void> {
  await net.provider.send("evm_setNextBlockTimestamp", [t]);
  await net.provider.send("evm_mine", []);
}

/** `self`'s own copies of the invoice of (home, visited, period): counted usage from the store, terms from its key store. */
async function invoiceInputs(client: RoamLedgerClient, o: { self: Member; partner: Member; home: Member; period: number; store: string }) {
  const key = await pairKeyWith(client, { keystore: o.self.keystore, self: o.self.plmnHex, partner: o.partner.plmnHex });
  const visited = o.home === o.self ? o.partner : o.self;
  const at = { home: o.home.plmnHex, visited: visited.plmnHex, period: o.period };
  const counted = await countedPeriod(client, { ...at, store: new FolderStore(o.store), pairKey: key });
  const inForce = await versionInForce(client, { payer: at.home, payee: at.visited, period: o.period });
  const opened = await agreementTerms(client, {
    keystore: o.self.keystore,
    self: o.self.plmnHex,
    partner: o.partner.plmnHex,
    version: inForce.version,
  });
  return { key, usage: periodUsageOf(counted), terms: fullTermsOf(opened, inForce.version, inForce.termsCommitment) };
}

/**
 * 262-01 and 724-05 agree sealed terms from last month, 262-01 shares its IMSI key with 724-05 and
 * registers its fleet; 724-05 ingests last month's usage (batches, fraud flags), 262-01 accepts every
 * batch, the period is closed, 724-05 proposes the invoice and 262-01 co-signs it.
 */
async function makeActivity(net: IntegrationNetwork, m: Record<MemberKey, Member>): Promise<Activity> {
  const { de, br } = m;
  de.keystore.ensureImsiKey(de.plmn);
  // An hour into next month: last month is over and its batches are taken for the 3 days of the grace.
  await travelTo(net, monthsBefore(await chainTime(net), -1).start + 3600);
  const deployment = await deployWithTask(net, m);
  const deClient = clientOf(de, deployment.addresses);
  // The ingest sends its batches back to back: ethers' provider caches the pending nonce for 250 ms, so
  // a plain wallet would sign the second with the first one's nonce. NonceManager counts them itself.
  const brSigner = new NonceManager(br.wallet);
  const brClient = connectRoamLedger(deployment.addresses, brSigner);
  const lastDay = new Date((await chainTime(net)) * 1000);
  lastDay.setUTCDate(0);
  const period = lastDay.getUTCFullYear() * 100 + lastDay.getUTCMonth() + 1;

  const terms = path.join(net.dir, "terms.json");
  writeTermsFile(terms, { a: de.plmn, b: br.plmn, from: periodBounds(period)[0], token: deployment.token });
  const { version } = await proposeAgreement(deClient, { self: de.plmnHex, partner: br.plmnHex, file: terms, keystore: de.keystore });
  await acceptAgreement(brClient, { self: br.plmnHex, partner: de.plmnHex, version, keystore: br.keystore });
  await shareImsiKey(deClient, { keystore: de.keystore, home: de.plmnHex, partner: br.plmnHex });
  await receiveImsiKey(brClient, { keystore: br.keystore, self: br.plmnHex, home: de.plmnHex });
  const fleet = await registerFleet(net, de, br, deClient, period);

  const store = path.join(net.dir, "store");
  const summary = await ingestUsage({
    file: fleet.usageFile,
    home: de.plmnHex,
    visited: br.plmnHex,
    period,
    client: brClient,
    signer: brSigner,
    chainId: BigInt(net.chainId),
    imsiKey: br.keystore.partnerImsiKey(br.plmn, de.plmn),
    pairKey: await pairKeyWith(brClient, { keystore: br.keystore, self: br.plmnHex, partner: de.plmnHex }),
    workDir: pairWorkDir(br.home, br.plmnHex, de.plmnHex),
    store: new FolderStore(store),
    batchSize: Math.ceil(fleet.records / 2),
  });
  const batchIds = summary.batches.map((b) => b.id);
  for (const batchId of batchIds) {
    const report = await verifyBatch({
      batchId,
      client: deClient,
      self: de.plmnHex,
      pairKeyFor: (visited) => pairKeyWith(deClient, { keystore: de.keystore, self: de.plmnHex, partner: visited }),
      store: new FolderStore(store),
      imsiKey: de.keystore.imsiKey(de.plmn),
    });
    expect(report.action, batchId).to.equal("accepted");
  }
  await travelTo(net, Number(await deClient.ledger.submissionDeadline(period)));
  await (await deClient.ledger.closePeriod(de.plmnHex, br.plmnHex, period)).wait();
  const proposed = await proposeInvoice(brClient, await invoiceInputs(brClient, { self: br, partner: de, home: de, period, store }));
  await cosignInvoice(deClient, await invoiceInputs(deClient, { self: de, partner: br, home: de, period, store }));
  return { period, fleet, batchIds, store, invoiceUnits: proposed.draft.rating.net };
}

interface Line {
  type: string;
  kind?: string;
  as?: string;
  data?: Record<string, string | number>;
  device?: { status: string; home: string };
  [key: string]: unknown;
}

describe("package: npm pack, installed into an empty project, runs the example backend", function () {
  let dir: string;
  let forget: () => void;
  let net: IntegrationNetwork;
  let m: Record<MemberKey, Member>;
  let installed: { project: string; files: PackedFile[] };
  let activity: Activity;
  const installedDist = () => path.join(installed.project, "node_modules", manifest.name, "dist");

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-package-"));
    forget = atExit(() => fs.rmSync(dir, { recursive: true, force: true }));
    net = await openIntegrationNetwork();
    m = membersOf(net);
    // The build and install use the CPU, the chain mostly waits for blocks: side by side.
    [installed, activity] = await Promise.all([installPackage(dir), makeActivity(net, m)]);
  });

  after(async function () {
    await net?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    forget?.();
  });

  it("packs the built JavaScript, declarations and ABIs, README and docs/sdk.md: no test, script, source or map file", function () {
    const paths = installed.files.map((f) => f.path);
    const unexpected = paths.filter(
      (p) =>
        !["README.md", "package.json", "docs/sdk.md"].includes(p) &&
        !/^dist\/(lib|typechain-types)\/.+\.(js|d\.ts)$|^dist\/abi\/\w+\.json$/.test(p),
    );
    expect(unexpected).to.deep.equal([]);
    expect(paths.filter((p) => /(^|\/)test(\/|$)|__Mock|\.sol$|\.map$/.test(p))).to.deep.equal([]);
    expect(paths).to.include.members([
      "dist/lib/index.js",
      "dist/lib/index.d.ts",
      "dist/lib/usage/sealWorker.js",
      "dist/abi/UsageLedger.json",
    ]);
  });

  it("installs without any devDependency, and nothing in dist loads or declares more than Node and the dependencies", function () {
    // Where the package's own requires look: its node_modules, then the project's. Type packages (@types/*,
    // which ethers depends on) cannot be loaded at runtime.
    const reachable = [path.join(installedDist(), "..", "node_modules"), path.join(installed.project, "node_modules")];
    const present = Object.keys(manifest.devDependencies).filter(
      (name) => !name.startsWith("@types/") && reachable.some((dir) => fs.existsSync(path.join(dir, name))),
    );
    expect(present, "devDependencies installed with the package").to.deep.equal([]);
    expect(importProblems(installedDist(), Object.keys(manifest.dependencies))).to.deep.equal([]);
  });

  it("exposes what a backend needs from the package root, and seals on the worker thread from dist (no ts-node)", async function () {
    const sdk = createRequire(path.join(installed.project, "package.json"))(manifest.name) as typeof Sdk;
    const needed = [
      "connectRoamLedger",
      "createRoamLedgerReader",
      "deviceIdFromImsi",
      "createDeviceIdDeriver",
      "sealImsiKey",
      "openImsiKey",
      "Keystore",
      "ingestUsage",
      "verifyBatch",
      "readInvoiceData",
      "buildInvoiceModel",
      "invoiceToJson",
      "invoiceToCsv",
      "renderInvoicePdf",
      "watchChain",
      "loadDeployment",
      "BaseError",
      "InputError",
      "UsageLedger__factory",
      "DeviceRegistry__factory",
      "SettlementEscrow__factory",
    ] as const;
    expect(needed.filter((name) => typeof sdk[name] !== "function")).to.deep.equal([]);
    const key = randomBytes(32);
    expect(sdk.deviceIdFromImsi(key, "262-01", "262017700000001")).to.equal(deviceIdFromImsi(key, "262-01", "262017700000001"));

    const count = 200;
    const packed = randomBytes(count * RECORD_BYTES);
    const salt = hexToBytes(totalsSaltOf(key, packed));
    const expected = await merkleRoot((await LeafHasher.create()).leavesOf(Buffer.from(packed), count, salt));
    const header = { visited: m.br.plmnHex, home: m.de.plmnHex, period: 202611, sequence: 0, recordCount: count };
    const thread = new sdk.SealThread();
    try {
      const sealed = await thread.seal({
        header: { ...header, totals: [], activeDevices: [], roamerDays: [] },
        packed,
        count,
        pairKey: key,
        store: new sdk.FolderStore(path.join(dir, "seal-store")),
      });
      expect(sealed.seal.root).to.equal(expected);
    } finally {
      await thread.close();
    }
  });

  it("compiles the example backend with tsc against the installed declarations", async function () {
    // Compile-time tools are the repository's (tsc, Node's types); the package and its dependencies are the project's.
    await run(process.execPath, [TSC, "-p", "tsconfig.json", "--typeRoots", path.join(ROOT, "node_modules", "@types")], {
      cwd: installed.project,
    }).catch((err: { stdout?: string }) => expect.fail(`tsc failed:\n${err.stdout}`));
    expect(fs.existsSync(path.join(installed.project, "dist", "main.js"))).to.equal(true);
  });

  it("runs the example's smoke path (--once) with node: the alerts of 262-01 and its invoices as files with the chain's totals", async function () {
    const out = path.join(dir, "invoices");
    const { de, br } = m;
    const { stdout } = await run(
      process.execPath,
      ["dist/main.js", "--once", "--period", formatPeriod(activity.period), "--partner", br.plmn, "--out", out, "--keystore", de.home],
      {
        cwd: installed.project,
        env: {
          PATH: process.env.PATH,
          ROAMLEDGER_RPC_URL: net.url,
          ROAMLEDGER_PRIVATE_KEY: de.wallet.privateKey,
          ROAMLEDGER_DEPLOYMENT: net.deploymentFile,
          ROAMLEDGER_STORE: activity.store,
        },
        timeout: 120_000,
      },
    );
    const lines = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Line);
    const alerts = lines.filter((l) => l.type === "alert");
    const of = (kind: string) => alerts.filter((a) => a.kind === kind);

    const derive = (imsi: string) => deviceIdFromImsi(de.keystore.imsiKey(de.plmn), de.plmn, imsi);
    const flagged = of("fraud-flag");
    expect(flagged.map((a) => a.data?.deviceId)).to.have.members(activity.fleet.outOfPolicy.map((d) => derive(d.imsi)));
    for (const alert of flagged)
      expect(alert).to.deep.include({ as: "home", device: { status: "fraud-flagged", home: de.plmn, maker: null } });
    expect(of("batch-submitted").map((a) => a.data?.batchId)).to.have.members(activity.batchIds);
    // A batch on chain shows its tree depth, not its record count.
    for (const a of of("batch-submitted")) expect(a.data).to.have.property("treeDepth").and.not.to.have.property("records");
    expect(of("batch-accepted")).to.have.length(activity.batchIds.length);
    expect(of("period-closed").map((a) => a.as)).to.deep.equal(["home"]);
    expect(of("invoice-proposed").map((a) => [a.as, a.data?.net])).to.deep.equal([["payer", activity.invoiceUnits.toString()]]);
    expect(of("invoice-closed").map((a) => [a.as, a.data?.resolution])).to.deep.equal([["payer", "co-signed"]]);

    const [payer, payee] = [
      lines.find((l) => l.type === "invoice" && l.as === "payer"),
      lines.find((l) => l.type === "invoice" && l.as === "payee"),
    ];
    expect(payee).to.deep.include({ state: "none", payer: br.plmn, payee: de.plmn });
    expect(payer).to.deep.include({ state: "closed", payer: de.plmn, payee: br.plmn, netUnits: activity.invoiceUnits.toString() });
    const files = payer?.files as string[];
    expect(files.map((f) => path.extname(f))).to.deep.equal([".json", ".csv", ".pdf"]);
    const doc = JSON.parse(fs.readFileSync(files[0], "utf8"));
    expect(doc.net.units).to.equal(activity.invoiceUnits.toString());
    expect(doc.payer.plmnText).to.equal(de.plmn);
    expect(doc.batches.map((b: { batchId: string }) => b.batchId)).to.have.members(activity.batchIds);
    expect(doc.notBillable.available, "payloads decrypted with 262-01's key store").to.equal(true);
    expect(fs.readFileSync(files[1], "utf8")).to.contain(doc.invoiceNumber);
    expect(fs.readFileSync(files[2]).subarray(0, 5).toString()).to.equal("%PDF-");

    const summary = lines.at(-1);
    expect(summary).to.deep.include({ type: "summary", carrier: de.plmn, chainId: net.chainId, fromBlock: 0 });
    expect(summary?.alerts).to.deep.include({ "fraud-flag": flagged.length, "batch-submitted": activity.batchIds.length });
  });
});
