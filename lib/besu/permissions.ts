/**
 * Besu's local permissioning kept in step with the consortium's registry. Besu removed contract-based
 * ("onchain") permissioning in 25.6.0; what remains is each node's local allowlists (`permissions_config.toml`:
 * `accounts-allowlist`, `nodes-allowlist`), changed at runtime through the PERM JSON-RPC API. Each carrier
 * reconciles its own node: the desired lists come from the chain (operators of active members, accounts with a
 * pending operator offer from an active member, infrastructure accounts, the nodes of active members, and the
 * node's own enode), the current ones from the node (`perm_getAccountsAllowlist`, `perm_getNodesAllowlist`),
 * and the difference is applied: additions first, then removals. Every run recomputes from the node's lists,
 * so a run cut short by a crash is finished by the next; a run with nothing to do sends nothing. The node's own
 * enode and the infrastructure accounts are never removed.
 */
import { getAddress } from "ethers";
import type { RoamLedgerClient } from "../chain/client";
import { ConfigError, InputError } from "../core/errors";
import { allNodes, formatEnode } from "../consortium/nodes";
import { NO_MEMBER } from "../consortium/members";
import { writeFileAtomic } from "../util/fsAtomic";
import { providerOf } from "../chain/send";

const ACTIVE = 1n;
/** Entries per perm_add* call: Besu documents no limit; this keeps each request small. */
const BATCH = 50;

/** What the registry says a node's allowlists should hold. */
export interface DesiredAllowlists {
  /** Lower-case addresses, sorted. */
  accounts: string[];
  /** Enode URLs (`enode://id@host:port`), sorted. */
  nodes: string[];
  /** Accounts never removed: the infrastructure accounts (lower case). */
  protectedAccounts: string[];
}

/** A JSON-RPC error of the node, with its code and message as Besu sends them. */
export class BesuRpcError extends Error {
  override name = "BesuRpcError";
  constructor(
    readonly method: string,
    readonly code: number,
    readonly rpcMessage: string,
  ) {
    super(`${method}: ${rpcMessage} (JSON-RPC error ${code})`);
  }
}

/** A minimal JSON-RPC client for the node's PERM methods. */
export interface PermRpc {
  call(method: string, params?: unknown[]): Promise<unknown>;
}

/** Hints for the errors Besu answers when the node is not set up for this (messages as Besu words them). */
function setupError(url: string, err: BesuRpcError): ConfigError | undefined {
  if (err.code === -32601) {
    return new ConfigError(`the node at ${url} does not offer ${err.method}`, {
      hint: "enable the PERM API on the node's loopback RPC (--rpc-http-api=...,PERM) and run this command on the node's host.",
    });
  }
  const what = /^(Account|Node) allowlist has not been enabled/.exec(err.rpcMessage);
  if (what) {
    const option = what[1] === "Account" ? "--permissions-accounts-config-file-enabled" : "--permissions-nodes-config-file-enabled";
    return new ConfigError(`the node at ${url} has no ${what[1].toLowerCase()} allowlist`, {
      hint: `start Besu with ${option}=true and --permissions-*-config-file pointing at a permissions_config.toml (--write-config writes the first one).`,
    });
  }
  return undefined;
}

/** A PermRpc over HTTP (fetch), with the node's errors turned into BesuRpcError and connection failures into ConfigError. */
export function httpPermRpc(url: string): PermRpc {
  let id = 0;
  return {
    async call(method: string, params: unknown[] = []): Promise<unknown> {
      let body: { result?: unknown; error?: { code: number; message: string } };
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
        });
        body = (await res.json()) as typeof body;
      } catch (cause) {
        throw new ConfigError(`cannot reach the Besu node at ${url} (${method})`, {
          hint: "check that the node runs and that --node is its loopback JSON-RPC URL (e.g. http://127.0.0.1:8545).",
          cause,
        });
      }
      if (body.error) {
        const err = new BesuRpcError(method, body.error.code, body.error.message);
        throw setupError(url, err) ?? err;
      }
      return body.result;
    },
  };
}

/**
 * Key of an enode URL for comparison: node id, host and listening port, what Besu matches on
 * (EnodeURLImpl.sameListeningEndpoint), whatever the query (`?discport=0` included) or the case of the hex.
 * A string that is no enode URL is its own key.
 */
export function enodeKey(url: string): string {
  const m = /^enode:\/\/([0-9a-fA-F]{128})@(\[[^\]]+\]|[^:/?]+):(\d+)/.exec(url.trim());
  if (!m) return url.trim();
  const host = m[2].replace(/^\[|\]$/g, "").toLowerCase();
  return `${m[1].toLowerCase()}@${host}:${Number(m[3])}`;
}

/** Blocks per eth_getLogs request: Besu's default --rpc-max-logs-range is 5000. */
export const LOGS_RANGE = 5000;

/**
 * The registry's infrastructure-account and operator-offer events, scanned in ranges of LOGS_RANGE blocks
 * from `fromBlock` and remembered: a later call scans only the blocks since. It gathers candidates; whether
 * each is still an infrastructure account or a pending offer is read from the registry's state every time.
 */
export class RegistryScanner {
  private scannedTo: number;
  readonly infraCandidates = new Set<string>();
  /** "plmn account" pairs. */
  readonly offerCandidates = new Set<string>();

  constructor(fromBlock = 0) {
    this.scannedTo = fromBlock - 1;
  }

  async scan(client: RoamLedgerClient): Promise<void> {
    const head = await providerOf(client.runner).getBlockNumber();
    const carriers = client.carriers;
    for (let from = this.scannedTo + 1; from <= head; from += LOGS_RANGE) {
      const to = Math.min(head, from + LOGS_RANGE - 1);
      const [infra, offers] = await Promise.all([
        carriers.queryFilter(carriers.filters.InfraAccountSet(), from, to),
        carriers.queryFilter(carriers.filters.OperatorOffered(), from, to),
      ]);
      for (const e of infra) this.infraCandidates.add(getAddress(e.args.account));
      for (const e of offers) this.offerCandidates.add(`${e.args.plmn.toLowerCase()} ${getAddress(e.args.account)}`);
      this.scannedTo = to;
    }
  }
}

/** Infrastructure accounts allowed now (candidates from InfraAccountSet events, checked against isInfraAccount). */
async function infraAccounts(client: RoamLedgerClient, scanner: RegistryScanner): Promise<string[]> {
  const seen = [...scanner.infraCandidates];
  const allowed = await Promise.all(seen.map((a) => client.carriers.isInfraAccount(a)));
  return seen.filter((_, i) => allowed[i]).map((a) => a.toLowerCase());
}

/** Accounts with a pending offer from an active member that operate for nobody yet: they must send acceptOperator. */
async function offeredAccounts(client: RoamLedgerClient, scanner: RegistryScanner, active: Set<string>): Promise<string[]> {
  const offers = [...scanner.offerCandidates].map((pair) => pair.split(" ")).filter(([plmn]) => active.has(plmn));
  const pending = await Promise.all(
    offers.map(async ([plmn, account]) => {
      const [offer, member] = await Promise.all([client.carriers.operatorOffer(account, plmn), client.carriers.memberOf(account)]);
      return offer[0] !== 0n && member === NO_MEMBER ? account.toLowerCase() : undefined;
    }),
  );
  return pending.filter((a): a is string => a !== undefined);
}

/**
 * The allowlists the registry asks for: accounts of active members' operators, pending offers from active
 * members and infrastructure accounts; nodes of active members, plus `selfEnode` when given.
 */
export async function desiredAllowlists(
  client: RoamLedgerClient,
  selfEnode?: string,
  scanner: RegistryScanner = new RegistryScanner(),
): Promise<DesiredAllowlists> {
  await scanner.scan(client);
  const ids = (await client.carriers.memberIds()).map((id) => (id as string).toLowerCase());
  const members = await Promise.all(ids.map((id) => client.carriers.getMember(id)));
  const active = new Set(ids.filter((_, i) => members[i].status === ACTIVE));
  const operators = (await Promise.all([...active].map((id) => client.carriers.operatorsOf(id)))).flat().map((a) => a.toLowerCase());
  const [infra, offered, nodes] = await Promise.all([
    infraAccounts(client, scanner),
    offeredAccounts(client, scanner, active),
    allNodes(client),
  ]);
  const nodeUrls = nodes.filter((n) => active.has(n.plmn)).map(formatEnode);
  if (selfEnode !== undefined && !nodeUrls.some((n) => enodeKey(n) === enodeKey(selfEnode))) nodeUrls.push(selfEnode.trim());
  return {
    accounts: [...new Set([...operators, ...infra, ...offered])].sort(),
    nodes: [...new Set(nodeUrls)].sort(),
    protectedAccounts: infra.sort(),
  };
}

/** What a reconciliation changes (or would change, on a dry run). */
export interface PermissionsDiff {
  addAccounts: string[];
  removeAccounts: string[];
  addNodes: string[];
  /** The node's own entries, as the node wrote them. */
  removeNodes: string[];
}

/** The difference between the node's lists and the desired ones; never removes `selfEnode` or a protected account. */
export function permissionsDiff(
  current: { accounts: string[]; nodes: string[] },
  desired: DesiredAllowlists,
  selfEnode?: string,
): PermissionsDiff {
  const haveAccounts = new Set(current.accounts.map((a) => a.toLowerCase()));
  const wantAccounts = new Set([...desired.accounts, ...desired.protectedAccounts]);
  const haveNodes = new Set(current.nodes.map(enodeKey));
  const wantNodes = new Set(desired.nodes.map(enodeKey));
  const self = selfEnode === undefined ? undefined : enodeKey(selfEnode);
  return {
    addAccounts: desired.accounts.filter((a) => !haveAccounts.has(a)),
    removeAccounts: current.accounts.filter((a) => !wantAccounts.has(a.toLowerCase())),
    addNodes: desired.nodes.filter((n) => !haveNodes.has(enodeKey(n))),
    removeNodes: current.nodes.filter((n) => !wantNodes.has(enodeKey(n)) && enodeKey(n) !== self),
  };
}

/** True when the diff changes nothing. */
export const diffIsEmpty = (d: PermissionsDiff): boolean =>
  d.addAccounts.length + d.removeAccounts.length + d.addNodes.length + d.removeNodes.length === 0;

const asList = (method: string, value: unknown): string[] => {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new ConfigError(`the node answered ${method} with something other than a list of strings`, { hint: "is --node a Besu node?" });
  }
  return value as string[];
};

/** The node's current allowlists. */
export async function currentAllowlists(rpc: PermRpc): Promise<{ accounts: string[]; nodes: string[] }> {
  const accounts = asList("perm_getAccountsAllowlist", await rpc.call("perm_getAccountsAllowlist"));
  const nodes = asList("perm_getNodesAllowlist", await rpc.call("perm_getNodesAllowlist"));
  return { accounts, nodes };
}

/** The node's own enode URL (net_enode), or undefined when the node does not say (NET API off). */
export async function nodeOwnEnode(rpc: PermRpc): Promise<string | undefined> {
  try {
    const enode = await rpc.call("net_enode");
    return typeof enode === "string" ? enode : undefined;
  } catch (err) {
    if (err instanceof BesuRpcError || err instanceof ConfigError) return undefined;
    throw err;
  }
}

/**
 * What one run did: the diff, the nodes Besu refused to remove (bootnodes and static nodes are fixed), and
 * the registered nodes it refused to add (a host name on a node without DNS enabled, or any entry Besu
 * finds invalid: the registry's host check is looser than Besu's).
 */
export interface ReconcileResult {
  diff: PermissionsDiff;
  applied: boolean;
  fixedNodesKept: string[];
  invalidNodesSkipped: string[];
}

async function inBatches(rpc: PermRpc, method: string, items: string[]): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await rpc.call(method, [items.slice(i, i + BATCH)]);
}

const refusedAs = (err: unknown, message: string) => err instanceof BesuRpcError && err.rpcMessage.startsWith(message);

/**
 * Adds nodes in batches. Besu refuses a whole request that names one node it finds invalid, and any member can
 * register such a node (a DNS name where the node has no DNS): a refused batch is added again one node at a
 * time, and the nodes Besu refuses are returned, so one member's entry cannot stop everyone's reconciliation
 * (the removals after it included).
 */
async function addNodes(rpc: PermRpc, nodes: string[]): Promise<string[]> {
  const invalid: string[] = [];
  for (let i = 0; i < nodes.length; i += BATCH) {
    const batch = nodes.slice(i, i + BATCH);
    try {
      await rpc.call("perm_addNodesToAllowlist", [batch]);
    } catch (err) {
      if (!refusedAs(err, "Request contains an invalid node")) throw err;
      invalid.push(...(await oneByOne(rpc, "perm_addNodesToAllowlist", batch, "Request contains an invalid node")));
    }
  }
  return invalid;
}

/** Removes nodes one by one: Besu refuses a whole request that names a fixed node (a bootnode or static node). */
async function removeNodes(rpc: PermRpc, nodes: string[]): Promise<string[]> {
  return oneByOne(rpc, "perm_removeNodesFromAllowlist", nodes, "Cannot remove a fixed node");
}

/** Sends `method` for each node alone; returns the nodes Besu refused with `refusal` (any other error is thrown). */
async function oneByOne(rpc: PermRpc, method: string, nodes: string[], refusal: string): Promise<string[]> {
  const refused: string[] = [];
  for (const node of nodes) {
    try {
      await rpc.call(method, [[node]]);
    } catch (err) {
      if (!refusedAs(err, refusal)) throw err;
      refused.push(node);
    }
  }
  return refused;
}

/**
 * One reconciliation of the node behind `rpc` with the registry: reads both, applies the difference (unless
 * `dryRun`), additions before removals. `selfEnode` defaults to what the node says (net_enode).
 */
export async function reconcilePermissions(
  client: RoamLedgerClient,
  rpc: PermRpc,
  options: { selfEnode?: string; dryRun?: boolean; scanner?: RegistryScanner } = {},
): Promise<ReconcileResult> {
  const selfEnode = options.selfEnode ?? (await nodeOwnEnode(rpc));
  const [desired, current] = await Promise.all([desiredAllowlists(client, selfEnode, options.scanner), currentAllowlists(rpc)]);
  const diff = permissionsDiff(current, desired, selfEnode);
  if (options.dryRun || diffIsEmpty(diff)) return { diff, applied: false, fixedNodesKept: [], invalidNodesSkipped: [] };
  await inBatches(rpc, "perm_addAccountsToAllowlist", diff.addAccounts);
  const invalidNodesSkipped = await addNodes(rpc, diff.addNodes);
  await inBatches(rpc, "perm_removeAccountsFromAllowlist", diff.removeAccounts);
  const fixedNodesKept = await removeNodes(rpc, diff.removeNodes);
  return { diff, applied: true, fixedNodesKept, invalidNodesSkipped };
}

const tomlList = (items: string[]) => `[${items.map((i) => JSON.stringify(i)).join(", ")}]`;

/** `permissions_config.toml` as Besu reads it: `accounts-allowlist` and `nodes-allowlist`. */
export function allowlistsToml(desired: DesiredAllowlists, source: string): string {
  return [
    `# Besu local permissioning, written by besu:permissions from ${source}.`,
    "# Kept in step at runtime by `besu:permissions --node URL --follow` (PERM JSON-RPC API).",
    `accounts-allowlist=${tomlList(desired.accounts)}`,
    `nodes-allowlist=${tomlList(desired.nodes)}`,
    "",
  ].join("\n");
}

/** Writes `permissions_config.toml` for a node's first start, atomically (a temp file renamed over it). */
export function writePermissionsConfig(file: string, desired: DesiredAllowlists, source: string): void {
  if (desired.accounts.length === 0) {
    throw new InputError("the registry allows no account: the file would lock every account out", { location: { param: "writeConfig" } });
  }
  writeFileAtomic(file, allowlistsToml(desired, source));
}

/** The registry events after which the allowlists may change. */
export const RELEVANT_EVENTS = {
  carriers: [
    "MemberAdmitted",
    "MemberSuspended",
    "MemberReinstated",
    "OperatorAdded",
    "OperatorRemoved",
    "OperatorOffered",
    "InfraAccountSet",
  ],
  nodes: ["NodeRegistered", "NodeRemoved"],
} as const;

/** How many relevant registry events happened in blocks `from`..`to` (queried in ranges of LOGS_RANGE). */
export async function relevantEventsBetween(client: RoamLedgerClient, from: number, to: number): Promise<number> {
  const { carriers, nodes } = client;
  let count = 0;
  for (let start = from; start <= to; start += LOGS_RANGE) {
    const end = Math.min(to, start + LOGS_RANGE - 1);
    const carrierLogs = await Promise.all(RELEVANT_EVENTS.carriers.map((e) => carriers.queryFilter(carriers.filters[e](), start, end)));
    const nodeLogs = nodes ? await Promise.all(RELEVANT_EVENTS.nodes.map((e) => nodes.queryFilter(nodes.filters[e](), start, end))) : [];
    count += [...carrierLogs, ...nodeLogs].reduce((n, logs) => n + logs.length, 0);
  }
  return count;
}

/** One round of `followPermissions`: why it ran and what it did, or the error it met (the loop goes on). */
export interface FollowRound {
  reason: "start" | "events" | "periodic";
  result?: ReconcileResult;
  error?: Error;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * Keeps the node in step with the registry until `signal` aborts: a full reconciliation at start, then every
 * `intervalMs` it polls the registry's relevant events since the last block it saw and reconciles when there
 * are any, and in any case every `fullEveryMs`. A round that fails (the node restarting, the chain's RPC
 * down) is reported and retried from the same block at the next poll: nothing is skipped.
 */
export async function followPermissions(
  client: RoamLedgerClient,
  rpc: PermRpc,
  options: {
    intervalMs: number;
    fullEveryMs: number;
    selfEnode?: string;
    fromBlock?: number;
    signal?: AbortSignal;
    onRound: (round: FollowRound) => void;
  },
): Promise<void> {
  const provider = providerOf(client.runner);
  const scanner = new RegistryScanner(options.fromBlock);
  let seen = -1; // last block whose events are accounted for
  let lastFull = Number.NEGATIVE_INFINITY;
  while (!options.signal?.aborted) {
    let reason: FollowRound["reason"] | undefined;
    try {
      const head = await provider.getBlockNumber();
      if (seen < 0) reason = "start";
      else if (head > seen && (await relevantEventsBetween(client, seen + 1, head)) > 0) reason = "events";
      else if (Date.now() - lastFull >= options.fullEveryMs) reason = "periodic";
      if (reason !== undefined) {
        const result = await reconcilePermissions(client, rpc, { selfEnode: options.selfEnode, scanner });
        lastFull = Date.now();
        options.onRound({ reason, result });
      }
      seen = head;
    } catch (err) {
      options.onRound({ reason: reason ?? "events", error: err as Error });
    }
    await sleep(options.intervalMs, options.signal);
  }
}
