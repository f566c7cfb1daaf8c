// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

/// @notice Stands in for a Groth16 verifier: accepts exactly the proof words and public inputs the test set,
/// and reports a fixed verification key hash.
contract Groth16Verifier__Mock {
    bytes32 public verificationKeyHash;
    bytes32 private _accepted;

    constructor(bytes32 keyHash) {
        verificationKeyHash = keyHash;
    }

    function accept(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[3] calldata input
    ) external {
        _accepted = keccak256(abi.encode(a, b, c, input));
    }

    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[3] calldata input
    ) external view returns (bool) {
        return _accepted != bytes32(0) && _accepted == keccak256(abi.encode(a, b, c, input));
    }
}
