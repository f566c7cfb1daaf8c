import { InputError } from "../core/errors";
import type { Hex } from "../util/hex";
import { encodeQbftExtraData } from "./extraData";

/**
 * The genesis of a RoamLedger consortium chain on Besu with QBFT: every fork up to Shanghai active
 * from block 0 (the contracts are compiled for evmVersion "shanghai"; OpenZeppelin 5.4 stays below
 * Cancun), a zero base fee (gas-free: with `min-gas-price=0` on every node, transactions pay nothing)
 * and a block gas limit that fits the largest transaction RoamLedger sends.
 */

/** Fork activations by block number, all at 0, in Besu's genesis key names. */
export const FORK_BLOCKS = [
  "homesteadBlock",
  "eip150Block",
  "eip158Block",
  "byzantiumBlock",
  "constantinopleBlock",
  "petersburgBlock",
  "istanbulBlock",
  "muirGlacierBlock",
  "berlinBlock",
  "londonBlock",
  "arrowGlacierBlock",
  "grayGlacierBlock",
] as const;

/**
 * Timestamp-activated forks the genesis leaves off. The contracts are compiled for evmVersion
 * "shanghai" (hardhat.config/config/base.ts; OpenZeppelin 5.4 needs nothing later), and a fork adds
 * rules, not features, to bytecode compiled for an earlier target: Cancun changes SELFDESTRUCT and adds
 * blob transactions, Prague adds EIP-7702 delegations, Osaka caps a transaction at 2^24 gas (EIP-7825).
 * None helps RoamLedger; each is one more rule the consortium would have to test. A later fork is a
 * coordinated upgrade: every member adds `<fork>Time` (a future timestamp) to genesis.json and
 * restarts its nodes before then (docs/besu.md); every transaction RoamLedger sends already fits
 * under Osaka's cap (test/unit/txGas.test.ts).
 */
export const FORKS_AFTER_SHANGHAI = ["cancunTime", "pragueTime", "osakaTime"] as const;

/** Istanbul BFT's mixHash: identifies a BFT block to Besu. */
export const BFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365";

/**
 * Consensus timing of `besu:genesis` by default: a block every 2 s at most, 10 s before a round
 * change (a full block takes a while to build and to check; tune down after measuring on the
 * consortium's machines), votes reset every 30,000 blocks.
 */
export const QBFT_DEFAULTS = { blockPeriodSeconds: 2, requestTimeoutSeconds: 10, epochLength: 30_000 } as const;

export interface QbftGenesisOptions {
  chainId: number;
  validators: readonly string[];
  /** Block gas limit. */
  gasLimit: bigint;
  /** Minimum seconds between blocks. */
  blockPeriodSeconds: number;
  /** Seconds a consensus round may take before a round change; more than the block period. */
  requestTimeoutSeconds: number;
  /** Blocks after which pending validator votes are discarded. */
  epochLength: number;
  /** Genesis block time (Unix seconds); 0 by default so that the same inputs give the same file. */
  timestamp?: number;
}

export interface QbftGenesis {
  config: {
    chainId: number;
    [fork: string]: unknown;
    shanghaiTime: number;
    zeroBaseFee: true;
    qbft: { blockperiodseconds: number; epochlength: number; requesttimeoutseconds: number };
  };
  nonce: Hex;
  timestamp: Hex;
  gasLimit: Hex;
  difficulty: Hex;
  mixHash: Hex;
  coinbase: Hex;
  extraData: Hex;
  alloc: Record<string, never>;
}

function positiveInteger(value: number, name: string, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InputError(`${name} must be an integer from 1 to ${max}, found ${value}`);
  }
}

/** Builds the genesis object (write it with `JSON.stringify(genesis, null, 2)`). */
export function qbftGenesis(options: QbftGenesisOptions): QbftGenesis {
  positiveInteger(options.chainId, "chain id", 2 ** 53 - 1);
  positiveInteger(options.blockPeriodSeconds, "block period (seconds)", 3600);
  positiveInteger(options.requestTimeoutSeconds, "request timeout (seconds)", 3600);
  positiveInteger(options.epochLength, "epoch length (blocks)");
  if (options.requestTimeoutSeconds <= options.blockPeriodSeconds) {
    throw new InputError(
      `the request timeout (${options.requestTimeoutSeconds} s) must be longer than the block period (${options.blockPeriodSeconds} s)`,
      { hint: "start with twice the block period or more; blocks that run a 2,000-device registration take longer to build and check." },
    );
  }
  if (options.gasLimit < 5000n || options.gasLimit > 2n ** 63n - 1n) {
    throw new InputError(`the block gas limit must be from 5,000 to 2^63 - 1, found ${options.gasLimit}`);
  }
  const timestamp = options.timestamp ?? 0;
  if (!Number.isInteger(timestamp) || timestamp < 0)
    throw new InputError(`the genesis timestamp must be a Unix time in seconds, found ${timestamp}`);
  const forks = Object.fromEntries(FORK_BLOCKS.map((f) => [f, 0]));
  return {
    config: {
      chainId: options.chainId,
      ...forks,
      shanghaiTime: 0,
      zeroBaseFee: true,
      qbft: {
        blockperiodseconds: options.blockPeriodSeconds,
        epochlength: options.epochLength,
        requesttimeoutseconds: options.requestTimeoutSeconds,
      },
    },
    nonce: "0x0",
    timestamp: `0x${timestamp.toString(16)}`,
    gasLimit: `0x${options.gasLimit.toString(16)}`,
    difficulty: "0x1",
    mixHash: BFT_MIX_HASH,
    coinbase: `0x${"00".repeat(20)}`,
    extraData: encodeQbftExtraData(options.validators),
    alloc: {},
  };
}
