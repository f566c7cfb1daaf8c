import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deployConsortium, PLMN, type Consortium } from "../../helpers/fixtures";
import { useDeploymentForTasks, FROM, captured } from "../../helpers/tasks";
import { isoTime } from "../../../lib/agreements/terms";

const DAY = 24 * 3600;
/** VersionStatus in IRoamingAgreements. */
const ACCEPTED = 2n;

describe("tasks: agreement", function () {
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>>;
  let c: Consortium;
  let token: string;
  let start: number;

  /** Terms DE proposes to BR: one plan each way, valid `days` days from `from` (default: a day ahead). */
  function terms(overrides: Record<string, unknown> = {}, from = start, days = 365) {
    return {
      settlementToken: token,
      validFrom: isoTime(from),
      validUntil: isoTime(from + days * DAY),
      disputeWindowDays: 7,
      permanentRoaming: { days: 90, surchargePerDay: "0.05" },
      sla: {
        maxLatencyMs: 500,
        minThroughputKbps: 100,
        minAvailabilityPercent: 99.5,
        latencyCreditPercent: 1,
        throughputCreditPercent: 1,
        availabilityCreditPercent: 2,
      },
      rates: [
        {
          visited: "724-05",
          tariffClass: 1,
          perMb: "0.50",
          perSignallingEvent: "0.0001",
          perSms: "0.01",
          perVoiceMinute: "0.02",
          monthlyFeePerDevice: "0.05",
          tiers: [{ fromMb: 10000, discountPercent: 10 }],
        },
        {
          visited: "262-01",
          tariffClass: 1,
          perMb: "0.40",
          perSignallingEvent: "0",
          perSms: "0.01",
          perVoiceMinute: "0.02",
          monthlyFeePerDevice: "0",
        },
      ],
      ...overrides,
    };
  }

  /** Writes terms to `<name>` in the temp folder. */
  function write(content: object, name = "terms.json"): string {
    const file = path.join(env.dir, name);
    fs.writeFileSync(file, JSON.stringify(content, null, 2));
    return file;
  }

  /** DE proposes `content` to BR through the task. */
  async function propose(content: object = terms(), from: string = FROM.de) {
    await hre.run("agreement:propose", { partner: "724-05", terms: write(content), from });
  }

  beforeEach(async function () {
    c = await loadFixture(deployConsortium);
    env = await useDeploymentForTasks(c);
    token = await c.token.getAddress();
    start = Math.ceil(((await time.latest()) + DAY) / DAY) * DAY; // a midnight at least a day ahead
  });

  afterEach(() => env.cleanup());

  describe("agreement:propose and agreement:accept", function () {
    it("proposes terms from a file in token units and accepts them, printing what was accepted", async function () {
      const proposed = await captured(() => propose());
      expect(proposed).to.match(/262-01 proposed version 1 of the agreement with 724-05/);
      expect(proposed).to.contain("agreement:accept --partner 262-01 --agreement-version 1");
      expect(await c.agreements.pendingVersion(PLMN.DE, PLMN.BR)).to.equal(1n);
      const v = await c.agreements.getVersion(PLMN.DE, PLMN.BR, 1);
      expect(v.proposer).to.equal(PLMN.DE);
      expect(v.terms.validFrom).to.equal(BigInt(start));
      expect(v.terms.disputeWindow).to.equal(BigInt(7 * DAY));
      expect(v.terms.permanentRoamingSurchargePerDay).to.equal(50_000n); // 0.05 with 6 decimals
      expect(v.terms.sla.minAvailabilityBps).to.equal(9950n);
      expect(v.terms.ratePlans[0].perMb).to.equal(500_000n);
      expect(v.terms.ratePlans[0].perSignallingEvent).to.equal(100n);
      expect(v.terms.ratePlans[0].tiers.map((t) => [t.fromMb, t.discountBps])).to.deep.equal([[10_000n, 1000n]]);

      const accepted = await captured(() => hre.run("agreement:accept", { partner: "262-01", agreementVersion: 1, from: FROM.br }));
      expect((await c.agreements.getVersion(PLMN.DE, PLMN.BR, 1)).status).to.equal(ACCEPTED);
      const [plan, version] = await c.agreements.ratesAt(PLMN.DE, PLMN.BR, 1, start);
      expect([plan.perMb, version]).to.deep.equal([500_000n, 1n]);
      expect(accepted).to.match(/724-05 accepted version 1 of the agreement with 262-01 .*these terms now bind both/);
      expect(accepted).to.match(/version 1: accepted/);
      expect(accepted).to.match(/proposed by 262-01 at .*; accepted at /);
      expect(accepted).to.contain(`valid ${isoTime(start)} .. ${isoTime(start + 365 * DAY)}`);
      expect(accepted).to.match(/724-05 \(you\)\s+1\s+0\.5\s+0\.0001\s+0\.01\s+0\.02\s+0\.05\s+>10000 MB -10 %/);
      expect(accepted).to.match(/262-01\s+1\s+0\.4\s+0\s+0\.01\s+0\.02\s+0\s+-/);
      expect(accepted).to.contain("after 90 days, 0.05 RLST per device-day");
    });

    it("fails on a bad terms file with its name and line, sending nothing", async function () {
      const bad = terms();
      bad.rates[0].perMb = "0.5000001"; // 7 decimals; the token has 6
      await expect(propose(bad)).to.be.rejectedWith(/terms\.json:\d+ \(rates\[0\]\.perMb\): "0\.5000001" has 7 decimal places/);
      await expect(propose(terms({ disputeWindowDays: 120 }))).to.be.rejectedWith(/terms\.json:5 \(disputeWindowDays\)/);
      await expect(propose(terms({}, start - 400 * DAY, 30))).to.be.rejectedWith(
        /terms\.json:4 \(validUntil\): validUntil is not in the future/,
      );
      await expect(propose(terms({ colour: "blue" }))).to.be.rejectedWith(/terms\.json:\d+ \(colour\): unknown field "colour"/);
      expect(await c.agreements.versionCount(PLMN.DE, PLMN.BR)).to.equal(0n);
    });

    it("fails when the settlement token is not an ERC-20 token, naming where the file says so", async function () {
      await expect(propose(terms({ settlementToken: await c.carriers.getAddress() }))).to.be.rejectedWith(
        /terms\.json:2 \(settlementToken\): settlementToken 0x[0-9a-fA-F]{40} does not answer decimals\(\)/,
      );
    });

    it("fails when the partner is malformed, the proposer itself, not in the file's plans or not a carrier", async function () {
      await expect(hre.run("agreement:propose", { partner: "724-5", terms: write(terms()), from: FROM.de })).to.be.rejectedWith(
        /--partner: "724-5" is not a PLMN id/,
      );
      await expect(hre.run("agreement:propose", { partner: "262-01", terms: write(terms()), from: FROM.de })).to.be.rejectedWith(
        /--partner: 262-01 is your own carrier/,
      );
      await expect(hre.run("agreement:propose", { partner: "234-15", terms: write(terms()), from: FROM.de })).to.be.rejectedWith(
        /terms\.json:\d+ \(rates\[0\]\.visited\): 724-05 is not a party to this agreement/,
      );
      const toMaker = terms({ rates: terms().rates.map((p) => ({ ...p, visited: p.visited === "724-05" ? "999-01" : p.visited })) });
      await expect(hre.run("agreement:propose", { partner: "999-01", terms: write(toMaker), from: FROM.de })).to.be.rejectedWith(
        /RoamingAgreementsInvalidCounterparty\(counterparty=999-01\)/,
      );
    });

    it("refuses an unauthorized --from with the decoded custom error", async function () {
      await expect(propose(terms(), FROM.outsider)).to.be.rejectedWith(/CarrierRegistryNotActiveOperator\(account=0x/);
      await expect(propose(terms(), FROM.maker)).to.be.rejectedWith(/CarrierRegistryMissingRole\(account=0x.*plmn=999-01, role=1\)/);
      await propose();
      await expect(hre.run("agreement:accept", { partner: "262-01", agreementVersion: 1, from: FROM.outsider })).to.be.rejectedWith(
        /CarrierRegistryNotActiveOperator/,
      );
      // The proposer's own second operator cannot accept.
      await expect(hre.run("agreement:accept", { partner: "724-05", agreementVersion: 1, from: FROM.de2 })).to.be.rejectedWith(
        /RoamingAgreementsProposerCannotAccept\(key=0x[0-9a-f]{64}, version=1, proposer=262-01\)/,
      );
      // A third carrier has nothing pending with DE.
      await expect(hre.run("agreement:accept", { partner: "262-01", agreementVersion: 1, from: FROM.us })).to.be.rejectedWith(
        /RoamingAgreementsVersionNotPending/,
      );
      await expect(hre.run("agreement:accept", { partner: "262-01", agreementVersion: 0, from: FROM.br })).to.be.rejectedWith(
        /--agreement-version must be a version number from 1/,
      );
      expect(await c.agreements.acceptedVersions(PLMN.DE, PLMN.BR)).to.deep.equal([]);
    });
  });

  describe("agreement:show", function () {
    it("shows every version with its status and which one is in force now", async function () {
      await propose();
      await hre.run("agreement:accept", { partner: "262-01", agreementVersion: 1, from: FROM.br });
      // An amendment that ends the agreement early, accepted; then a pending counter-offer.
      await propose(terms({}, start + 10 * DAY, 20));
      await hre.run("agreement:accept", { partner: "262-01", agreementVersion: 2, from: FROM.br });
      await hre.run("agreement:propose", { partner: "262-01", terms: write(terms(), "counter.json"), from: FROM.br });

      const before = await captured(() => hre.run("agreement:show", { partner: "724-05", as: "262-01" }));
      expect(before).to.match(/^Agreement between 262-01 \(you\) and 724-05: 3 version\(s\)/);
      expect(before).to.match(/version 1: accepted\n/);
      expect(before).to.match(/version 2: accepted\n/);
      expect(before).to.match(/version 3: proposed\n\s+proposed by 724-05 at /);
      expect(before).to.contain(`valid ${isoTime(start + 10 * DAY)} .. ${isoTime(start + 30 * DAY)}`);
      expect(before).to.contain("No version is in force now."); // version 1 starts tomorrow
      expect(before).to.contain("Pending proposal: version 3.");

      await time.increaseTo(start + 5 * DAY);
      const during = await captured(() => hre.run("agreement:show", { partner: "724-05", as: "262-01" }));
      expect(during).to.match(/version 1: accepted, in force now/);
      expect(during).to.contain("In force now: version 1.");

      await time.increaseTo(start + 30 * DAY);
      const after = await captured(() => hre.run("agreement:show", { partner: "262-01", as: "724-05" }));
      expect(after).to.match(/^Agreement between 724-05 \(you\) and 262-01/);
      expect(after).to.contain("No version is in force now."); // version 2 ended it early
    });

    it("shows one version, from the account's member by default", async function () {
      await propose();
      // With no --as, the first configured account is asked: the deployer operates for no member.
      await expect(hre.run("agreement:show", { partner: "724-05" })).to.be.rejectedWith(/pass --as with your carrier/);
      const one = await captured(() => hre.run("agreement:show", { partner: "262-01", agreementVersion: 1, as: "724-05" }));
      expect(one).to.match(/version 1: proposed\n\s+proposed by 262-01 at /);
      expect(one).to.match(/settlement token 0x[0-9a-fA-F]{40} \(RLST, 6 decimals\); dispute window 7 day\(s\)/);
      expect(one).to.match(/SLA: latency <= 500 ms, throughput >= 100 kbit\/s, availability >= 99\.5 %/);
      await expect(hre.run("agreement:show", { partner: "262-01", agreementVersion: 2, as: "724-05" })).to.be.rejectedWith(
        /RoamingAgreementsUnknownVersion\(key=0x[0-9a-f]{64}, version=2\)/,
      );
    });

    it("says so when nothing was proposed", async function () {
      const none = await captured(() => hre.run("agreement:show", { partner: "310-410", as: "262-01" }));
      expect(none).to.equal("No agreement has been proposed between 262-01 (you) and 310-410.");
    });
  });
});
