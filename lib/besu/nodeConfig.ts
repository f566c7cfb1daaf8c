import { getAddress, isAddress } from "ethers";
import { InputError } from "../core/errors";

/**
 * Each node's Besu configuration file (TOML) and its first permissions_config.toml, for the Besu
 * release the kit was written for (BESU_VERSION; docs/besu.md). Written from Besu's option reference:
 * local permissioning only (on-chain permissioning and private transactions were removed in 25.6.0),
 * gas-free (`min-gas-price=0` with the genesis' `zeroBaseFee`), and each node serving the JSON-RPC
 * APIs its role needs and no more, on the loopback interface only (PERM changes who may connect and
 * transact: nobody but the member's own host may reach it).
 */

/** The Besu release the kit's configuration, compose files and docs were written for. */
export const BESU_VERSION = "26.9.0";
export const BESU_IMAGE = `hyperledger/besu:${BESU_VERSION}`;

/** Where the compose file mounts each node's files inside its container. */
export const NODE_PATHS = {
  config: "/config/config.toml",
  genesis: "/config/genesis.json",
  key: "/keys/key",
  data: "/data",
  /** A folder of its own, writable: Besu rewrites the file when the PERM API changes an allowlist. */
  permissions: "/permissions/permissions_config.toml",
} as const;

export const RPC_PORT = 8545;

/**
 * JSON-RPC APIs by role. A validator serves the member's backend and the Hardhat tasks (ETH, NET, WEB3),
 * validator votes (QBFT) and permissioning (PERM); the bootnode only permissioning and NET (peers, health).
 * Never ADMIN, DEBUG, TXPOOL, MINER or the removed PRIV/EEA/GOQUORUM.
 */
export const RPC_APIS = {
  bootnode: ["NET", "PERM"],
  validator: ["ETH", "NET", "WEB3", "QBFT", "PERM"],
} as const;

export interface NodeTomlInput {
  name: string;
  role: keyof typeof RPC_APIS;
  /** The node's P2P address (its enode's host). */
  ip: string;
  p2pPort: number;
  /** Enode URLs of the bootnodes (empty for a bootnode itself). */
  bootnodes: readonly string[];
  /** A public-seed network: the warning goes at the top of the file. */
  devNote?: string;
}

function tomlStringArray(values: readonly string[]): string {
  return values.length === 0 ? "[]" : `[\n${values.map((v) => `  ${JSON.stringify(v)}`).join(",\n")}\n]`;
}

/** The node's config.toml. */
export function nodeToml(n: NodeTomlInput): string {
  const lines = [
    `# ${n.name} (${n.role}) of a RoamLedger consortium chain: Besu ${BESU_VERSION}, QBFT, gas-free.`,
    "# Written by `npx hardhat besu:genesis`; docs/besu.md explains each setting.",
    ...(n.devNote ? [`# ${n.devNote}`] : []),
    "",
    `genesis-file=${JSON.stringify(NODE_PATHS.genesis)}`,
    `data-path=${JSON.stringify(NODE_PATHS.data)}`,
    `node-private-key-file=${JSON.stringify(NODE_PATHS.key)}`,
    'sync-mode="FULL"',
    'logging="INFO"',
    "",
    "# P2P: only the nodes in the allowlist may connect.",
    "p2p-enabled=true",
    `p2p-host=${JSON.stringify(n.ip)}`,
    `p2p-port=${n.p2pPort}`,
    "discovery-enabled=true",
    ...(n.bootnodes.length > 0 ? [`bootnodes=${tomlStringArray(n.bootnodes)}`] : []),
    "",
    "# Local permissioning (the only kind Besu has since 25.6.0): who may connect and who may transact,",
    "# kept in step with the CarrierRegistry by `besu:permissions` through the PERM API.",
    "permissions-nodes-config-file-enabled=true",
    `permissions-nodes-config-file=${JSON.stringify(NODE_PATHS.permissions)}`,
    "permissions-accounts-config-file-enabled=true",
    `permissions-accounts-config-file=${JSON.stringify(NODE_PATHS.permissions)}`,
    "",
    "# JSON-RPC over HTTP on the loopback interface only: PERM changes the allowlists.",
    "rpc-http-enabled=true",
    'rpc-http-host="127.0.0.1"',
    `rpc-http-port=${RPC_PORT}`,
    `rpc-http-api=${JSON.stringify(RPC_APIS[n.role])}`,
    'host-allowlist=["localhost","127.0.0.1"]',
    "",
    "# Gas-free: with the genesis' zeroBaseFee, every node accepts and includes transactions priced 0.",
    "min-gas-price=0",
    "tx-pool-min-gas-price=0",
    "",
    "# Revert reasons in receipts: RoamLedger decodes its custom errors for the user.",
    "revert-reason-enabled=true",
    "",
  ];
  return lines.join("\n");
}

/** Checksummed, without duplicates, in the order given; InputError on a non-address. */
export function checkAccounts(accounts: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const a of accounts) {
    if (!isAddress(a)) {
      throw new InputError(`${JSON.stringify(a)} is not an account address`, {
        location: { param: "accounts" },
        hint: "list 0x-prefixed 20-byte addresses, comma-separated (the deployer and the infrastructure accounts).",
      });
    }
    const checksummed = getAddress(a);
    if (!seen.has(checksummed)) out.push(checksummed);
    seen.add(checksummed);
  }
  return out;
}

/**
 * A node's first permissions_config.toml: every node of the kit, and the accounts that may transact
 * before RoamLedger is deployed (the deployer); `besu:permissions` takes over from the registry after.
 */
export function permissionsToml(enodes: readonly string[], accounts: readonly string[], devNote?: string): string {
  return (
    "# Local permissioning allowlists of one node (Besu rewrites this file when the PERM API changes them).\n" +
    (devNote ? `# ${devNote}\n` : "") +
    `accounts-allowlist=${tomlStringArray(accounts.map((a) => a.toLowerCase()))}\n` +
    `nodes-allowlist=${tomlStringArray(enodes)}\n`
  );
}
