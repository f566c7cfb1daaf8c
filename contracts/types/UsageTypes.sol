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
/// this order))`, 111 bytes, so a leaf can never be mistaken for an inner node (64 bytes).
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

/// @notice The summary of a usage batch that the visited carrier signs (EIP-712) and submits. Its EIP-712
/// struct hash is the batch id: the id derives from the content, so the same batch is committed once.
/// @param visited The carrier that served the devices and bills.
/// @param home The carrier that owns them and pays.
/// @param period Billing period as yyyymm (202611 for November 2026).
/// @param merkleRoot Root over the leaves of all records, billable or not (sorted-pair hashing, as
/// OpenZeppelin `MerkleProof`).
/// @param recordCount Records in the tree.
/// @param payloadHash keccak256 of the encrypted payload (records and aggregates) in the off-chain store.
/// @param totals Billable totals per tariff class, classes strictly ascending.
struct UsageBatch {
    PlmnId visited;
    PlmnId home;
    uint32 period;
    bytes32 merkleRoot;
    uint32 recordCount;
    bytes32 payloadHash;
    ClassTotals[] totals;
}

/// @notice Where a batch is.
enum BatchStatus {
    None,
    Submitted,
    Accepted,
    Rejected
}

/// @notice A batch as stored: one slot; the summary itself is in the `UsageBatchSubmitted` event and is
/// passed back (and re-hashed to its id) where it is needed.
struct BatchInfo {
    PlmnId visited;
    PlmnId home;
    uint32 period;
    BatchStatus status;
    uint40 submittedAt;
    uint32 disputedRecords;
}

/// @notice The usage of one (home, visited, period): one slot.
/// @param batchCount Batches submitted (any status).
/// @param lastSubmittedAt Time of the newest submission.
/// @param closed No batch may be added or disputed any more; totals are final.
/// @param closedAt When it was closed.
struct PeriodInfo {
    uint32 batchCount;
    uint40 lastSubmittedAt;
    bool closed;
    uint40 closedAt;
}

/// @notice Usage taken off one tariff class of a batch by disputes: the fields of `ClassTotals` that
/// disputes reduce (two slots).
struct DisputedUsage {
    uint32 records;
    uint64 dataBytes;
    uint64 signallingEvents;
    uint64 smsCount;
    uint64 voiceSeconds;
}
