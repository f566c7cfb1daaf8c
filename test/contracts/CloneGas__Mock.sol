// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

/// @notice Deploys policy clones exactly as DeviceRegistry does and nothing else, so a test can
/// measure what the per-device policy contract costs on its own.
contract CloneGas__Mock {
    function cloneMany(address implementation, bytes32[] calldata ids) external {
        for (uint256 i = 0; i < ids.length; ++i) {
            Clones.cloneDeterministicWithImmutableArgs(implementation, abi.encodePacked(ids[i]), ids[i]);
        }
    }
}
