// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";
import {PlmnLib} from "./PlmnLib.sol";
import {Device, DeviceStatus, Policy, Decision, DenyReason, Service, Routing} from "../types/DeviceTypes.sol";
import {IRoamingAgreements} from "../interfaces/IRoamingAgreements.sol";

/// @notice Validation of policy definitions and the serve/steer/route decision for a visited network.
library PolicyLib {
    using PlmnLib for PlmnId;

    /// @notice Most visited networks one policy may list.
    uint256 internal constant MAX_ALLOWED_NETWORKS = 64;
    /// @notice Every defined service bit.
    uint8 internal constant ALL_SERVICES = 0x0F;

    /// @notice What a decision depends on besides the device and its policy: the time and the facts of the
    /// (home, visited) pair at that time. Facts about the visited network that a decision must weigh (a
    /// per-reporter flag, for instance) belong here.
    /// @param time The time decided for (the block time).
    /// @param agreementActive Home and visited both active and an agreement version in force at `time`.
    /// @param pricedClasses The tariff classes `visited` prices for home's devices in that version (bit c).
    struct Context {
        uint256 time;
        bool agreementActive;
        uint256 pricedClasses;
    }

    /// @notice Empty string when the definition is valid, else the name of the first invalid field.
    function invalidField(Policy calldata p) internal pure returns (string memory) {
        if (!p.owner.isValid()) return "owner";
        if (p.services & ~ALL_SERVICES != 0) return "services";
        if (p.validUntil != 0 && p.validUntil <= p.validFrom) return "validUntil";
        if (p.dailyBytesCap != 0 && p.monthlyBytesCap != 0 && p.dailyBytesCap > p.monthlyBytesCap) {
            return "dailyBytesCap";
        }
        if (p.dailyEventsCap != 0 && p.monthlyEventsCap != 0 && p.dailyEventsCap > p.monthlyEventsCap) {
            return "dailyEventsCap";
        }
        uint256 n = p.allowedNetworks.length;
        if (n > MAX_ALLOWED_NETWORKS) return "allowedNetworks";
        for (uint256 i = 0; i < n; ++i) {
            if (!p.allowedNetworks[i].isValid() || p.allowedNetworks[i].eq(p.owner)) return "allowedNetworks";
        }
        return "";
    }

    /// @notice The context of a decision for a device of `home` in `visited` now, read from `agreements`.
    /// @param known Whether the device exists: the agreements are not consulted for an unknown one.
    function context(
        IRoamingAgreements agreements,
        PlmnId home,
        PlmnId visited,
        bool known
    ) internal view returns (Context memory ctx) {
        ctx.time = block.timestamp;
        if (!known) return ctx;
        uint40 time = uint40(block.timestamp);
        ctx.agreementActive = agreements.hasActiveAgreement(home, visited, time);
        if (ctx.agreementActive) ctx.pricedClasses = agreements.pricedClassesAt(home, visited, time);
    }

    /// @notice May `visited` serve `service` to the device at `ctx.time`, may it steer it, must it route home.
    function decide(
        Device memory device,
        Policy memory policy,
        PlmnId visited,
        Service service,
        Context memory ctx
    ) internal pure returns (Decision memory d) {
        d.steerable = !policy.missionCritical;
        d.homeRouted = policy.routing == Routing.HomeRouted;
        d.tariffClass = policy.tariffClass;
        d.policyVersion = device.policyVersion;
        d.reason = _denyReason(device, policy, visited, service, ctx);
        d.serve = d.reason == DenyReason.None;
    }

    function _denyReason(
        Device memory device,
        Policy memory policy,
        PlmnId visited,
        Service service,
        Context memory ctx
    ) private pure returns (DenyReason) {
        if (device.status == DeviceStatus.None) return DenyReason.UnknownDevice;
        if (device.status == DeviceStatus.Suspended) return DenyReason.DeviceSuspended;
        if (device.status == DeviceStatus.FraudFlagged) return DenyReason.DeviceFraudFlagged;
        if (ctx.time < policy.validFrom) return DenyReason.PolicyNotYetValid;
        if (policy.validUntil != 0 && ctx.time >= policy.validUntil) return DenyReason.PolicyExpired;
        if (service != Service.Signalling && policy.services & (uint8(1) << uint8(service)) == 0) {
            return DenyReason.ServiceNotAllowed;
        }
        if (!_networkAllowed(policy.allowedNetworks, visited)) return DenyReason.NetworkNotAllowed;
        if (!ctx.agreementActive) return DenyReason.NoAgreement;
        if (ctx.pricedClasses & (uint256(1) << policy.tariffClass) == 0) return DenyReason.ClassNotPriced;
        return DenyReason.None;
    }

    function _networkAllowed(PlmnId[] memory allowed, PlmnId visited) private pure returns (bool) {
        if (allowed.length == 0) return true;
        for (uint256 i = 0; i < allowed.length; ++i) {
            if (allowed[i].eq(visited)) return true;
        }
        return false;
    }
}
