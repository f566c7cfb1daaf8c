// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {IRoamingAgreements} from "./interfaces/IRoamingAgreements.sol";
import {IGroth16Verifier} from "./interfaces/IGroth16Verifier.sol";
import {IRatingAdjudicator} from "./interfaces/IRatingAdjudicator.sol";
import {IClaimAdjudicator} from "./interfaces/ISettlementEscrow.sol";
import {PlmnId} from "./types/PlmnId.sol";
import {Permissions, Roles} from "./types/Roles.sol";

/// @title RatingAdjudicator
/// @notice See `IRatingAdjudicator`: claims decided by a Groth16 proof under the verifier the governors
/// approved for the agreement version's rating circuit.
contract RatingAdjudicator is IRatingAdjudicator {
    /// @notice 100 % in basis points.
    uint256 private constant BPS = 10_000;
    /// @notice Bytes of an encoded proof: 8 words.
    uint256 private constant PROOF_LENGTH = 256;

    ICarrierRegistry private immutable _REGISTRY;
    IRoamingAgreements private immutable _AGREEMENTS;

    mapping(uint16 circuit => Verifier) private _verifiers;
    mapping(bytes32 proposal => uint256) private _approvalCount;
    mapping(bytes32 proposal => mapping(PlmnId governor => bool)) private _approved;

    /// @param registry_ The consortium registry (governors, quorum, operators).
    /// @param agreements_ The agreements (each version names its rating circuit and commitments).
    constructor(ICarrierRegistry registry_, IRoamingAgreements agreements_) {
        require(address(registry_).code.length > 0, RatingAdjudicatorInvalidDependency(address(registry_)));
        require(address(agreements_).code.length > 0, RatingAdjudicatorInvalidDependency(address(agreements_)));
        _REGISTRY = registry_;
        _AGREEMENTS = agreements_;
    }

    /// @inheritdoc IRatingAdjudicator
    function proposeVerifier(uint16 circuit, IGroth16Verifier verifier, bytes32 transcriptHash) external {
        PlmnId governor = _requireGovernor();
        _requireOpen(circuit);
        require(
            address(verifier).code.length > 0 && transcriptHash != 0,
            RatingAdjudicatorInvalidVerifier(address(verifier), transcriptHash)
        );
        bytes32 keyHash = verifier.verificationKeyHash();
        require(keyHash != 0, RatingAdjudicatorInvalidVerifier(address(verifier), transcriptHash));
        bytes32 id = _proposalId(circuit, verifier, transcriptHash);
        require(_approvalCount[id] == 0, RatingAdjudicatorAlreadyApproved(circuit, governor));
        emit VerifierProposed(circuit, address(verifier), transcriptHash, keyHash, governor);
        _approve(id, circuit, verifier, transcriptHash, governor);
    }

    /// @inheritdoc IRatingAdjudicator
    function approveVerifier(uint16 circuit, IGroth16Verifier verifier, bytes32 transcriptHash) external {
        PlmnId governor = _requireGovernor();
        _requireOpen(circuit);
        bytes32 id = _proposalId(circuit, verifier, transcriptHash);
        require(
            _approvalCount[id] > 0,
            RatingAdjudicatorUnknownProposal(circuit, address(verifier), transcriptHash)
        );
        require(!_approved[id][governor], RatingAdjudicatorAlreadyApproved(circuit, governor));
        _approve(id, circuit, verifier, transcriptHash, governor);
    }

    /// @inheritdoc IClaimAdjudicator
    /// @dev Reads the version's circuit and the rating commitment of the payee's direction
    /// (`ratingCommitmentOf`). False (never a revert) for a version without a circuit, a circuit without a trusted
    /// verifier, a malformed proof or a proof the verifier refuses.
    function verify(
        PlmnId payer,
        PlmnId payee,
        uint32 agreementVersion,
        bytes32 totalsCommitment,
        uint256 net,
        bytes calldata proof
    ) external view returns (bool) {
        (uint16 circuit, bytes32 termsCommitment) = _AGREEMENTS.ratingCommitmentOf(payer, payee, agreementVersion);
        IGroth16Verifier verifier = _verifiers[circuit].verifier;
        if (circuit == 0 || address(verifier) == address(0) || proof.length != PROOF_LENGTH) return false;
        return _check(verifier, proof, [uint256(termsCommitment), uint256(totalsCommitment), net]);
    }

    /// @inheritdoc IRatingAdjudicator
    function verifierOf(uint16 circuit) external view returns (Verifier memory) {
        return _verifiers[circuit];
    }

    /// @inheritdoc IRatingAdjudicator
    function approvals(
        uint16 circuit,
        IGroth16Verifier verifier,
        bytes32 transcriptHash,
        PlmnId governor
    ) external view returns (uint256 count, bool approvedByGovernor) {
        bytes32 id = _proposalId(circuit, verifier, transcriptHash);
        return (_approvalCount[id], _approved[id][governor]);
    }

    /// @dev `proof` (abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)) checked by `verifier`.
    function _check(
        IGroth16Verifier verifier,
        bytes calldata proof,
        uint256[3] memory input
    ) private view returns (bool) {
        (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c) = abi.decode(
            proof,
            (uint256[2], uint256[2][2], uint256[2])
        );
        return verifier.verifyProof(a, b, c, input);
    }

    /// @dev Records `governor`'s approval; trusts the verifier at quorum.
    function _approve(
        bytes32 id,
        uint16 circuit,
        IGroth16Verifier verifier,
        bytes32 transcriptHash,
        PlmnId governor
    ) private {
        _approved[id][governor] = true;
        uint256 count = ++_approvalCount[id];
        emit VerifierApproved(circuit, address(verifier), transcriptHash, governor);
        uint256 required = (_REGISTRY.activeGovernorCount() * _REGISTRY.thresholdBps() + BPS - 1) / BPS;
        if (count < required) return;
        bytes32 keyHash = verifier.verificationKeyHash();
        _verifiers[circuit] = Verifier(verifier, transcriptHash, keyHash, uint40(block.timestamp));
        emit VerifierTrusted(circuit, address(verifier), transcriptHash);
    }

    /// @dev The sender's member: an active governor, the sender holding ADMIN.
    function _requireGovernor() private view returns (PlmnId) {
        return _REGISTRY.requireOperator(msg.sender, Roles.GOVERNOR, Permissions.ADMIN);
    }

    /// @dev Reverts for circuit 0 and for a circuit that already has its verifier.
    function _requireOpen(uint16 circuit) private view {
        require(circuit != 0, RatingAdjudicatorInvalidCircuit(circuit));
        address trusted = address(_verifiers[circuit].verifier);
        require(trusted == address(0), RatingAdjudicatorAlreadyTrusted(circuit, trusted));
    }

    /// @dev A proposal's id.
    function _proposalId(
        uint16 circuit,
        IGroth16Verifier verifier,
        bytes32 transcriptHash
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(circuit, verifier, transcriptHash));
    }
}
