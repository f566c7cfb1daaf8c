import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { HDNodeWallet, NonceManager, Wallet, type Signer } from "ethers";
import {
  CarrierRegistry__factory,
  DeviceRegistry__factory,
  RoamingAgreements__factory,
  SettlementToken__factory,
  UsageLedger__factory,
} from "../../typechain-types";
import { pairwiseKey } from "../../lib/crypto/pairwise";
import { connectRoamLedger, type RoamLedgerClient } from "../../lib/chain/client";
import type { RoamLedgerAddresses } from "../../lib/chain/deployment";
import { Keystore } from "../../lib/keys/keystore";
import { readPolicies } from "../../lib/devices/policy";
import { readDevices, ensurePolicies, registerDevices, DEFAULT_REGISTER_BATCH } from "../../lib/devices/registration";
import { generateUsage, type GenerateSummary } from "../../lib/usage/generate";
import { pairWorkDir } from "../../lib/usage/ingest";
import { formatPeriod } from "../../lib/core/period";
import type { Hex } from "../../lib/util/hex";
import type { TermsLike } from "../../lib/agreements/terms";
import { DEV_MNEMONIC, atExit, freePort, launchAnvil, rpc, type AnvilNode } from "./node";
import { GasFreeProvider, runHardhatCli } from "./integration";
import { agreeSealed } from "./agreement";
import { PLMN, ROLE } from "./fixtures";
import { ingestTerms, POLICIES } from "./ingest";
import { monthOf } from "./period";
import { writeDeploymentFile } from "./tasks";

/**
 * Crash and node-fault tests: RoamLedger's resumable commands (`usage:ingest`, `device:register`) run as
 * real `hardhat` subprocesses against anvil, are killed (SIGKILL) or lose their node mid-run, and are run
 * again. They need to kill nodes and processes, so they run on anvil only (never on Besu).
 *
 * Each run (the clean reference and every crashed one) gets its own deployment of RoamLedger on the one
 * anvil of the suite, and its own copies of the key stores, payload store and input file: runs never see
 * each other's state, and everything compared is independent of the deployment's addresses (batch and
 * device ids derive from content and from the IMSI key, which every copy shares).
 */

/** Chain id of the crash suite's nodes. */
export const CRASH_CHAIN_ID = 31339;
/**
 * Accounts (indexes into the dev mnemonic, and `--from` of the tasks) of a world in `slot`: deployer, DE's
 * and BR's operators. Worlds that run side by side use different slots, so that their transactions never
 * compete for a nonce.
 */
export function accountsOf(slot: number): { deployer: number; de: number; br: number } {
  return { deployer: 3 * slot, de: 3 * slot + 1, br: 3 * slot + 2 };
}
/** Slots the node has accounts for. */
export const SLOTS = 3;

/** The address of account `index` of the dev mnemonic (what `--from <index>` sends from). */
export function devAddress(index: number): string {
  return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).address;
}

// ------------------------------------------------------------------ the environment

/** A whole number from the environment, else `fallback`. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${raw} is not a whole number`);
  return n;
}

// ------------------------------------------------------------------ the node

/** A node of the crash suite (and of the benchmark's ingest). */
export type CrashNode = AnvilNode;

/** anvil's mining flags for each mode of startNode. */
function miningFlags(mining: "mixed" | "manual" | "auto" | undefined): string[] {
  if (mining === "manual") return ["--no-mining"];
  if (mining === "auto") return [];
  return ["--mixed-mining", "--block-time", "1"];
}

/**
 * Starts anvil with automatic mining (a block per transaction, as soon as it arrives: runs are short and
 * a kill lands between or inside transactions) and an empty block every second besides (`--mixed-mining`:
 * a client that starts waiting for a receipt just after its block was mined sees a new block soon, where
 * automatic mining alone would leave it waiting for another transaction), gas price 0 and the dev
 * mnemonic, on `port` (default: a free one). With `state`, the chain is loaded from that file if it exists and dumped to it when anvil
 * stops gracefully (`--state`), so a node stopped with SIGTERM comes back with every block it had.
 * With `mining: "manual"` anvil mines nothing by itself (`--no-mining`): transactions wait in its pool
 * until a block is mined with `evm_mine` (see BlockProducer). With `mining: "auto"` it mines a block per
 * transaction and nothing else; `pruneHistory` keeps the state of that many recent blocks only (true:
 * none; `--prune-history`): anvil otherwise keeps a copy of its whole state for every block, gigabytes a
 * minute with a fleet of 200,000 devices and a block every second. The benchmark's ingest nodes use both.
 *
 * One node should not serve too many runs: with thousands of transactions and policy contracts, anvil's
 * mixed mining more and more often leaves a transaction for the next one-second block instead of mining
 * it at once, and every run slows down (a world's deployment went from 0.9 s to 5 s when the crash suite
 * was first written against one node).
 */
export function startNode(
  options: { port?: number; state?: string; mining?: "mixed" | "manual" | "auto"; pruneHistory?: boolean | number } = {},
): Promise<CrashNode> {
  const prune = options.pruneHistory;
  return launchAnvil({
    chainId: CRASH_CHAIN_ID,
    port: options.port,
    accounts: 3 * SLOTS,
    flags: [
      ...miningFlags(options.mining),
      ...(options.state ? ["--state", options.state] : []),
      // No state per block: anvil otherwise keeps a copy of the whole state for each block mined.
      ...(prune === true ? ["--prune-history"] : prune ? ["--prune-history", String(prune)] : []),
    ],
    // Dumping the state on SIGTERM takes a while with a large fleet.
    stopGraceMs: 15_000,
  });
}

/**
 * The block producer of a node started with `mining: "manual"`: a block (`evm_mine`, with whatever the
 * pool holds) every `intervalMs`, as a consortium chain produces them, until paused. While paused,
 * transactions stay in the node's pool, not mined: as on a QBFT chain between two blocks, or when the
 * validators are slow.
 */
export class BlockProducer {
  private paused = false;
  private stopped = false;
  private mining: Promise<unknown> = Promise.resolve();
  private readonly loop: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly intervalMs = 200,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.paused) {
        this.mining = rpc(this.url, "evm_mine").catch(() => undefined);
        await this.mining;
      }
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
  }

  /** No more blocks from now on (a block being mined is finished first). */
  async pause(): Promise<void> {
    this.paused = true;
    await this.mining;
  }

  resume(): void {
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** The account's transactions the node holds in its pool, not mined yet (pending less latest count). */
export async function pendingInPool(url: string, address: string): Promise<number> {
  const [pending, latest] = await Promise.all([
    rpc<string>(url, "eth_getTransactionCount", [address, "pending"]),
    rpc<string>(url, "eth_getTransactionCount", [address, "latest"]),
  ]);
  return Number(pending) - Number(latest);
}

// ------------------------------------------------------------------ a JSON-RPC relay

/**
 * A JSON-RPC relay in front of the node: it passes requests on unchanged and tells when a run talks to
 * the node for the first time (after Hardhat's start-up, which touches nothing), so kill delays can be
 * spread over the part of a run that does something. `onResponse` sees each answer of the node first and
 * may hold it (returning a promise) or lose it. `cut()` makes the relay behave as a dead node: requests in flight
 * lose their connection and new connections are refused, until `listen()` opens the same port again.
 */
export class RpcRelay {
  private server?: http.Server;
  private readonly sockets = new Set<net.Socket>();
  firstRequestAt?: number;
  requests = 0;
  onFirstRequest?: () => void;
  /**
   * Sees each request (its methods and body) before it goes on to the node, and may hold it (returning
   * a promise) or lose it ("drop": the node never sees it, the connection is closed).
   */
  onRequest?: (methods: string[], request: string) => Promise<"forward" | "drop"> | "forward" | "drop";
  /**
   * Sees each answer before it goes back, with the request's methods, its body and the node's answer;
   * "drop" loses the answer (the connection is closed instead).
   */
  onResponse?: (methods: string[], request: string, answer: string) => Promise<"reply" | "drop"> | "reply" | "drop";

  private constructor(
    readonly port: number,
    public upstream: string,
  ) {}

  static async start(upstream: string): Promise<RpcRelay> {
    const relay = new RpcRelay(await freePort(), upstream);
    await relay.listen();
    return relay;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Forgets the first request (before each run). */
  reset(): void {
    this.firstRequestAt = undefined;
    this.requests = 0;
    this.onFirstRequest = undefined;
    this.onRequest = undefined;
    this.onResponse = undefined;
  }

  async listen(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 1000;
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
  }

  /** Refuses new connections and drops every open one, as a node that died. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  async close(): Promise<void> {
    await this.cut();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    this.requests++;
    if (this.firstRequestAt === undefined) {
      this.firstRequestAt = Date.now();
      this.onFirstRequest?.();
    }
    if (this.onRequest && (await this.onRequest(methodsOf(body), body)) === "drop") {
      req.socket.destroy();
      return;
    }
    let status: number;
    let text: string;
    try {
      const response = await fetch(this.upstream, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      status = response.status;
      text = await response.text();
    } catch {
      // The node is gone: so is this connection.
      req.socket.destroy();
      return;
    }
    if (this.onResponse && (await this.onResponse(methodsOf(body), body, text)) === "drop") {
      req.socket.destroy();
      return;
    }
    res.writeHead(status, { "content-type": "application/json" });
    res.end(text);
  }
}

function methodsOf(body: string): string[] {
  try {
    const parsed = JSON.parse(body) as { method?: string } | { method?: string }[];
    return (Array.isArray(parsed) ? parsed : [parsed]).map((r) => String(r.method));
  } catch {
    return [];
  }
}

// ------------------------------------------------------------------ hardhat subprocesses

/**
 * A `node --require` hook for the subprocesses: ts-node (which Hardhat registers, transpile-only) turns
 * each TypeScript file it loads into JavaScript, ~4.4 MB of it per start (the contract bindings carry
 * their bytecode), about 2 s of CPU of a bare start's 2.8 s. The hook memoizes that output on disk, keyed
 * by the file's path and content: the code that runs is exactly what ts-node would have produced, only
 * made once per suite instead of once per run. Without it the 84 starts of the SIGKILL suite alone take
 * several minutes of CPU.
 */
const TRANSPILE_CACHE_HOOK = `"use strict";
const fs = require("fs"), path = require("path"), crypto = require("crypto");
const dir = process.env.ROAMLEDGER_TEST_TS_CACHE;
let tsNode;
function cached(m, filename) {
  const code = fs.readFileSync(filename, "utf8");
  const file = path.join(dir, crypto.createHash("sha256").update(filename).update("\\0").update(code).digest("hex") + ".js");
  let js;
  try { js = fs.readFileSync(file, "utf8"); } catch { js = undefined; }
  if (js !== undefined) return m._compile(js, filename);
  const compile = m._compile;
  m._compile = function (output, name) {
    const tmp = file + "." + process.pid + ".tmp";
    try { fs.writeFileSync(tmp, output); fs.renameSync(tmp, file); } catch { /* a cache miss next time */ }
    return compile.call(this, output, name);
  };
  return tsNode(m, filename);
}
if (dir) {
  // ts-node registers its handler with require.extensions[".ts"] = ...: take it, and serve through the cache.
  Object.defineProperty(require.extensions, ".ts", {
    configurable: true,
    enumerable: true,
    get: () => (tsNode ? cached : undefined),
    set: (handler) => { tsNode = handler; },
  });
}
`;

let transpileCache: { hook: string; dir: string } | undefined;

/** The hook file and its cache folder, made once per test process and removed when it exits. */
function transpileCacheHook(): { hook: string; dir: string } {
  if (transpileCache) return transpileCache;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-ts-cache-"));
  atExit(() => fs.rmSync(root, { recursive: true, force: true }));
  const hook = path.join(root, "hook.js");
  const dir = path.join(root, "js");
  fs.mkdirSync(dir);
  fs.writeFileSync(hook, TRANSPILE_CACHE_HOOK);
  transpileCache = { hook, dir };
  return transpileCache;
}

export interface HardhatRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit. */
  ms: number;
  /** From the run's first request to the node (through `relay`) to its exit; undefined without a relay. */
  activeMs?: number;
}

export interface RunOptions {
  /** Environment on top of this process's (ROAMLEDGER_QUIET=1 unless given). */
  env: Record<string, string>;
  /** Counts the run's requests; needed for `killAfterMs`. */
  relay?: RpcRelay;
  /** SIGKILL the run this long after its first request to the node. */
  killAfterMs?: number;
  /** SIGKILL the run when this settles. */
  killWhen?: Promise<unknown>;
  timeoutMs?: number;
}

/** `hardhat <args> --network localhost`, as an operator runs it, against ROAMLEDGER_RPC_URL from `env`. */
export async function runHardhat(args: readonly string[], options: RunOptions): Promise<HardhatRun> {
  const cache = transpileCacheHook();
  const relay = options.relay;
  relay?.reset();
  const started = Date.now();
  let killTimer: NodeJS.Timeout | undefined;
  const exit = await runHardhatCli(args, {
    network: "localhost",
    env: { ...process.env, ROAMLEDGER_QUIET: "1", ROAMLEDGER_TEST_TS_CACHE: cache.dir, ...options.env },
    nodeArgs: ["--require", cache.hook],
    timeoutMs: options.timeoutMs ?? 180_000,
    onSpawn: (child) => {
      const kill = () => child.kill("SIGKILL");
      const delay = options.killAfterMs;
      if (relay && delay !== undefined) {
        relay.onFirstRequest = () => {
          killTimer = setTimeout(kill, delay);
        };
      }
      options.killWhen?.then(kill, kill);
    },
  });
  if (killTimer) clearTimeout(killTimer);
  const ended = Date.now();
  return {
    code: exit.code,
    signal: exit.signal,
    stdout: exit.stdout,
    stderr: exit.stderr,
    ms: ended - started,
    activeMs: relay?.firstRequestAt === undefined ? undefined : ended - relay.firstRequestAt,
  };
}

/** `promise`, or an error naming `what` once `ms` have passed: a hang fails the test instead of stalling it. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Throws with the run's output unless it exited 0. */
export function expectSuccess(run: HardhatRun, what: string): void {
  if (run.code === 0) return;
  throw new Error(`${what} exited with ${run.code ?? run.signal}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
}

// ------------------------------------------------------------------ the world

/**
 * Key stores, the fleet and a month of its usage, made once: DE (262-01, home) with its IMSI key, BR
 * (724-05, visited) with DE's IMSI key received, each with its encryption key. Every run copies them.
 */
export interface CrashTemplate {
  dir: string;
  homeDe: string;
  homeBr: string;
  deImsiKey: Uint8Array;
  dePublicKey: Hex;
  brPublicKey: Hex;
  /** The DE-BR pairwise key (terms and payloads are sealed with it). */
  pairKey: Uint8Array;
  generated: GenerateSummary;
  /** yyyymm: the chain's current month. */
  period: number;
  periodStart: number;
  cleanup(): void;
}

export async function makeTemplate(
  chainTime: number,
  options: { devices?: number; records?: number; seed: number; fraudRate?: number; onProgress?: (lines: number) => void },
): Promise<CrashTemplate> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-crash-"));
  const forget = atExit(() => fs.rmSync(dir, { recursive: true, force: true }));
  const homeDe = path.join(dir, "template", "home-de");
  const homeBr = path.join(dir, "template", "home-br");
  const de = new Keystore(homeDe);
  const br = new Keystore(homeBr);
  const deImsiKey = de.ensureImsiKey("262-01");
  const dePublicKey = de.ensureEncryptionKey("262-01").publicKey;
  const brKey = br.ensureEncryptionKey("724-05");
  const brPublicKey = brKey.publicKey;
  const pairKey = pairwiseKey({ myPrivateKey: brKey.privateKey, theirPublicKey: dePublicKey, plmnA: PLMN.BR, plmnB: PLMN.DE });
  br.savePartnerImsiKey("724-05", "262-01", deImsiKey);
  const { period, start: periodStart } = monthOf(chainTime);
  const generated = generateUsage({
    home: PLMN.DE,
    visited: PLMN.BR,
    period,
    devices: options.devices,
    records: options.records,
    seed: options.seed,
    onProgress: options.onProgress,
    usageOut: path.join(dir, "template", "usage.csv"),
    devicesOut: path.join(dir, "template", "devices.csv"),
    malformedRate: 0.01,
    fraudRate: options.fraudRate,
  });
  return {
    dir,
    homeDe,
    homeBr,
    deImsiKey,
    dePublicKey,
    brPublicKey,
    pairKey,
    generated,
    period,
    periodStart,
    cleanup: () => {
      fs.rmSync(dir, { recursive: true, force: true });
      forget();
    },
  };
}

/** One run's world: its own deployment, key stores, payload store and input files. */
export interface RunWorld {
  name: string;
  dir: string;
  /** Its accounts (`--from`). */
  from: { deployer: number; de: number; br: number };
  addresses: RoamLedgerAddresses;
  deploymentFile: string;
  homeDe: string;
  homeBr: string;
  store: string;
  usageFile: string;
  devicesFile: string;
  /** BR's local usage state of the DE pair. */
  workDir: string;
  /** Read-only client of the deployment. */
  reader: RoamLedgerClient;
  /** Environment of a task run of this world against `rpcUrl`. */
  env(rpcUrl: string, home: "de" | "br"): Record<string, string>;
}

/**
 * Signers of the dev mnemonic on `url`, sending with gas price 0 and polling receipts quickly. Each
 * counts its own nonces: with a block per transaction, the node's pending count is asked again within
 * ethers' 250 ms cache of identical requests, which would hand out a nonce twice.
 */
export function devWallets(url: string, chainId = CRASH_CHAIN_ID): { provider: GasFreeProvider; wallets: NonceManager[] } {
  const provider = new GasFreeProvider(url, chainId);
  provider.pollingInterval = 20;
  const wallets = Array.from(
    { length: 3 * SLOTS },
    (_, i) => new NonceManager(new Wallet(HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey, provider)),
  );
  return { provider, wallets };
}

/**
 * RoamLedger on an external node, deployed as the Ignition module composes it, with DE and BR as members
 * (encryption keys `keys`, operators `de` and `br`, governor `deployer`) and DE's terms for BR (built for
 * the settlement token deployed with it) proposed sealed for BR (with DE's encryption private key
 * `keys.dePrivateKey`) and accepted. Each deployment is mined before the next is signed (nonces from the
 * node).
 */
export async function deployDeBr(
  wallets: { deployer: Signer; de: Signer; br: Signer },
  keys: { de: string; br: string; dePrivateKey: Hex },
  terms: (token: string) => TermsLike,
): Promise<{ addresses: RoamLedgerAddresses; token: string }> {
  const { deployer, de, br } = wallets;
  const member = (plmn: Hex, name: string, key: string, operator: string) => ({
    plmn,
    roles: ROLE.CARRIER | ROLE.GOVERNOR,
    name,
    encryptionKey: key,
    operators: [operator],
  });
  const [deAddress, brAddress, deployerAddress] = await Promise.all([de.getAddress(), br.getAddress(), deployer.getAddress()]);
  const carriers = await (
    await new CarrierRegistry__factory(deployer).deploy(
      [member(PLMN.DE, "Telekom Deutschland IoT", keys.de, deAddress), member(PLMN.BR, "Vivo Brasil", keys.br, brAddress)],
      5001,
      7 * 24 * 3600,
      [deployerAddress],
    )
  ).waitForDeployment();
  const agreements = await (await new RoamingAgreements__factory(deployer).deploy(carriers)).waitForDeployment();
  const devices = await (await new DeviceRegistry__factory(deployer).deploy(carriers, agreements)).waitForDeployment();
  const ledger = await (await new UsageLedger__factory(deployer).deploy(carriers, agreements, 3 * 24 * 3600)).waitForDeployment();
  const token = await (await new SettlementToken__factory(deployer).deploy(deployerAddress)).waitForDeployment();
  const addresses: RoamLedgerAddresses = {
    carrierRegistry: await carriers.getAddress(),
    roamingAgreements: await agreements.getAddress(),
    deviceRegistry: await devices.getAddress(),
    usageLedger: await ledger.getAddress(),
    settlementEscrow: await token.getAddress(),
  };
  const tokenAddress = await token.getAddress();
  await agreeSealed({
    agreements,
    signer: de,
    acceptor: br,
    proposer: PLMN.DE,
    counterparty: PLMN.BR,
    proposerKey: keys.dePrivateKey,
    terms: terms(tokenAddress),
  });
  return { addresses, token: tokenAddress };
}

/**
 * Deploys RoamLedger (the contracts as the Ignition module composes them) with DE and BR as members and
 * their DE-BR agreement in force from the period's start; with `fleet`, DE has registered the template's
 * devices. Copies the template's files into a folder of its own.
 */
export async function deployRunWorld(
  t: CrashTemplate,
  options: { url: string; name: string; fleet: boolean; slot?: number },
): Promise<RunWorld> {
  const { url, name } = options;
  const { provider, wallets } = devWallets(url);
  const from = accountsOf(options.slot ?? 0);
  try {
    const [deployer, de, br] = [wallets[from.deployer], wallets[from.de], wallets[from.br]];
    const dePrivateKey = new Keystore(t.homeDe).encryptionKey("262-01").privateKey;
    const { addresses } = await deployDeBr({ deployer, de, br }, { de: t.dePublicKey, br: t.brPublicKey, dePrivateKey }, (token) =>
      ingestTerms(t.periodStart, token),
    );

    const dir = path.join(t.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    const homeDe = path.join(dir, "home-de");
    const homeBr = path.join(dir, "home-br");
    fs.cpSync(t.homeDe, homeDe, { recursive: true });
    fs.cpSync(t.homeBr, homeBr, { recursive: true });
    const usageFile = path.join(dir, "usage.csv");
    const devicesFile = path.join(dir, "devices.csv");
    fs.copyFileSync(t.generated.usageFile, usageFile);
    fs.copyFileSync(t.generated.devicesFile, devicesFile);
    const deploymentFile = path.join(dir, "deployed_addresses.json");
    writeDeploymentFile(deploymentFile, addresses);
    if (options.fleet) {
      const client = connectRoamLedger(addresses, de);
      const policies = readPolicies(POLICIES, PLMN.DE);
      const lines = await readDevices(devicesFile, { home: PLMN.DE, imsiKey: t.deImsiKey, policyNames: new Set(policies.keys()) });
      const { ids } = await ensurePolicies(
        client,
        policies,
        lines.map((x) => x.policyName),
      );
      await registerDevices(client, lines, { policyIds: ids, batchSize: DEFAULT_REGISTER_BATCH });
    }
    const store = path.join(dir, "store");
    return {
      name,
      dir,
      from,
      addresses,
      deploymentFile,
      homeDe,
      homeBr,
      store,
      usageFile,
      devicesFile,
      workDir: pairWorkDir(homeBr, PLMN.BR, PLMN.DE),
      reader: connectRoamLedger(addresses, new GasFreeProvider(url, CRASH_CHAIN_ID)),
      env: (rpcUrl, home) => ({
        ROAMLEDGER_RPC_URL: rpcUrl,
        ROAMLEDGER_DEPLOYMENT: deploymentFile,
        ROAMLEDGER_HOME: home === "de" ? homeDe : homeBr,
        ROAMLEDGER_STORE: store,
      }),
    };
  } finally {
    provider.destroy();
  }
}

/** `usage:ingest` of the world's usage file by BR for DE, in batches of `batchSize` records. */
export function ingestArgs(t: CrashTemplate, w: RunWorld, batchSize: number): string[] {
  return [
    "usage:ingest",
    "--file",
    w.usageFile,
    "--home",
    "262-01",
    "--period",
    formatPeriod(t.period),
    "--batch-size",
    String(batchSize),
    "--from",
    String(w.from.br),
  ];
}

/** `device:register` of the world's devices file by DE, `batchSize` devices per transaction. */
export function registerArgs(w: RunWorld, batchSize: number): string[] {
  return [
    "device:register",
    "--file",
    w.devicesFile,
    "--policies",
    POLICIES,
    "--batch-size",
    String(batchSize),
    "--from",
    String(w.from.de),
  ];
}

// ------------------------------------------------------------------ what a run leaves behind

const sorted = (xs: Iterable<string>) => [...xs].sort();

/** Files under `dir`, relative, sorted; nothing when it does not exist. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return sorted(fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => fs.statSync(path.join(dir, f)).isFile()));
}

/**
 * What an ingest leaves on-chain and on disk, independent of the deployment's addresses: the batches
 * (ids, statuses, how many submissions), fraud flags (devices, how many events), the period's batch
 * count; BR's state and record-id files, the payload store, the rejects file
 * and which files the work folder holds.
 */
export async function ingestOutcome(t: CrashTemplate, w: RunWorld) {
  const { ledger, devices } = w.reader;
  const submitted = await ledger.queryFilter(ledger.filters.UsageBatchSubmitted(), 0);
  const flags = await devices.queryFilter(devices.filters.FraudFlagged(), 0);
  const batchIds = sorted(submitted.map((e) => e.args.batchId));
  const statuses = await Promise.all(batchIds.map(async (id) => Number((await ledger.getBatch(id)).status)));
  const period = await ledger.getPeriod(PLMN.DE, PLMN.BR, t.period);
  const flagged = sorted(new Set(flags.map((e) => e.args.id)));
  const flaggedStatus = (await devices.getDevices(flagged)).map((d) => Number(d.status));
  const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file).toString("hex") : "(missing)");
  const runs = path.join(w.workDir, "runs");
  return {
    chain: {
      batchIds,
      submissions: submitted.length,
      statuses,
      batchCount: Number(period.batchCount),
      flagged,
      flaggedStatus,
      flagEvents: flags.length,
    },
    local: {
      state: read(path.join(w.workDir, "state.json")),
      ids: read(path.join(w.workDir, `ids-${t.period}.bin`)),
      // Everything but the run journals, whose names and transaction hashes depend on the deployment.
      workDir: filesUnder(w.workDir).filter((f) => !f.startsWith(`runs${path.sep}`)),
      journals: filesUnder(runs).map((f) => (JSON.parse(fs.readFileSync(path.join(runs, f), "utf8")) as { status: string }).status),
      store: filesUnder(w.store),
      rejects: read(`${w.usageFile}.rejects.csv`),
      inputDir: filesUnder(path.dirname(w.usageFile)).filter((f) => !f.includes(path.sep)),
    },
  };
}

/** What a device registration leaves on-chain: every device as registered, registrations and policies. */
export async function registerOutcome(w: RunWorld) {
  const { devices } = w.reader;
  const registered = await devices.queryFilter(devices.filters.DeviceRegistered(), 0);
  const defined = await devices.queryFilter(devices.filters.PolicyDefined(), 0);
  const ids = sorted(registered.map((e) => e.args.id));
  const state = (await devices.getDevices(ids)).map((d) => [
    Number(d.status),
    Number(d.deviceClass),
    d.maker,
    Number(d.policyId),
    Number(d.policyVersion),
  ]);
  return {
    ids,
    registrations: registered.length,
    state,
    policies: defined.map((e) => e.args.contentHash),
    policyCount: Number(await devices.policyCount()),
  };
}
