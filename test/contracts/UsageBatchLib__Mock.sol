// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {UsageBatchLib} from "../../contracts/libraries/UsageBatchLib.sol";

/// @notice UsageBatchLib's positional proof and hash chains, callable on their own so that tests can check
/// lib/usage/merkle.ts against them.
contract UsageBatchLib__Mock {
    function processProof(bytes32[] calldata proof, uint256 index, bytes32 leaf) external pure returns (bytes32) {
        return UsageBatchLib.processProof(proof, index, leaf);
    }
}
