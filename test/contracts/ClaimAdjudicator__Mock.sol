// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

/// @notice Stands in for a zero-knowledge claim adjudicator: accepts exactly the proof the test sets for a
/// (terms commitment, totals commitment, net).
contract ClaimAdjudicator__Mock {
    mapping(bytes32 key => bytes32 proofHash) private _proofs;

    function setProof(bytes32 termsCommitment, bytes32 totalsCommitment, uint256 net, bytes calldata proof) external {
        _proofs[keccak256(abi.encode(termsCommitment, totalsCommitment, net))] = keccak256(proof);
    }

    function verify(
        bytes32 termsCommitment,
        bytes32 totalsCommitment,
        uint256 net,
        bytes calldata proof
    ) external view returns (bool) {
        bytes32 expected = _proofs[keccak256(abi.encode(termsCommitment, totalsCommitment, net))];
        return expected != bytes32(0) && expected == keccak256(proof);
    }
}
