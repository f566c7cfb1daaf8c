// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {AgreementKey, IRoamingAgreements} from "../../contracts/interfaces/IRoamingAgreements.sol";
import {PlmnId} from "../../contracts/types/PlmnId.sol";

/// @notice Stands in for the v2 RoamingAgreements in the ledger's and the escrow's tests.
/// - Ledger side: the test says which pairs have an agreement in force and which dispute window their terms
///   give (`setAgreement`), and changes either at any time (an amendment, a termination). The pair is
///   unordered; the window is the same both ways.
/// - Escrow side: the test adds accepted versions (public terms) to a pair (`addVersion`); `termsAt` applies
///   the agreements' rule (the highest version whose validFrom <= t, if t < its validUntil, else
///   `RoamingAgreementsNoAgreementAt`). `setBroken` makes `termsAt` fail otherwise.
contract RoamingAgreements__Mock {
    uint32 public constant MAX_DISPUTE_WINDOW = 90 days;

    error RoamingAgreements__MockNoAgreement(PlmnId home, PlmnId visited);
    error RoamingAgreementsMockBroken();

    mapping(bytes32 pair => bool) private _active;
    mapping(bytes32 pair => uint32) private _window;
    mapping(AgreementKey key => IRoamingAgreements.PublicTerms[]) private _versions;
    bool private _broken;

    /// @notice Puts an agreement between `a` and `b` in force (or ends it) with dispute window `window`.
    function setAgreement(PlmnId a, PlmnId b, bool active, uint32 window) external {
        _active[_pair(a, b)] = active;
        _window[_pair(a, b)] = window;
    }

    /// @notice Adds the next accepted version of the pair's agreement.
    function addVersion(PlmnId a, PlmnId b, IRoamingAgreements.PublicTerms calldata terms) external returns (uint32) {
        _versions[agreementKey(a, b)].push(terms);
        return uint32(_versions[agreementKey(a, b)].length);
    }

    function setBroken(bool broken) external {
        _broken = broken;
    }

    function hasActiveAgreement(PlmnId a, PlmnId b, uint40) external view returns (bool) {
        return _active[_pair(a, b)];
    }

    /// @notice As the real one: reverts when no agreement is in force.
    function disputeWindowAt(PlmnId home, PlmnId visited, uint40) external view returns (uint32) {
        bytes32 pair = _pair(home, visited);
        require(_active[pair], RoamingAgreements__MockNoAgreement(home, visited));
        return _window[pair];
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

    function _pair(PlmnId a, PlmnId b) private pure returns (bytes32) {
        (bytes3 x, bytes3 y) = (PlmnId.unwrap(a), PlmnId.unwrap(b));
        return x < y ? keccak256(abi.encode(x, y)) : keccak256(abi.encode(y, x));
    }
}
