// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {AgreementKey, IRoamingAgreements} from "../interfaces/IRoamingAgreements.sol";
import {PlmnId} from "../types/PlmnId.sol";
import {PlmnLib} from "./PlmnLib.sol";

/// @notice Keys, plan slots and validation of roaming-agreement terms.
library AgreementTermsLib {
    using PlmnLib for PlmnId;

    /// @notice Most rate plans in one version's terms.
    uint256 internal constant MAX_RATE_PLANS = 64;
    /// @notice Most volume tiers in one rate plan.
    uint256 internal constant MAX_TIERS = 8;
    /// @notice Longest dispute window.
    uint32 internal constant MAX_DISPUTE_WINDOW = 90 days;
    /// @notice 100 % in basis points.
    uint16 internal constant BPS = 10_000;

    /// @notice The two ids in ascending order.
    function sort(PlmnId a, PlmnId b) internal pure returns (PlmnId lo, PlmnId hi) {
        return PlmnId.unwrap(a) < PlmnId.unwrap(b) ? (a, b) : (b, a);
    }

    /// @notice `keccak256(abi.encodePacked(lo, hi))` of the pair sorted ascending.
    function key(PlmnId a, PlmnId b) internal pure returns (AgreementKey) {
        (PlmnId lo, PlmnId hi) = sort(a, b);
        return AgreementKey.wrap(keccak256(abi.encodePacked(PlmnId.unwrap(lo), PlmnId.unwrap(hi))));
    }

    /// @notice Where a plan lives in a version: 0..255 when the lower id of the pair is the visited carrier,
    /// 256..511 when the higher one is, plus the tariff class.
    function planSlot(PlmnId visited, PlmnId lo, uint8 tariffClass) internal pure returns (uint16) {
        return (visited.eq(lo) ? 0 : 256) + uint16(tariffClass);
    }

    /// @notice A tier in 80 bits: `fromMb << 16 | discountBps`, so that three tiers share a storage slot.
    function packTier(IRoamingAgreements.Tier calldata tier) internal pure returns (uint80) {
        return (uint80(tier.fromMb) << 16) | uint80(tier.discountBps);
    }

    /// @notice The inverse of `packTier`.
    function unpackTier(uint80 packed) internal pure returns (IRoamingAgreements.Tier memory) {
        return IRoamingAgreements.Tier({fromMb: uint64(packed >> 16), discountBps: uint16(packed)});
    }

    /// @notice Reverts with the first problem found in `terms` between the parties `lo` and `hi`.
    function validate(IRoamingAgreements.Terms calldata terms, PlmnId lo, PlmnId hi) internal view {
        address token = terms.settlementToken;
        require(token.code.length > 0, IRoamingAgreements.RoamingAgreementsInvalidSettlementToken(token));
        require(
            terms.validFrom < terms.validUntil && terms.validUntil > block.timestamp,
            IRoamingAgreements.RoamingAgreementsInvalidValidity(terms.validFrom, terms.validUntil)
        );
        require(
            terms.disputeWindow > 0 && terms.disputeWindow <= MAX_DISPUTE_WINDOW,
            IRoamingAgreements.RoamingAgreementsInvalidDisputeWindow(terms.disputeWindow)
        );
        require(
            terms.permanentRoamingDays > 0 || terms.permanentRoamingSurchargePerDay == 0,
            IRoamingAgreements.RoamingAgreementsInvalidPermanentRoaming(
                terms.permanentRoamingDays,
                terms.permanentRoamingSurchargePerDay
            )
        );
        _validateSla(terms.sla);

        uint256 count = terms.ratePlans.length;
        require(count > 0 && count <= MAX_RATE_PLANS, IRoamingAgreements.RoamingAgreementsInvalidPlanCount(count));
        uint256[2] memory seen; // one bit per plan slot
        for (uint256 i = 0; i < count; ++i) {
            IRoamingAgreements.RatePlan calldata plan = terms.ratePlans[i];
            require(
                plan.visited.eq(lo) || plan.visited.eq(hi),
                IRoamingAgreements.RoamingAgreementsInvalidVisited(i, plan.visited)
            );
            uint16 slot = planSlot(plan.visited, lo, plan.tariffClass);
            uint256 bit = 1 << (slot & 0xFF);
            require(
                seen[slot >> 8] & bit == 0,
                IRoamingAgreements.RoamingAgreementsDuplicatePlan(i, plan.visited, plan.tariffClass)
            );
            seen[slot >> 8] |= bit;
            _validateTiers(i, plan.tiers);
        }
    }

    function _validateSla(IRoamingAgreements.SlaTerms calldata sla) private pure {
        require(
            sla.minAvailabilityBps <= BPS &&
                sla.latencyCreditBps <= BPS &&
                sla.throughputCreditBps <= BPS &&
                sla.availabilityCreditBps <= BPS,
            IRoamingAgreements.RoamingAgreementsInvalidSla(
                sla.minAvailabilityBps,
                sla.latencyCreditBps,
                sla.throughputCreditBps,
                sla.availabilityCreditBps
            )
        );
    }

    function _validateTiers(uint256 planIndex, IRoamingAgreements.Tier[] calldata tiers) private pure {
        uint256 count = tiers.length;
        require(count <= MAX_TIERS, IRoamingAgreements.RoamingAgreementsTooManyTiers(planIndex, count));
        for (uint256 j = 0; j < count; ++j) {
            IRoamingAgreements.Tier calldata tier = tiers[j];
            bool ok = tier.discountBps <= BPS;
            if (j > 0) {
                IRoamingAgreements.Tier calldata prev = tiers[j - 1];
                ok = ok && tier.fromMb > prev.fromMb && tier.discountBps >= prev.discountBps;
            }
            require(ok, IRoamingAgreements.RoamingAgreementsInvalidTier(planIndex, j));
        }
    }
}
