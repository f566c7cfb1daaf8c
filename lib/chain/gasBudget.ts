/**
 * Items per transaction from measured gas, so that every batch a command sends fits under EIP-7825's cap of
 * 16,777,216 gas per transaction (enforced by networks at Osaka; QBFT networks may lower it) with a margin:
 * a batch may use at most GAS_BUDGET, three quarters of the cap, for items whose cost varies with their
 * data (a fresh storage slot, a longer proof). test/unit/gasBudget.test.ts measures each cost again on the
 * hardhat network and fails when one has grown past what is written here; docs/besu.md lists them.
 */

import { InputError } from "../core/errors";

/** EIP-7825: the most gas one transaction may use. */
export const TX_GAS_CAP = 16_777_216n;
/** What a batch may use: 3/4 of the cap. */
export const GAS_BUDGET = (TX_GAS_CAP * 3n) / 4n;

/** The gas of a batch of n items: fixed + n * perItem (the transaction's 21,000 and calldata included). */
export interface BatchGas {
  fixed: bigint;
  perItem: bigint;
  /** How it was measured (the test that re-measures it). */
  measured: string;
}

/** The measured costs of the batch calls the commands send (rounded up). */
export const MEASURED_GAS = {
  /** DeviceRegistry.registerDevices, per device (a policy clone, its storage, ~128 bytes of calldata). */
  registerDevice: { fixed: 120_000n, perItem: 80_000n, measured: "test/unit/gasBudget.test.ts: 20 and 120 devices of two policies" },
  /** DeviceRegistry.flagFraud, per flag (usage:ingest flags devices it finds misused). */
  flagFraud: { fixed: 80_000n, perItem: 56_000n, measured: "test/unit/gasBudget.test.ts: 20 and 100 flags" },
  /**
   * UsageLedger.disputeRecords, per record at tree depth 24 (a fresh leaf slot, an index, an event, 24 proof
   * siblings: ~1 KB of calldata). Measured 2026-12-05: 82,488 + 47,907 per record (1 record, then the default 249).
   */
  disputeRecord: { fixed: 90_000n, perItem: 50_000n, measured: "test/unit/gasBudget.test.ts: 1 and DISPUTES_PER_TX records at depth 24" },
} as const satisfies Record<string, BatchGas>;

/** The most items one transaction may carry: what GAS_BUDGET holds, and at most what the contract takes. */
export function itemsPerTx(gas: BatchGas, contractMax: number): number {
  const fits = Number((GAS_BUDGET - gas.fixed) / gas.perItem);
  return Math.max(1, Math.min(fits, contractMax));
}

/** The most items one transaction may carry without passing the cap itself (no margin): what a flag may ask. */
export function itemsUnderCap(gas: BatchGas): number {
  return Number((TX_GAS_CAP - gas.fixed) / gas.perItem);
}

/** A batch-size option and what bounds it: the contract's per-call limit and the measured gas per item. */
export interface BatchSizeLimit {
  /** The library parameter (`batchSize`), which the CLI names as its flag (`--batch-size`). */
  param: string;
  gas: BatchGas;
  /** The contract's own per-call limit, and the contract that sets it. */
  contractMax: number;
  contract: string;
  /** What one item is ("devices"). */
  unit: string;
}

/**
 * Refuses, before anything is sent, a batch size that is not an integer from 1 to the largest that fits:
 * at most the contract's limit, and at most what 16,777,216 gas holds at the measured gas per item (a
 * larger transaction is refused by networks at Osaka, EIP-7825). The error names the largest value and why.
 */
export function checkBatchSize(value: number, limit: BatchSizeLimit): void {
  const underCap = itemsUnderCap(limit.gas);
  const largest = Math.min(limit.contractMax, underCap);
  if (Number.isInteger(value) && value >= 1 && value <= largest) return;
  const perItem = limit.gas.perItem.toLocaleString("en-US");
  const why =
    limit.contractMax <= underCap
      ? `${limit.contract} takes at most ${limit.contractMax} ${limit.unit} per call (well under the EIP-7825 cap of 16,777,216 gas per transaction at about ${perItem} gas each)`
      : `at about ${perItem} gas each (measured, lib/chain/gasBudget.ts), more than ${largest} ${limit.unit} would need over 16,777,216 gas, the most one transaction may use on a network at Osaka (EIP-7825)`;
  throw new InputError(`batch size must be an integer from 1 to ${largest}, found ${value}: ${why}`, {
    location: { param: limit.param },
    hint: `use at most ${largest} (the default, ${itemsPerTx(limit.gas, limit.contractMax)}, keeps a quarter of the cap spare).`,
  });
}
