import { TX_GAS_CAP } from "../chain/gasBudget";
import { decodeQbftExtraData } from "./extraData";
import { BFT_MIX_HASH, FORK_BLOCKS } from "./genesis";
import { BESU_VERSION } from "./nodeConfig";

/**
 * What Besu's documentation requires of a QBFT genesis file and a node's TOML configuration, for the
 * release the kit was written for (BESU_VERSION), as a checker: each function returns the problems it
 * finds (an empty list: the file is fine). `besu:genesis` checks what it writes with them and the tests
 * check the committed example. Written from Besu's genesis-file and command-line option references and
 * its changelog (on-chain permissioning and private transactions removed in 25.6.0); nothing here was
 * checked against a running Besu (none can be installed where this was written: docs/besu.md).
 */

export type Problems = string[];

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const isInt = (x: unknown, min = 0): x is number => typeof x === "number" && Number.isInteger(x) && x >= min;
const isHexQuantity = (x: unknown): x is string => typeof x === "string" && /^0x(0|[1-9a-f][0-9a-f]*)$/i.test(x);

/**
 * Genesis fork keys activated by block number: those `besu:genesis` writes, and the two a genesis may
 * also name (DAO fork, EIP-155); all must be 0 on a new QBFT chain.
 */
export const BLOCK_FORK_KEYS: readonly string[] = [...FORK_BLOCKS, "daoForkBlock", "eip155Block"];

/** Forks activated by timestamp (post-merge names; QBFT takes them by timestamp too), in order. */
export const TIME_FORK_KEYS = ["shanghaiTime", "cancunTime", "pragueTime", "osakaTime"] as const;

/** The `config.qbft` fields Besu's QBFT documentation lists. */
export const QBFT_KEYS = {
  blockperiodseconds: "required",
  epochlength: "required",
  requesttimeoutseconds: "required",
  emptyblockperiodseconds: "optional",
  blockreward: "optional",
  miningbeneficiary: "optional",
  validatorcontractaddress: "optional",
  messageQueueLimit: "optional",
  duplicateMessageLimit: "optional",
  futureMessagesLimit: "optional",
  futureMessagesMaxDistance: "optional",
} as const;

/** Other `config` keys of a Besu QBFT genesis. */
const OTHER_CONFIG_KEYS = new Set(["chainId", "zeroBaseFee", "baseFeePerGas", "contractSizeLimit", "evmStackSize", "qbft", "transitions"]);

/** Consensus sections that must not sit next to `qbft`. */
const OTHER_CONSENSUS = ["ibft2", "clique", "ethash"];

function checkQbft(qbft: unknown): Problems {
  if (!isObject(qbft)) return ["config.qbft is missing: Besu runs QBFT only with a config.qbft section"];
  const problems: Problems = [];
  for (const [key, need] of Object.entries(QBFT_KEYS)) {
    if (need === "required" && !isInt(qbft[key], 1)) problems.push(`config.qbft.${key} must be a whole number of at least 1`);
  }
  for (const key of Object.keys(qbft)) {
    if (!(key in QBFT_KEYS)) problems.push(`config.qbft.${key} is not a QBFT option Besu documents`);
  }
  if (isInt(qbft.requesttimeoutseconds) && isInt(qbft.blockperiodseconds) && qbft.requesttimeoutseconds <= qbft.blockperiodseconds) {
    problems.push("config.qbft.requesttimeoutseconds must be longer than blockperiodseconds (or every round changes)");
  }
  return problems;
}

function checkForks(config: Record<string, unknown>): Problems {
  const problems: Problems = [];
  for (const key of BLOCK_FORK_KEYS) {
    if (key in config && config[key] !== 0)
      problems.push(`config.${key} must be 0: a new QBFT chain starts with every block-numbered fork`);
  }
  for (const key of ["londonBlock", "shanghaiTime"]) {
    if (!(key in config)) problems.push(`config.${key} is missing: the contracts need London's and Shanghai's EVM (evmVersion shanghai)`);
  }
  let last = -1;
  for (const key of TIME_FORK_KEYS) {
    if (!(key in config)) continue;
    if (!isInt(config[key])) problems.push(`config.${key} must be a Unix time in seconds`);
    else if (config[key] < last) problems.push(`config.${key} comes before an earlier fork's time`);
    else last = config[key];
  }
  for (const key of Object.keys(config)) {
    const known = BLOCK_FORK_KEYS.includes(key) || (TIME_FORK_KEYS as readonly string[]).includes(key);
    if (!known && !OTHER_CONFIG_KEYS.has(key)) problems.push(`config.${key} is not a genesis option this kit knows (a misspelt fork?)`);
  }
  return problems;
}

function checkHeader(genesis: Record<string, unknown>): Problems {
  const problems: Problems = [];
  for (const key of ["nonce", "timestamp", "gasLimit", "difficulty"]) {
    if (!isHexQuantity(genesis[key])) problems.push(`${key} must be a 0x-prefixed hex quantity`);
  }
  if (genesis.mixHash !== BFT_MIX_HASH) problems.push(`mixHash must be ${BFT_MIX_HASH}, which identifies BFT blocks`);
  if (genesis.difficulty !== "0x1") problems.push("difficulty must be 0x1 on a BFT chain");
  if (!isObject(genesis.alloc)) problems.push("alloc must be an object (empty: nothing is pre-funded on a gas-free chain)");
  if (typeof genesis.extraData !== "string") return [...problems, "extraData is missing: QBFT lists its validators there"];
  try {
    const decoded = decodeQbftExtraData(genesis.extraData);
    if (decoded.validators.length === 0) problems.push("extraData names no validator");
    if (decoded.vote !== null || decoded.round !== 0 || decoded.seals.length > 0) {
      problems.push("extraData of a genesis block carries no vote, round 0 and no seals");
    }
  } catch (e) {
    problems.push((e as Error).message);
  }
  return problems;
}

/** Problems of a QBFT genesis (parsed JSON) for RoamLedger: Besu's requirements and the kit's (gas-free, shanghai). */
export function checkQbftGenesis(genesis: unknown): Problems {
  if (!isObject(genesis) || !isObject(genesis.config)) return ["a genesis file is an object with a config section"];
  const { config } = genesis;
  const problems: Problems = [];
  if (!isInt(config.chainId, 1)) problems.push("config.chainId must be a positive whole number");
  if (config.zeroBaseFee !== true) problems.push("config.zeroBaseFee must be true: the consortium's chain is gas-free");
  for (const c of OTHER_CONSENSUS) if (c in config) problems.push(`config.${c} next to config.qbft: one consensus protocol only`);
  problems.push(...checkQbft(config.qbft), ...checkForks(config), ...checkHeader(genesis));
  if (isHexQuantity(genesis.gasLimit) && BigInt(genesis.gasLimit) < TX_GAS_CAP) {
    problems.push(`gasLimit is below ${TX_GAS_CAP.toLocaleString("en-US")}: a block must hold the largest transaction RoamLedger sends`);
  }
  return problems;
}

type OptionType = "string" | "int" | "bool" | "string[]";

/** Besu options a RoamLedger node may set, with their TOML types (from the command-line option reference). */
export const KNOWN_OPTIONS: Record<string, OptionType> = {
  "genesis-file": "string",
  "data-path": "string",
  "node-private-key-file": "string",
  "sync-mode": "string",
  logging: "string",
  identity: "string",
  "data-storage-format": "string",
  "p2p-enabled": "bool",
  "p2p-host": "string",
  "p2p-interface": "string",
  "p2p-port": "int",
  "discovery-enabled": "bool",
  bootnodes: "string[]",
  "max-peers": "int",
  "nat-method": "string",
  "random-peer-priority-enabled": "bool",
  "remote-connections-limit-enabled": "bool",
  "permissions-nodes-config-file-enabled": "bool",
  "permissions-nodes-config-file": "string",
  "permissions-accounts-config-file-enabled": "bool",
  "permissions-accounts-config-file": "string",
  "rpc-http-enabled": "bool",
  "rpc-http-host": "string",
  "rpc-http-port": "int",
  "rpc-http-api": "string[]",
  "rpc-http-cors-origins": "string[]",
  "rpc-http-max-active-connections": "int",
  "rpc-http-authentication-enabled": "bool",
  "rpc-http-authentication-credentials-file": "string",
  "rpc-ws-enabled": "bool",
  "rpc-ws-host": "string",
  "rpc-ws-port": "int",
  "rpc-ws-api": "string[]",
  "host-allowlist": "string[]",
  "min-gas-price": "int",
  "tx-pool-min-gas-price": "int",
  "target-gas-limit": "int",
  "revert-reason-enabled": "bool",
  "metrics-enabled": "bool",
  "metrics-host": "string",
  "metrics-port": "int",
};

/** Options Besu no longer has, and why: a node given one refuses to start. */
export const REMOVED_OPTIONS: Record<string, string> = {
  "permissions-nodes-contract-enabled": "on-chain permissioning was removed in Besu 25.6.0",
  "permissions-nodes-contract-address": "on-chain permissioning was removed in Besu 25.6.0",
  "permissions-nodes-contract-version": "on-chain permissioning was removed in Besu 25.6.0",
  "permissions-accounts-contract-enabled": "on-chain permissioning was removed in Besu 25.6.0",
  "permissions-accounts-contract-address": "on-chain permissioning was removed in Besu 25.6.0",
  "privacy-enabled": "private transactions (Tessera) were removed in Besu 25.6.0",
  "privacy-url": "private transactions (Tessera) were removed in Besu 25.6.0",
  "privacy-public-key-file": "private transactions (Tessera) were removed in Besu 25.6.0",
  "privacy-multi-tenancy-enabled": "private transactions (Tessera) were removed in Besu 25.6.0",
  "privacy-flexible-groups-enabled": "private transactions (Tessera) were removed in Besu 25.6.0",
  "privacy-marker-transaction-signing-key-file": "private transactions (Tessera) were removed in Besu 25.6.0",
  "privacy-tls-enabled": "private transactions (Tessera) were removed in Besu 25.6.0",
  "host-whitelist": "renamed host-allowlist",
};

/** JSON-RPC API groups, and those removed with private transactions. */
export const RPC_API_GROUPS = [
  "ADMIN",
  "CLIQUE",
  "DEBUG",
  "ETH",
  "IBFT",
  "MINER",
  "NET",
  "PERM",
  "PLUGINS",
  "QBFT",
  "TRACE",
  "TXPOOL",
  "WEB3",
];
export const REMOVED_RPC_APIS: Record<string, string> = {
  PRIV: "removed with private transactions in Besu 25.6.0",
  EEA: "removed with private transactions in Besu 25.6.0",
  GOQUORUM: "removed with GoQuorum compatibility",
};

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

function typeOf(value: unknown): OptionType | "other" {
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (isInt(value, Number.MIN_SAFE_INTEGER)) return "int";
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return "string[]";
  return "other";
}

function checkApis(
  config: Record<string, unknown>,
  option: "rpc-http-api" | "rpc-ws-api",
  host: "rpc-http-host" | "rpc-ws-host",
): Problems {
  const apis = config[option];
  if (!Array.isArray(apis)) return [];
  const problems: Problems = [];
  for (const api of apis as string[]) {
    if (api in REMOVED_RPC_APIS) problems.push(`${option}: ${api} was ${REMOVED_RPC_APIS[api]}`);
    else if (!RPC_API_GROUPS.includes(api)) problems.push(`${option}: ${api} is not a JSON-RPC API group of Besu`);
  }
  const wide = ["PERM", "ADMIN", "DEBUG"].filter((a) => (apis as string[]).includes(a));
  if (wide.length > 0 && !LOOPBACK.has(String(config[host] ?? "127.0.0.1"))) {
    problems.push(`${option} serves ${wide.join(", ")} on ${String(config[host])}: only on the loopback interface (${host}="127.0.0.1")`);
  }
  return problems;
}

/** Problems of a node's configuration (parsed TOML): unknown, removed and mistyped options, and the kit's rules. */
export function checkNodeConfig(config: Record<string, unknown>): Problems {
  const problems: Problems = [];
  for (const [key, value] of Object.entries(config)) {
    if (key in REMOVED_OPTIONS) problems.push(`${key}: ${REMOVED_OPTIONS[key]}`);
    else if (!(key in KNOWN_OPTIONS)) problems.push(`${key} is not a Besu ${BESU_VERSION} option this kit knows`);
    else if (typeOf(value) !== KNOWN_OPTIONS[key]) problems.push(`${key} must be a ${KNOWN_OPTIONS[key]}, found ${JSON.stringify(value)}`);
  }
  problems.push(...checkApis(config, "rpc-http-api", "rpc-http-host"), ...checkApis(config, "rpc-ws-api", "rpc-ws-host"));
  for (const kind of ["nodes", "accounts"]) {
    if (config[`permissions-${kind}-config-file-enabled`] !== true) {
      problems.push(`permissions-${kind}-config-file-enabled must be true: the consortium's ${kind} allowlist`);
    } else if (typeof config[`permissions-${kind}-config-file`] !== "string") {
      problems.push(`permissions-${kind}-config-file must name the node's permissions_config.toml`);
    }
  }
  if (config["min-gas-price"] !== 0) problems.push("min-gas-price must be 0: the chain is gas-free (zeroBaseFee)");
  for (const key of ["genesis-file", "node-private-key-file", "data-path"]) {
    if (!(key in config)) problems.push(`${key} is missing`);
  }
  return problems;
}

/** Problems of a permissions_config.toml: the two allowlists, well-formed. */
export function checkPermissionsConfig(config: Record<string, unknown>): Problems {
  const problems: Problems = [];
  for (const key of Object.keys(config)) {
    if (key !== "accounts-allowlist" && key !== "nodes-allowlist") problems.push(`${key} is not a permissions_config.toml key`);
  }
  const accounts = config["accounts-allowlist"];
  if (!Array.isArray(accounts)) problems.push("accounts-allowlist is missing");
  else
    for (const a of accounts)
      if (!/^0x[0-9a-fA-F]{40}$/.test(String(a))) problems.push(`accounts-allowlist: ${String(a)} is not an address`);
  const nodes = config["nodes-allowlist"];
  if (!Array.isArray(nodes)) problems.push("nodes-allowlist is missing");
  else {
    for (const n of nodes) {
      if (!/^enode:\/\/[0-9a-f]{128}@[^:@\s]+:\d{1,5}(\?discport=\d{1,5})?$/.test(String(n)))
        problems.push(`nodes-allowlist: ${String(n)} is not an enode URL`);
    }
  }
  return problems;
}
