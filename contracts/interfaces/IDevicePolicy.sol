// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";
import {DeviceId} from "../types/DeviceId.sol";
import {PolicyId} from "../types/PolicyId.sol";
import {Device, Policy, Decision, Service} from "../types/DeviceTypes.sol";

/// @title A device's own policy contract.
/// @notice One per device, a CREATE2 minimal clone (ERC-1167 with the device id as immutable argument)
/// deployed by the DeviceRegistry at an address derived from the device id. A visited network asks it,
/// in one `eth_call`, whether it may serve a service now, whether it may steer the device under
/// congestion and whether it must home-route it, and reads the QoS needs and caps to enforce.
/// @dev Trust assumptions: the clone holds no state of its own; every answer is read from the
/// DeviceRegistry that deployed it (and the agreements it consults), so it changes as soon as the home
/// carrier updates the policy or suspends the device, or a partner flags it for fraud.
interface IDevicePolicy {
    /// @notice Called on the implementation rather than on a device's clone.
    error DevicePolicyNotAClone();

    /// @notice The device this contract speaks for.
    function deviceId() external view returns (DeviceId);

    /// @notice The registry holding the device's state.
    function registry() external view returns (address);

    /// @notice May `visited` serve `service` to this device now; may it steer; must it home-route.
    /// @return decision The answer, with the reason when it may not serve.
    /// @return policy The current policy definition (QoS needs, caps, tariff class).
    function decide(
        PlmnId visited,
        Service service
    ) external view returns (Decision memory decision, Policy memory policy);

    /// @notice The device record and its current policy definition.
    function current() external view returns (Device memory device, Policy memory policy);

    /// @notice A policy version and the window it applied in (`until` = 0 while current).
    function version(
        uint32 v
    ) external view returns (Policy memory policy, PolicyId policyId, uint40 since, uint40 until);
}
