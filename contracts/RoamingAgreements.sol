// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {AgreementKey, IRoamingAgreements} from "./interfaces/IRoamingAgreements.sol";
import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {AgreementTermsLib} from "./libraries/AgreementTermsLib.sol";
import {PlmnLib} from "./libraries/PlmnLib.sol";
import {PlmnId} from "./types/PlmnId.sol";
import {Roles} from "./types/Roles.sol";

/// @title RoamingAgreements
/// @notice Bilateral roaming agreements between member carriers: proposals, acceptance, amendments, rates.
contract RoamingAgreements is IRoamingAgreements {
    using PlmnLib for PlmnId;

    /// @inheritdoc IRoamingAgreements
    uint256 public constant MAX_RATE_PLANS = AgreementTermsLib.MAX_RATE_PLANS;
    /// @inheritdoc IRoamingAgreements
    uint256 public constant MAX_TIERS = AgreementTermsLib.MAX_TIERS;
    /// @inheritdoc IRoamingAgreements
    uint32 public constant MAX_DISPUTE_WINDOW = AgreementTermsLib.MAX_DISPUTE_WINDOW;

    /// @dev `RatePlan` as stored, in 3 slots plus one per three tiers (a `Tier[]` would take a slot per tier
    /// plus one for its length): tiers packed by `AgreementTermsLib.packTier`, their count beside the rates.
    struct StoredPlan {
        PlmnId visited;
        uint8 tariffClass;
        uint8 tierCount;
        uint128 perMb;
        uint128 perSignallingEvent;
        uint128 perSms;
        uint128 perVoiceMinute;
        uint128 monthlyFeePerDevice;
        uint80[8] tiers; // AgreementTermsLib.MAX_TIERS (an array length must be a literal)
    }

    /// @dev `Terms` as stored: rate plans keyed by plan slot (see `AgreementTermsLib.planSlot`) for O(1)
    /// lookups, with the slots in proposal order to read the plans back as proposed.
    struct StoredTerms {
        address settlementToken;
        uint40 validFrom;
        uint40 validUntil;
        uint32 disputeWindow;
        uint16 permanentRoamingDays;
        uint128 permanentRoamingSurchargePerDay;
        SlaTerms sla;
        uint16[] planSlots;
        mapping(uint16 planSlot => StoredPlan) plans;
    }

    struct StoredVersion {
        PlmnId proposer;
        VersionStatus status;
        uint40 proposedAt;
        uint40 acceptedAt;
        StoredTerms terms;
    }

    struct Agreement {
        uint32 versionCount;
        uint32 pendingVersion; // 0 when none
        uint32[] acceptedVersions; // ascending
        mapping(uint32 version => StoredVersion) versions;
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
    function propose(PlmnId counterparty, Terms calldata terms) external returns (uint32 version) {
        PlmnId caller = _requireCarrier();
        require(!caller.eq(counterparty), RoamingAgreementsSelfAgreement(caller));
        require(
            _CARRIER_REGISTRY.hasRole(counterparty, Roles.CARRIER),
            RoamingAgreementsInvalidCounterparty(counterparty)
        );
        (PlmnId lo, PlmnId hi) = AgreementTermsLib.sort(caller, counterparty);
        AgreementTermsLib.validate(terms, lo, hi);

        AgreementKey key = AgreementTermsLib.key(lo, hi);
        Agreement storage agreement = _agreements[key];
        uint32 superseded = agreement.pendingVersion;
        version = agreement.versionCount + 1;
        agreement.versionCount = version;
        agreement.pendingVersion = version;
        if (superseded != 0) agreement.versions[superseded].status = VersionStatus.Superseded;
        StoredVersion storage stored = agreement.versions[version];
        stored.proposer = caller;
        stored.status = VersionStatus.Proposed;
        stored.proposedAt = uint40(block.timestamp);
        _storeTerms(stored.terms, terms, lo);

        if (superseded != 0) emit AgreementSuperseded(key, superseded, version);
        emit AgreementProposed(key, caller, counterparty, version, terms.validFrom, terms.validUntil);
    }

    /// @inheritdoc IRoamingAgreements
    function accept(PlmnId counterparty, uint32 version) external {
        PlmnId caller = _requireCarrier();
        (AgreementKey key, Agreement storage agreement) = _pending(caller, counterparty, version);
        StoredVersion storage stored = agreement.versions[version];
        require(!stored.proposer.eq(caller), RoamingAgreementsProposerCannotAccept(key, version, stored.proposer));
        require(
            _CARRIER_REGISTRY.hasRole(counterparty, Roles.CARRIER),
            RoamingAgreementsInvalidCounterparty(counterparty)
        );

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
        StoredVersion storage stored = agreement.versions[version];
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
    function ratesAt(
        PlmnId home,
        PlmnId visited,
        uint8 tariffClass,
        uint40 time
    ) external view returns (RatePlan memory plan, uint32 version) {
        AgreementKey key;
        StoredTerms storage terms;
        (key, version, terms) = _termsAt(home, visited, time);
        (PlmnId lo, ) = AgreementTermsLib.sort(home, visited);
        StoredPlan storage stored = terms.plans[AgreementTermsLib.planSlot(visited, lo, tariffClass)];
        require(!stored.visited.isZero(), RoamingAgreementsNoRatePlan(key, version, visited, tariffClass));
        plan = _loadPlan(stored);
    }

    /// @inheritdoc IRoamingAgreements
    function termsAt(
        PlmnId home,
        PlmnId visited,
        uint40 time
    ) external view returns (Terms memory terms, uint32 version) {
        StoredTerms storage stored;
        (, version, stored) = _termsAt(home, visited, time);
        terms = _loadTerms(stored);
    }

    /// @inheritdoc IRoamingAgreements
    function disputeWindowAt(PlmnId home, PlmnId visited, uint40 time) external view returns (uint32) {
        (, , StoredTerms storage terms) = _termsAt(home, visited, time);
        return terms.disputeWindow;
    }

    /// @inheritdoc IRoamingAgreements
    function hasActiveAgreement(PlmnId a, PlmnId b, uint40 time) external view returns (bool) {
        if (a.eq(b)) return false;
        if (_versionAt(_agreements[AgreementTermsLib.key(a, b)], time) == 0) return false;
        return _CARRIER_REGISTRY.isActive(a) && _CARRIER_REGISTRY.isActive(b);
    }

    /// @inheritdoc IRoamingAgreements
    function getVersion(PlmnId a, PlmnId b, uint32 version) external view returns (Version memory result) {
        AgreementKey key = AgreementTermsLib.key(a, b);
        Agreement storage agreement = _agreements[key];
        require(
            version > 0 && version <= agreement.versionCount,
            RoamingAgreementsUnknownVersion(key, version)
        );
        StoredVersion storage stored = agreement.versions[version];
        result.proposer = stored.proposer;
        result.status = stored.status;
        result.proposedAt = stored.proposedAt;
        result.acceptedAt = stored.acceptedAt;
        result.terms = _loadTerms(stored.terms);
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
            StoredTerms storage terms = agreement.versions[version].terms;
            if (terms.validFrom <= time) return time < terms.validUntil ? version : 0;
        }
        return 0;
    }

    /// @dev The terms of the version in force at `time`; reverts when none is.
    function _termsAt(
        PlmnId a,
        PlmnId b,
        uint40 time
    ) private view returns (AgreementKey key, uint32 version, StoredTerms storage terms) {
        key = AgreementTermsLib.key(a, b);
        Agreement storage agreement = _agreements[key];
        version = _versionAt(agreement, time);
        require(version != 0, RoamingAgreementsNoAgreementAt(key, time));
        terms = agreement.versions[version].terms;
    }

    /// @dev Copies validated terms from calldata; nested dynamic arrays need explicit loops.
    function _storeTerms(StoredTerms storage dst, Terms calldata src, PlmnId lo) private {
        dst.settlementToken = src.settlementToken;
        dst.validFrom = src.validFrom;
        dst.validUntil = src.validUntil;
        dst.disputeWindow = src.disputeWindow;
        dst.permanentRoamingDays = src.permanentRoamingDays;
        dst.permanentRoamingSurchargePerDay = src.permanentRoamingSurchargePerDay;
        dst.sla = src.sla;
        uint256 planCount = src.ratePlans.length;
        for (uint256 i = 0; i < planCount; ++i) {
            RatePlan calldata plan = src.ratePlans[i];
            uint16 slot = AgreementTermsLib.planSlot(plan.visited, lo, plan.tariffClass);
            dst.planSlots.push(slot);
            StoredPlan storage stored = dst.plans[slot];
            uint256 tierCount = plan.tiers.length;
            stored.visited = plan.visited;
            stored.tariffClass = plan.tariffClass;
            stored.tierCount = uint8(tierCount); // validated <= MAX_TIERS
            stored.perMb = plan.perMb;
            stored.perSignallingEvent = plan.perSignallingEvent;
            stored.perSms = plan.perSms;
            stored.perVoiceMinute = plan.perVoiceMinute;
            stored.monthlyFeePerDevice = plan.monthlyFeePerDevice;
            for (uint256 j = 0; j < tierCount; ++j) {
                stored.tiers[j] = AgreementTermsLib.packTier(plan.tiers[j]);
            }
        }
    }

    /// @dev Reads stored terms back into the `Terms` shape, plans in proposal order.
    function _loadTerms(StoredTerms storage src) private view returns (Terms memory dst) {
        dst.settlementToken = src.settlementToken;
        dst.validFrom = src.validFrom;
        dst.validUntil = src.validUntil;
        dst.disputeWindow = src.disputeWindow;
        dst.permanentRoamingDays = src.permanentRoamingDays;
        dst.permanentRoamingSurchargePerDay = src.permanentRoamingSurchargePerDay;
        dst.sla = src.sla;
        uint256 planCount = src.planSlots.length;
        dst.ratePlans = new RatePlan[](planCount);
        for (uint256 i = 0; i < planCount; ++i) {
            dst.ratePlans[i] = _loadPlan(src.plans[src.planSlots[i]]);
        }
    }

    /// @dev Reads a stored plan back into the `RatePlan` shape.
    function _loadPlan(StoredPlan storage src) private view returns (RatePlan memory dst) {
        dst.visited = src.visited;
        dst.tariffClass = src.tariffClass;
        dst.perMb = src.perMb;
        dst.perSignallingEvent = src.perSignallingEvent;
        dst.perSms = src.perSms;
        dst.perVoiceMinute = src.perVoiceMinute;
        dst.monthlyFeePerDevice = src.monthlyFeePerDevice;
        uint256 tierCount = src.tierCount;
        dst.tiers = new Tier[](tierCount);
        for (uint256 j = 0; j < tierCount; ++j) {
            dst.tiers[j] = AgreementTermsLib.unpackTier(src.tiers[j]);
        }
    }
}
