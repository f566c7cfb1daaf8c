// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IUsageLedger} from "./interfaces/IUsageLedger.sol";
import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {IRoamingAgreements} from "./interfaces/IRoamingAgreements.sol";
import {IDeviceRegistry} from "./interfaces/IDeviceRegistry.sol";
import {UsageBatchLib} from "./libraries/UsageBatchLib.sol";
import {PeriodLib} from "./libraries/PeriodLib.sol";
import {ClassTotalsLib} from "./libraries/ClassTotalsLib.sol";
import {PlmnLib} from "./libraries/PlmnLib.sol";
import {PlmnId} from "./types/PlmnId.sol";
import {DeviceId} from "./types/DeviceId.sol";
import {Roles} from "./types/Roles.sol";
import {Device, DeviceStatus} from "./types/DeviceTypes.sol";
import {
    UsageRecord,
    ClassTotals,
    UsageBatch,
    BatchStatus,
    BatchInfo,
    PeriodInfo,
    DisputedUsage,
    Billing
} from "./types/UsageTypes.sol";

/// @title UsageLedger
/// @notice Signed, Merkle-committed usage batches between roaming partners, record disputes, period totals.
contract UsageLedger is IUsageLedger, EIP712 {
    using PlmnLib for PlmnId;

    /// @inheritdoc IUsageLedger
    uint256 public constant MAX_DISPUTES = 500;
    /// @inheritdoc IUsageLedger
    uint256 public constant MAX_REPORTS = 2000;
    /// @inheritdoc IUsageLedger
    uint32 public constant MAX_SUBMISSION_GRACE = 90 days;

    ICarrierRegistry private immutable _CARRIER_REGISTRY;
    IRoamingAgreements private immutable _ROAMING_AGREEMENTS;
    IDeviceRegistry private immutable _DEVICE_REGISTRY;
    uint32 private immutable _SUBMISSION_GRACE;

    mapping(bytes32 batchId => BatchInfo) private _batches;
    /// @dev Keyed by `_periodKey(home, visited, period)`.
    mapping(uint256 periodKey => PeriodInfo) private _periods;
    mapping(uint256 periodKey => ClassTotals[]) private _periodTotals;
    mapping(bytes32 batchId => mapping(uint8 tariffClass => DisputedUsage)) private _disputed;
    /// @dev Bit `c` set when class `c` of the batch has disputed usage.
    mapping(bytes32 batchId => uint256) private _disputedClasses;
    mapping(bytes32 batchId => mapping(bytes32 leaf => bool)) private _disputedLeaves;
    mapping(DeviceId deviceId => mapping(PlmnId visited => PermanentRoaming)) private _permanentRoaming;

    /// @param carrierRegistry_ The consortium registry: who acts for which member.
    /// @param roamingAgreements_ The agreements: which pairs may bill each other, and their dispute windows.
    /// @param deviceRegistry_ The devices, for permanent-roamer reports.
    /// @param submissionGrace_ Seconds after a period's end during which only the visited carrier may close
    /// it (at most `MAX_SUBMISSION_GRACE`).
    constructor(
        ICarrierRegistry carrierRegistry_,
        IRoamingAgreements roamingAgreements_,
        IDeviceRegistry deviceRegistry_,
        uint32 submissionGrace_
    ) EIP712("RoamLedger UsageLedger", "1") {
        _requireContract(address(carrierRegistry_));
        _requireContract(address(roamingAgreements_));
        _requireContract(address(deviceRegistry_));
        require(submissionGrace_ <= MAX_SUBMISSION_GRACE, UsageLedgerInvalidGrace(submissionGrace_));
        _CARRIER_REGISTRY = carrierRegistry_;
        _ROAMING_AGREEMENTS = roamingAgreements_;
        _DEVICE_REGISTRY = deviceRegistry_;
        _SUBMISSION_GRACE = submissionGrace_;
    }

    // ------------------------------------------------------------------------------------------------
    // Visited carrier
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc IUsageLedger
    function submitBatch(UsageBatch calldata batch, bytes calldata signature) external returns (bytes32 batchId) {
        address signer;
        (batchId, signer) = _verifyBatch(batch, signature);
        _commit(batchId, batch.visited, batch.home, batch.period);
        // emit UsageBatchSubmitted(batchId, visited, home, period, merkleRoot, recordCount, payloadHash,
        //     packed totals, signer), packed from calldata without ABI-encoding the totals.
        UsageBatchLib.logSubmitted(UsageBatchSubmitted.selector, batchId, batch, signer);
    }

    /// @inheritdoc IUsageLedger
    function reportPermanentRoamers(PlmnId home, PermanentRoamerReport[] calldata reports) external {
        uint256 n = reports.length;
        require(n <= MAX_REPORTS, UsageLedgerTooMany(n, MAX_REPORTS));
        PlmnId visited = _CARRIER_REGISTRY.requireActiveOperator(msg.sender, Roles.CARRIER);
        uint40 time = uint40(block.timestamp);
        _requireAgreement(home, visited);
        for (uint256 i = 0; i < n; ++i) {
            PermanentRoamerReport calldata r = reports[i];
            PermanentRoaming storage stored = _permanentRoaming[r.deviceId][visited];
            if (stored.reportedAt != 0) continue;
            Device memory device = _DEVICE_REGISTRY.getDevice(r.deviceId);
            require(device.status != DeviceStatus.None, UsageLedgerUnknownDevice(r.deviceId));
            require(device.home.eq(home), UsageLedgerWrongHome(r.deviceId, device.home));
            stored.reportedAt = time;
            stored.daysPresent = r.daysPresent;
            emit PermanentRoamerReported(r.deviceId, home, visited, r.daysPresent, r.evidenceHash);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Home carrier
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc IUsageLedger
    function acceptBatches(bytes32[] calldata batchIds) external {
        PlmnId caller = _CARRIER_REGISTRY.requireActiveOperator(msg.sender, Roles.CARRIER);
        for (uint256 i = 0; i < batchIds.length; ++i) {
            bytes32 batchId = batchIds[i];
            BatchInfo storage info = _batches[batchId];
            _requireHomeOfSubmitted(batchId, info, caller);
            require(
                !_periods[_periodKey(info.home, info.visited, info.period)].closed,
                UsageLedgerPeriodClosed(info.home, info.visited, info.period)
            );
            info.status = BatchStatus.Accepted;
            emit UsageBatchAccepted(batchId, caller);
        }
    }

    /// @inheritdoc IUsageLedger
    function rejectBatch(bytes32 batchId, uint8 reason) external {
        PlmnId caller = _CARRIER_REGISTRY.requireActiveOperator(msg.sender, Roles.CARRIER);
        BatchInfo storage info = _batches[batchId];
        _requireHomeOfSubmitted(batchId, info, caller);
        _requireWindowOpen(batchId, info);
        info.status = BatchStatus.Rejected;
        emit UsageBatchRejected(batchId, caller, reason);
    }

    /// @inheritdoc IUsageLedger
    function disputeRecords(UsageBatch calldata batch, RecordDispute[] calldata disputes) external {
        uint256 n = disputes.length;
        require(n <= MAX_DISPUTES, UsageLedgerTooMany(n, MAX_DISPUTES));
        PlmnId caller = _CARRIER_REGISTRY.requireActiveOperator(msg.sender, Roles.CARRIER);
        bytes32 batchId = UsageBatchLib.hash(batch);
        BatchInfo storage info = _batches[batchId];
        _requireHomeOfSubmitted(batchId, info, caller);
        _requireWindowOpen(batchId, info);

        bytes32 root = batch.merkleRoot;
        mapping(bytes32 leaf => bool) storage disputed = _disputedLeaves[batchId];
        uint256 classes = _disputedClasses[batchId];
        for (uint256 i = 0; i < n; ++i) {
            RecordDispute calldata d = disputes[i];
            UsageRecord calldata record = d.record;
            bytes32 leaf = UsageBatchLib.leaf(record);
            require(MerkleProof.verifyCalldata(d.proof, root, leaf), UsageLedgerRecordNotInBatch(batchId, leaf));
            require(record.billing == uint8(Billing.Billable), UsageLedgerRecordNotBillable(batchId, leaf));
            require(!disputed[leaf], UsageLedgerRecordAlreadyDisputed(batchId, leaf));
            disputed[leaf] = true;
            ClassTotalsLib.addRecord(_disputed[batchId][record.tariffClass], record);
            classes |= uint256(1) << record.tariffClass;
            emit UsageRecordDisputed(batchId, record.recordId, leaf, d.reason);
        }
        _disputedClasses[batchId] = classes;
        info.disputedRecords += uint32(n);
    }

    // ------------------------------------------------------------------------------------------------
    // Settlement
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc IUsageLedger
    function closePeriod(
        PlmnId home,
        PlmnId visited,
        uint32 period,
        UsageBatch[] calldata batches
    ) external returns (ClassTotals[] memory totals) {
        uint256 key = _periodKey(home, visited, period);
        PeriodInfo storage p = _periods[key];
        if (p.closed) return _periodTotals[key];
        require(PeriodLib.isValid(period), UsageLedgerInvalidPeriod(period));
        (, uint40 end) = PeriodLib.bounds(period);
        uint40 closableAt = end + _SUBMISSION_GRACE;
        if (block.timestamp < closableAt && _isActiveOperatorOf(msg.sender, visited)) closableAt = end;
        require(block.timestamp >= closableAt, UsageLedgerPeriodNotOver(period, closableAt));
        uint32 count = p.batchCount;
        require(batches.length == count, UsageLedgerBatchSetMismatch(batches.length, count));

        totals = _netTotals(home, visited, period, batches);

        p.closed = true;
        p.closedAt = uint40(block.timestamp);
        ClassTotals[] storage stored = _periodTotals[key];
        for (uint256 i = 0; i < totals.length; ++i) {
            stored.push(totals[i]);
        }
        emit PeriodClosed(home, visited, period, count);
    }

    // ------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc IUsageLedger
    function hashBatch(UsageBatch calldata batch) external pure returns (bytes32) {
        return UsageBatchLib.hash(batch);
    }

    /// @inheritdoc IUsageLedger
    function leafOf(UsageRecord calldata record) external pure returns (bytes32) {
        return UsageBatchLib.leaf(record);
    }

    /// @inheritdoc IUsageLedger
    function batchDigest(UsageBatch calldata batch) external view returns (bytes32) {
        return _hashTypedDataV4(UsageBatchLib.hash(batch));
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
    function periodTotals(PlmnId home, PlmnId visited, uint32 period) external view returns (ClassTotals[] memory) {
        return _periodTotals[_periodKey(home, visited, period)];
    }

    /// @inheritdoc IUsageLedger
    function disputedTotals(bytes32 batchId) external view returns (ClassTotals[] memory totals) {
        uint256 classes = _disputedClasses[batchId];
        uint256 n;
        for (uint256 bits = classes; bits != 0; bits &= bits - 1) ++n;
        totals = new ClassTotals[](n);
        uint256 j;
        for (uint256 c = 0; j < n; ++c) {
            if (classes & (uint256(1) << c) == 0) continue;
            DisputedUsage storage u = _disputed[batchId][uint8(c)];
            ClassTotals memory t = totals[j++];
            t.tariffClass = uint8(c);
            t.records = u.records;
            t.dataBytes = u.dataBytes;
            t.signallingEvents = u.signallingEvents;
            t.smsCount = u.smsCount;
            t.voiceSeconds = u.voiceSeconds;
        }
    }

    /// @inheritdoc IUsageLedger
    function isDisputed(bytes32 batchId, bytes32 leaf) external view returns (bool) {
        return _disputedLeaves[batchId][leaf];
    }

    /// @inheritdoc IUsageLedger
    function permanentRoaming(DeviceId deviceId, PlmnId visited) external view returns (PermanentRoaming memory) {
        return _permanentRoaming[deviceId][visited];
    }

    /// @inheritdoc IUsageLedger
    function periodBounds(uint32 period) external pure returns (uint40 start, uint40 end) {
        require(PeriodLib.isValid(period), UsageLedgerInvalidPeriod(period));
        return PeriodLib.bounds(period);
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

    /// @inheritdoc IUsageLedger
    function deviceRegistry() external view returns (IDeviceRegistry) {
        return _DEVICE_REGISTRY;
    }

    // ------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------

    /// @dev Checks the summary on its own and its signature; returns its id and the signer, an operator of
    /// `batch.visited`. The sender must be an operator of an active member.
    function _verifyBatch(
        UsageBatch calldata batch,
        bytes calldata signature
    ) private view returns (bytes32 batchId, address signer) {
        uint32 period = batch.period;
        require(PeriodLib.isValid(period), UsageLedgerInvalidPeriod(period));
        require(PeriodLib.start(period) <= block.timestamp, UsageLedgerInvalidPeriod(period));
        uint32 recordCount = batch.recordCount;
        require(recordCount > 0, UsageLedgerEmptyBatch());
        uint256 bad = UsageBatchLib.firstInvalidTotals(batch.totals, recordCount);
        require(bad == type(uint256).max, UsageLedgerInvalidTotals(bad));

        batchId = UsageBatchLib.hash(batch);
        signer = _recover(_hashTypedDataV4(batchId), signature);
        _requireSignerOf(signer, batch.visited);
        // The signer is an operator of an active member; a relaying sender must be one too.
        if (msg.sender != signer) _CARRIER_REGISTRY.requireActiveOperator(msg.sender, 0);
    }

    /// @dev Stores a new batch of an open period with an agreement in force: one SSTORE per slot (Solidity
    /// writes a struct field by field), fields packed from the low bytes up in declaration order.
    function _commit(bytes32 batchId, PlmnId visited, PlmnId home, uint32 period) private {
        _requireAgreement(home, visited);
        BatchInfo storage info = _batches[batchId];
        require(info.status == BatchStatus.None, UsageLedgerBatchExists(batchId));
        PeriodInfo storage p = _periods[_periodKey(home, visited, period)];
        require(!p.closed, UsageLedgerPeriodClosed(home, visited, period));
        uint256 time = block.timestamp;
        // BatchInfo {visited, home, period, status, submittedAt, disputedRecords: 0}
        uint256 packedBatch = uint256(uint24(PlmnId.unwrap(visited))) |
            (uint256(uint24(PlmnId.unwrap(home))) << 24) |
            (uint256(period) << 48) |
            (uint256(uint8(BatchStatus.Submitted)) << 80) |
            (uint256(uint40(time)) << 88);
        // PeriodInfo {batchCount, lastSubmittedAt, closed: false, closedAt: 0}
        uint256 packedPeriod = uint256(p.batchCount + 1) | (uint256(uint40(time)) << 32);
        assembly ("memory-safe") {
            sstore(info.slot, packedBatch)
            sstore(p.slot, packedPeriod)
        }
    }

    /// @dev The signer of a 65-byte signature (r, s, v) of `digest`; no malleable `s`.
    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        require(signature.length == 65, UsageLedgerInvalidSignature());
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 0x20))
            v := byte(0, calldataload(add(signature.offset, 0x40)))
        }
        ECDSA.RecoverError err;
        (signer, err, ) = ECDSA.tryRecover(digest, v, r, s);
        require(err == ECDSA.RecoverError.NoError, UsageLedgerInvalidSignature());
    }

    /// @dev The signer must operate for the active CARRIER member `visited`; any registry revert (not an
    /// operator, suspended, missing role) reads as the same error.
    /// In assembly: the hot path of `submitBatch`, without ABI encoding and decoding around the call.
    function _requireSignerOf(address signer, PlmnId visited) private view {
        address registry = address(_CARRIER_REGISTRY);
        bytes4 selector = ICarrierRegistry.requireActiveOperator.selector;
        uint8 role = Roles.CARRIER;
        bool ok;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), signer)
            mstore(add(ptr, 0x24), role)
            ok := and(staticcall(gas(), registry, ptr, 0x44, 0x00, 0x20), gt(returndatasize(), 0x1f))
            ok := and(ok, eq(mload(0x00), visited)) // bytes3, left-aligned in both
        }
        require(ok, UsageLedgerSignerNotVisited(signer, visited));
    }

    /// @dev `hasActiveAgreement(home, visited, now)` or revert; in assembly, as above.
    function _requireAgreement(PlmnId home, PlmnId visited) private view {
        address agreements = address(_ROAMING_AGREEMENTS);
        bytes4 selector = IRoamingAgreements.hasActiveAgreement.selector;
        bool ok;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), home)
            mstore(add(ptr, 0x24), visited)
            mstore(add(ptr, 0x44), timestamp())
            ok := and(staticcall(gas(), agreements, ptr, 0x64, 0x00, 0x20), gt(returndatasize(), 0x1f))
            ok := and(ok, eq(mload(0x00), 1))
        }
        require(ok, UsageLedgerNoAgreement(home, visited));
    }

    /// @dev The batch exists, is `Submitted`, and `caller` is its home carrier.
    function _requireHomeOfSubmitted(bytes32 batchId, BatchInfo storage info, PlmnId caller) private view {
        BatchStatus status = info.status;
        require(status != BatchStatus.None, UsageLedgerUnknownBatch(batchId));
        require(info.home.eq(caller), UsageLedgerNotHome(msg.sender, info.home));
        require(status == BatchStatus.Submitted, UsageLedgerBatchNotOpen(batchId, uint8(status)));
    }

    function _requireWindowOpen(bytes32 batchId, BatchInfo storage info) private view {
        uint40 windowEnd = _windowEnd(info.home, info.visited, info.submittedAt);
        require(block.timestamp < windowEnd, UsageLedgerDisputeWindowOver(batchId, windowEnd));
    }

    /// @dev End of a batch's dispute window: the window of the terms in force when it was submitted.
    function _windowEnd(PlmnId home, PlmnId visited, uint40 submittedAt) private view returns (uint40) {
        return submittedAt + _ROAMING_AGREEMENTS.disputeWindowAt(home, visited, submittedAt);
    }

    /// @dev The period's totals: every batch not rejected, less its disputed usage, merged by class.
    function _netTotals(
        PlmnId home,
        PlmnId visited,
        uint32 period,
        UsageBatch[] calldata batches
    ) private view returns (ClassTotals[] memory merged) {
        uint256 capacity;
        for (uint256 i = 0; i < batches.length; ++i) capacity += batches[i].totals.length;
        merged = new ClassTotals[](capacity);
        uint256 len;
        bytes32 previous;
        for (uint256 i = 0; i < batches.length; ++i) {
            UsageBatch calldata batch = batches[i];
            bytes32 batchId = UsageBatchLib.hash(batch);
            require(i == 0 || batchId > previous, UsageLedgerBatchOrder(i, batchId));
            previous = batchId;
            BatchInfo memory info = _batches[batchId];
            require(
                info.status != BatchStatus.None &&
                    info.home.eq(home) &&
                    info.visited.eq(visited) &&
                    info.period == period,
                UsageLedgerBatchNotOfPeriod(batchId)
            );
            if (info.status == BatchStatus.Rejected) continue;
            if (info.status == BatchStatus.Submitted) {
                uint40 windowEnd = _windowEnd(home, visited, info.submittedAt);
                require(block.timestamp >= windowEnd, UsageLedgerBatchStillOpen(batchId, windowEnd));
            }
            len = _merge(merged, len, batch.totals, batchId, info.disputedRecords > 0);
        }
        assembly ("memory-safe") {
            mstore(merged, len) // shrink to the classes found
        }
    }

    /// @dev Adds a batch's totals (ascending classes), net of disputes, into `merged[0..len)` (ascending).
    function _merge(
        ClassTotals[] memory merged,
        uint256 len,
        ClassTotals[] calldata totals,
        bytes32 batchId,
        bool disputed
    ) private view returns (uint256) {
        uint256 at;
        for (uint256 i = 0; i < totals.length; ++i) {
            ClassTotals memory t = totals[i];
            if (disputed) ClassTotalsLib.subtract(t, _disputed[batchId][t.tariffClass]);
            (len, at) = ClassTotalsLib.mergeInto(merged, len, at, t);
        }
        return len;
    }

    /// @dev One word, no hashing: home (24 bits) | visited (24 bits) | period (32 bits).
    function _periodKey(PlmnId home, PlmnId visited, uint32 period) private pure returns (uint256) {
        return
            (uint256(uint24(PlmnId.unwrap(home))) << 56) | (uint256(uint24(PlmnId.unwrap(visited))) << 32) | period;
    }

    function _isActiveOperatorOf(address account, PlmnId plmn) private view returns (bool) {
        return _CARRIER_REGISTRY.memberOf(account).eq(plmn) && _CARRIER_REGISTRY.isActive(plmn);
    }

    function _requireContract(address account) private view {
        require(account.code.length > 0, UsageLedgerInvalidDependency(account));
    }
}
