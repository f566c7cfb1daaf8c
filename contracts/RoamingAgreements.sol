// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {AgreementKey, IRoamingAgreements} from "./interfaces/IRoamingAgreements.sol";
import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {AgreementTermsLib} from "./libraries/AgreementTermsLib.sol";
import {PlmnLib} from "./libraries/PlmnLib.sol";
import {PlmnId} from "./types/PlmnId.sol";
import {Roles} from "./types/Roles.sol";

/// @title RoamingAgreements
/// @notice Bilateral roaming agreements between member carriers: proposals, acceptance and amendments of the
/// public part of each version; the full terms travel sealed in an event and are never stored.
contract RoamingAgreements is IRoamingAgreements {
    using PlmnLib for PlmnId;

    /// @inheritdoc IRoamingAgreements
    uint256 public constant MAX_SEALED_TERMS = 65_536;
    /// @inheritdoc IRoamingAgreements
    uint32 public constant MAX_DISPUTE_WINDOW = AgreementTermsLib.MAX_DISPUTE_WINDOW;

    struct Agreement {
        uint32 versionCount;
        uint32 pendingVersion; // 0 when none
        uint32[] acceptedVersions; // ascending
        mapping(uint32 version => Version) versions;
    }

    ICarrierRegistry private immutable _CARRIER_REGISTRY;

    mapping(AgreementKey key => Agreement) private _agreements;
    mapping(PlmnId plmn => PlmnId[]) private _counterparties;

    /// @param carrierRegistry_ The consortium's registry, which authorizes every caller.
    constructor(ICarrierRegistry carrierRegistry_) {
        require(
            address(carrierRegistry_).code.length > 0,
            RoamingAgreementsInvalidRegistry(address(carrierRegistry_))
        );
        _CARRIER_REGISTRY = carrierRegistry_;
    }

    // ------------------------------------------------------------------------------------------------
    // Negotiation
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc IRoamingAgreements
    function propose(
        PlmnId counterparty,
        PublicTerms calldata terms,
        bytes calldata sealedTerms
    ) external returns (uint32 version) {
        PlmnId caller = _requireCarrier();
        require(!caller.eq(counterparty), RoamingAgreementsSelfAgreement(caller));
        require(
            _CARRIER_REGISTRY.hasRole(counterparty, Roles.CARRIER),
            RoamingAgreementsInvalidCounterparty(counterparty)
        );
        AgreementTermsLib.validatePublic(terms);
        require(
            sealedTerms.length > 0 && sealedTerms.length <= MAX_SEALED_TERMS,
            RoamingAgreementsInvalidSealedTermsLength(sealedTerms.length)
        );

        AgreementKey key = AgreementTermsLib.key(caller, counterparty);
        Agreement storage agreement = _agreements[key];
        uint32 superseded = agreement.pendingVersion;
        version = agreement.versionCount + 1;
        agreement.versionCount = version;
        agreement.pendingVersion = version;
        if (superseded != 0) agreement.versions[superseded].status = VersionStatus.Superseded;
        agreement.versions[version] = Version({
            proposer: caller,
            status: VersionStatus.Proposed,
            proposedAt: uint40(block.timestamp),
            acceptedAt: 0,
            terms: terms
        });

        if (superseded != 0) emit AgreementSuperseded(key, superseded, version);
        emit AgreementProposed(
            key,
            caller,
            counterparty,
            version,
            terms.validFrom,
            terms.validUntil,
            terms.termsCommitment
        );
        emit AgreementTermsSealed(key, version, sealedTerms);
    }

    /// @inheritdoc IRoamingAgreements
    function accept(PlmnId counterparty, uint32 version, bytes32 termsCommitment) external {
        PlmnId caller = _requireCarrier();
        (AgreementKey key, Agreement storage agreement) = _pending(caller, counterparty, version);
        Version storage stored = agreement.versions[version];
        require(!stored.proposer.eq(caller), RoamingAgreementsProposerCannotAccept(key, version, stored.proposer));
        require(
            _CARRIER_REGISTRY.hasRole(counterparty, Roles.CARRIER),
            RoamingAgreementsInvalidCounterparty(counterparty)
        );
        bytes32 expected = stored.terms.termsCommitment;
        require(
            termsCommitment == expected,
            RoamingAgreementsCommitmentMismatch(key, version, expected, termsCommitment)
        );
        uint40 validUntil = stored.terms.validUntil;
        require(block.timestamp < validUntil, RoamingAgreementsProposalExpired(key, version, validUntil));

        stored.status = VersionStatus.Accepted;
        stored.acceptedAt = uint40(block.timestamp);
        agreement.pendingVersion = 0;
        if (agreement.acceptedVersions.length == 0) {
            _counterparties[caller].push(counterparty);
            _counterparties[counterparty].push(caller);
        }
        agreement.acceptedVersions.push(version);

        emit AgreementAccepted(key, caller, version);
    }

    /// @inheritdoc IRoamingAgreements
    function withdraw(PlmnId counterparty, uint32 version) external {
        PlmnId caller = _requireCarrier();
        (AgreementKey key, Agreement storage agreement) = _pending(caller, counterparty, version);
        Version storage stored = agreement.versions[version];
        require(stored.proposer.eq(caller), RoamingAgreementsNotProposer(key, version, caller));

        stored.status = VersionStatus.Withdrawn;
        agreement.pendingVersion = 0;

        emit AgreementWithdrawn(key, caller, version);
    }

    // ------------------------------------------------------------------------------------------------
    // Lookups
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc IRoamingAgreements
    function carrierRegistry() external view returns (ICarrierRegistry) {
        return _CARRIER_REGISTRY;
    }

    /// @inheritdoc IRoamingAgreements
    function agreementKey(PlmnId a, PlmnId b) external pure returns (AgreementKey) {
        return AgreementTermsLib.key(a, b);
    }

    /// @inheritdoc IRoamingAgreements
    function termsAt(
        PlmnId home,
        PlmnId visited,
        uint40 time
    ) external view returns (PublicTerms memory terms, uint32 version) {
        PublicTerms storage stored;
        (version, stored) = _termsAt(home, visited, time);
        terms = stored;
    }

    /// @inheritdoc IRoamingAgreements
    function disputeWindowAt(PlmnId home, PlmnId visited, uint40 time) external view returns (uint32) {
        (, PublicTerms storage terms) = _termsAt(home, visited, time);
        return terms.disputeWindow;
    }

    /// @inheritdoc IRoamingAgreements
    function pricedClassesAt(PlmnId home, PlmnId visited, uint40 time) external view returns (uint256) {
        if (home.eq(visited)) return 0;
        Agreement storage agreement = _agreements[AgreementTermsLib.key(home, visited)];
        uint32 version = _versionAt(agreement, time);
        if (version == 0) return 0;
        PublicTerms storage terms = agreement.versions[version].terms;
        (PlmnId lo, ) = AgreementTermsLib.sort(home, visited);
        return visited.eq(lo) ? terms.pricedClassesLo : terms.pricedClassesHi;
    }

    /// @inheritdoc IRoamingAgreements
    function ratingCommitmentOf(
        PlmnId payer,
        PlmnId payee,
        uint32 version
    ) external view returns (uint16 circuit, bytes32 commitment) {
        if (payer.eq(payee)) return (0, 0);
        PublicTerms storage terms = _agreements[AgreementTermsLib.key(payer, payee)].versions[version].terms;
        (PlmnId lo, ) = AgreementTermsLib.sort(payer, payee);
        return (terms.ratingCircuit, payee.eq(lo) ? terms.ratingCommitmentLo : terms.ratingCommitmentHi);
    }

    /// @inheritdoc IRoamingAgreements
    function hasActiveAgreement(PlmnId a, PlmnId b, uint40 time) external view returns (bool) {
        if (a.eq(b)) return false;
        if (_versionAt(_agreements[AgreementTermsLib.key(a, b)], time) == 0) return false;
        return _CARRIER_REGISTRY.isActive(a) && _CARRIER_REGISTRY.isActive(b);
    }

    /// @inheritdoc IRoamingAgreements
    function getVersion(PlmnId a, PlmnId b, uint32 version) external view returns (Version memory) {
        AgreementKey key = AgreementTermsLib.key(a, b);
        Agreement storage agreement = _agreements[key];
        require(
            version > 0 && version <= agreement.versionCount,
            RoamingAgreementsUnknownVersion(key, version)
        );
        return agreement.versions[version];
    }

    /// @inheritdoc IRoamingAgreements
    function versionCount(PlmnId a, PlmnId b) external view returns (uint32) {
        return _agreements[AgreementTermsLib.key(a, b)].versionCount;
    }

    /// @inheritdoc IRoamingAgreements
    function pendingVersion(PlmnId a, PlmnId b) external view returns (uint32) {
        return _agreements[AgreementTermsLib.key(a, b)].pendingVersion;
    }

    /// @inheritdoc IRoamingAgreements
    function acceptedVersions(PlmnId a, PlmnId b) external view returns (uint32[] memory) {
        return _agreements[AgreementTermsLib.key(a, b)].acceptedVersions;
    }

    /// @inheritdoc IRoamingAgreements
    function counterparties(PlmnId plmn) external view returns (PlmnId[] memory) {
        return _counterparties[plmn];
    }

    // ------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------

    /// @dev The caller's member: an active carrier, or the registry's revert.
    function _requireCarrier() private view returns (PlmnId) {
        return _CARRIER_REGISTRY.requireActiveOperator(msg.sender, Roles.CARRIER);
    }

    /// @dev The agreement between the caller and `counterparty`, whose pending proposal must be `version`.
    function _pending(
        PlmnId caller,
        PlmnId counterparty,
        uint32 version
    ) private view returns (AgreementKey key, Agreement storage agreement) {
        key = AgreementTermsLib.key(caller, counterparty);
        agreement = _agreements[key];
        uint32 pending = agreement.pendingVersion;
        require(version != 0 && version == pending, RoamingAgreementsVersionNotPending(key, version, pending));
    }

    /// @dev The version in force at `time`, or 0: the highest accepted version whose validFrom <= `time`,
    /// provided `time` is before its validUntil. Its window alone decides: an older version never shows
    /// through after it ends. Walks the accepted versions from the newest (two storage reads each), so a
    /// lookup at the current time usually stops at the first.
    function _versionAt(Agreement storage agreement, uint40 time) private view returns (uint32) {
        uint32[] storage accepted = agreement.acceptedVersions;
        for (uint256 i = accepted.length; i > 0; --i) {
            uint32 version = accepted[i - 1];
            PublicTerms storage terms = agreement.versions[version].terms;
            if (terms.validFrom <= time) return time < terms.validUntil ? version : 0;
        }
        return 0;
    }

    /// @dev The public terms of the version in force at `time`; reverts when none is.
    function _termsAt(
        PlmnId a,
        PlmnId b,
        uint40 time
    ) private view returns (uint32 version, PublicTerms storage terms) {
        AgreementKey key = AgreementTermsLib.key(a, b);
        Agreement storage agreement = _agreements[key];
        version = _versionAt(agreement, time);
        require(version != 0, RoamingAgreementsNoAgreementAt(key, time));
        terms = agreement.versions[version].terms;
    }
}
