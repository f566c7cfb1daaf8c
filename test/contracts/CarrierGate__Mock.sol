// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ICarrierRegistry} from "../../contracts/interfaces/ICarrierRegistry.sol";
import {PlmnId} from "../../contracts/types/PlmnId.sol";

/// @notice Stands in for the CarrierRegistry in front of a DeviceRegistry under test: membership and
/// roles come from the real registry, while the emergency pause and each key's permission bits are set
/// here, so the device registry's use of `paused()` and `requireOperator(..., permission)` can be tested
/// whatever the registry's own implementation of them.
contract CarrierGate__Mock {
    ICarrierRegistry private immutable _REAL;
    bool public paused;
    mapping(address account => uint8) private _denied;

    error CarrierRegistryMissingPermission(address account, PlmnId plmn, uint8 permission);

    constructor(ICarrierRegistry real) {
        _REAL = real;
    }

    function setPaused(bool value) external {
        paused = value;
    }

    /// @notice Takes `permissions` away from `account` (it keeps every other bit).
    function deny(address account, uint8 permissions) external {
        _denied[account] = permissions;
    }

    function requireOperator(address account, uint8 role, uint8 permission) external view returns (PlmnId plmn) {
        plmn = _REAL.requireActiveOperator(account, role);
        require(_denied[account] & permission == 0, CarrierRegistryMissingPermission(account, plmn, permission));
    }

    function requireDefendingOperator(address account, uint8 role, uint8 permission) external view returns (PlmnId plmn) {
        plmn = _REAL.requireDefendingOperator(account, role, permission);
        require(_denied[account] & permission == 0, CarrierRegistryMissingPermission(account, plmn, permission));
    }

    function hasRole(PlmnId plmn, uint8 role) external view returns (bool) {
        return _REAL.hasRole(plmn, role);
    }
}
