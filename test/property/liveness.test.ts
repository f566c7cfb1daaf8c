import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse, TransactionReceipt } from "ethers";
import { LeafHasher } from "../../lib/usage/leaf";
import { merkleProof } from "../../lib/usage/merkle";
import { toContractBatch } from "../../lib/usage/batch";
import { signInvoice } from "../../lib/settlement/invoiceSignature";
import { Model, RESOLUTION, INVOICE } from "./model";
import { invoiceOf, Pool, type Ctx } from "./ops";
import {
  deployWorld,
  DIRS,
  errorName,
  PARAMS,
  PLMN,
  prepareBatch,
  seededRecords,
  TX_GAS_CAP,
  WINDOW,
  type PreparedBatch,
  type World,
} from "./world";

/**
 * Liveness under spam (deterministic): BR, the visited carrier of direction 0, submits 1,000 batches in one
 * period; DE, their home, accepts 100, rejects 50 and disputes a record of 10 more; the other 850 expire in
 * chunks of 256 sent by an account of no member; both directions' periods close at the same gas (1,000
 * batches one way, 1 the other). BR never co-signs DE's invoice for the reverse direction: DE claims after the
 * sign window, reveals, and its invoice settles alone once the solo-settle delay has passed. Every receipt
 * stays under the EIP-7825 cap of 16,777,216 gas.
 */

const SPAM = 1_000;
const MAX_DECISIONS = 256;
const gas: Record<string, bigint> = {};

async function receiptOf(tx: Promise<ContractTransactionResponse>, label: string): Promise<TransactionReceipt> {
  const receipt = (await (await tx).wait())!;
  expect(receipt.gasUsed <= TX_GAS_CAP, `${label}: ${receipt.gasUsed} gas`).to.equal(true);
  gas[label] = receipt.gasUsed > (gas[label] ?? 0n) ? receipt.gasUsed : gas[label];
  return receipt;
}

/** BR's 1,000 one-record batches, submitted 200 to a block. */
async function spam(w: World, hasher: LeafHasher): Promise<PreparedBatch[]> {
  const batches: PreparedBatch[] = [];
  for (let k = 0; k < SPAM; k++) {
    const records = seededRecords(1, PLMN.DE, PLMN.BR, 9000 + k, w.start);
    batches.push(await prepareBatch(w, { dir: 0, label: `spam ${k}`, records, inflated: false, hasher }));
  }
  const sent: ContractTransactionResponse[] = [];
  await hre.network.provider.send("evm_setAutomine", [false]);
  try {
    for (const [k, b] of batches.entries()) {
      sent.push(await w.ledger.connect(w.signer.br).submitBatch(toContractBatch(b.header), b.signature));
      if ((k + 1) % 200 === 0) await mine();
    }
    await mine();
  } finally {
    await hre.network.provider.send("evm_setAutomine", [true]);
  }
  for (const tx of sent) await receiptOf(Promise.resolve(tx), "submitBatch");
  return batches;
}

describe("property: liveness under 1,000 spam batches", function () {
  it("the home decides some, the rest expire in chunks, both periods close, the reverse invoice settles alone", async function () {
    this.timeout(0);
    const w = await loadFixture(deployWorld);
    const hasher = await LeafHasher.create();
    const batches = await spam(w, hasher);
    const ids = batches.map((b) => b.id);
    // The reverse direction: DE serves BR's devices, one batch of five records.
    const reverse = await prepareBatch(w, {
      dir: 1,
      label: "reverse",
      records: seededRecords(5, PLMN.BR, PLMN.DE, 77, w.start),
      inflated: false,
      hasher,
    });
    await receiptOf(w.ledger.connect(w.signer.de).submitBatch(toContractBatch(reverse.header), reverse.signature), "submitBatch");

    // DE decides 160 of BR's batches: 100 accepted, 50 rejected, a record disputed in each of 10.
    await receiptOf(w.ledger.connect(w.signer.de).acceptBatches(ids.slice(0, 100)), "acceptBatches 100");
    await receiptOf(w.ledger.connect(w.signer.de).rejectBatches(ids.slice(100, 150), 3), "rejectBatches 50");
    for (const b of batches.slice(150, 160)) {
      const dispute = { leafIndex: 0, leaf: b.leaves[0], proof: merkleProof(b.tree, 0), reason: 7 };
      await receiptOf(w.ledger.connect(w.signer.de).disputeRecords(b.id, [dispute]), "disputeRecords");
    }

    // Nobody decides the rest: after the deadline and the window, anyone expires them in chunks.
    await time.increaseTo(Math.max(w.deadline, (await time.latest()) + WINDOW) + 1);
    const undecided = [...ids.slice(150), reverse.id];
    for (let i = 0; i < undecided.length; i += MAX_DECISIONS) {
      await receiptOf(w.ledger.connect(w.outsider).expireBatches(undecided.slice(i, i + MAX_DECISIONS)), "expireBatches 256");
    }
    const many = await receiptOf(w.ledger.connect(w.outsider).closePeriod(PLMN.DE, PLMN.BR, w.period), "closePeriod 1,000");
    const one = await receiptOf(w.ledger.connect(w.outsider).closePeriod(PLMN.BR, PLMN.DE, w.period), "closePeriod 1");
    expect(many.gasUsed, "closing 1,000 batches costs what closing 1 does").to.equal(one.gasUsed);
    const period = await w.ledger.getPeriod(PLMN.DE, PLMN.BR, w.period);
    expect([period.batchCount, period.counted, period.rejected, period.pending].map(Number)).to.deep.equal([SPAM, 950, 50, 0]);

    await settleAlone(w, reverse);
    console.log(
      `      gas: ${Object.entries(gas)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );
  });
});

/** DE's invoice to BR: BR never signs; DE claims, reveals, and settles alone after the solo delay. */
async function settleAlone(w: World, reverse: PreparedBatch): Promise<void> {
  const m = new Model(w);
  m.batches.set(reverse.id, { prepared: reverse, status: 4, windowEnd: 0, disputed: [] });
  m.dirs[1].counted.push(reverse.id);
  const c: Ctx = { w, m, pool: new Pool(w, await LeafHasher.create()), t: 0 };
  const { inv, rating } = invoiceOf(c, 1, "honest");
  expect(rating > 0n, "the reverse direction has usage to pay").to.equal(true);
  const escrow = (who: "de" | "br" | "us") => w.escrow.connect(w.signer[who]);
  const token = w.addresses.token;
  await receiptOf(escrow("de").deposit(token, Model.bondOf(rating)), "deposit");
  await receiptOf(escrow("br").deposit(token, rating / 3n), "deposit");
  const signature = await signInvoice(w.signer.de, w.escrowDomain, inv);
  await receiptOf(escrow("de").proposeInvoice(inv, signature, "0x5ea1ed"), "proposeInvoice");
  await time.increase(PARAMS.signWindow);
  await receiptOf(escrow("de").fileClaim(PLMN.BR, PLMN.DE, w.period), "fileClaim");
  const opening = { recordCount: reverse.recordCount, totals: reverse.totals, salt: reverse.salt, disputed: [] };
  await receiptOf(escrow("de").openBatches(PLMN.BR, PLMN.DE, w.period, [opening]), "openBatches");
  await receiptOf(escrow("de").finishReveal(PLMN.BR, PLMN.DE, w.period, w.terms as never, w.termsSalt), "finishReveal");
  const closed = await w.escrow.invoice(PLMN.BR, PLMN.DE, w.period);
  const owed = rating + Model.penaltyOf(rating);
  expect([closed.status, closed.resolution, closed.amount]).to.deep.equal([BigInt(INVOICE.Closed), BigInt(RESOLUTION.Revealed), owed]);

  // BR's own invoice never comes: DE's settles alone, once the solo delay has passed.
  const early = await escrow("us")
    .settle(PLMN.DE, PLMN.BR, w.period)
    .then(() => "ok", errorName);
  expect(early).to.equal("SettlementEscrowSoloSettleTooEarly");
  await time.increaseTo(w.end + PARAMS.soloSettleDelay);
  const before = await w.escrow.deposits(PLMN.DE, token);
  const brDeposit = await w.escrow.deposits(PLMN.BR, token);
  await receiptOf(escrow("us").settle(PLMN.DE, PLMN.BR, w.period), "settle (alone)");
  expect(await w.escrow.deposits(PLMN.DE, token), "DE paid what BR had").to.equal(before + brDeposit);
  expect(await w.escrow.debt(PLMN.BR, PLMN.DE, token), "the rest is BR's recorded debt").to.equal(owed - brDeposit);
  expect((await w.escrow.invoice(PLMN.BR, PLMN.DE, w.period)).status).to.equal(BigInt(INVOICE.Settled));
  const balance = await w.token.balanceOf(w.addresses.escrow);
  const sum = (await w.escrow.deposits(PLMN.DE, token)) + (await w.escrow.deposits(PLMN.BR, token));
  expect(balance, "escrow balance = sum of deposits").to.equal(sum);
  expect(DIRS[1].visited).to.equal("de");
}
