// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {PlmnId} from "../../contracts/types/PlmnId.sol";

/// @notice Stands in for RoamingAgreements in the usage ledger's tests: the test says which pairs have an
/// agreement in force and which dispute window their terms give, and changes either at any time (an
/// amendment, a termination). The pair is unordered; the window is the same both ways.
contract RoamingAgreements__Mock {
    error RoamingAgreements__MockNoAgreement(PlmnId home, PlmnId visited);

    mapping(bytes32 pair => bool) private _active;
    mapping(bytes32 pair => uint32) private _window;

    /// @notice Puts an agreement between `a` and `b` in force (or ends it) with dispute window `window`.
    function setAgreement(PlmnId a, PlmnId b, bool active, uint32 window) external {
        _active[_pair(a, b)] = active;
        _window[_pair(a, b)] = window;
    }

    function hasActiveAgreement(PlmnId a, PlmnId b, uint40) external view returns (bool) {
        return _active[_pair(a, b)];
    }

    /// @notice As the real one: reverts when no agreement is in force.
    function disputeWindowAt(PlmnId home, PlmnId visited, uint40) external view returns (uint32) {
        bytes32 pair = _pair(home, visited);
        require(_active[pair], RoamingAgreements__MockNoAgreement(home, visited));
        return _window[pair];
    }

    function _pair(PlmnId a, PlmnId b) private pure returns (bytes32) {
        (bytes3 x, bytes3 y) = (PlmnId.unwrap(a), PlmnId.unwrap(b));
        return x < y ? keccak256(abi.encode(x, y)) : keccak256(abi.encode(y, x));
    }
}
