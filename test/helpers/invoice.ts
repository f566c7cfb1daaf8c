/**
 * Invoice test inputs and a PDF text reader: a hand-built set of chain data (what lib/invoice/chain reads)
 * whose figures are worked out in the comments, and the text of a PDF's pages.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import hre from "hardhat";
import { hexlify, type TypedDataDomain } from "ethers";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { rateInvoice } from "../../lib/settlement/rating";
import { netOfDisputes, sumByClass } from "../../lib/settlement/totals";
import type { InvoiceChainData } from "../../lib/invoice/types";
import { type Hex, hexToBytes } from "../../lib/util/hex";
import { Keystore } from "../../lib/keys/keystore";
import { pairwiseKey } from "../../lib/crypto/pairwise";
import { FolderStore } from "../../lib/usage/store";
import { sealPayload, totalsSaltOf } from "../../lib/usage/payload";
import { LeafHasher, packRecord, RECORD_BYTES } from "../../lib/usage/leaf";
import { merkleTree, merkleProof, type MerkleTree } from "../../lib/usage/merkle";
import { batchId, ledgerDomain, signBatch, toContractBatch } from "../../lib/usage/batch";
import type { ClassTotals, UsageBatch, UsageRecord } from "../../lib/usage/types";
import { agreeDeBrWith, deployConsortium, SUBMISSION_GRACE, TEST_SLA, type Consortium } from "./fixtures";
import { randomRecords, totalsOf, usageOf, periodOf, boundsOf } from "./usage";
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
  return {
    chainId: 31337n,
    escrow: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    payer: { plmn: DE, name: "Telekom Deutschland" },
    payee: { plmn: BR, name: "Vivo Brasil" },
    period: 202611,
    perspective: "payee",
    invoice: {
      status: "open",
      token: TOKEN,
      agreementVersion: 1,
      closedAt: Date.UTC(2026, 11, 9, 10, 30) / 1000,
      amount: rating.net,
      subtotal: rating.subtotal,
      credit: rating.credit,
    },
    token: { address: TOKEN, symbol: "RLST", decimals: 6 },
    terms: t,
    rating,
    closeTx: tx(100),
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

/** B1 accepted (classes 1 and 7), B2 open with 2 records of class 2 disputed, B3 rejected. */
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
      state: "submitted",
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

export interface CommittedBatch {
  batch: UsageBatch;
  id: Hex;
  records: UsageRecord[];
  tree: MerkleTree;
}

export interface PeriodScenario extends Consortium {
  period: number;
  start: number;
  end: number;
  domain: TypedDataDomain;
  /** A key store (DE's and BR's encryption keys) whose `store/` holds the batches' encrypted payloads. */
  keysDir: string;
  /** BR's batches for DE: accepted, disputed (2 records), rejected. */
  accepted: CommittedBatch;
  disputed: CommittedBatch;
  rejected: CommittedBatch;
  /** Indices into `disputed.records` of the disputed records. */
  disputedIndices: number[];
  /** DE's batch for BR (never answered: its window runs out). */
  reverse: CommittedBatch;
  /** The final period totals the ledger must come to, computed here the plain way. */
  expected: { deInBr: ClassTotals[]; brInDe: ClassTotals[] };
  /** The records not billable in the batches that count, per billing code. */
  notBillable: Map<number, number>;
}

const scenarioDirs: string[] = [];

/**
 * Commits `records` as one batch of `visited` for `home` in `period`, the way a visited carrier does: packs
 * them, builds the Merkle tree, seals the payload with the DE-BR pairwise key into `<keysDir>/store`, signs
 * the summary with `signer` (an operator of `visited`) and submits it.
 */
export async function commitUsage(
  at: { ledger: Consortium["ledger"]; domain: TypedDataDomain; keysDir: string; period: number },
  { records, visited, home, signer }: { records: UsageRecord[]; visited: Hex; home: Hex; signer: HardhatEthersSigner },
): Promise<CommittedBatch> {
  const ks = new Keystore(at.keysDir);
  const key = pairwiseKey({
    myPrivateKey: ENCRYPTION_PRIVATE_KEY.BR,
    theirPublicKey: ks.encryptionKey("262-01").publicKey,
    plmnA: BR,
    plmnB: DE,
  });
  const hasher = await LeafHasher.create();
  const packed = new Uint8Array(records.length * RECORD_BYTES);
  records.forEach((r, i) => {
    packRecord(r, packed, i * RECORD_BYTES);
  });
  // The leaves are salted with the batch's totals salt, derived from the records as sealing derives it.
  const tree = await merkleTree(hasher.leavesOf(packed, records.length, hexToBytes(totalsSaltOf(key, packed))));
  const totals = totalsOf(records);
  const period = at.period;
  const sealed = sealPayload(key, {
    header: { visited, home, period, sequence: 0, recordCount: records.length, totals, activeDevices: [], roamerDays: [] },
    records: packed,
  });
  const store = new FolderStore(path.join(at.keysDir, "store"));
  const batch: UsageBatch = {
    visited,
    home,
    period,
    merkleRoot: hexlify(tree[tree.length - 1]) as Hex,
    recordCount: records.length,
    payloadHash: await store.put(sealed),
    totals,
  };
  await at.ledger.connect(signer).submitBatch(toContractBatch(batch), await signBatch(signer, at.domain, batch));
  return { batch, id: batchId(batch), records, tree };
}

/** Removes the key stores the scenarios made (temp folders). */
export function removeScenarioDirs(): void {
  for (const dir of scenarioDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A whole period between DE and BR on the real contracts, up to the point where it can be closed: the
 * agreement (periodTerms), BR's three batches of random records for DE (one accepted, one with two
 * records disputed with Merkle proofs, one rejected) and DE's batch for BR, each with its encrypted
 * payload in a folder store, then the clock past the period's end and the submission grace (or only past
 * its end). The escrow is deployed by `deployConsortium`; nothing is closed or deposited yet.
 */
export async function periodScenario(
  deploy: () => Promise<Consortium> = deployConsortium,
  /** Where to leave the clock: past the submission grace (anyone may close), or just past the period's end. */
  until: "grace" | "end" = "grace",
): Promise<PeriodScenario> {
  const [, nextMonth] = boundsOf(periodOf(await time.latest()));
  await time.increaseTo(nextMonth + 86_400);
  const c = await deploy();
  const token = await c.token.getAddress();
  await agreeDeBrWith(c, periodTerms(token, await time.latest()));
  const period = periodOf(nextMonth);
  const [start, end] = boundsOf(period);
  const domain = ledgerDomain((await hre.ethers.provider.getNetwork()).chainId, await c.ledger.getAddress());

  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-invoice-"));
  scenarioDirs.push(keysDir);
  const ks = new Keystore(keysDir);
  for (const [plmn, key] of [
    ["262-01", ENCRYPTION_PRIVATE_KEY.DE],
    ["724-05", ENCRYPTION_PRIVATE_KEY.BR],
  ] as const) {
    fs.mkdirSync(path.dirname(ks.encryptionKeyPath(plmn)), { recursive: true });
    fs.writeFileSync(ks.encryptionKeyPath(plmn), `${key}\n`, { mode: 0o600 });
  }
  const commit = (records: UsageRecord[], visited: Hex, home: Hex, signer: HardhatEthersSigner) =>
    commitUsage({ ledger: c.ledger, domain, keysDir, period }, { records, visited, home, signer });
  const accepted = await commit(randomRecords(120, DE, BR, 11, start), BR, DE, c.br);
  const disputed = await commit(randomRecords(80, DE, BR, 12, start), BR, DE, c.br);
  const rejected = await commit(randomRecords(30, DE, BR, 13, start), BR, DE, c.br);
  const reverse = await commit(randomRecords(40, BR, DE, 14, start), DE, BR, c.de);

  await c.ledger.connect(c.de).acceptBatches([accepted.id]);
  const disputedIndices = disputed.records
    .map((r, i) => [r, i] as const)
    .filter(([r]) => r.billing === 0)
    .slice(0, 2)
    .map(([, i]) => i);
  await c.ledger.connect(c.de).disputeRecords(
    toContractBatch(disputed.batch),
    disputedIndices.map((i) => ({ record: disputed.records[i], proof: merkleProof(disputed.tree, i), reason: 2 })),
  );
  await c.ledger.connect(c.de).rejectBatch(rejected.id, 3);
  await time.increaseTo(until === "grace" ? end + SUBMISSION_GRACE : end + 60);

  const notBillable = new Map<number, number>();
  for (const r of [...accepted.records, ...disputed.records])
    if (r.billing !== 0) notBillable.set(r.billing, (notBillable.get(r.billing) ?? 0) + 1);
  const disputedUsage = sumByClass(disputedIndices.map((i) => [usageOf(disputed.records[i])]));
  return {
    ...c,
    period,
    start,
    end,
    domain,
    keysDir,
    accepted,
    disputed,
    rejected,
    disputedIndices,
    reverse,
    expected: {
      // The ledger checks it too: periodTotals after the close (test/unit/lib/invoice.test.ts).
      deInBr: netOfDisputes([
        { totals: accepted.batch.totals, disputed: [] },
        { totals: disputed.batch.totals, disputed: disputedUsage },
      ]),
      brInDe: reverse.batch.totals,
    },
    notBillable,
  };
}
