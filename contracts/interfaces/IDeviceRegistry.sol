// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";
import {DeviceId} from "../types/DeviceId.sol";
import {PolicyId} from "../types/PolicyId.sol";
import {Device, DeviceClass, DeviceStatus, Policy, Decision, Service} from "../types/DeviceTypes.sol";

/// @title The registry of roaming IoT devices and their policies.
/// @notice A home carrier registers its devices in bulk. Each device gets its own policy contract
/// (`IDevicePolicy`), a CREATE2 minimal clone whose address anyone derives from the device id with
/// `predictPolicyAddress`. Policies are shared, immutable definitions; a device's policy history is a
/// list of versions (definition, since when) that only grows.
/// @dev Trust assumptions:
/// - Authorization comes from `ICarrierRegistry`: every call needs an operator key of an active carrier
///   member holding `Permissions.DEVICES`. The home's defensive calls (`suspendDevices`, `confirmFraud`)
///   are open to a suspended member too. Registration, policy updates and fraud flags wait while the
///   consortium is paused; suspensions, reinstatements, confirmations and dismissals by the home do not.
/// - Only a device's home carrier registers it, updates its policy, suspends, confirms and reinstates it.
/// - Device ids are scoped by home (see `DeviceId`): a registration carries the local id and the registry
///   derives the id from the caller's own PLMN, so ids copied from a pending registration cannot be
///   squatted (F3). The registry cannot check that a local id matches an IMSI, only the home carrier and
///   its partners can; a carrier registering someone else's local ids only creates its own devices.
/// - Fraud flags (F4): a visited carrier with an active agreement with the device's home may flag it,
///   with an evidence hash (the evidence stays off-chain with the two carriers; the registry checks none).
///   A flag denies service at once on the reporter's own network only (`flaggedBy`, used by `decide`);
///   it denies it on every network only once the home confirms it (`confirmFraud`, status
///   `FraudFlagged`) or suspends the device. A reporter flags at most `FLAGS_PER_DAY` devices per UTC
///   day; each flag needs an evidence hash the reporter never gave for that device before; once the home
///   dismisses the reporter's flag (`dismissFraudFlags`) or reinstates the device, that reporter cannot
///   flag the device again for `FLAG_COOLDOWN`, whatever its evidence.
/// - Every batch function takes at most `batchLimits()` items: the largest call fits under the EIP-7825
///   cap of 2^24 gas per transaction with margin.
/// - IMSI-key envelopes are stored as given: they are ciphertext only the partner can open.
interface IDeviceRegistry {
    /// @notice One device of a bulk registration.
    /// @param localId HMAC-SHA256 of the IMSI under the caller's IMSI key; the device id is
    /// `scopeDeviceId(callerPlmn, localId)` (see `DeviceId`).
    struct Registration {
        bytes32 localId;
        DeviceClass deviceClass;
        PlmnId maker;
        PolicyId policyId;
    }

    /// @notice One fraud flag raised by a visited carrier.
    /// @param id The device.
    /// @param reason Reason code (see docs: out-of-policy service, cap exceeded, network not allowed...).
    /// @param evidenceHash Hash of the evidence (the offending usage records) kept off-chain.
    struct FraudFlag {
        DeviceId id;
        uint8 reason;
        bytes32 evidenceHash;
    }

    /// @notice Most items each batch function takes in one call.
    struct BatchLimits {
        uint256 register;
        uint256 updatePolicies;
        uint256 suspend;
        uint256 reinstate;
        uint256 confirmFraud;
        uint256 dismissFraudFlags;
        uint256 flagFraud;
    }

    /// @notice One entry of a device's policy history.
    struct PolicyVersion {
        PolicyId policyId;
        uint40 since;
    }

    /// @notice A policy definition was stored.
    event PolicyDefined(PolicyId indexed policyId, PlmnId indexed owner, bytes32 contentHash);
    /// @notice A device and its policy contract were registered.
    event DeviceRegistered(
        DeviceId indexed id,
        PlmnId indexed home,
        PlmnId indexed maker,
        address policy,
        DeviceClass deviceClass,
        PolicyId policyId
    );
    /// @notice A device's policy moved to a new version.
    event PolicyUpdated(DeviceId indexed id, uint32 indexed version, PolicyId policyId);
    /// @notice The home carrier suspended a device.
    event DeviceSuspended(DeviceId indexed id, PlmnId indexed home, uint8 reason);
    /// @notice The home carrier reinstated a suspended or fraud-flagged device.
    event DeviceReinstated(DeviceId indexed id, PlmnId indexed home);
    /// @notice A visited carrier flagged a device for fraud; the flag denies service on its own network.
    event FraudFlagged(
        DeviceId indexed id,
        PlmnId indexed home,
        PlmnId indexed reporter,
        uint8 reason,
        bytes32 evidenceHash
    );
    /// @notice The home carrier confirmed a device is a fraud: every network now denies it service.
    event FraudConfirmed(DeviceId indexed id, PlmnId indexed home);
    /// @notice The home carrier dismissed a reporter's flag of a device.
    event FraudFlagDismissed(DeviceId indexed id, PlmnId indexed home, PlmnId indexed reporter);
    /// @notice A home carrier shared its IMSI key with a partner, encrypted to the partner's key.
    event ImsiKeyShared(PlmnId indexed home, PlmnId indexed partner, bytes8 fingerprint);

    /// @notice The policy definition is invalid: `field` names what is wrong.
    error DeviceRegistryInvalidPolicy(string field);
    /// @notice The policy's owner is not the caller's member.
    error DeviceRegistryPolicyNotOwned(PolicyId policyId, PlmnId owner, PlmnId caller);
    /// @notice No policy with this id.
    error DeviceRegistryUnknownPolicy(PolicyId policyId);
    /// @notice The device is registered already.
    error DeviceRegistryAlreadyRegistered(DeviceId id);
    /// @notice No device with this id.
    error DeviceRegistryUnknownDevice(DeviceId id);
    /// @notice The local id of the registration at `index` is zero.
    error DeviceRegistryZeroDeviceId(uint256 index);
    /// @notice The caller's member is not the device's home carrier.
    error DeviceRegistryNotHome(DeviceId id, PlmnId home, PlmnId caller);
    /// @notice The maker is not an active member with the device-maker role.
    error DeviceRegistryInvalidMaker(PlmnId maker);
    /// @notice The device is not in a status the action applies to.
    error DeviceRegistryWrongStatus(DeviceId id, DeviceStatus status);
    /// @notice The reporter has no active roaming agreement with the device's home carrier.
    error DeviceRegistryNoAgreement(PlmnId reporter, PlmnId home);
    /// @notice A batch is empty or larger than `max`.
    error DeviceRegistryBatchSize(uint256 size, uint256 max);
    /// @notice A device cannot take the same policy as its current version.
    error DeviceRegistrySamePolicy(DeviceId id, PolicyId policyId);
    /// @notice The partner is not an active carrier member, or is the caller itself.
    error DeviceRegistryInvalidPartner(PlmnId partner);
    /// @notice The envelope is not a version-1 IMSI-key envelope (94 bytes, first byte 0x01).
    error DeviceRegistryInvalidEnvelope(uint256 length);
    /// @notice No such policy version of this device.
    error DeviceRegistryUnknownVersion(DeviceId id, uint32 version);
    /// @notice The consortium is paused: registrations, policy updates and fraud flags wait.
    error DeviceRegistryPaused();
    /// @notice The flag at `index` has no evidence hash.
    error DeviceRegistryNoEvidence(uint256 index);
    /// @notice The reporter gave this evidence for this device before.
    error DeviceRegistryEvidenceUsed(DeviceId id, PlmnId reporter, bytes32 evidenceHash);
    /// @notice The home dismissed the reporter's flag or reinstated the device: no new flag before `until`.
    error DeviceRegistryFlagCooldown(DeviceId id, PlmnId reporter, uint40 until);
    /// @notice The reporter would flag more than `max` devices today (UTC); it has flagged `used`.
    error DeviceRegistryFlagQuota(PlmnId reporter, uint256 used, uint256 max);
    /// @notice The reporter has no standing flag on the device.
    error DeviceRegistryNotFlagged(DeviceId id, PlmnId reporter);

    /// @notice Stores a policy definition for the caller's devices, or returns the existing id of an
    /// identical one. Caller: an operator of an active carrier; `policy.owner` must be its member.
    function definePolicy(Policy calldata policy) external returns (PolicyId policyId);

    /// @notice Registers devices of the caller's member, each with its own policy contract, under the ids
    /// `scopeDeviceId(callerPlmn, localId)` (see `DeviceId`). All or nothing: one invalid or already
    /// registered device reverts the whole call. Waits while paused.
    function registerDevices(Registration[] calldata registrations) external;

    /// @notice Moves devices of the caller to a new policy version with definition `policyId`. Waits while paused.
    function updatePolicies(DeviceId[] calldata ids, PolicyId policyId) external;

    /// @notice Suspends active devices of the caller; a reason code for the record. Every network denies
    /// them service. Open to a suspended member.
    function suspendDevices(DeviceId[] calldata ids, uint8 reason) external;

    /// @notice Reinstates suspended or fraud-flagged devices of the caller. Clears every reporter's flag
    /// on them: each of those reporters waits `FLAG_COOLDOWN` before it may flag the device again.
    function reinstateDevices(DeviceId[] calldata ids) external;

    /// @notice The home confirms active or suspended devices of its own are frauds: status `FraudFlagged`,
    /// which every network denies. Open to a suspended member. `reinstateDevices` lifts it.
    function confirmFraud(DeviceId[] calldata ids) external;

    /// @notice The home dismisses `reporter`'s standing flag on devices of its own; the reporter may not
    /// flag them again for `FLAG_COOLDOWN`, and never with evidence it gave before.
    function dismissFraudFlags(DeviceId[] calldata ids, PlmnId reporter) external;

    /// @notice Flags devices for fraud. Caller: an active carrier with an active agreement with each
    /// device's home carrier. The flag denies service on the caller's network only, until the home
    /// confirms, dismisses or reinstates. Flagging a flagged device again adds evidence. Each flag needs
    /// a nonzero evidence hash new for (device, reporter) and counts against the caller's
    /// `FLAGS_PER_DAY`; refused within `FLAG_COOLDOWN` of the home's dismissal or reinstatement.
    /// Resending evidence a standing flag has already changes nothing (no event, no quota): retries are
    /// safe. Waits while paused.
    function flagFraud(FraudFlag[] calldata flags) external;

    /// @notice Publishes the caller's IMSI key for `partner`, sealed to the partner's encryption key.
    function shareImsiKey(PlmnId partner, bytes calldata envelope, bytes8 fingerprint) external;

    /// @notice The id of home `home`'s device with local id `localId`.
    function deviceIdOf(PlmnId home, bytes32 localId) external pure returns (DeviceId);

    /// @notice Whether `reporter` has a standing fraud flag on the device (one the home has neither
    /// dismissed nor cleared by a reinstatement): `decide` denies the device on `reporter`'s network.
    function flaggedBy(DeviceId id, PlmnId reporter) external view returns (bool);

    /// @notice The reporter's flag on the device: whether it stands, when it was raised (0: never, or
    /// dismissed), and until when the reporter may not flag the device again (0: no cooldown).
    function fraudFlag(
        DeviceId id,
        PlmnId reporter
    ) external view returns (bool standing, uint40 flaggedAt, uint40 cooldownUntil);

    /// @notice Flags `reporter` may still raise today (UTC day of the latest block).
    function flagsLeftToday(PlmnId reporter) external view returns (uint256);

    /// @notice Most devices one reporter may flag per UTC day.
    function FLAGS_PER_DAY() external view returns (uint256);

    /// @notice How long a reporter waits to flag a device again after the home dismissed its flag or
    /// reinstated the device, in seconds.
    function FLAG_COOLDOWN() external view returns (uint256);

    /// @notice The device, with status `None` when unknown.
    function getDevice(DeviceId id) external view returns (Device memory);

    /// @notice The device and its current policy definition; reverts for an unknown device.
    function deviceWithPolicy(DeviceId id) external view returns (Device memory device, Policy memory policy);

    /// @notice A version of a device's policy: its definition and the time window it applied in
    /// (`until` = 0 for the current version).
    function policyVersion(
        DeviceId id,
        uint32 version
    ) external view returns (Policy memory policy, PolicyId policyId, uint40 since, uint40 until);

    /// @notice A policy definition.
    function getPolicy(PolicyId policyId) external view returns (Policy memory);

    /// @notice The id of the definition with this content hash (`keccak256(abi.encode(policy))`), or 0.
    function policyIdByHash(bytes32 contentHash) external view returns (PolicyId);

    /// @notice Number of policy definitions.
    function policyCount() external view returns (uint64);

    /// @notice For each id, whether it is registered; lets a client resume an interrupted bulk run.
    function registered(DeviceId[] calldata ids) external view returns (bool[] memory);

    /// @notice The devices of `ids` in one call (status `None` for an unknown id): how a visited carrier's
    /// ingest resolves thousands of devices without one call each. Policies are shared: read each
    /// distinct `policyId` once with `getPolicy`.
    function getDevices(DeviceId[] calldata ids) external view returns (Device[] memory);

    /// @notice What a visited network may do with a device now; `decision.reason` says why not. A device
    /// `visited` flagged itself is denied there as `DeviceFraudFlagged` (see `flaggedBy`).
    /// Same answer as the device's own policy contract gives.
    function decide(DeviceId id, PlmnId visited, Service service) external view returns (Decision memory);

    /// @notice Address of the device's policy contract (deployed or not).
    function predictPolicyAddress(DeviceId id) external view returns (address);

    /// @notice The implementation the policy clones delegate to.
    function policyImplementation() external view returns (address);

    /// @notice The consortium registry used for authorization.
    function carrierRegistry() external view returns (address);

    /// @notice The agreements contract consulted for fraud flags and decisions.
    function roamingAgreements() external view returns (address);

    /// @notice The IMSI-key envelope `home` shared with `partner`, its fingerprint and when.
    function imsiKeyEnvelope(
        PlmnId home,
        PlmnId partner
    ) external view returns (bytes memory envelope, bytes8 fingerprint, uint40 sharedAt);

    /// @notice Largest number of items each bulk call may carry: each call at its limit fits under the
    /// EIP-7825 cap of 2^24 gas per transaction with margin.
    function batchLimits() external view returns (BatchLimits memory);
}
