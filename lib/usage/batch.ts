import { TypedDataEncoder, type Signer, type TypedDataDomain, type TypedDataField } from "ethers";
import { BaseError } from "../core/errors";
import type { Hex } from "../util/hex";
import type { ClassTotals } from "./types";
import type { UsageBatchStruct, UsageBatchSubmittedEvent } from "../../typechain-types/contracts/UsageLedger";

/**
 * EIP-712 of the usage-batch header a visited carrier signs. The type matches
 * contracts/libraries/UsageBatchLib.sol field for field, so `batchId` here equals the contract's
 * `hashBatch` and a signature made with `signBatch` recovers on-chain. The header carries no volume: the
 * totals are only committed (`totalsCommitment`), the records only by their Merkle root.
 */

/** EIP-712 domain name and version of the UsageLedger contract. */
export const LEDGER_DOMAIN_NAME = "RoamLedger UsageLedger";
export const LEDGER_DOMAIN_VERSION = "1";

/** The public header of a usage batch (contract struct `UsageBatch`); its EIP-712 struct hash is the batch id. */
export interface UsageBatchHeader {
  visited: Hex;
  home: Hex;
  /** yyyymm, e.g. 202611. */
  period: number;
  /** Root of the positional tree over the records' leaves (lib/usage/merkle.ts). */
  merkleRoot: Hex;
  /** Depth of that tree, 0 to 24 (`treeDepth` of lib/usage/merkle.ts). */
  treeDepth: number;
  /** keccak256 of the sealed payload. */
  payloadHash: Hex;
  /** Salted commitment to the record count and the class totals (CommitmentLib.batchTotals). */
  totalsCommitment: Hex;
}

/** ethers typed-data types of `UsageBatch` (a PlmnId is its `bytes3`). */
export const USAGE_BATCH_TYPES: Record<string, TypedDataField[]> = {
  UsageBatch: [
    { name: "visited", type: "bytes3" },
    { name: "home", type: "bytes3" },
    { name: "period", type: "uint32" },
    { name: "merkleRoot", type: "bytes32" },
    { name: "treeDepth", type: "uint8" },
    { name: "payloadHash", type: "bytes32" },
    { name: "totalsCommitment", type: "bytes32" },
  ],
};

/** The EIP-712 domain of a UsageLedger deployment. */
export function ledgerDomain(chainId: bigint | number, ledgerAddress: string): TypedDataDomain {
  return { name: LEDGER_DOMAIN_NAME, version: LEDGER_DOMAIN_VERSION, chainId, verifyingContract: ledgerAddress };
}

/** The batch id: the EIP-712 struct hash of the header (the contract's `hashBatch`). */
export function batchId(batch: UsageBatchHeader): Hex {
  return TypedDataEncoder.hashStruct("UsageBatch", USAGE_BATCH_TYPES, toContractBatch(batch)) as Hex;
}

/** The digest an operator of the visited carrier signs (the contract's `batchDigest`). */
export function batchDigest(domain: TypedDataDomain, batch: UsageBatchHeader): Hex {
  return TypedDataEncoder.hash(domain, USAGE_BATCH_TYPES, toContractBatch(batch)) as Hex;
}

/** Signs the header with an operator key of the visited carrier (EIP-712 `eth_signTypedData_v4`). */
export async function signBatch(signer: Signer, domain: TypedDataDomain, batch: UsageBatchHeader): Promise<Hex> {
  return (await signer.signTypedData(domain, USAGE_BATCH_TYPES, toContractBatch(batch))) as Hex;
}

/** The header in the shape the typechain binding takes (only the struct's fields, whatever else `batch` carries). */
export function toContractBatch(batch: UsageBatchHeader): UsageBatchStruct {
  return {
    visited: batch.visited,
    home: batch.home,
    period: batch.period,
    merkleRoot: batch.merkleRoot,
    treeDepth: batch.treeDepth,
    payloadHash: batch.payloadHash,
    totalsCommitment: batch.totalsCommitment,
  };
}

/**
 * The header of a `UsageBatchSubmitted` log (its decoded `args`), as submitted. Checks that it hashes to
 * the log's batch id, so what a home carrier decides on or disputes is exactly what was committed.
 */
export function fromEventArgs(args: UsageBatchSubmittedEvent.OutputObject): UsageBatchHeader {
  const batch: UsageBatchHeader = {
    visited: args.visited.toLowerCase() as Hex,
    home: args.home.toLowerCase() as Hex,
    period: Number(args.period),
    merkleRoot: args.merkleRoot.toLowerCase() as Hex,
    treeDepth: Number(args.treeDepth),
    payloadHash: args.payloadHash.toLowerCase() as Hex,
    totalsCommitment: args.totalsCommitment.toLowerCase() as Hex,
  };
  const id = batchId(batch);
  if (id !== args.batchId.toLowerCase()) {
    throw new BaseError(`UsageBatchSubmitted log of batch ${args.batchId} does not hash to its id (got ${id})`, {
      hint: "the log was not decoded with the UsageLedger ABI of this library version.",
    });
  }
  return batch;
}

/** Class totals as a contract returns them (bigints), field for field. */
export type ClassTotalsOutput = { [K in keyof ClassTotals]: bigint };

/** Class totals as the contract returns them (bigints) in the library's shape. */
export function totalsFromContract(totals: readonly ClassTotalsOutput[]): ClassTotals[] {
  return totals.map((t) => ({
    tariffClass: Number(t.tariffClass),
    records: Number(t.records),
    activeDevices: Number(t.activeDevices),
    roamerDays: Number(t.roamerDays),
    dataBytes: t.dataBytes,
    signallingEvents: t.signallingEvents,
    smsCount: t.smsCount,
    voiceSeconds: t.voiceSeconds,
    qosSamples: Number(t.qosSamples),
    latencyMsSum: t.latencyMsSum,
    throughputKbpsSum: t.throughputKbpsSum,
  }));
}
