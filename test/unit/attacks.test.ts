import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toUtf8Bytes, Wallet, type TypedDataDomain } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { deployConsortium, deviceId, meterPolicy, addressesOf, lastMonthOver, PLMN } from "../helpers/fixtures";
import { makeBatch } from "../helpers/usage";
import { monthOf } from "../helpers/period";
import { classTotals, plan, terms as termsOf } from "../helpers/rating";
import { batchId, ledgerDomain, signBatch, toContractBatch } from "../../lib/usage/batch";
import { connectRoamLedger } from "../../lib/chain/client";
import { TxQueue } from "../../lib/chain/txQueue";
import { ContractRevertError } from "../../lib/core/errors";
import type { ClassTotals, UsageBatch } from "../../lib/usage/types";
import type { Hex } from "../../lib/util/hex";
import type { ReentrantToken__Mock } from "../../typechain-types";

/**
 * Attacks on the real contracts, deployed together (the escrow on the real ledger). What the per-contract
 * tests already cover is not repeated here:
 * - UsageLedger.test.ts: a signature made for another chain, or for another ledger (which that ledger
 *   takes); a batch committed already, whoever relays it; signers that are not the visited carrier's
 *   operators (a non-member, another carrier, the home carrier, a device maker); a malformed or
 *   malleable (high-s) signature; a suspended visited carrier; more than 500 disputes or 2,000
 *   permanent-roamer reports in one call; closing with a batch missing, added or out of order, or while
 *   a batch is in its dispute window; rejecting or disputing after the window.
 * - SettlementEscrow.test.ts: a token that re-enters deposit (from transferFrom), withdraw (from transfer),
 *   and settle, deposit or payDebt from a settlement payout; a token returning false; a fee-on-transfer token.
 * - RoamingAgreements.test.ts: more than 64 rate plans or 8 tiers; DeviceRegistry.test.ts: an empty batch.
 */

const DAY = 24 * 3600;
const WINDOW = 7 * DAY;
/** Far below the 500M block gas limit: what is tested is that the call is refused before any work. */
const SMALL_GAS = { gasLimit: 16_000_000 };

/** Terms both ways between `a` and `b` in `token`, in force from `from`: 1,000 per MB, 100 per device. */
function terms(a: Hex, b: Hex, token: string, from: number) {
  const rates = { perMb: 1_000n, perSignallingEvent: 1n, perSms: 10n, perVoiceMinute: 60n, monthlyFeePerDevice: 100n };
  return termsOf([plan(a, 1, rates), plan(b, 1, rates)], {
    settlementToken: token,
    validFrom: BigInt(from),
    validUntil: BigInt(from + 400 * DAY),
    disputeWindow: WINDOW,
  });
}

/**
 * The consortium two days into a month; `period` is last month (over, its grace too). DE-BR agree in the
 * settlement token, DE-US in a token that calls back into the escrow from its transfers once armed.
 */
async function world() {
  const { period, start, end } = await lastMonthOver();
  const c = await deployConsortium();
  const token = await c.token.getAddress();
  const escrow = await c.escrow.getAddress();
  const evil = (await hre.ethers.deployContract("ReentrantToken__Mock")) as unknown as ReentrantToken__Mock;
  const evilAddress = await evil.getAddress();
  await c.agreements.connect(c.de).propose(PLMN.BR, terms(PLMN.DE, PLMN.BR, token, start - DAY));
  await c.agreements.connect(c.br).accept(PLMN.DE, 1);
  await c.agreements.connect(c.de).propose(PLMN.US, terms(PLMN.DE, PLMN.US, evilAddress, start - DAY));
  await c.agreements.connect(c.us).accept(PLMN.DE, 1);
  for (const s of [c.de, c.br, c.us]) {
    await c.token.connect(c.deployer).mint(s.address, 10n ** 12n);
    await c.token.connect(s).approve(escrow, hre.ethers.MaxUint256);
    await evil.mint(s.address, 10n ** 12n);
    await evil.connect(s).approve(escrow, hre.ethers.MaxUint256);
  }
  const domain = ledgerDomain((await hre.ethers.provider.getNetwork()).chainId, await c.ledger.getAddress());
  return { ...c, period, start, end, domain, tokenAddress: token, escrowAddress: escrow, evil, evilAddress };
}
type World = Awaited<ReturnType<typeof world>>;

/** A batch of `visited` billing `home` for the world's period: `mb` MB of class-1 data, one device. */
function batch(w: World, visited: Hex, home: Hex, n: number, mb = 10n, period = w.period): UsageBatch {
  return makeBatch(visited, home, period, {
    recordCount: 10,
    payloadHash: keccak256(toUtf8Bytes(`payload ${n}`)) as Hex,
    totals: [classTotals(1, { records: 10, dataBytes: mb * 1_000_000n, activeDevices: 1 }) as ClassTotals],
  });
}

async function submit(
  w: World,
  b: UsageBatch,
  signer: HardhatEthersSigner | Wallet,
  sender: HardhatEthersSigner,
  domain: TypedDataDomain = w.domain,
) {
  return w.ledger.connect(sender).submitBatch(toContractBatch(b), await signBatch(signer, domain, b));
}

const byId = (batches: UsageBatch[]) =>
  [...batches].sort((a, b) => (BigInt(batchId(a)) < BigInt(batchId(b)) ? -1 : 1)).map(toContractBatch);

describe("attacks", function () {
  describe("replayed and forged batch signatures", function () {
    it("refuses a signature replayed on a batch with other totals, or with the parties swapped", async function () {
      const w = await loadFixture(world);
      const b = batch(w, PLMN.BR, PLMN.DE, 1);
      const signature = await signBatch(w.br, w.domain, b);
      // BR signed 10 MB; its signature is replayed on 1,000 MB, and on DE billing BR.
      for (const forged of [batch(w, PLMN.BR, PLMN.DE, 1, 1_000n), { ...b, visited: PLMN.DE, home: PLMN.BR }]) {
        await expect(w.ledger.connect(w.br).submitBatch(toContractBatch(forged), signature)).to.be.revertedWithCustomError(
          w.ledger,
          "UsageLedgerSignerNotVisited",
        );
      }
      await expect(w.ledger.connect(w.us).submitBatch(toContractBatch(b), signature)).to.emit(w.ledger, "UsageBatchSubmitted");
    });

    it("refuses what an operator signed once BR has removed it, and a key of no member signing for BR", async function () {
      const w = await loadFixture(world);
      const spare = w.spare[0];
      await w.carriers.connect(w.br).addOperator(spare.address);
      const b = batch(w, PLMN.BR, PLMN.DE, 2);
      const signed = await signBatch(spare, w.domain, b);
      await w.carriers.connect(w.br).removeOperator(spare.address);
      await expect(w.ledger.connect(w.br).submitBatch(toContractBatch(b), signed))
        .to.be.revertedWithCustomError(w.ledger, "UsageLedgerSignerNotVisited")
        .withArgs(spare.address, PLMN.BR);
      const stranger = new Wallet(Wallet.createRandom().privateKey);
      await expect(submit(w, b, stranger, w.br))
        .to.be.revertedWithCustomError(w.ledger, "UsageLedgerSignerNotVisited")
        .withArgs(stranger.address, PLMN.BR);
    });

    it("reports a replay sent through the library as the contract's error, decoded", async function () {
      const w = await loadFixture(world);
      const b = batch(w, PLMN.BR, PLMN.DE, 3);
      const signature = await signBatch(w.br, w.domain, b);
      const br = connectRoamLedger(await addressesOf(w), w.br);
      const queue = new TxQueue();
      await queue.send("first", () => br.ledger.submitBatch(toContractBatch(b), signature));
      const err = await queue.send("replay", () => br.ledger.submitBatch(toContractBatch(b), signature)).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ContractRevertError);
      expect((err as ContractRevertError).errorName).to.equal("UsageLedgerBatchExists");
      expect((err as ContractRevertError).message).to.contain(`batchId=${batchId(b)}`);
    });
  });

  describe("settling early", function () {
    it("refuses to invoice a period before it ends, or while a batch is in its dispute window, or without all its batches", async function () {
      const w = await loadFixture(world);
      // This month: not over.
      const current = monthOf(await time.latest()).period;
      const early = batch(w, PLMN.BR, PLMN.DE, 4, 10n, current);
      await submit(w, early, w.br, w.br);
      await expect(w.escrow.connect(w.br).closeInvoice(PLMN.DE, PLMN.BR, current, byId([early]))).to.be.revertedWithCustomError(
        w.ledger,
        "UsageLedgerPeriodNotOver",
      );
      // Last month: over, but the batch BR just sent is in DE's dispute window.
      const late = batch(w, PLMN.BR, PLMN.DE, 5);
      await submit(w, late, w.br, w.br);
      const windowEnd = (await w.ledger.getBatch(batchId(late))).submittedAt + BigInt(WINDOW);
      await expect(w.escrow.connect(w.br).closeInvoice(PLMN.DE, PLMN.BR, w.period, byId([late])))
        .to.be.revertedWithCustomError(w.ledger, "UsageLedgerBatchStillOpen")
        .withArgs(batchId(late), windowEnd);
      await expect(w.escrow.connect(w.br).settle(PLMN.DE, PLMN.BR, w.period)).to.be.revertedWithCustomError(
        w.escrow,
        "SettlementEscrowInvoiceNotClosed",
      );
      // Leaving the batch out to close early does not work either.
      await expect(w.escrow.connect(w.br).closeInvoice(PLMN.DE, PLMN.BR, w.period, []))
        .to.be.revertedWithCustomError(w.ledger, "UsageLedgerBatchSetMismatch")
        .withArgs(0, 1);
      // Once DE accepts (or the window ends), the invoice closes at the agreement's rates: 10 MB x 1,000 + 100.
      await w.ledger.connect(w.de).acceptBatches([batchId(late)]);
      await w.escrow.connect(w.br).closeInvoice(PLMN.DE, PLMN.BR, w.period, byId([late]));
      expect((await w.escrow.invoice(PLMN.DE, PLMN.BR, w.period)).amount).to.equal(10_100n);
      // The other direction closes with nothing in it; then the period settles, once.
      await w.escrow.connect(w.de).closeInvoice(PLMN.BR, PLMN.DE, w.period, []);
      await w.escrow.connect(w.de).deposit(w.tokenAddress, 20_000n);
      await w.escrow.connect(w.br).settle(PLMN.DE, PLMN.BR, w.period);
      await expect(w.escrow.connect(w.br).settle(PLMN.BR, PLMN.DE, w.period)).to.be.revertedWithCustomError(
        w.escrow,
        "SettlementEscrowAlreadySettled",
      );
      expect(await w.escrow.deposits(PLMN.BR, w.tokenAddress)).to.equal(10_100n);
    });

    it("refuses a rejection after the window, a batch added to a closed period, and a second invoice", async function () {
      const w = await loadFixture(world);
      const b = batch(w, PLMN.BR, PLMN.DE, 6);
      await submit(w, b, w.br, w.br);
      await time.increase(WINDOW);
      await expect(w.ledger.connect(w.de).rejectBatch(batchId(b), 1)).to.be.revertedWithCustomError(
        w.ledger,
        "UsageLedgerDisputeWindowOver",
      );
      await w.escrow.connect(w.us).closeInvoice(PLMN.DE, PLMN.BR, w.period, byId([b]));
      await expect(submit(w, batch(w, PLMN.BR, PLMN.DE, 7), w.br, w.br)).to.be.revertedWithCustomError(w.ledger, "UsageLedgerPeriodClosed");
      await expect(w.escrow.connect(w.us).closeInvoice(PLMN.DE, PLMN.BR, w.period, byId([b]))).to.be.revertedWithCustomError(
        w.escrow,
        "SettlementEscrowInvoiceExists",
      );
    });
  });

  describe("re-entering tokens", function () {
    /** DE owes US 10,100 in the re-entering token and its deposit held 100: a debt of 10,000; US has a payout account. */
    async function withDebt() {
      const w = await loadFixture(world);
      const b = batch(w, PLMN.US, PLMN.DE, 8);
      await submit(w, b, w.us, w.us);
      await w.ledger.connect(w.de).acceptBatches([batchId(b)]);
      await w.escrow.connect(w.de).closeInvoice(PLMN.DE, PLMN.US, w.period, byId([b]));
      await w.escrow.connect(w.de).closeInvoice(PLMN.US, PLMN.DE, w.period, []);
      await w.escrow.connect(w.de).deposit(w.evilAddress, 100n);
      await w.escrow.connect(w.us).settle(PLMN.DE, PLMN.US, w.period);
      expect(await w.escrow.debt(PLMN.DE, PLMN.US, w.evilAddress)).to.equal(10_000n);
      const payout = w.spare[1];
      await w.escrow.connect(w.us).setPayoutAccount(payout.address);
      await w.escrow.connect(w.de).deposit(w.evilAddress, 50_000n);
      await w.escrow.connect(w.us).deposit(w.evilAddress, 1_000n);
      return { ...w, payout };
    }

    const reentries: Record<string, (w: World) => string> = {
      withdraw: (w) => w.escrow.interface.encodeFunctionData("withdraw", [w.evilAddress, 1_000n, w.evilAddress]),
      payDebt: (w) => w.escrow.interface.encodeFunctionData("payDebt", [PLMN.DE, PLMN.US, w.evilAddress]),
      settle: (w) => w.escrow.interface.encodeFunctionData("settle", [PLMN.DE, PLMN.US, w.period]),
      closeInvoice: (w) => w.escrow.interface.encodeFunctionData("closeInvoice", [PLMN.DE, PLMN.US, w.period - 1, []]),
      setPayoutAccount: (w) => w.escrow.interface.encodeFunctionData("setPayoutAccount", [w.evilAddress]),
    };
    for (const [name, call] of Object.entries(reentries)) {
      it(`refuses a token that re-enters ${name} from a debt payment's payout`, async function () {
        const w = await withDebt();
        const before = [await w.escrow.deposits(PLMN.DE, w.evilAddress), await w.escrow.debt(PLMN.DE, PLMN.US, w.evilAddress)];
        await w.evil.arm(w.escrowAddress, call(w));
        await expect(w.escrow.connect(w.de).payDebt(PLMN.DE, PLMN.US, w.evilAddress)).to.be.revertedWithCustomError(
          w.escrow,
          "ReentrancyGuardReentrantCall",
        );
        expect([await w.escrow.deposits(PLMN.DE, w.evilAddress), await w.escrow.debt(PLMN.DE, PLMN.US, w.evilAddress)]).to.deep.equal(
          before,
        );
        // Disarmed, the same payment goes through: the payout account gets the 10,000.
        await w.evil.arm(hre.ethers.ZeroAddress, "0x");
        await expect(w.escrow.connect(w.de).payDebt(PLMN.DE, PLMN.US, w.evilAddress)).to.changeTokenBalance(w.evil, w.payout, 10_000n);
      });
    }
  });

  describe("griefing with huge arrays", function () {
    it("refuses more than 2,000 devices per registry call, before any work", async function () {
      const w = await loadFixture(world);
      await w.devices.connect(w.de).definePolicy(meterPolicy(PLMN.DE));
      const ids = Array.from({ length: 2001 }, (_, i) => deviceId(i));
      const regs = ids.map((id) => ({ id, deviceClass: 0, maker: "0x000000", policyId: 1 }));
      const size = (p: Promise<unknown>) =>
        expect(p).to.be.revertedWithCustomError(w.devices, "DeviceRegistryBatchSize").withArgs(2001, 2000);
      await size(w.devices.connect(w.de).registerDevices(regs, SMALL_GAS));
      await size(w.devices.connect(w.de).updatePolicies(ids, 1, SMALL_GAS));
      await size(w.devices.connect(w.de).suspendDevices(ids, 1, SMALL_GAS));
      await size(w.devices.connect(w.de).reinstateDevices(ids, SMALL_GAS));
      await size(
        w.devices.connect(w.br).flagFraud(
          ids.map((id) => ({ id, reason: 1, evidenceHash: id })),
          SMALL_GAS,
        ),
      );
    });

    it("takes at most 256 tariff classes in a batch (strictly ascending uint8), at a bounded cost", async function () {
      const w = await loadFixture(world);
      const classes = (n: number) => Array.from({ length: n }, (_, i) => classTotals(i % 256, { records: 1 }) as ClassTotals);
      const full = makeBatch(PLMN.BR, PLMN.DE, w.period, { recordCount: 256, totals: classes(256) });
      const receipt = await (await submit(w, full, w.br, w.br)).wait();
      // A 257th class would repeat one: the totals are refused, whatever the count.
      const over = makeBatch(PLMN.BR, PLMN.DE, w.period, {
        recordCount: 1000,
        totals: classes(257),
        payloadHash: keccak256("0x01") as Hex,
      });
      await expect(submit(w, over, w.br, w.br))
        .to.be.revertedWithCustomError(w.ledger, "UsageLedgerInvalidTotals")
        .withArgs(256);
      console.log(`      submitBatch with 256 classes: ${receipt!.gasUsed} gas`);
      expect(receipt!.gasUsed).to.be.lessThan(10_000_000n);
    });

    it("closes a period only with exactly its batches; measures what each batch adds to closing it", async function () {
      const w = await loadFixture(world);
      const gasToClose = async (count: number, home: Hex, visited: Hex, signer: HardhatEthersSigner, homeSigner: HardhatEthersSigner) => {
        const batches = Array.from({ length: count }, (_, i) => batch(w, visited, home, 1000 * count + i));
        for (const b of batches) await submit(w, b, signer, signer);
        // Padding the call with a batch of another pair is refused before any totals are read.
        const padded = byId([...batches, batch(w, PLMN.US, PLMN.DE, 9)]);
        await expect(w.ledger.connect(w.us).closePeriod(home, visited, w.period, padded))
          .to.be.revertedWithCustomError(w.ledger, "UsageLedgerBatchSetMismatch")
          .withArgs(count + 1, count);
        await w.ledger.connect(homeSigner).acceptBatches(batches.map(batchId));
        const tx = await w.ledger.connect(w.us).closePeriod(home, visited, w.period, byId(batches));
        return { gas: (await tx.wait())!.gasUsed, calldata: hre.ethers.getBytes(tx.data).length };
      };
      const one = await gasToClose(1, PLMN.BR, PLMN.DE, w.de, w.br);
      const many = await gasToClose(60, PLMN.DE, PLMN.BR, w.br, w.de);
      const perBatch = (many.gas - one.gas) / 59n;
      const calldataPerBatch = Math.round((many.calldata - one.calldata) / 59);
      console.log(
        `      closePeriod: 1 batch ${one.gas} gas, 60 batches ${many.gas} gas: ${perBatch} gas and ${calldataPerBatch} bytes of calldata ` +
          `per batch (1 class); one transaction holds ${(500_000_000n - one.gas) / perBatch} batches in a 500M-gas block, ` +
          `${Math.floor(131_072 / calldataPerBatch)} in 128 KiB of calldata`,
      );
      expect(perBatch).to.be.lessThan(60_000n);
    });
  });
});
