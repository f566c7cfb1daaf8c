import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deployConsortium, PLMN, meterPolicy, deviceId, localId, agreeDeBr } from "../helpers/fixtures";
import { policyContentHash, predictPolicyAddress, type PolicyStruct } from "../../lib/devices/policy";
import type { Hex } from "../../lib/util/hex";
import { DEFAULT_REGISTER_BATCH } from "../../lib/devices/registration";

/** EIP-7825: the most gas one transaction may use on a network at Osaka. */
const TX_GAS_CAP = 16_777_216n;

const Status = { None: 0, Active: 1, Suspended: 2, FraudFlagged: 3 } as const;
const Service = { Data: 0, Sms: 1, Voice: 2, Signalling: 3 } as const;
const Deny = {
  None: 0,
  UnknownDevice: 1,
  DeviceSuspended: 2,
  DeviceFraudFlagged: 3,
  PolicyNotYetValid: 4,
  PolicyExpired: 5,
  ServiceNotAllowed: 6,
  NetworkNotAllowed: 7,
  NoAgreement: 8,
} as const;

describe("DeviceRegistry", function () {
  /** DE registers devices 1..3 on a meter policy; DE and BR have an agreement, DE and US not. */
  async function withDevices() {
    const c = await deployConsortium();
    await agreeDeBr(c);
    await c.devices.connect(c.de).definePolicy(meterPolicy(PLMN.DE));
    await c.devices.connect(c.de).definePolicy(meterPolicy(PLMN.DE, { services: 0b111, missionCritical: true, routing: 1 }));
    await c.devices.connect(c.us).definePolicy(meterPolicy(PLMN.US));
    const regs = [1, 2, 3].map((i) => ({ localId: localId(i), deviceClass: 0, maker: PLMN.MAKER, policyId: 1 }));
    await c.devices.connect(c.de).registerDevices(regs);
    return c;
  }

  describe("definePolicy", function () {
    it("stores a definition once and returns the same id for identical content", async function () {
      const { devices, de } = await loadFixture(deployConsortium);
      const p = meterPolicy(PLMN.DE, { allowedNetworks: [PLMN.BR, PLMN.US] });
      const hash = policyContentHash(p);
      await expect(devices.connect(de).definePolicy(p)).to.emit(devices, "PolicyDefined").withArgs(1, PLMN.DE, hash);
      expect(await devices.policyIdByHash(hash)).to.equal(1);
      await expect(devices.connect(de).definePolicy(p)).not.to.emit(devices, "PolicyDefined");
      expect(await devices.policyCount()).to.equal(1);
      expect((await devices.getPolicy(1)).allowedNetworks).to.deep.equal([PLMN.BR, PLMN.US]);
    });

    it("reverts when the owner is not the caller's member", async function () {
      const { devices, de } = await loadFixture(deployConsortium);
      await expect(devices.connect(de).definePolicy(meterPolicy(PLMN.US)))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryPolicyNotOwned")
        .withArgs(0, PLMN.US, PLMN.DE);
    });

    it("reverts for each invalid field, naming it", async function () {
      const { devices, de } = await loadFixture(deployConsortium);
      const cases: [Partial<PolicyStruct>, string][] = [
        [{ services: 0x10 }, "services"],
        [{ validFrom: 100n, validUntil: 100n }, "validUntil"],
        [{ dailyBytesCap: 2n, monthlyBytesCap: 1n }, "dailyBytesCap"],
        [{ dailyEventsCap: 2, monthlyEventsCap: 1 }, "dailyEventsCap"],
        [{ allowedNetworks: ["0xffffff" as Hex] }, "allowedNetworks"],
        [{ allowedNetworks: [PLMN.DE] }, "allowedNetworks"],
        [{ allowedNetworks: Array(65).fill(PLMN.BR) }, "allowedNetworks"],
      ];
      for (const [override, field] of cases) {
        await expect(devices.connect(de).definePolicy(meterPolicy(PLMN.DE, override)))
          .to.be.revertedWithCustomError(devices, "DeviceRegistryInvalidPolicy")
          .withArgs(field);
      }
    });

    it("reverts for a caller that is not an active carrier", async function () {
      const { devices, carriers, maker, outsider } = await loadFixture(deployConsortium);
      await expect(devices.connect(maker).definePolicy(meterPolicy(PLMN.MAKER))).to.be.revertedWithCustomError(
        carriers,
        "CarrierRegistryMissingRole",
      );
      await expect(devices.connect(outsider).definePolicy(meterPolicy(PLMN.DE))).to.be.revertedWithCustomError(
        carriers,
        "CarrierRegistryNotActiveOperator",
      );
    });
  });

  describe("registerDevices", function () {
    it("registers devices with their policy contracts at the predicted addresses", async function () {
      const { devices } = await loadFixture(withDevices);
      const impl = await devices.policyImplementation();
      for (const i of [1, 2, 3]) {
        const predicted = predictPolicyAddress(await devices.getAddress(), impl, deviceId(i));
        expect(await devices.predictPolicyAddress(deviceId(i))).to.equal(predicted);
        expect(await hre.ethers.provider.getCode(predicted)).to.not.equal("0x");
        const policy = await hre.ethers.getContractAt("DevicePolicy", predicted);
        expect(await policy.deviceId()).to.equal(deviceId(i));
        const d = await devices.getDevice(deviceId(i));
        expect(d.home).to.equal(PLMN.DE);
        expect(d.maker).to.equal(PLMN.MAKER);
        expect(d.status).to.equal(Status.Active);
        expect(d.policyVersion).to.equal(1);
      }
      expect(await devices.registered([deviceId(1), deviceId(9)])).to.deep.equal([true, false]);
    });

    it("emits DeviceRegistered with the policy contract", async function () {
      const { devices, de } = await loadFixture(withDevices);
      const predicted = await devices.predictPolicyAddress(deviceId(7));
      await expect(devices.connect(de).registerDevices([{ localId: localId(7), deviceClass: 2, maker: "0x000000", policyId: 1 }]))
        .to.emit(devices, "DeviceRegistered")
        .withArgs(deviceId(7), PLMN.DE, "0x000000", predicted, 2, 1);
    });

    it("reverts the whole batch when one device is registered already", async function () {
      const { devices, de } = await loadFixture(withDevices);
      const regs = [4, 2].map((i) => ({ localId: localId(i), deviceClass: 0, maker: "0x000000", policyId: 1 }));
      await expect(devices.connect(de).registerDevices(regs))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryAlreadyRegistered")
        .withArgs(deviceId(2));
      expect((await devices.getDevice(deviceId(4))).status).to.equal(Status.None);
    });

    it("reverts for another carrier's policy, an unknown policy, a zero id, a non-maker or a bad batch size", async function () {
      const { devices, de } = await loadFixture(withDevices);
      const reg = (o: object) => [{ localId: localId(5), deviceClass: 0, maker: "0x000000", policyId: 1, ...o }];
      await expect(devices.connect(de).registerDevices(reg({ policyId: 3 })))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryPolicyNotOwned")
        .withArgs(3, PLMN.US, PLMN.DE);
      await expect(devices.connect(de).registerDevices(reg({ policyId: 9 })))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryUnknownPolicy")
        .withArgs(9);
      await expect(devices.connect(de).registerDevices(reg({ localId: hre.ethers.ZeroHash })))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryZeroDeviceId")
        .withArgs(0);
      await expect(devices.connect(de).registerDevices(reg({ maker: PLMN.BR })))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryInvalidMaker")
        .withArgs(PLMN.BR);
      await expect(devices.connect(de).registerDevices([]))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryBatchSize")
        .withArgs(0, 170);
      const tooMany = Array.from({ length: 171 }, (_, i) => ({
        localId: localId(100 + i),
        deviceClass: 0,
        maker: "0x000000",
        policyId: 1,
      }));
      await expect(devices.connect(de).registerDevices(tooMany))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryBatchSize")
        .withArgs(171, 170);
    });

    it("reverts for a caller that is not an active carrier", async function () {
      const { devices, carriers, outsider, maker } = await loadFixture(withDevices);
      const regs = [{ localId: localId(8), deviceClass: 0, maker: "0x000000", policyId: 1 }];
      await expect(devices.connect(outsider).registerDevices(regs)).to.be.revertedWithCustomError(
        carriers,
        "CarrierRegistryNotActiveOperator",
      );
      await expect(devices.connect(maker).registerDevices(regs)).to.be.revertedWithCustomError(carriers, "CarrierRegistryMissingRole");
    });
  });

  describe("updatePolicies", function () {
    it("adds a version and keeps every earlier one readable with its window", async function () {
      const { devices, de } = await loadFixture(withDevices);
      const since1 = (await devices.getDevice(deviceId(1))).policySince;
      await expect(devices.connect(de).updatePolicies([deviceId(1)], 2))
        .to.emit(devices, "PolicyUpdated")
        .withArgs(deviceId(1), 2, 2);
      const t2 = await time.latest();
      await devices.connect(de).updatePolicies([deviceId(1)], 1);
      const t3 = await time.latest();
      const v1 = await devices.policyVersion(deviceId(1), 1);
      expect([v1.policyId, v1.since, v1.until]).to.deep.equal([1n, since1, BigInt(t2)]);
      const v2 = await devices.policyVersion(deviceId(1), 2);
      expect([v2.policyId, v2.since, v2.until]).to.deep.equal([2n, BigInt(t2), BigInt(t3)]);
      expect(v2.policy.missionCritical).to.equal(true);
      const v3 = await devices.policyVersion(deviceId(1), 3);
      expect([v3.policyId, v3.since, v3.until]).to.deep.equal([1n, BigInt(t3), 0n]);
      await expect(devices.policyVersion(deviceId(1), 4))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryUnknownVersion")
        .withArgs(deviceId(1), 4);
      await expect(devices.policyVersion(deviceId(1), 0)).to.be.revertedWithCustomError(devices, "DeviceRegistryUnknownVersion");
    });

    it("reverts for the same policy, another carrier's device or an unknown device", async function () {
      const { devices, de, us } = await loadFixture(withDevices);
      await expect(devices.connect(de).updatePolicies([deviceId(1)], 1))
        .to.be.revertedWithCustomError(devices, "DeviceRegistrySamePolicy")
        .withArgs(deviceId(1), 1);
      await expect(devices.connect(us).updatePolicies([deviceId(1)], 3))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryNotHome")
        .withArgs(deviceId(1), PLMN.DE, PLMN.US);
      await expect(devices.connect(de).updatePolicies([deviceId(9)], 2))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryUnknownDevice")
        .withArgs(deviceId(9));
    });

    it("reverts for a caller that is not an active carrier", async function () {
      const { devices, carriers, outsider } = await loadFixture(withDevices);
      await expect(devices.connect(outsider).updatePolicies([deviceId(1)], 2)).to.be.revertedWithCustomError(
        carriers,
        "CarrierRegistryNotActiveOperator",
      );
    });
  });

  describe("suspendDevices / reinstateDevices", function () {
    it("lets the home carrier suspend and reinstate", async function () {
      const { devices, de2 } = await loadFixture(withDevices);
      await expect(devices.connect(de2).suspendDevices([deviceId(1), deviceId(2)], 4))
        .to.emit(devices, "DeviceSuspended")
        .withArgs(deviceId(2), PLMN.DE, 4);
      expect((await devices.getDevice(deviceId(1))).status).to.equal(Status.Suspended);
      await expect(devices.connect(de2).suspendDevices([deviceId(1)], 4))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryWrongStatus")
        .withArgs(deviceId(1), Status.Suspended);
      await expect(devices.connect(de2).reinstateDevices([deviceId(1)]))
        .to.emit(devices, "DeviceReinstated")
        .withArgs(deviceId(1), PLMN.DE);
      expect((await devices.getDevice(deviceId(1))).status).to.equal(Status.Active);
      await expect(devices.connect(de2).reinstateDevices([deviceId(1)]))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryWrongStatus")
        .withArgs(deviceId(1), Status.Active);
    });

    it("reverts when a visited carrier or a stranger tries", async function () {
      const { devices, carriers, br, outsider } = await loadFixture(withDevices);
      await expect(devices.connect(br).suspendDevices([deviceId(1)], 1))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryNotHome")
        .withArgs(deviceId(1), PLMN.DE, PLMN.BR);
      await expect(devices.connect(br).reinstateDevices([deviceId(1)])).to.be.revertedWithCustomError(devices, "DeviceRegistryNotHome");
      await expect(devices.connect(outsider).suspendDevices([deviceId(1)], 1)).to.be.revertedWithCustomError(
        carriers,
        "CarrierRegistryNotActiveOperator",
      );
      await expect(devices.connect(outsider).reinstateDevices([deviceId(1)])).to.be.revertedWithCustomError(
        carriers,
        "CarrierRegistryNotActiveOperator",
      );
    });
  });

  describe("flagFraud", function () {
    const evidence = (label: string) => hre.ethers.id(label);

    it("lets a visited carrier with an agreement flag devices for its own network; the status stays Active", async function () {
      const { devices, br } = await loadFixture(withDevices);
      await expect(devices.connect(br).flagFraud([{ id: deviceId(3), reason: 2, evidenceHash: evidence("records 17-19") }]))
        .to.emit(devices, "FraudFlagged")
        .withArgs(deviceId(3), PLMN.DE, PLMN.BR, 2, evidence("records 17-19"));
      expect((await devices.getDevice(deviceId(3))).status).to.equal(Status.Active);
      expect(await devices.flaggedBy(deviceId(3), PLMN.BR)).to.equal(true);
      expect(await devices.flaggedBy(deviceId(3), PLMN.US)).to.equal(false);
      const [standing, flaggedAt, cooldownUntil] = await devices.fraudFlag(deviceId(3), PLMN.BR);
      expect([standing, flaggedAt, cooldownUntil]).to.deep.equal([true, BigInt(await time.latest()), 0n]);
      expect(await devices.flagsLeftToday(PLMN.BR)).to.equal(199n);
    });

    it("adds new evidence to a standing flag, and ignores evidence it has already (a safe retry)", async function () {
      const { devices, br } = await loadFixture(withDevices);
      const flag = { id: deviceId(3), reason: 2, evidenceHash: evidence("a") };
      await devices.connect(br).flagFraud([flag]);
      await expect(devices.connect(br).flagFraud([flag])).not.to.emit(devices, "FraudFlagged");
      expect(await devices.flagsLeftToday(PLMN.BR)).to.equal(199n);
      await expect(devices.connect(br).flagFraud([{ ...flag, evidenceHash: evidence("b") }])).to.emit(devices, "FraudFlagged");
      expect(await devices.flagsLeftToday(PLMN.BR)).to.equal(198n);
    });

    it("reverts for a carrier without an agreement, the home carrier itself, an unknown device or no evidence", async function () {
      const { devices, us, de, br } = await loadFixture(withDevices);
      const flag = (i: number) => [{ id: deviceId(i), reason: 1, evidenceHash: evidence(`e${i}`) }];
      await expect(devices.connect(us).flagFraud(flag(1)))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryNoAgreement")
        .withArgs(PLMN.US, PLMN.DE);
      await expect(devices.connect(de).flagFraud(flag(1)))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryNoAgreement")
        .withArgs(PLMN.DE, PLMN.DE);
      await expect(devices.connect(br).flagFraud(flag(9)))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryUnknownDevice")
        .withArgs(deviceId(9));
      await expect(devices.connect(br).flagFraud([{ id: deviceId(1), reason: 1, evidenceHash: hre.ethers.ZeroHash }]))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryNoEvidence")
        .withArgs(0);
      await expect(devices.connect(br).flagFraud([])).to.be.revertedWithCustomError(devices, "DeviceRegistryBatchSize").withArgs(0, 200);
    });

    it("reverts for a caller that is not an active carrier", async function () {
      const { devices, carriers, maker } = await loadFixture(withDevices);
      await expect(
        devices.connect(maker).flagFraud([{ id: deviceId(1), reason: 1, evidenceHash: evidence("x") }]),
      ).to.be.revertedWithCustomError(carriers, "CarrierRegistryMissingRole");
    });
  });

  describe("confirmFraud / dismissFraudFlags", function () {
    const flag = (i: number, label = `e${i}`) => ({ id: deviceId(i), reason: 1, evidenceHash: hre.ethers.id(label) });

    it("lets the home confirm a flag: the device is denied on every network until it is reinstated", async function () {
      const { devices, de, br } = await loadFixture(withDevices);
      await devices.connect(br).flagFraud([flag(1)]);
      await expect(devices.connect(de).confirmFraud([deviceId(1)]))
        .to.emit(devices, "FraudConfirmed")
        .withArgs(deviceId(1), PLMN.DE);
      expect((await devices.getDevice(deviceId(1))).status).to.equal(Status.FraudFlagged);
      await expect(devices.connect(de).confirmFraud([deviceId(1)]))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryWrongStatus")
        .withArgs(deviceId(1), Status.FraudFlagged);
      await devices.connect(de).reinstateDevices([deviceId(1)]);
      expect((await devices.getDevice(deviceId(1))).status).to.equal(Status.Active);
      expect(await devices.flaggedBy(deviceId(1), PLMN.BR)).to.equal(false);
    });

    it("lets the home dismiss a reporter's flag, which starts the reporter's cooldown", async function () {
      const { devices, de, br } = await loadFixture(withDevices);
      await devices.connect(br).flagFraud([flag(2)]);
      await expect(devices.connect(de).dismissFraudFlags([deviceId(2)], PLMN.BR))
        .to.emit(devices, "FraudFlagDismissed")
        .withArgs(deviceId(2), PLMN.DE, PLMN.BR);
      expect(await devices.flaggedBy(deviceId(2), PLMN.BR)).to.equal(false);
      const [standing, , cooldownUntil] = await devices.fraudFlag(deviceId(2), PLMN.BR);
      expect([standing, cooldownUntil]).to.deep.equal([false, BigInt(await time.latest()) + 7n * 86_400n]);
      await expect(devices.connect(de).dismissFraudFlags([deviceId(2)], PLMN.BR))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryNotFlagged")
        .withArgs(deviceId(2), PLMN.BR);
    });

    it("reverts when the visited carrier or a stranger tries", async function () {
      const { devices, carriers, br, outsider } = await loadFixture(withDevices);
      await devices.connect(br).flagFraud([flag(1)]);
      await expect(devices.connect(br).confirmFraud([deviceId(1)]))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryNotHome")
        .withArgs(deviceId(1), PLMN.DE, PLMN.BR);
      await expect(devices.connect(br).dismissFraudFlags([deviceId(1)], PLMN.BR)).to.be.revertedWithCustomError(
        devices,
        "DeviceRegistryNotHome",
      );
      await expect(devices.connect(outsider).confirmFraud([deviceId(1)])).to.be.revertedWithCustomError(
        carriers,
        "CarrierRegistryNotActiveOperator",
      );
      await expect(devices.connect(outsider).dismissFraudFlags([deviceId(1)], PLMN.BR)).to.be.revertedWithCustomError(
        carriers,
        "CarrierRegistryNotActiveOperator",
      );
    });
  });

  describe("deviceIdOf / batchLimits", function () {
    it("derives the id from the home and the local id as the TypeScript does", async function () {
      const { devices } = await loadFixture(withDevices);
      expect(await devices.deviceIdOf(PLMN.DE, localId(1))).to.equal(deviceId(1));
      expect(await devices.deviceIdOf(PLMN.BR, localId(1))).to.equal(deviceId(1, PLMN.BR));
      expect(deviceId(1, PLMN.BR)).to.not.equal(deviceId(1));
    });

    it("publishes each batch function's limit and the flag rules", async function () {
      const { devices } = await loadFixture(withDevices);
      const l = await devices.batchLimits();
      expect([l.register, l.updatePolicies, l.suspend, l.reinstate, l.confirmFraud, l.dismissFraudFlags, l.flagFraud]).to.deep.equal([
        170n,
        300n,
        1000n,
        400n,
        1000n,
        500n,
        200n,
      ]);
      expect(BigInt(DEFAULT_REGISTER_BATCH)).to.be.lessThanOrEqual(l.register);
      expect(await devices.FLAGS_PER_DAY()).to.equal(200n);
      expect(await devices.FLAG_COOLDOWN()).to.equal(7n * 86_400n);
    });
  });

  describe("shareImsiKey", function () {
    const envelope = `0x01${"ab".repeat(93)}`;
    it("stores the envelope for the partner", async function () {
      const { devices, de } = await loadFixture(withDevices);
      await expect(devices.connect(de).shareImsiKey(PLMN.BR, envelope, "0x0102030405060708"))
        .to.emit(devices, "ImsiKeyShared")
        .withArgs(PLMN.DE, PLMN.BR, "0x0102030405060708");
      const share = await devices.imsiKeyEnvelope(PLMN.DE, PLMN.BR);
      expect(share.envelope).to.equal(envelope);
      expect(share.sharedAt).to.equal(await time.latest());
    });

    it("reverts for a non-carrier partner, itself, or a malformed envelope", async function () {
      const { devices, de } = await loadFixture(withDevices);
      await expect(devices.connect(de).shareImsiKey(PLMN.MAKER, envelope, "0x0102030405060708"))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryInvalidPartner")
        .withArgs(PLMN.MAKER);
      await expect(devices.connect(de).shareImsiKey(PLMN.DE, envelope, "0x0102030405060708")).to.be.revertedWithCustomError(
        devices,
        "DeviceRegistryInvalidPartner",
      );
      await expect(devices.connect(de).shareImsiKey(PLMN.BR, `0x02${"ab".repeat(93)}`, "0x0102030405060708"))
        .to.be.revertedWithCustomError(devices, "DeviceRegistryInvalidEnvelope")
        .withArgs(94);
    });

    it("reverts for a caller that is not an active carrier", async function () {
      const { devices, carriers, outsider } = await loadFixture(withDevices);
      await expect(devices.connect(outsider).shareImsiKey(PLMN.BR, envelope, "0x0102030405060708")).to.be.revertedWithCustomError(
        carriers,
        "CarrierRegistryNotActiveOperator",
      );
    });
  });

  describe("decide (registry and the device's own policy contract)", function () {
    async function both(c: Awaited<ReturnType<typeof withDevices>>, i: number, visited: string, service: number) {
      const fromRegistry = await c.devices.decide(deviceId(i), visited, service);
      const policy = await hre.ethers.getContractAt("DevicePolicy", await c.devices.predictPolicyAddress(deviceId(i)));
      const [fromClone] = await policy.decide(visited, service);
      expect([...fromClone]).to.deep.equal([...fromRegistry]);
      return fromRegistry;
    }

    it("serves an allowed service in a partner network, steerable and home-routed", async function () {
      const c = await loadFixture(withDevices);
      const d = await both(c, 1, PLMN.BR, Service.Data);
      expect([d.serve, d.reason, d.steerable, d.homeRouted, d.tariffClass]).to.deep.equal([true, 0n, true, true, 1n]);
    });

    it("refuses voice to a data-only device, and follows a policy update at once", async function () {
      const c = await loadFixture(withDevices);
      expect((await both(c, 1, PLMN.BR, Service.Voice)).reason).to.equal(Deny.ServiceNotAllowed);
      expect((await both(c, 1, PLMN.BR, Service.Signalling)).serve).to.equal(true);
      await c.devices.connect(c.de).updatePolicies([deviceId(1)], 2);
      const d = await both(c, 1, PLMN.BR, Service.Voice);
      expect([d.serve, d.steerable, d.homeRouted, d.policyVersion]).to.deep.equal([true, false, false, 2n]);
    });

    it("gives the reason: no agreement, network not allowed, suspended, fraud-flagged, unknown, validity", async function () {
      const c = await loadFixture(withDevices);
      expect((await both(c, 1, PLMN.US, Service.Data)).reason).to.equal(Deny.NoAgreement);
      const now = BigInt(await time.latest());
      await c.devices.connect(c.de).definePolicy(meterPolicy(PLMN.DE, { allowedNetworks: [PLMN.US] }));
      await c.devices.connect(c.de).definePolicy(meterPolicy(PLMN.DE, { validFrom: now + 1000n }));
      await c.devices.connect(c.de).definePolicy(meterPolicy(PLMN.DE, { validUntil: now + 5n }));
      await c.devices.connect(c.de).updatePolicies([deviceId(1)], 4);
      expect((await both(c, 1, PLMN.BR, Service.Data)).reason).to.equal(Deny.NetworkNotAllowed);
      await c.devices.connect(c.de).updatePolicies([deviceId(1)], 5);
      expect((await both(c, 1, PLMN.BR, Service.Data)).reason).to.equal(Deny.PolicyNotYetValid);
      await c.devices.connect(c.de).updatePolicies([deviceId(1)], 6);
      await time.increase(10);
      expect((await both(c, 1, PLMN.BR, Service.Data)).reason).to.equal(Deny.PolicyExpired);
      await c.devices.connect(c.de).suspendDevices([deviceId(2)], 0);
      expect((await both(c, 2, PLMN.BR, Service.Data)).reason).to.equal(Deny.DeviceSuspended);
      await c.devices.connect(c.br).flagFraud([{ id: deviceId(3), reason: 1, evidenceHash: hre.ethers.id("e") }]);
      expect((await both(c, 3, PLMN.BR, Service.Data)).reason).to.equal(Deny.DeviceFraudFlagged);
      await c.devices.connect(c.de).confirmFraud([deviceId(3)]);
      expect((await both(c, 3, PLMN.BR, Service.Data)).reason).to.equal(Deny.DeviceFraudFlagged);
      const unknown = await c.devices.decide(deviceId(9), PLMN.BR, Service.Data);
      expect([unknown.serve, unknown.reason]).to.deep.equal([false, BigInt(Deny.UnknownDevice)]);
    });

    it("returns the current policy and history from the device's contract", async function () {
      const c = await loadFixture(withDevices);
      const policy = await hre.ethers.getContractAt("DevicePolicy", await c.devices.predictPolicyAddress(deviceId(1)));
      const [, p] = await policy.decide(PLMN.BR, Service.Data);
      expect(p.dailyBytesCap).to.equal(10_000n);
      const [device] = await policy.current();
      expect(device.home).to.equal(PLMN.DE);
      expect((await policy.version(1)).policyId).to.equal(1);
      expect(await policy.registry()).to.equal(await c.devices.getAddress());
    });

    it("refuses to answer on the bare implementation", async function () {
      const c = await loadFixture(withDevices);
      const impl = await hre.ethers.getContractAt("DevicePolicy", await c.devices.policyImplementation());
      await expect(impl.deviceId()).to.be.revertedWithCustomError(impl, "DevicePolicyNotAClone");
    });
  });

  describe("gas", function () {
    it("registers a device:register batch of the default size with their policy contracts in one transaction under the EIP-7825 cap", async function () {
      const c = await loadFixture(withDevices);
      const N = DEFAULT_REGISTER_BATCH;
      const regs = Array.from({ length: N }, (_, i) => ({
        localId: localId(10_000 + i),
        deviceClass: i % 4,
        maker: i % 2 ? PLMN.MAKER : "0x000000",
        policyId: 1 + (i % 2),
      }));
      const tx = await c.devices.connect(c.de).registerDevices(regs);
      const receipt = (await tx.wait())!;
      const perDevice = Number(receipt.gasUsed) / N;
      expect(receipt.gasUsed).to.be.lessThan(TX_GAS_CAP);
      // Calldata gas (EIP-2028: 16 per non-zero byte, 4 per zero byte) and the clones alone, measured
      // by a mock that deploys the same clones and nothing else.
      const calldataGas = (data: string) => hre.ethers.getBytes(data).reduce((g, b) => g + (b === 0 ? 4 : 16), 0);
      const mock = await hre.ethers.deployContract("CloneGas__Mock");
      const cloneTx = await mock.cloneMany(
        await c.devices.policyImplementation(),
        regs.map((_, i) => hre.ethers.keccak256(deviceId(10_000 + i))),
      );
      const cloneGas = (Number((await cloneTx.wait())!.gasUsed) - 21_000 - calldataGas(cloneTx.data)) / N;
      const calldata = calldataGas(tx.data) / N;
      const rest = perDevice - cloneGas - calldata - 21_000 / N;
      console.log(
        `      bulk ${N}: ${receipt.gasUsed} gas = ${perDevice.toFixed(0)}/device: policy clone ${cloneGas.toFixed(0)}, ` +
          `calldata ${calldata.toFixed(0)}, registry entry + checks + event ${rest.toFixed(0)}, tx base ${21}`,
      );
      expect(perDevice).to.be.lessThan(100_000);
      expect(await c.devices.registered([deviceId(10_000 + N - 1)])).to.deep.equal([true]);
    });
  });
});
