// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";
import {UsageRecord, UsageBatch, BatchInfo, PeriodInfo} from "../types/UsageTypes.sol";
import {ICarrierRegistry} from "./ICarrierRegistry.sol";
import {IRoamingAgreements} from "./IRoamingAgreements.sol";

/// @title The ledger of roaming usage: signed batches that commit to their records and totals, decisions,
/// disputes by record index, and periods that always close.
/// @notice A visited carrier commits its usage records for one home carrier and period in batches. A batch
/// header (`UsageBatch`) is public but carries no volume: a Merkle root over the records, the tree depth,
/// the hash of the sealed payload and a salted commitment to the batch's totals. The records, the totals and
/// the salt travel sealed with the pair's key (docs/confidentiality.md). The home carrier opens the payload,
/// checks that it opens the commitments, and accepts the batch, rejects it, or disputes single records by
/// (leaf index, leaf, proof): the record's contents never reach calldata. A batch not decided within its
/// dispute window (fixed at submission) expires, which counts as accepted; anyone may record that.
/// @dev Trust assumptions and liveness:
/// - Authorization comes from `ICarrierRegistry`: the batch is signed (EIP-712, domain bound to chain id
///   and this contract) by an operator of the visited carrier that holds `Permissions.USAGE`, its member
///   active; home-side actions (accept, reject, dispute) are sent by an operator of the home carrier that
///   holds `Permissions.USAGE`. A TREASURY-only key signs no batch; a USAGE key moves no money (the escrow
///   asks for TREASURY).
/// - Suspension (THREATS F5): a suspended home keeps its defences: it accepts, rejects and disputes its
///   pending batches (`requireDefendingOperator`), so its partners' dispute windows keep running and nothing
///   needs to pause or freeze. A suspended visited carrier submits no new batch (its signer must be an
///   operator of an active member); its batches already submitted are decided, expire and count as usual.
/// - Emergency pause (`ICarrierRegistry.paused`): `submitBatch` waits (`UsageLedgerPaused`); accepting,
///   rejecting, disputing, expiring and closing continue, so a dispute window that ends during a pause costs
///   the home nothing it could not do. A pause that spans a period's submission deadline keeps that period's
///   late batches out for good: governance lifts a pause before month end + `submissionGrace`, or the pair
///   settles those batches off chain (a pause lifts itself after the registry's `MAX_PAUSE`).
/// - A batch is only taken between carriers with an agreement in force (`hasActiveAgreement`), from the
///   period's start until its submission deadline (period end + `submissionGrace`), and at most
///   `MAX_BATCHES_PER_PERIOD` per (home, visited, period).
/// - A period keeps a running account as its batches are decided (`PeriodInfo`): counts and an accumulator
///   over the counted batches' commitments and disputes. Closing reads only that account: it costs the same
///   for 1 or `MAX_BATCHES_PER_PERIOD` batches, and needs no batch list. It is possible once the deadline
///   has passed and no batch is pending; every pending batch can be expired by anyone at its window's end,
///   so every period can close by its deadline + `MAX_DISPUTE_WINDOW`.
/// - The agreement is checked only at submission: deciding, disputing, expiring and closing work after a
///   termination too, so a termination accepted later cannot hold a period open (THREATS F7).
/// - Anyone may expire a batch and close a period: both only record what time has made true, and no
///   suspension of either carrier can stop them.
/// - Totals are the visited carrier's claim; the home carrier checks the commitment against the payload and
///   rejects the batch within the window when they differ. The contract never sees totals.
interface IUsageLedger {
    /// @notice A record disputed by the home carrier: its position, its leaf and the proof of the leaf at
    /// that position (`treeDepth` siblings, bottom up).
    struct RecordDispute {
        uint32 leafIndex;
        bytes32 leaf;
        bytes32[] proof;
        uint8 reason;
    }

    /// @notice A batch header was committed. `windowEnd` is when its dispute window closes.
    event UsageBatchSubmitted(
        bytes32 indexed batchId,
        PlmnId indexed visited,
        PlmnId indexed home,
        uint32 period,
        bytes32 merkleRoot,
        uint8 treeDepth,
        bytes32 payloadHash,
        bytes32 totalsCommitment,
        uint40 windowEnd,
        address signer
    );
    /// @notice The home carrier accepted the batch.
    event UsageBatchAccepted(bytes32 indexed batchId, PlmnId indexed home);
    /// @notice The batch's window ended undecided: it counts as accepted.
    event UsageBatchExpired(bytes32 indexed batchId, PlmnId indexed home);
    /// @notice The home carrier rejected the batch; it counts for nothing.
    event UsageBatchRejected(bytes32 indexed batchId, PlmnId indexed home, uint8 reason);
    /// @notice The home carrier disputed the record at `leafIndex` of the batch.
    event UsageRecordDisputed(bytes32 indexed batchId, uint32 indexed leafIndex, bytes32 leaf, uint8 reason);
    /// @notice The period was closed; `accumulator` is what its invoices bind to.
    event PeriodClosed(
        PlmnId indexed home,
        PlmnId indexed visited,
        uint32 indexed period,
        bytes32 accumulator,
        uint32 countedBatches
    );

    error UsageLedgerInvalidPeriod(uint32 period);
    error UsageLedgerInvalidSignature();
    error UsageLedgerSignerNotVisited(address signer, PlmnId visited);
    error UsageLedgerNoAgreement(PlmnId home, PlmnId visited);
    error UsageLedgerBatchExists(bytes32 batchId);
    error UsageLedgerUnknownBatch(bytes32 batchId);
    /// @notice The header is malformed: zero root, payload hash or commitment, or a depth above the maximum.
    error UsageLedgerInvalidHeader();
    error UsageLedgerNotHome(address account, PlmnId home);
    error UsageLedgerBatchNotOpen(bytes32 batchId, uint8 status);
    error UsageLedgerDisputeWindowOver(bytes32 batchId, uint40 windowEnd);
    error UsageLedgerDisputeWindowOpen(bytes32 batchId, uint40 windowEnd);
    error UsageLedgerRecordNotInBatch(bytes32 batchId, uint32 leafIndex, bytes32 leaf);
    error UsageLedgerRecordAlreadyDisputed(bytes32 batchId, uint32 leafIndex);
    error UsageLedgerPeriodClosed(PlmnId home, PlmnId visited, uint32 period);
    /// @notice The period is not open for submissions yet (`opensAt`) or any more (`deadline`).
    error UsageLedgerSubmissionClosed(uint32 period, uint40 opensAt, uint40 deadline);
    /// @notice The period cannot close before `closableAt`.
    error UsageLedgerPeriodNotOver(uint32 period, uint40 closableAt);
    /// @notice The period cannot close while `pending` batches are undecided.
    error UsageLedgerBatchesPending(uint32 pending);
    error UsageLedgerTooManyBatches(uint32 max);
    error UsageLedgerTooMany(uint256 count, uint256 max);
    error UsageLedgerInvalidDependency(address dependency);
    error UsageLedgerInvalidGrace(uint32 submissionGrace);
    /// @notice The consortium is paused (`ICarrierRegistry.paused`): no batch is taken until it is unpaused.
    error UsageLedgerPaused();

    /// @notice Commits a batch signed by a USAGE operator of the active carrier `batch.visited`. Anyone may
    /// send it: the signature is the authorization. Its dispute window ends at now + the window of the terms
    /// in force now. Waits while the consortium is paused.
    /// @return batchId The batch's EIP-712 struct hash.
    function submitBatch(UsageBatch calldata batch, bytes calldata signature) external returns (bytes32 batchId);

    /// @notice Accepts pending batches of the caller's carrier as home (at most `MAX_DECISIONS`). Caller: a
    /// USAGE operator of the home, which may be suspended (so may `rejectBatches` and `disputeRecords`).
    function acceptBatches(bytes32[] calldata batchIds) external;

    /// @notice Rejects pending batches of the caller's carrier as home within their windows (at most
    /// `MAX_DECISIONS`), for `reason` (application-defined code).
    function rejectBatches(bytes32[] calldata batchIds, uint8 reason) external;

    /// @notice Disputes records of a pending batch of the caller's carrier as home, within its window, by
    /// position (at most `MAX_DISPUTES`). Each (batch, leaf index) can be disputed once.
    function disputeRecords(bytes32 batchId, RecordDispute[] calldata disputes) external;

    /// @notice Records that pending batches' windows have ended (at most `MAX_DECISIONS`): they expire and
    /// count as accepted. Anyone may call; batches not yet at their window's end revert the call.
    function expireBatches(bytes32[] calldata batchIds) external;

    /// @notice Closes (home, visited, period) once its submission deadline has passed and no batch is
    /// pending. Idempotent: returns the accumulator of a closed period. Anyone may call.
    function closePeriod(PlmnId home, PlmnId visited, uint32 period) external returns (bytes32 accumulator);

    /// @notice The batch id (EIP-712 struct hash) of a header.
    function hashBatch(UsageBatch calldata batch) external pure returns (bytes32);

    /// @notice The EIP-712 digest the visited carrier signs.
    function batchDigest(UsageBatch calldata batch) external view returns (bytes32);

    /// @notice The Merkle leaf of a record in a batch whose payload carries `salt` (its secret totals salt):
    /// keccak256 of its 15 fields packed in order (111 bytes) followed by the salt, 143 bytes.
    function leafOf(UsageRecord calldata record, bytes32 salt) external pure returns (bytes32);

    function getBatch(bytes32 batchId) external view returns (BatchInfo memory);

    function getPeriod(PlmnId home, PlmnId visited, uint32 period) external view returns (PeriodInfo memory);

    /// @notice The `index`-th counted batch of a period, in the accumulator's order; zero from
    /// `PeriodInfo.counted` on.
    function countedBatch(PlmnId home, PlmnId visited, uint32 period, uint32 index) external view returns (bytes32);

    /// @notice The disputed leaf indexes of a batch, in the order disputed (the order of `disputeHash`).
    function disputedIndexes(bytes32 batchId) external view returns (uint32[] memory);

    /// @notice The leaf disputed at `leafIndex` of the batch, zero when not disputed.
    function disputedLeaf(bytes32 batchId, uint32 leafIndex) external view returns (bytes32);

    /// @notice Start and end (exclusive) of a period, unix seconds UTC.
    function periodBounds(uint32 period) external pure returns (uint40 start, uint40 end);

    /// @notice The last second a batch of `period` is taken (end + `submissionGrace`, exclusive).
    function submissionDeadline(uint32 period) external view returns (uint40);

    function submissionGrace() external view returns (uint32);
    function MAX_BATCHES_PER_PERIOD() external view returns (uint32);
    function MAX_DECISIONS() external view returns (uint256);
    function MAX_DISPUTES() external view returns (uint256);
    function MAX_TREE_DEPTH() external view returns (uint8);
    function MAX_SUBMISSION_GRACE() external view returns (uint32);
    function carrierRegistry() external view returns (ICarrierRegistry);
    function roamingAgreements() external view returns (IRoamingAgreements);
}
