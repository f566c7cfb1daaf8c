import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { FeeData, HDNodeWallet, JsonRpcProvider, SigningKey, Wallet, hexlify, randomBytes } from "ethers";
import { createPublicClient, http, type PublicClient } from "viem";
import { connectRoamLedger, type RoamLedgerClient } from "../../lib/chain/client";
import { addressesFromIgnition, type RoamLedgerAddresses } from "../../lib/chain/deployment";
import { Keystore } from "../../lib/keys/keystore";
import { parsePlmn } from "../../lib/core/plmn";
import type { Hex } from "../../lib/util/hex";
import { DEV_MNEMONIC, atExit, rpc, spawnTracked, startAnvil, tail, type LocalNode } from "./node";

/**
 * The multi-carrier integration tests run against a separate node over standard `eth_*` JSON-RPC
 * only, so they run unchanged on Besu:
 *
 *   npx hardhat test test/integration                 # starts anvil (test/helpers/node.ts)
 *   npx hardhat test test/integration --network besu  # uses ROAMLEDGER_BESU_RPC_URL and
 *                                                     # ROAMLEDGER_PRIVATE_KEYS (5 keys), starts nothing
 *
 * Tasks run as real `hardhat` subprocesses against the `besu` network of config/base.ts (pointed
 * at anvil when anvil is the node), each carrier with its own key store; library calls use plain
 * ethers wallets and viem clients, as a carrier backend would. Nothing is written into the
 * repository: deployment records, key stores and input files live in a temporary folder.
 *
 * Later steps (usage ingestion, settlement) build on {@link IntegrationNetwork} and {@link Member}.
 */

/** The members every integration test starts from, and the index of their account. */
export const MEMBERS = {
  de: { index: 1, plmn: "262-01", name: "Telekom Deutschland IoT", roles: ["carrier", "governor"] },
  us: { index: 2, plmn: "310-410", name: "US Mobile IoT", roles: ["carrier", "governor"] },
  br: { index: 3, plmn: "724-05", name: "Vivo Brasil", roles: ["carrier", "governor"] },
  maker: { index: 4, plmn: "999-01", name: "Acme Smart Meters", roles: ["device-maker"] },
} as const;
export type MemberKey = keyof typeof MEMBERS;
/** Accounts the tests need: the deployer (index 0, an infrastructure account) and one per member. */
export const ACCOUNTS_NEEDED = 5;

/** A JSON-RPC provider for a gas-free chain: every transaction it populates has gas price 0. */
export class GasFreeProvider extends JsonRpcProvider {
  constructor(url: string, chainId: number) {
    super(url, chainId, { staticNetwork: true, pollingInterval: 200 });
  }

  override async getFeeData(): Promise<FeeData> {
    return new FeeData(0n, null, null);
  }
}

export interface IntegrationNetwork {
  /** The Hardhat network the task subprocesses use (`besu`, or the one the tests run on). */
  networkName: string;
  url: string;
  chainId: number;
  provider: GasFreeProvider;
  /** viem client on the same node. */
  publicClient: PublicClient;
  /** deployer, DE, US, BR, maker, ... */
  wallets: Wallet[];
  /** Temporary folder of this run: deployment records, key stores, input files. */
  dir: string;
  /** Environment of the task subprocesses. */
  env: Record<string, string>;
  /** Where the deploy task writes the deployment record (ROAMLEDGER_DEPLOYMENT of later tasks). */
  deploymentFile: string;
  /** Stops what the tests started and removes the temporary folder. */
  close(): Promise<void>;
}

function httpUrl(): string | undefined {
  const config = hre.network.config as { url?: string };
  return config.url;
}

/**
 * The node to test against: a fresh anvil when the tests run on the in-process hardhat network,
 * else the network they run on (its URL and private keys; nothing is started).
 */
export async function openIntegrationNetwork(): Promise<IntegrationNetwork> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-integration-"));
  const removeDir = () => fs.rmSync(dir, { recursive: true, force: true });
  const forget = atExit(removeDir);
  let node: LocalNode | undefined;
  let networkName: string;
  let url: string;
  let chainId: number;
  let keys: string[];
  const env: Record<string, string> = { ROAMLEDGER_IGNITION_DIR: path.join(dir, "ignition") };
  try {
    if (hre.network.name === "hardhat") {
      node = await startAnvil();
      url = node.url;
      chainId = node.chainId;
      keys = Array.from({ length: 8 }, (_, i) => HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey);
      // The subprocesses use the besu network of config/base.ts, pointed at anvil: the very
      // configuration a consortium uses (gas price 0, local signing, chain id checked).
      networkName = "besu";
      Object.assign(env, {
        ROAMLEDGER_BESU_RPC_URL: url,
        ROAMLEDGER_BESU_CHAIN_ID: String(chainId),
        ROAMLEDGER_PRIVATE_KEYS: keys.join(","),
      });
    } else {
      networkName = hre.network.name;
      url = httpUrl() ?? "";
      const accounts = (hre.network.config as { accounts?: unknown }).accounts;
      if (!url || !Array.isArray(accounts) || accounts.length < ACCOUNTS_NEEDED) {
        throw new Error(
          `network ${networkName} needs an http url and at least ${ACCOUNTS_NEEDED} private keys (deployer, DE, US, BR, maker operators); ` +
            "for besu set ROAMLEDGER_BESU_RPC_URL and ROAMLEDGER_PRIVATE_KEYS (docs/besu.md).",
        );
      }
      keys = accounts.map(String);
      chainId = Number(await rpc<string>(url, "eth_chainId"));
    }
  } catch (err) {
    await node?.stop();
    removeDir();
    forget();
    throw err;
  }
  const provider = new GasFreeProvider(url, chainId);
  return {
    networkName,
    url,
    chainId,
    provider,
    publicClient: createPublicClient({ transport: http(url) }) as PublicClient,
    wallets: keys.map((k) => new Wallet(k, provider)),
    dir,
    env,
    deploymentFile: path.join(dir, "ignition", "deployments", `chain-${chainId}`, "deployed_addresses.json"),
    close: async () => {
      provider.destroy();
      await node?.stop();
      removeDir();
      forget();
    },
  };
}

// ------------------------------------------------------------------ tasks as subprocesses

const HARDHAT_CLI = require.resolve("hardhat/internal/cli/cli.js");

/** How a `hardhat` subprocess ended, and the last 64 KiB of what it printed. */
export interface HardhatExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface HardhatCliOptions {
  /** The Hardhat network of the run (`--network`). */
  network: string;
  /** Its whole environment (HARDHAT_NETWORK is dropped: `--network` decides). */
  env: NodeJS.ProcessEnv;
  /** SIGKILL after this long. */
  timeoutMs: number;
  /** Options of node itself, before the Hardhat CLI (`--require hook.js`). */
  nodeArgs?: readonly string[];
  /** Sees the child as soon as it is spawned (to kill it at a chosen moment). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Runs `hardhat <args> --network <network>` in the repository as a subprocess, as an operator would, and waits for its exit. */
export async function runHardhatCli(args: readonly string[], options: HardhatCliOptions): Promise<HardhatExit> {
  const env = { ...options.env };
  delete env.HARDHAT_NETWORK;
  const child = spawnTracked(process.execPath, [...(options.nodeArgs ?? []), HARDHAT_CLI, ...args, "--network", options.network], {
    cwd: hre.config.paths.root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout = tail(child.stdout, 64 * 1024);
  const stderr = tail(child.stderr, 64 * 1024);
  options.onSpawn?.(child);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (c, sig) => resolve([c, sig]));
  }).finally(() => clearTimeout(timer));
  return { code, signal, stdout: stdout(), stderr: stderr(), timedOut };
}

/** What a task printed. */
export interface TaskRun {
  stdout: string;
  stderr: string;
}

/**
 * Runs `hardhat <args> --network <network>` in a subprocess, as an operator would, with the
 * carrier's key store in ROAMLEDGER_HOME. Rejects with the task's output when it exits non-zero.
 */
export async function runTask(
  net: IntegrationNetwork,
  args: readonly string[],
  options: { home?: string; timeoutMs?: number } = {},
): Promise<TaskRun> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...net.env,
    ROAMLEDGER_DEPLOYMENT: net.deploymentFile,
    ROAMLEDGER_QUIET: "",
  };
  if (options.home) env.ROAMLEDGER_HOME = options.home;
  else delete env.ROAMLEDGER_HOME;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const exit = await runHardhatCli(args, { network: net.networkName, env, timeoutMs });
  const run = { stdout: exit.stdout, stderr: exit.stderr };
  if (exit.code !== 0) {
    const why = exit.timedOut ? `timed out after ${timeoutMs / 1000} s` : `exited with ${exit.code}`;
    throw new Error(`hardhat ${args.join(" ")} ${why}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
  }
  return run;
}

// ------------------------------------------------------------------ the consortium

/** A member as the tests drive it: its operator wallet, its own key store, its clients. */
export interface Member {
  key: MemberKey;
  plmn: string;
  plmnHex: Hex;
  name: string;
  roles: readonly string[];
  /** Index of its account in the network's accounts (`--from`). */
  from: string;
  wallet: Wallet;
  /** Its key store folder (ROAMLEDGER_HOME of its task runs). */
  home: string;
  keystore: Keystore;
}

export function membersOf(net: IntegrationNetwork): Record<MemberKey, Member> {
  const out = {} as Record<MemberKey, Member>;
  for (const [key, m] of Object.entries(MEMBERS) as [MemberKey, (typeof MEMBERS)[MemberKey]][]) {
    const home = path.join(net.dir, `home-${key}`);
    out[key] = {
      key,
      plmn: m.plmn,
      plmnHex: parsePlmn(m.plmn),
      name: m.name,
      roles: m.roles,
      from: String(m.index),
      wallet: net.wallets[m.index],
      home,
      keystore: new Keystore(home),
    };
  }
  return out;
}

/** A valid compressed secp256k1 public key nobody holds the private key of (a placeholder). */
export function placeholderEncryptionKey(): string {
  return SigningKey.computePublicKey(hexlify(randomBytes(32)), true);
}

export interface Deployment {
  addresses: RoamLedgerAddresses;
  /** The development SettlementToken (`deploy --dev-token`). */
  token: string;
  run: TaskRun;
}

/**
 * Deploys RoamLedger with the `deploy` task (Ignition): the deployer (account 0) as infrastructure
 * account, each member with its operator account and the encryption key given in `keys` (default:
 * the member's own key store key). `submissionGraceDays`: the usage ledger's grace after a period's end
 * (default 3).
 */
export async function deployWithTask(
  net: IntegrationNetwork,
  members: Record<MemberKey, Member>,
  options: { keys?: Partial<Record<MemberKey, string>>; submissionGraceDays?: number } = {},
): Promise<Deployment> {
  const keys = options.keys ?? {};
  const parameters = {
    thresholdBps: 5001,
    proposalLifetimeDays: 7,
    submissionGraceDays: options.submissionGraceDays ?? 3,
    infraAccounts: [net.wallets[0].address],
    members: Object.values(members).map((m) => ({
      plmn: m.plmn,
      name: m.name,
      roles: m.roles,
      operators: [m.wallet.address],
      encryptionKey: keys[m.key] ?? m.keystore.ensureEncryptionKey(m.plmn).publicKey,
    })),
  };
  const file = path.join(net.dir, "deploy-parameters.json");
  fs.writeFileSync(file, `${JSON.stringify(parameters, null, 2)}\n`);
  const run = await runTask(net, ["deploy", "--parameters", file, "--dev-token"]);
  const deployed = JSON.parse(fs.readFileSync(net.deploymentFile, "utf8")) as Record<string, string>;
  const token = deployed["SettlementToken#SettlementToken"];
  if (!token) throw new Error(`no SettlementToken in ${net.deploymentFile}`);
  return { addresses: addressesFromIgnition(deployed, net.deploymentFile), token, run };
}

/** The typed ethers client of a member (its operator wallet signs, gas price 0). */
export function clientOf(member: Member, addresses: RoamLedgerAddresses): RoamLedgerClient {
  return connectRoamLedger(addresses, member.wallet);
}

// ------------------------------------------------------------------ input files

/** Time of the latest block (the chain's clock, not this machine's). */
export async function chainTime(net: IntegrationNetwork): Promise<number> {
  return (await net.provider.getBlock("latest"))!.timestamp;
}

/**
 * A devices CSV (docs/devices.md) of `n` devices of `plmn`, with the policies of
 * test/fixtures/policies.json: NB-IoT meters made by 999-01, LTE-M trackers, every 50th a 5G drone.
 * IMSIs are the PLMN digits followed by the device number.
 */
export function writeDevicesCsv(file: string, plmn: string, n: number): string[] {
  const digits = plmn.replace("-", "");
  const imsis: string[] = [];
  const lines = ["imsi,class,policy,maker"];
  for (let i = 0; i < n; i++) {
    const imsi = `${digits}${String(i).padStart(15 - digits.length, "0")}`;
    const [cls, policy, maker] =
      i % 50 === 49 ? ["5g", "drone", ""] : i % 3 === 2 ? ["lte-m", "tracker", ""] : ["nb-iot", "meter", "999-01"];
    lines.push(`${imsi},${cls},${policy},${maker}`);
    imsis.push(imsi);
  }
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
  return imsis;
}
