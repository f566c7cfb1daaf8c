// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IDeviceRegistry} from "./interfaces/IDeviceRegistry.sol";
import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {IRoamingAgreements} from "./interfaces/IRoamingAgreements.sol";
import {DevicePolicy} from "./DevicePolicy.sol";
import {PlmnId} from "./types/PlmnId.sol";
import {DeviceId, scopeDeviceId} from "./types/DeviceId.sol";
import {PolicyId} from "./types/PolicyId.sol";
import {Roles, Permissions} from "./types/Roles.sol";
import {Device, DeviceStatus, Policy, Decision, Service} from "./types/DeviceTypes.sol";
import {PlmnLib} from "./libraries/PlmnLib.sol";
import {PolicyLib} from "./libraries/PolicyLib.sol";

/// @title DeviceRegistry
/// @notice Roaming IoT devices, their shared policy definitions and per-device policy contracts.
contract DeviceRegistry is IDeviceRegistry {
    using PlmnLib for PlmnId;

    /// @inheritdoc IDeviceRegistry
    uint256 public constant FLAGS_PER_DAY = 200;
    /// @inheritdoc IDeviceRegistry
    uint256 public constant FLAG_COOLDOWN = 7 days;

    // Batch limits: each call at its limit was measured under 14,000,000 gas (test/unit/misbehave/devices.test.ts),
    // under the EIP-7825 cap of 16,777,216 with margin.
    uint256 private constant MAX_REGISTER = 170;
    uint256 private constant MAX_UPDATE = 300;
    uint256 private constant MAX_SUSPEND = 1_000;
    uint256 private constant MAX_REINSTATE = 400;
    uint256 private constant MAX_CONFIRM = 1_000;
    uint256 private constant MAX_DISMISS = 500;
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

    /// A reporter's flag on a device: it stands while `flaggedAt != 0` and `epoch` is the device's.
    struct ReporterFlag {
        uint40 flaggedAt;
        uint40 dismissedAt;
        uint32 epoch;
    }
    /// Each reinstatement of a device starts a new epoch: flags of earlier epochs no longer stand.
    struct FlagEpoch {
        uint32 epoch;
        uint40 clearedAt;
    }
    /// Flags a reporter raised on UTC day `day`.
    struct FlagQuota {
        uint40 day;
        uint32 used;
    }
    mapping(DeviceId id => mapping(PlmnId reporter => ReporterFlag)) private _flags;
    mapping(DeviceId id => FlagEpoch) private _flagEpochs;
    mapping(bytes32 idReporterEvidence => bool) private _evidenceUsed;
    mapping(PlmnId reporter => FlagQuota) private _quotas;

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
        PlmnId caller = _operator();
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
        PlmnId home = _unpausedOperator();
        uint256 n = registrations.length;
        _requireBatch(n, MAX_REGISTER);
        // Consecutive devices mostly share policy and maker: check each distinct one once in a row.
        PolicyId checkedPolicy;
        PlmnId checkedMaker;
        uint40 time = uint40(block.timestamp);
        for (uint256 i = 0; i < n; ++i) {
            Registration calldata r = registrations[i];
            require(r.localId != bytes32(0), DeviceRegistryZeroDeviceId(i));
            DeviceId id = scopeDeviceId(home, r.localId);
            Device storage d = _devices[id];
            require(d.status == DeviceStatus.None, DeviceRegistryAlreadyRegistered(id));
            if (PolicyId.unwrap(r.policyId) != PolicyId.unwrap(checkedPolicy)) {
                _requireOwnedPolicy(r.policyId, home);
                checkedPolicy = r.policyId;
            }
            if (!r.maker.isZero() && !r.maker.eq(checkedMaker)) {
                require(_CARRIERS.hasRole(r.maker, Roles.DEVICE_MAKER), DeviceRegistryInvalidMaker(r.maker));
                checkedMaker = r.maker;
            }
            _devices[id] = Device({
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
                abi.encodePacked(id),
                DeviceId.unwrap(id)
            );
            emit DeviceRegistered(id, home, r.maker, policy, r.deviceClass, r.policyId);
        }
    }

    /// @inheritdoc IDeviceRegistry
    function updatePolicies(DeviceId[] calldata ids, PolicyId policyId) external {
        PlmnId home = _unpausedOperator();
        _requireBatch(ids.length, MAX_UPDATE);
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
        PlmnId home = _CARRIERS.requireDefendingOperator(msg.sender, Roles.CARRIER, Permissions.DEVICES);
        _requireBatch(ids.length, MAX_SUSPEND);
        for (uint256 i = 0; i < ids.length; ++i) {
            Device storage d = _homeDevice(ids[i], home);
            require(d.status == DeviceStatus.Active, DeviceRegistryWrongStatus(ids[i], d.status));
            d.status = DeviceStatus.Suspended;
            emit DeviceSuspended(ids[i], home, reason);
        }
    }

    /// @inheritdoc IDeviceRegistry
    function reinstateDevices(DeviceId[] calldata ids) external {
        PlmnId home = _operator();
        _requireBatch(ids.length, MAX_REINSTATE);
        uint40 time = uint40(block.timestamp);
        for (uint256 i = 0; i < ids.length; ++i) {
            Device storage d = _homeDevice(ids[i], home);
            require(d.status != DeviceStatus.Active, DeviceRegistryWrongStatus(ids[i], d.status));
            d.status = DeviceStatus.Active;
            FlagEpoch storage e = _flagEpochs[ids[i]];
            (e.epoch, e.clearedAt) = (e.epoch + 1, time);
            emit DeviceReinstated(ids[i], home);
        }
    }

    /// @inheritdoc IDeviceRegistry
    function confirmFraud(DeviceId[] calldata ids) external {
        PlmnId home = _CARRIERS.requireDefendingOperator(msg.sender, Roles.CARRIER, Permissions.DEVICES);
        _requireBatch(ids.length, MAX_CONFIRM);
        for (uint256 i = 0; i < ids.length; ++i) {
            Device storage d = _homeDevice(ids[i], home);
            require(d.status != DeviceStatus.FraudFlagged, DeviceRegistryWrongStatus(ids[i], d.status));
            d.status = DeviceStatus.FraudFlagged;
            emit FraudConfirmed(ids[i], home);
        }
    }

    /// @inheritdoc IDeviceRegistry
    function dismissFraudFlags(DeviceId[] calldata ids, PlmnId reporter) external {
        PlmnId home = _operator();
        _requireBatch(ids.length, MAX_DISMISS);
        uint40 time = uint40(block.timestamp);
        for (uint256 i = 0; i < ids.length; ++i) {
            _homeDevice(ids[i], home);
            require(_flaggedBy(ids[i], reporter), DeviceRegistryNotFlagged(ids[i], reporter));
            ReporterFlag storage f = _flags[ids[i]][reporter];
            (f.flaggedAt, f.dismissedAt) = (0, time);
            emit FraudFlagDismissed(ids[i], home, reporter);
        }
    }

    /// @inheritdoc IDeviceRegistry
    function shareImsiKey(PlmnId partner, bytes calldata envelope, bytes8 fingerprint) external {
        PlmnId home = _operator();
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
        PlmnId reporter = _unpausedOperator();
        _requireBatch(flags.length, FLAGS_PER_DAY);
        PlmnId checkedHome;
        uint256 raised;
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
            if (!_raiseFlag(f, reporter, time, i)) continue;
            ++raised;
            emit FraudFlagged(f.id, home, reporter, f.reason, f.evidenceHash);
        }
        _spendQuota(reporter, raised);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDeviceRegistry
    function deviceIdOf(PlmnId home, bytes32 localId) external pure returns (DeviceId) {
        return scopeDeviceId(home, localId);
    }

    /// @inheritdoc IDeviceRegistry
    function flaggedBy(DeviceId id, PlmnId reporter) external view returns (bool) {
        return _flaggedBy(id, reporter);
    }

    /// @inheritdoc IDeviceRegistry
    function fraudFlag(
        DeviceId id,
        PlmnId reporter
    ) external view returns (bool standing, uint40 flaggedAt, uint40 cooldownUntil) {
        standing = _flaggedBy(id, reporter);
        flaggedAt = standing ? _flags[id][reporter].flaggedAt : 0;
        uint40 until = _cooldownUntil(id, reporter);
        cooldownUntil = standing || until <= block.timestamp ? 0 : until;
    }

    /// @inheritdoc IDeviceRegistry
    function flagsLeftToday(PlmnId reporter) external view returns (uint256) {
        FlagQuota storage q = _quotas[reporter];
        return q.day == block.timestamp / 1 days ? FLAGS_PER_DAY - q.used : FLAGS_PER_DAY;
    }

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
        if (device.status == DeviceStatus.Active && _flaggedBy(id, visited)) device.status = DeviceStatus.FraudFlagged;
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
    function batchLimits() external pure returns (BatchLimits memory) {
        return
            BatchLimits({
                register: MAX_REGISTER,
                updatePolicies: MAX_UPDATE,
                suspend: MAX_SUSPEND,
                reinstate: MAX_REINSTATE,
                confirmFraud: MAX_CONFIRM,
                dismissFraudFlags: MAX_DISMISS,
                flagFraud: FLAGS_PER_DAY
            });
    }

    // ---------------------------------------------------------------- internals

    /// The caller's member: an operator key of an active carrier with the DEVICES permission.
    function _operator() private view returns (PlmnId) {
        return _CARRIERS.requireOperator(msg.sender, Roles.CARRIER, Permissions.DEVICES);
    }

    /// As `_operator`, for the calls that wait while the consortium is paused.
    function _unpausedOperator() private view returns (PlmnId) {
        require(!_CARRIERS.paused(), DeviceRegistryPaused());
        return _operator();
    }

    /// Counts `n` flags against the reporter's allowance of the current UTC day.
    function _spendQuota(PlmnId reporter, uint256 n) private {
        FlagQuota storage q = _quotas[reporter];
        uint40 today = uint40(block.timestamp / 1 days);
        uint256 used = q.day == today ? q.used : 0;
        require(used + n <= FLAGS_PER_DAY, DeviceRegistryFlagQuota(reporter, used, FLAGS_PER_DAY));
        (q.day, q.used) = (today, uint32(used + n));
    }

    /// Records `reporter`'s flag `f` (the `index`-th of the call), or adds evidence to its standing one.
    /// False, changing nothing, for evidence the standing flag has already: a resent flag is a no-op.
    function _raiseFlag(FraudFlag calldata f, PlmnId reporter, uint40 time, uint256 index) private returns (bool) {
        require(f.evidenceHash != bytes32(0), DeviceRegistryNoEvidence(index));
        bytes32 key = keccak256(abi.encode(f.id, reporter, f.evidenceHash));
        bool standing = _flaggedBy(f.id, reporter);
        if (_evidenceUsed[key]) {
            require(standing, DeviceRegistryEvidenceUsed(f.id, reporter, f.evidenceHash));
            return false;
        }
        _evidenceUsed[key] = true;
        if (standing) return true;
        uint40 until = _cooldownUntil(f.id, reporter);
        require(time >= until, DeviceRegistryFlagCooldown(f.id, reporter, until));
        ReporterFlag storage r = _flags[f.id][reporter];
        (r.flaggedAt, r.epoch) = (time, _flagEpochs[f.id].epoch);
        return true;
    }

    function _flaggedBy(DeviceId id, PlmnId reporter) private view returns (bool) {
        ReporterFlag storage f = _flags[id][reporter];
        return f.flaggedAt != 0 && f.epoch == _flagEpochs[id].epoch;
    }

    /// End of the reporter's cooldown on the device: `FLAG_COOLDOWN` after the home last dismissed its
    /// flag or cleared it by a reinstatement (0 when neither happened). Meaningless while the flag stands.
    function _cooldownUntil(DeviceId id, PlmnId reporter) private view returns (uint40) {
        ReporterFlag storage f = _flags[id][reporter];
        uint40 cleared = f.dismissedAt;
        FlagEpoch storage e = _flagEpochs[id];
        if (f.flaggedAt != 0 && f.epoch != e.epoch && e.clearedAt > cleared) cleared = e.clearedAt;
        return cleared == 0 ? 0 : cleared + uint40(FLAG_COOLDOWN);
    }

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

    function _requireBatch(uint256 n, uint256 max) private pure {
        require(n > 0 && n <= max, DeviceRegistryBatchSize(n, max));
    }
}
