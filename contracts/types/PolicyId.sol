// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

/// @notice Id of a policy definition in the DeviceRegistry, from 1 up; 0 is "no policy". A definition
/// is immutable and shared by every device (of the same home carrier) that uses it.
type PolicyId is uint64;
