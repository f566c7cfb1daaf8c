// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @notice OpenZeppelin's `MerkleProof.verifyCalldata`, as UsageLedger uses it, callable on its own so that
/// tests can check proofs made by lib/usage/merkle.ts against it.
contract MerkleProof__Mock {
    function verify(bytes32[] calldata proof, bytes32 root, bytes32 leaf) external pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }
}
