// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IUsageLedger} from "../../contracts/interfaces/IUsageLedger.sol";
import {ClassTotals, UsageBatch, PeriodInfo} from "../../contracts/types/UsageTypes.sol";
import {PlmnId} from "../../contracts/types/PlmnId.sol";
import {PeriodMath__Mock} from "./PeriodMath__Mock.sol";

/// @notice Stands in for the UsageLedger in escrow tests: the test sets a period's totals and batch count
/// (and takes disputed usage off them); `closePeriod` then behaves as the ledger's: refused before the
/// period's end plus the grace, refused for the wrong number of batches, idempotent once closed.
contract UsageLedger__Mock {
    struct Period {
        PeriodInfo info;
        ClassTotals[] totals;
    }

    mapping(bytes32 key => Period) private _periods;
    uint32 public submissionGrace;

    event PeriodClosed(PlmnId indexed home, PlmnId indexed visited, uint32 indexed period, uint32 batchCount);

    /// @notice Sets the period's totals (classes ascending) and the number of batches it has.
    function setTotals(
        PlmnId home,
        PlmnId visited,
        uint32 period,
        ClassTotals[] calldata totals,
        uint32 batchCount
    ) external {
        Period storage p = _periods[_key(home, visited, period)];
        require(!p.info.closed, IUsageLedger.UsageLedgerPeriodClosed(home, visited, period));
        delete p.totals;
        for (uint256 i = 0; i < totals.length; ++i) p.totals.push(totals[i]);
        p.info.batchCount = batchCount;
        p.info.lastSubmittedAt = uint40(block.timestamp);
    }

    function closePeriod(
        PlmnId home,
        PlmnId visited,
        uint32 period,
        UsageBatch[] calldata batches
    ) external returns (ClassTotals[] memory) {
        Period storage p = _periods[_key(home, visited, period)];
        if (p.info.closed) return p.totals;
        (, uint40 end) = periodBounds(period);
        uint40 closableAt = end + submissionGrace;
        require(block.timestamp >= closableAt, IUsageLedger.UsageLedgerPeriodNotOver(period, closableAt));
        require(
            batches.length == p.info.batchCount,
            IUsageLedger.UsageLedgerBatchSetMismatch(batches.length, p.info.batchCount)
        );
        p.info.closed = true;
        p.info.closedAt = uint40(block.timestamp);
        emit PeriodClosed(home, visited, period, p.info.batchCount);
        return p.totals;
    }

    function periodTotals(PlmnId home, PlmnId visited, uint32 period) external view returns (ClassTotals[] memory) {
        Period storage p = _periods[_key(home, visited, period)];
        if (!p.info.closed) return new ClassTotals[](0);
        return p.totals;
    }

    function getPeriod(PlmnId home, PlmnId visited, uint32 period) external view returns (PeriodInfo memory) {
        return _periods[_key(home, visited, period)].info;
    }

    function periodBounds(uint32 period) public pure returns (uint40 start, uint40 end) {
        require(PeriodMath__Mock.isValid(period), IUsageLedger.UsageLedgerInvalidPeriod(period));
        return PeriodMath__Mock.bounds(period);
    }

    function _key(PlmnId home, PlmnId visited, uint32 period) private pure returns (bytes32) {
        return keccak256(abi.encode(home, visited, period));
    }
}
