// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IUsageLedger} from "./interfaces/IUsageLedger.sol";
import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {IRoamingAgreements} from "./interfaces/IRoamingAgreements.sol";
import {UsageBatchLib} from "./libraries/UsageBatchLib.sol";
import {PeriodLib} from "./libraries/PeriodLib.sol";
import {PlmnLib} from "./libraries/PlmnLib.sol";
import {PlmnId} from "./types/PlmnId.sol";
import {Permissions, Roles} from "./types/Roles.sol";
import {UsageRecord, UsageBatch, BatchStatus, BatchInfo, PeriodInfo} from "./types/UsageTypes.sol";

/// @title UsageLedger
/// @notice Usage batch headers that commit to their records and totals, their decisions and disputes, and
/// periods that close in constant cost.
/// @dev Invariant that spares checks: a closed period has no `Submitted` batch and takes none (closing needs
/// `pending == 0` and the submission deadline passed), so every decision and dispute, which needs a
/// `Submitted` batch, leaves closed periods alone.
contract UsageLedger is IUsageLedger, EIP712 {
    using PlmnLib for PlmnId;

    /// @inheritdoc IUsageLedger
    uint32 public constant MAX_BATCHES_PER_PERIOD = 2048;
    /// @inheritdoc IUsageLedger
    uint256 public constant MAX_DECISIONS = 256;
    /// @inheritdoc IUsageLedger
    uint256 public constant MAX_DISPUTES = 256;
    /// @inheritdoc IUsageLedger
    uint8 public constant MAX_TREE_DEPTH = 24;
    /// @inheritdoc IUsageLedger
    uint32 public constant MAX_SUBMISSION_GRACE = 90 days;

    ICarrierRegistry private immutable _CARRIER_REGISTRY;
    IRoamingAgreements private immutable _ROAMING_AGREEMENTS;
    uint32 private immutable _SUBMISSION_GRACE;

    mapping(bytes32 batchId => BatchInfo) private _batches;
    /// @dev Keyed by `_periodKey(home, visited, period)`, as the two mappings below.
    mapping(uint256 periodKey => PeriodInfo) private _periods;
    mapping(uint256 periodKey => mapping(uint32 index => bytes32 batchId)) private _countedBatches;
    mapping(bytes32 batchId => uint32[]) private _disputedIndexes;
    mapping(bytes32 batchId => mapping(uint32 leafIndex => bytes32 leaf)) private _disputedLeaves;

    /// @param carrierRegistry_ The consortium registry: who acts for which member.
    /// @param roamingAgreements_ The agreements: which pairs may bill each other, and their dispute windows.
    /// @param submissionGrace_ Seconds after a period's end during which its batches are still taken (at most
    /// `MAX_SUBMISSION_GRACE`).
    constructor(
        ICarrierRegistry carrierRegistry_,
        IRoamingAgreements roamingAgreements_,
        uint32 submissionGrace_
    ) EIP712("RoamLedger UsageLedger", "1") {
        require(address(carrierRegistry_).code.length > 0, UsageLedgerInvalidDependency(address(carrierRegistry_)));
        require(
            address(roamingAgreements_).code.length > 0,
            UsageLedgerInvalidDependency(address(roamingAgreements_))
        );
        require(submissionGrace_ <= MAX_SUBMISSION_GRACE, UsageLedgerInvalidGrace(submissionGrace_));
        _CARRIER_REGISTRY = carrierRegistry_;
        _ROAMING_AGREEMENTS = roamingAgreements_;
        _SUBMISSION_GRACE = submissionGrace_;
    }

    // ------------------------------------------------------------------------------------------------
    // Visited carrier
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc IUsageLedger
    function submitBatch(UsageBatch calldata batch, bytes calldata signature) external returns (bytes32 batchId) {
        require(!_CARRIER_REGISTRY.paused(), UsageLedgerPaused());
        PlmnId home = batch.home;
        PlmnId visited = batch.visited;
        PeriodInfo storage p = _periods[_periodKey(home, visited, batch.period)];
        _requireTakesBatches(p, home, visited, batch.period);
        require(
            batch.merkleRoot != 0 &&
                batch.payloadHash != 0 &&
                batch.totalsCommitment != 0 &&
                batch.treeDepth <= MAX_TREE_DEPTH,
            UsageLedgerInvalidHeader()
        );
        batchId = UsageBatchLib.hash(batch);
        address signer = _recover(_hashTypedDataV4(batchId), signature);
        _requireSignerOf(signer, visited);
        uint40 time = uint40(block.timestamp);
        require(_ROAMING_AGREEMENTS.hasActiveAgreement(home, visited, time), UsageLedgerNoAgreement(home, visited));
        BatchInfo storage info = _batches[batchId];
        require(info.status == BatchStatus.None, UsageLedgerBatchExists(batchId));
        // Fixed now: an amendment accepted later never moves it (THREATS F7).
        uint40 windowEnd = time + _ROAMING_AGREEMENTS.disputeWindowAt(home, visited, time);

        _store(info, batch, windowEnd);
        p.batchCount += 1;
        p.pending += 1;
        p.lastSubmittedAt = time;
        _logSubmitted(batchId, batch, windowEnd, signer);
    }

    // ------------------------------------------------------------------------------------------------
    // Home carrier
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc IUsageLedger
    function acceptBatches(bytes32[] calldata batchIds) external {
        PlmnId caller = _homeCaller(batchIds.length, MAX_DECISIONS);
        for (uint256 i = 0; i < batchIds.length; ++i) {
            bytes32 batchId = batchIds[i];
            BatchInfo storage info = _submittedOf(batchId, caller);
            info.status = BatchStatus.Accepted;
            _count(batchId, info);
            emit UsageBatchAccepted(batchId, caller);
        }
    }

    /// @inheritdoc IUsageLedger
    function rejectBatches(bytes32[] calldata batchIds, uint8 reason) external {
        PlmnId caller = _homeCaller(batchIds.length, MAX_DECISIONS);
        for (uint256 i = 0; i < batchIds.length; ++i) {
            bytes32 batchId = batchIds[i];
            BatchInfo storage info = _submittedOf(batchId, caller);
            _requireWindowOpen(batchId, info.windowEnd);
            info.status = BatchStatus.Rejected;
            PeriodInfo storage p = _periods[_periodKey(info.home, info.visited, info.period)];
            p.rejected += 1;
            p.pending -= 1;
            emit UsageBatchRejected(batchId, caller, reason);
        }
    }

    /// @inheritdoc IUsageLedger
    function disputeRecords(bytes32 batchId, RecordDispute[] calldata disputes) external {
        PlmnId caller = _homeCaller(disputes.length, MAX_DISPUTES);
        BatchInfo storage info = _submittedOf(batchId, caller);
        _requireWindowOpen(batchId, info.windowEnd);
        bytes32 root = info.merkleRoot;
        uint256 depth = info.treeDepth;
        bytes32 chain = info.disputeHash;
        mapping(uint32 leafIndex => bytes32 leaf) storage leaves = _disputedLeaves[batchId];
        uint32[] storage indexes = _disputedIndexes[batchId];
        for (uint256 i = 0; i < disputes.length; ++i) {
            RecordDispute calldata d = disputes[i];
            (uint32 index, bytes32 leaf) = (d.leafIndex, d.leaf);
            // Zero leaves are the padding of the tree: no record to dispute there.
            require(
                leaf != 0 &&
                    uint256(index) >> depth == 0 &&
                    d.proof.length == depth &&
                    UsageBatchLib.processProof(d.proof, index, leaf) == root,
                UsageLedgerRecordNotInBatch(batchId, index, leaf)
            );
            require(leaves[index] == 0, UsageLedgerRecordAlreadyDisputed(batchId, index));
            leaves[index] = leaf;
            indexes.push(index);
            chain = UsageBatchLib.chainDispute(chain, index, leaf);
            emit UsageRecordDisputed(batchId, index, leaf, d.reason);
        }
        info.disputeHash = chain;
        info.disputeCount += uint32(disputes.length);
    }

    // ------------------------------------------------------------------------------------------------
    // Anyone
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc IUsageLedger
    /// @dev No role is checked: expiring records what time has already made true (the window ended with no
    /// decision) and changes no outcome, and only members send transactions on the chain. A carrier that
    /// governance suspended can still have its partner's batches counted by anyone, so no suspension can
    /// hold a period open.
    function expireBatches(bytes32[] calldata batchIds) external {
        uint256 n = batchIds.length;
        require(n <= MAX_DECISIONS, UsageLedgerTooMany(n, MAX_DECISIONS));
        for (uint256 i = 0; i < n; ++i) {
            bytes32 batchId = batchIds[i];
            BatchInfo storage info = _batches[batchId];
            BatchStatus status = info.status;
            require(status != BatchStatus.None, UsageLedgerUnknownBatch(batchId));
            require(status == BatchStatus.Submitted, UsageLedgerBatchNotOpen(batchId, uint8(status)));
            uint40 windowEnd = info.windowEnd;
            require(block.timestamp >= windowEnd, UsageLedgerDisputeWindowOpen(batchId, windowEnd));
            info.status = BatchStatus.Expired;
            _count(batchId, info);
            emit UsageBatchExpired(batchId, info.home);
        }
    }

    /// @inheritdoc IUsageLedger
    /// @dev Reads and writes one period slot whatever the number of batches. The agreement is not checked:
    /// a termination accepted later must not keep a period from closing (THREATS F7).
    function closePeriod(PlmnId home, PlmnId visited, uint32 period) external returns (bytes32 accumulator) {
        PeriodInfo storage p = _periods[_periodKey(home, visited, period)];
        if (p.closed) return p.accumulator;
        uint40 deadline = _submissionDeadline(period);
        require(block.timestamp >= deadline, UsageLedgerPeriodNotOver(period, deadline));
        uint32 pending = p.pending;
        require(pending == 0, UsageLedgerBatchesPending(pending));
        p.closed = true;
        p.closedAt = uint40(block.timestamp);
        accumulator = p.accumulator;
        emit PeriodClosed(home, visited, period, accumulator, p.counted);
    }

    // ------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc IUsageLedger
    function hashBatch(UsageBatch calldata batch) external pure returns (bytes32) {
        return UsageBatchLib.hash(batch);
    }

    /// @inheritdoc IUsageLedger
    function batchDigest(UsageBatch calldata batch) external view returns (bytes32) {
        return _hashTypedDataV4(UsageBatchLib.hash(batch));
    }

    /// @inheritdoc IUsageLedger
    function leafOf(UsageRecord calldata record, bytes32 salt) external pure returns (bytes32) {
        return UsageBatchLib.leaf(record, salt);
    }

    /// @inheritdoc IUsageLedger
    function getBatch(bytes32 batchId) external view returns (BatchInfo memory) {
        return _batches[batchId];
    }

    /// @inheritdoc IUsageLedger
    function getPeriod(PlmnId home, PlmnId visited, uint32 period) external view returns (PeriodInfo memory) {
        return _periods[_periodKey(home, visited, period)];
    }

    /// @inheritdoc IUsageLedger
    function countedBatch(PlmnId home, PlmnId visited, uint32 period, uint32 index) external view returns (bytes32) {
        return _countedBatches[_periodKey(home, visited, period)][index];
    }

    /// @inheritdoc IUsageLedger
    function disputedIndexes(bytes32 batchId) external view returns (uint32[] memory) {
        return _disputedIndexes[batchId];
    }

    /// @inheritdoc IUsageLedger
    function disputedLeaf(bytes32 batchId, uint32 leafIndex) external view returns (bytes32) {
        return _disputedLeaves[batchId][leafIndex];
    }

    /// @inheritdoc IUsageLedger
    function periodBounds(uint32 period) external pure returns (uint40 start, uint40 end) {
        require(PeriodLib.isValid(period), UsageLedgerInvalidPeriod(period));
        return PeriodLib.bounds(period);
    }

    /// @inheritdoc IUsageLedger
    function submissionDeadline(uint32 period) external view returns (uint40) {
        return _submissionDeadline(period);
    }

    /// @inheritdoc IUsageLedger
    function submissionGrace() external view returns (uint32) {
        return _SUBMISSION_GRACE;
    }

    /// @inheritdoc IUsageLedger
    function carrierRegistry() external view returns (ICarrierRegistry) {
        return _CARRIER_REGISTRY;
    }

    /// @inheritdoc IUsageLedger
    function roamingAgreements() external view returns (IRoamingAgreements) {
        return _ROAMING_AGREEMENTS;
    }

    // ------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------

    /// @dev The period is valid, open (started, not closed, before its deadline) and below the batch cap.
    function _requireTakesBatches(PeriodInfo storage p, PlmnId home, PlmnId visited, uint32 period) private view {
        require(!p.closed, UsageLedgerPeriodClosed(home, visited, period));
        uint40 deadline = _submissionDeadline(period);
        uint40 opensAt = PeriodLib.start(period);
        require(
            block.timestamp >= opensAt && block.timestamp < deadline,
            UsageLedgerSubmissionClosed(period, opensAt, deadline)
        );
        require(p.batchCount < MAX_BATCHES_PER_PERIOD, UsageLedgerTooManyBatches(MAX_BATCHES_PER_PERIOD));
    }

    /// @dev Writes a new `Submitted` batch: its first slot in one word, then root and commitment.
    function _store(BatchInfo storage info, UsageBatch calldata batch, uint40 windowEnd) private {
        info.visited = batch.visited;
        info.home = batch.home;
        info.period = batch.period;
        info.status = BatchStatus.Submitted;
        info.submittedAt = uint40(block.timestamp);
        info.windowEnd = windowEnd;
        info.treeDepth = batch.treeDepth;
        info.merkleRoot = batch.merkleRoot;
        info.totalsCommitment = batch.totalsCommitment;
    }

    function _logSubmitted(bytes32 batchId, UsageBatch calldata batch, uint40 windowEnd, address signer) private {
        emit UsageBatchSubmitted(
            batchId,
            batch.visited,
            batch.home,
            batch.period,
            batch.merkleRoot,
            batch.treeDepth,
            batch.payloadHash,
            batch.totalsCommitment,
            windowEnd,
            signer
        );
    }

    /// @dev Counts an accepted or expired batch: appends it to its period's counted list and accumulator.
    function _count(bytes32 batchId, BatchInfo storage info) private {
        uint256 key = _periodKey(info.home, info.visited, info.period);
        PeriodInfo storage p = _periods[key];
        uint32 index = p.counted;
        _countedBatches[key][index] = batchId;
        p.accumulator = UsageBatchLib.accumulate(
            p.accumulator,
            batchId,
            info.totalsCommitment,
            info.disputeCount,
            info.disputeHash
        );
        p.counted = index + 1;
        p.pending -= 1;
    }

    /// @dev At most `max` items, sent by a USAGE operator of a carrier, suspended or not (THREATS F5: a
    /// suspended home keeps its decisions and disputes): the carrier.
    function _homeCaller(uint256 count, uint256 max) private view returns (PlmnId) {
        require(count <= max, UsageLedgerTooMany(count, max));
        return _CARRIER_REGISTRY.requireDefendingOperator(msg.sender, Roles.CARRIER, Permissions.USAGE);
    }

    /// @dev The batch exists, `caller` is its home carrier, and it is `Submitted`.
    function _submittedOf(bytes32 batchId, PlmnId caller) private view returns (BatchInfo storage info) {
        info = _batches[batchId];
        BatchStatus status = info.status;
        require(status != BatchStatus.None, UsageLedgerUnknownBatch(batchId));
        require(info.home.eq(caller), UsageLedgerNotHome(msg.sender, info.home));
        require(status == BatchStatus.Submitted, UsageLedgerBatchNotOpen(batchId, uint8(status)));
    }

    function _requireWindowOpen(bytes32 batchId, uint40 windowEnd) private view {
        require(block.timestamp < windowEnd, UsageLedgerDisputeWindowOver(batchId, windowEnd));
    }

    /// @dev The signer of a 65-byte signature (r, s, v) of `digest`; no malleable `s` (OpenZeppelin ECDSA).
    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        require(signature.length == 65, UsageLedgerInvalidSignature());
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        ECDSA.RecoverError err;
        (signer, err, ) = ECDSA.tryRecover(digest, v, r, s);
        require(err == ECDSA.RecoverError.NoError, UsageLedgerInvalidSignature());
    }

    /// @dev The signer must be a USAGE operator of the active CARRIER member `visited`; any registry refusal
    /// (not an operator, suspended, missing role or permission) reads as the same error.
    function _requireSignerOf(address signer, PlmnId visited) private view {
        bool ok;
        try _CARRIER_REGISTRY.requireOperator(signer, Roles.CARRIER, Permissions.USAGE) returns (PlmnId member) {
            ok = member.eq(visited);
        } catch {
            ok = false;
        }
        require(ok, UsageLedgerSignerNotVisited(signer, visited));
    }

    /// @dev End of the period + the grace; reverts for an invalid period.
    function _submissionDeadline(uint32 period) private view returns (uint40) {
        require(PeriodLib.isValid(period), UsageLedgerInvalidPeriod(period));
        (, uint40 end) = PeriodLib.bounds(period);
        return end + _SUBMISSION_GRACE;
    }

    /// @dev One word, no hashing: home (24 bits) | visited (24 bits) | period (32 bits).
    function _periodKey(PlmnId home, PlmnId visited, uint32 period) private pure returns (uint256) {
        return
            (uint256(uint24(PlmnId.unwrap(home))) << 56) | (uint256(uint24(PlmnId.unwrap(visited))) << 32) | period;
    }
}
