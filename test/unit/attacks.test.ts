/**
 * Attacks of /work/shared/THREATS.md replayed against the v2 contracts deployed together (registry, agreements,
 * ledger, RevealLib-linked escrow, token: test/property/world.ts), each shown REFUSED:
 * - C (compact): after a co-signed period, no rate, per-class total or rating line above 255 is a 32-byte word
 *   of any log or input of the agreements, ledger or escrow (the full probe is test/helpers/thirdMember.ts).
 * - F1: a batch after the submission deadline; the 2,048-batch cap; closePeriod gas equal for 1 and 12 batches;
 *   a direction closed alone settles only after the solo delay.
 * - F2: a withdrawal cannot leave before its delay; the reserved part of a closed invoice never leaves.
 * - F6: two identical leaves disputed separately by index; the invoice must carry the ledger's dispute chain and
 *   its rating leaves the disputed records out.
 * - F7: an amendment does not move a submitted batch's window; accept re-checks validUntil; a termination
 *   (validity ending) accepted after the period does not stop closing it.
 * - Batch signatures replayed or forged by the home carrier; invoice signatures for another chain, period,
 *   escrow or direction, by the other party's or a third carrier's operator; a replaced proposal.
 * What the per-contract tests already cover is not repeated: UsageLedger.test.ts (signatures for another chain or
 * ledger, malleable signatures, caps on decisions and disputes, closing with a batch pending),
 * RoamingAgreements.test.ts (validity and amendments), SettlementEscrow.test.ts (the escrow alone).
 * Not here yet: re-entrant tokens against the v2 escrow.
 */
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { periodTotalsCommitment, termsCommitment } from "../../lib/crypto/commitment";
import { pricedClassesOf } from "../../lib/agreements/sealed";
import { NO_RATING_CIRCUIT } from "../../lib/agreements/ratingCommitments";
import { accumulatorOf, disputeHashOf } from "../../lib/usage/accumulator";
import { merkleProof } from "../../lib/usage/merkle";
import { rateInvoice } from "../../lib/settlement/rating";
import type { ClassTotals } from "../../lib/usage/types";
import { signBatch, toContractBatch } from "../../lib/usage/batch";
import { LeafHasher } from "../../lib/usage/leaf";
import { escrowDomain, signInvoice, type EscrowInvoice } from "../../lib/settlement/invoiceSignature";
import {
  DAY,
  PARAMS,
  PLMN,
  WINDOW,
  deployWorld,
  errorName,
  measuredOf,
  prepareBatch,
  seededRecords,
  type PreparedBatch,
  type World,
} from "../property/world";

/** Runs `p` and returns the custom error's name it reverts with. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return errorName(err);
  }
  return "not refused";
}

/** The empty-period invoice BR would bill DE (direction 0): no batch counted, net `net`. */
function emptyInvoice(w: World, net: bigint, period = w.period): EscrowInvoice {
  return {
    payer: PLMN.DE,
    payee: PLMN.BR,
    period,
    agreementVersion: w.version,
    termsCommitment: w.termsCommitment,
    ledgerAccumulator: accumulatorOf([]),
    totalsCommitment: periodTotalsCommitment([], w.termsSalt),
    token: w.addresses.token,
    net,
  };
}

async function world() {
  const w = await deployWorld();
  const hasher = await LeafHasher.create();
  const records = seededRecords(6, PLMN.DE, PLMN.BR, 7, w.start + 3600);
  const batch = await prepareBatch(w, { dir: 0, label: "attack", records, inflated: false, hasher });
  return { w, hasher, batch };
}

describe("Attacks on the v2 contracts deployed together", () => {
  describe("batch signatures", () => {
    it("a replayed batch is refused (UsageLedgerBatchExists)", async () => {
      const { w, batch } = await loadFixture(world);
      await w.ledger.connect(w.signer.br).submitBatch(toContractBatch(batch.header), batch.signature);
      expect(await refusal(w.ledger.connect(w.signer.us).submitBatch(toContractBatch(batch.header), batch.signature))).to.equal(
        "UsageLedgerBatchExists",
      );
    });

    it("a batch signed by the home carrier's operator is refused", async () => {
      const { w, batch } = await loadFixture(world);
      const forged = await signBatch(w.signer.de, w.ledgerDomain, batch.header);
      expect(await refusal(w.ledger.connect(w.signer.de).submitBatch(toContractBatch(batch.header), forged))).to.equal(
        "UsageLedgerSignerNotVisited",
      );
    });
  });

  describe("F1", () => {
    it("F1: one more batch after the submission deadline is refused, and the cap is 2,048 batches", async () => {
      const { w, batch } = await loadFixture(world);
      expect(await w.ledger.MAX_BATCHES_PER_PERIOD()).to.equal(2_048n);
      await time.increaseTo(w.deadline + 1);
      expect(await refusal(w.ledger.connect(w.signer.br).submitBatch(toContractBatch(batch.header), batch.signature))).to.equal(
        "UsageLedgerSubmissionClosed",
      );
    });
  });

  describe("F2", () => {
    it("F2: the payer's withdrawal cannot leave before its delay", async () => {
      const { w } = await loadFixture(world);
      const token = w.addresses.token;
      await w.escrow.connect(w.signer.de).deposit(token, 1_000_000n);
      await w.escrow.connect(w.signer.de).requestWithdrawal(token, 1_000_000n, w.signer.de.address);
      expect(await refusal(w.escrow.connect(w.signer.de).withdraw(token))).to.equal("SettlementEscrowWithdrawalLocked");
      await time.increase(PARAMS.withdrawalDelay - DAY);
      expect(await refusal(w.escrow.connect(w.signer.de).withdraw(token))).to.equal("SettlementEscrowWithdrawalLocked");
    });
  });

  describe("F7", () => {
    /** Version 2 of the DE-BR terms, proposed by DE: a 14-day dispute window, in force from `from` to `until`. */
    async function amend(w: World, from: number, until: number) {
      const terms = { ...w.terms, disputeWindow: 14 * DAY, validFrom: BigInt(from), validUntil: BigInt(until) };
      const commitment = termsCommitment(terms, w.termsSalt);
      const pub = { ...terms, termsCommitment: commitment, ...pricedClassesOf(terms, PLMN.DE, PLMN.BR), ...NO_RATING_CIRCUIT };
      await w.agreements.connect(w.signer.de).propose(PLMN.BR, pub, "0x5ea1ed");
      return commitment;
    }

    it("F7: a later amendment does not lengthen a submitted batch's dispute window", async () => {
      const { w, batch } = await loadFixture(world);
      await w.ledger.connect(w.signer.br).submitBatch(toContractBatch(batch.header), batch.signature);
      const now = await time.latest();
      const commitment = await amend(w, now + 60, now + 300 * DAY);
      await w.agreements.connect(w.signer.br).accept(PLMN.DE, 2, commitment);
      await time.increase(WINDOW + 1);
      await w.ledger.expireBatches([batch.id]);
      expect((await w.ledger.getBatch(batch.id)).status).to.equal(4n);
    });

    it("F7: a termination accepted after the period does not stop closing it", async () => {
      const { w, batch } = await loadFixture(world);
      await w.ledger.connect(w.signer.br).submitBatch(toContractBatch(batch.header), batch.signature);
      await time.increase(WINDOW + 1);
      await w.ledger.expireBatches([batch.id]);
      await time.increaseTo(w.deadline + 1);
      const now = await time.latest();
      const commitment = await amend(w, now + 60, now + 2 * DAY);
      await w.agreements.connect(w.signer.br).accept(PLMN.DE, 2, commitment);
      await time.increase(3 * DAY);
      await w.ledger.closePeriod(PLMN.DE, PLMN.BR, w.period);
      expect((await w.ledger.getPeriod(PLMN.DE, PLMN.BR, w.period)).closed).to.equal(true);
    });

    it("F7: accepting re-checks validUntil (an expired proposal cannot be accepted)", async () => {
      const { w } = await loadFixture(world);
      const now = await time.latest();
      const commitment = await amend(w, now + 60, now + 2 * DAY);
      await time.increase(2 * DAY + 1);
      expect(await refusal(w.agreements.connect(w.signer.br).accept(PLMN.DE, 2, commitment))).to.equal("RoamingAgreementsProposalExpired");
    });
  });

  describe("invoice signatures", () => {
    async function closedWorld() {
      const s = await world();
      await time.increaseTo(s.w.deadline + 1);
      return s;
    }

    it("a payer signature made for another chain is refused", async () => {
      const { w } = await loadFixture(closedWorld);
      const inv = emptyInvoice(w, 0n);
      const chainId = (await hre.ethers.provider.getNetwork()).chainId;
      const otherChain = escrowDomain(chainId + 1n, w.addresses.escrow);
      const payer = await signInvoice(w.signer.de, otherChain, inv);
      const payee = await signInvoice(w.signer.br, w.escrowDomain, inv);
      expect(await refusal(w.escrow.connect(w.signer.br).closeInvoice(inv, payer, payee))).to.equal("SettlementEscrowInvalidSigner");
    });

    it("a payer signature made for another escrow, or for the other direction of the pair, is refused", async () => {
      const { w } = await loadFixture(closedWorld);
      const inv = emptyInvoice(w, 0n);
      const payee = await signInvoice(w.signer.br, w.escrowDomain, inv);
      const chainId = (await hre.ethers.provider.getNetwork()).chainId;
      const otherEscrow = await signInvoice(w.signer.de, escrowDomain(chainId, w.addresses.ledger), inv);
      expect(await refusal(w.escrow.connect(w.signer.br).closeInvoice(inv, otherEscrow, payee))).to.equal("SettlementEscrowInvalidSigner");
      const swapped = await signInvoice(w.signer.de, w.escrowDomain, { ...inv, payer: PLMN.BR, payee: PLMN.DE });
      expect(await refusal(w.escrow.connect(w.signer.br).closeInvoice(inv, swapped, payee))).to.equal("SettlementEscrowInvalidSigner");
    });

    it("a payer signature made for another period is refused", async () => {
      const { w } = await loadFixture(closedWorld);
      const inv = emptyInvoice(w, 0n);
      const payer = await signInvoice(w.signer.de, w.escrowDomain, emptyInvoice(w, 0n, w.period - 1));
      const payee = await signInvoice(w.signer.br, w.escrowDomain, inv);
      expect(await refusal(w.escrow.connect(w.signer.br).closeInvoice(inv, payer, payee))).to.equal("SettlementEscrowInvalidSigner");
    });

    it("a signature by the other party's operator, or a third carrier's, does not stand for the payer", async () => {
      const { w } = await loadFixture(closedWorld);
      const inv = emptyInvoice(w, 0n);
      const payee = await signInvoice(w.signer.br, w.escrowDomain, inv);
      expect(await refusal(w.escrow.connect(w.signer.br).closeInvoice(inv, payee, payee))).to.equal("SettlementEscrowInvalidSigner");
      const third = await signInvoice(w.signer.us, w.escrowDomain, inv);
      expect(await refusal(w.escrow.connect(w.signer.br).closeInvoice(inv, third, payee))).to.equal("SettlementEscrowInvalidSigner");
    });
  });

  describe("a full co-signed period", () => {
    /** BR's batch with two identical records (indexes 0 and 1), both disputed separately, the batch accepted. */
    async function periodWorld() {
      const { w, hasher } = await world();
      const records = seededRecords(8, PLMN.DE, PLMN.BR, 11, w.start + 3600).map((r) => ({ ...r, billing: 0 }));
      records[1] = { ...records[0] };
      const b = await prepareBatch(w, { dir: 0, label: "period", records, inflated: false, hasher });
      await w.ledger.connect(w.signer.br).submitBatch(toContractBatch(b.header), b.signature);
      return { w, b };
    }

    const dispute = (b: PreparedBatch, i: number) => ({ leafIndex: i, leaf: b.leaves[i], proof: merkleProof(b.tree, i), reason: 7 });

    /** The co-signed invoice of the period: disputes of indexes `disputed` taken off the batch's totals. */
    function periodInvoice(w: World, b: PreparedBatch, disputed: number[]) {
      let totals: ClassTotals[] = b.totals.map((t) => ({ ...t }));
      for (const i of disputed) {
        const r = b.records[i];
        totals = totals.map((t) => (t.tariffClass === r.tariffClass ? lessMeasured(t, measuredOf(r)) : t));
      }
      const rating = rateInvoice(totals, w.terms, PLMN.BR);
      const counted = {
        batchId: b.id,
        totalsCommitment: b.header.totalsCommitment,
        disputeCount: disputed.length,
        disputeHash: disputeHashOf(disputed.map((i) => ({ leafIndex: i, leaf: b.leaves[i] }))),
      };
      const inv: EscrowInvoice = {
        ...emptyInvoice(w, rating.net),
        ledgerAccumulator: accumulatorOf([counted]),
        totalsCommitment: periodTotalsCommitment(totals, w.termsSalt),
      };
      return { inv, rating, totals };
    }

    it("F6: two identical leaves are disputed separately by index; the disputed records leave the co-signed rating", async () => {
      const { w, b } = await loadFixture(periodWorld);
      expect(b.leaves[0]).to.equal(b.leaves[1]);
      await w.ledger.connect(w.signer.de).disputeRecords(b.id, [dispute(b, 0)]);
      await w.ledger.connect(w.signer.de).disputeRecords(b.id, [dispute(b, 1)]);
      expect(await refusal(w.ledger.connect(w.signer.de).disputeRecords(b.id, [dispute(b, 0)]))).to.equal(
        "UsageLedgerRecordAlreadyDisputed",
      );
      expect((await w.ledger.disputedIndexes(b.id)).map(Number)).to.deep.equal([0, 1]);
      await time.increase(WINDOW + 1);
      await w.ledger.expireBatches([b.id]);
      await time.increaseTo(w.deadline + 1);
      const { inv, rating } = periodInvoice(w, b, [0, 1]);
      const full = rateInvoice(b.totals, w.terms, PLMN.BR);
      expect(rating.net).to.be.below(full.net);
      await w.escrow.connect(w.signer.de).deposit(w.addresses.token, full.net);
      const payer = await signInvoice(w.signer.de, w.escrowDomain, inv);
      const payee = await signInvoice(w.signer.br, w.escrowDomain, inv);
      // The ledger's accumulator (with both disputes) is what the co-signed invoice must carry.
      const stale = { ...inv, ledgerAccumulator: periodInvoice(w, b, []).inv.ledgerAccumulator };
      const stalePayer = await signInvoice(w.signer.de, w.escrowDomain, stale);
      const stalePayee = await signInvoice(w.signer.br, w.escrowDomain, stale);
      expect(await refusal(w.escrow.connect(w.signer.br).closeInvoice(stale, stalePayer, stalePayee))).to.equal(
        "SettlementEscrowWrongAccumulator",
      );
      await w.escrow.connect(w.signer.br).closeInvoice(inv, payer, payee);
      expect(await w.escrow.reserved(PLMN.DE, w.addresses.token)).to.equal(rating.net);
    });

    it("proposal replaced after the payer signed the first: that signature does not close the new one", async () => {
      const { w, b } = await loadFixture(periodWorld);
      await time.increase(WINDOW + 1);
      await w.ledger.expireBatches([b.id]);
      await time.increaseTo(w.deadline + 1);
      const { inv } = periodInvoice(w, b, []);
      await w.escrow.connect(w.signer.de).deposit(w.addresses.token, inv.net * 2n);
      await w.escrow.connect(w.signer.br).proposeInvoice(inv, await signInvoice(w.signer.br, w.escrowDomain, inv), "0x5ea1ed");
      const payerOfFirst = await signInvoice(w.signer.de, w.escrowDomain, inv);
      const replaced = { ...inv, net: inv.net * 2n };
      await w.escrow.connect(w.signer.br).proposeInvoice(replaced, await signInvoice(w.signer.br, w.escrowDomain, replaced), "0x5ea1ed");
      expect(await refusal(w.escrow.connect(w.signer.br).cosignInvoice(PLMN.DE, PLMN.BR, w.period, payerOfFirst))).to.equal(
        "SettlementEscrowInvalidSigner",
      );
    });

    it("F1: the direction closed alone settles after the solo delay when the other side stalls", async () => {
      const { w, b } = await loadFixture(periodWorld);
      await time.increase(WINDOW + 1);
      await w.ledger.expireBatches([b.id]);
      await time.increaseTo(w.deadline + 1);
      const { inv } = periodInvoice(w, b, []);
      await w.escrow.connect(w.signer.de).deposit(w.addresses.token, inv.net);
      const payer = await signInvoice(w.signer.de, w.escrowDomain, inv);
      await w.escrow.connect(w.signer.br).closeInvoice(inv, payer, await signInvoice(w.signer.br, w.escrowDomain, inv));
      expect(await refusal(w.escrow.connect(w.signer.br).settle(PLMN.BR, PLMN.DE, w.period))).to.equal(
        "SettlementEscrowSoloSettleTooEarly",
      );
      await time.increaseTo(w.end + PARAMS.soloSettleDelay + 1);
      await w.escrow.connect(w.signer.br).settle(PLMN.BR, PLMN.DE, w.period);
      expect(await w.escrow.reserved(PLMN.DE, w.addresses.token)).to.equal(0n);
    });

    it("F1: closing costs the same gas for 1 batch and for 12", async () => {
      const { w, hasher } = await world();
      const gasOfClose = async (dir: number, n: number) => {
        const ids = [];
        for (let k = 0; k < n; k++) {
          const records = seededRecords(4, dir === 0 ? PLMN.DE : PLMN.BR, dir === 0 ? PLMN.BR : PLMN.DE, 100 + k, w.start + 3600);
          const b = await prepareBatch(w, { dir, label: `gas ${dir} ${k}`, records, inflated: false, hasher });
          await w.ledger.connect(dir === 0 ? w.signer.br : w.signer.de).submitBatch(toContractBatch(b.header), b.signature);
          ids.push(b.id);
        }
        return ids;
      };
      const one = await gasOfClose(0, 1);
      const many = await gasOfClose(1, 12);
      await time.increase(WINDOW + 1);
      await w.ledger.expireBatches([...one, ...many]);
      await time.increaseTo(w.deadline + 1);
      const g1 = (await (await w.ledger.closePeriod(PLMN.DE, PLMN.BR, w.period)).wait())!.gasUsed;
      const g12 = (await (await w.ledger.closePeriod(PLMN.BR, PLMN.DE, w.period)).wait())!.gasUsed;
      console.log(`      closePeriod gas: 1 batch ${g1}, 12 batches ${g12}`);
      expect(g12).to.equal(g1);
    });

    it("F2: the reserved part of a closed invoice never leaves with the payer's withdrawal", async () => {
      const { w, b } = await loadFixture(periodWorld);
      const token = w.addresses.token;
      await w.escrow.connect(w.signer.de).deposit(token, 3_000_000n);
      await w.escrow.connect(w.signer.de).requestWithdrawal(token, 3_000_000n, w.signer.de.address);
      await time.increase(WINDOW + 1);
      await w.ledger.expireBatches([b.id]);
      await time.increaseTo(w.deadline + 1);
      const { inv } = periodInvoice(w, b, []);
      await w.escrow.connect(w.signer.de).deposit(token, inv.net);
      const payer = await signInvoice(w.signer.de, w.escrowDomain, inv);
      await w.escrow.connect(w.signer.br).closeInvoice(inv, payer, await signInvoice(w.signer.br, w.escrowDomain, inv));
      await time.increase(PARAMS.withdrawalDelay);
      await w.escrow
        .connect(w.signer.de)
        .withdraw(token)
        .catch(() => undefined);
      expect(await w.escrow.deposits(PLMN.DE, token)).to.be.at.least(inv.net);
      expect(await w.escrow.reserved(PLMN.DE, token)).to.equal(inv.net);
    });

    it("C: no rate, per-class total or invoice line of the pair appears as a 32-byte word in a log or an input", async () => {
      const { w, b } = await loadFixture(periodWorld);
      await w.ledger.connect(w.signer.de).disputeRecords(b.id, [dispute(b, 2)]);
      await w.ledger.connect(w.signer.de).acceptBatches([b.id]);
      await time.increaseTo(w.deadline + 1);
      const { inv, rating, totals } = periodInvoice(w, b, [2]);
      await w.escrow.connect(w.signer.de).deposit(w.addresses.token, inv.net);
      const payer = await signInvoice(w.signer.de, w.escrowDomain, inv);
      const payee = await signInvoice(w.signer.br, w.escrowDomain, inv);
      await w.escrow.connect(w.signer.br).closeInvoice(inv, payer, payee);
      const secrets = secretWords(w, [...b.totals, ...totals], rating);
      const words = await publicWords(w);
      const leaks = [...secrets].filter((x) => words.has(x));
      expect(leaks, `leaked: ${leaks.join(", ")}`).to.deep.equal([]);
      expect(secrets.size).to.be.above(10);
    });
  });
});

/** `s` less a disputed record's measured contribution `d` (records, measures, QoS sample), saturating at zero. */
function lessMeasured(s: ClassTotals, d: ClassTotals): ClassTotals {
  const less = (a: bigint, b: bigint) => (a > b ? a - b : 0n);
  const out = { ...s, records: Math.max(0, s.records - d.records), qosSamples: Math.max(0, s.qosSamples - d.qosSamples) };
  for (const k of ["dataBytes", "signallingEvents", "smsCount", "voiceSeconds", "latencyMsSum", "throughputKbpsSum"] as const) {
    out[k] = less(s[k], d[k]);
  }
  return out;
}

/** The pair's secrets as 32-byte words: rates above 255, per-class totals, rating lines; not the public net. */
function secretWords(w: World, totals: ClassTotals[], rating: ReturnType<typeof rateInvoice>): Set<string> {
  const values: bigint[] = [];
  for (const p of w.terms.ratePlans) values.push(BigInt(p.perMb), BigInt(p.monthlyFeePerDevice));
  for (const t of totals) values.push(t.dataBytes, t.voiceSeconds, t.smsCount, t.latencyMsSum, t.throughputKbpsSum);
  for (const l of rating.lines) values.push(...Object.values(l).filter((v): v is bigint => typeof v === "bigint"));
  values.push(rating.subtotal, rating.credit);
  const word = (v: bigint) => hre.ethers.toBeHex(v, 32);
  return new Set(values.filter((v) => v > 255n && v !== rating.net).map(word));
}

/** Every 32-byte word of the logs and call inputs of the agreements, ledger and escrow since genesis. */
async function publicWords(w: World): Promise<Set<string>> {
  const targets = new Set([await w.agreements.getAddress(), w.addresses.ledger, w.addresses.escrow].map((a) => a.toLowerCase()));
  const out = new Set<string>();
  const add = (hex: string) => {
    const body = hex.slice(2);
    for (let i = 0; i + 64 <= body.length; i += 2) out.add(`0x${body.slice(i, i + 64)}`);
  };
  const latest = await hre.ethers.provider.getBlockNumber();
  for (let n = 0; n <= latest; n++) {
    const block = await hre.ethers.provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) if (tx.to && targets.has(tx.to.toLowerCase())) add(tx.data);
  }
  for (const address of targets) {
    for (const log of await hre.ethers.provider.getLogs({ address, fromBlock: 0, toBlock: latest })) {
      add(log.data);
      for (const t of log.topics) add(t);
    }
  }
  return out;
}
