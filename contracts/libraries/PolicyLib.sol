// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";
import {PlmnLib} from "./PlmnLib.sol";
import {Device, DeviceStatus, Policy, Decision, DenyReason, Service, Routing} from "../types/DeviceTypes.sol";

/// @notice Validation of policy definitions and the serve/steer/route decision for a visited network.
library PolicyLib {
    using PlmnLib for PlmnId;

    /// @notice Most visited networks one policy may list.
    uint256 internal constant MAX_ALLOWED_NETWORKS = 64;
    /// @notice Every defined service bit.
    uint8 internal constant ALL_SERVICES = 0x0F;

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

    /// @notice May `visited` serve `service` to the device at `time`, may it steer it, must it route home.
    /// @param agreementActive Whether home and visited have a roaming agreement in force at `time`.
    function decide(
        Device memory device,
        Policy memory policy,
        PlmnId visited,
        Service service,
        uint256 time,
        bool agreementActive
    ) internal pure returns (Decision memory d) {
        d.steerable = !policy.missionCritical;
        d.homeRouted = policy.routing == Routing.HomeRouted;
        d.tariffClass = policy.tariffClass;
        d.policyVersion = device.policyVersion;
        d.reason = _denyReason(device, policy, visited, service, time, agreementActive);
        d.serve = d.reason == DenyReason.None;
    }

    function _denyReason(
        Device memory device,
        Policy memory policy,
        PlmnId visited,
        Service service,
        uint256 time,
        bool agreementActive
    ) private pure returns (DenyReason) {
        if (device.status == DeviceStatus.None) return DenyReason.UnknownDevice;
        if (device.status == DeviceStatus.Suspended) return DenyReason.DeviceSuspended;
        if (device.status == DeviceStatus.FraudFlagged) return DenyReason.DeviceFraudFlagged;
        if (time < policy.validFrom) return DenyReason.PolicyNotYetValid;
        if (policy.validUntil != 0 && time >= policy.validUntil) return DenyReason.PolicyExpired;
        if (service != Service.Signalling && policy.services & (uint8(1) << uint8(service)) == 0) {
            return DenyReason.ServiceNotAllowed;
        }
        if (!_networkAllowed(policy.allowedNetworks, visited)) return DenyReason.NetworkNotAllowed;
        if (!agreementActive) return DenyReason.NoAgreement;
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
