// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {Service} from "../types/DeviceTypes.sol";
import {UsageRecord, ClassTotals, DisputedUsage} from "../types/UsageTypes.sol";

/// @notice Arithmetic on per-class usage totals: what a disputed record counts, totals net of disputes, and
/// merging totals by tariff class. Sums are checked: totals that overflow their type revert.
library ClassTotalsLib {
    /// @notice Adds one disputed record to its class: 1 record and its own service's usage (data: bytes up
    /// + down; SMS: events; voice: duration; signalling: events; an unknown service: the record only).
    function addRecord(DisputedUsage storage u, UsageRecord calldata r) internal {
        u.records += 1;
        uint8 service = r.service;
        if (service == uint8(Service.Data)) u.dataBytes += r.bytesUp + r.bytesDown;
        else if (service == uint8(Service.Sms)) u.smsCount += r.events;
        else if (service == uint8(Service.Voice)) u.voiceSeconds += r.duration;
        else if (service == uint8(Service.Signalling)) u.signallingEvents += r.events;
    }

    /// @notice `t` less the disputed usage `d`, each field floored at zero; the other fields unchanged.
    function subtract(ClassTotals memory t, DisputedUsage memory d) internal pure {
        t.records = t.records > d.records ? t.records - d.records : 0;
        t.dataBytes = t.dataBytes > d.dataBytes ? t.dataBytes - d.dataBytes : 0;
        t.signallingEvents = t.signallingEvents > d.signallingEvents ? t.signallingEvents - d.signallingEvents : 0;
        t.smsCount = t.smsCount > d.smsCount ? t.smsCount - d.smsCount : 0;
        t.voiceSeconds = t.voiceSeconds > d.voiceSeconds ? t.voiceSeconds - d.voiceSeconds : 0;
    }

    /// @notice Adds `t` into `merged[0..len)`, ascending by class: into the entry of its class, or inserted
    /// in order. `from` is where to start looking (totals of one batch ascend too).
    /// @return newLen The entries now; `merged` must have room for one more.
    /// @return at The index of `t`'s class, where to look from for the batch's next class.
    function mergeInto(
        ClassTotals[] memory merged,
        uint256 len,
        uint256 from,
        ClassTotals memory t
    ) internal pure returns (uint256 newLen, uint256 at) {
        at = from;
        while (at < len && merged[at].tariffClass < t.tariffClass) ++at;
        if (at < len && merged[at].tariffClass == t.tariffClass) {
            add(merged[at], t);
            return (len, at);
        }
        for (uint256 k = len; k > at; --k) merged[k] = merged[k - 1];
        merged[at] = t;
        return (len + 1, at);
    }

    /// @notice `acc` += `t`, field by field (same class).
    function add(ClassTotals memory acc, ClassTotals memory t) internal pure {
        acc.records += t.records;
        acc.activeDevices += t.activeDevices;
        acc.roamerDays += t.roamerDays;
        acc.dataBytes += t.dataBytes;
        acc.signallingEvents += t.signallingEvents;
        acc.smsCount += t.smsCount;
        acc.voiceSeconds += t.voiceSeconds;
        acc.qosSamples += t.qosSamples;
        acc.latencyMsSum += t.latencyMsSum;
        acc.throughputKbpsSum += t.throughputKbpsSum;
    }
}
