// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";
import {DeviceId} from "../types/DeviceId.sol";
import {UsageRecord, ClassTotals, UsageBatch, BatchInfo, PeriodInfo} from "../types/UsageTypes.sol";
import {ICarrierRegistry} from "./ICarrierRegistry.sol";
import {IRoamingAgreements} from "./IRoamingAgreements.sol";
import {IDeviceRegistry} from "./IDeviceRegistry.sol";

/// @title The ledger of roaming usage: signed, Merkle-committed batches, disputes, period totals.
/// @notice A visited carrier commits its usage records for one home carrier and period in batches: the
/// batch stores one slot, whatever its size; the summary goes into the `UsageBatchSubmitted` event, the
/// records (encrypted with the two carriers' pairwise key) into an off-chain content-addressed store.
/// The home carrier accepts a batch, disputes single records with Merkle proofs, or rejects a whole batch
/// whose payload does not match its summary. A batch not answered within the agreement's dispute window
/// counts as accepted. A closed period's totals (less disputed records) are what settlement rates.
/// @dev Trust assumptions:
/// - Authorization comes from `ICarrierRegistry`: the batch is signed (EIP-712, domain bound to chain id
///   and this contract) by an operator of the visited carrier; home-side actions are sent by an operator
///   of the home carrier.
/// - A batch is only accepted between carriers with an agreement in force (`hasActiveAgreement`).
/// - Totals are the visited carrier's claim; the home carrier checks them against the decrypted records
///   and rejects the batch within the dispute window when they differ. The contract cannot see records.
/// - A period closes once it has ended, a grace for late submissions has passed (the visited carrier may
///   waive it) and every batch is accepted, rejected or out of its dispute window. After that no batch
///   of that period is accepted: late usage goes into a later period's batch.
/// - Period totals are checked sums: batches whose totals overflow a field's type when merged (more than
///   2^32 - 1 records of a class, say) make `closePeriod` revert; the home carrier rejects such a batch.
/// - The dispute window of a batch is the one of the terms in force when it was submitted
///   (`IRoamingAgreements.disputeWindowAt`), even if an amendment changes it later.
interface IUsageLedger {
    /// @notice A record disputed by the home carrier, with its proof of inclusion in the batch.
    struct RecordDispute {
        UsageRecord record;
        bytes32[] proof;
        uint8 reason;
    }

    /// @notice A device present in the visited network longer than allowed.
    /// @param deviceId The device.
    /// @param daysPresent Days of continuous presence when reported.
    /// @param evidenceHash Hash of the evidence kept off-chain (first and last record leaves).
    struct PermanentRoamerReport {
        DeviceId deviceId;
        uint16 daysPresent;
        bytes32 evidenceHash;
    }

    /// @notice Permanent-roaming status of a device in a visited network.
    struct PermanentRoaming {
        uint40 reportedAt;
        uint16 daysPresent;
    }

    /// @notice A batch was committed: the whole summary, which the home carrier's watcher, disputes and
    /// `closePeriod` take back from here (`hashBatch` of it is `batchId`).
    /// @param totals The summary's `ClassTotals[]` packed to 65 bytes per class, each class its 11 fields
    /// big-endian back to back: tariffClass (1 byte), records, activeDevices, roamerDays (4 each), dataBytes,
    /// signallingEvents, smsCount, voiceSeconds (8 each), qosSamples (4), latencyMsSum, throughputKbpsSum
    /// (8 each). lib/usage/batch.ts `unpackTotals` reads it. An ABI-encoded array would take 352 bytes per
    /// class, 287 more than packed: 2,296 gas more each in log data at 8 gas a byte (computed, not measured).
    /// Packed, a batch of 3 classes stays under 100,000 gas (a test of UsageLedger checks it).
    /// @param signer The visited carrier's operator who signed the summary.
    event UsageBatchSubmitted(
        bytes32 indexed batchId,
        PlmnId indexed visited,
        PlmnId indexed home,
        uint32 period,
        bytes32 merkleRoot,
        uint32 recordCount,
        bytes32 payloadHash,
        bytes totals,
        address signer
    );
    event UsageBatchAccepted(bytes32 indexed batchId, PlmnId indexed home);
    event UsageBatchRejected(bytes32 indexed batchId, PlmnId indexed home, uint8 reason);
    event UsageRecordDisputed(bytes32 indexed batchId, bytes32 indexed recordId, bytes32 leaf, uint8 reason);
    event PermanentRoamerReported(
        DeviceId indexed deviceId,
        PlmnId indexed home,
        PlmnId indexed visited,
        uint16 daysPresent,
        bytes32 evidenceHash
    );
    event PeriodClosed(PlmnId indexed home, PlmnId indexed visited, uint32 indexed period, uint32 batchCount);

    error UsageLedgerInvalidPeriod(uint32 period);
    error UsageLedgerInvalidSignature();
    error UsageLedgerSignerNotVisited(address signer, PlmnId visited);
    error UsageLedgerNoAgreement(PlmnId home, PlmnId visited);
    error UsageLedgerBatchExists(bytes32 batchId);
    error UsageLedgerUnknownBatch(bytes32 batchId);
    error UsageLedgerEmptyBatch();
    error UsageLedgerInvalidTotals(uint256 index);
    error UsageLedgerNotHome(address account, PlmnId home);
    error UsageLedgerBatchNotOpen(bytes32 batchId, uint8 status);
    error UsageLedgerDisputeWindowOver(bytes32 batchId, uint40 windowEnd);
    error UsageLedgerRecordNotInBatch(bytes32 batchId, bytes32 leaf);
    error UsageLedgerRecordNotBillable(bytes32 batchId, bytes32 leaf);
    error UsageLedgerRecordAlreadyDisputed(bytes32 batchId, bytes32 leaf);
    error UsageLedgerPeriodClosed(PlmnId home, PlmnId visited, uint32 period);
    error UsageLedgerPeriodNotOver(uint32 period, uint40 closableAt);
    error UsageLedgerBatchStillOpen(bytes32 batchId, uint40 windowEnd);
    error UsageLedgerBatchSetMismatch(uint256 given, uint32 expected);
    error UsageLedgerBatchNotOfPeriod(bytes32 batchId);
    error UsageLedgerUnknownDevice(DeviceId deviceId);
    error UsageLedgerWrongHome(DeviceId deviceId, PlmnId home);
    error UsageLedgerTooMany(uint256 count, uint256 max);
    /// @notice The batch ids passed to `closePeriod` are not strictly ascending at `index`.
    error UsageLedgerBatchOrder(uint256 index, bytes32 batchId);
    /// @notice A contract given to the constructor is not a contract.
    error UsageLedgerInvalidDependency(address dependency);
    /// @notice The submission grace exceeds `MAX_SUBMISSION_GRACE`.
    error UsageLedgerInvalidGrace(uint32 submissionGrace);

    /// @notice Commits a batch signed by an operator of `batch.visited`. Any active member's operator may
    /// send it. Returns the batch id (`hashBatch(batch)`).
    /// @dev Stores one slot (`BatchInfo`) and updates the period's slot; nothing per record. Reverts when the
    /// period is not valid yyyymm or has not started (`InvalidPeriod`), `recordCount` is 0 (`EmptyBatch`),
    /// the totals' classes do not ascend strictly or their records exceed `recordCount` (`InvalidTotals`),
    /// the signature does not recover (`InvalidSignature`) or recovers to anyone but an operator of the
    /// active CARRIER member `batch.visited` (`SignerNotVisited`: a signature for another chain or another
    /// ledger recovers to a stranger), no agreement between the two is in force now (`NoAgreement`), the
    /// batch was committed already (`BatchExists`) or the period is closed (`PeriodClosed`).
    function submitBatch(UsageBatch calldata batch, bytes calldata signature) external returns (bytes32 batchId);

    /// @notice The home carrier accepts batches: their records can no longer be disputed.
    /// @dev Each batch must be `Submitted` (`UnknownBatch`, `BatchNotOpen`), of the caller's member
    /// (`NotHome`) and of a period not yet closed (`PeriodClosed`). All or nothing.
    function acceptBatches(bytes32[] calldata batchIds) external;

    /// @notice The home carrier rejects a whole batch within its dispute window (payload missing or not
    /// matching the summary). A rejected batch counts for nothing.
    /// @dev The window ends `disputeWindow` seconds (terms in force at submission) after `submittedAt`.
    function rejectBatch(bytes32 batchId, uint8 reason) external;

    /// @notice The home carrier disputes billable records of `batch` within its dispute window, each with
    /// its Merkle proof; their usage is taken off the period's totals.
    /// @dev At most `MAX_DISPUTES` records per call. Each record must be in the batch's tree
    /// (`RecordNotInBatch`), billable (`RecordNotBillable`) and not disputed before (`RecordAlreadyDisputed`).
    /// A record counts 1 record plus its own service's usage (data: bytes up + down; SMS: events; voice:
    /// duration; signalling: events) in its tariff class. Any billable record proven in the tree can be
    /// disputed, whatever its home and visited fields say: a record of another home carrier billed in this
    /// batch is exactly what a dispute is for.
    function disputeRecords(UsageBatch calldata batch, RecordDispute[] calldata disputes) external;

    /// @notice The visited carrier reports devices of `home` that stayed longer than allowed.
    /// @dev Caller: an operator of an active CARRIER member with an agreement in force with `home`. At most
    /// `MAX_REPORTS` devices per call; each must be registered (`UnknownDevice`) with home `home`
    /// (`WrongHome`). A device already reported by this visited network is skipped without an event, so a
    /// re-run after a crash reports nothing twice; a device is reported once per visited network.
    function reportPermanentRoamers(PlmnId home, PermanentRoamerReport[] calldata reports) external;

    /// @notice Closes (home, visited, period): `batches` must be exactly the period's batches, ids strictly
    /// ascending. Anyone may call once the period is closable; the visited carrier may waive the grace.
    /// Idempotent: returns the stored totals when already closed.
    /// @dev Closable once the period has ended and `submissionGrace` has passed, or at once after its end
    /// when an operator of `visited` calls (`PeriodNotOver` says from when). `batches` must be as many as
    /// `batchCount` (`BatchSetMismatch`), ascending by id (`BatchOrder`), each committed for this
    /// (home, visited, period) (`BatchNotOfPeriod`) and accepted, rejected or out of its dispute window
    /// (`BatchStillOpen`). The totals merge, by tariff class ascending, the totals of every batch not
    /// rejected less its disputed usage: `records`, `dataBytes`, `signallingEvents`, `smsCount` and
    /// `voiceSeconds` are reduced (never below zero; disputed usage of a class the batch did not bill
    /// reduces nothing); `activeDevices`, `roamerDays` and the QoS sums are the visited carrier's counts and
    /// are not reduced by disputes.
    function closePeriod(
        PlmnId home,
        PlmnId visited,
        uint32 period,
        UsageBatch[] calldata batches
    ) external returns (ClassTotals[] memory totals);

    /// @notice The batch id (EIP-712 struct hash of the summary).
    function hashBatch(UsageBatch calldata batch) external pure returns (bytes32);

    /// @notice The Merkle leaf of a record.
    function leafOf(UsageRecord calldata record) external pure returns (bytes32);

    /// @notice The EIP-712 digest a visited operator signs for `batch`.
    function batchDigest(UsageBatch calldata batch) external view returns (bytes32);

    function getBatch(bytes32 batchId) external view returns (BatchInfo memory);

    function getPeriod(PlmnId home, PlmnId visited, uint32 period) external view returns (PeriodInfo memory);

    /// @notice Final totals of a closed period, less disputed and rejected usage. Empty while open.
    function periodTotals(PlmnId home, PlmnId visited, uint32 period) external view returns (ClassTotals[] memory);

    /// @notice Usage taken off a batch's totals by disputes, per tariff class.
    function disputedTotals(bytes32 batchId) external view returns (ClassTotals[] memory);

    function isDisputed(bytes32 batchId, bytes32 leaf) external view returns (bool);

    function permanentRoaming(DeviceId deviceId, PlmnId visited) external view returns (PermanentRoaming memory);

    /// @notice First second of `period` and first second after it (UTC).
    function periodBounds(uint32 period) external pure returns (uint40 start, uint40 end);

    /// @notice Seconds after a period's end before anyone (not only the visited carrier) may close it.
    function submissionGrace() external view returns (uint32);

    /// @notice Most records one `disputeRecords` call may dispute.
    function MAX_DISPUTES() external view returns (uint256);

    /// @notice Most devices one `reportPermanentRoamers` call may report.
    function MAX_REPORTS() external view returns (uint256);

    /// @notice Longest submission grace (90 days).
    function MAX_SUBMISSION_GRACE() external view returns (uint32);

    function carrierRegistry() external view returns (ICarrierRegistry);

    function roamingAgreements() external view returns (IRoamingAgreements);

    function deviceRegistry() external view returns (IDeviceRegistry);
}
