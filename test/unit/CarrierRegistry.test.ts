import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deployConsortium, PLMN, ROLE, testEncryptionKey } from "../helpers/fixtures";
import { ALL_PERMISSIONS, PERMISSION_BITS } from "../../lib/core/roles";

const ProposalKind = { Admit: 0, Suspend: 1, Reinstate: 2, AllowInfraAccount: 3, RevokeInfraAccount: 4, Pause: 5, Unpause: 6 } as const;
const P = PERMISSION_BITS;
const MemberStatus = { None: 0, Active: 1, Suspended: 2 } as const;
const WEEK = 7 * 24 * 3600;

describe("CarrierRegistry", function () {
  async function withCandidate() {
    const c = await deployConsortium();
    const newcomerOp = c.spare[0];
    const candidate = {
      plmn: PLMN.NEWCOMER,
      roles: ROLE.CARRIER | ROLE.GOVERNOR,
      name: "Vodafone UK",
      encryptionKey: testEncryptionKey(99),
      operators: [newcomerOp.address],
    };
    return { ...c, candidate, newcomerOp };
  }

  async function deployRegistry(args: { members: unknown[]; threshold?: number; lifetime?: number; infra?: string[] }) {
    const factory = await hre.ethers.getContractFactory("CarrierRegistry");
    return factory.deploy(args.members as never, args.threshold ?? 5001, args.lifetime ?? WEEK, args.infra ?? []);
  }

  describe("constructor", function () {
    it("admits the bootstrap members with their operators and keys", async function () {
      const { carriers, de, de2, maker } = await loadFixture(deployConsortium);
      const m = await carriers.getMember(PLMN.DE);
      expect(m.name).to.equal("Telekom Deutschland");
      expect(m.status).to.equal(MemberStatus.Active);
      expect(m.roles).to.equal(ROLE.CARRIER | ROLE.GOVERNOR);
      expect(m.encryptionKey).to.equal(testEncryptionKey(1));
      expect(await carriers.operatorsOf(PLMN.DE)).to.deep.equal([de.address, de2.address]);
      expect(await carriers.memberOf(de2.address)).to.equal(PLMN.DE);
      expect(await carriers.memberIds()).to.deep.equal([PLMN.DE, PLMN.US, PLMN.BR, PLMN.MAKER]);
      expect(await carriers.activeGovernorCount()).to.equal(3);
      expect(await carriers.hasRole(PLMN.MAKER, ROLE.DEVICE_MAKER)).to.equal(true);
      expect(await carriers.hasRole(PLMN.MAKER, ROLE.CARRIER)).to.equal(false);
      expect(await carriers.memberOf(maker.address)).to.equal(PLMN.MAKER);
    });

    it("keeps 2- and 3-digit MNCs apart", async function () {
      const [a, b] = await hre.ethers.getSigners();
      const key = testEncryptionKey(5);
      const reg = await deployRegistry({
        members: [
          { plmn: "0x62f210", roles: ROLE.GOVERNOR | ROLE.CARRIER, name: "262-01", encryptionKey: key, operators: [a.address] },
          { plmn: "0x620210", roles: ROLE.CARRIER, name: "262-001", encryptionKey: key, operators: [b.address] },
        ],
      });
      expect(await reg.memberOf(a.address)).to.equal("0x62f210");
      expect(await reg.memberOf(b.address)).to.equal("0x620210");
    });

    it("reverts when no bootstrap member is a governor", async function () {
      const [a] = await hre.ethers.getSigners();
      const reg = hre.ethers.getContractFactory("CarrierRegistry");
      await expect(
        deployRegistry({
          members: [{ plmn: PLMN.DE, roles: ROLE.CARRIER, name: "x", encryptionKey: testEncryptionKey(1), operators: [a.address] }],
        }),
      ).to.be.revertedWithCustomError(await reg, "CarrierRegistryNoGovernor");
    });

    it("reverts when the threshold is not a strict majority (5000 bps or less) or above 10000 bps, or the lifetime is 0", async function () {
      const factory = await hre.ethers.getContractFactory("CarrierRegistry");
      for (const [threshold, lifetime] of [
        [0, WEEK],
        [5000, WEEK],
        [10001, WEEK],
        [5001, 0],
      ]) {
        await expect(deployRegistry({ members: [], threshold, lifetime }))
          .to.be.revertedWithCustomError(factory, "CarrierRegistryInvalidGovernance")
          .withArgs(threshold, lifetime);
      }
    });

    it("reverts on an invalid PLMN, duplicate PLMN, bad key, bad roles, empty name or shared operator", async function () {
      const [a, b] = await hre.ethers.getSigners();
      const factory = await hre.ethers.getContractFactory("CarrierRegistry");
      const ok = { plmn: PLMN.DE, roles: ROLE.GOVERNOR, name: "ok", encryptionKey: testEncryptionKey(1), operators: [a.address] };
      const cases: [object, string][] = [
        [{ ...ok, plmn: "0x6af210" }, "CarrierRegistryInvalidPlmn"],
        [{ ...ok, plmn: "0x000000" }, "CarrierRegistryInvalidPlmn"],
        [{ ...ok, encryptionKey: `0x04${"11".repeat(32)}` }, "CarrierRegistryInvalidEncryptionKey"],
        [{ ...ok, encryptionKey: `0x02${"11".repeat(31)}` }, "CarrierRegistryInvalidEncryptionKey"],
        [{ ...ok, roles: 0 }, "CarrierRegistryInvalidRoles"],
        [{ ...ok, roles: 8 }, "CarrierRegistryInvalidRoles"],
        [{ ...ok, name: "" }, "CarrierRegistryInvalidName"],
        [{ ...ok, name: "x".repeat(65) }, "CarrierRegistryInvalidName"],
        [{ ...ok, operators: [] }, "CarrierRegistryInvalidOperators"],
        [{ ...ok, operators: [hre.ethers.ZeroAddress] }, "CarrierRegistryInvalidOperators"],
        [{ ...ok, operators: [b.address, b.address] }, "CarrierRegistryOperatorTaken"],
      ];
      for (const [member, error] of cases) {
        await expect(deployRegistry({ members: [member] }), error).to.be.revertedWithCustomError(factory, error);
      }
      await expect(deployRegistry({ members: [ok, { ...ok, operators: [b.address] }] }))
        .to.be.revertedWithCustomError(factory, "CarrierRegistryMemberExists")
        .withArgs(PLMN.DE);
      await expect(deployRegistry({ members: [ok, { ...ok, plmn: PLMN.US }] }))
        .to.be.revertedWithCustomError(factory, "CarrierRegistryOperatorTaken")
        .withArgs(a.address, PLMN.DE);
    });
  });

  describe("proposeAdmission", function () {
    it("creates a proposal that needs 2 of 3 governors and counts the proposer", async function () {
      const { carriers, de, candidate } = await loadFixture(withCandidate);
      const expiresAt = (await time.latest()) + 1 + WEEK;
      await expect(carriers.connect(de).proposeAdmission(candidate))
        .to.emit(carriers, "ProposalCreated")
        .withArgs(1, ProposalKind.Admit, PLMN.NEWCOMER, hre.ethers.ZeroAddress, PLMN.DE, 2, expiresAt)
        .and.to.emit(carriers, "ProposalApproved")
        .withArgs(1, PLMN.DE, 1);
      const p = await carriers.getProposal(1);
      expect(p.approvals).to.equal(1);
      expect(p.executed).to.equal(false);
      expect((await carriers.getMember(PLMN.NEWCOMER)).status).to.equal(MemberStatus.None);
      expect((await carriers.getCandidate(1)).name).to.equal("Vodafone UK");
    });

    it("reverts when the caller is not an operator of an active member", async function () {
      const { carriers, outsider, candidate } = await loadFixture(withCandidate);
      await expect(carriers.connect(outsider).proposeAdmission(candidate))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(outsider.address);
    });

    it("reverts when the caller's member is not a governor", async function () {
      const { carriers, maker, candidate } = await loadFixture(withCandidate);
      await expect(carriers.connect(maker).proposeAdmission(candidate))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryMissingRole")
        .withArgs(maker.address, PLMN.MAKER, ROLE.GOVERNOR);
    });

    it("reverts when the PLMN is a member already", async function () {
      const { carriers, de, candidate } = await loadFixture(withCandidate);
      await expect(carriers.connect(de).proposeAdmission({ ...candidate, plmn: PLMN.US }))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryMemberExists")
        .withArgs(PLMN.US);
    });
  });

  describe("approve", function () {
    it("admits the candidate exactly when the quorum is reached", async function () {
      const { carriers, de, us, br, candidate, newcomerOp } = await loadFixture(withCandidate);
      await carriers.connect(de).proposeAdmission(candidate);
      await expect(carriers.connect(us).approve(1))
        .to.emit(carriers, "MemberAdmitted")
        .withArgs(PLMN.NEWCOMER, candidate.roles, candidate.name, candidate.encryptionKey)
        .and.to.emit(carriers, "ProposalExecuted")
        .withArgs(1);
      expect(await carriers.isActive(PLMN.NEWCOMER)).to.equal(true);
      expect(await carriers.memberOf(newcomerOp.address)).to.equal(PLMN.NEWCOMER);
      expect(await carriers.activeGovernorCount()).to.equal(4);
      await expect(carriers.connect(br).approve(1)).to.be.revertedWithCustomError(carriers, "CarrierRegistryProposalExecuted").withArgs(1);
    });

    it("needs 3 of 4 once a fourth governor joins (ceil of 50.01%)", async function () {
      const { carriers, de, us, br, candidate, newcomerOp, spare } = await loadFixture(withCandidate);
      await carriers.connect(de).proposeAdmission(candidate);
      await carriers.connect(us).approve(1);
      await carriers.connect(newcomerOp).proposeStatusChange(ProposalKind.Suspend, PLMN.BR);
      expect((await carriers.getProposal(2)).requiredApprovals).to.equal(3);
      await carriers.connect(de).approve(2);
      expect(await carriers.isActive(PLMN.BR)).to.equal(true);
      await carriers.connect(us).approve(2);
      expect(await carriers.isActive(PLMN.BR)).to.equal(false);
      // A suspended member's operators still transact (for their defensive calls); the contracts decide what.
      expect(await carriers.transactionAllowed(br.address, spare[1].address, 0, 0, 0, "0x")).to.equal(true);
    });

    it("reverts when the same member approves twice, also from its second operator", async function () {
      const { carriers, de, de2, candidate } = await loadFixture(withCandidate);
      await carriers.connect(de).proposeAdmission(candidate);
      await expect(carriers.connect(de2).approve(1))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryAlreadyApproved")
        .withArgs(1, PLMN.DE);
    });

    it("reverts when the proposal expired", async function () {
      const { carriers, de, us, candidate } = await loadFixture(withCandidate);
      await carriers.connect(de).proposeAdmission(candidate);
      const p = await carriers.getProposal(1);
      await time.increaseTo(p.expiresAt);
      await expect(carriers.connect(us).approve(1))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryProposalExpired")
        .withArgs(1, p.expiresAt);
    });

    it("reverts for an unknown proposal", async function () {
      const { carriers, us } = await loadFixture(withCandidate);
      await expect(carriers.connect(us).approve(7)).to.be.revertedWithCustomError(carriers, "CarrierRegistryUnknownProposal").withArgs(7);
    });

    it("reverts when the caller is not a governor or not a member", async function () {
      const { carriers, de, maker, outsider, candidate } = await loadFixture(withCandidate);
      await carriers.connect(de).proposeAdmission(candidate);
      await expect(carriers.connect(maker).approve(1)).to.be.revertedWithCustomError(carriers, "CarrierRegistryMissingRole");
      await expect(carriers.connect(outsider).approve(1)).to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator");
    });

    it("reverts at execution when a competing proposal admitted the PLMN first", async function () {
      const { carriers, de, us, br, candidate } = await loadFixture(withCandidate);
      await carriers.connect(de).proposeAdmission(candidate);
      await carriers.connect(us).proposeAdmission({ ...candidate, name: "Other" });
      await carriers.connect(br).approve(2);
      await expect(carriers.connect(br).approve(1))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryMemberExists")
        .withArgs(PLMN.NEWCOMER);
      expect((await carriers.getMember(PLMN.NEWCOMER)).name).to.equal("Other");
    });

    it("does not count a suspended governor's new votes", async function () {
      const { carriers, de, us, br, candidate } = await loadFixture(withCandidate);
      await carriers.connect(de).proposeStatusChange(ProposalKind.Suspend, PLMN.BR);
      await carriers.connect(us).approve(1);
      await carriers.connect(de).proposeAdmission(candidate);
      await expect(carriers.connect(br).approve(2)).to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator");
    });
  });

  describe("proposeStatusChange", function () {
    it("suspends and reinstates a member by quorum", async function () {
      const { carriers, de, us, maker } = await loadFixture(deployConsortium);
      await carriers.connect(de).proposeStatusChange(ProposalKind.Suspend, PLMN.MAKER);
      await expect(carriers.connect(us).approve(1)).to.emit(carriers, "MemberSuspended").withArgs(PLMN.MAKER, 1);
      expect((await carriers.getMember(PLMN.MAKER)).status).to.equal(MemberStatus.Suspended);
      expect(await carriers.hasRole(PLMN.MAKER, ROLE.DEVICE_MAKER)).to.equal(false);
      await expect(carriers.requireActiveOperator(maker.address, 0))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(maker.address);
      await carriers.connect(us).proposeStatusChange(ProposalKind.Reinstate, PLMN.MAKER);
      await expect(carriers.connect(de).approve(2)).to.emit(carriers, "MemberReinstated").withArgs(PLMN.MAKER, 2);
      expect(await carriers.isActive(PLMN.MAKER)).to.equal(true);
    });

    it("reverts when suspending a suspended member or reinstating an active one", async function () {
      const { carriers, de } = await loadFixture(deployConsortium);
      await expect(carriers.connect(de).proposeStatusChange(ProposalKind.Reinstate, PLMN.US))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryWrongStatus")
        .withArgs(PLMN.US, MemberStatus.Active);
      await expect(carriers.connect(de).proposeStatusChange(ProposalKind.Suspend, PLMN.NEWCOMER))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryUnknownMember")
        .withArgs(PLMN.NEWCOMER);
      await expect(carriers.connect(de).proposeStatusChange(ProposalKind.Admit, PLMN.US))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryInvalidProposalKind")
        .withArgs(ProposalKind.Admit);
    });

    it("reverts when the caller is not an active governor's operator", async function () {
      const { carriers, outsider, maker } = await loadFixture(deployConsortium);
      await expect(carriers.connect(outsider).proposeStatusChange(ProposalKind.Suspend, PLMN.US)).to.be.revertedWithCustomError(
        carriers,
        "CarrierRegistryNotActiveOperator",
      );
      await expect(carriers.connect(maker).proposeStatusChange(ProposalKind.Suspend, PLMN.US)).to.be.revertedWithCustomError(
        carriers,
        "CarrierRegistryMissingRole",
      );
    });

    it("refuses to suspend the last active governor", async function () {
      const [a, b] = await hre.ethers.getSigners();
      const reg = await deployRegistry({
        members: [
          { plmn: PLMN.DE, roles: ROLE.GOVERNOR | ROLE.CARRIER, name: "solo", encryptionKey: testEncryptionKey(1), operators: [a.address] },
          { plmn: PLMN.US, roles: ROLE.CARRIER, name: "other", encryptionKey: testEncryptionKey(2), operators: [b.address] },
        ],
      });
      // With one governor, a proposal executes at once.
      await expect(reg.connect(a).proposeStatusChange(ProposalKind.Suspend, PLMN.US)).to.emit(reg, "MemberSuspended");
      await expect(reg.connect(a).proposeStatusChange(ProposalKind.Suspend, PLMN.DE))
        .to.be.revertedWithCustomError(reg, "CarrierRegistryLastGovernor")
        .withArgs(PLMN.DE);
    });
  });

  describe("proposeInfraAccount", function () {
    it("allows and revokes an infrastructure account by quorum", async function () {
      const { carriers, de, us, spare } = await loadFixture(deployConsortium);
      const ops = spare[2].address;
      expect(await carriers.transactionAllowed(ops, ops, 0, 0, 0, "0x")).to.equal(false);
      await carriers.connect(de).proposeInfraAccount(ProposalKind.AllowInfraAccount, ops);
      await expect(carriers.connect(us).approve(1)).to.emit(carriers, "InfraAccountSet").withArgs(ops, true);
      expect(await carriers.transactionAllowed(ops, ops, 0, 0, 0, "0x")).to.equal(true);
      await carriers.connect(us).proposeInfraAccount(ProposalKind.RevokeInfraAccount, ops);
      await carriers.connect(de).approve(2);
      expect(await carriers.isInfraAccount(ops)).to.equal(false);
    });

    it("reverts for the zero account, a redundant change or a wrong kind", async function () {
      const { carriers, de, deployer, spare } = await loadFixture(deployConsortium);
      await expect(carriers.connect(de).proposeInfraAccount(ProposalKind.AllowInfraAccount, deployer.address))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryInvalidInfraAccount")
        .withArgs(deployer.address);
      await expect(carriers.connect(de).proposeInfraAccount(ProposalKind.RevokeInfraAccount, spare[0].address))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryInvalidInfraAccount")
        .withArgs(spare[0].address);
      await expect(
        carriers.connect(de).proposeInfraAccount(ProposalKind.AllowInfraAccount, hre.ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(carriers, "CarrierRegistryInvalidInfraAccount");
      await expect(carriers.connect(de).proposeInfraAccount(ProposalKind.Suspend, spare[0].address))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryInvalidProposalKind")
        .withArgs(ProposalKind.Suspend);
    });

    it("reverts when the caller is not an active governor's operator", async function () {
      const { carriers, outsider } = await loadFixture(deployConsortium);
      await expect(
        carriers.connect(outsider).proposeInfraAccount(ProposalKind.AllowInfraAccount, outsider.address),
      ).to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator");
    });
  });

  describe("addOperator / acceptOperator / setOperatorPermissions / removeOperator", function () {
    it("offers a place, lets the account accept it with the offered permissions, and removes it", async function () {
      const { carriers, us, spare } = await loadFixture(deployConsortium);
      const op = spare[3];
      await expect(carriers.connect(us).addOperator(op.address, P.usage | P.devices))
        .to.emit(carriers, "OperatorOffered")
        .withArgs(PLMN.US, op.address, P.usage | P.devices);
      expect(await carriers.memberOf(op.address)).to.equal("0x000000");
      expect(await carriers.operatorOffer(op.address, PLMN.US)).to.deep.equal([BigInt(P.usage | P.devices), us.address]);
      await expect(carriers.connect(op).acceptOperator(PLMN.US))
        .to.emit(carriers, "OperatorAdded")
        .withArgs(PLMN.US, op.address)
        .and.to.emit(carriers, "OperatorPermissionsSet")
        .withArgs(PLMN.US, op.address, P.usage | P.devices);
      expect(await carriers.operatorPermissions(op.address)).to.equal(P.usage | P.devices);
      expect(await carriers.operatorOffer(op.address, PLMN.US)).to.deep.equal([0n, hre.ethers.ZeroAddress]);
      expect(await carriers.transactionAllowed(op.address, us.address, 0, 0, 0, "0x")).to.equal(true);
      await expect(carriers.connect(us).removeOperator(op.address)).to.emit(carriers, "OperatorRemoved").withArgs(PLMN.US, op.address);
      expect(await carriers.operatorsOf(PLMN.US)).to.deep.equal([us.address]);
      expect(await carriers.memberOf(op.address)).to.equal("0x000000");
      expect(await carriers.operatorPermissions(op.address)).to.equal(0);
    });

    it("gives bootstrap operators every permission", async function () {
      const { carriers, de, de2, maker } = await loadFixture(deployConsortium);
      for (const a of [de, de2, maker]) expect(await carriers.operatorPermissions(a.address)).to.equal(ALL_PERMISSIONS);
    });

    it("replaces the member's own pending offer with a new one", async function () {
      const { carriers, us, spare } = await loadFixture(deployConsortium);
      await carriers.connect(us).addOperator(spare[3].address, P.usage);
      await carriers.connect(us).addOperator(spare[3].address, P.treasury);
      await carriers.connect(spare[3]).acceptOperator(PLMN.US);
      expect(await carriers.operatorPermissions(spare[3].address)).to.equal(P.treasury);
    });

    it("reverts when offering to an account that operates for a member, the zero account, or with bad permissions", async function () {
      const { carriers, us, br, spare } = await loadFixture(deployConsortium);
      await expect(carriers.connect(us).addOperator(br.address, P.usage))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryOperatorTaken")
        .withArgs(br.address, PLMN.BR);
      await expect(carriers.connect(us).addOperator(hre.ethers.ZeroAddress, P.usage))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryInvalidOperators")
        .withArgs(0);
      for (const bad of [0, 16, 255]) {
        await expect(carriers.connect(us).addOperator(spare[3].address, bad))
          .to.be.revertedWithCustomError(carriers, "CarrierRegistryInvalidPermissions")
          .withArgs(bad);
      }
    });

    it("reverts when accepting without an offer, an offer of another member, or once the account operates for a member", async function () {
      const { carriers, us, br, spare } = await loadFixture(deployConsortium);
      await expect(carriers.connect(spare[3]).acceptOperator(PLMN.US))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNoOffer")
        .withArgs(spare[3].address, PLMN.US);
      await carriers.connect(us).addOperator(spare[3].address, P.usage);
      await carriers.connect(br).addOperator(spare[3].address, P.usage);
      await expect(carriers.connect(spare[3]).acceptOperator(PLMN.DE))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNoOffer")
        .withArgs(spare[3].address, PLMN.DE);
      await carriers.connect(spare[3]).acceptOperator(PLMN.BR);
      await expect(carriers.connect(spare[3]).acceptOperator(PLMN.US))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryOperatorTaken")
        .withArgs(spare[3].address, PLMN.BR);
    });

    it("reverts when accepting the offer of a member suspended since", async function () {
      const { carriers, de, us, br, spare } = await loadFixture(deployConsortium);
      await carriers.connect(br).addOperator(spare[3].address, P.usage);
      await carriers.connect(de).proposeStatusChange(ProposalKind.Suspend, PLMN.BR);
      await carriers.connect(us).approve(1);
      await expect(carriers.connect(spare[3]).acceptOperator(PLMN.BR))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryWrongStatus")
        .withArgs(PLMN.BR, MemberStatus.Suspended);
    });

    it("sets an operator's permissions and refuses another member's operator or bad bits", async function () {
      const { carriers, de, de2, br } = await loadFixture(deployConsortium);
      await expect(carriers.connect(de).setOperatorPermissions(de2.address, P.usage))
        .to.emit(carriers, "OperatorPermissionsSet")
        .withArgs(PLMN.DE, de2.address, P.usage);
      expect(await carriers.operatorPermissions(de2.address)).to.equal(P.usage);
      await expect(carriers.connect(de).setOperatorPermissions(br.address, P.usage))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotOperatorOf")
        .withArgs(br.address, PLMN.DE);
      await expect(carriers.connect(de).setOperatorPermissions(de2.address, 0))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryInvalidPermissions")
        .withArgs(0);
    });

    it("reverts when removing another member's operator or the last one", async function () {
      const { carriers, us, br } = await loadFixture(deployConsortium);
      await expect(carriers.connect(us).removeOperator(br.address))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotOperatorOf")
        .withArgs(br.address, PLMN.US);
      await expect(carriers.connect(us).removeOperator(us.address))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryLastOperator")
        .withArgs(PLMN.US);
    });

    it("reverts when the caller is not an operator of an active member", async function () {
      const { carriers, outsider, us } = await loadFixture(deployConsortium);
      // Each call is made only when awaited: calls made up front reject while the first is awaited, unhandled.
      for (const call of [
        () => carriers.connect(outsider).addOperator(outsider.address, P.usage),
        () => carriers.connect(outsider).removeOperator(us.address),
        () => carriers.connect(outsider).setOperatorPermissions(us.address, P.usage),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator").withArgs(outsider.address);
      }
    });
  });

  describe("requireOperator / requireDefendingOperator", function () {
    it("checks membership, role and every permission bit asked", async function () {
      const { carriers, de, de2, maker, outsider } = await loadFixture(deployConsortium);
      await carriers.connect(de).setOperatorPermissions(de2.address, P.usage | P.devices);
      expect(await carriers.requireOperator(de2.address, ROLE.CARRIER, P.usage | P.devices)).to.equal(PLMN.DE);
      expect(await carriers.requireOperator(de2.address, ROLE.CARRIER, 0)).to.equal(PLMN.DE);
      await expect(carriers.requireOperator(de2.address, ROLE.CARRIER, P.usage | P.treasury))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryMissingPermission")
        .withArgs(de2.address, PLMN.DE, P.usage | P.treasury);
      await expect(carriers.requireOperator(maker.address, ROLE.CARRIER, 0))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryMissingRole")
        .withArgs(maker.address, PLMN.MAKER, ROLE.CARRIER);
      for (const check of [carriers.requireOperator, carriers.requireDefendingOperator]) {
        await expect(check(outsider.address, 0, 0))
          .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
          .withArgs(outsider.address);
      }
      await expect(carriers.requireDefendingOperator(de2.address, ROLE.CARRIER, P.treasury))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryMissingPermission")
        .withArgs(de2.address, PLMN.DE, P.treasury);
      // requireActiveOperator, kept for compatibility, checks no permission.
      expect(await carriers.requireActiveOperator(de2.address, ROLE.CARRIER)).to.equal(PLMN.DE);
    });
  });

  describe("rotateEncryptionKey", function () {
    it("replaces the member's key", async function () {
      const { carriers, br } = await loadFixture(deployConsortium);
      const key = testEncryptionKey(42);
      await expect(carriers.connect(br).rotateEncryptionKey(key)).to.emit(carriers, "EncryptionKeyRotated").withArgs(PLMN.BR, key);
      expect((await carriers.getMember(PLMN.BR)).encryptionKey).to.equal(key);
    });

    it("reverts for a malformed key or an unauthorized caller", async function () {
      const { carriers, br, outsider } = await loadFixture(deployConsortium);
      await expect(carriers.connect(br).rotateEncryptionKey(`0x05${"00".repeat(32)}`)).to.be.revertedWithCustomError(
        carriers,
        "CarrierRegistryInvalidEncryptionKey",
      );
      await expect(carriers.connect(outsider).rotateEncryptionKey(testEncryptionKey(3))).to.be.revertedWithCustomError(
        carriers,
        "CarrierRegistryNotActiveOperator",
      );
    });
  });

  describe("transactionAllowed", function () {
    it("allows operators of members and infrastructure accounts only", async function () {
      const { carriers, deployer, de2, maker, outsider } = await loadFixture(deployConsortium);
      const allowed = (a: string) => carriers.transactionAllowed(a, outsider.address, 1, 0, 21000, "0x1234");
      expect(await allowed(de2.address)).to.equal(true);
      expect(await allowed(maker.address)).to.equal(true);
      expect(await allowed(deployer.address)).to.equal(true);
      expect(await allowed(outsider.address)).to.equal(false);
      expect(await allowed(hre.ethers.ZeroAddress)).to.equal(false);
    });

    it("has exactly Besu's account-permissioning signature", async function () {
      const { carriers } = await loadFixture(deployConsortium);
      const selector = hre.ethers.id("transactionAllowed(address,address,uint256,uint256,uint256,bytes)").slice(0, 10);
      expect(carriers.interface.getFunction("transactionAllowed").selector).to.equal(selector);
    });
  });
});
