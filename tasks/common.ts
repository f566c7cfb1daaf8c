import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Signer } from "ethers";
import { BaseError, ConfigError, InputError, type NextStep } from "../lib/core/errors";
import { decodeRevert, nodeConnectionError, nodeRequestError } from "../lib/chain/revert";
import { loadDeployment } from "../lib/chain/deployment";
import { connectRoamLedger, type RoamLedgerClient } from "../lib/chain/client";
import { formatPlmn } from "../lib/core/plmn";
import type { Hex } from "../lib/util/hex";
import { Keystore } from "../lib/keys/keystore";
import { DEV_CHAIN_IDS } from "../lib/dev/clock";
import { cliMessage, setCommandContext } from "./cli/errors";
import { activeProfile, profilesFile, readProfiles, type ActiveProfile } from "./cli/profile";
import { useProfileStore } from "../lib/usage/pair";

export const PLUGIN = "roamledger";

/**
 * True when this process is the CLI running a task directly; false inside `hardhat test` and
 * `hardhat run`, where tasks are called with `hre.run` and their callers want the exception.
 */
function calledFromCli(): boolean {
  // `hardhat run script.ts` runs the script in a child process whose argv is [node, script]: a task
  // called from a script must throw, not just set the exit code.
  const entry = process.argv[1] ?? "";
  if (!/[\\/](hardhat|cli\.js|bootstrap\.js)$/.test(entry)) return false;
  return !process.argv.slice(2).some((a) => a === "test" || a === "run" || a === "coverage");
}

/**
 * Wraps a task action: our errors (bad input, config, decoded reverts, a lost node) are shown as a short message
 * that says what, where and what to do, and the command exits 1 — without the stack trace Hardhat
 * prints on any display-less Linux server. Anything else propagates as is (a bug: keep the trace).
 */
export function action<A>(fn: (args: A, hre: HardhatRuntimeEnvironment) => Promise<void>) {
  return async (args: A, hre: HardhatRuntimeEnvironment) => {
    try {
      enterTask(hre);
      await fn(args, hre);
    } catch (err) {
      const reverted = decodeRevert(err);
      const url = (hre.network.config as { url?: string }).url;
      const network = { name: hre.network.name, url };
      const decoded = reverted instanceof BaseError ? reverted : (nodeConnectionError(err, network) ?? nodeRequestError(err, network));
      if (!decoded) throw err;
      const message = cliMessage(decoded);
      if (!calledFromCli()) throw new HardhatPluginError(PLUGIN, message, decoded);
      console.error(`Error: ${message}`);
      process.exitCode = 1;
    }
  };
}

/** Where the account a command acts as comes from: its `--from`, the active profile, or the default account 0. */
export interface FromChoice {
  from?: string;
  source: "flag" | "profile" | "default";
  profile?: ActiveProfile;
}

let projectRoot = process.cwd();

/** Called by every task (action): the project root the profiles file is found in, and the hints' network. */
function enterTask(hre: HardhatRuntimeEnvironment): void {
  projectRoot = hre.config.paths.root;
  const takes = (operation: string, param: string) => {
    const definition = hre.tasks[operation];
    return definition ? param in definition.paramDefinitions : false;
  };
  setCommandContext({ network: hre.network.name, defaultNetwork: hre.config.defaultNetwork, takes }, { reset: true });
  let store: string | undefined;
  try {
    store = profileNow()?.profile.store;
  } catch {
    // A bad profiles file is reported by the first use of the profile (account, key store), not by tasks that need none.
  }
  useProfileStore(store);
}

/** The active carrier profile (ROAMLEDGER_PROFILE, or the only profile of roamledger.json), if any. */
export function profileNow(): ActiveProfile | undefined {
  return activeProfile(projectRoot);
}

/** The account `--from` names, else the active profile's, else account 0. */
export function chooseFrom(from?: string): FromChoice {
  if (from !== undefined && from !== "") return { from, source: "flag" };
  const profile = profileNow();
  if (profile) return { from: profile.profile.from, source: "profile", profile };
  return { source: "default" };
}

const choices = new WeakMap<object, FromChoice>();

/**
 * The signer named by `--from` (an account index or an address among the network's accounts), else by the
 * active profile's `from`, else the first account.
 */
export async function signerFor(hre: HardhatRuntimeEnvironment, from?: string): Promise<Signer> {
  const choice = chooseFrom(from);
  setCommandContext({ from: choice.source === "flag" ? choice.from : undefined });
  const signer = await pickSigner(hre, choice);
  choices.set(signer, choice);
  return signer;
}

async function pickSigner(hre: HardhatRuntimeEnvironment, choice: FromChoice): Promise<Signer> {
  const signers = await hre.ethers.getSigners();
  if (signers.length === 0) {
    throw new InputError(`network ${hre.network.name} has no accounts configured`, {
      hint: "set ROAMLEDGER_PRIVATE_KEYS (comma-separated operator keys) for this network.",
    });
  }
  const from = choice.from;
  if (from === undefined) return signers[0];
  const named = choice.profile ? `profile ${choice.profile.profile.name} (${choice.profile.source}): "from": ${from}` : `--from ${from}`;
  if (/^\d+$/.test(from)) {
    const signer = signers[Number(from)];
    if (!signer) throw new InputError(`${named}: there are only ${signers.length} accounts (0-${signers.length - 1})`);
    return signer;
  }
  const signer = signers.find((s) => s.address.toLowerCase() === from.toLowerCase());
  if (!signer) {
    throw new InputError(`${named} is not one of the accounts configured for network ${hre.network.name}`, {
      hint: "pass an account index, or configure the operator key for this network.",
    });
  }
  return signer;
}

/** How long a command waits for the account's earlier transactions before giving up (ms). */
export const EARLIER_TRANSACTIONS_TIMEOUT_MS = 120_000;

/**
 * Waits until every transaction the account had sent before now is mined: the node's pending count
 * (its pool included) taken at the start, reached by the mined count.
 *
 * A command killed (crash, SIGKILL, lost terminal) right after the node accepted one of its transactions
 * leaves it in the node's pool; it is mined a moment later, or a block later on a consortium chain. A
 * re-run that starts before that reads the chain without it (those devices not registered yet, that
 * batch not on-chain) and sends the same work again: the copy reverts once mined behind the original
 * (an undecodable failed receipt), or, where the nonce comes from the mined count, it takes the
 * original's nonce and the node refuses it ("replacement transaction underpriced"). Waiting for what the
 * account already sent first makes the re-run see the chain as the killed run left it. Transactions
 * sent after the start (another command from the same account) are not waited for.
 */
export async function waitForEarlierTransactions(
  signer: Signer,
  options: { timeoutMs?: number; pollMs?: number; log?: (line: string) => void } = {},
): Promise<void> {
  const provider = signer.provider;
  if (!provider) return;
  const address = await signer.getAddress();
  const [pending, mined] = await Promise.all([
    provider.getTransactionCount(address, "pending"),
    provider.getTransactionCount(address, "latest"),
  ]);
  if (pending <= mined) return;
  const timeoutMs = options.timeoutMs ?? EARLIER_TRANSACTIONS_TIMEOUT_MS;
  const pollMs = options.pollMs ?? 250;
  const log = options.log ?? ((line: string) => process.env.ROAMLEDGER_QUIET !== "1" && console.error(line));
  const what = `${pending - mined} transaction${pending - mined === 1 ? "" : "s"} of ${address} (nonce ${mined}${pending - mined > 1 ? `-${pending - 1}` : ""})`;
  log(`Waiting for ${what}, sent before this command started and still pending in the node's pool, to be mined...`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    if ((await provider.getTransactionCount(address, "latest")) >= pending) return;
    if (Date.now() >= deadline) {
      throw new ConfigError(`${what} still not mined after ${Math.round(timeoutMs / 1000)} s`, {
        details:
          "They were sent before this command started (by an earlier run that was interrupted, or another program using the account), " +
          "and the node keeps them in its pool without mining them. Sending now would act on a chain that misses them.",
        hint: "check that the network produces blocks, then run the command again; a transaction the node will never mine must be replaced (same nonce) or dropped from the pool.",
      });
    }
  }
}

/**
 * The deployment of the current network, connected for `--from` (or read-only). For a command that
 * sends (`sends`, the default), the account's transactions still pending from before (see
 * waitForEarlierTransactions) are mined first, so the command reads the chain with them; commands that
 * only read pass `{ sends: false }` and never wait.
 */
export async function clientFor(
  hre: HardhatRuntimeEnvironment,
  from?: string,
  options: { sends?: boolean } = {},
): Promise<RoamLedgerClient> {
  const { chainId } = await hre.ethers.provider.getNetwork();
  const addresses = loadDeployment(hre.config.paths.root, chainId);
  for (const [name, address] of Object.entries(addresses)) {
    if ((await hre.ethers.provider.getCode(address)) === "0x") {
      throw new ConfigError(`No ${name} contract at ${address} on network ${hre.network.name}`, {
        details:
          hre.network.name === "hardhat"
            ? "The in-process hardhat network starts empty for every command; it shares chain id 31337 with localhost."
            : "The deployment record is from another chain, or the local node was restarted since.",
        hint:
          hre.network.name === "hardhat"
            ? "run `npx hardhat node` and pass --network localhost (or --network besu) to every command."
            : `deploy again with \`npx hardhat deploy --network ${hre.network.name}\`, or set ROAMLEDGER_DEPLOYMENT.`,
      });
    }
  }
  const signer = await signerFor(hre, from);
  if (options.sends !== false) await waitForEarlierTransactions(signer);
  const client = connectRoamLedger(addresses, signer);
  const choice = choices.get(signer);
  if (choice) choices.set(client, choice);
  return client;
}

/** The member the client's signer operates for, checked active with `role` (decoded revert otherwise). */
export async function memberOfSigner(client: RoamLedgerClient, role: number): Promise<{ plmn: Hex; text: string }> {
  const address = await (client.runner as Signer).getAddress();
  await checkOperatorChoice(client, address);
  const plmn = (await client.carriers.requireActiveOperator(address, role)) as Hex;
  return { plmn, text: formatPlmn(plmn) };
}

/**
 * The member the signer operates for with `role` and the operator `permission` bits, active or suspended: for
 * the calls a suspended member keeps (its defences: deciding and disputing usage, deposits and withdrawals of
 * what nothing reserves, invoices, settling; THREATS F5). The registry's revert when it is none.
 */
export async function defendingMemberOfSigner(
  client: RoamLedgerClient,
  role: number,
  permission: number,
): Promise<{ plmn: Hex; text: string }> {
  const address = await (client.runner as Signer).getAddress();
  await checkOperatorChoice(client, address);
  const plmn = (await client.carriers.requireDefendingOperator(address, role, permission)) as Hex;
  return { plmn, text: formatPlmn(plmn) };
}

/**
 * Before a member command: the account it runs as operates for a member, and for the profile's member when
 * the account comes from a profile. Says which account it is and how to choose another, instead of the
 * registry's bare revert.
 */
async function checkOperatorChoice(client: RoamLedgerClient, address: string): Promise<void> {
  const choice = choices.get(client);
  if (!choice) return;
  const member = (await client.carriers.memberOf(address)) as Hex;
  const none = member === "0x000000";
  if (choice.source === "default" && none) {
    throw new ConfigError(`set ROAMLEDGER_PROFILE or pass --from: account 0 (${address}) is not an operator of any member`, {
      details: "Account 0 is the deployment's infrastructure account; member commands run as the carrier's operator account.",
      hint: "create a profile once (`npx hardhat profile:add --name <name> --plmn <MCC-MNC> --from <account>`) and set ROAMLEDGER_PROFILE=<name>, or pass --from <account>; `npx hardhat carrier:list` shows each member's operators.",
    });
  }
  const profile = choice.profile?.profile;
  if (choice.source === "profile" && profile && (none || formatPlmn(member) !== profile.plmn)) {
    throw new ConfigError(`account ${address} is not an operator of ${profile.plmn} (profile ${profile.name}, ${choice.profile?.source})`, {
      details: none ? "It operates for no member." : `It operates for ${formatPlmn(member)}.`,
      hint: `set "from" of profile ${profile.name} in ${profile.file} to an operator account of ${profile.plmn} (\`npx hardhat carrier:list\` shows them), or pass --from.`,
    });
  }
}

/**
 * The carrier's key store: the one given by `--keystore`, else the active profile's, else ROAMLEDGER_HOME or
 * ./.roamledger.
 */
export function keystoreFor(dir?: string): Keystore {
  if (dir) return new Keystore(dir);
  const profileStore = profileNow()?.profile.keystore;
  return new Keystore(profileStore || undefined);
}

/**
 * A next step that `member` (not the caller) runs, for a hint: named by its carrier profile when the profiles
 * file has one for it, else by its first operator account (its index when it is one of this network's
 * accounts), so that the printed command pastes and runs as that member.
 */
export async function stepBy(
  hre: HardhatRuntimeEnvironment,
  client: RoamLedgerClient,
  member: Hex,
  next: { operation: string; args?: Record<string, string> },
): Promise<NextStep> {
  const text = formatPlmn(member);
  let profiles: string[] = [];
  try {
    profiles = readProfiles(profilesFile(projectRoot))
      .filter((p) => p.plmn === text)
      .map((p) => p.name);
  } catch {
    // a bad profiles file is reported when a command uses it; the hint names the account instead
  }
  if (profiles.length > 0) return { ...next, by: { member: text, profile: profiles[0] } };
  const operators = (await client.carriers.operatorsOf(member)) as string[];
  if (operators.length === 0) return { ...next, by: { member: text } };
  const signers = await hre.ethers.getSigners();
  const index = signers.findIndex((s) => s.address.toLowerCase() === operators[0].toLowerCase());
  return { ...next, by: { member: text, account: index >= 0 ? String(index) : operators[0] } };
}

/**
 * True on a development chain (the in-process hardhat network, or a local node with a development chain id:
 * 31337 or 1337, as dev:time takes them), where dev-only tasks and shortcuts may run.
 */
export async function isDevelopmentChain(hre: HardhatRuntimeEnvironment): Promise<boolean> {
  if (hre.network.name === "hardhat") return true;
  const { chainId } = await hre.ethers.provider.getNetwork();
  return DEV_CHAIN_IDS.includes(Number(chainId));
}

/** Prints a line to stdout (tasks' results) — one place, so tests can silence it. */
export function out(line = ""): void {
  if (process.env.ROAMLEDGER_QUIET !== "1") console.log(line);
}
