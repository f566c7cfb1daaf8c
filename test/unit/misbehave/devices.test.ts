import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  addressesOf,
  agreeDeBr,
  deployConsortium,
  deviceId,
  localId,
  meterPolicy,
  PLMN,
  simpleTerms,
  type Consortium,
} from "../../helpers/fixtures";
import { connectRoamLedger } from "../../../lib/chain/client";
import { watchChain, type WatchEvent } from "../../../lib/watch/watch";
import { agreeSealed, fixturePrivateKey } from "../../helpers/agreement";
import type { DeviceRegistry } from "../../../typechain-types";
import type { Hex } from "../../../lib/util/hex";

/** EIP-7825: the most gas one transaction may use. */
const TX_GAS_CAP = 16_777_216n;
/** What every batch function's largest call must stay under: the cap with about 16% margin. */
const MARGIN_CAP = 14_000_000n;
const DAY = 86_400;
const Service = { Data: 0 } as const;
const Deny = { None: 0n, DeviceFraudFlagged: 3n } as const;
const Status = { Active: 1n, FraudFlagged: 3n } as const;
const Permissions = { DEVICES: 8 } as const;

const reg = (i: number, policyId = 1) => ({ localId: localId(i), deviceClass: i % 4, maker: "0x000000", policyId });
const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);
const ev = (label: string | number) => hre.ethers.id(`evidence ${label}`) as Hex;
const flagOf = (i: number, evidence: Hex = ev(i)) => ({ id: deviceId(i), reason: 1, evidenceHash: evidence });

/** Registers DE's devices `ids` in calls of the registry's largest register batch. */
async function registerDe(c: Consortium, ids: number[]): Promise<void> {
  const max = Number((await c.devices.batchLimits()).register);
  for (let k = 0; k < ids.length; k += max) {
    await c.devices.connect(c.de).registerDevices(ids.slice(k, k + max).map((i) => reg(i)));
  }
}

/** DE has agreements with BR and US; DE's devices 1..20 are registered. */
async function twoPartners() {
  const c = await deployConsortium();
  await agreeDeBr(c);
  const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  await agreeSealed({
    agreements: c.agreements,
    signer: c.de,
    acceptor: c.us,
    proposer: PLMN.DE,
    counterparty: PLMN.US,
    proposerKey: fixturePrivateKey(1),
    terms: simpleTerms({ a: PLMN.DE, b: PLMN.US, from: now, token: await c.token.getAddress() }),
  });
  await c.devices.connect(c.de).definePolicy(meterPolicy(PLMN.DE));
  await c.devices.connect(c.us).definePolicy(meterPolicy(PLMN.US));
  await registerDe(c, range(1, 20));
  return c;
}

async function gasOf(tx: Promise<{ wait: () => Promise<{ gasUsed: bigint } | null> }>): Promise<bigint> {
  return (await (await tx).wait())!.gasUsed;
}

/** Moves the chain to the start of the next UTC day (a new flag allowance). */
async function nextUtcDay(): Promise<void> {
  await time.increaseTo((Math.floor((await time.latest()) / DAY) + 1) * DAY + 1);
}

describe("Members who misbehave: devices (THREATS.md F3, F4)", function () {
  describe("F3 device squatting", function () {
    it("F3: a squatter front-running a pending registration with the copied ids only registers devices of its own; the victim's registration succeeds and the victim controls its devices", async function () {
      const c = await loadFixture(twoPartners);
      const victim = range(101, 5).map((i) => reg(i));
      await hre.network.provider.send("evm_setAutomine", [false]);
      try {
        // DE's registration waits in the pool; US reads it there and copies the ids.
        const pending = await c.devices.connect(c.de).registerDevices(victim, { maxPriorityFeePerGas: 1n, maxFeePerGas: 1n });
        const seen = c.devices.interface.decodeFunctionData("registerDevices", pending.data);
        const copied = (seen[0] as { localId: string }[]).map((r) => ({
          localId: r.localId,
          deviceClass: 0,
          maker: "0x000000",
          policyId: 2,
        }));
        // US gets in first: a higher tip orders it ahead in the same block.
        const squat = await c.devices.connect(c.us).registerDevices(copied, { maxPriorityFeePerGas: 10n, maxFeePerGas: 10n });
        await hre.network.provider.send("evm_mine", []);
        const [squatReceipt, victimReceipt] = [await squat.wait(), await pending.wait()];
        expect(squatReceipt!.blockNumber).to.equal(victimReceipt!.blockNumber);
        expect(squatReceipt!.index).to.be.lessThan(victimReceipt!.index);
        expect(victimReceipt!.status).to.equal(1);
      } finally {
        await hre.network.provider.send("evm_setAutomine", [true]);
      }
      for (const i of range(101, 5)) {
        // The victim's devices are its own, at its ids, with their policy contracts.
        const d = await c.devices.getDevice(deviceId(i));
        expect([d.home, d.status]).to.deep.equal([PLMN.DE, Status.Active]);
        const clone = await hre.ethers.getContractAt("DevicePolicy", await c.devices.predictPolicyAddress(deviceId(i)));
        expect(await clone.deviceId()).to.equal(deviceId(i));
        // The squatter created devices of its own under other ids; they touch nobody else.
        expect((await c.devices.getDevice(deviceId(i, PLMN.US))).home).to.equal(PLMN.US);
        expect(deviceId(i, PLMN.US)).to.not.equal(deviceId(i));
      }
      // The squatter controls none of the victim's devices; the victim controls all of them.
      await expect(c.devices.connect(c.us).suspendDevices([deviceId(101)], 1))
        .to.be.revertedWithCustomError(c.devices, "DeviceRegistryNotHome")
        .withArgs(deviceId(101), PLMN.DE, PLMN.US);
      await c.devices.connect(c.de).suspendDevices([deviceId(101)], 1);
      await c.devices.connect(c.de).reinstateDevices([deviceId(101)]);
      expect((await c.devices.decide(deviceId(102), PLMN.BR, Service.Data)).serve).to.equal(true);
    });
  });

  describe("F4 fleet-wide fraud flags", function () {
    it("F4: one partner flagging a whole fleet denies it on its own network only; every other network still serves", async function () {
      const c = await loadFixture(twoPartners);
      const fleet = range(1, 20);
      await c.devices.connect(c.br).flagFraud(fleet.map((i) => flagOf(i)));
      for (const i of fleet) {
        expect((await c.devices.getDevice(deviceId(i))).status).to.equal(Status.Active);
        expect((await c.devices.decide(deviceId(i), PLMN.BR, Service.Data)).reason).to.equal(Deny.DeviceFraudFlagged);
        const us = await c.devices.decide(deviceId(i), PLMN.US, Service.Data);
        expect([us.serve, us.reason]).to.deep.equal([true, Deny.None]);
        // The device's own policy contract gives the same answers.
        const clone = await hre.ethers.getContractAt("DevicePolicy", await c.devices.predictPolicyAddress(deviceId(i)));
        expect((await clone.decide(PLMN.US, Service.Data))[0].serve).to.equal(true);
        expect((await clone.decide(PLMN.BR, Service.Data))[0].reason).to.equal(Deny.DeviceFraudFlagged);
      }
      // Only the home's confirmation makes a flag count everywhere.
      await c.devices.connect(c.de).confirmFraud([deviceId(1)]);
      expect((await c.devices.decide(deviceId(1), PLMN.US, Service.Data)).reason).to.equal(Deny.DeviceFraudFlagged);
      expect((await c.devices.decide(deviceId(2), PLMN.US, Service.Data)).serve).to.equal(true);
    });

    it("F4: the per-reporter daily limit stops a fleet-size flag", async function () {
      const c = await loadFixture(twoPartners);
      await registerDe(c, range(21, 400));
      const fleet = range(1, 420);
      const perDay = Number(await c.devices.FLAGS_PER_DAY());
      expect(perDay).to.equal(200);
      // The old attack: the whole fleet in one call.
      await expect(c.devices.connect(c.br).flagFraud(fleet.map((i) => flagOf(i))))
        .to.be.revertedWithCustomError(c.devices, "DeviceRegistryBatchSize")
        .withArgs(420, 200);
      // Split over calls: the day's allowance runs out after 200 devices.
      await c.devices.connect(c.br).flagFraud(fleet.slice(0, 150).map((i) => flagOf(i)));
      await expect(c.devices.connect(c.br).flagFraud(fleet.slice(150, 201).map((i) => flagOf(i))))
        .to.be.revertedWithCustomError(c.devices, "DeviceRegistryFlagQuota")
        .withArgs(PLMN.BR, 150, 200);
      await c.devices.connect(c.br).flagFraud(fleet.slice(150, 200).map((i) => flagOf(i)));
      expect(await c.devices.flagsLeftToday(PLMN.BR)).to.equal(0n);
      await expect(c.devices.connect(c.br).flagFraud([flagOf(201)]))
        .to.be.revertedWithCustomError(c.devices, "DeviceRegistryFlagQuota")
        .withArgs(PLMN.BR, 200, 200);
      // Another reporter has its own allowance; the next UTC day brings a new one.
      await c.devices.connect(c.us).flagFraud([flagOf(201)]);
      await nextUtcDay();
      expect(await c.devices.flagsLeftToday(PLMN.BR)).to.equal(200n);
      await c.devices.connect(c.br).flagFraud([flagOf(201)]);
    });

    it("F4: a reporter cannot flag again, within the cooldown, a device whose flag the home dismissed, nor ever with the dismissed evidence", async function () {
      const c = await loadFixture(twoPartners);
      await c.devices.connect(c.br).flagFraud([flagOf(1, ev("A"))]);
      await c.devices.connect(c.de).dismissFraudFlags([deviceId(1)], PLMN.BR);
      const until = BigInt(await time.latest()) + 7n * BigInt(DAY);
      expect((await c.devices.decide(deviceId(1), PLMN.BR, Service.Data)).serve).to.equal(true);
      await expect(c.devices.connect(c.br).flagFraud([flagOf(1, ev("B"))]))
        .to.be.revertedWithCustomError(c.devices, "DeviceRegistryFlagCooldown")
        .withArgs(deviceId(1), PLMN.BR, until);
      await expect(c.devices.connect(c.br).flagFraud([flagOf(1, ev("A"))]))
        .to.be.revertedWithCustomError(c.devices, "DeviceRegistryEvidenceUsed")
        .withArgs(deviceId(1), PLMN.BR, ev("A"));
      await time.increaseTo(until - 2n);
      await expect(c.devices.connect(c.br).flagFraud([flagOf(1, ev("B"))])).to.be.revertedWithCustomError(
        c.devices,
        "DeviceRegistryFlagCooldown",
      );
      await time.increaseTo(until);
      // Past the cooldown: the dismissed evidence stays refused, new evidence is a new flag.
      await expect(c.devices.connect(c.br).flagFraud([flagOf(1, ev("A"))])).to.be.revertedWithCustomError(
        c.devices,
        "DeviceRegistryEvidenceUsed",
      );
      await c.devices.connect(c.br).flagFraud([flagOf(1, ev("B"))]);
      expect(await c.devices.flaggedBy(deviceId(1), PLMN.BR)).to.equal(true);
    });

    it("F4: a flag front-running the home's reinstatement is cleared by it, and the reporter waits out the cooldown to flag again", async function () {
      const c = await loadFixture(twoPartners);
      await c.devices.connect(c.br).flagFraud([flagOf(2, ev("A"))]);
      await c.devices.connect(c.de).confirmFraud([deviceId(2)]);
      await hre.network.provider.send("evm_setAutomine", [false]);
      try {
        const reinstate = await c.devices.connect(c.de).reinstateDevices([deviceId(2)], { maxPriorityFeePerGas: 1n, maxFeePerGas: 1n });
        // BR sees the reinstatement coming and gets more "evidence" in first.
        const flag = await c.devices.connect(c.br).flagFraud([flagOf(2, ev("B"))], { maxPriorityFeePerGas: 10n, maxFeePerGas: 10n });
        await hre.network.provider.send("evm_mine", []);
        expect((await flag.wait())!.index).to.be.lessThan((await reinstate.wait())!.index);
      } finally {
        await hre.network.provider.send("evm_setAutomine", [true]);
      }
      const until = BigInt(await time.latest()) + 7n * BigInt(DAY);
      expect((await c.devices.getDevice(deviceId(2))).status).to.equal(Status.Active);
      expect(await c.devices.flaggedBy(deviceId(2), PLMN.BR)).to.equal(false);
      expect((await c.devices.decide(deviceId(2), PLMN.BR, Service.Data)).serve).to.equal(true);
      await expect(c.devices.connect(c.br).flagFraud([flagOf(2, ev("C"))]))
        .to.be.revertedWithCustomError(c.devices, "DeviceRegistryFlagCooldown")
        .withArgs(deviceId(2), PLMN.BR, until);
      // A reporter that had not flagged it is not held back.
      await c.devices.connect(c.us).flagFraud([flagOf(2, ev("US"))]);
      await time.increaseTo(until);
      await c.devices.connect(c.br).flagFraud([flagOf(2, ev("C"))]);
      expect(await c.devices.flaggedBy(deviceId(2), PLMN.BR)).to.equal(true);
    });
  });

  describe("F4 what the home and the reporter see (watch)", function () {
    it("F4: the home's watcher shows the flag, its confirmation and its dismissal; the reporter sees its flag dismissed", async function () {
      const c = await loadFixture(twoPartners);
      const fromBlock = (await hre.ethers.provider.getBlockNumber()) + 1;
      await c.devices.connect(c.br).flagFraud([flagOf(1), flagOf(2)]);
      await c.devices.connect(c.de).confirmFraud([deviceId(1)]);
      await c.devices.connect(c.de).dismissFraudFlags([deviceId(2)], PLMN.BR);
      const seen = async (self: Hex) => {
        const events: WatchEvent[] = [];
        const client = connectRoamLedger(await addressesOf(c), c.us);
        await watchChain({ client, provider: hre.ethers.provider, self, fromBlock, once: true, onEvent: (e) => events.push(e) });
        return events.map((e) => `${e.kind}/${e.as}`);
      };
      expect(await seen(PLMN.DE)).to.deep.equal([
        "fraud-flag/home",
        "fraud-flag/home",
        "fraud-confirmed/home",
        "fraud-flag-dismissed/home",
      ]);
      expect(await seen(PLMN.BR)).to.deep.equal(["fraud-flag/visited", "fraud-flag/visited", "fraud-flag-dismissed/visited"]);
    });
  });

  describe("permissions and the emergency pause (through a gate in front of the CarrierRegistry)", function () {
    /** A DeviceRegistry whose carrier registry is CarrierGate__Mock over the real one. */
    async function gated() {
      const c = await loadFixture(twoPartners);
      const gate = await hre.ethers.deployContract("CarrierGate__Mock", [await c.carriers.getAddress()]);
      const devices = (await hre.ethers.deployContract("DeviceRegistry", [
        await gate.getAddress(),
        await c.agreements.getAddress(),
      ])) as unknown as DeviceRegistry;
      await devices.connect(c.de).definePolicy(meterPolicy(PLMN.DE));
      await devices.connect(c.de).registerDevices([reg(1), reg(2)]);
      return { c, gate, devices };
    }

    it("refuses every device call from a key without the DEVICES permission", async function () {
      const { c, gate, devices } = await gated();
      await gate.deny(c.de2.address, Permissions.DEVICES);
      const calls = [
        () => devices.connect(c.de2).definePolicy(meterPolicy(PLMN.DE, { tariffClass: 2 })),
        () => devices.connect(c.de2).registerDevices([reg(3)]),
        () => devices.connect(c.de2).updatePolicies([deviceId(1)], 1),
        () => devices.connect(c.de2).suspendDevices([deviceId(1)], 1),
        () => devices.connect(c.de2).reinstateDevices([deviceId(1)]),
        () => devices.connect(c.de2).confirmFraud([deviceId(1)]),
        () => devices.connect(c.de2).dismissFraudFlags([deviceId(1)], PLMN.BR),
        () => devices.connect(c.de2).shareImsiKey(PLMN.BR, `0x01${"ab".repeat(93)}`, "0x0102030405060708"),
      ];
      for (const call of calls) {
        await expect(call())
          .to.be.revertedWithCustomError(gate, "CarrierRegistryMissingPermission")
          .withArgs(c.de2.address, PLMN.DE, Permissions.DEVICES);
      }
      await gate.deny(c.br.address, Permissions.DEVICES);
      await expect(devices.connect(c.br).flagFraud([flagOf(1)])).to.be.revertedWithCustomError(gate, "CarrierRegistryMissingPermission");
    });

    it("makes registrations, policy updates and flags wait while paused; the home's suspensions, confirmations, dismissals and reinstatements do not", async function () {
      const { c, gate, devices } = await gated();
      await devices.connect(c.br).flagFraud([flagOf(2)]);
      await gate.setPaused(true);
      await expect(devices.connect(c.de).registerDevices([reg(3)])).to.be.revertedWithCustomError(devices, "DeviceRegistryPaused");
      await expect(devices.connect(c.de).updatePolicies([deviceId(1)], 1)).to.be.revertedWithCustomError(devices, "DeviceRegistryPaused");
      await expect(devices.connect(c.br).flagFraud([flagOf(1)])).to.be.revertedWithCustomError(devices, "DeviceRegistryPaused");
      await devices.connect(c.de).suspendDevices([deviceId(1)], 1);
      await devices.connect(c.de).confirmFraud([deviceId(1)]);
      await devices.connect(c.de).reinstateDevices([deviceId(1)]);
      await devices.connect(c.de).dismissFraudFlags([deviceId(2)], PLMN.BR);
      await gate.setPaused(false);
      await devices.connect(c.de).registerDevices([reg(3)]);
    });
  });

  describe("EIP-7825: the largest accepted call of each batch function", function () {
    it("registers, updates, suspends, confirms, reinstates, flags and dismisses at each limit under the cap with margin", async function () {
      const c = await loadFixture(twoPartners);
      await c.devices.connect(c.de).definePolicy(meterPolicy(PLMN.DE, { services: 0b111, missionCritical: true }));
      const limits = await c.devices.batchLimits();
      const gas: Record<string, bigint> = {};
      // Register: alternating policies and makers, so the policy and the maker are checked again on every row.
      const n = Number(limits.register);
      const regs = range(1_000, n).map((i, k) => ({ ...reg(i, k % 2 ? 3 : 1), maker: k % 2 ? PLMN.MAKER : "0x000000" }));
      gas.registerDevices = await gasOf(c.devices.connect(c.de).registerDevices(regs));
      // The other calls on fresh devices (first write of every slot they touch).
      const fleet = range(2_000, 1_000);
      await registerDe(c, fleet);
      const ids = (from: number, k: number) => fleet.slice(from, from + k).map((i) => deviceId(i));
      gas.updatePolicies = await gasOf(c.devices.connect(c.de).updatePolicies(ids(0, Number(limits.updatePolicies)), 3));
      gas.suspendDevices = await gasOf(c.devices.connect(c.de).suspendDevices(ids(0, Number(limits.suspend)), 1));
      gas.reinstateDevices = await gasOf(c.devices.connect(c.de).reinstateDevices(ids(0, Number(limits.reinstate))));
      gas.confirmFraud = await gasOf(c.devices.connect(c.de).confirmFraud(ids(0, Number(limits.confirmFraud))));
      const flagged = fleet.slice(0, Number(limits.dismissFraudFlags));
      for (let k = 0; k < flagged.length; k += Number(limits.flagFraud)) {
        const chunk = flagged.slice(k, k + Number(limits.flagFraud));
        const g = await gasOf(c.devices.connect(c.br).flagFraud(chunk.map((i) => flagOf(i))));
        if (chunk.length === Number(limits.flagFraud)) gas.flagFraud ??= g;
        await nextUtcDay();
      }
      gas.dismissFraudFlags = await gasOf(
        c.devices.connect(c.de).dismissFraudFlags(
          flagged.map((i) => deviceId(i)),
          PLMN.BR,
        ),
      );
      const sizes: Record<string, bigint> = {
        registerDevices: limits.register,
        updatePolicies: limits.updatePolicies,
        suspendDevices: limits.suspend,
        reinstateDevices: limits.reinstate,
        confirmFraud: limits.confirmFraud,
        flagFraud: limits.flagFraud,
        dismissFraudFlags: limits.dismissFraudFlags,
      };
      for (const [name, used] of Object.entries(gas)) {
        console.log(`      ${name} x ${sizes[name]}: ${used} gas (${(Number(used) / Number(sizes[name])).toFixed(0)} per item)`);
        expect(used, name).to.be.lessThan(MARGIN_CAP);
        expect(used, name).to.be.lessThan(TX_GAS_CAP);
      }
      expect(Object.keys(gas)).to.have.length(7);
    });
  });
});
