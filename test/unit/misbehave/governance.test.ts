import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet } from "ethers";
import { deployConsortium, PLMN, ROLE, testEncryptionKey, type Consortium } from "../../helpers/fixtures";
import { ALL_PERMISSIONS, PERMISSION_BITS as P } from "../../../lib/core/roles";

/**
 * Members who misbehave (issue 14, ../shared/THREATS.md), governance side: each test replays what a
 * malicious member (or a leaked key) did or would do, front-running included, and shows it refused.
 * F8 operator squatting, F9 half-quorum, F5 (the registry's part: a suspended member keeps its defensive
 * calls), per-key permissions (a leaked ingest key), the emergency pause and its bounds.
 */

const Kind = { Admit: 0, Suspend: 1, Reinstate: 2, AllowInfraAccount: 3, RevokeInfraAccount: 4, Pause: 5, Unpause: 6 } as const;
const DAY = 24 * 3600;
const WEEK = 7 * DAY;
/** EIP-7825: the most gas one transaction may use. */
const TX_GAS_CAP = 16_777_216n;

/** A fresh account with ether that belongs to no member (an offered key, an attacker's address). */
async function freshAccount() {
  const wallet = Wallet.createRandom().connect(hre.ethers.provider);
  await setBalance(wallet.address, 10n ** 18n);
  return wallet;
}

/** The consortium with DE's second key (de2) turned into an ingest key: USAGE and DEVICES only. */
async function withIngestKey(): Promise<Consortium> {
  const c = await deployConsortium();
  await c.carriers.connect(c.de).setOperatorPermissions(c.de2.address, P.usage | P.devices);
  return c;
}

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  expect(receipt.gasUsed).to.be.lessThan(TX_GAS_CAP);
  return receipt.gasUsed;
}

describe("misbehave: governance (CarrierRegistry)", function () {
  describe("F8 operator squatting", function () {
    it("F8: a member that offers itself a candidate's operator address (front-running the admission) does not block it", async function () {
      const c = await loadFixture(deployConsortium);
      const candidateOp = c.spare[0];
      const candidate = {
        plmn: PLMN.NEWCOMER,
        roles: ROLE.CARRIER,
        name: "Vodafone UK",
        encryptionKey: testEncryptionKey(99),
        operators: [candidateOp.address],
      };
      await c.carriers.connect(c.de).proposeAdmission(candidate);
      // BR reads the pending admission from the pool and offers the candidate's operator a place first.
      await c.carriers.connect(c.br).addOperator(candidateOp.address, ALL_PERMISSIONS);
      expect(await c.carriers.memberOf(candidateOp.address)).to.equal("0x000000");
      // The admission still goes through: an offer never takes the address.
      await expect(c.carriers.connect(c.us).approve(1)).to.emit(c.carriers, "MemberAdmitted");
      expect(await c.carriers.memberOf(candidateOp.address)).to.equal(PLMN.NEWCOMER);
      // And BR's offer is dead: the account operates for a member now.
      await expect(c.carriers.connect(candidateOp).acceptOperator(PLMN.BR))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryOperatorTaken")
        .withArgs(candidateOp.address, PLMN.NEWCOMER);
    });

    it("F8: another member's offer to the same address, sent just before, neither replaces nor blocks the member's own offer", async function () {
      const c = await loadFixture(deployConsortium);
      const newKey = await freshAccount();
      await c.carriers.connect(c.us).addOperator(newKey.address, P.usage);
      // BR front-runs the new key's acceptance with an offer of its own, and again right before it.
      await c.carriers.connect(c.br).addOperator(newKey.address, ALL_PERMISSIONS);
      expect(await c.carriers.operatorOffer(newKey.address, PLMN.US)).to.deep.equal([BigInt(P.usage), c.us.address]);
      await expect(c.carriers.connect(newKey).acceptOperator(PLMN.US))
        .to.emit(c.carriers, "OperatorAdded")
        .withArgs(PLMN.US, newKey.address);
      expect(await c.carriers.memberOf(newKey.address)).to.equal(PLMN.US);
      expect(await c.carriers.operatorPermissions(newKey.address)).to.equal(P.usage);
    });

    it("F8: an offered account may send its acceptOperator call and nothing else; an account without an offer nothing at all", async function () {
      const c = await loadFixture(deployConsortium);
      const newKey = await freshAccount();
      const registry = await c.carriers.getAddress();
      const accept = c.carriers.interface.encodeFunctionData("acceptOperator", [PLMN.US]);
      const other = c.carriers.interface.encodeFunctionData("approve", [1]);
      const allowed = (target: string, payload: string) => c.carriers.transactionAllowed(newKey.address, target, 0, 0, 100_000, payload);
      expect(await allowed(registry, accept)).to.equal(false);
      await c.carriers.connect(c.us).addOperator(newKey.address, P.usage);
      expect(await allowed(registry, accept)).to.equal(true);
      expect(await allowed(registry, other)).to.equal(false);
      expect(await allowed(await c.ledger.getAddress(), accept)).to.equal(false);
      expect(await allowed(registry, "0x")).to.equal(false);
    });

    it("F8: offers made by a leaked ADMIN key lapse when the member removes that key", async function () {
      const c = await loadFixture(deployConsortium);
      const attacker = await freshAccount();
      // de2 leaked: the thief offers its own address a place among DE's operators...
      await c.carriers.connect(c.de2).addOperator(attacker.address, ALL_PERMISSIONS);
      // ... DE removes the leaked key before the thief accepts: the offer lapses with it.
      await c.carriers.connect(c.de).removeOperator(c.de2.address);
      await expect(c.carriers.connect(attacker).acceptOperator(PLMN.DE))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryNoOffer")
        .withArgs(attacker.address, PLMN.DE);
    });

    it("F8: a leaked ADMIN key's offers stay dead when the key is stripped of ADMIN and later given it back", async function () {
      const c = await loadFixture(deployConsortium);
      const attacker = await freshAccount();
      const honestKey = await freshAccount();
      await c.carriers.connect(c.de2).addOperator(attacker.address, ALL_PERMISSIONS);
      await c.carriers.connect(c.de).setOperatorPermissions(c.de2.address, P.usage);
      await c.carriers.connect(c.de).setOperatorPermissions(c.de2.address, ALL_PERMISSIONS);
      await expect(c.carriers.connect(attacker).acceptOperator(PLMN.DE)).to.be.revertedWithCustomError(
        c.carriers,
        "CarrierRegistryNoOffer",
      );
      // The honest ADMIN's new offers work as before.
      await c.carriers.connect(c.de).addOperator(honestKey.address, P.usage);
      await expect(c.carriers.connect(honestKey).acceptOperator(PLMN.DE)).to.emit(c.carriers, "OperatorAdded");
    });
  });

  describe("F9 half-quorum", function () {
    async function twoGovernors(threshold: number) {
      const [, a, b] = await hre.ethers.getSigners();
      const factory = await hre.ethers.getContractFactory("CarrierRegistry");
      const member = (plmn: string, op: string, seed: number) => ({
        plmn,
        roles: ROLE.CARRIER | ROLE.GOVERNOR,
        name: plmn,
        encryptionKey: testEncryptionKey(seed),
        operators: [op],
      });
      return {
        factory,
        a,
        b,
        deploy: () => factory.deploy([member(PLMN.DE, a.address, 1), member(PLMN.US, b.address, 2)], threshold, WEEK, []),
      };
    }

    it("F9: a threshold of 50% (5000 bps) or less is refused at deployment", async function () {
      for (const threshold of [5000, 3333, 1]) {
        const { factory, deploy } = await twoGovernors(threshold);
        await expect(deploy()).to.be.revertedWithCustomError(factory, "CarrierRegistryInvalidGovernance").withArgs(threshold, WEEK);
      }
    });

    it("F9: with two governors at 5001 bps, one cannot suspend the other alone", async function () {
      const { a, b, deploy } = await twoGovernors(5001);
      const registry = await deploy();
      await expect(registry.connect(a).proposeStatusChange(Kind.Suspend, PLMN.US)).to.not.emit(registry, "MemberSuspended");
      const p = await registry.getProposal(1);
      expect([p.requiredApprovals, p.approvals, p.executed]).to.deep.equal([2n, 1n, false]);
      expect(await registry.isActive(PLMN.US)).to.equal(true);
      // Its second operator key does not count twice.
      expect(await registry.requireActiveOperator(b.address, ROLE.GOVERNOR)).to.equal(PLMN.US);
    });
  });

  describe("permissions: a leaked ingest key (USAGE and DEVICES only)", function () {
    it("cannot offer operators, change or escalate permissions, remove keys, or rotate the encryption key", async function () {
      const c = await loadFixture(withIngestKey);
      const thief = c.de2;
      const attacker = Wallet.createRandom().address;
      const missing = (call: Promise<unknown>) =>
        expect(call)
          .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryMissingPermission")
          .withArgs(thief.address, PLMN.DE, P.admin);
      await missing(c.carriers.connect(thief).addOperator(attacker, ALL_PERMISSIONS));
      await missing(c.carriers.connect(thief).setOperatorPermissions(thief.address, ALL_PERMISSIONS));
      await missing(c.carriers.connect(thief).setOperatorPermissions(c.de.address, P.usage));
      await missing(c.carriers.connect(thief).removeOperator(c.de.address));
      await missing(c.carriers.connect(thief).rotateEncryptionKey(testEncryptionKey(66)));
      expect(await c.carriers.operatorsOf(PLMN.DE)).to.deep.equal([c.de.address, thief.address]);
      expect((await c.carriers.getMember(PLMN.DE)).encryptionKey).to.equal(testEncryptionKey(1));
    });

    it("cannot propose, vote or pause for its member", async function () {
      const c = await loadFixture(withIngestKey);
      const thief = c.de2;
      await c.carriers.connect(c.us).proposeStatusChange(Kind.Suspend, PLMN.BR);
      const missing = (call: Promise<unknown>) =>
        expect(call)
          .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryMissingPermission")
          .withArgs(thief.address, PLMN.DE, P.admin);
      await missing(c.carriers.connect(thief).approve(1));
      await missing(c.carriers.connect(thief).proposeStatusChange(Kind.Suspend, PLMN.US));
      await missing(c.carriers.connect(thief).proposeInfraAccount(Kind.AllowInfraAccount, thief.address));
      await missing(c.carriers.connect(thief).proposeEmergency(Kind.Pause));
      await missing(
        c.carriers.connect(thief).proposeAdmission({
          plmn: PLMN.NEWCOMER,
          roles: ROLE.CARRIER,
          name: "Sock puppet",
          encryptionKey: testEncryptionKey(7),
          operators: [Wallet.createRandom().address],
        }),
      );
      expect(await c.carriers.isActive(PLMN.BR)).to.equal(true);
      // The other contracts' money checks refuse it too: it holds no TREASURY.
      await expect(c.carriers.requireOperator(thief.address, ROLE.CARRIER, P.treasury))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryMissingPermission")
        .withArgs(thief.address, PLMN.DE, P.treasury);
      expect(await c.carriers.requireOperator(thief.address, ROLE.CARRIER, P.usage)).to.equal(PLMN.DE);
    });
  });

  describe("the last ADMIN", function () {
    it("cannot be removed or stripped of ADMIN, by itself or by anyone", async function () {
      const c = await loadFixture(withIngestKey);
      await expect(c.carriers.connect(c.de).removeOperator(c.de.address))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryLastAdmin")
        .withArgs(PLMN.DE);
      await expect(c.carriers.connect(c.de).setOperatorPermissions(c.de.address, P.treasury))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryLastAdmin")
        .withArgs(PLMN.DE);
      // The ingest key can still be removed: it is no ADMIN.
      await expect(c.carriers.connect(c.de).removeOperator(c.de2.address)).to.emit(c.carriers, "OperatorRemoved");
    });

    it("can hand ADMIN over: grant it to another key first, then strip or remove the old one", async function () {
      const c = await loadFixture(withIngestKey);
      await c.carriers.connect(c.de).setOperatorPermissions(c.de2.address, P.admin | P.usage);
      await expect(c.carriers.connect(c.de).setOperatorPermissions(c.de.address, P.treasury))
        .to.emit(c.carriers, "OperatorPermissionsSet")
        .withArgs(PLMN.DE, c.de.address, P.treasury);
      await expect(c.carriers.connect(c.de2).setOperatorPermissions(c.de2.address, P.usage))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryLastAdmin")
        .withArgs(PLMN.DE);
    });
  });

  describe("emergency pause", function () {
    it("pauses and unpauses by quorum only; a lone governor cannot", async function () {
      const c = await loadFixture(deployConsortium);
      await expect(c.carriers.connect(c.de).proposeEmergency(Kind.Pause)).to.not.emit(c.carriers, "PausedSet");
      expect(await c.carriers.paused()).to.equal(false);
      await expect(c.carriers.connect(c.us).approve(1)).to.emit(c.carriers, "PausedSet").withArgs(true, 1);
      const started = await time.latest();
      expect(await c.carriers.paused()).to.equal(true);
      expect(await c.carriers.pausedUntil()).to.equal(started + 14 * DAY);
      // Governance and key management never pause.
      await c.carriers.connect(c.de).setOperatorPermissions(c.de2.address, P.usage);
      await c.carriers.connect(c.br).proposeEmergency(Kind.Unpause);
      expect(await c.carriers.paused()).to.equal(true);
      await expect(c.carriers.connect(c.de).approve(2)).to.emit(c.carriers, "PausedSet").withArgs(false, 2);
      expect(await c.carriers.paused()).to.equal(false);
    });

    it("lifts itself after 14 days, cannot be extended, and waits 7 days before the next one", async function () {
      const c = await loadFixture(deployConsortium);
      await c.carriers.connect(c.de).proposeEmergency(Kind.Pause);
      await c.carriers.connect(c.us).approve(1);
      const until = Number(await c.carriers.pausedUntil());
      // A colluding quorum tries to extend it: refused until the cooldown after it is over.
      await c.carriers.connect(c.de).proposeEmergency(Kind.Pause);
      await expect(c.carriers.connect(c.us).approve(2))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryPauseUnavailable")
        .withArgs(until + WEEK);
      await time.increaseTo(until);
      expect(await c.carriers.paused()).to.equal(false);
      await c.carriers.connect(c.de).proposeEmergency(Kind.Pause);
      await expect(c.carriers.connect(c.us).approve(3))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryPauseUnavailable")
        .withArgs(until + WEEK);
      // Nothing to lift once it lapsed.
      await c.carriers.connect(c.de).proposeEmergency(Kind.Unpause);
      await expect(c.carriers.connect(c.us).approve(4)).to.be.revertedWithCustomError(c.carriers, "CarrierRegistryNotPaused");
      await time.increaseTo(until + WEEK);
      await c.carriers.connect(c.de).proposeEmergency(Kind.Pause);
      await expect(c.carriers.connect(c.us).approve(5)).to.emit(c.carriers, "PausedSet").withArgs(true, 5);
    });

    it("refuses other proposal kinds", async function () {
      const c = await loadFixture(deployConsortium);
      await expect(c.carriers.connect(c.de).proposeEmergency(Kind.Suspend))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryInvalidProposalKind")
        .withArgs(Kind.Suspend);
      await expect(c.carriers.connect(c.outsider).proposeEmergency(Kind.Pause)).to.be.revertedWithCustomError(
        c.carriers,
        "CarrierRegistryNotActiveOperator",
      );
    });
  });

  describe("F5 a suspended member keeps its defensive calls (registry side)", function () {
    it("F5: a suspended member's operator passes requireDefendingOperator but not requireOperator, and may still transact", async function () {
      const c = await loadFixture(deployConsortium);
      await c.carriers.connect(c.de).proposeStatusChange(Kind.Suspend, PLMN.BR);
      await c.carriers.connect(c.us).approve(1);
      expect(await c.carriers.requireDefendingOperator(c.br.address, ROLE.CARRIER, P.usage)).to.equal(PLMN.BR);
      expect(await c.carriers.requireDefendingOperator(c.br.address, ROLE.CARRIER, P.treasury)).to.equal(PLMN.BR);
      await expect(c.carriers.requireOperator(c.br.address, ROLE.CARRIER, P.usage))
        .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(c.br.address);
      expect(await c.carriers.transactionAllowed(c.br.address, await c.ledger.getAddress(), 0, 0, 100_000, "0x")).to.equal(true);
      // It cannot add keys or vote while suspended...
      await expect(c.carriers.connect(c.br).addOperator(Wallet.createRandom().address, P.usage)).to.be.revertedWithCustomError(
        c.carriers,
        "CarrierRegistryNotActiveOperator",
      );
      await expect(c.carriers.connect(c.br).proposeEmergency(Kind.Pause)).to.be.revertedWithCustomError(
        c.carriers,
        "CarrierRegistryNotActiveOperator",
      );
    });

    it("F5: a suspended member can still strip and remove a leaked key (key hygiene is defensive)", async function () {
      const c = await loadFixture(deployConsortium);
      await c.carriers.connect(c.de).proposeStatusChange(Kind.Suspend, PLMN.DE);
      await c.carriers.connect(c.us).approve(1);
      expect(await c.carriers.isActive(PLMN.DE)).to.equal(false);
      await expect(c.carriers.connect(c.de).setOperatorPermissions(c.de2.address, P.usage))
        .to.emit(c.carriers, "OperatorPermissionsSet")
        .withArgs(PLMN.DE, c.de2.address, P.usage);
      await expect(c.carriers.connect(c.de).removeOperator(c.de2.address))
        .to.emit(c.carriers, "OperatorRemoved")
        .withArgs(PLMN.DE, c.de2.address);
      await expect(c.carriers.connect(c.de).rotateEncryptionKey(testEncryptionKey(5))).to.be.revertedWithCustomError(
        c.carriers,
        "CarrierRegistryNotActiveOperator",
      );
    });
  });

  describe("gas", function () {
    it("operator and pause transactions stay far under the EIP-7825 cap", async function () {
      const c = await loadFixture(deployConsortium);
      const key = await freshAccount();
      const gas = {
        addOperator: await gasOf(c.carriers.connect(c.us).addOperator(key.address, P.usage)),
        acceptOperator: await gasOf(c.carriers.connect(key).acceptOperator(PLMN.US)),
        setOperatorPermissions: await gasOf(c.carriers.connect(c.us).setOperatorPermissions(key.address, P.usage | P.devices)),
        removeOperator: await gasOf(c.carriers.connect(c.us).removeOperator(key.address)),
        proposePause: await gasOf(c.carriers.connect(c.de).proposeEmergency(Kind.Pause)),
        approvePause: await gasOf(c.carriers.connect(c.us).approve(1)),
      };
      if (process.env.ROAMLEDGER_GAS === "1") console.log(gas);
      for (const used of Object.values(gas)) expect(used).to.be.lessThan(200_000n);
    });
  });
});
