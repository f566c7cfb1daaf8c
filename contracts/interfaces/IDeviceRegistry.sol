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
/// - Authorization comes from `ICarrierRegistry`: only operators of active members act.
/// - Only a device's home carrier registers it, updates its policy, suspends and reinstates it.
/// - A visited carrier may flag a device for fraud only while it has an active roaming agreement
///   with the device's home carrier (`IRoamingAgreements.hasActiveAgreement`); flags carry an
///   evidence hash, the evidence itself stays off-chain with the two carriers.
/// - Device ids are keyed hashes (see `DeviceId`); the registry cannot check that an id matches an
///   IMSI, only the home carrier and its partners can.
/// - IMSI-key envelopes are stored as given: they are ciphertext only the partner can open.
interface IDeviceRegistry {
    /// @notice One device of a bulk registration.
    struct Registration {
        DeviceId id;
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
    /// @notice A visited carrier flagged a device for fraud.
    event FraudFlagged(
        DeviceId indexed id,
        PlmnId indexed home,
        PlmnId indexed reporter,
        uint8 reason,
        bytes32 evidenceHash
    );
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
    /// @notice The device id is zero.
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

    /// @notice Stores a policy definition for the caller's devices, or returns the existing id of an
    /// identical one. Caller: an operator of an active carrier; `policy.owner` must be its member.
    function definePolicy(Policy calldata policy) external returns (PolicyId policyId);

    /// @notice Registers devices of the caller's member, each with its own policy contract.
    /// All or nothing: one invalid or already registered device reverts the whole call.
    function registerDevices(Registration[] calldata registrations) external;

    /// @notice Moves devices of the caller to a new policy version with definition `policyId`.
    function updatePolicies(DeviceId[] calldata ids, PolicyId policyId) external;

    /// @notice Suspends active devices of the caller; a reason code for the record.
    function suspendDevices(DeviceId[] calldata ids, uint8 reason) external;

    /// @notice Reinstates suspended or fraud-flagged devices of the caller.
    function reinstateDevices(DeviceId[] calldata ids) external;

    /// @notice Flags devices for fraud. Caller: an active carrier with an active agreement with each
    /// device's home carrier. Flagging a flagged device again adds evidence.
    function flagFraud(FraudFlag[] calldata flags) external;

    /// @notice Publishes the caller's IMSI key for `partner`, sealed to the partner's encryption key.
    function shareImsiKey(PlmnId partner, bytes calldata envelope, bytes8 fingerprint) external;

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

    /// @notice What a visited network may do with a device now; `decision.reason` says why not.
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

    /// @notice Largest number of devices one bulk call may carry.
    function maxBatch() external view returns (uint256);
}
