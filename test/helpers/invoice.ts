/**
 * Invoice test inputs and a PDF text reader: a hand-built set of chain data (what lib/invoice/chain reads)
 * whose figures are worked out in the comments, and the text of a PDF's pages.
 */
import zlib from "node:zlib";
import hre from "hardhat";
import { keccak256, toUtf8Bytes, type TypedDataDomain } from "ethers";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { rateInvoice } from "../../lib/settlement/rating";
import type { InvoiceChainData } from "../../lib/invoice/types";
import type { FullTerms, PeriodUsage } from "../../lib/invoice/usage";
import { type Hex, hexToBytes } from "../../lib/util/hex";
import { pairwiseKey } from "../../lib/crypto/pairwise";
import { batchTotalsCommitment } from "../../lib/crypto/commitment";
import { sealTerms } from "../../lib/agreements/sealed";
import { accumulatorOf, disputeHashOf } from "../../lib/usage/accumulator";
import { LeafHasher, packRecord, RECORD_BYTES } from "../../lib/usage/leaf";
import { sealPayload, totalsSaltOf } from "../../lib/usage/payload";
import type { ContentStore } from "../../lib/usage/store";
import { depthOf, merkleTree, merkleProof, type MerkleTree } from "../../lib/usage/merkle";
import { ledgerDomain, signBatch, toContractBatch, type UsageBatchHeader } from "../../lib/usage/batch";
import type { ClassTotals, UsageRecord } from "../../lib/usage/types";
import { deployConsortium, SUBMISSION_GRACE, TEST_SLA, testEncryptionKey, type Consortium } from "./fixtures";
import { randomRecords, totalsOf, periodOf, boundsOf } from "./usage";
import { BR, DE, classTotals, plan, sla, terms, TOKEN } from "./rating";

const MB = 1_000_000n;
const tx = (n: number) => `0x${n.toString(16).padStart(64, "a")}` as Hex;
const id = (n: number) => `0x${n.toString(16).padStart(64, "b")}` as Hex;

/**
 * BR (visited, payee) bills DE (home, payer) for 2026-11 in a 6-decimal token. Class 1: 1 RLST/MB with 10 %
 * off from 100 MB and 25 % from 1,000 MB; class 2: 2 RLST/MB; class 7 has no plan at BR (unpriced).
 * Class 1: 1,500 MB = 100 + 900 x 0.9 + 500 x 0.75 = 1,285 RLST; signalling 1,000 x 0.0001 = 0.1; SMS 20 x
 * 0.01 = 0.2; voice 61 s x 0.02/min = 0.020333; 3 devices x 0.05 = 0.15; 4 roamer-days x 0.05 = 0.2:
 * 1,285.670333. Class 2: 3.5 MB x 2 = 7. Subtotal 1,292.670333. Latency (1,000 + 503) / 3 = 501 > 500:
 * 1 % credit = 12.926703; net 1,279.74363.
 */
export function sampleChainData(overrides: Partial<InvoiceChainData> = {}): InvoiceChainData {
  const t = sampleTerms();
  const { class1, class2, class7 } = sampleTotals();
  const periodTotals = [class1, class2, class7];
  const rating = rateInvoice(periodTotals, t, BR);
  const closedAt = Date.UTC(2026, 11, 9, 10, 30) / 1000;
  const totalsCommitment = keccak256(toUtf8Bytes("sample totals commitment")) as Hex;
  return {
    chainId: 31337n,
    escrowAddress: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    payer: { plmn: DE, name: "Telekom Deutschland" },
    payee: { plmn: BR, name: "Vivo Brasil" },
    period: 202611,
    perspective: "payee",
    readAt: closedAt + 86_400,
    escrow: {
      status: "closed",
      resolution: "co-signed",
      agreementVersion: 1,
      proposedAt: closedAt - 3_600,
      closedAt,
      net: rating.net,
      amount: rating.net,
      totalsCommitment,
      proposeTx: tx(99),
      closeTx: tx(100),
    },
    reconciliation: { net: rating.net, totalsCommitment, agrees: true, differences: [] },
    agreementVersion: 1,
    token: { address: TOKEN, symbol: "RLST", decimals: 6 },
    terms: t,
    rating,
    periodTotals,
    batches: sampleBatches(class1, class7),
    notBillable: sampleNotBillable(),
    ...overrides,
  };
}

/** The sample's terms: BR's plans for classes 1 (tiered) and 2, DE's for class 7; the SLA and surcharge. */
function sampleTerms() {
  return terms(
    [
      plan(DE, 7, { perMb: 1_000_000n }),
      plan(BR, 1, {
        perMb: 1_000_000n,
        perSignallingEvent: 100n,
        perSms: 10_000n,
        perVoiceMinute: 20_000n,
        monthlyFeePerDevice: 50_000n,
        tiers: [
          { fromMb: 100n, discountBps: 1000 },
          { fromMb: 1000n, discountBps: 2500 },
        ],
      }),
      plan(BR, 2, { perMb: 2_000_000n }),
    ],
    {
      disputeWindow: 7 * 86_400,
      permanentRoamingDays: 90,
      permanentRoamingSurchargePerDay: 50_000n,
      sla: sla({ maxLatencyMs: 500, minThroughputKbps: 100, latencyCreditBps: 100, throughputCreditBps: 250 }),
    },
  );
}

/** The sample's final period totals of classes 1, 2 and 7. */
function sampleTotals() {
  const class1 = classTotals(1, {
    records: 1_100,
    activeDevices: 3,
    roamerDays: 4,
    dataBytes: 1500n * MB,
    signallingEvents: 1_000n,
    smsCount: 20n,
    voiceSeconds: 61n,
    qosSamples: 2,
    latencyMsSum: 1_000n,
    throughputKbpsSum: 150n,
  });
  const class2 = classTotals(2, { records: 7, activeDevices: 1, dataBytes: 3_500_000n });
  const class7 = classTotals(7, { records: 5, dataBytes: 9n * MB, qosSamples: 1, latencyMsSum: 503n, throughputKbpsSum: 150n });
  return { class1, class2, class7 };
}

/** B1 accepted (classes 1 and 7), B2 expired (counted) with 2 records of class 2 disputed, B3 rejected. */
function sampleBatches(class1: ClassTotals, class7: ClassTotals): InvoiceChainData["batches"] {
  return [
    {
      batchId: id(1),
      state: "accepted",
      submittedAt: Date.UTC(2026, 10, 15) / 1000,
      submitTx: tx(1),
      recordCount: 1_120,
      totals: [class1, class7],
      disputed: [],
      disputedRecords: 0,
      disputeTxs: [],
      disputeReasons: [],
      acceptTx: tx(11),
    },
    {
      batchId: id(2),
      state: "expired",
      submittedAt: Date.UTC(2026, 10, 30) / 1000,
      submitTx: tx(2),
      recordCount: 9,
      totals: [classTotals(2, { records: 9, activeDevices: 1, dataBytes: 4_500_000n })],
      disputed: [classTotals(2, { records: 2, dataBytes: 1_000_000n })],
      disputedRecords: 2,
      disputeTxs: [tx(21)],
      disputeReasons: [{ reason: 2, name: "VOLUME_MISMATCH", records: 2 }],
    },
    {
      batchId: id(3),
      state: "rejected",
      submittedAt: Date.UTC(2026, 10, 20) / 1000,
      submitTx: tx(3),
      recordCount: 40,
      totals: [classTotals(1, { records: 40, dataBytes: 40n * MB })],
      disputed: [],
      disputedRecords: 0,
      disputeTxs: [],
      disputeReasons: [],
      rejectTx: tx(31),
      rejectReason: { code: 3, name: "TOTALS_MISMATCH" },
    },
  ];
}

/** 5 records of the payloads not billable: 3 service-not-allowed, 2 daily-cap-exceeded. */
function sampleNotBillable(): InvoiceChainData["notBillable"] {
  return {
    available: true,
    batchesRead: 2,
    records: 1_129,
    byReason: [
      { code: 1, reason: "service-not-allowed", records: 3, perClass: [{ tariffClass: 1, records: 3 }] },
      {
        code: 3,
        reason: "daily-cap-exceeded",
        records: 2,
        perClass: [
          { tariffClass: 1, records: 1 },
          { tariffClass: 2, records: 1 },
        ],
      },
    ],
  };
}

/**
 * The text drawn on each page of a PDF made by pdfkit with the standard fonts: its content streams are
 * inflated and the hex strings of TJ operators decoded (WinAnsi, which is Latin-1 for ASCII).
 */
/** Splits one CSV line into fields (RFC 4180 quotes). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        value += line.slice(i, q);
        i = q + 1;
        if (line[i] === '"') {
          value += '"';
          i++;
        } else break;
      }
      out.push(value);
      i++; // the comma
    } else {
      const comma = line.indexOf(",", i);
      const end = comma === -1 ? line.length : comma;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

export function csvRows(csv: string): Record<string, string>[] {
  const [header, ...rows] = csv.trimEnd().split("\n");
  const names = csvFields(header);
  return rows.map((r) => Object.fromEntries(csvFields(r).map((v, i) => [names[i], v])));
}

export function pdfPagesText(pdf: Buffer): string {
  const text: string[] = [];
  const raw = pdf.toString("latin1");
  for (const m of raw.matchAll(/stream\r?\n/g)) {
    const start = m.index + m[0].length;
    const end = raw.indexOf("endstream", start);
    const bytes = pdf.subarray(start, end);
    let content: string;
    try {
      content = zlib.inflateSync(bytes).toString("latin1");
    } catch {
      content = bytes.toString("latin1");
    }
    for (const op of content.matchAll(/\[([^\]]*)\]\s*TJ/g)) {
      const parts = [...op[1].matchAll(/<([0-9a-fA-F]*)>/g)].map((h) => Buffer.from(h[1], "hex").toString("latin1"));
      text.push(parts.join(""));
    }
  }
  return text.join("\n");
}

// ---------------------------------------------------------------------------------------------------
// A full period on the real contracts
// ---------------------------------------------------------------------------------------------------

/**
 * DE-BR terms for a full period: BR (visited) bills class 1 at 0.001 RLST/MB with 20 % off from 1,000 MB,
 * 0.00001 per SMS, 0.00006 per voice minute, 0.0001 per active device; class 2 at 0.002/MB and 0.00003
 * per voice minute. DE (visited)
 * bills BR class 1 and 2 at 0.0005/MB and 0.00005 per device. SLA 500 ms / 100 kbit/s, 1 % credit each.
 */
export function periodTerms(token: string, validFrom: number) {
  const plan = (visited: string, tariffClass: number, fields: object) => ({
    visited,
    tariffClass,
    perMb: 0n,
    perSignallingEvent: 0n,
    perSms: 0n,
    perVoiceMinute: 0n,
    monthlyFeePerDevice: 0n,
    tiers: [] as { fromMb: bigint; discountBps: number }[],
    ...fields,
  });
  return {
    settlementToken: token,
    validFrom,
    validUntil: validFrom + 400 * 86_400,
    disputeWindow: 7 * 86_400,
    permanentRoamingDays: 90,
    permanentRoamingSurchargePerDay: 5n,
    sla: TEST_SLA,
    ratePlans: [
      plan(BR, 1, {
        perMb: 1_000n,
        perSignallingEvent: 1n,
        perSms: 10n,
        perVoiceMinute: 60n,
        monthlyFeePerDevice: 100n,
        tiers: [{ fromMb: 1_000n, discountBps: 2_000 }],
      }),
      plan(BR, 2, { perMb: 2_000n, perVoiceMinute: 30n }),
      plan(DE, 1, { perMb: 500n, monthlyFeePerDevice: 50n }),
      plan(DE, 2, { perMb: 500n, monthlyFeePerDevice: 50n }),
    ],
  };
}

/** Private keys of the encryption keys `deployConsortium` registers (testEncryptionKey(seed)). */
export const ENCRYPTION_PRIVATE_KEY = { DE: `0x${"1".padStart(64, "0")}`, BR: `0x${"3".padStart(64, "0")}` } as const;

/** A batch committed on the real ledger, with everything its payload would carry. */
export interface CommittedBatch {
  header: UsageBatchHeader;
  id: Hex;
  txHash: Hex;
  records: UsageRecord[];
  tree: MerkleTree;
  totals: ClassTotals[];
  salt: Hex;
  /** Leaf indexes the home carrier disputed, in the order it disputed them. */
  disputed: number[];
}

/** A period between DE and BR on the real contracts (RoamLedger's Ignition module), ready to be invoiced. */
export interface InvoiceWorld extends Consortium {
  period: number;
  start: number;
  end: number;
  ledgerDomain: TypedDataDomain;
  /** The DE-BR pairwise key (both sides compute it). */
  key: Uint8Array;
  /** Version 1, in force from inside the period on. */
  terms: FullTerms;
  /** BR's batches for DE (BR bills DE) and DE's for BR, in the order they were decided (counted). */
  brBatches: CommittedBatch[];
  deBatches: CommittedBatch[];
}

/** A 32-byte salt of the tests, from a label. */
const saltOf = (label: string) => keccak256(toUtf8Bytes(label)) as Hex;

/** DE proposes `periodTerms` sealed for BR (v2), BR accepts the commitment; returns the full terms. */
async function agreeSealed(c: Consortium, key: Uint8Array, validFrom: number): Promise<FullTerms> {
  const full = periodTerms(await c.token.getAddress(), validFrom);
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const context = { chainId, agreements: await c.agreements.getAddress(), proposer: DE, counterparty: BR };
  const termsSalt = saltOf("terms salt");
  const { sealed, publicTerms } = sealTerms({ key, context, terms: full, salt: termsSalt });
  await c.agreements.connect(c.de).propose(BR, publicTerms, sealed);
  await c.agreements.connect(c.br).accept(DE, 1, publicTerms.termsCommitment);
  return { version: 1, terms: full, termsSalt, termsCommitment: publicTerms.termsCommitment };
}

/**
 * Commits `records` as one batch of `visited` for `home`, signed by `signer` (an operator of `visited`).
 * With `at.store` (and the pair's `at.key`), the batch is sealed as ingest seals it: its salt derived from
 * the records (`totalsSaltOf`), its payload (`sequence` in the run) sealed into the store, whose hash the
 * header commits; without, the salt and payload hash are labels of the test.
 */
export async function commitBatch(
  at: { ledger: Consortium["ledger"]; domain: TypedDataDomain; period: number; key?: Uint8Array; store?: ContentStore },
  batch: { records: UsageRecord[]; visited: Hex; home: Hex; signer: HardhatEthersSigner; sequence?: number },
): Promise<CommittedBatch> {
  const { records, visited, home, signer } = batch;
  const hasher = await LeafHasher.create();
  const totals = totalsOf(records);
  const packed = new Uint8Array(records.length * RECORD_BYTES);
  for (const [i, r] of records.entries()) packRecord(r, packed, i * RECORD_BYTES);
  const sealing = at.store && at.key ? { store: at.store, key: at.key } : undefined;
  const salt = sealing ? totalsSaltOf(sealing.key, packed) : saltOf(`batch ${records[0].recordId}`);
  // Leaves are salted with the batch's totals salt, as sealing does.
  const tree = await merkleTree(hasher.leavesOfRecords(records, hexToBytes(salt)));
  const recordCount = records.length;
  const payloadHeader = { visited, home, period: at.period, sequence: batch.sequence ?? 0, recordCount, totals, totalsSalt: salt };
  const payload = { header: { ...payloadHeader, activeDevices: [], roamerDays: [] }, records: packed };
  const header: UsageBatchHeader = {
    visited,
    home,
    period: at.period,
    merkleRoot: `0x${tree[tree.length - 1].toString("hex")}` as Hex,
    treeDepth: depthOf(tree),
    payloadHash: sealing ? await sealing.store.put(sealPayload(sealing.key, payload)) : saltOf(`payload ${records[0].recordId}`),
    totalsCommitment: batchTotalsCommitment({ recordCount, totals, salt }),
  };
  const tx = await at.ledger.connect(signer).submitBatch(toContractBatch(header), await signBatch(signer, at.domain, header));
  const receipt = await tx.wait();
  const event = receipt!.logs.flatMap((l) => at.ledger.interface.parseLog(l) ?? []).find((e) => e.name === "UsageBatchSubmitted");
  return { header, id: event!.args.batchId as Hex, txHash: tx.hash as Hex, records, tree, totals, salt, disputed: [] };
}

/** The home carrier disputes the leaves `indexes` of `batch` (reason 2), in that order. */
export async function disputeLeaves(c: Consortium, batch: CommittedBatch, indexes: number[], signer: HardhatEthersSigner) {
  const hasher = await LeafHasher.create();
  const disputes = indexes.map((i) => ({
    leafIndex: i,
    leaf: hasher.leafOf(batch.records[i], hexToBytes(batch.salt)),
    proof: merkleProof(batch.tree, i),
    reason: 2,
  }));
  const receipt = await (await c.ledger.connect(signer).disputeRecords(batch.id, disputes)).wait();
  batch.disputed.push(...indexes);
  return receipt!;
}

/** The period's usage of `batches` (all counted, in this order) as a carrier assembles it. */
export async function usageOfBatches(
  world: Pick<InvoiceWorld, "period">,
  home: Hex,
  visited: Hex,
  batches: readonly CommittedBatch[],
): Promise<PeriodUsage> {
  const hasher = await LeafHasher.create();
  const counted = batches.map((b) => ({
    batchId: b.id,
    totalsCommitment: b.header.totalsCommitment,
    disputeCount: b.disputed.length,
    disputeHash: disputeHashOf(b.disputed.map((i) => ({ leafIndex: i, leaf: hasher.leafOf(b.records[i], hexToBytes(b.salt)) }))),
  }));
  return {
    home,
    visited,
    period: world.period,
    accumulator: accumulatorOf(counted),
    batches: batches.map((b) => ({
      batchId: b.id,
      txHash: b.txHash,
      totalsCommitment: b.header.totalsCommitment,
      recordCount: b.records.length,
      totals: b.totals,
      totalsSalt: b.salt,
      disputed: b.disputed.map((i) => ({ leafIndex: i, record: b.records[i] })),
    })),
  };
}

/** Where a batch is committed: the ledger, its EIP-712 domain, the period and the pair's key. */
export interface CommitAt {
  ledger: Consortium["ledger"];
  domain: TypedDataDomain;
  period: number;
  key: Uint8Array;
}

/** Commits one batch of records (default {@link commitBatch}: a header without a stored payload). */
export type CommitBatch = (
  at: CommitAt,
  batch: { records: UsageRecord[]; visited: Hex; home: Hex; signer: HardhatEthersSigner },
) => Promise<CommittedBatch>;

export interface InvoiceWorldOptions {
  /** BR's batches for DE (default 2) and records in each (default 40). */
  brBatches?: number;
  records?: number;
  /** Billable records of BR's first batch that DE disputes (default 2). */
  disputes?: number;
  /** How each batch is committed (default {@link commitBatch}). */
  commit?: CommitBatch;
}

/**
 * A whole period between DE and BR on the real contracts, up to where it can be closed: sealed terms
 * (periodTerms, v2), BR's batches for DE (the first with `disputes` billable records disputed), DE's one
 * batch for BR, all accepted, then the clock past the period's end and the submission grace.
 */
export async function invoiceWorld(opts: InvoiceWorldOptions = {}): Promise<InvoiceWorld> {
  const [, nextMonth] = boundsOf(periodOf(await time.latest()));
  await time.increaseTo(nextMonth + 86_400);
  const c = await deployConsortium();
  const key = pairwiseKey({
    myPrivateKey: ENCRYPTION_PRIVATE_KEY.DE as Hex,
    theirPublicKey: testEncryptionKey(3) as Hex,
    plmnA: DE,
    plmnB: BR,
  });
  const terms = await agreeSealed(c, key, await time.latest());
  const period = periodOf(nextMonth);
  const [start, end] = boundsOf(period);
  const domain = ledgerDomain((await hre.ethers.provider.getNetwork()).chainId, await c.ledger.getAddress());
  const at = { ledger: c.ledger, domain, period, key };
  const commit = opts.commit ?? commitBatch;
  const brBatches: CommittedBatch[] = [];
  for (let i = 0; i < (opts.brBatches ?? 2); i++) {
    const records = randomRecords(opts.records ?? 40, DE, BR, 20 + i, start);
    brBatches.push(await commit(at, { records, visited: BR, home: DE, signer: c.br }));
  }
  const first = brBatches[0];
  const billable = first.records.flatMap((r, i) => (r.billing === 0 ? [i] : []));
  if ((opts.disputes ?? 2) > 0) await disputeLeaves(c, first, billable.slice(0, opts.disputes ?? 2).reverse(), c.de);
  const deBatches = [await commit(at, { records: randomRecords(30, BR, DE, 9, start), visited: DE, home: BR, signer: c.de })];
  for (const b of brBatches) await c.ledger.connect(c.de).acceptBatches([b.id]);
  await c.ledger.connect(c.br).acceptBatches([deBatches[0].id]);
  await time.increaseTo(end + SUBMISSION_GRACE);
  return { ...c, period, start, end, ledgerDomain: domain, key, terms, brBatches, deBatches };
}

/** BR (visited, payee: the sample's perspective) and what it knows of DE. */
export const BR_BILLING = {
  self: {
    legalName: "Vivo Brasil Telecomunicações S.A.",
    address: ["Av. Engenheiro Luis Carlos Berrini 1376", "04571-936 Sao Paulo"],
    country: "BR",
    taxId: "BR02558157000162",
    tadig: ["BRAV2", "BRAVC"],
    disputeContact: "roaming-disputes@vivo.example",
    paymentTermsDays: 30,
    paymentReference: "VIVO-{period}-{check}",
    tax: "reverse-charge",
  },
  partners: {
    "262-01": {
      legalName: "Telekom Deutschland GmbH",
      address: ["Landgrabenweg 151", "53227 Bonn"],
      country: "DE",
      taxId: "DE122265872",
      tadig: "DEUD1",
    },
  },
};
