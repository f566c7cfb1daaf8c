import path from "node:path";
import { task, types } from "hardhat/config";
import { action, out } from "./common";
import { InputError } from "../lib/core/errors";
import { buildBesuNetwork, writeBesuNetwork } from "../lib/besu/network";
import { QBFT_DEFAULTS } from "../lib/besu/genesis";
import { BESU_VERSION } from "../lib/besu/nodeConfig";

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
