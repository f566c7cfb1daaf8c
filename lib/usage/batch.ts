import { TypedDataEncoder, type Signer, type TypedDataDomain, type TypedDataField } from "ethers";
import { BaseError, InputError } from "../core/errors";
import type { Hex } from "../util/hex";
import type { ClassTotals, UsageBatch } from "./types";
import type {
  ClassTotalsStruct,
  ClassTotalsStructOutput,
  UsageBatchStruct,
  UsageBatchSubmittedEvent,
} from "../../typechain-types/contracts/UsageLedger";

/**
 * EIP-712 of the usage-batch summary a visited carrier signs. The types match
 * contracts/libraries/UsageBatchLib.sol field for field, so `batchId` here equals the contract's
 * `hashBatch` and a signature made with `signBatch` recovers on-chain.
 */

/** EIP-712 domain name and version of the UsageLedger contract. */
export const LEDGER_DOMAIN_NAME = "RoamLedger UsageLedger";
export const LEDGER_DOMAIN_VERSION = "1";

/** ethers typed-data types of `UsageBatch` (primary type) and the `ClassTotals` it holds. */
export const USAGE_BATCH_TYPES: Record<string, TypedDataField[]> = {
  UsageBatch: [
    { name: "visited", type: "bytes3" },
    { name: "home", type: "bytes3" },
    { name: "period", type: "uint32" },
    { name: "merkleRoot", type: "bytes32" },
    { name: "recordCount", type: "uint32" },
    { name: "payloadHash", type: "bytes32" },
    { name: "totals", type: "ClassTotals[]" },
  ],
  ClassTotals: [
    { name: "tariffClass", type: "uint8" },
    { name: "records", type: "uint32" },
    { name: "activeDevices", type: "uint32" },
    { name: "roamerDays", type: "uint32" },
    { name: "dataBytes", type: "uint64" },
    { name: "signallingEvents", type: "uint64" },
    { name: "smsCount", type: "uint64" },
    { name: "voiceSeconds", type: "uint64" },
    { name: "qosSamples", type: "uint32" },
    { name: "latencyMsSum", type: "uint64" },
    { name: "throughputKbpsSum", type: "uint64" },
  ],
};

/** The EIP-712 domain of a UsageLedger deployment. */
export function ledgerDomain(chainId: bigint | number, ledgerAddress: string): TypedDataDomain {
  return { name: LEDGER_DOMAIN_NAME, version: LEDGER_DOMAIN_VERSION, chainId, verifyingContract: ledgerAddress };
}

/** The batch id: the EIP-712 struct hash of the summary (the contract's `hashBatch`). */
export function batchId(batch: UsageBatch): Hex {
  return TypedDataEncoder.hashStruct("UsageBatch", USAGE_BATCH_TYPES, batch) as Hex;
}

/** The digest an operator of the visited carrier signs (the contract's `batchDigest`). */
export function batchDigest(domain: TypedDataDomain, batch: UsageBatch): Hex {
  return TypedDataEncoder.hash(domain, USAGE_BATCH_TYPES, batch) as Hex;
}

/** Signs the summary with an operator key of the visited carrier (EIP-712 `eth_signTypedData_v4`). */
export async function signBatch(signer: Signer, domain: TypedDataDomain, batch: UsageBatch): Promise<Hex> {
  return (await signer.signTypedData(domain, USAGE_BATCH_TYPES, batch)) as Hex;
}

/** The summary in the shape the typechain binding takes. */
export function toContractBatch(batch: UsageBatch): UsageBatchStruct {
  return {
    visited: batch.visited,
    home: batch.home,
    period: batch.period,
    merkleRoot: batch.merkleRoot,
    recordCount: batch.recordCount,
    payloadHash: batch.payloadHash,
    totals: batch.totals.map((t): ClassTotalsStruct => ({ ...t })),
  };
}

/** Class totals as the contract returns them (bigints) in the library's shape. */
export function totalsFromContract(totals: readonly ClassTotalsStructOutput[]): ClassTotals[] {
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

/** Bytes of one class's totals in the packing of the `UsageBatchSubmitted` event. */
export const PACKED_TOTALS_BYTES = 65;

/** Field widths in bytes of the packing, in struct order (contract IUsageLedger `UsageBatchSubmitted`). */
const PACKING: readonly [keyof ClassTotals, number][] = [
  ["tariffClass", 1],
  ["records", 4],
  ["activeDevices", 4],
  ["roamerDays", 4],
  ["dataBytes", 8],
  ["signallingEvents", 8],
  ["smsCount", 8],
  ["voiceSeconds", 8],
  ["qosSamples", 4],
  ["latencyMsSum", 8],
  ["throughputKbpsSum", 8],
];

/** Class totals packed as the `UsageBatchSubmitted` event carries them: 65 bytes per class, big-endian. */
export function packTotals(totals: readonly ClassTotals[]): Hex {
  const out = Buffer.alloc(totals.length * PACKED_TOTALS_BYTES);
  let o = 0;
  for (const t of totals) {
    for (const [field, width] of PACKING) {
      let value = BigInt(t[field]);
      if (value < 0n || value >= 1n << BigInt(8 * width)) {
        throw new InputError(`class ${t.tariffClass} total ${field} = ${value} does not fit ${8 * width} bits`);
      }
      for (let k = width - 1; k >= 0; k--, value >>= 8n) out[o + k] = Number(value & 0xffn);
      o += width;
    }
  }
  return `0x${out.toString("hex")}`;
}

/** The class totals of a `UsageBatchSubmitted` event's packed `totals`. */
export function unpackTotals(packed: string): ClassTotals[] {
  const bytes = Buffer.from(packed.replace(/^0x/, ""), "hex");
  if (bytes.length % PACKED_TOTALS_BYTES !== 0) {
    throw new InputError(`packed totals of ${bytes.length} bytes are not a whole number of ${PACKED_TOTALS_BYTES}-byte classes`);
  }
  const totals: ClassTotals[] = [];
  for (let o = 0; o < bytes.length; ) {
    const t: Record<string, number | bigint> = {};
    for (const [field, width] of PACKING) {
      const value = BigInt(`0x${bytes.toString("hex", o, o + width)}`);
      t[field] = width === 8 ? value : Number(value);
      o += width;
    }
    totals.push(t as unknown as ClassTotals);
  }
  return totals;
}

/**
 * The summary of a `UsageBatchSubmitted` log (its decoded `args`), as submitted. Checks that it hashes
 * to the log's batch id, so what a home carrier disputes or closes with is exactly what was committed.
 */
export function fromEventArgs(args: UsageBatchSubmittedEvent.OutputObject): UsageBatch {
  const batch: UsageBatch = {
    visited: args.visited.toLowerCase() as Hex,
    home: args.home.toLowerCase() as Hex,
    period: Number(args.period),
    merkleRoot: args.merkleRoot.toLowerCase() as Hex,
    recordCount: Number(args.recordCount),
    payloadHash: args.payloadHash.toLowerCase() as Hex,
    totals: unpackTotals(args.totals),
  };
  const id = batchId(batch);
  if (id !== args.batchId.toLowerCase()) {
    throw new BaseError(`UsageBatchSubmitted log of batch ${args.batchId} does not hash to its id (got ${id})`, {
      hint: "the log was not decoded with the UsageLedger ABI of this library version.",
    });
  }
  return batch;
}
