// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";
import {IClaimAdjudicator} from "./ISettlementEscrow.sol";
import {IGroth16Verifier} from "./IGroth16Verifier.sol";

/// @title Decides payees' claims by zero-knowledge proof of the rating, with verifiers the governors approved.
/// @notice Each rating circuit (the rules of docs/settlement.md, compiled: `circuits/rating_v1.circom` is 1) has
/// at most one trusted verifier, whose verification key comes from the consortium's trusted-setup ceremony
/// (docs/zk.md). A governor proposes (circuit, verifier, transcript hash of the ceremony) and the governors
/// approve it by the registry's quorum; from then on the verifier decides every claim on an agreement version
/// that names that circuit, for good: a change of the rating rules is a new circuit and a new verifier, so the
/// invoices of older versions stay verifiable by the verifier they were rated under.
/// @dev Trust: the proof system is sound if at least one contributor of the ceremony was honest (kept no
/// toxic waste) and the recorded transcript is the one whose final key the verifier holds (a governor checks
/// `zk:ceremony:verify` and the verifier's `verificationKeyHash` before approving). A proof shows only that the
/// net is the rating of the totals the payee committed to in its invoice; that those totals are the ledger's
/// is for the payer to contest by a reveal before the proof is accepted (`SettlementEscrow.proveClaim`).
interface IRatingAdjudicator is IClaimAdjudicator {
    /// @notice A trusted verifier of a circuit.
    struct Verifier {
        IGroth16Verifier verifier;
        bytes32 transcriptHash;
        bytes32 verificationKeyHash;
        uint40 trustedAt;
    }

    /// @notice A governor proposed `verifier` for `circuit` with the ceremony transcript `transcriptHash`.
    event VerifierProposed(
        uint16 indexed circuit,
        address indexed verifier,
        bytes32 transcriptHash,
        bytes32 verificationKeyHash,
        PlmnId proposer
    );
    /// @notice A governor approved the proposal (the proposer's approval is implied).
    event VerifierApproved(uint16 indexed circuit, address indexed verifier, bytes32 transcriptHash, PlmnId governor);
    /// @notice The quorum approved: `verifier` decides the claims of `circuit` from now on.
    event VerifierTrusted(uint16 indexed circuit, address indexed verifier, bytes32 transcriptHash);

    /// @notice Circuit 0 means "no circuit".
    error RatingAdjudicatorInvalidCircuit(uint16 circuit);
    /// @notice The circuit already has a trusted verifier; new rules take a new circuit number.
    error RatingAdjudicatorAlreadyTrusted(uint16 circuit, address verifier);
    /// @notice The verifier is not a contract, or its key hash is zero, or the transcript hash is zero.
    error RatingAdjudicatorInvalidVerifier(address verifier, bytes32 transcriptHash);
    /// @notice No governor proposed this (circuit, verifier, transcript).
    error RatingAdjudicatorUnknownProposal(uint16 circuit, address verifier, bytes32 transcriptHash);
    /// @notice This governor already approved the proposal.
    error RatingAdjudicatorAlreadyApproved(uint16 circuit, PlmnId governor);
    /// @notice A constructor argument is not a contract.
    error RatingAdjudicatorInvalidDependency(address account);

    /// @notice Proposes `verifier` as the verifier of `circuit`, built by the ceremony whose transcript hash is
    /// `transcriptHash`, and approves it. Sender: an ADMIN operator of an active governor. Several proposals
    /// for one circuit may stand; the first to reach quorum is trusted.
    function proposeVerifier(uint16 circuit, IGroth16Verifier verifier, bytes32 transcriptHash) external;

    /// @notice Approves the proposal (restated in full, so a replaced or different proposal cannot take the
    /// vote). Sender: an ADMIN operator of an active governor that has not approved it yet. Trusts the
    /// verifier when the approvals reach `ceil(activeGovernorCount * thresholdBps / 10000)`.
    function approveVerifier(uint16 circuit, IGroth16Verifier verifier, bytes32 transcriptHash) external;

    /// @notice The trusted verifier of `circuit` (zero fields: none yet).
    function verifierOf(uint16 circuit) external view returns (Verifier memory);

    /// @notice Approvals of a proposal so far, and whether `governor` gave one.
    function approvals(
        uint16 circuit,
        IGroth16Verifier verifier,
        bytes32 transcriptHash,
        PlmnId governor
    ) external view returns (uint256 count, bool approvedByGovernor);
}
