// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {IRoamingAgreements} from "../interfaces/IRoamingAgreements.sol";
import {ClassTotals} from "../types/UsageTypes.sol";

/// @notice The salted commitments that stand on chain for what only the two carriers of a pair may see.
/// Each is keccak256(abi.encode(tag, salt, keccak256(abi.encode(value)))): the tag separates the kinds, the
/// 256-bit salt is secret (sealed for the counterparty), so no value can be found by hashing candidates.
/// lib/crypto/commitment.ts computes the same words and must agree with this library.
library CommitmentLib {
    /// @notice Tag of a commitment to an agreement version's full `Terms`.
    bytes32 internal constant TERMS_TAG = keccak256("RoamLedger.TermsCommitment.v1");
    /// @notice Tag of a commitment to one batch's record count and `ClassTotals[]`.
    bytes32 internal constant BATCH_TOTALS_TAG = keccak256("RoamLedger.BatchTotalsCommitment.v1");
    /// @notice Tag of a commitment to a period's rated `ClassTotals[]` (what an invoice rates).
    bytes32 internal constant PERIOD_TOTALS_TAG = keccak256("RoamLedger.PeriodTotalsCommitment.v1");

    /// @notice The commitment to `terms` under `salt`.
    function terms(IRoamingAgreements.Terms memory t, bytes32 salt) internal pure returns (bytes32) {
        return keccak256(abi.encode(TERMS_TAG, salt, keccak256(abi.encode(t))));
    }

    /// @notice The commitment to a batch's `recordCount` and billable `totals` under `salt`.
    function batchTotals(
        uint32 recordCount,
        ClassTotals[] memory totals,
        bytes32 salt
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(BATCH_TOTALS_TAG, salt, keccak256(abi.encode(recordCount, totals))));
    }

    /// @notice The commitment to a period's rated `totals` under `salt`.
    function periodTotals(ClassTotals[] memory totals, bytes32 salt) internal pure returns (bytes32) {
        return keccak256(abi.encode(PERIOD_TOTALS_TAG, salt, keccak256(abi.encode(totals))));
    }
}
