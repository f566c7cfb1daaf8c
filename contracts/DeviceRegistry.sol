// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IDeviceRegistry} from "./interfaces/IDeviceRegistry.sol";
import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {IRoamingAgreements} from "./interfaces/IRoamingAgreements.sol";
import {DevicePolicy} from "./DevicePolicy.sol";
import {PlmnId} from "./types/PlmnId.sol";
import {DeviceId} from "./types/DeviceId.sol";
import {PolicyId} from "./types/PolicyId.sol";
import {Roles} from "./types/Roles.sol";
import {Device, DeviceStatus, Policy, Decision, Service} from "./types/DeviceTypes.sol";
import {PlmnLib} from "./libraries/PlmnLib.sol";
import {PolicyLib} from "./libraries/PolicyLib.sol";

/// @title DeviceRegistry
/// @notice Roaming IoT devices, their shared policy definitions and per-device policy contracts.
contract DeviceRegistry is IDeviceRegistry {
    using PlmnLib for PlmnId;

    uint256 private constant MAX_BATCH = 2_000;
    uint256 private constant ENVELOPE_LENGTH = 94;

    ICarrierRegistry private immutable _CARRIERS;
    IRoamingAgreements private immutable _AGREEMENTS;
    address private immutable _POLICY_IMPLEMENTATION;

    mapping(DeviceId id => Device) private _devices;
    mapping(DeviceId id => mapping(uint32 version => PolicyVersion)) private _history;
    mapping(PolicyId policyId => Policy) private _policies;
    mapping(bytes32 contentHash => PolicyId) private _policyByHash;
    uint64 private _policyCount;

    struct KeyShare {
        bytes8 fingerprint;
        uint40 sharedAt;
        bytes envelope;
    }
    mapping(PlmnId home => mapping(PlmnId partner => KeyShare)) private _keyShares;

    /// @param carriers The consortium registry.
    /// @param agreements The roaming agreements consulted for fraud flags and decisions.
    constructor(ICarrierRegistry carriers, IRoamingAgreements agreements) {
        _CARRIERS = carriers;
        _AGREEMENTS = agreements;
        _POLICY_IMPLEMENTATION = address(new DevicePolicy(agreements));
    }

    // ---------------------------------------------------------------- home carrier

    /// @inheritdoc IDeviceRegistry
    function definePolicy(Policy calldata policy) external returns (PolicyId policyId) {
        PlmnId caller = _CARRIERS.requireActiveOperator(msg.sender, Roles.CARRIER);
        require(policy.owner.eq(caller), DeviceRegistryPolicyNotOwned(PolicyId.wrap(0), policy.owner, caller));
        string memory invalid = PolicyLib.invalidField(policy);
        require(bytes(invalid).length == 0, DeviceRegistryInvalidPolicy(invalid));
        bytes32 contentHash = keccak256(abi.encode(policy));
        policyId = _policyByHash[contentHash];
        if (PolicyId.unwrap(policyId) != 0) return policyId;
        policyId = PolicyId.wrap(++_policyCount);
        _policies[policyId] = policy;
        _policyByHash[contentHash] = policyId;
        emit PolicyDefined(policyId, caller, contentHash);
    }

    /// @inheritdoc IDeviceRegistry
    function registerDevices(Registration[] calldata registrations) external {
        PlmnId home = _CARRIERS.requireActiveOperator(msg.sender, Roles.CARRIER);
        uint256 n = registrations.length;
        require(n > 0 && n <= MAX_BATCH, DeviceRegistryBatchSize(n, MAX_BATCH));
        // Consecutive devices mostly share policy and maker: check each distinct one once in a row.
        PolicyId checkedPolicy;
        PlmnId checkedMaker;
        uint40 time = uint40(block.timestamp);
        for (uint256 i = 0; i < n; ++i) {
            Registration calldata r = registrations[i];
            require(DeviceId.unwrap(r.id) != bytes32(0), DeviceRegistryZeroDeviceId(i));
            Device storage d = _devices[r.id];
            require(d.status == DeviceStatus.None, DeviceRegistryAlreadyRegistered(r.id));
            if (PolicyId.unwrap(r.policyId) != PolicyId.unwrap(checkedPolicy)) {
                _requireOwnedPolicy(r.policyId, home);
                checkedPolicy = r.policyId;
            }
            if (!r.maker.isZero() && !r.maker.eq(checkedMaker)) {
                require(_CARRIERS.hasRole(r.maker, Roles.DEVICE_MAKER), DeviceRegistryInvalidMaker(r.maker));
                checkedMaker = r.maker;
            }
            _devices[r.id] = Device({
                home: home,
                maker: r.maker,
                deviceClass: r.deviceClass,
                status: DeviceStatus.Active,
                policyVersion: 1,
                policyId: r.policyId,
                policySince: time,
                registeredAt: time
            });
            address policy = Clones.cloneDeterministicWithImmutableArgs(
                _POLICY_IMPLEMENTATION,
                abi.encodePacked(r.id),
                DeviceId.unwrap(r.id)
            );
            emit DeviceRegistered(r.id, home, r.maker, policy, r.deviceClass, r.policyId);
        }
    }

    /// @inheritdoc IDeviceRegistry
    function updatePolicies(DeviceId[] calldata ids, PolicyId policyId) external {
        PlmnId home = _CARRIERS.requireActiveOperator(msg.sender, Roles.CARRIER);
        _requireBatch(ids.length);
        _requireOwnedPolicy(policyId, home);
        uint40 time = uint40(block.timestamp);
        for (uint256 i = 0; i < ids.length; ++i) {
            Device storage d = _homeDevice(ids[i], home);
            require(
                PolicyId.unwrap(d.policyId) != PolicyId.unwrap(policyId),
                DeviceRegistrySamePolicy(ids[i], policyId)
            );
            uint32 old = d.policyVersion;
            _history[ids[i]][old] = PolicyVersion({policyId: d.policyId, since: d.policySince});
            d.policyVersion = old + 1;
            d.policyId = policyId;
            d.policySince = time;
            emit PolicyUpdated(ids[i], old + 1, policyId);
        }
    }

    /// @inheritdoc IDeviceRegistry
    function suspendDevices(DeviceId[] calldata ids, uint8 reason) external {
        PlmnId home = _CARRIERS.requireActiveOperator(msg.sender, Roles.CARRIER);
        _requireBatch(ids.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            Device storage d = _homeDevice(ids[i], home);
            require(d.status == DeviceStatus.Active, DeviceRegistryWrongStatus(ids[i], d.status));
            d.status = DeviceStatus.Suspended;
            emit DeviceSuspended(ids[i], home, reason);
        }
    }

    /// @inheritdoc IDeviceRegistry
    function reinstateDevices(DeviceId[] calldata ids) external {
        PlmnId home = _CARRIERS.requireActiveOperator(msg.sender, Roles.CARRIER);
        _requireBatch(ids.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            Device storage d = _homeDevice(ids[i], home);
            require(d.status != DeviceStatus.Active, DeviceRegistryWrongStatus(ids[i], d.status));
            d.status = DeviceStatus.Active;
            emit DeviceReinstated(ids[i], home);
        }
    }

    /// @inheritdoc IDeviceRegistry
    function shareImsiKey(PlmnId partner, bytes calldata envelope, bytes8 fingerprint) external {
        PlmnId home = _CARRIERS.requireActiveOperator(msg.sender, Roles.CARRIER);
        require(
            !partner.eq(home) && _CARRIERS.hasRole(partner, Roles.CARRIER),
            DeviceRegistryInvalidPartner(partner)
        );
        require(
            envelope.length == ENVELOPE_LENGTH && envelope[0] == 0x01,
            DeviceRegistryInvalidEnvelope(envelope.length)
        );
        _keyShares[home][partner] = KeyShare({
            fingerprint: fingerprint,
            sharedAt: uint40(block.timestamp),
            envelope: envelope
        });
        emit ImsiKeyShared(home, partner, fingerprint);
    }

    // ---------------------------------------------------------------- visited carrier

    /// @inheritdoc IDeviceRegistry
    function flagFraud(FraudFlag[] calldata flags) external {
        PlmnId reporter = _CARRIERS.requireActiveOperator(msg.sender, Roles.CARRIER);
        _requireBatch(flags.length);
        PlmnId checkedHome;
        uint40 time = uint40(block.timestamp);
        for (uint256 i = 0; i < flags.length; ++i) {
            FraudFlag calldata f = flags[i];
            Device storage d = _devices[f.id];
            require(d.status != DeviceStatus.None, DeviceRegistryUnknownDevice(f.id));
            PlmnId home = d.home;
            if (!home.eq(checkedHome)) {
                // hasActiveAgreement is false for a carrier and itself: a home carrier cannot flag its own devices.
                require(
                    _AGREEMENTS.hasActiveAgreement(home, reporter, time),
                    DeviceRegistryNoAgreement(reporter, home)
                );
                checkedHome = home;
            }
            d.status = DeviceStatus.FraudFlagged;
            emit FraudFlagged(f.id, home, reporter, f.reason, f.evidenceHash);
        }
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDeviceRegistry
    function getDevice(DeviceId id) external view returns (Device memory) {
        return _devices[id];
    }

    /// @inheritdoc IDeviceRegistry
    function deviceWithPolicy(DeviceId id) external view returns (Device memory device, Policy memory policy) {
        device = _devices[id];
        require(device.status != DeviceStatus.None, DeviceRegistryUnknownDevice(id));
        policy = _policies[device.policyId];
    }

    /// @inheritdoc IDeviceRegistry
    function policyVersion(
        DeviceId id,
        uint32 version
    ) external view returns (Policy memory policy, PolicyId policyId, uint40 since, uint40 until) {
        Device storage d = _devices[id];
        uint32 current = d.policyVersion;
        require(version > 0 && version <= current, DeviceRegistryUnknownVersion(id, version));
        if (version == current) {
            (policyId, since) = (d.policyId, d.policySince);
        } else {
            PolicyVersion storage v = _history[id][version];
            (policyId, since) = (v.policyId, v.since);
            until = version + 1 == current ? d.policySince : _history[id][version + 1].since;
        }
        policy = _policies[policyId];
    }

    /// @inheritdoc IDeviceRegistry
    function getPolicy(PolicyId policyId) external view returns (Policy memory) {
        require(_policyExists(policyId), DeviceRegistryUnknownPolicy(policyId));
        return _policies[policyId];
    }

    /// @inheritdoc IDeviceRegistry
    function policyIdByHash(bytes32 contentHash) external view returns (PolicyId) {
        return _policyByHash[contentHash];
    }

    /// @inheritdoc IDeviceRegistry
    function policyCount() external view returns (uint64) {
        return _policyCount;
    }

    /// @inheritdoc IDeviceRegistry
    function registered(DeviceId[] calldata ids) external view returns (bool[] memory result) {
        result = new bool[](ids.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            result[i] = _devices[ids[i]].status != DeviceStatus.None;
        }
    }

    /// @inheritdoc IDeviceRegistry
    function getDevices(DeviceId[] calldata ids) external view returns (Device[] memory result) {
        result = new Device[](ids.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            result[i] = _devices[ids[i]];
        }
    }

    /// @inheritdoc IDeviceRegistry
    function decide(DeviceId id, PlmnId visited, Service service) external view returns (Decision memory) {
        Device memory device = _devices[id];
        Policy memory policy = _policies[device.policyId];
        bool known = device.status != DeviceStatus.None;
        PolicyLib.Context memory ctx = PolicyLib.context(_AGREEMENTS, device.home, visited, known);
        return PolicyLib.decide(device, policy, visited, service, ctx);
    }

    /// @inheritdoc IDeviceRegistry
    function predictPolicyAddress(DeviceId id) external view returns (address) {
        return
            Clones.predictDeterministicAddressWithImmutableArgs(
                _POLICY_IMPLEMENTATION,
                abi.encodePacked(id),
                DeviceId.unwrap(id)
            );
    }

    /// @inheritdoc IDeviceRegistry
    function policyImplementation() external view returns (address) {
        return _POLICY_IMPLEMENTATION;
    }

    /// @inheritdoc IDeviceRegistry
    function carrierRegistry() external view returns (address) {
        return address(_CARRIERS);
    }

    /// @inheritdoc IDeviceRegistry
    function roamingAgreements() external view returns (address) {
        return address(_AGREEMENTS);
    }

    /// @inheritdoc IDeviceRegistry
    function imsiKeyEnvelope(
        PlmnId home,
        PlmnId partner
    ) external view returns (bytes memory envelope, bytes8 fingerprint, uint40 sharedAt) {
        KeyShare storage s = _keyShares[home][partner];
        return (s.envelope, s.fingerprint, s.sharedAt);
    }

    /// @inheritdoc IDeviceRegistry
    function maxBatch() external pure returns (uint256) {
        return MAX_BATCH;
    }

    // ---------------------------------------------------------------- internals

    function _homeDevice(DeviceId id, PlmnId home) private view returns (Device storage d) {
        d = _devices[id];
        require(d.status != DeviceStatus.None, DeviceRegistryUnknownDevice(id));
        require(d.home.eq(home), DeviceRegistryNotHome(id, d.home, home));
    }

    function _requireOwnedPolicy(PolicyId policyId, PlmnId home) private view {
        require(_policyExists(policyId), DeviceRegistryUnknownPolicy(policyId));
        PlmnId owner = _policies[policyId].owner;
        require(owner.eq(home), DeviceRegistryPolicyNotOwned(policyId, owner, home));
    }

    function _policyExists(PolicyId policyId) private view returns (bool) {
        uint64 raw = PolicyId.unwrap(policyId);
        return raw != 0 && raw <= _policyCount;
    }

    function _requireBatch(uint256 n) private pure {
        require(n > 0 && n <= MAX_BATCH, DeviceRegistryBatchSize(n, MAX_BATCH));
    }
}
