// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {IRoamingAgreements} from "../interfaces/IRoamingAgreements.sol";
import {ISettlementEscrow} from "../interfaces/ISettlementEscrow.sol";
import {ClassTotals} from "../types/UsageTypes.sol";
import {PlmnId} from "../types/PlmnId.sol";

/// @notice Rates a closed period's totals with an agreement's terms into an invoice. lib/rating.ts is the
/// same computation in TypeScript and must agree with it to the smallest unit.
/// @dev Rounding (all divisions round down, each exactly once where stated):
/// - data: the class's total volume V (bytes, all devices together) is cut into bands at
///   `tiers[i].fromMb * 1e6` bytes; bytes below the first tier pay `perMb`, bytes in band i pay
///   `perMb * (10000 - tiers[i].discountBps) / 10000`. data = floor(sum(bandBytes * perMb * (10000 - d))
///   / 1e10): one floor per class.
/// - voice = floor(voiceSeconds * perVoiceMinute / 60): per-second billing, one floor per class.
/// - signalling, SMS, monthly fee and surcharge are exact products.
/// - SLA averages: floor(sum of sums / sum of samples) over all classes; credit = floor(subtotal *
///   creditBps / 10000); net = subtotal - credit.
/// Overflow: every product is at most 2^64 (volume) x 2^128 (rate) x 2^14 (basis points) < 2^206, and
/// a subtotal sums at most 256 classes of six such charges: far below 2^256.
library RatingLib {
    /// @notice 100 % in basis points.
    uint256 internal constant BPS = 10_000;
    /// @notice Bytes in a MB.
    uint256 internal constant BYTES_PER_MB = 1_000_000;
    /// @notice Seconds in a voice minute.
    uint256 internal constant SECONDS_PER_MINUTE = 60;
    /// @dev Plan index meaning "no plan".
    uint256 private constant NONE = type(uint256).max;

    /// @notice Rates `totals` (one entry per tariff class) with the plans of `terms` whose visited carrier
    /// is `visited`, and applies the SLA credit. A class without a plan gets an unpriced zero line.
    function rate(
        ClassTotals[] memory totals,
        IRoamingAgreements.Terms memory terms,
        PlmnId visited
    ) internal pure returns (ISettlementEscrow.Rating memory r) {
        uint256 count = totals.length;
        r.lines = new ISettlementEscrow.ClassCharges[](count);
        uint256 latencySum;
        uint256 throughputSum;
        for (uint256 i = 0; i < count; ++i) {
            ClassTotals memory t = totals[i];
            r.qosSamples += t.qosSamples;
            latencySum += t.latencyMsSum;
            throughputSum += t.throughputKbpsSum;
            ISettlementEscrow.ClassCharges memory line = r.lines[i];
            line.tariffClass = t.tariffClass;
            uint256 p = planIndex(terms.ratePlans, visited, t.tariffClass);
            if (p == NONE) continue;
            IRoamingAgreements.RatePlan memory plan = terms.ratePlans[p];
            line.priced = true;
            line.data = dataCharge(t.dataBytes, plan.perMb, plan.tiers);
            line.signalling = uint256(t.signallingEvents) * plan.perSignallingEvent;
            line.sms = uint256(t.smsCount) * plan.perSms;
            line.voice = (uint256(t.voiceSeconds) * plan.perVoiceMinute) / SECONDS_PER_MINUTE;
            line.monthly = uint256(t.activeDevices) * plan.monthlyFeePerDevice;
            line.surcharge = uint256(t.roamerDays) * terms.permanentRoamingSurchargePerDay;
            line.total = line.data + line.signalling + line.sms + line.voice + line.monthly + line.surcharge;
            r.subtotal += line.total;
        }
        if (r.qosSamples > 0) {
            r.avgLatencyMs = latencySum / r.qosSamples;
            r.avgThroughputKbps = throughputSum / r.qosSamples;
        }
        r.creditBps = creditBps(terms.sla, r.qosSamples, r.avgLatencyMs, r.avgThroughputKbps);
        r.credit = (r.subtotal * r.creditBps) / BPS;
        r.net = r.subtotal - r.credit;
    }

    /// @notice The data charge of `volume` bytes at `perMb`, tiered (see the rounding rules above). Each
    /// tier's discount applies from its threshold up to the next tier's. A threshold at or below the start
    /// of the current band (in validated terms only `fromMb` 0, at the start of the first band) ends no
    /// band: its discount applies from that start.
    function dataCharge(
        uint64 volume,
        uint128 perMb,
        IRoamingAgreements.Tier[] memory tiers
    ) internal pure returns (uint256) {
        uint256 scaled; // sum of bandBytes * perMb * (BPS - discount)
        uint256 lower; // start of the current band, bytes
        uint256 discount; // the current band's discount, bps
        uint256 tierCount = tiers.length;
        for (uint256 j = 0; j <= tierCount && volume > lower; ++j) {
            uint256 upper = j < tierCount ? uint256(tiers[j].fromMb) * BYTES_PER_MB : type(uint256).max;
            if (upper > lower) {
                uint256 end = volume < upper ? volume : upper;
                scaled += (end - lower) * perMb * (BPS - discount);
                lower = upper;
            }
            if (j < tierCount) discount = tiers[j].discountBps;
        }
        return scaled / (BYTES_PER_MB * BPS);
    }

    /// @notice The SLA credit in basis points: latencyCreditBps when the average latency is above a
    /// non-zero maxLatencyMs, plus throughputCreditBps when the average throughput is below a non-zero
    /// minThroughputKbps, capped at 10000. Nothing without samples. Availability is not measured by usage
    /// records and is never credited here.
    function creditBps(
        IRoamingAgreements.SlaTerms memory sla,
        uint256 samples,
        uint256 avgLatencyMs,
        uint256 avgThroughputKbps
    ) internal pure returns (uint16) {
        if (samples == 0) return 0;
        uint256 bps;
        if (sla.maxLatencyMs > 0 && avgLatencyMs > sla.maxLatencyMs) bps += sla.latencyCreditBps;
        if (sla.minThroughputKbps > 0 && avgThroughputKbps < sla.minThroughputKbps) bps += sla.throughputCreditBps;
        return uint16(bps < BPS ? bps : BPS);
    }

    /// @notice Index in `plans` of the plan of (`visited`, `tariffClass`), or type(uint256).max.
    function planIndex(
        IRoamingAgreements.RatePlan[] memory plans,
        PlmnId visited,
        uint8 tariffClass
    ) internal pure returns (uint256) {
        uint256 count = plans.length;
        for (uint256 i = 0; i < count; ++i) {
            IRoamingAgreements.RatePlan memory plan = plans[i];
            if (plan.tariffClass == tariffClass && PlmnId.unwrap(plan.visited) == PlmnId.unwrap(visited)) return i;
        }
        return NONE;
    }
}
