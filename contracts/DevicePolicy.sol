// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IDevicePolicy} from "./interfaces/IDevicePolicy.sol";
import {IDeviceRegistry} from "./interfaces/IDeviceRegistry.sol";
import {IRoamingAgreements} from "./interfaces/IRoamingAgreements.sol";
import {PlmnId} from "./types/PlmnId.sol";
import {DeviceId} from "./types/DeviceId.sol";
import {PolicyId} from "./types/PolicyId.sol";
import {Device, DeviceStatus, Policy, Decision, Service} from "./types/DeviceTypes.sol";
import {PolicyLib} from "./libraries/PolicyLib.sol";

/// @title DevicePolicy
/// @notice Implementation behind every device's policy clone. Deployed once by the DeviceRegistry,
/// which is `REGISTRY`; the clone's immutable argument is its device id.
contract DevicePolicy is IDevicePolicy {
    IDeviceRegistry private immutable _REGISTRY;
    IRoamingAgreements private immutable _AGREEMENTS;
    address private immutable _SELF;

    /// @param agreements The agreements contract the registry consults.
    constructor(IRoamingAgreements agreements) {
        _REGISTRY = IDeviceRegistry(msg.sender);
        _AGREEMENTS = agreements;
        _SELF = address(this);
    }

    /// @inheritdoc IDevicePolicy
    function deviceId() public view returns (DeviceId) {
        require(address(this) != _SELF, DevicePolicyNotAClone());
        return DeviceId.wrap(bytes32(Clones.fetchCloneArgs(address(this))));
    }

    /// @inheritdoc IDevicePolicy
    function registry() external view returns (address) {
        return address(_REGISTRY);
    }

    /// @inheritdoc IDevicePolicy
    function decide(
        PlmnId visited,
        Service service
    ) external view returns (Decision memory decision, Policy memory policy) {
        Device memory device;
        (device, policy) = _REGISTRY.deviceWithPolicy(deviceId());
        // F4: the visited network's own standing fraud flag denies the device there (as the registry's decide).
        if (device.status == DeviceStatus.Active && _REGISTRY.flaggedBy(deviceId(), visited)) {
            device.status = DeviceStatus.FraudFlagged;
        }
        PolicyLib.Context memory ctx = PolicyLib.context(_AGREEMENTS, device.home, visited, true);
        decision = PolicyLib.decide(device, policy, visited, service, ctx);
    }

    /// @inheritdoc IDevicePolicy
    function current() external view returns (Device memory device, Policy memory policy) {
        return _REGISTRY.deviceWithPolicy(deviceId());
    }

    /// @inheritdoc IDevicePolicy
    function version(
        uint32 v
    ) external view returns (Policy memory policy, PolicyId policyId, uint40 since, uint40 until) {
        return _REGISTRY.policyVersion(deviceId(), v);
    }
}
