import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet, ZeroAddress, hexlify } from "ethers";
import {
  deployConsortium,
  meterPolicy,
  deviceId,
  testEncryptionKey,
  agreeDeBr,
  simpleTerms,
  lastMonthOver,
  PLMN,
  ROLE,
} from "../helpers/fixtures";
import { makeBatch } from "../helpers/usage";
import { monthOf } from "../helpers/period";
import { classTotals } from "../helpers/rating";
import { batchId, ledgerDomain, signBatch, toContractBatch } from "../../lib/usage/batch";
import { LeafHasher, recordIdToBytes32 } from "../../lib/usage/leaf";
import { merkleTree, merkleProof } from "../../lib/usage/merkle";
import type { ClassTotals, UsageRecord } from "../../lib/usage/types";
import type { Hex } from "../../lib/util/hex";

/**
 * Edge cases the per-contract tests leave out, found with solidity-coverage (.ci/run's gate): PLMN ids
 * invalid in each digit, governance proposals that race each other, operator limits, unknown ids in
 * views, an unknown service in a disputed record, invoices in two tokens with one side zero, the dev token.
 */

const DAY = 24 * 3600;
const Kind = { Suspend: 1, AllowInfraAccount: 3 } as const;

describe("edge cases", function () {
  describe("PlmnLib.isValid (through CarrierRegistry admissions)", function () {
    it("refuses a non-digit in each of MCC1-3, MNC1-2, an MNC3 that is neither a digit nor the filler, and MCC 000", async function () {
      const c = await loadFixture(deployConsortium);
      const candidate = (plmn: string) => ({
        plmn,
        roles: ROLE.CARRIER,
        name: "Candidate",
        encryptionKey: testEncryptionKey(9),
        operators: [c.spare[0].address],
      });
      // 262-01 is 0x62f210: nibbles MCC2 MCC1 | MNC3 MCC3 | MNC2 MNC1.
      for (const bad of ["0xa2f210", "0x6af210", "0x62fa10", "0x62f2a0", "0x62f21a", "0x62a210", "0x00f010"]) {
        await expect(c.carriers.connect(c.de).proposeAdmission(candidate(bad)), bad)
          .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryInvalidPlmn")
          .withArgs(bad);
      }
      // A 3-digit MNC and a 2-digit one with MCC 0 0 1: valid.
      for (const good of ["0x214365", "0x00f110"]) {
        await expect(c.carriers.connect(c.de).proposeAdmission(candidate(good)), good).to.emit(c.carriers, "ProposalCreated");
      }
    });
  });

  describe("CarrierRegistry", function () {
    it("refuses the zero address as an infrastructure account at deployment", async function () {
      const [a] = await hre.ethers.getSigners();
      const factory = await hre.ethers.getContractFactory("CarrierRegistry");
      const member = { plmn: PLMN.DE, roles: ROLE.GOVERNOR, name: "DE", encryptionKey: testEncryptionKey(1), operators: [a.address] };
      await expect(factory.deploy([member], 5001, 3600, [ZeroAddress]))
        .to.be.revertedWithCustomError(factory, "CarrierRegistryInvalidInfraAccount")
        .withArgs(ZeroAddress);
    });

    it("keeps a member at 16 operators and refuses the zero address as one", async function () {
      const c = await loadFixture(deployConsortium);
      for (let i = 0; i < 15; i++) await c.carriers.connect(c.us).addOperator(Wallet.createRandom().address);
      expect(await c.carriers.operatorsOf(PLMN.US)).to.have.length(16);
      await expect(c.carriers.connect(c.us).addOperator(Wallet.createRandom().address))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryInvalidOperators")
        .withArgs(17);
      await expect(c.carriers.connect(c.br).addOperator(ZeroAddress))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryInvalidOperators")
        .withArgs(0);
    });

    it("refuses to suspend a suspended member, and the later of two racing proposals once the first is carried out", async function () {
      const c = await loadFixture(deployConsortium);
      // Two proposals to suspend US, both open; the first carried out makes the second's last approval fail.
      await c.carriers.connect(c.de).proposeStatusChange(Kind.Suspend, PLMN.US);
      await c.carriers.connect(c.br).proposeStatusChange(Kind.Suspend, PLMN.US);
      await c.carriers.connect(c.br).approve(1);
      expect(await c.carriers.isActive(PLMN.US)).to.equal(false);
      await expect(c.carriers.connect(c.de).approve(2))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryWrongStatus")
        .withArgs(PLMN.US, 2);
      await expect(c.carriers.connect(c.de).proposeStatusChange(Kind.Suspend, PLMN.US))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryWrongStatus")
        .withArgs(PLMN.US, 2);
      // The same race over an infrastructure account.
      const account = c.spare[0].address;
      await c.carriers.connect(c.de).proposeInfraAccount(Kind.AllowInfraAccount, account);
      await c.carriers.connect(c.br).proposeInfraAccount(Kind.AllowInfraAccount, account);
      await c.carriers.connect(c.br).approve(3);
      expect(await c.carriers.isInfraAccount(account)).to.equal(true);
      await expect(c.carriers.connect(c.de).approve(4))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryInvalidInfraAccount")
        .withArgs(account);
      expect([await c.carriers.hasApproved(3, PLMN.BR), await c.carriers.hasApproved(4, PLMN.DE)]).to.deep.equal([true, false]);
    });

    it("answers its governance settings and refuses unknown proposal ids", async function () {
      const c = await loadFixture(deployConsortium);
      expect([await c.carriers.thresholdBps(), await c.carriers.proposalLifetime()]).to.deep.equal([5001n, 7n * 24n * 3600n]);
      for (const id of [0, 1]) {
        await expect(c.carriers.getProposal(id)).to.be.revertedWithCustomError(c.carriers, "CarrierRegistryUnknownProposal").withArgs(id);
      }
    });
  });

  describe("DeviceRegistry", function () {
    it("refuses unknown devices and policies in its views, and names its dependencies", async function () {
      const c = await loadFixture(deployConsortium);
      await expect(c.devices.deviceWithPolicy(deviceId(1))).to.be.revertedWithCustomError(c.devices, "DeviceRegistryUnknownDevice");
      for (const id of [0, 1]) {
        await expect(c.devices.getPolicy(id)).to.be.revertedWithCustomError(c.devices, "DeviceRegistryUnknownPolicy").withArgs(id);
      }
      expect(await c.devices.carrierRegistry()).to.equal(await c.carriers.getAddress());
      expect(await c.devices.roamingAgreements()).to.equal(await c.agreements.getAddress());
    });

    it("flags several devices of one home carrier in one call, checking the agreement once", async function () {
      const c = await loadFixture(deployConsortium);
      await agreeDeBr(c);
      await c.devices.connect(c.de).definePolicy(meterPolicy(PLMN.DE));
      const regs = [1, 2, 3].map((i) => ({ id: deviceId(i), deviceClass: 0, maker: "0x000000", policyId: 1 }));
      await c.devices.connect(c.de).registerDevices(regs);
      const flags = regs.map((r) => ({ id: r.id, reason: 2, evidenceHash: r.id }));
      const tx = c.devices.connect(c.br).flagFraud(flags);
      for (const r of regs) await expect(tx).to.emit(c.devices, "FraudFlagged").withArgs(r.id, PLMN.DE, PLMN.BR, 2, r.id);
      expect((await c.devices.getDevices(regs.map((r) => r.id))).map((d) => d.status)).to.deep.equal([3n, 3n, 3n]);
    });
  });

  describe("UsageLedger disputes (ClassTotalsLib.addRecord)", function () {
    it("counts a disputed record of an unknown service as one record and no usage", async function () {
      const c = await loadFixture(deployConsortium);
      await agreeDeBr(c);
      const { period, start } = monthOf(await time.latest());
      const record = (i: number, service: number): UsageRecord => ({
        recordId: recordIdToBytes32(`odd-${i}`),
        deviceId: deviceId(i),
        home: PLMN.DE,
        visited: PLMN.BR,
        service,
        rat: 0,
        startTime: start,
        duration: 30,
        bytesUp: 0,
        bytesDown: 0,
        events: 5,
        latencyMs: 0,
        throughputKbps: 0,
        tariffClass: 1,
        billing: 0,
      });
      const records = [record(1, 7), record(2, 3)];
      const tree = await merkleTree((await LeafHasher.create()).leavesOfRecords(records));
      const batch = makeBatch(PLMN.BR, PLMN.DE, period, {
        merkleRoot: hexlify(tree[tree.length - 1]) as Hex,
        recordCount: 2,
        totals: [classTotals(1, { records: 2, signallingEvents: 5n }) as ClassTotals],
      });
      const domain = ledgerDomain((await hre.ethers.provider.getNetwork()).chainId, await c.ledger.getAddress());
      await c.ledger.connect(c.br).submitBatch(toContractBatch(batch), await signBatch(c.br, domain, batch));
      await c.ledger.connect(c.de).disputeRecords(toContractBatch(batch), [{ record: records[0], proof: merkleProof(tree, 0), reason: 1 }]);
      const [disputed] = await c.ledger.disputedTotals(batchId(batch));
      expect([disputed.records, disputed.dataBytes, disputed.signallingEvents, disputed.smsCount, disputed.voiceSeconds]).to.deep.equal([
        1n,
        0n,
        0n,
        0n,
        0n,
      ]);
    });
  });

  describe("SettlementEscrow with two tokens", function () {
    /**
     * DE-BR agree in the settlement token; after one invoice of last month is closed, they amend the terms
     * retroactively into another token: the other invoice is rated in that one. `withUsage` says which
     * direction had usage (10 MB, 10,100 with the device fee); the other is zero.
     */
    async function twoTokens(withUsage: "first" | "second") {
      const { period, start } = await lastMonthOver();
      const c = await deployConsortium();
      const tokenA = await c.token.getAddress();
      const other = await hre.ethers.deployContract("MintableToken__Mock", ["OTHER"]);
      const tokenB = await other.getAddress();
      await c.agreements.connect(c.de).propose(PLMN.BR, simpleTerms({ a: PLMN.DE, b: PLMN.BR, from: start - DAY, token: tokenA }));
      await c.agreements.connect(c.br).accept(PLMN.DE, 1);
      const domain = ledgerDomain((await hre.ethers.provider.getNetwork()).chainId, await c.ledger.getAddress());
      const batch = makeBatch(PLMN.BR, PLMN.DE, period, {
        recordCount: 1,
        totals: [classTotals(1, { records: 1, dataBytes: 10_000_000n, activeDevices: 1 }) as ClassTotals],
      });
      if (withUsage === "first") {
        await c.ledger.connect(c.br).submitBatch(toContractBatch(batch), await signBatch(c.br, domain, batch));
        await c.ledger.connect(c.de).acceptBatches([batchId(batch)]);
      }
      await c.escrow.connect(c.de).closeInvoice(PLMN.DE, PLMN.BR, period, withUsage === "first" ? [toContractBatch(batch)] : []);
      await c.agreements.connect(c.de).propose(PLMN.BR, simpleTerms({ a: PLMN.DE, b: PLMN.BR, from: start - DAY, token: tokenB }));
      await c.agreements.connect(c.br).accept(PLMN.DE, 2);
      const back = makeBatch(PLMN.DE, PLMN.BR, period, { recordCount: 1, totals: batch.totals });
      if (withUsage === "second") {
        await c.ledger.connect(c.de).submitBatch(toContractBatch(back), await signBatch(c.de, domain, back));
        await c.ledger.connect(c.br).acceptBatches([batchId(back)]);
      }
      await c.escrow.connect(c.de).closeInvoice(PLMN.BR, PLMN.DE, period, withUsage === "second" ? [toContractBatch(back)] : []);
      for (const [token, s] of [
        [c.token, c.de],
        [c.token, c.br],
      ] as const) {
        await token.connect(c.deployer).mint(s.address, 1_000_000n);
        await token.connect(s).approve(await c.escrow.getAddress(), hre.ethers.MaxUint256);
      }
      for (const s of [c.de, c.br]) {
        await other.mint(s.address, 1_000_000n);
        await other.connect(s).approve(await c.escrow.getAddress(), hre.ethers.MaxUint256);
      }
      await c.escrow.connect(c.de).deposit(tokenA, 50_000n);
      await c.escrow.connect(c.br).deposit(tokenB, 50_000n);
      return { ...c, period, tokenA, tokenB };
    }

    const fixtures = { first: () => twoTokens("first"), second: () => twoTokens("second") };
    for (const withUsage of ["first", "second"] as const) {
      it(`pays only the invoice that is not zero when their tokens differ (${withUsage} direction)`, async function () {
        const c = await loadFixture(fixtures[withUsage]);
        const [ab, ba] = [await c.escrow.invoice(PLMN.DE, PLMN.BR, c.period), await c.escrow.invoice(PLMN.BR, PLMN.DE, c.period)];
        expect([ab.token, ba.token]).to.deep.equal([c.tokenA, c.tokenB]);
        expect([ab.amount, ba.amount]).to.deep.equal(withUsage === "first" ? [10_100n, 0n] : [0n, 10_100n]);
        const tx = c.escrow.connect(c.br).settle(PLMN.DE, PLMN.BR, c.period);
        if (withUsage === "first") {
          await expect(tx)
            .to.emit(c.escrow, "SettlementPaid")
            .withArgs(PLMN.DE, PLMN.BR, c.period, c.tokenA, 10_100n, 10_100n, ZeroAddress);
          expect(await c.escrow.deposits(PLMN.BR, c.tokenA)).to.equal(10_100n);
        } else {
          await expect(tx)
            .to.emit(c.escrow, "SettlementPaid")
            .withArgs(PLMN.BR, PLMN.DE, c.period, c.tokenB, 10_100n, 10_100n, ZeroAddress);
          expect(await c.escrow.deposits(PLMN.DE, c.tokenB)).to.equal(10_100n);
        }
        const receipt = (await (await tx).wait())!;
        const paid = receipt.logs.filter((l) => c.escrow.interface.parseLog(l)?.name === "SettlementPaid");
        expect(paid).to.have.length(1);
      });
    }
  });

  describe("SettlementToken", function () {
    it("has 6 decimals and mints for its owner only", async function () {
      const c = await loadFixture(deployConsortium);
      expect(await c.token.decimals()).to.equal(6n);
      await expect(c.token.connect(c.de).mint(c.de.address, 1n))
        .to.be.revertedWithCustomError(c.token, "OwnableUnauthorizedAccount")
        .withArgs(c.de.address);
      await expect(c.token.connect(c.deployer).mint(c.de.address, 5n)).to.changeTokenBalance(c.token, c.de, 5n);
    });
  });
});
