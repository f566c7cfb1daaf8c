// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {UsageRecord} from "../../contracts/types/UsageTypes.sol";
import {DeviceId} from "../../contracts/types/DeviceId.sol";
import {PlmnId} from "../../contracts/types/PlmnId.sol";

/// @notice The per-record design RoamLedger replaces, for `npm run bench` to measure next to UsageLedger:
/// every usage record is written to storage (all 15 fields of `UsageRecord`, 4 slots) and announced in an
/// event, as on-chain roaming prototypes that store each record do. No access control and no signature
/// check, so its gas is a lower bound for that design.
contract NaiveUsageLedger__Mock {
    mapping(bytes32 recordId => UsageRecord) private _records;
    uint256 public recordCount;

    event UsageRecordStored(bytes32 indexed recordId, DeviceId indexed deviceId, PlmnId home, PlmnId visited);

    error NaiveUsageLedgerRecordExists(bytes32 recordId);

    /// @notice Stores each record under its id; a record id already stored reverts the call.
    function submitRecords(UsageRecord[] calldata records) external {
        for (uint256 i = 0; i < records.length; ++i) {
            UsageRecord calldata r = records[i];
            require(_records[r.recordId].startTime == 0, NaiveUsageLedgerRecordExists(r.recordId));
            _records[r.recordId] = r;
            emit UsageRecordStored(r.recordId, r.deviceId, r.home, r.visited);
        }
        recordCount += records.length;
    }

    /// @notice The stored record with id `recordId` (zero when none).
    function getRecord(bytes32 recordId) external view returns (UsageRecord memory) {
        return _records[recordId];
    }
}
