// SPDX-License-Identifier: UNLICENSED
// solhint-disable one-contract-per-file
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

/// @notice Permission bits of one operator account inside its member: what that key may do. A member
/// gives each key only what its job needs, so a leaked ingest key cannot move money.
library Permissions {
    /// @notice Manages the member's operators and their permissions, its encryption key, its governance
    /// votes and its roaming agreements.
    uint8 internal constant ADMIN = 1;
    /// @notice Moves money: withdrawals, the payout account, invoice signatures, claims and reveals.
    uint8 internal constant TREASURY = 2;
    /// @notice Operates usage: submits, accepts, rejects, disputes and expires batches, closes periods.
    uint8 internal constant USAGE = 4;
    /// @notice Operates devices: policies, registrations, suspensions, fraud flags, IMSI key shares.
    uint8 internal constant DEVICES = 8;
    /// @notice Every defined permission bit.
    uint8 internal constant ALL = ADMIN | TREASURY | USAGE | DEVICES;
}
