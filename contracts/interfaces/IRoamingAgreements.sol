// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";
import {ICarrierRegistry} from "./ICarrierRegistry.sol";

/// @notice Id of the agreement between an unordered pair of carriers:
/// `keccak256(abi.encodePacked(lo, hi))` of the two PLMN ids sorted ascending (see `agreementKey`).
type AgreementKey is bytes32;

/// @title Bilateral roaming agreements between member carriers: the public part of each version and the
/// amendment history. The rates themselves stay off chain, behind a salted commitment.
/// @notice Each pair of carriers has at most one agreement, made of versions 1..n: version 1 is the initial
/// agreement, later versions are amendments carrying full new terms. One side proposes a version, the other
/// accepts it. At most one proposal per pair is pending: a new proposal by either side (a counter-offer)
/// supersedes it.
/// The version in force at a time t is the accepted version with the highest number whose validFrom <= t,
/// provided t < its validUntil; otherwise none is (also before the earliest validFrom). An accepted
/// amendment thus replaces every older version from its validFrom on, for as long as its own window runs
/// and no longer: an amendment with an earlier validUntil shortens or terminates the agreement, and an
/// older version's window never applies again after a newer version has started.
/// @dev Trust assumptions:
/// - `ICarrierRegistry` (immutable, set at deployment) is trusted to say who acts for which member: any
///   operator account of an active CARRIER member proposes, accepts and withdraws for that member.
/// - A version binds both parties once accepted: accepted versions are never changed or removed. An agreement
///   is ended or changed only by an accepted amendment; a party that stops trusting the other has it
///   suspended in the registry, which makes `hasActiveAgreement` false at once.
/// - Confidentiality: the chain holds only the public part of each version (`PublicTerms`: token, validity,
///   dispute window and a salted commitment to the full terms). The full terms travel sealed to the
///   counterparty in `AgreementTermsSealed`, which is emitted and never stored. Their validity (plans, tiers,
///   SLA bounds) is checked by the counterparty before it accepts (lib/agreements), since the chain cannot see
///   them, and again by the escrow (`AgreementTermsLib.validate`) if they are ever revealed. The acceptor names
///   the commitment it checked, so a proposal cannot be accepted on terms other than those it opened.
/// - Which tariff classes each side prices (`PublicTerms.pricedClassesLo` / `pricedClassesHi`) is public, so
///   that `decide` refuses service in an unpriced class; the acceptor checks the sets against the sealed
///   terms before accepting (lib/agreements), as it checks the token, validity and window. The chain cannot
///   check them at proposal; a party that accepts terms whose sets differ from their plans accepts that the
///   sets decide service.
/// - Public terms stay readable (`termsAt`) whatever the parties' registry status, so that usage already
///   served can still be settled after a suspension.
/// - An amendment may start before the time it is accepted (retroactive terms), and may end before it is
///   accepted (retroactive termination from its validFrom). The acceptor accepts that explicitly; consumers
///   that must not re-rate settled periods (settlement) snapshot the rates they use.
/// - The settlement token is only checked to be a contract; its behaviour is the parties' business.
/// - Terms are bounded (`AgreementTermsLib.MAX_RATE_PLANS` plans of `AgreementTermsLib.MAX_TIERS` tiers each,
///   checked by the counterparty and by the escrow when terms are revealed), and so is their sealed form
///   (`MAX_SEALED_TERMS`). A lookup walks the accepted versions from the newest, stopping at the first that has
///   started; their number grows only with both parties' consent.
interface IRoamingAgreements {
    /// @notice Lifecycle of a version. `None` is the default of a version that does not exist.
    /// @dev Proposed -> Accepted | Withdrawn | Superseded; the three are final.
    enum VersionStatus {
        None,
        Proposed,
        Accepted,
        Withdrawn,
        Superseded
    }

    /// @notice A volume tier of a rate plan: a marginal discount on data volume above `fromMb`. Tiers are a
    /// wholesale volume discount: they apply to the total data volume of the plan's tariff class between the
    /// two carriers in a billing period, all devices together (not per device). See `RatingLib`.
    /// @param fromMb Threshold in MB (1,000,000 bytes) of the class's total data volume in the billing period.
    /// @param discountBps Discount on `perMb` for volume above the threshold (up to the next tier's), in basis
    /// points (<= 10000).
    struct Tier {
        uint64 fromMb;
        uint16 discountBps;
    }

    /// @notice What the visited carrier charges the home carrier for one tariff class. Amounts are in
    /// settlement-token units.
    /// @param visited The carrier that serves and bills: one of the two parties.
    /// @param tariffClass The device tariff class (set in each device's policy) that the plan prices.
    /// @param perMb Price of 1,000,000 bytes of data (before tier discounts).
    /// @param perSignallingEvent Price of one signalling event (attach, location update, ...).
    /// @param perSms Price of one SMS.
    /// @param perVoiceMinute Price of one voice minute.
    /// @param monthlyFeePerDevice Fee per device active in the visited network in a month.
    /// @param tiers Volume discounts, strictly ascending by `fromMb`, discounts non-decreasing.
    struct RatePlan {
        PlmnId visited;
        uint8 tariffClass;
        uint128 perMb;
        uint128 perSignallingEvent;
        uint128 perSms;
        uint128 perVoiceMinute;
        uint128 monthlyFeePerDevice;
        Tier[] tiers;
    }

    /// @notice Service levels the visited carrier commits to, and the credits it owes when it misses them.
    /// A zero target means no commitment on that figure.
    /// @param maxLatencyMs Maximum average latency in milliseconds.
    /// @param minThroughputKbps Minimum average throughput in kbit/s.
    /// @param minAvailabilityBps Minimum availability in basis points (<= 10000).
    /// @param latencyCreditBps Credit on the period's charges when latency is missed (<= 10000).
    /// @param throughputCreditBps Credit when throughput is missed (<= 10000).
    /// @param availabilityCreditBps Credit when availability is missed (<= 10000).
    struct SlaTerms {
        uint32 maxLatencyMs;
        uint32 minThroughputKbps;
        uint16 minAvailabilityBps;
        uint16 latencyCreditBps;
        uint16 throughputCreditBps;
        uint16 availabilityCreditBps;
    }

    /// @notice The full terms of one version of an agreement.
    /// @param settlementToken ERC-20 token in which all amounts are expressed and paid.
    /// @param validFrom First second the terms apply (inclusive).
    /// @param validUntil End of validity (exclusive); must be after `validFrom` and in the future.
    /// @param disputeWindow Seconds the home carrier has to dispute a usage batch (1 s to 90 days).
    /// @param permanentRoamingDays Days a device may stay in the visited network before it counts as a
    /// permanent roamer; 0 means no limit.
    /// @param permanentRoamingSurchargePerDay Surcharge per device-day beyond the limit (0 when no limit).
    /// @param sla Service levels and credits.
    /// @param ratePlans One plan per (visited, tariffClass), 1 to `AgreementTermsLib.MAX_RATE_PLANS` of them.
    struct Terms {
        address settlementToken;
        uint40 validFrom;
        uint40 validUntil;
        uint32 disputeWindow;
        uint16 permanentRoamingDays;
        uint128 permanentRoamingSurchargePerDay;
        SlaTerms sla;
        RatePlan[] ratePlans;
    }

    /// @notice What the chain keeps of a version: only what procedure needs. The rates, tiers, fees, surcharge
    /// and SLA (`Terms`) never appear in clear in storage, events or calldata: the chain holds a salted
    /// commitment to them, and the counterparty receives them sealed (`AgreementTermsSealed`).
    /// @param settlementToken ERC-20 token in which all amounts are expressed and paid (public: settlement
    /// moves it anyway).
    /// @param validFrom First second the terms apply (inclusive).
    /// @param validUntil End of validity (exclusive); must be after `validFrom` and in the future, at proposal
    /// and again at acceptance.
    /// @param disputeWindow Seconds the home carrier has to dispute a usage batch (1 s to 90 days); a batch's
    /// window is fixed when it is submitted.
    /// @param termsCommitment `CommitmentLib.terms(terms, salt)`
    /// of the full `Terms` (whose token, validity and window must equal the public ones, and whose rate plans
    /// must price exactly the public priced classes) with a 256-bit secret `salt` that travels only sealed to
    /// the counterparty.
    /// @param pricedClassesLo The tariff classes that the party with the lower PLMN id (`lo`, as in
    /// `agreementKey`) prices when it is the visited network: bit `c` set when the terms have a rate plan for
    /// (lo, c). Public so that `decide` can refuse service in a class nobody pays for (F10): a third member
    /// learns which classes the pair prices, never their rates.
    /// @param pricedClassesHi The same for the party with the higher PLMN id (`hi`).
    /// @param ratingCircuit Which circuit of the claim adjudicator rates this version's invoices by proof
    /// (`RatingAdjudicator`, docs/zk.md; 1 = rating-v1); 0: none, a claim ends by signature or reveal.
    /// @param ratingCommitmentLo The circuit's Poseidon commitment to the plans, surcharge and SLA that
    /// rate `lo` as the visited network (the payee), under a salt derived from the terms salt; checked by the
    /// counterparty against the sealed terms before it accepts. Zero when `ratingCircuit` is 0.
    /// @param ratingCommitmentHi The same for `hi` as the visited network.
    struct PublicTerms {
        address settlementToken;
        uint40 validFrom;
        uint40 validUntil;
        uint32 disputeWindow;
        bytes32 termsCommitment;
        uint256 pricedClassesLo;
        uint256 pricedClassesHi;
        uint16 ratingCircuit;
        bytes32 ratingCommitmentLo;
        bytes32 ratingCommitmentHi;
    }

    /// @notice One version of an agreement.
    /// @param proposer The member that proposed it.
    /// @param status Where it is in its lifecycle.
    /// @param proposedAt When it was proposed.
    /// @param acceptedAt When it was accepted (0 unless accepted).
    /// @param terms Its public part.
    struct Version {
        PlmnId proposer;
        VersionStatus status;
        uint40 proposedAt;
        uint40 acceptedAt;
        PublicTerms terms;
    }

    /// @notice `proposer` proposed `version` of the agreement `key` to `counterparty`: the public part only.
    event AgreementProposed(
        AgreementKey indexed key,
        PlmnId indexed proposer,
        PlmnId indexed counterparty,
        uint32 version,
        uint40 validFrom,
        uint40 validUntil,
        bytes32 termsCommitment
    );
    /// @notice The full terms of `version` and their commitment's salt, sealed for the counterparty with the
    /// pair's key (AES-256-GCM, see docs/confidentiality.md): opaque to everyone else. Emitted, not stored.
    event AgreementTermsSealed(AgreementKey indexed key, uint32 indexed version, bytes sealedTerms);
    /// @notice `acceptor` accepted `version`: its terms now bind both parties.
    event AgreementAccepted(AgreementKey indexed key, PlmnId indexed acceptor, uint32 version);
    /// @notice `proposer` withdrew its pending `version`.
    event AgreementWithdrawn(AgreementKey indexed key, PlmnId indexed proposer, uint32 version);
    /// @notice The pending `version` was replaced by the newer proposal `supersededBy`.
    event AgreementSuperseded(AgreementKey indexed key, uint32 version, uint32 supersededBy);

    /// @notice The registry address given at deployment is not a contract.
    error RoamingAgreementsInvalidRegistry(address registry);
    /// @notice A carrier cannot make an agreement with itself.
    error RoamingAgreementsSelfAgreement(PlmnId plmn);
    /// @notice The counterparty is not an active CARRIER member (at proposal or acceptance).
    error RoamingAgreementsInvalidCounterparty(PlmnId counterparty);
    /// @notice `version` is not the pending proposal of the agreement (`pending` is, 0 for none).
    error RoamingAgreementsVersionNotPending(AgreementKey key, uint32 version, uint32 pending);
    /// @notice The proposer's own member cannot accept its proposal.
    error RoamingAgreementsProposerCannotAccept(AgreementKey key, uint32 version, PlmnId proposer);
    /// @notice Only the proposer's member can withdraw a proposal.
    error RoamingAgreementsNotProposer(AgreementKey key, uint32 version, PlmnId caller);
    /// @notice No such version of the agreement.
    error RoamingAgreementsUnknownVersion(AgreementKey key, uint32 version);
    /// @notice No version of the agreement is in force at `time` (see the lookup rule above).
    error RoamingAgreementsNoAgreementAt(AgreementKey key, uint40 time);
    /// @notice The settlement token is zero or not a contract.
    error RoamingAgreementsInvalidSettlementToken(address token);
    /// @notice `validUntil` must be after `validFrom` and after the current time (at proposal).
    error RoamingAgreementsInvalidValidity(uint40 validFrom, uint40 validUntil);
    /// @notice The dispute window must be between 1 second and `MAX_DISPUTE_WINDOW`.
    error RoamingAgreementsInvalidDisputeWindow(uint32 disputeWindow);
    /// @notice A proposal needs a non-zero commitment to its full terms.
    error RoamingAgreementsMissingTermsCommitment();
    /// @notice The public part prices no tariff class on either side: terms need at least one rate plan.
    error RoamingAgreementsNoPricedClass();
    /// @notice A rating circuit needs both rating commitments, and commitments need a circuit.
    error RoamingAgreementsInvalidRatingCommitments(uint16 ratingCircuit);
    /// @notice The sealed terms must be 1 to `MAX_SEALED_TERMS` bytes long.
    error RoamingAgreementsInvalidSealedTermsLength(uint256 length);
    /// @notice The acceptor checked its sealed terms against `given`, but `version` commits to `expected`.
    error RoamingAgreementsCommitmentMismatch(AgreementKey key, uint32 version, bytes32 expected, bytes32 given);
    /// @notice `version` ended at `validUntil` before it was accepted: accepting it would bind nothing to come.
    error RoamingAgreementsProposalExpired(AgreementKey key, uint32 version, uint40 validUntil);
    // The errors below are about the full terms, which the chain sees only if they are revealed: they are
    // raised by `AgreementTermsLib.validate` when the escrow checks revealed terms (and mirrored by
    // lib/agreements, which checks opened terms before accepting).
    /// @notice A surcharge needs a permanent-roaming limit.
    error RoamingAgreementsInvalidPermanentRoaming(uint16 limitDays, uint128 surchargePerDay);
    /// @notice An SLA basis-point figure exceeds 10000.
    error RoamingAgreementsInvalidSla(
        uint16 minAvailabilityBps,
        uint16 latencyCreditBps,
        uint16 throughputCreditBps,
        uint16 availabilityCreditBps
    );
    /// @notice Terms need between 1 and `AgreementTermsLib.MAX_RATE_PLANS` rate plans.
    error RoamingAgreementsInvalidPlanCount(uint256 count);
    /// @notice The plan's visited carrier is not one of the two parties.
    error RoamingAgreementsInvalidVisited(uint256 planIndex, PlmnId visited);
    /// @notice An earlier plan has the same (visited, tariffClass).
    error RoamingAgreementsDuplicatePlan(uint256 planIndex, PlmnId visited, uint8 tariffClass);
    /// @notice Revealed terms price other classes than the version's public part says (`expected*` from the
    /// rate plans, `given*` the public `pricedClassesLo` / `pricedClassesHi`).
    error RoamingAgreementsPricedClassesMismatch(
        uint256 expectedLo,
        uint256 expectedHi,
        uint256 givenLo,
        uint256 givenHi
    );
    /// @notice A plan has more than `AgreementTermsLib.MAX_TIERS` tiers.
    error RoamingAgreementsTooManyTiers(uint256 planIndex, uint256 count);
    /// @notice A tier's discount exceeds 10000, or it does not ascend strictly by `fromMb` with a
    /// non-decreasing discount.
    error RoamingAgreementsInvalidTier(uint256 planIndex, uint256 tierIndex);

    /// @notice Proposes terms to `counterparty`: the initial agreement or an amendment. Supersedes the pair's
    /// pending proposal, whichever side made it. Caller: an operator of an active CARRIER member.
    /// @param counterparty An active CARRIER member other than the caller's.
    /// @param terms The public part, with the commitment to the full terms.
    /// @param sealedTerms The full terms and the commitment's salt, sealed for the counterparty (1 to
    /// `MAX_SEALED_TERMS` bytes); only emitted. The counterparty opens them, checks that they open the
    /// commitment and agree with the public part, and accepts or not.
    /// @return version The new version number.
    function propose(
        PlmnId counterparty,
        PublicTerms calldata terms,
        bytes calldata sealedTerms
    ) external returns (uint32 version);

    /// @notice Accepts the pending proposal `version` made by `counterparty`. Caller: an operator of the
    /// active CARRIER member that did not propose it. Re-checks that `validUntil` is still in the future.
    /// @param version Must be the pending version, so that terms cannot change under the acceptor.
    /// @param termsCommitment Must equal the version's commitment: what the acceptor checked its sealed
    /// terms against.
    function accept(PlmnId counterparty, uint32 version, bytes32 termsCommitment) external;

    /// @notice Withdraws the caller's member's pending proposal `version` to `counterparty`.
    function withdraw(PlmnId counterparty, uint32 version) external;

    /// @notice Largest sealed terms blob accepted by `propose`, in bytes (65,536).
    /// @dev Why this bound: the sealed plaintext is the ABI encoding of (Terms, salt), about 54 kB for the
    /// largest valid terms (64 plans of 8 tiers: 25 words a plan), padded to a multiple of 1,024 bytes, plus a
    /// header, IV and tag; 64 KiB holds it with room to spare. It also caps what a proposal costs (about 1.6M
    /// gas of calldata and log data at most, far below the 16,777,216 gas a transaction may use) and what every
    /// node keeps in its logs for one proposal.
    function MAX_SEALED_TERMS() external view returns (uint256);

    /// @notice Longest dispute window, in seconds (90 days).
    function MAX_DISPUTE_WINDOW() external view returns (uint32);

    /// @notice The registry that authorizes callers.
    function carrierRegistry() external view returns (ICarrierRegistry);

    /// @notice The key of the agreement between `a` and `b`, in either order.
    function agreementKey(PlmnId a, PlmnId b) external pure returns (AgreementKey);

    /// @notice The public terms of the version in force at `time`: the highest accepted version whose
    /// validFrom <= `time`, if `time` < its validUntil. Reverts with `RoamingAgreementsNoAgreementAt` when
    /// none is.
    function termsAt(
        PlmnId home,
        PlmnId visited,
        uint40 time
    ) external view returns (PublicTerms memory terms, uint32 version);

    /// @notice The dispute window of the terms in force at `time` (same rule as `termsAt`), without copying
    /// the rest of the terms. Reverts when none is.
    /// @return Seconds the home carrier has to dispute a usage batch submitted at `time`.
    function disputeWindowAt(PlmnId home, PlmnId visited, uint40 time) external view returns (uint32);

    /// @notice The tariff classes `visited` prices for the devices of `home` in the version in force at `time`
    /// (same rule as `termsAt`): bit `c` set when that version's terms have a rate plan for (visited, c).
    /// 0 when no version is in force. Never reverts; it does not look at the registry status (see
    /// `hasActiveAgreement`).
    /// @dev What `decide` checks against the device's tariff class (F10): usage in a class without a plan
    /// would be rated at 0. The set is declared by the proposer and checked against the sealed terms by the
    /// acceptor before it accepts (lib/agreements), and by `AgreementTermsLib.requirePricedClasses` wherever
    /// terms are revealed.
    function pricedClassesAt(PlmnId home, PlmnId visited, uint40 time) external view returns (uint256);

    /// @notice The rating circuit of version `version` of (`payer`, `payee`) and its rating commitment for `payee`
    /// as the visited network (what rates the invoices `payee` bills `payer`); (0, 0) for an unknown version or
    /// a version no circuit rates. Never reverts. What the claim adjudicator reads (docs/zk.md).
    function ratingCommitmentOf(
        PlmnId payer,
        PlmnId payee,
        uint32 version
    ) external view returns (uint16 circuit, bytes32 commitment);

    /// @notice True when both carriers are active in the registry and a version is in force at `time`
    /// (same rule as `termsAt`).
    /// @dev Never reverts; what device registration and usage submission check.
    function hasActiveAgreement(PlmnId a, PlmnId b, uint40 time) external view returns (bool);

    /// @notice A version of the agreement between `a` and `b`. Reverts for an unknown version.
    function getVersion(PlmnId a, PlmnId b, uint32 version) external view returns (Version memory);

    /// @notice Number of versions proposed so far between `a` and `b`; versions run from 1 to this.
    function versionCount(PlmnId a, PlmnId b) external view returns (uint32);

    /// @notice The pending proposal between `a` and `b`, 0 when none.
    function pendingVersion(PlmnId a, PlmnId b) external view returns (uint32);

    /// @notice The accepted versions between `a` and `b`, ascending.
    function acceptedVersions(PlmnId a, PlmnId b) external view returns (uint32[] memory);

    /// @notice The carriers that `plmn` has at least one accepted version with, in order of first acceptance.
    function counterparties(PlmnId plmn) external view returns (PlmnId[] memory);
}
