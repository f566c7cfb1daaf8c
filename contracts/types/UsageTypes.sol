// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "./PlmnId.sol";
import {DeviceId} from "./DeviceId.sol";

/// @notice Why a committed usage record is not billable (`Billable` when it is). Out-of-policy records are
/// committed (the home carrier sees them) but never charged.
enum Billing {
    Billable,
    ServiceNotAllowed,
    NetworkNotAllowed,
    DailyCapExceeded,
    MonthlyCapExceeded,
    DeviceSuspended,
    PolicyNotValid
}

/// @notice One usage record as committed: the Merkle leaf is `keccak256(abi.encodePacked(...all fields in
/// this order, salt))`, 111 bytes of record and the batch's secret 32-byte totals salt, 143 bytes, so a leaf
/// can never be mistaken for an inner node (64 bytes) nor found by hashing candidate records.
/// @param recordId The visited carrier's record id (ASCII, at most 32 bytes, right-padded with zeros).
/// @param deviceId Keyed hash of the IMSI (never the IMSI).
/// @param home Home carrier of the device.
/// @param visited Carrier that served it.
/// @param service `Service` as uint8: 0 data, 1 SMS, 2 voice, 3 signalling.
/// @param rat Radio access technology: 0 NB-IoT, 1 LTE-M, 2 LTE, 3 NR, 4 UTRAN, 5 GERAN.
/// @param startTime Start of the call event (unix seconds, UTC).
/// @param duration Seconds.
/// @param bytesUp Bytes sent by the device (TAP3 DataVolumeOutgoing).
/// @param bytesDown Bytes received by the device (TAP3 DataVolumeIncoming).
/// @param events Signalling events or SMS in the record.
/// @param latencyMs Measured latency, 0 when not measured.
/// @param throughputKbps Measured throughput, 0 when not measured.
/// @param tariffClass The device policy's tariff class.
/// @param billing `Billing` as uint8.
struct UsageRecord {
    bytes32 recordId;
    DeviceId deviceId;
    PlmnId home;
    PlmnId visited;
    uint8 service;
    uint8 rat;
    uint40 startTime;
    uint32 duration;
    uint64 bytesUp;
    uint64 bytesDown;
    uint32 events;
    uint32 latencyMs;
    uint32 throughputKbps;
    uint8 tariffClass;
    uint8 billing;
}

/// @notice The billable usage of one tariff class, summed over the billable records of a batch (or of a
/// closed period). Only each record's own service counts: data bytes (up + down) for data, events for
/// signalling, events for SMS, duration for voice.
/// @param tariffClass The class.
/// @param records Billable records.
/// @param activeDevices Devices counted active in the period for the first time in this batch.
/// @param roamerDays Device-days beyond the permanent-roaming limit counted for the first time in this batch.
/// @param dataBytes Bytes up + down of data records.
/// @param signallingEvents Events of signalling records.
/// @param smsCount Events of SMS records.
/// @param voiceSeconds Duration of voice records.
/// @param qosSamples Records that carry a latency and a throughput measure.
/// @param latencyMsSum Sum of their latency.
/// @param throughputKbpsSum Sum of their throughput.
struct ClassTotals {
    uint8 tariffClass;
    uint32 records;
    uint32 activeDevices;
    uint32 roamerDays;
    uint64 dataBytes;
    uint64 signallingEvents;
    uint64 smsCount;
    uint64 voiceSeconds;
    uint32 qosSamples;
    uint64 latencyMsSum;
    uint64 throughputKbpsSum;
}

/// @notice The public header of a usage batch that the visited carrier signs (EIP-712) and submits. Its
/// EIP-712 struct hash is the batch id. It carries no volume: the totals (and the record count) are only
/// committed, and travel sealed to the home carrier in the batch payload.
/// @param visited The carrier that served the devices and bills.
/// @param home The carrier that owns them and pays.
/// @param period Billing period as yyyymm (202611 for November 2026).
/// @param merkleRoot Root of a positional binary tree of depth `treeDepth` over the records' leaves in
/// payload order, padded with zero leaves to 2^treeDepth: an inner node is keccak256(left || right), so a
/// leaf's index is fixed by its proof.
/// @param treeDepth Depth of the tree, 0 to `MAX_TREE_DEPTH` (public: it bounds the record count to a power
/// of two, the only size information the header gives).
/// @param payloadHash keccak256 of the sealed payload (records, totals, the salt) in the off-chain store.
/// @param totalsCommitment `CommitmentLib.batchTotals(recordCount, totals, salt)` with `totals` a
/// `ClassTotals[]` (classes strictly ascending, billable records only) and a 256-bit secret `salt` sealed
/// in the payload.
struct UsageBatch {
    PlmnId visited;
    PlmnId home;
    uint32 period;
    bytes32 merkleRoot;
    uint8 treeDepth;
    bytes32 payloadHash;
    bytes32 totalsCommitment;
}

/// @notice Where a batch is. `Expired` batches passed their dispute window undecided and count as accepted.
enum BatchStatus {
    None,
    Submitted,
    Accepted,
    Rejected,
    Expired
}

/// @notice A batch as stored.
/// @param windowEnd End of its dispute window, fixed at submission from the terms then in force.
/// @param disputeCount Records disputed in it.
/// @param disputeHash Chain over its disputes in order: keccak256(abi.encode(previous, leafIndex, leaf)),
/// starting from zero.
struct BatchInfo {
    PlmnId visited;
    PlmnId home;
    uint32 period;
    BatchStatus status;
    uint40 submittedAt;
    uint40 windowEnd;
    uint8 treeDepth;
    uint32 disputeCount;
    bytes32 merkleRoot;
    bytes32 totalsCommitment;
    bytes32 disputeHash;
}

/// @notice The usage of one (home, visited, period), kept as batches are decided, so that closing costs
/// the same whatever the number of batches.
/// @param batchCount Batches submitted (any status), at most `MAX_BATCHES_PER_PERIOD`.
/// @param pending Batches still `Submitted`.
/// @param counted Batches accepted or expired, in the order they were decided (`countedBatch`).
/// @param rejected Batches rejected.
/// @param accumulator Chain over the counted batches in that order:
/// keccak256(abi.encode(previous, batchId, totalsCommitment, disputeCount, disputeHash)), from zero. What
/// invoices bind to.
/// @param lastSubmittedAt Time of the newest submission.
/// @param closed No batch may be added, decided or disputed any more.
/// @param closedAt When it was closed.
struct PeriodInfo {
    uint32 batchCount;
    uint32 pending;
    uint32 counted;
    uint32 rejected;
    uint40 lastSubmittedAt;
    bool closed;
    uint40 closedAt;
    bytes32 accumulator;
}
