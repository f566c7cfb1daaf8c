// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {AgreementKey, IRoamingAgreements} from "../interfaces/IRoamingAgreements.sol";
import {PlmnId} from "../types/PlmnId.sol";
import {PlmnLib} from "./PlmnLib.sol";

/// @notice Keys of agreements and validation of their terms: the public part at proposal (`validatePublic`),
/// the full terms wherever they are revealed (`validate`).
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

    /// @notice Reverts with the first problem found in the public part of a proposal: the token is not a
    /// contract, the validity is empty or over, the dispute window is out of range, the commitment is zero,
    /// no class is priced on either side, a rating circuit without both rating commitments (or commitments
    /// without a circuit).
    function validatePublic(IRoamingAgreements.PublicTerms calldata terms) internal view {
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
        require(terms.termsCommitment != 0, IRoamingAgreements.RoamingAgreementsMissingTermsCommitment());
        require(
            terms.pricedClassesLo | terms.pricedClassesHi != 0,
            IRoamingAgreements.RoamingAgreementsNoPricedClass()
        );
        bool zk = terms.ratingCircuit != 0;
        require(
            zk == (terms.ratingCommitmentLo != 0) && zk == (terms.ratingCommitmentHi != 0),
            IRoamingAgreements.RoamingAgreementsInvalidRatingCommitments(terms.ratingCircuit)
        );
    }

    /// @notice The classes each side of the pair (`lo`, `hi`, sorted) prices in `terms`: bit `c` of `priced[0]`
    /// when a plan prices (lo, c), of `priced[1]` when one prices (hi, c). Plans for a third carrier count
    /// for no side (`validate` refuses them).
    function pricedClasses(
        IRoamingAgreements.Terms memory terms,
        PlmnId lo,
        PlmnId hi
    ) internal pure returns (uint256[2] memory priced) {
        uint256 count = terms.ratePlans.length;
        for (uint256 i = 0; i < count; ++i) {
            IRoamingAgreements.RatePlan memory plan = terms.ratePlans[i];
            if (plan.visited.eq(lo)) priced[0] |= uint256(1) << plan.tariffClass;
            else if (plan.visited.eq(hi)) priced[1] |= uint256(1) << plan.tariffClass;
        }
    }

    /// @notice Reverts unless the public sets of `publicTerms` are the classes the revealed `terms` price.
    /// @dev For the reveal path, after the commitment is checked: a proposer that declared a class it does
    /// not price (or hid one it does) is caught when its terms are revealed.
    function requirePricedClasses(
        IRoamingAgreements.Terms memory terms,
        IRoamingAgreements.PublicTerms memory publicTerms,
        PlmnId lo,
        PlmnId hi
    ) internal pure {
        uint256[2] memory priced = pricedClasses(terms, lo, hi);
        require(
            priced[0] == publicTerms.pricedClassesLo && priced[1] == publicTerms.pricedClassesHi,
            IRoamingAgreements.RoamingAgreementsPricedClassesMismatch(
                priced[0],
                priced[1],
                publicTerms.pricedClassesLo,
                publicTerms.pricedClassesHi
            )
        );
    }

    /// @notice Reverts with the first problem found in the full `terms` between the parties `lo` and `hi`
    /// (sorted): a surcharge without a limit, an SLA figure over 100 %, a plan count out of range, a plan for
    /// a third carrier or a duplicate (visited, tariffClass), too many or badly ordered tiers.
    /// @dev What the chain cannot check at proposal, since it sees only the commitment: the escrow calls it on
    /// revealed terms (after checking that they open the version's commitment). The token, validity and
    /// window are not checked here: they are checked at proposal on the public part, which the committed terms
    /// must equal, and the validity is over by the time terms are revealed.
    function validate(IRoamingAgreements.Terms memory terms, PlmnId lo, PlmnId hi) internal pure {
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
        uint256[2] memory seen; // one bit per (visited side, tariff class)
        for (uint256 i = 0; i < count; ++i) {
            IRoamingAgreements.RatePlan memory plan = terms.ratePlans[i];
            require(
                plan.visited.eq(lo) || plan.visited.eq(hi),
                IRoamingAgreements.RoamingAgreementsInvalidVisited(i, plan.visited)
            );
            uint256 side = plan.visited.eq(lo) ? 0 : 1;
            uint256 bit = 1 << plan.tariffClass;
            require(
                seen[side] & bit == 0,
                IRoamingAgreements.RoamingAgreementsDuplicatePlan(i, plan.visited, plan.tariffClass)
            );
            seen[side] |= bit;
            _validateTiers(i, plan.tiers);
        }
    }

    function _validateSla(IRoamingAgreements.SlaTerms memory sla) private pure {
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

    function _validateTiers(uint256 planIndex, IRoamingAgreements.Tier[] memory tiers) private pure {
        uint256 count = tiers.length;
        require(count <= MAX_TIERS, IRoamingAgreements.RoamingAgreementsTooManyTiers(planIndex, count));
        for (uint256 j = 0; j < count; ++j) {
            IRoamingAgreements.Tier memory tier = tiers[j];
            bool ok = tier.discountBps <= BPS;
            if (j > 0) {
                IRoamingAgreements.Tier memory prev = tiers[j - 1];
                ok = ok && tier.fromMb > prev.fromMb && tier.discountBps >= prev.discountBps;
            }
            require(ok, IRoamingAgreements.RoamingAgreementsInvalidTier(planIndex, j));
        }
    }
}
