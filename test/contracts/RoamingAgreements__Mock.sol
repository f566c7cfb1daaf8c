// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {AgreementKey, IRoamingAgreements} from "../../contracts/interfaces/IRoamingAgreements.sol";
import {PlmnId} from "../../contracts/types/PlmnId.sol";

/// @notice Stands in for the v2 RoamingAgreements in escrow tests: the test adds accepted versions (public
/// terms) to a pair; `termsAt` applies the agreements' rule (the highest version whose validFrom <= t, if t <
/// its validUntil, else `RoamingAgreementsNoAgreementAt`). `setBroken` makes `termsAt` fail otherwise.
contract RoamingAgreements__Mock {
    uint32 public constant MAX_DISPUTE_WINDOW = 90 days;

    mapping(AgreementKey key => IRoamingAgreements.PublicTerms[]) private _versions;
    bool private _broken;

    error RoamingAgreementsMockBroken();

    /// @notice Adds the next accepted version of the pair's agreement.
    function addVersion(PlmnId a, PlmnId b, IRoamingAgreements.PublicTerms calldata terms) external returns (uint32) {
        _versions[agreementKey(a, b)].push(terms);
        return uint32(_versions[agreementKey(a, b)].length);
    }

    function setBroken(bool broken) external {
        _broken = broken;
    }

    function termsAt(
        PlmnId home,
        PlmnId visited,
        uint40 time
    ) external view returns (IRoamingAgreements.PublicTerms memory, uint32) {
        require(!_broken, RoamingAgreementsMockBroken());
        AgreementKey key = agreementKey(home, visited);
        IRoamingAgreements.PublicTerms[] storage versions = _versions[key];
        for (uint256 i = versions.length; i > 0; --i) {
            IRoamingAgreements.PublicTerms storage t = versions[i - 1];
            if (t.validFrom > time) continue;
            require(time < t.validUntil, IRoamingAgreements.RoamingAgreementsNoAgreementAt(key, time));
            return (t, uint32(i));
        }
        revert IRoamingAgreements.RoamingAgreementsNoAgreementAt(key, time);
    }

    function agreementKey(PlmnId a, PlmnId b) public pure returns (AgreementKey) {
        (bytes3 lo, bytes3 hi) = PlmnId.unwrap(a) < PlmnId.unwrap(b)
            ? (PlmnId.unwrap(a), PlmnId.unwrap(b))
            : (PlmnId.unwrap(b), PlmnId.unwrap(a));
        return AgreementKey.wrap(keccak256(abi.encodePacked(lo, hi)));
    }
}
