// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ISettlementEscrow} from "../../contracts/interfaces/ISettlementEscrow.sol";
import {IUsageLedger} from "../../contracts/interfaces/IUsageLedger.sol";
import {IDeviceRegistry} from "../../contracts/interfaces/IDeviceRegistry.sol";
import {PlmnId} from "../../contracts/types/PlmnId.sol";
import {DeviceId} from "../../contracts/types/DeviceId.sol";
import {BatchInfo, PeriodInfo} from "../../contracts/types/UsageTypes.sol";
import {Decision, Device, Service} from "../../contracts/types/DeviceTypes.sol";

/// @notice Reads, in one call, everything the property tests check after each step (test/property/): the
/// escrow's balance and books (deposits, reservations, debts, payout accounts, pending withdrawals, invoices
/// and reveal progress), the ledger's batches and periods, the devices' policy versions and statuses and
/// what `decide` answers for (device, visited network) pairs. Views only; each list may be a subset (the
/// sequences read what a step may have changed: every call frame costs).
contract InvariantLens__Mock {
    struct Targets {
        ISettlementEscrow escrow;
        IUsageLedger ledger;
        IDeviceRegistry devices;
        IERC20 token;
        PlmnId[] members;
        bytes32[] batchIds;
        /// (home, visited) pairs of `period`.
        PlmnId[2][] pairs;
        uint32 period;
        DeviceId[] deviceIds;
        /// decisions[i]: decide(deviceIds[i], visited[i], Data) (empty: none asked).
        PlmnId[] visited;
    }

    struct State {
        uint256 time;
        uint256 balance;
        uint256[] deposits;
        uint256[] reserved;
        /// debts[i * n + j]: what members[i] owes members[j].
        uint256[] debts;
        address[] payouts;
        /// Pending withdrawal of each member: amount and unlock time.
        uint256[] withdrawalAmounts;
        uint40[] withdrawalUnlocks;
        /// Per pair, of the invoice of home to visited: the reveal's progress (batches opened, disputed
        /// records of the next one opened).
        uint32[] revealCursors;
        uint32[] disputeCursors;
        /// Per pair: the invoice of home to visited.
        ISettlementEscrow.InvoiceState[] invoices;
        uint8[] batchStatus;
        uint32[] disputedRecords;
        PeriodInfo[] periods;
        uint32[] policyVersions;
        uint8[] deviceStatus;
        Decision[] decisions;
    }

    function state(Targets calldata t) external view returns (State memory s) {
        address token = address(t.token);
        uint256 n = t.members.length;
        s.time = block.timestamp;
        s.balance = t.token.balanceOf(address(t.escrow));
        s.deposits = new uint256[](n);
        s.reserved = new uint256[](n);
        s.debts = new uint256[](n * n);
        s.payouts = new address[](n);
        s.withdrawalAmounts = new uint256[](n);
        s.withdrawalUnlocks = new uint40[](n);
        for (uint256 i = 0; i < n; ++i) {
            s.deposits[i] = t.escrow.deposits(t.members[i], token);
            s.reserved[i] = t.escrow.reserved(t.members[i], token);
            s.payouts[i] = t.escrow.payoutAccount(t.members[i]);
            ISettlementEscrow.Withdrawal memory w = t.escrow.pendingWithdrawal(t.members[i], token);
            (s.withdrawalAmounts[i], s.withdrawalUnlocks[i]) = (w.amount, w.unlocksAt);
            for (uint256 j = 0; j < n; ++j) s.debts[i * n + j] = t.escrow.debt(t.members[i], t.members[j], token);
        }
        s.batchStatus = new uint8[](t.batchIds.length);
        s.disputedRecords = new uint32[](t.batchIds.length);
        for (uint256 i = 0; i < t.batchIds.length; ++i) {
            BatchInfo memory b = t.ledger.getBatch(t.batchIds[i]);
            s.batchStatus[i] = uint8(b.status);
            s.disputedRecords[i] = b.disputeCount;
        }
        uint256 p = t.pairs.length;
        s.invoices = new ISettlementEscrow.InvoiceState[](p);
        s.periods = new PeriodInfo[](p);
        s.revealCursors = new uint32[](p);
        s.disputeCursors = new uint32[](p);
        for (uint256 i = 0; i < p; ++i) {
            (PlmnId home, PlmnId visited) = (t.pairs[i][0], t.pairs[i][1]);
            s.invoices[i] = t.escrow.invoice(home, visited, t.period);
            s.periods[i] = t.ledger.getPeriod(home, visited, t.period);
            (s.revealCursors[i], s.disputeCursors[i]) = t.escrow.revealProgress(home, visited, t.period);
        }
        _devices(t, s);
    }

    function _devices(Targets calldata t, State memory s) private view {
        uint256 n = t.deviceIds.length;
        s.policyVersions = new uint32[](n);
        s.deviceStatus = new uint8[](n);
        s.decisions = new Decision[](t.visited.length);
        for (uint256 i = 0; i < n; ++i) {
            if (i > 0 && DeviceId.unwrap(t.deviceIds[i]) == DeviceId.unwrap(t.deviceIds[i - 1])) {
                (s.policyVersions[i], s.deviceStatus[i]) = (s.policyVersions[i - 1], s.deviceStatus[i - 1]);
            } else {
                (s.policyVersions[i], s.deviceStatus[i]) = _device(t.devices, t.deviceIds[i]);
            }
            if (i < t.visited.length) s.decisions[i] = t.devices.decide(t.deviceIds[i], t.visited[i], Service.Data);
        }
    }

    function _device(IDeviceRegistry devices, DeviceId id) private view returns (uint32, uint8) {
        Device memory d = devices.getDevice(id);
        return (d.policyVersion, uint8(d.status));
    }
}
