// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IRoamingAgreements} from "../../contracts/interfaces/IRoamingAgreements.sol";
import {AgreementTermsLib} from "../../contracts/libraries/AgreementTermsLib.sol";
import {CommitmentLib} from "../../contracts/libraries/CommitmentLib.sol";
import {PlmnId} from "../../contracts/types/PlmnId.sol";

/// @notice Exposes AgreementTermsLib's validation of full terms (as the escrow runs it on revealed terms) and
/// CommitmentLib's commitment to terms, for the tests to check against ethers.
contract AgreementTermsLib__Harness {
    /// @notice Reverts as `AgreementTermsLib.validate` does for `terms` between `a` and `b` (any order).
    function validate(IRoamingAgreements.Terms memory terms, PlmnId a, PlmnId b) external pure {
        (PlmnId lo, PlmnId hi) = AgreementTermsLib.sort(a, b);
        AgreementTermsLib.validate(terms, lo, hi);
    }

    /// @notice `AgreementTermsLib.pricedClasses` for `terms` between `a` and `b` (any order): [lo's, hi's].
    function pricedClasses(
        IRoamingAgreements.Terms memory terms,
        PlmnId a,
        PlmnId b
    ) external pure returns (uint256[2] memory) {
        (PlmnId lo, PlmnId hi) = AgreementTermsLib.sort(a, b);
        return AgreementTermsLib.pricedClasses(terms, lo, hi);
    }

    /// @notice Reverts as `AgreementTermsLib.requirePricedClasses` does.
    function requirePricedClasses(
        IRoamingAgreements.Terms memory terms,
        IRoamingAgreements.PublicTerms memory publicTerms,
        PlmnId a,
        PlmnId b
    ) external pure {
        (PlmnId lo, PlmnId hi) = AgreementTermsLib.sort(a, b);
        AgreementTermsLib.requirePricedClasses(terms, publicTerms, lo, hi);
    }

    /// @notice `CommitmentLib.terms(terms, salt)`.
    function commitTerms(IRoamingAgreements.Terms memory terms, bytes32 salt) external pure returns (bytes32) {
        return CommitmentLib.terms(terms, salt);
    }
}
