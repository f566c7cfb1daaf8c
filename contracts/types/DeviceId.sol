// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

/// @notice A device's id: HMAC-SHA256 of its IMSI under its home carrier's IMSI key. The IMSI itself
/// never appears on-chain, in clear or as a plain hash (IMSIs are guessable); only the home carrier
/// and the partners it shared the key with can compute the id from an IMSI.
type DeviceId is bytes32;
