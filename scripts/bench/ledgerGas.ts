import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { keccak256, toUtf8Bytes, type TypedDataDomain } from "ethers";
import { batchId, signBatch, toContractBatch, type UsageBatchHeader } from "../../lib/usage/batch";
import type { Hex } from "../../lib/util/hex";
import { agreeDeBr, deployConsortium, PLMN, type Consortium } from "../../test/helpers/fixtures";
import { commitBatch, disputeLeaves } from "../../test/helpers/invoice";
import { monthOf } from "../../test/helpers/period";
import { randomRecords } from "../../test/helpers/usage";
import { mined } from "../util";
import { domainOf, isolated } from "./gas";

/**
 * Gas of the ledger's v2 procedure on the in-process Hardhat network: deciding batches in bulk (accept,
 * reject, expire; 1 and 256 at a time), disputing records of a depth-17 tree by leaf index (1 and 10 in one
 * transaction), and closing a period after 1 and after many batches (O(1): an accumulator, no batch list).
 * Every figure is the receipt gasUsed of one transaction sent here.
 */

export interface LedgerGasResult {
  description: string;
  /** gasUsed of acceptBatches / rejectBatches / expireBatches with that many batch ids, by count. */
  accept: Record<string, number>;
  reject: Record<string, number>;
  expire: Record<string, number>;
  /** gasUsed of disputeRecords with that many disputes, by count, and the tree depth and record count of the batch. */
  dispute: Record<string, number>;
  disputeTreeDepth: number;
  disputeBatchRecords: number;
  /** gasUsed of closePeriod after that many counted batches, by count. */
  closePeriod: Record<string, number>;
}

/** A made-up 32-byte value of the benchmark, from a label. */
const word = (label: string) => keccak256(toUtf8Bytes(label)) as Hex;

interface Route {
  visited: Hex;
  home: Hex;
  /** An operator of the visited carrier (signs and submits) and of the home carrier (decides). */
  signer: HardhatEthersSigner;
  decider: HardhatEthersSigner;
}

interface LedgerWorld {
  c: Consortium;
  domain: TypedDataDomain;
  deInBr: Route;
  brInDe: Route;
}

/**
 * Submits `count` batch headers of `route` for `period` (made-up roots and commitments, depth 10: the ledger
 * checks the visited carrier's signature and the period, not the payload) and returns their ids.
 */
async function submitHeaders(w: LedgerWorld, route: Route, opts: { period: number; count: number; tag: string }): Promise<Hex[]> {
  const ids: Hex[] = [];
  for (let i = 0; i < opts.count; i++) {
    const header: UsageBatchHeader = {
      visited: route.visited,
      home: route.home,
      period: opts.period,
      merkleRoot: word(`root ${opts.tag} ${i}`),
      treeDepth: 10,
      payloadHash: word(`payload ${opts.tag} ${i}`),
      totalsCommitment: word(`totals ${opts.tag} ${i}`),
    };
    const signature = await signBatch(route.signer, w.domain, header);
    await mined(w.c.ledger.connect(route.signer).submitBatch(toContractBatch(header), signature));
    ids.push(batchId(header));
  }
  return ids;
}

/** Accepts `ids` in transactions of at most MAX_DECISIONS (256). */
async function acceptAll(w: LedgerWorld, route: Route, ids: readonly Hex[]): Promise<void> {
  const max = Number(await w.c.ledger.MAX_DECISIONS());
  for (let i = 0; i < ids.length; i += max) await mined(w.c.ledger.connect(route.decider).acceptBatches(ids.slice(i, i + max)));
}

const gasOf = async (tx: Parameters<typeof mined>[0]) => Number((await mined(tx)).gasUsed);

/** closePeriod of DE's usage in BR after `many` counted batches, and of BR's in DE after 1, in the same month. */
async function measureClose(w: LedgerWorld, many: number, log: (line: string) => void): Promise<Record<string, number>> {
  const month = monthOf(await time.latest());
  const manyIds = await submitHeaders(w, w.deInBr, { period: month.period, count: many, tag: "close-many" });
  const oneIds = await submitHeaders(w, w.brInDe, { period: month.period, count: 1, tag: "close-one" });
  await acceptAll(w, w.deInBr, manyIds);
  await acceptAll(w, w.brInDe, oneIds);
  await time.increaseTo(Number(await w.c.ledger.submissionDeadline(month.period)) + 1);
  const closeMany = await gasOf(w.c.ledger.connect(w.c.de).closePeriod(PLMN.DE, PLMN.BR, month.period));
  const closeOne = await gasOf(w.c.ledger.connect(w.c.de).closePeriod(PLMN.BR, PLMN.DE, month.period));
  log(`closePeriod after ${many} batches: ${closeMany} gas, after 1: ${closeOne}`);
  return { "1": closeOne, [String(many)]: closeMany };
}

/** Bulk decisions of 1 and `bulk` batches, then disputes at depth 17, then expiry after the dispute window. */
async function measureDecisions(w: LedgerWorld, bulk: number, log: (line: string) => void) {
  const { period, start } = monthOf(await time.latest());
  const route = w.deInBr;
  const sets = {} as Record<"accept" | "reject" | "expire", Hex[][]>;
  for (const kind of ["accept", "reject", "expire"] as const) {
    sets[kind] = [
      await submitHeaders(w, route, { period, count: 1, tag: `${kind}-1` }),
      await submitHeaders(w, route, { period, count: bulk, tag: `${kind}-${bulk}` }),
    ];
  }
  const ledger = w.c.ledger.connect(route.decider);
  const accept = {
    "1": await gasOf(ledger.acceptBatches(sets.accept[0])),
    [String(bulk)]: await gasOf(ledger.acceptBatches(sets.accept[1])),
  };
  const reject = {
    "1": await gasOf(ledger.rejectBatches(sets.reject[0], 3)),
    [String(bulk)]: await gasOf(ledger.rejectBatches(sets.reject[1], 3)),
  };
  // Depth 17: 70,000 records (2^16 < 70,000 <= 2^17), real salted leaves and proofs (test/helpers/invoice.ts).
  const at = { ledger: w.c.ledger, domain: w.domain, period };
  const records = 70_000;
  const one = await commitBatch(at, { records: randomRecords(records, PLMN.DE, PLMN.BR, 71, start), ...route });
  const ten = await commitBatch(at, { records: randomRecords(records, PLMN.DE, PLMN.BR, 72, start), ...route });
  const dispute = {
    "1": Number((await disputeLeaves(w.c, one, [records - 1], route.decider)).gasUsed),
    "10": Number(
      (await disputeLeaves(w.c, ten, [0, 7, 999, 4_096, 20_000, 33_333, 50_001, 65_536, 69_000, records - 1], route.decider)).gasUsed,
    ),
  };
  // Past every batch's dispute window (7 days): anyone may expire what is still pending.
  await time.increase(7 * 86_400 + 1);
  const anyone = w.c.ledger.connect(w.c.br);
  const expire = {
    "1": await gasOf(anyone.expireBatches(sets.expire[0])),
    [String(bulk)]: await gasOf(anyone.expireBatches(sets.expire[1])),
  };
  log(
    `accept ${JSON.stringify(accept)}, reject ${JSON.stringify(reject)}, expire ${JSON.stringify(expire)}, dispute ${JSON.stringify(dispute)}`,
  );
  return { accept, reject, expire, dispute, disputeTreeDepth: one.header.treeDepth, disputeBatchRecords: records };
}

/**
 * DE and BR agreed (simpleTerms, sealed), the clock a day into the next month. Measures closePeriod after 1
 * and after `closeAfter` (default 1,000) counted batches, then, in the following month, accept / reject /
 * expire of 1 and `bulk` (default 256, the ledger's MAX_DECISIONS) batches and disputes of 1 and 10 records
 * of a 70,000-record batch (tree depth 17).
 */
export async function measureLedgerGas(
  opts: { closeAfter?: number; bulk?: number; log?: (line: string) => void } = {},
): Promise<LedgerGasResult> {
  const closeAfter = opts.closeAfter ?? 1_000;
  const bulk = opts.bulk ?? 256;
  const log = opts.log ?? (() => {});
  return isolated("ledger-gas", async () => {
    const c = await deployConsortium();
    await agreeDeBr(c);
    await time.increaseTo(monthOf(await time.latest()).end + 86_400);
    const w: LedgerWorld = {
      c,
      domain: await domainOf(c),
      deInBr: { visited: PLMN.BR, home: PLMN.DE, signer: c.br, decider: c.de },
      brInDe: { visited: PLMN.DE, home: PLMN.BR, signer: c.de, decider: c.br },
    };
    const closePeriod = await measureClose(w, closeAfter, log);
    // Into the next month (the deadline above is an hour into it), a day in.
    await time.increaseTo(monthOf(await time.latest()).start + 86_400);
    const decisions = await measureDecisions(w, bulk, log);
    return {
      description:
        "UsageLedger v2 receipt gasUsed on the hardhat network: acceptBatches / rejectBatches / expireBatches of 1 and " +
        `${bulk} batch ids in one transaction; disputeRecords of 1 and 10 leaves of a ${70_000}-record batch (tree depth 17, ` +
        `salted leaves, positional proofs); closePeriod after 1 and after ${closeAfter} accepted batches.`,
      ...decisions,
      closePeriod,
    };
  });
}
