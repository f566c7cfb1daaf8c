// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {PlmnId} from "../../contracts/types/PlmnId.sol";

/// @notice Stands in for a zero-knowledge claim adjudicator: accepts exactly the proof the test sets for a
/// (payer, payee, agreement version, totals commitment, net).
contract ClaimAdjudicator__Mock {
    mapping(bytes32 key => bytes32 proofHash) private _proofs;

    function setProof(
        PlmnId payer,
        PlmnId payee,
        uint32 agreementVersion,
        bytes32 totalsCommitment,
        uint256 net,
        bytes calldata proof
    ) external {
        _proofs[keccak256(abi.encode(payer, payee, agreementVersion, totalsCommitment, net))] = keccak256(proof);
    }

    function verify(
        PlmnId payer,
        PlmnId payee,
        uint32 agreementVersion,
        bytes32 totalsCommitment,
        uint256 net,
        bytes calldata proof
    ) external view returns (bool) {
        bytes32 expected = _proofs[keccak256(abi.encode(payer, payee, agreementVersion, totalsCommitment, net))];
        return expected != bytes32(0) && expected == keccak256(proof);
    }
}
