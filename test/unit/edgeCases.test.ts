import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet, ZeroAddress } from "ethers";
import { deployConsortium, meterPolicy, deviceId, localId, testEncryptionKey, agreeDeBr, PLMN, ROLE } from "../helpers/fixtures";
import { toContractBatch } from "../../lib/usage/batch";
import { LeafHasher } from "../../lib/usage/leaf";
import { merkleProof } from "../../lib/usage/merkle";
import { TX_GAS_CAP, deployWorld, prepareBatch, seededRecords } from "../property/world";

/**
 * Edge cases the per-contract tests leave out, found with solidity-coverage (.ci/run's gate): PLMN ids
 * invalid in each digit, governance proposals that race each other, operator limits, unknown ids in
 * views, the dev token; on v2 (test/property/world.ts deployment): the ledger's caps on decisions and disputes
 * in one call (refused under the EIP-7825 gas cap), a disputed leaf index beyond the records, settling a period
 * whose invoices are not closed. The v1 cases of an unknown service in a disputed record and of invoices in two
 * tokens are gone: v2 disputes carry (index, leaf) only, and the token is the co-signed invoice's.
 */

const Kind = { Suspend: 1, AllowInfraAccount: 3 } as const;
/** Permissions.USAGE (contracts/types/Roles.sol). */
const USAGE = 4;

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

    it("keeps a member at 16 operators (at the offer and at the acceptance) and refuses the zero address as one", async function () {
      const c = await loadFixture(deployConsortium);
      const join = async (offered: string) => {
        const signer = await hre.ethers.getImpersonatedSigner(offered);
        await setBalance(offered, 10n ** 18n);
        await c.carriers.connect(signer).acceptOperator(PLMN.US);
      };
      const wallets = Array.from({ length: 16 }, () => Wallet.createRandom().address);
      for (const w of wallets) {
        await c.carriers.connect(c.us).addOperator(w, USAGE);
        if (w !== wallets[14] && w !== wallets[15]) await join(w);
      }
      // 14 joined: both pending offers were made under the cap; the first acceptance fills it, the second is refused.
      await join(wallets[14]);
      expect(await c.carriers.operatorsOf(PLMN.US)).to.have.length(16);
      await expect(join(wallets[15])).to.be.revertedWithCustomError(c.carriers, "CarrierRegistryInvalidOperators").withArgs(17);
      await expect(c.carriers.connect(c.us).addOperator(Wallet.createRandom().address, USAGE))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryInvalidOperators")
        .withArgs(17);
      await expect(c.carriers.connect(c.br).addOperator(ZeroAddress, USAGE))
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
      const regs = [1, 2, 3].map((i) => ({ localId: localId(i), deviceClass: 0, maker: "0x000000", policyId: 1 }));
      await c.devices.connect(c.de).registerDevices(regs);
      const ids = [1, 2, 3].map((i) => deviceId(i));
      const flags = ids.map((id) => ({ id, reason: 2, evidenceHash: id }));
      const tx = c.devices.connect(c.br).flagFraud(flags);
      for (const id of ids) await expect(tx).to.emit(c.devices, "FraudFlagged").withArgs(id, PLMN.DE, PLMN.BR, 2, id);
      // F4: a partner's flag denies the device on its own network only; the status stays Active.
      expect((await c.devices.getDevices(ids)).map((d) => d.status)).to.deep.equal([1n, 1n, 1n]);
      for (const id of ids) expect(await c.devices.flaggedBy(id, PLMN.BR)).to.equal(true);
    });
  });

  describe("UsageLedger and SettlementEscrow v2 (the property world: test/property/world.ts)", function () {
    async function v2World() {
      const w = await deployWorld();
      const records = seededRecords(5, PLMN.DE, PLMN.BR, 21, w.start + 3600);
      const b = await prepareBatch(w, { dir: 0, label: "edge", records, inflated: false, hasher: await LeafHasher.create() });
      await w.ledger.connect(w.signer.br).submitBatch(toContractBatch(b.header), b.signature);
      return { w, b };
    }

    it("refuses more decisions or disputes than its caps in one call, under the EIP-7825 gas cap", async function () {
      const { w, b } = await loadFixture(v2World);
      const ids = Array.from({ length: Number(await w.ledger.MAX_DECISIONS()) + 1 }, () => b.id);
      await expect(w.ledger.connect(w.signer.de).acceptBatches(ids, { gasLimit: TX_GAS_CAP })).to.be.revertedWithCustomError(
        w.ledger,
        "UsageLedgerTooMany",
      );
      const d = { leafIndex: 0, leaf: b.leaves[0], proof: merkleProof(b.tree, 0), reason: 1 };
      const disputes = Array.from({ length: Number(await w.ledger.MAX_DISPUTES()) + 1 }, () => d);
      await expect(w.ledger.connect(w.signer.de).disputeRecords(b.id, disputes, { gasLimit: TX_GAS_CAP })).to.be.revertedWithCustomError(
        w.ledger,
        "UsageLedgerTooMany",
      );
    });

    it("refuses a disputed leaf index beyond the batch's records", async function () {
      const { w, b } = await loadFixture(v2World);
      const d = { leafIndex: 7, leaf: b.leaves[0], proof: merkleProof(b.tree, 0), reason: 1 };
      await expect(w.ledger.connect(w.signer.de).disputeRecords(b.id, [d])).to.be.revertedWithCustomError(
        w.ledger,
        "UsageLedgerRecordNotInBatch",
      );
    });

    it("refuses to settle a period whose invoices are not closed", async function () {
      const { w } = await loadFixture(v2World);
      await time.increaseTo(w.deadline + 1);
      await expect(w.escrow.connect(w.signer.br).settle(PLMN.BR, PLMN.DE, w.period)).to.be.revertedWithCustomError(
        w.escrow,
        "SettlementEscrowInvoiceNotClosed",
      );
    });
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
