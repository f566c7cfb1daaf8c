import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { createPublicClient, custom, type PublicClient } from "viem";
import type { RequestArguments } from "hardhat/types";
import { deployConsortium, PLMN, meterPolicy, deviceId, localId, agreeDeBr, addressesOf } from "../../helpers/fixtures";
import { predictPolicyAddress } from "../../../lib/devices/policy";
import { createRoamLedgerReader } from "../../../lib/chain/viem";
import { SERVICES, type ServiceName, DENY_REASONS } from "../../../lib/core/enums";

describe("lib/chain/viem", function () {
  /**
   * DE and BR have an agreement, DE and US not. DE devices: 1 and 2 on a data-only meter policy
   * (2 suspended), 3 on a data+sms+voice mission-critical local-breakout policy with latency needs.
   */
  async function withDevices() {
    const c = await deployConsortium();
    await agreeDeBr(c);
    await c.devices.connect(c.de).definePolicy(meterPolicy(PLMN.DE));
    await c.devices.connect(c.de).definePolicy(
      meterPolicy(PLMN.DE, {
        services: 0b111,
        missionCritical: true,
        routing: 1,
        maxLatencyMs: 150,
        minThroughputKbps: 256,
        allowedNetworks: [PLMN.BR, PLMN.US],
      }),
    );
    const regs = [1, 2, 3].map((i) => ({
      localId: localId(i),
      deviceClass: i === 3 ? 1 : 0,
      maker: i === 1 ? PLMN.MAKER : "0x000000",
      policyId: i === 3 ? 2 : 1,
    }));
    await c.devices.connect(c.de).registerDevices(regs);
    await c.devices.connect(c.de).suspendDevices([deviceId(2)], 1);
    return { ...c, addresses: await addressesOf(c) };
  }

  async function setup() {
    const c = await loadFixture(withDevices);
    const client = await hre.viem.getPublicClient();
    return { ...c, reader: createRoamLedgerReader(client, c.addresses) };
  }

  it("serves allowed data in BR, with the policy decoded", async function () {
    const { reader } = await setup();
    const d = await reader.decide(deviceId(1), "724-05", "data");
    expect(d).to.deep.equal({
      serve: true,
      reason: "none",
      steerable: true,
      homeRouted: true,
      tariffClass: 1,
      policyVersion: 1,
      policy: {
        owner: "262-01",
        services: ["data"],
        tariffClass: 1,
        routing: "home-routed",
        missionCritical: false,
        maxVisitedDays: 90,
        validFrom: 0,
        validUntil: 0,
        maxLatencyMs: 0,
        minThroughputKbps: 0,
        dailyBytesCap: 10_000n,
        monthlyBytesCap: 200_000n,
        dailyEventsCap: 50,
        monthlyEventsCap: 1_000,
        allowedNetworks: [],
      },
    });
    // bytes3 hex is accepted for the visited network too.
    expect(await reader.decide(deviceId(1), PLMN.BR, "data")).to.deep.equal(d);
  });

  it("decodes a richer policy: services, routing, steering, QoS, allowed networks", async function () {
    const { reader } = await setup();
    const d = await reader.decide(deviceId(3), "724-05", "voice");
    expect([d.serve, d.reason, d.steerable, d.homeRouted]).to.deep.equal([true, "none", false, false]);
    expect(d.policy?.services).to.deep.equal(["data", "sms", "voice"]);
    expect(d.policy?.routing).to.equal("local-breakout");
    expect([d.policy?.maxLatencyMs, d.policy?.minThroughputKbps]).to.deep.equal([150, 256]);
    expect(d.policy?.allowedNetworks).to.deep.equal(["724-05", "310-410"]);
  });

  it("gives service-not-allowed for voice on a data-only device", async function () {
    const { reader } = await setup();
    const d = await reader.decide(deviceId(1), "724-05", "voice");
    expect([d.serve, d.reason]).to.deep.equal([false, "service-not-allowed"]);
  });

  it("gives device-suspended for a suspended device", async function () {
    const { reader } = await setup();
    const d = await reader.decide(deviceId(2), "724-05", "data");
    expect([d.serve, d.reason]).to.deep.equal([false, "device-suspended"]);
  });

  it("gives no-agreement in US, where DE has no agreement", async function () {
    const { reader } = await setup();
    const d = await reader.decide(deviceId(1), "310-410", "data");
    expect([d.serve, d.reason]).to.deep.equal([false, "no-agreement"]);
  });

  it("gives unknown-device, with no policy, for a device that was never registered", async function () {
    const { reader, devices, addresses } = await setup();
    const impl = await devices.policyImplementation();
    expect(await hre.ethers.provider.getCode(predictPolicyAddress(addresses.deviceRegistry, impl, deviceId(9)))).to.equal("0x");
    const d = await reader.decide(deviceId(9), "724-05", "data");
    expect(d).to.deep.equal({
      serve: false,
      reason: "unknown-device",
      // The registry's answer as is: an empty policy is not mission-critical and home-routed.
      steerable: true,
      homeRouted: true,
      tariffClass: 0,
      policyVersion: 0,
      policy: null,
    });
  });

  it("answers as the ethers registry's decide does, for every device, network and service", async function () {
    const { reader, devices } = await setup();
    for (const i of [1, 2, 3, 9]) {
      for (const visited of [PLMN.BR, PLMN.US, PLMN.NEWCOMER, PLMN.DE]) {
        for (const [s, service] of SERVICES.entries()) {
          const ours = await reader.decide(deviceId(i), visited, service as ServiceName);
          const theirs = await devices.decide(deviceId(i), visited, s);
          expect({ ...ours, policy: undefined }, `device ${i} in ${visited}, ${service}`).to.deep.equal({
            serve: theirs.serve,
            reason: DENY_REASONS[Number(theirs.reason)],
            steerable: theirs.steerable,
            homeRouted: theirs.homeRouted,
            tariffClass: Number(theirs.tariffClass),
            policyVersion: Number(theirs.policyVersion),
            policy: undefined,
          });
        }
      }
    }
  });

  it("uses the policy contract at the off-chain predicted address", async function () {
    const { reader, devices } = await setup();
    for (const i of [1, 9]) {
      expect(await reader.policyAddress(deviceId(i))).to.equal(await devices.predictPolicyAddress(deviceId(i)));
    }
  });

  it("makes exactly one eth_call per decide for a registered device, the implementation read once", async function () {
    const { addresses } = await setup();
    const calls: { method: string; to?: string }[] = [];
    const client: PublicClient = createPublicClient({
      transport: custom({
        request: (args: RequestArguments) => {
          const params = args.params;
          const to = args.method === "eth_call" && Array.isArray(params) ? (params[0] as { to?: string }).to : undefined;
          calls.push({ method: args.method, to });
          return hre.network.provider.request(args);
        },
      }),
    });
    const reader = createRoamLedgerReader(client, addresses);

    await reader.decide(deviceId(1), "724-05", "data");
    const first = calls.filter((c) => c.method === "eth_call");
    expect(first).to.have.length(2); // policyImplementation() once, then decide
    expect(first[0].to?.toLowerCase()).to.equal(addresses.deviceRegistry.toLowerCase());
    const clone = (await reader.policyAddress(deviceId(1))).toLowerCase();
    expect(first[1].to?.toLowerCase()).to.equal(clone);

    for (const [i, service] of [
      [1, "voice"],
      [2, "data"],
      [3, "sms"],
    ] as const) {
      calls.length = 0;
      await reader.decide(deviceId(i), "724-05", service);
      expect(calls.map((c) => c.method)).to.deep.equal(["eth_call"]);
      expect(calls[0].to?.toLowerCase()).to.equal((await reader.policyAddress(deviceId(i))).toLowerCase());
    }

    // An unknown device: the empty clone call, then the registry's decide.
    calls.length = 0;
    expect((await reader.decide(deviceId(9), "724-05", "data")).reason).to.equal("unknown-device");
    expect(calls.map((c) => c.method)).to.deep.equal(["eth_call", "eth_call"]);
  });

  it("reads a device record with its status as a string", async function () {
    const { reader, devices } = await setup();
    const d1 = await reader.getDevice(deviceId(1));
    const raw = await devices.getDevice(deviceId(1));
    expect(d1).to.deep.equal({
      home: "262-01",
      maker: "999-01",
      deviceClass: "nb-iot",
      status: "active",
      policyVersion: 1,
      policyId: 1n,
      policySince: Number(raw.policySince),
      registeredAt: Number(raw.registeredAt),
    });
    expect((await reader.getDevice(deviceId(2))).status).to.equal("suspended");
    const d3 = await reader.getDevice(deviceId(3));
    expect([d3.maker, d3.deviceClass, d3.policyId]).to.deep.equal([null, "lte-m", 2n]);
    const unknown = await reader.getDevice(deviceId(9));
    expect([unknown.status, unknown.home, unknown.maker, unknown.registeredAt]).to.deep.equal(["none", null, null, 0]);
  });

  it("rejects a bad visited network, service or device id before calling the chain", async function () {
    const { reader } = await setup();
    await expect(reader.decide(deviceId(1), "72-405", "data")).to.be.rejectedWith(/not a PLMN id/);
    await expect(reader.decide(deviceId(1), "0xffffff", "data")).to.be.rejectedWith(/not a valid PLMN id/);
    await expect(reader.decide(deviceId(1), "724-05", "fax" as ServiceName)).to.be.rejectedWith(/not a service/);
    await expect(reader.decide("0x1234", "724-05", "data")).to.be.rejectedWith(/32 bytes/);
  });
});
