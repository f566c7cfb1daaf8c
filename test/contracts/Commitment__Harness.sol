// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {CommitmentLib} from "../../contracts/libraries/CommitmentLib.sol";
import {IRoamingAgreements} from "../../contracts/interfaces/IRoamingAgreements.sol";
import {ClassTotals} from "../../contracts/types/UsageTypes.sol";

/// @notice CommitmentLib's three commitments, callable on their own so that tests can check the words
/// lib/crypto/commitment.ts computes against the contracts'.
contract Commitment__Harness {
    function terms(IRoamingAgreements.Terms memory t, bytes32 salt) external pure returns (bytes32) {
        return CommitmentLib.terms(t, salt);
    }

    function batchTotals(
        uint32 recordCount,
        ClassTotals[] memory totals,
        bytes32 salt
    ) external pure returns (bytes32) {
        return CommitmentLib.batchTotals(recordCount, totals, salt);
    }

    function periodTotals(ClassTotals[] memory totals, bytes32 salt) external pure returns (bytes32) {
        return CommitmentLib.periodTotals(totals, salt);
    }

    function tags() external pure returns (bytes32 termsTag, bytes32 batchTotalsTag, bytes32 periodTotalsTag) {
        return (CommitmentLib.TERMS_TAG, CommitmentLib.BATCH_TOTALS_TAG, CommitmentLib.PERIOD_TOTALS_TAG);
    }
}
