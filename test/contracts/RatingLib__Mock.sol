// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IRoamingAgreements} from "../../contracts/interfaces/IRoamingAgreements.sol";
import {ISettlementEscrow} from "../../contracts/interfaces/ISettlementEscrow.sol";
import {RatingLib} from "../../contracts/libraries/RatingLib.sol";
import {ClassTotals} from "../../contracts/types/UsageTypes.sol";
import {PlmnId} from "../../contracts/types/PlmnId.sol";

/// @notice Exposes RatingLib for the TypeScript-vs-Solidity comparison: one input, or many per call.
contract RatingLib__Mock {
    struct RatingCase {
        ClassTotals[] totals;
        IRoamingAgreements.Terms terms;
        PlmnId visited;
    }

    function rate(
        ClassTotals[] memory totals,
        IRoamingAgreements.Terms memory terms,
        PlmnId visited
    ) external pure returns (ISettlementEscrow.Rating memory) {
        return RatingLib.rate(totals, terms, visited);
    }

    function rateMany(RatingCase[] memory cases) external pure returns (ISettlementEscrow.Rating[] memory out) {
        out = new ISettlementEscrow.Rating[](cases.length);
        for (uint256 i = 0; i < cases.length; ++i) {
            out[i] = RatingLib.rate(cases[i].totals, cases[i].terms, cases[i].visited);
        }
    }

    function dataCharge(
        uint64 volume,
        uint128 perMb,
        IRoamingAgreements.Tier[] memory tiers
    ) external pure returns (uint256) {
        return RatingLib.dataCharge(volume, perMb, tiers);
    }
}
