import { BILLING } from "../core/enums";
import type { Hex } from "../util/hex";
import { type PolicyRules, type ResolvedDevice, STATUS } from "../devices/resolver";
import { InputError } from "../core/errors";
import { newDeviceState, PRESENCE_GAP_DAYS, type DeviceState } from "./state";
import { type ParsedRecord, SERVICE_DATA, SERVICE_SIGNALLING } from "./types";

/** `Billing` codes of contracts/types/UsageTypes.sol, by their names in BILLING (lib/core/enums). */
export const BILLING_CODE = {
  Billable: BILLING.indexOf("billable"),
  ServiceNotAllowed: BILLING.indexOf("service-not-allowed"),
  NetworkNotAllowed: BILLING.indexOf("network-not-allowed"),
  DailyCapExceeded: BILLING.indexOf("daily-cap-exceeded"),
  MonthlyCapExceeded: BILLING.indexOf("monthly-cap-exceeded"),
  DeviceSuspended: BILLING.indexOf("device-suspended"),
  PolicyNotValid: BILLING.indexOf("policy-not-valid"),
} as const;

/** Billing codes that are out-of-policy use: flagged as fraud on-chain. */
export function isFraud(billing: number): boolean {
  return billing >= BILLING_CODE.ServiceNotAllowed && billing <= BILLING_CODE.MonthlyCapExceeded;
}

const DAY = 86_400;

/** What one record did to the device's state beyond its billing code. */
export interface CheckOutcome {
  billing: number;
  tariffClass: number;
  /** First billable record of the device in this period: counts it active. */
  newlyActive: boolean;
  /** A device-day beyond the permanent-roaming limit, counted for the first time. */
  newRoamerDay: boolean;
  /** The device just crossed the permanent-roaming limit and was not reported yet. */
  becameRoamer: boolean;
  /** Days of continuous presence so far. */
  daysPresent: number;
}

/**
 * The policy check of the visited carrier, per record, against the device's policy as read from the
 * chain and the state kept across runs. Order of checks: suspended device, policy validity, service
 * allowed, network allowed, daily cap, monthly cap (caps: data bytes up + down, signalling events).
 * Usage counts toward the caps whether billable or not: once a cap is exceeded, the rest of that day
 * (or month) is out of policy too. Caps assume a device's records come in time order, as switches write
 * them; a record older than the day being counted is checked against the monthly cap only.
 * Fraud-flagged devices are checked like active ones: the flag concerns the out-of-policy records, which
 * are never billable, and the home carrier can still dispute the rest. This also keeps a re-run after a
 * crash independent of the flags the first run already sent.
 */
export class RecordChecker {
  private readonly state: Map<string, DeviceState>;
  private readonly visited: Hex;
  private readonly period: number;
  private readonly agreementRoamingDays: number;

  constructor(options: {
    /** The pair's device states, kept across runs (updated in place). */
    state: Map<string, DeviceState>;
    /** Our own network, where the records were served. */
    visited: Hex;
    /** yyyymm. */
    period: number;
    /** The agreement's permanent-roaming limit in days (0: none). */
    agreementRoamingDays: number;
  }) {
    this.state = options.state;
    this.visited = options.visited;
    this.period = options.period;
    this.agreementRoamingDays = options.agreementRoamingDays;
  }

  stateOf(deviceId: string): DeviceState {
    let s = this.state.get(deviceId);
    if (!s) {
      s = newDeviceState();
      this.state.set(deviceId, s);
    }
    return s;
  }

  check(record: ParsedRecord, device: ResolvedDevice): CheckOutcome {
    if (!hasPolicy(device)) {
      throw new InputError(`device ${device.deviceId} is not registered`, {
        hint: "only registered devices are checked against a policy.",
      });
    }
    const policy = device.policy;
    // The device's state, cached on the device for this checker: one map lookup per device, not per record.
    let s: DeviceState;
    if (device.stateOwner === this.state) {
      s = device.state as DeviceState;
    } else {
      s = this.stateOf(device.deviceId);
      device.state = s;
      device.stateOwner = this.state;
    }
    const day = Math.floor(record.startTime / DAY);
    const billing = this.billing(record, device, s, day);

    // Presence: any record of the device in this network, billable or not.
    if (s.lastDay < 0 || day > s.lastDay + PRESENCE_GAP_DAYS) {
      s.firstDay = day;
      s.lastDay = day;
      s.roamerReported = false;
      s.roamerBilledThrough = -1;
    } else {
      if (day > s.lastDay) s.lastDay = day;
      if (day < s.firstDay) s.firstDay = day;
    }
    const daysPresent = s.lastDay - s.firstDay + 1;
    const limit = roamingLimit(policy.maxVisitedDays, this.agreementRoamingDays);
    const beyond = limit > 0 && day - s.firstDay + 1 > limit;
    let newRoamerDay = false;
    let becameRoamer = false;
    if (beyond) {
      if (!s.roamerReported) {
        s.roamerReported = true;
        becameRoamer = true;
      }
      if (billing === BILLING_CODE.Billable && day > s.roamerBilledThrough) {
        s.roamerBilledThrough = day;
        newRoamerDay = true;
      }
    }
    let newlyActive = false;
    if (billing === BILLING_CODE.Billable && s.activePeriod !== this.period) {
      s.activePeriod = this.period;
      newlyActive = true;
    }
    return { billing, tariffClass: policy.tariffClass, newlyActive, newRoamerDay, becameRoamer, daysPresent };
  }

  private billing(record: ParsedRecord, device: RegisteredDevice, s: DeviceState, day: number): number {
    const policy = device.policy;
    // Count usage first: it happened whatever we bill.
    const bytes = record.service === SERVICE_DATA ? record.bytesUp + record.bytesDown : 0;
    const events = record.service === SERVICE_SIGNALLING ? record.events : 0;
    if (s.capPeriod !== this.period) {
      s.capPeriod = this.period;
      s.monthBytes = 0;
      s.monthEvents = 0;
    }
    s.monthBytes += bytes;
    s.monthEvents += events;
    let dayCounted = true;
    if (day > s.capDay) {
      s.capDay = day;
      s.dayBytes = 0;
      s.dayEvents = 0;
    } else if (day < s.capDay) {
      dayCounted = false;
    }
    if (dayCounted) {
      s.dayBytes += bytes;
      s.dayEvents += events;
    }

    if (device.status === STATUS.Suspended) return BILLING_CODE.DeviceSuspended;
    if (record.startTime < policy.validFrom || (policy.validUntil !== 0 && record.startTime >= policy.validUntil)) {
      return BILLING_CODE.PolicyNotValid;
    }
    if (record.service !== SERVICE_SIGNALLING && (policy.services & (1 << record.service)) === 0) {
      return BILLING_CODE.ServiceNotAllowed;
    }
    if (policy.allowedNetworks.size > 0 && !policy.allowedNetworks.has(this.visited)) {
      return BILLING_CODE.NetworkNotAllowed;
    }
    if (dayCounted) {
      if (policy.dailyBytesCap > 0 && bytes > 0 && s.dayBytes > policy.dailyBytesCap) return BILLING_CODE.DailyCapExceeded;
      if (policy.dailyEventsCap > 0 && events > 0 && s.dayEvents > policy.dailyEventsCap) {
        return BILLING_CODE.DailyCapExceeded;
      }
    }
    if (policy.monthlyBytesCap > 0 && bytes > 0 && s.monthBytes > policy.monthlyBytesCap) {
      return BILLING_CODE.MonthlyCapExceeded;
    }
    if (policy.monthlyEventsCap > 0 && events > 0 && s.monthEvents > policy.monthlyEventsCap) {
      return BILLING_CODE.MonthlyCapExceeded;
    }
    return BILLING_CODE.Billable;
  }
}

/** A resolved device the registry knows, with its policy. */
type RegisteredDevice = ResolvedDevice & { policy: PolicyRules };

function hasPolicy(device: ResolvedDevice): device is RegisteredDevice {
  return device.policy !== undefined;
}

/** The stricter of the policy's and the agreement's limits; 0 means no limit. */
export function roamingLimit(policyDays: number, agreementDays: number): number {
  if (policyDays === 0) return agreementDays;
  if (agreementDays === 0) return policyDays;
  return Math.min(policyDays, agreementDays);
}
