import { expect } from "chai";
import { RecordChecker, BILLING_CODE, isFraud, roamingLimit } from "../../../lib/usage/check";
import { STATUS, type ResolvedDevice, type PolicyRules } from "../../../lib/devices/resolver";
import { loadState, newDeviceState, saveState, type DeviceState } from "../../../lib/usage/state";
import type { ParsedRecord } from "../../../lib/usage/types";
import { hexToBytes, type Hex } from "../../../lib/util/hex";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const BR = "0x27f450" as Hex;
const DE = "0x62f210" as Hex;
const PERIOD = 202611;
const DAY = 86_400;
const NOV1 = Date.UTC(2026, 10, 1) / 1000;

function policy(over: Partial<PolicyRules> = {}): PolicyRules {
  return {
    policyId: 1n,
    services: 1, // data only
    tariffClass: 1,
    maxVisitedDays: 0,
    validFrom: 0,
    validUntil: 0,
    dailyBytesCap: 0,
    monthlyBytesCap: 0,
    dailyEventsCap: 0,
    monthlyEventsCap: 0,
    allowedNetworks: new Set(),
    ...over,
  };
}

function device(p: PolicyRules, status: number = STATUS.Active): ResolvedDevice {
  const deviceId = `0x${"11".repeat(32)}` as Hex;
  return {
    index: 0,
    imsi: "262010000000001",
    deviceId,
    status,
    home: DE,
    maker: "0x000000" as Hex,
    policy: p,
    policyVersion: 1,
    policySince: 0,
    history: undefined,
    ids: hexToBytes(deviceId),
    idAt: 0,
    state: undefined,
    stateOwner: undefined,
  };
}

let seq = 0;
function rec(over: Partial<ParsedRecord> = {}): ParsedRecord {
  return {
    line: ++seq,
    recordId: `R${seq}`,
    imsi: "262010000000001",
    home: DE,
    visited: BR,
    service: 0,
    rat: 0,
    startTime: NOV1 + 3600,
    duration: 60,
    bytesUp: 100,
    bytesDown: 200,
    events: 0,
    latencyMs: 0,
    throughputKbps: 0,
    ...over,
  };
}

describe("lib/usage/check", function () {
  describe("RecordChecker.check", function () {
    it("bills in-policy data and counts the device active once per period", function () {
      const checker = new RecordChecker({ state: new Map(), visited: BR, period: PERIOD, agreementRoamingDays: 0 });
      const d = device(policy());
      const first = checker.check(rec(), d);
      const second = checker.check(rec(), d);
      expect(first).to.include({ billing: BILLING_CODE.Billable, tariffClass: 1, newlyActive: true });
      expect(second).to.include({ billing: BILLING_CODE.Billable, newlyActive: false });
    });

    it("does not bill a service the policy does not allow, and calls it fraud", function () {
      const checker = new RecordChecker({ state: new Map(), visited: BR, period: PERIOD, agreementRoamingDays: 0 });
      const out = checker.check(rec({ service: 2, duration: 120 }), device(policy()));
      expect(out.billing).to.equal(BILLING_CODE.ServiceNotAllowed);
      expect(isFraud(out.billing)).to.equal(true);
      expect(out.newlyActive).to.equal(false);
    });

    it("always allows signalling", function () {
      const checker = new RecordChecker({ state: new Map(), visited: BR, period: PERIOD, agreementRoamingDays: 0 });
      expect(checker.check(rec({ service: 3, events: 4, bytesUp: 0, bytesDown: 0 }), device(policy())).billing).to.equal(0);
    });

    it("does not bill a suspended device, without calling it fraud", function () {
      const checker = new RecordChecker({ state: new Map(), visited: BR, period: PERIOD, agreementRoamingDays: 0 });
      const out = checker.check(rec(), device(policy(), STATUS.Suspended));
      expect(out.billing).to.equal(BILLING_CODE.DeviceSuspended);
      expect(isFraud(out.billing)).to.equal(false);
    });

    it("bills a fraud-flagged device's in-policy records (the flag is about the others)", function () {
      const checker = new RecordChecker({ state: new Map(), visited: BR, period: PERIOD, agreementRoamingDays: 0 });
      expect(checker.check(rec(), device(policy(), STATUS.FraudFlagged)).billing).to.equal(0);
    });

    it("refuses a network outside allowedNetworks", function () {
      const checker = new RecordChecker({ state: new Map(), visited: BR, period: PERIOD, agreementRoamingDays: 0 });
      const out = checker.check(rec(), device(policy({ allowedNetworks: new Set(["0x130014"]) })));
      expect(out.billing).to.equal(BILLING_CODE.NetworkNotAllowed);
    });

    it("refuses records outside the policy's validity", function () {
      const checker = new RecordChecker({ state: new Map(), visited: BR, period: PERIOD, agreementRoamingDays: 0 });
      const d = device(policy({ validFrom: NOV1 + 2 * DAY, validUntil: NOV1 + 3 * DAY }));
      expect(checker.check(rec({ startTime: NOV1 + DAY }), d).billing).to.equal(BILLING_CODE.PolicyNotValid);
      expect(checker.check(rec({ startTime: NOV1 + 2 * DAY }), d).billing).to.equal(0);
      expect(checker.check(rec({ startTime: NOV1 + 3 * DAY }), d).billing).to.equal(BILLING_CODE.PolicyNotValid);
    });

    it("counts the daily byte cap per UTC day and starts again the next day", function () {
      const checker = new RecordChecker({ state: new Map(), visited: BR, period: PERIOD, agreementRoamingDays: 0 });
      const d = device(policy({ dailyBytesCap: 1000 }));
      expect(checker.check(rec({ bytesUp: 400, bytesDown: 500 }), d).billing).to.equal(0); // 900
      expect(checker.check(rec({ bytesUp: 50, bytesDown: 50 }), d).billing).to.equal(0); // 1000: at the cap
      expect(checker.check(rec({ bytesUp: 1, bytesDown: 0 }), d).billing).to.equal(BILLING_CODE.DailyCapExceeded);
      expect(checker.check(rec({ startTime: NOV1 + DAY + 10, bytesUp: 900, bytesDown: 0 }), d).billing).to.equal(0);
    });

    it("counts the monthly event cap on signalling only", function () {
      const checker = new RecordChecker({ state: new Map(), visited: BR, period: PERIOD, agreementRoamingDays: 0 });
      const d = device(policy({ monthlyEventsCap: 10 }));
      expect(checker.check(rec({ service: 3, events: 10, bytesUp: 0, bytesDown: 0 }), d).billing).to.equal(0);
      expect(checker.check(rec({ bytesUp: 5000 }), d).billing).to.equal(0);
      expect(checker.check(rec({ service: 3, events: 1, bytesUp: 0, bytesDown: 0, startTime: NOV1 + 5 * DAY }), d).billing).to.equal(
        BILLING_CODE.MonthlyCapExceeded,
      );
    });

    it("detects a permanent roamer at the stricter limit and counts each roamer-day once", function () {
      const state = new Map<string, DeviceState>();
      const checker = new RecordChecker({ state, visited: BR, period: PERIOD, agreementRoamingDays: 10 }); // agreement: 10 days
      const d = device(policy({ maxVisitedDays: 20 }));
      const outcomes = [];
      for (let day = 0; day < 14; day++) outcomes.push(checker.check(rec({ startTime: NOV1 + day * DAY + 100 }), d));
      // A second record on day 13 is not a new roamer-day.
      const again = checker.check(rec({ startTime: NOV1 + 13 * DAY + 200 }), d);
      expect(outcomes.slice(0, 10).every((o) => !o.becameRoamer && !o.newRoamerDay)).to.equal(true);
      expect(outcomes[10]).to.include({ becameRoamer: true, newRoamerDay: true, daysPresent: 11 });
      expect(outcomes.slice(11).every((o) => !o.becameRoamer && o.newRoamerDay)).to.equal(true);
      expect(again).to.include({ becameRoamer: false, newRoamerDay: false });
    });

    it("keeps presence across periods through the saved state, and starts again after an absence", function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-state-"));
      const file = path.join(dir, "state.json");
      const d = device(policy({ maxVisitedDays: 40 }));
      const october = new RecordChecker({ state: new Map(), visited: BR, period: 202610, agreementRoamingDays: 0 });
      const OCT1 = Date.UTC(2026, 9, 1) / 1000;
      for (let day = 0; day < 31; day++) october.check(rec({ startTime: OCT1 + day * DAY }), d);
      saveState(file, (october as unknown as { state: Map<string, DeviceState> }).state);

      const november = new RecordChecker({ state: loadState(file), visited: BR, period: PERIOD, agreementRoamingDays: 0 });
      const outcomes = [];
      for (let day = 0; day < 12; day++) outcomes.push(november.check(rec({ startTime: NOV1 + day * DAY }), d));
      // Day 41 of presence is 10 November (index 9).
      expect(outcomes.findIndex((o) => o.becameRoamer)).to.equal(9);
      expect(outcomes[0].newlyActive).to.equal(true);

      // After more than PRESENCE_GAP_DAYS away, presence starts again.
      const later = november.check(rec({ startTime: NOV1 + 29 * DAY }), d);
      expect(later.daysPresent).to.equal(1);
      fs.rmSync(dir, { recursive: true });
    });
  });

  describe("roamingLimit", function () {
    it("takes the stricter non-zero limit", function () {
      expect(roamingLimit(0, 0)).to.equal(0);
      expect(roamingLimit(90, 0)).to.equal(90);
      expect(roamingLimit(0, 60)).to.equal(60);
      expect(roamingLimit(90, 60)).to.equal(60);
    });
  });

  describe("state file", function () {
    it("refuses a corrupt state file with what to do", function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-state-"));
      const file = path.join(dir, "state.json");
      fs.writeFileSync(file, "{ not json");
      expect(() => loadState(file)).to.throw(/not valid JSON[\s\S]*restore/);
      fs.rmSync(dir, { recursive: true });
    });

    it("is written device by device as the same JSON as the whole object, and reads back (30,000 devices)", function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-state-"));
      const file = path.join(dir, "state.json");
      const state = new Map<string, DeviceState>();
      for (let i = 0; i < 30_000; i++) {
        const s = newDeviceState();
        Object.assign(s, {
          firstDay: 20_400 + (i % 30),
          lastDay: 20_420,
          roamerReported: i % 7 === 0,
          monthBytes: i * 1e7 + 0.5,
          dayEvents: i,
        });
        state.set(`0x${i.toString(16).padStart(64, "0")}`, s);
      }
      saveState(file, state);
      const text = fs.readFileSync(file, "utf8");
      expect(text.length).to.be.greaterThan(1 << 21); // more than one write's worth
      const fields = Object.keys(newDeviceState());
      const devices = Object.fromEntries([...state].map(([id, s]) => [id, fields.map((f) => s[f as keyof DeviceState])]));
      expect(text).to.equal(JSON.stringify({ version: 1, fields, devices }));
      expect([...loadState(file)]).to.deep.equal([...state]);
      expect(fs.readdirSync(dir)).to.deep.equal(["state.json"]);
      fs.rmSync(dir, { recursive: true });
    });
  });
});
