// The project's Hardhat settings without plugins or tasks: networks, compiler, paths, the gas cap. Both starts
// use it: config/full.ts (plugins and every task, for compile, test, run, coverage, node, console) and the fast
// start (config/cli/fast.ts, for RoamLedger's tasks and --help). hardhat.config.js chooses; see docs/testing.md,
// "How start-up works".
import { extendProvider } from "hardhat/config";
import { ProviderWrapper } from "hardhat/plugins";
import type { EIP1193Provider, HardhatConfig, HardhatUserConfig, RequestArguments } from "hardhat/types";
import { profileNetwork, projectRootFrom } from "./profileNetwork";

/**
 * EIP-7825 (Osaka): no transaction may carry more than 2^24 gas. The hardhat network stays on shanghai (the
 * consortium's Besu genesis: a later hardfork would change gas prices, and only Osaka caps transactions), so the
 * cap is enforced here: every transaction sent through `hre` (tests, tasks, the benchmark) gets at most the cap
 * as its gas limit (networks.hardhat.gas below, for a transaction that names none), and one that names more, as
 * eth_sendTransaction or signed, is refused before it is sent. A transaction that needs more than the cap runs
 * out of gas. See docs/testing.md, "The per-transaction gas cap".
 */
const TX_GAS_CAP = 16_777_216n;

/** Refuses a transaction whose gas limit is over TX_GAS_CAP. */
class TxGasCapProvider extends ProviderWrapper {
  constructor(provider: EIP1193Provider) {
    super(provider);
  }

  public async request(args: RequestArguments): Promise<unknown> {
    const params = (args.params ?? []) as unknown[];
    let gas: bigint | undefined;
    if (args.method === "eth_sendTransaction") {
      const tx = params[0] as { gas?: string } | undefined;
      if (tx?.gas !== undefined) gas = BigInt(tx.gas);
    } else if (args.method === "eth_sendRawTransaction" && typeof params[0] === "string") {
      // ethers is loaded here, on the first signed transaction, not at every start (`--help`).
      const { Transaction } = require("ethers") as typeof import("ethers");
      gas = Transaction.from(params[0]).gasLimit;
    }
    if (gas !== undefined && gas > TX_GAS_CAP) {
      throw new Error(
        `${args.method}: gas limit ${gas} is over the EIP-7825 per-transaction cap of ${TX_GAS_CAP} (config/base.ts TX_GAS_CAP): split the work into smaller transactions`,
      );
    }
    return this._wrappedProvider.request(args);
  }
}

// Not under solidity-coverage (SOLIDITY_COVERAGE=true, .ci/run): instrumented code costs far more gas, and
// the plugin gives every transaction 2^52 gas on a network of its own block gas limit (2^53 - 1).
const underCoverage = (config: HardhatConfig) =>
  process.env.SOLIDITY_COVERAGE === "true" || config.networks.hardhat.blockGasLimit === 0x1fffffffffffff;
extendProvider((provider, config, network) =>
  network === "hardhat" && !underCoverage(config) ? new TxGasCapProvider(provider) : provider,
);

// A Besu QBFT consortium chain: endpoint and operator key come from the environment, never from git.
const besuAccounts = process.env.ROAMLEDGER_PRIVATE_KEYS ? process.env.ROAMLEDGER_PRIVATE_KEYS.split(",").map((k) => k.trim()) : [];

// The active carrier profile's network (roamledger.json, ROAMLEDGER_PROFILE) is the default one; `--network`
// still wins. Tests, coverage and the node always start on the in-process hardhat network.
const profileDefaultNetwork = ["test", "coverage", "node"].some((a) => process.argv.includes(a))
  ? undefined
  : profileNetwork(projectRootFrom());

export const SOLC_VERSION = "0.8.28";

export const config: HardhatUserConfig = {
  solidity: {
    compilers: [
      {
        version: SOLC_VERSION,
        settings: {
          evmVersion: "shanghai",
          optimizer: { enabled: true, runs: 10_000 },
          viaIR: false,
        },
      },
    ],
    // The device registry is optimized for size: at 10,000 runs it passes the 24,576-byte limit (EIP-170).
    overrides: {
      "contracts/DeviceRegistry.sol": {
        version: SOLC_VERSION,
        settings: { evmVersion: "shanghai", optimizer: { enabled: true, runs: 200 }, viaIR: false },
      },
    },
  },
  defaultNetwork: profileDefaultNetwork ?? "hardhat",
  networks: {
    hardhat: {
      hardfork: "shanghai",
      // The Besu genesis' block gas limit (test/unit/besuConfig.test.ts checks they agree). No single
      // transaction may use more than TX_GAS_CAP (EIP-7825), the default gas limit of every transaction.
      blockGasLimit: 500_000_000,
      gas: Number(TX_GAS_CAP),
      initialBaseFeePerGas: 0,
      gasPrice: 0,
      allowUnlimitedContractSize: false,
    },
    localhost: {
      url: process.env.ROAMLEDGER_RPC_URL ?? "http://127.0.0.1:8545",
      gasPrice: 0,
      // Estimate each transaction's gas. Left unset, hardhat-ethers gives every transaction a fixed
      // 16,777,216 gas when the node answers `hardhat_metadata` (hardhat node, anvil): a registration of
      // 500 devices or a report of 800 roamers then fails out of gas.
      gas: "auto",
    },
    // networks/besu/: QBFT, zeroBaseFee, min-gas-price 0, block gas limit = hardhat's blockGasLimit
    // (test/unit/besuConfig.test.ts checks they agree). Gas is estimated per transaction: a fixed
    // `gas` near the block limit would leave room for one transaction per block.
    besu: {
      url: process.env.ROAMLEDGER_BESU_RPC_URL ?? "http://127.0.0.1:8545",
      chainId: Number(process.env.ROAMLEDGER_BESU_CHAIN_ID ?? 2026),
      accounts: besuAccounts,
      gasPrice: 0,
    },
  },
  paths: {
    // Where Ignition keeps deployment records (deployments/chain-<id>). The integration tests point it
    // at a temporary folder so that a test deployment never lands next to, or over, a real one.
    ignition: process.env.ROAMLEDGER_IGNITION_DIR || "./ignition",
  },
  mocha: {
    timeout: 300_000,
  },
};
