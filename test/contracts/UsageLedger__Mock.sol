// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IUsageLedger} from "../../contracts/interfaces/IUsageLedger.sol";
import {BatchInfo, BatchStatus, PeriodInfo} from "../../contracts/types/UsageTypes.sol";
import {PlmnId} from "../../contracts/types/PlmnId.sol";
import {PeriodMath__Mock} from "./PeriodMath__Mock.sol";

/// @notice Stands in for the v2 UsageLedger in escrow tests: the test adds counted batches (id and totals
/// commitment) and disputed leaves to a period; the accumulator is chained over them as the ledger does
/// (keccak256(abi.encode(previous, batchId, totalsCommitment, disputeCount, disputeHash))). `closePeriod`
/// behaves as the ledger's: refused before the period's end plus the grace or while batches are pending,
/// idempotent once closed.
contract UsageLedger__Mock {
    struct Period {
        PeriodInfo info;
        bytes32[] counted;
    }

    mapping(bytes32 key => Period) private _periods;
    mapping(bytes32 batchId => BatchInfo) private _batches;
    mapping(bytes32 batchId => uint32[]) private _disputed;
    mapping(bytes32 batchId => mapping(uint32 leafIndex => bytes32)) private _leaves;
    uint32 public submissionGrace;

    event PeriodClosed(PlmnId indexed home, PlmnId indexed visited, uint32 indexed period, bytes32 accumulator);

    constructor(uint32 submissionGrace_) {
        submissionGrace = submissionGrace_;
    }

    /// @notice Adds a counted (accepted) batch to the period, with its disputed leaves in order.
    function addBatch(
        PlmnId home,
        PlmnId visited,
        uint32 period,
        bytes32 batchId,
        bytes32 totalsCommitment,
        uint32[] calldata leafIndexes,
        bytes32[] calldata leaves
    ) external {
        Period storage p = _periods[_key(home, visited, period)];
        require(!p.info.closed, IUsageLedger.UsageLedgerPeriodClosed(home, visited, period));
        require(_batches[batchId].status == BatchStatus.None, IUsageLedger.UsageLedgerBatchExists(batchId));
        BatchInfo storage b = _batches[batchId];
        (b.visited, b.home, b.period, b.status) = (visited, home, period, BatchStatus.Accepted);
        b.totalsCommitment = totalsCommitment;
        b.disputeCount = uint32(leafIndexes.length);
        bytes32 chain;
        for (uint256 i = 0; i < leafIndexes.length; ++i) {
            _disputed[batchId].push(leafIndexes[i]);
            _leaves[batchId][leafIndexes[i]] = leaves[i];
            chain = keccak256(abi.encode(chain, leafIndexes[i], leaves[i]));
        }
        b.disputeHash = chain;
        p.counted.push(batchId);
        p.info.batchCount += 1;
        p.info.counted += 1;
        p.info.accumulator = keccak256(
            abi.encode(p.info.accumulator, batchId, totalsCommitment, b.disputeCount, chain)
        );
    }

    /// @notice Sets how many batches of the period are still pending.
    function setPending(PlmnId home, PlmnId visited, uint32 period, uint32 pending) external {
        _periods[_key(home, visited, period)].info.pending = pending;
    }

    function closePeriod(PlmnId home, PlmnId visited, uint32 period) external returns (bytes32) {
        Period storage p = _periods[_key(home, visited, period)];
        if (p.info.closed) return p.info.accumulator;
        (, uint40 end) = periodBounds(period);
        uint40 closableAt = end + submissionGrace;
        require(block.timestamp >= closableAt, IUsageLedger.UsageLedgerPeriodNotOver(period, closableAt));
        require(p.info.pending == 0, IUsageLedger.UsageLedgerBatchesPending(p.info.pending));
        p.info.closed = true;
        p.info.closedAt = uint40(block.timestamp);
        emit PeriodClosed(home, visited, period, p.info.accumulator);
        return p.info.accumulator;
    }

    function getPeriod(PlmnId home, PlmnId visited, uint32 period) external view returns (PeriodInfo memory) {
        return _periods[_key(home, visited, period)].info;
    }

    function countedBatch(PlmnId home, PlmnId visited, uint32 period, uint32 index) external view returns (bytes32) {
        return _periods[_key(home, visited, period)].counted[index];
    }

    function getBatch(bytes32 batchId) external view returns (BatchInfo memory) {
        return _batches[batchId];
    }

    function disputedIndexes(bytes32 batchId) external view returns (uint32[] memory) {
        return _disputed[batchId];
    }

    function disputedLeaf(bytes32 batchId, uint32 leafIndex) external view returns (bytes32) {
        return _leaves[batchId][leafIndex];
    }

    function periodBounds(uint32 period) public pure returns (uint40 start, uint40 end) {
        require(PeriodMath__Mock.isValid(period), IUsageLedger.UsageLedgerInvalidPeriod(period));
        return PeriodMath__Mock.bounds(period);
    }

    function _key(PlmnId home, PlmnId visited, uint32 period) private pure returns (bytes32) {
        return keccak256(abi.encode(home, visited, period));
    }
}
