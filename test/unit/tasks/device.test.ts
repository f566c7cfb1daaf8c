import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployConsortium, PLMN, agreeDeBr, type Consortium } from "../../helpers/fixtures";
import { useDeploymentForTasks, FROM, captured, failureOf as message } from "../../helpers/tasks";
import { Keystore } from "../../../lib/keys/keystore";
import { deviceIdFromImsi } from "../../../lib/core/imsi";
import { readDevices, registerDevices, ensurePolicies } from "../../../lib/devices/registration";
import { readPolicies } from "../../../lib/devices/policy";
import { connectRoamLedger } from "../../../lib/chain/client";
import { loadDeployment } from "../../../lib/chain/deployment";

const POLICIES = path.join(__dirname, "..", "..", "fixtures", "policies.json");

/** A devices CSV of `n` DE devices cycling through classes, policies and the maker. */
function devicesCsv(dir: string, n: number, name = "devices.csv", extra: string[] = []): string {
  const kinds = [
    ["nb-iot", "meter", "999-01"],
    ["lte-m", "tracker", ""],
    ["5g", "drone", ""],
  ];
  const lines = ["imsi,class,policy,maker"];
  for (let i = 0; i < n; i++) {
    const [cls, policy, maker] = kinds[i % 3];
    lines.push(`26201${String(i).padStart(10, "0")},${cls},${policy},${maker}`);
  }
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${[...lines, ...extra].join("\n")}\n`);
  return file;
}

describe("tasks: keys and devices", function () {
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>>;
  let c: Consortium;

  beforeEach(async function () {
    c = await loadFixture(deployConsortium);
    env = await useDeploymentForTasks(c);
    // The fixture's members have throwaway keys; give DE and BR key store keys and register them.
    for (const [plmn, signer] of [
      ["262-01", c.de],
      ["724-05", c.br],
    ] as const) {
      const { publicKey } = new Keystore().ensureEncryptionKey(plmn);
      await c.carriers.connect(signer).rotateEncryptionKey(publicKey);
    }
    await hre.run("keys:init", { plmn: "262-01" });
  });

  afterEach(() => env.cleanup());

  describe("device:register", function () {
    it("registers every device of a file with its policy and policy contract", async function () {
      const file = devicesCsv(env.dir, 30);
      await hre.run("device:register", { file, policies: POLICIES, batchSize: 7, from: FROM.de });
      const key = new Keystore().imsiKey("262-01");
      const id = deviceIdFromImsi(key, "262-01", "262010000000004");
      const d = await c.devices.getDevice(id);
      expect(d.home).to.equal(PLMN.DE);
      expect(d.deviceClass).to.equal(1); // lte-m
      const [, policy] = await c.devices.deviceWithPolicy(id);
      expect(policy.allowedNetworks).to.deep.equal([PLMN.BR, PLMN.US]);
      expect(await hre.ethers.provider.getCode(await c.devices.predictPolicyAddress(id))).to.not.equal("0x");
      expect(await c.devices.policyCount()).to.equal(3);
    });

    it("completes an interrupted run without registering anything twice", async function () {
      const file = devicesCsv(env.dir, 40);
      const key = new Keystore().imsiKey("262-01");
      const client = connectRoamLedger(loadDeployment(hre.config.paths.root, 31337), c.de);
      const policies = readPolicies(POLICIES, PLMN.DE);
      const devices = await readDevices(file, { home: PLMN.DE, imsiKey: key, policyNames: new Set(policies.keys()) });
      const { ids } = await ensurePolicies(
        client,
        policies,
        devices.map((d) => d.policyName),
      );
      // The first run dies after its second batch.
      let batches = 0;
      await registerDevices(client, devices, {
        policyIds: ids,
        batchSize: 6,
        onProgress: (done) => {
          if (done > 0 && ++batches === 2) throw new Error("killed");
        },
      }).catch((e: Error) => expect(e.message).to.equal("killed"));
      const before = await client.devices.registered(devices.map((d) => d.deviceId));
      expect(before.filter(Boolean).length).to.equal(12);
      // A transaction of the dead run lands while the second run is going: it must cope.
      await client.devices.registerDevices(
        devices
          .slice(20, 22)
          .map((d) => ({ localId: d.localId, deviceClass: d.deviceClass, maker: d.maker, policyId: ids.get(d.policyName)! })),
      );
      const result = await registerDevices(client, devices, { policyIds: ids, batchSize: 10 });
      expect(result.registered + result.skipped).to.equal(40);
      expect(result.registered).to.equal(26);
      expect((await client.devices.registered(devices.map((d) => d.deviceId))).every(Boolean)).to.equal(true);
      const events = await c.devices.queryFilter(c.devices.filters.DeviceRegistered());
      expect(events.length).to.equal(40);
      // And the task run once more does nothing.
      await hre.run("device:register", { file, policies: POLICIES, batchSize: 10, from: FROM.de });
      expect((await c.devices.queryFilter(c.devices.filters.DeviceRegistered())).length).to.equal(40);
    });

    it("sends nothing when any line is bad, and names every bad line", async function () {
      const file = devicesCsv(env.dir, 5, "bad.csv", [
        "26201000000000,nb-iot,meter,", // 14 digits
        "310410000000001,nb-iot,meter,", // another home network
        "262010000000001,nb-iot,meter,", // duplicate of line 3
        "262010000000099,satellite,meter,", // unknown class
        "262010000000098,nb-iot,heater,", // unknown policy
        "262010000000097,nb-iot,meter,99-1", // malformed maker
        "262010000000096,nb-iot", // too few fields
      ]);
      const msg = await message(hre.run("device:register", { file, policies: POLICIES, batchSize: 10, from: FROM.de }));
      for (const line of [7, 8, 9, 10, 11, 12, 13]) expect(msg).to.contain(`bad.csv:${line}`);
      expect(msg).to.contain("nothing was sent");
      expect(await c.devices.policyCount()).to.equal(0);
    });

    it("refuses a --batch-size the registry would not take before sending anything, naming the flag and the largest", async function () {
      const file = devicesCsv(env.dir, 3);
      for (const batchSize of [171, 0, 1000]) {
        const msg = await message(hre.run("device:register", { file, policies: POLICIES, batchSize, from: FROM.de }));
        expect(msg).to.contain("--batch-size");
        expect(msg).to.contain(`batch size must be an integer from 1 to 170, found ${batchSize}`);
        expect(msg).to.contain("takes at most 170 devices per call");
        expect(msg).to.contain("EIP-7825");
      }
      expect(await c.devices.policyCount()).to.equal(0);
    });

    it("refuses a maker that is not a device-maker member, naming its line", async function () {
      const file = devicesCsv(env.dir, 2, "makers.csv", ["262010000000050,nb-iot,meter,724-05"]);
      const msg = await message(hre.run("device:register", { file, policies: POLICIES, batchSize: 10, from: FROM.de }));
      expect(msg).to.match(/makers\.csv:4 \(maker\): maker 724-05 is not an active device-maker member/);
    });

    it("fails with the decoded error for a sender that is not a carrier", async function () {
      const file = devicesCsv(env.dir, 2);
      const msg = await message(hre.run("device:register", { file, policies: POLICIES, batchSize: 10, from: FROM.outsider }));
      expect(msg).to.contain("CarrierRegistryNotActiveOperator");
      expect(msg).to.contain("What to do");
    });

    it("names the policies file line of an invalid policy's field", async function () {
      const bad = path.join(env.dir, "policies.json");
      fs.writeFileSync(bad, '{\n  "meter": {\n    "services": ["data", "fax"]\n  }\n}\n');
      const file = devicesCsv(env.dir, 1);
      const msg = await message(hre.run("device:register", { file, policies: bad, batchSize: 10, from: FROM.de }));
      expect(msg).to.match(/policies\.json:3 \(services\): services must be a list of .*, found \["data","fax"\]/);
    });
  });

  describe("policy:update and device:suspend", function () {
    it("moves a device to a new policy version and suspends it", async function () {
      const file = devicesCsv(env.dir, 3);
      await hre.run("device:register", { file, policies: POLICIES, batchSize: 10, from: FROM.de });
      await hre.run("policy:update", { policies: POLICIES, policy: "drone", imsi: "262010000000000", from: FROM.de });
      const id = deviceIdFromImsi(new Keystore().imsiKey("262-01"), "262-01", "262010000000000");
      expect((await c.devices.getDevice(id)).policyVersion).to.equal(2);
      await hre.run("device:suspend", { imsi: "262010000000000", reason: 3, from: FROM.de });
      expect((await c.devices.getDevice(id)).status).to.equal(2);
      await hre.run("device:reinstate", { imsi: "262010000000000", reason: 0, from: FROM.de });
      expect((await c.devices.getDevice(id)).status).to.equal(1);
    });
  });

  describe("device:confirm-fraud and device:dismiss-flags (F4)", function () {
    it("dismisses a partner's flag, confirms another device's fraud, and shows the flags", async function () {
      await agreeDeBr(c);
      const file = devicesCsv(env.dir, 3);
      await hre.run("device:register", { file, policies: POLICIES, batchSize: 10, from: FROM.de });
      const key = new Keystore().imsiKey("262-01");
      const [a, b] = ["262010000000000", "262010000000001"].map((imsi) => deviceIdFromImsi(key, "262-01", imsi));
      await c.devices.connect(c.br).flagFraud([a, b].map((id) => ({ id, reason: 1, evidenceHash: hre.ethers.id(id) })));
      const shown = await captured(() => hre.run("device:show", { id: a }));
      expect(shown).to.match(/flagged by: +724-05 since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
      // ISO seconds like every other task: no milliseconds.
      expect(shown).to.match(/registered: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
      expect(shown).to.not.match(/\.\d{3}Z/);
      await hre.run("device:dismiss-flags", { reporter: "724-05", imsi: "262010000000000", from: FROM.de });
      expect(await c.devices.flaggedBy(a, PLMN.BR)).to.equal(false);
      await hre.run("device:confirm-fraud", { imsi: "262010000000001", from: FROM.de });
      expect((await c.devices.getDevice(b)).status).to.equal(3);
    });

    it("says what to do when there is no flag to dismiss or the reporter is malformed", async function () {
      const file = devicesCsv(env.dir, 1);
      await hre.run("device:register", { file, policies: POLICIES, batchSize: 10, from: FROM.de });
      const none = await message(hre.run("device:dismiss-flags", { reporter: "724-05", imsi: "262010000000000", from: FROM.de }));
      expect(none).to.match(/DeviceRegistryNotFlagged.*standing flags/s);
      const bad = await message(hre.run("device:dismiss-flags", { reporter: "72405x", imsi: "262010000000000", from: FROM.de }));
      expect(bad).to.match(/reporter/);
    });
  });

  describe("keys:share / keys:receive", function () {
    it("lets the partner compute the same device ids, and nobody else open the envelope", async function () {
      await agreeDeBr(c);
      await hre.run("keys:share", { partner: "724-05", from: FROM.de });
      await hre.run("keys:receive", { home: "262-01", from: FROM.br });
      const ks = new Keystore();
      expect(Buffer.from(ks.partnerImsiKey("724-05", "262-01"))).to.deep.equal(Buffer.from(ks.imsiKey("262-01")));
      // US was not given the key: nothing to receive.
      const msg = await message(hre.run("keys:receive", { home: "262-01", from: FROM.us }));
      expect(msg).to.contain("has not shared its IMSI key with 310-410");
    });

    it("refuses to share with a member that is not a carrier", async function () {
      const msg = await message(hre.run("keys:share", { partner: "999-01", from: FROM.de }));
      expect(msg).to.contain("999-01 is not an active carrier member");
    });
  });
});
