// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

/// @notice Role bits of a consortium member; a member may hold several.
library Roles {
    /// @notice Serves and owns roaming SIMs: registers devices, signs agreements, bills and pays.
    uint8 internal constant CARRIER = 1;
    /// @notice Builds IoT devices; reads the roaming status and alerts of its own fleet.
    uint8 internal constant DEVICE_MAKER = 2;
    /// @notice Votes on admission and suspension of members.
    uint8 internal constant GOVERNOR = 4;
    /// @notice Every defined role bit.
    uint8 internal constant ALL = CARRIER | DEVICE_MAKER | GOVERNOR;
}
