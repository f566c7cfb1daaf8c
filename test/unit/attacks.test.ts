/**
 * Attacks of /work/shared/THREATS.md replayed against the v2 contracts deployed together (registry, agreements,
 * ledger, RevealLib-linked escrow, token: test/property/world.ts), each shown REFUSED. Covered here: F1 (a batch
 * after the submission deadline, the 2,048-batch cap), F2 (a withdrawal cannot leave before its delay), batch
 * signature attacks (replayed, forged by the home carrier) and invoice signature attacks (another chain, another
 * period, the other party's operator, a third carrier's operator).
 * What the per-contract tests already cover is not repeated: UsageLedger.test.ts (signatures for another chain or
 * ledger, malleable signatures, caps on decisions and disputes, closing with a batch pending), RoamingAgreements.test.ts
 * (validity and amendments), SettlementEscrow.test.ts (re-entrant and fee-on-transfer tokens).
 * NOT YET here (see the report): C, F6, F7, the replaced proposal, close gas for 1 vs many batches, solo settlement.
 */
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { periodTotalsCommitment } from "../../lib/crypto/commitment";
import { accumulatorOf } from "../../lib/usage/accumulator";
import { signBatch, toContractBatch } from "../../lib/usage/batch";
import { LeafHasher } from "../../lib/usage/leaf";
import { escrowDomain, signInvoice, type EscrowInvoice } from "../../lib/settlement/invoiceSignature";
import { DAY, PARAMS, PLMN, deployWorld, errorName, prepareBatch, seededRecords, type World } from "../property/world";

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
});
