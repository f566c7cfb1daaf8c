// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "./PlmnId.sol";

/// @notice A device's id, scoped by its home carrier: `keccak256(abi.encodePacked(home, localId))`, where
/// `home` is the home carrier's PLMN id (3 bytes) and `localId` is HMAC-SHA256 of the IMSI under the home
/// carrier's IMSI key (`roamledger/device-id/v1:` + IMSI, see lib/core/imsi.ts). The registry derives the
/// id from the registering member's own PLMN, so a carrier that copies local ids out of another carrier's
/// pending registration only ever creates devices of its own (F3). The IMSI itself never appears on-chain,
/// in clear or as a plain hash (IMSIs are guessable); only the home carrier and the partners it shared the
/// key with can compute the id from an IMSI.
type DeviceId is bytes32;

/// @notice The id of the device with local id `localId` (HMAC of its IMSI) of home carrier `home`.
function scopeDeviceId(PlmnId home, bytes32 localId) pure returns (DeviceId) {
    return DeviceId.wrap(keccak256(abi.encodePacked(home, localId)));
}
