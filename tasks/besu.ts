import path from "node:path";
import { task, types } from "hardhat/config";
import { action, clientFor, out } from "./common";
import { InputError } from "../lib/core/errors";
import { buildBesuNetwork, writeBesuNetwork } from "../lib/besu/network";
import { QBFT_DEFAULTS } from "../lib/besu/genesis";
import { BESU_VERSION } from "../lib/besu/nodeConfig";

import {
  desiredAllowlists,
  diffIsEmpty,
  followPermissions,
  type FollowRound,
  httpPermRpc,
  type PermissionsDiff,
  reconcilePermissions,
  type ReconcileResult,
  RegistryScanner,
  writePermissionsConfig,
} from "../lib/besu/permissions";
import { parseEnode } from "../lib/consortium/nodes";

task(
  "besu:genesis",
  "Consortium setup: makes node keys, the QBFT genesis (validators in extraData), each node's Besu configuration (config/<node>.toml) and first allowlists (permissions/<node>/permissions_config.toml) for networks/besu/docker-compose.yml (see docs/besu.md)",
)
  .addParam(
    "accounts",
    "Comma-separated accounts that may transact from the first block (the deployer; the infrastructure accounts): the nodes' first accounts allowlist",
  )
  .addOptionalParam("validators", "Number of validator nodes (one bootnode is added)", 4, types.int)
  .addOptionalParam("out", "Output folder", path.join("networks", "besu", "generated"))
  .addOptionalParam("chainId", "Chain id (default: the besu network's, i.e. ROAMLEDGER_BESU_CHAIN_ID or 2026)", undefined, types.int)
  .addOptionalParam("blockPeriod", "Minimum seconds between blocks", QBFT_DEFAULTS.blockPeriodSeconds, types.int)
  .addOptionalParam("requestTimeout", "Seconds a QBFT round may take before a round change", QBFT_DEFAULTS.requestTimeoutSeconds, types.int)
  .addOptionalParam("epochLength", "Blocks after which pending validator votes are discarded", QBFT_DEFAULTS.epochLength, types.int)
  .addOptionalParam("gasLimit", "Block gas limit (default: the in-process hardhat network's blockGasLimit, which the tests use)")
  .addOptionalParam(
    "devSeed",
    "Derive deterministic THROW-AWAY keys from this public seed instead of random ones (development only; networks/besu/dev/ uses roamledger-dev)",
  )
  .addFlag("force", "Replace the keys of an existing network in --out")
  .setAction(
    action(
      async (
        args: {
          accounts: string;
          validators: number;
          out: string;
          chainId?: number;
          blockPeriod: number;
          requestTimeout: number;
          epochLength: number;
          gasLimit?: string;
          devSeed?: string;
          force: boolean;
        },
        hre,
      ) => {
        const besu = hre.config.networks.besu as { chainId?: number } | undefined;
        const chainId = args.chainId ?? besu?.chainId;
        if (chainId === undefined) throw new InputError("pass --chain-id (config/base.ts has no besu network with a chainId)");
        const gasLimitText = args.gasLimit ?? String(hre.config.networks.hardhat.blockGasLimit);
        if (!/^\d+$/.test(gasLimitText)) throw new InputError(`--gas-limit must be a whole number of gas, found ${gasLimitText}`);
        const network = buildBesuNetwork({
          validators: args.validators,
          chainId,
          gasLimit: BigInt(gasLimitText),
          blockPeriodSeconds: args.blockPeriod,
          requestTimeoutSeconds: args.requestTimeout,
          epochLength: args.epochLength,
          devSeed: args.devSeed,
          accounts: args.accounts
            .split(",")
            .map((a) => a.trim())
            .filter((a) => a !== ""),
        });
        const dir = path.resolve(hre.config.paths.root, args.out);
        writeBesuNetwork(dir, network, { force: args.force });
        out(`Besu QBFT network for chain ${chainId} in ${path.relative(process.cwd(), dir) || "."}:`);
        for (const n of network.nodes) out(`  ${n.name.padEnd(11)} ${n.role.padEnd(9)} ${n.ip.padEnd(14)} ${n.address}`);
        out(
          `  block gas limit ${BigInt(network.genesis.gasLimit)}, a block every ${args.blockPeriod} s, gas price 0, Besu ${BESU_VERSION}`,
        );
        out(`  may transact from block 0: ${args.accounts}`);
        if (args.devSeed !== undefined) {
          out(`  THROW-AWAY keys from the public seed "${args.devSeed}": for a laptop, never for a real network.`);
        }
        out("Keys are in keys/<node>/key (mode 0600): keep them out of git and off shared disks.");
        out("Next: docker compose up -d in networks/besu (docs/besu.md), then npx hardhat deploy --network besu, then besu:permissions.");
      },
    ),
  );

/** The lines that say what a reconciliation changed (or would change). */
function describeDiff(diff: PermissionsDiff, applied: boolean): string[] {
  if (diffIsEmpty(diff)) return ["  in step with the registry: nothing to change."];
  const verb = applied ? "" : "would ";
  const section = (label: string, items: string[]) =>
    items.length === 0 ? [] : [`  ${verb}${label} (${items.length}):`, ...items.map((i) => `    ${i}`)];
  return [
    ...section("add accounts", diff.addAccounts),
    ...section("remove accounts", diff.removeAccounts),
    ...section("add nodes", diff.addNodes),
    ...section("remove nodes", diff.removeNodes),
  ];
}

function reportResult(result: ReconcileResult, prefix: string): void {
  out(`${prefix}${result.applied ? "applied" : diffIsEmpty(result.diff) ? "checked" : "dry run"}:`);
  for (const line of describeDiff(result.diff, result.applied)) out(line);
  for (const node of result.fixedNodesKept)
    out(`  kept ${node}: Besu refuses to remove a bootnode or static node (remove it from --bootnodes / static-nodes.json).`);
  for (const node of result.invalidNodesSkipped)
    out(
      `  not added ${node}: Besu finds it invalid (a host name needs --Xdns-enabled on this node); its member registers it by IP address (carrier:node), or enable DNS here.`,
    );
}

function reportRound(round: FollowRound): void {
  const at = new Date().toISOString();
  if (round.error) out(`${at} ${round.reason}: failed, retrying at the next poll: ${round.error.message.split("\n")[0]}`);
  else if (round.result) reportResult(round.result, `${at} ${round.reason}: `);
}

interface PermissionsArgs {
  node?: string;
  enode?: string;
  follow: boolean;
  interval: number;
  fullEvery: number;
  writeConfig?: string;
  dryRun: boolean;
  fromBlock: number;
}

function checkPermissionsArgs(args: PermissionsArgs): void {
  if (args.node === undefined && args.writeConfig === undefined) {
    throw new InputError("give --node (the node's loopback JSON-RPC URL) or --write-config FILE", {
      hint: "e.g. --node http://127.0.0.1:8545; --write-config permissions_config.toml writes the file for a node's first start.",
    });
  }
  if (args.node !== undefined && !/^https?:\/\/[^\s]+$/.test(args.node)) {
    throw new InputError(`--node ${args.node} is not an http(s) URL`, { location: { param: "node" }, hint: "e.g. http://127.0.0.1:8545" });
  }
  if (args.enode !== undefined) parseEnode(args.enode, "enode");
  if (args.follow && args.node === undefined) throw new InputError("--follow needs --node: it keeps a running node in step");
  if (args.follow && args.dryRun)
    throw new InputError("--follow and --dry-run do not go together: a dry run changes nothing to keep in step");
  if (!(args.fromBlock >= 0))
    throw new InputError(`--from-block must be 0 or more, found ${args.fromBlock}`, { location: { param: "fromBlock" } });
  if (!(args.interval >= 1))
    throw new InputError(`--interval must be 1 second or more, found ${args.interval}`, { location: { param: "interval" } });
  if (!(args.fullEvery >= 1))
    throw new InputError(`--full-every must be 1 minute or more, found ${args.fullEvery}`, { location: { param: "fullEvery" } });
}

task(
  "besu:permissions",
  "Keeps your Besu node's local allowlists (accounts, nodes) in step with the consortium's registry through Besu's PERM JSON-RPC API: " +
    "allows active members' operators, pending operator offers, infrastructure accounts and active members' registered nodes; removes the rest " +
    "(never the node's own enode, never an infrastructure account). Read-only on the chain (see docs/besu.md, Permissioning)",
)
  .addOptionalParam("node", "Your Besu node's JSON-RPC URL with the PERM API, on loopback (e.g. http://127.0.0.1:8545)")
  .addOptionalParam("enode", "Your node's own enode URL, never removed (default: what the node answers to net_enode)")
  .addFlag("follow", "Keep running: reconcile on every relevant registry event (polled) and fully every --full-every minutes")
  .addOptionalParam("interval", "--follow: seconds between polls of the registry's events", 15, types.int)
  .addOptionalParam("fullEvery", "--follow: minutes between full reconciliations even without events", 10, types.int)
  .addOptionalParam(
    "writeConfig",
    "Write permissions_config.toml (accounts-allowlist, nodes-allowlist) to this file for a node's first start, atomically",
  )
  .addFlag("dryRun", "Show what would change on the node; change nothing")
  .addOptionalParam(
    "fromBlock",
    "First block to scan for the registry's infrastructure-account and operator-offer events (its deployment block saves scanning older ones; scanned 5000 blocks a request)",
    0,
    types.int,
  )
  .setAction(
    action(async (args: PermissionsArgs, hre) => {
      checkPermissionsArgs(args);
      const client = await clientFor(hre, undefined, { sends: false });
      // One scanner for both steps: with --write-config and --node, the node's run scans only blocks since.
      const scanner = new RegistryScanner(args.fromBlock);
      if (args.writeConfig !== undefined) {
        const file = path.resolve(args.writeConfig);
        const desired = await desiredAllowlists(client, args.enode, scanner);
        if (!args.dryRun) writePermissionsConfig(file, desired, `the registry on network ${hre.network.name}`);
        out(`${args.dryRun ? "Would write" : "Wrote"} ${file}: ${desired.accounts.length} accounts, ${desired.nodes.length} nodes.`);
      }
      if (args.node === undefined) return;
      const rpc = httpPermRpc(args.node);
      if (!args.follow) {
        reportResult(
          await reconcilePermissions(client, rpc, {
            selfEnode: args.enode,
            dryRun: args.dryRun,
            scanner,
          }),
          `${args.node}: `,
        );
        return;
      }
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      out(
        `Following the registry for ${args.node} (a poll every ${args.interval} s, a full run every ${args.fullEvery} min); Ctrl-C stops.`,
      );
      try {
        await followPermissions(client, rpc, {
          intervalMs: args.interval * 1000,
          fullEveryMs: args.fullEvery * 60_000,
          selfEnode: args.enode,
          fromBlock: args.fromBlock,
          signal: controller.signal,
          onRound: reportRound,
        });
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
    }),
  );
