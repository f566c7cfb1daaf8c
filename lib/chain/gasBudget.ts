/**
 * Items per transaction from measured gas, so that every batch a command sends fits under EIP-7825's cap of
 * 16,777,216 gas per transaction (enforced by networks at Osaka; QBFT networks may lower it) with a margin:
 * a batch may use at most GAS_BUDGET, three quarters of the cap, for items whose cost varies with their
 * data (a fresh storage slot, a longer proof). test/unit/gasBudget.test.ts measures each cost again on the
 * hardhat network and fails when one has grown past what is written here; docs/besu.md lists them.
 */

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
