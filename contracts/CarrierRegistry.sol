// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {PlmnId} from "./types/PlmnId.sol";
import {Permissions, Roles} from "./types/Roles.sol";
import {PlmnLib} from "./libraries/PlmnLib.sol";

/// @title CarrierRegistry
/// @notice The consortium's member list, governance and Besu account allowlist.
contract CarrierRegistry is ICarrierRegistry {
    using PlmnLib for PlmnId;

    uint256 private constant MAX_NAME_BYTES = 64;
    uint256 private constant MAX_OPERATORS = 16;
    uint256 private constant MAX_TADIGS = 16;
    uint16 private constant BPS = 10_000;
    /// @notice Strict majority: a threshold must be above half.
    uint16 private constant HALF_BPS = 5_000;
    /// @notice A pause lifts itself this long after it starts.
    uint40 public constant MAX_PAUSE = 14 days;
    /// @notice After a pause ends, a new one cannot start for this long.
    uint40 public constant PAUSE_COOLDOWN = 7 days;

    /// @dev One storage slot per account: its member and its `Permissions` bits.
    struct Operator {
        PlmnId plmn;
        uint8 permissions;
    }

    /// @dev A pending offer: the permissions offered, the ADMIN who offered them, and the member's
    /// ADMIN epoch when offered (one slot).
    struct Offer {
        address offeredBy;
        uint8 permissions;
        uint64 adminEpoch;
    }

    /// @dev The TADIG codes: who holds each, and each member's list (at most MAX_TADIGS).
    struct Tadigs {
        mapping(bytes5 code => PlmnId) holder;
        mapping(PlmnId plmn => bytes5[]) codes;
    }

    uint16 private immutable _THRESHOLD_BPS;
    uint32 private immutable _PROPOSAL_LIFETIME;

    mapping(PlmnId plmn => Member) private _members;
    mapping(PlmnId plmn => address[]) private _operators;
    mapping(address account => Operator) private _memberOf;
    mapping(address account => mapping(PlmnId plmn => Offer)) private _offers;
    mapping(address account => uint256) private _offerCount;
    /// @dev Bumped whenever one of the member's keys loses ADMIN (stripped or removed): every offer
    /// made before lapses, so a leaked ADMIN key's offers die with it and do not revive if it is
    /// granted ADMIN again.
    mapping(PlmnId plmn => uint64) private _adminEpoch;
    mapping(address account => bool) private _infraAccounts;
    PlmnId[] private _memberIds;
    uint256 private _activeGovernors;
    uint40 private _pausedUntil;
    uint40 private _pauseAvailableAt;

    Proposal[] private _proposals; // index = id - 1
    mapping(uint256 proposalId => MemberInit) private _candidates;
    mapping(uint256 proposalId => mapping(PlmnId voter => bool)) private _approved;
    Tadigs private _tadig;

    /// @param bootstrap The founding members, admitted without a vote; at least one governor.
    /// @param thresholdBps_ Share of active governors whose approval a proposal needs, in basis points
    /// (5001 = strict majority, 10000 = unanimity); rounded up, at least one. 5000 or less is refused:
    /// with two governors, one of them alone would carry a proposal.
    /// @param proposalLifetime_ Seconds a proposal stays open.
    /// @param infraAccounts Accounts that may transact without being members (deployer, node operations).
    constructor(
        MemberInit[] memory bootstrap,
        uint16 thresholdBps_,
        uint32 proposalLifetime_,
        address[] memory infraAccounts
    ) {
        require(
            thresholdBps_ > HALF_BPS && thresholdBps_ <= BPS && proposalLifetime_ > 0,
            CarrierRegistryInvalidGovernance(thresholdBps_, proposalLifetime_)
        );
        _THRESHOLD_BPS = thresholdBps_;
        _PROPOSAL_LIFETIME = proposalLifetime_;
        for (uint256 i = 0; i < bootstrap.length; ++i) {
            _admit(bootstrap[i]);
        }
        require(_activeGovernors > 0, CarrierRegistryNoGovernor());
        for (uint256 i = 0; i < infraAccounts.length; ++i) {
            require(infraAccounts[i] != address(0), CarrierRegistryInvalidInfraAccount(address(0)));
            _infraAccounts[infraAccounts[i]] = true;
            emit InfraAccountSet(infraAccounts[i], true);
        }
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc ICarrierRegistry
    function proposeAdmission(MemberInit calldata candidate) external returns (uint256 proposalId) {
        PlmnId proposer = requireOperator(msg.sender, Roles.GOVERNOR, Permissions.ADMIN);
        _validateInit(candidate);
        proposalId = _createProposal(ProposalKind.Admit, candidate.plmn, address(0), proposer);
        _candidates[proposalId] = candidate;
        _approveAs(proposalId, proposer);
    }

    /// @inheritdoc ICarrierRegistry
    function proposeStatusChange(ProposalKind kind, PlmnId target) external returns (uint256 proposalId) {
        PlmnId proposer = requireOperator(msg.sender, Roles.GOVERNOR, Permissions.ADMIN);
        MemberStatus status = _members[target].status;
        require(status != MemberStatus.None, CarrierRegistryUnknownMember(target));
        if (kind == ProposalKind.Suspend) {
            require(status == MemberStatus.Active, CarrierRegistryWrongStatus(target, status));
        } else {
            require(kind == ProposalKind.Reinstate, CarrierRegistryInvalidProposalKind(kind));
            require(status == MemberStatus.Suspended, CarrierRegistryWrongStatus(target, status));
        }
        proposalId = _createProposal(kind, target, address(0), proposer);
        _approveAs(proposalId, proposer);
    }

    /// @inheritdoc ICarrierRegistry
    function proposeInfraAccount(ProposalKind kind, address account) external returns (uint256 proposalId) {
        PlmnId proposer = requireOperator(msg.sender, Roles.GOVERNOR, Permissions.ADMIN);
        require(
            kind == ProposalKind.AllowInfraAccount || kind == ProposalKind.RevokeInfraAccount,
            CarrierRegistryInvalidProposalKind(kind)
        );
        require(
            account != address(0) && _infraAccounts[account] == (kind == ProposalKind.RevokeInfraAccount),
            CarrierRegistryInvalidInfraAccount(account)
        );
        proposalId = _createProposal(kind, PlmnId.wrap(0), account, proposer);
        _approveAs(proposalId, proposer);
    }

    /// @inheritdoc ICarrierRegistry
    function approve(uint256 proposalId) external {
        PlmnId voter = requireOperator(msg.sender, Roles.GOVERNOR, Permissions.ADMIN);
        _approveAs(proposalId, voter);
    }

    /// @inheritdoc ICarrierRegistry
    function proposeEmergency(ProposalKind kind) external returns (uint256 proposalId) {
        PlmnId proposer = requireOperator(msg.sender, Roles.GOVERNOR, Permissions.ADMIN);
        require(kind == ProposalKind.Pause || kind == ProposalKind.Unpause, CarrierRegistryInvalidProposalKind(kind));
        proposalId = _createProposal(kind, PlmnId.wrap(0), address(0), proposer);
        _approveAs(proposalId, proposer);
    }

    // ---------------------------------------------------------------- self-service

    /// @inheritdoc ICarrierRegistry
    function addOperator(address account, uint8 permissions) external {
        PlmnId plmn = requireOperator(msg.sender, 0, Permissions.ADMIN);
        require(account != address(0), CarrierRegistryInvalidOperators(0));
        _validatePermissions(permissions);
        PlmnId current = _memberOf[account].plmn;
        require(current.isZero(), CarrierRegistryOperatorTaken(account, current));
        require(_operators[plmn].length < MAX_OPERATORS, CarrierRegistryInvalidOperators(MAX_OPERATORS + 1));
        if (_offers[account][plmn].permissions == 0) ++_offerCount[account];
        _offers[account][plmn] = Offer({
            offeredBy: msg.sender,
            permissions: permissions,
            adminEpoch: _adminEpoch[plmn]
        });
        emit OperatorOffered(plmn, account, permissions);
    }

    /// @inheritdoc ICarrierRegistry
    function acceptOperator(PlmnId plmn) external {
        Offer memory offer = _offers[msg.sender][plmn];
        require(offer.permissions != 0, CarrierRegistryNoOffer(msg.sender, plmn));
        PlmnId current = _memberOf[msg.sender].plmn;
        require(current.isZero(), CarrierRegistryOperatorTaken(msg.sender, current));
        MemberStatus status = _members[plmn].status;
        require(status == MemberStatus.Active, CarrierRegistryWrongStatus(plmn, status));
        // An offer lapses when any ADMIN of the member lost ADMIN since: removing or stripping a leaked
        // ADMIN key voids its offers (the member's honest ADMIN offers again).
        require(offer.adminEpoch == _adminEpoch[plmn], CarrierRegistryNoOffer(msg.sender, plmn));
        require(_operators[plmn].length < MAX_OPERATORS, CarrierRegistryInvalidOperators(MAX_OPERATORS + 1));
        delete _offers[msg.sender][plmn];
        --_offerCount[msg.sender];
        _addOperator(plmn, msg.sender, offer.permissions);
    }

    /// @inheritdoc ICarrierRegistry
    function setOperatorPermissions(address account, uint8 permissions) external {
        // Key hygiene is defensive: a suspended member may still strip or remove a leaked key.
        PlmnId plmn = requireDefendingOperator(msg.sender, 0, Permissions.ADMIN);
        Operator storage op = _memberOf[account];
        require(op.plmn.eq(plmn), CarrierRegistryNotOperatorOf(account, plmn));
        _validatePermissions(permissions);
        if (permissions & Permissions.ADMIN == 0 && op.permissions & Permissions.ADMIN != 0) {
            _requireOtherAdmin(plmn, account);
            ++_adminEpoch[plmn];
        }
        op.permissions = permissions;
        emit OperatorPermissionsSet(plmn, account, permissions);
    }

    /// @inheritdoc ICarrierRegistry
    function removeOperator(address account) external {
        PlmnId plmn = requireDefendingOperator(msg.sender, 0, Permissions.ADMIN);
        require(_memberOf[account].plmn.eq(plmn), CarrierRegistryNotOperatorOf(account, plmn));
        address[] storage ops = _operators[plmn];
        require(ops.length > 1, CarrierRegistryLastOperator(plmn));
        if (_memberOf[account].permissions & Permissions.ADMIN != 0) {
            _requireOtherAdmin(plmn, account);
            ++_adminEpoch[plmn];
        }
        uint256 last = ops.length - 1;
        for (uint256 i = 0; i <= last; ++i) {
            if (ops[i] == account) {
                ops[i] = ops[last];
                ops.pop();
                break;
            }
        }
        delete _memberOf[account];
        emit OperatorRemoved(plmn, account);
    }

    /// @inheritdoc ICarrierRegistry
    function rotateEncryptionKey(bytes calldata encryptionKey) external {
        PlmnId plmn = requireOperator(msg.sender, 0, Permissions.ADMIN);
        _validateKey(encryptionKey);
        _members[plmn].encryptionKey = encryptionKey;
        emit EncryptionKeyRotated(plmn, encryptionKey);
    }

    /// @inheritdoc ICarrierRegistry
    function registerTadig(bytes5 code) external {
        PlmnId plmn = requireOperator(msg.sender, Roles.CARRIER, Permissions.ADMIN);
        _validateTadig(code);
        PlmnId holder = _tadig.holder[code];
        require(holder.isZero(), CarrierRegistryTadigTaken(code, holder));
        bytes5[] storage codes = _tadig.codes[plmn];
        require(codes.length < MAX_TADIGS, CarrierRegistryTadigLimit(plmn, MAX_TADIGS));
        _tadig.holder[code] = plmn;
        codes.push(code);
        emit TadigRegistered(plmn, code);
    }

    /// @inheritdoc ICarrierRegistry
    function releaseTadig(bytes5 code) external {
        PlmnId plmn = requireOperator(msg.sender, Roles.CARRIER, Permissions.ADMIN);
        require(_tadig.holder[code].eq(plmn), CarrierRegistryTadigNotHeld(code, plmn));
        _tadig.holder[code] = PlmnId.wrap(0);
        // The member holds the code, so it is among its (at most 16) codes: the scan stops on it.
        bytes5[] storage codes = _tadig.codes[plmn];
        uint256 i = 0;
        while (codes[i] != code) ++i;
        codes[i] = codes[codes.length - 1];
        codes.pop();
        emit TadigReleased(plmn, code);
    }

    // ---------------------------------------------------------------- permissioning

    /// @inheritdoc ICarrierRegistry
    function transactionAllowed(
        address sender,
        address target,
        uint256,
        uint256,
        uint256,
        bytes calldata payload
    ) external view returns (bool) {
        if (_infraAccounts[sender]) return true;
        // A suspended member's operators transact too, for their defensive calls; the contracts decide.
        PlmnId plmn = _memberOf[sender].plmn;
        if (!plmn.isZero()) return _members[plmn].status != MemberStatus.None;
        // An offered account may send exactly one kind of transaction: its acceptOperator call.
        return
            _offerCount[sender] > 0 &&
            target == address(this) &&
            payload.length >= 4 &&
            bytes4(payload[:4]) == this.acceptOperator.selector;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ICarrierRegistry
    function getMember(PlmnId plmn) external view returns (Member memory) {
        return _members[plmn];
    }

    /// @inheritdoc ICarrierRegistry
    function memberIds() external view returns (PlmnId[] memory) {
        return _memberIds;
    }

    /// @inheritdoc ICarrierRegistry
    function operatorsOf(PlmnId plmn) external view returns (address[] memory) {
        return _operators[plmn];
    }

    /// @inheritdoc ICarrierRegistry
    function memberOf(address account) external view returns (PlmnId) {
        return _memberOf[account].plmn;
    }

    /// @inheritdoc ICarrierRegistry
    function operatorPermissions(address account) external view returns (uint8) {
        return _memberOf[account].permissions;
    }

    /// @inheritdoc ICarrierRegistry
    function operatorOffer(address account, PlmnId plmn) external view returns (uint8 permissions, address offeredBy) {
        Offer memory offer = _offers[account][plmn];
        return (offer.permissions, offer.offeredBy);
    }

    /// @inheritdoc ICarrierRegistry
    function paused() external view returns (bool) {
        return block.timestamp < _pausedUntil;
    }

    /// @inheritdoc ICarrierRegistry
    function pausedUntil() external view returns (uint40) {
        return _pausedUntil;
    }

    /// @inheritdoc ICarrierRegistry
    function isActive(PlmnId plmn) public view returns (bool) {
        return _members[plmn].status == MemberStatus.Active;
    }

    /// @inheritdoc ICarrierRegistry
    function hasRole(PlmnId plmn, uint8 role) public view returns (bool) {
        Member storage m = _members[plmn];
        return m.status == MemberStatus.Active && (m.roles & role) == role;
    }

    /// @inheritdoc ICarrierRegistry
    function requireActiveOperator(address account, uint8 role) public view returns (PlmnId plmn) {
        plmn = _memberOf[account].plmn;
        require(!plmn.isZero() && isActive(plmn), CarrierRegistryNotActiveOperator(account));
        require((_members[plmn].roles & role) == role, CarrierRegistryMissingRole(account, plmn, role));
    }

    /// @inheritdoc ICarrierRegistry
    function requireOperator(address account, uint8 role, uint8 permission) public view returns (PlmnId plmn) {
        Operator memory op = _memberOf[account];
        plmn = op.plmn;
        require(!plmn.isZero() && isActive(plmn), CarrierRegistryNotActiveOperator(account));
        _requireRoleAndPermission(account, op, role, permission);
    }

    /// @inheritdoc ICarrierRegistry
    function requireDefendingOperator(
        address account,
        uint8 role,
        uint8 permission
    ) public view returns (PlmnId plmn) {
        Operator memory op = _memberOf[account];
        plmn = op.plmn;
        // A non-zero member id is always a member (active or suspended): members are never deleted.
        require(!plmn.isZero(), CarrierRegistryNotActiveOperator(account));
        _requireRoleAndPermission(account, op, role, permission);
    }

    /// @inheritdoc ICarrierRegistry
    function getProposal(uint256 proposalId) public view returns (Proposal memory) {
        require(proposalId > 0 && proposalId <= _proposals.length, CarrierRegistryUnknownProposal(proposalId));
        return _proposals[proposalId - 1];
    }

    /// @inheritdoc ICarrierRegistry
    function getCandidate(uint256 proposalId) external view returns (MemberInit memory) {
        return _candidates[proposalId];
    }

    /// @inheritdoc ICarrierRegistry
    function hasApproved(uint256 proposalId, PlmnId voter) external view returns (bool) {
        return _approved[proposalId][voter];
    }

    /// @inheritdoc ICarrierRegistry
    function proposalCount() external view returns (uint256) {
        return _proposals.length;
    }

    /// @inheritdoc ICarrierRegistry
    function activeGovernorCount() external view returns (uint256) {
        return _activeGovernors;
    }

    /// @inheritdoc ICarrierRegistry
    function thresholdBps() external view returns (uint16) {
        return _THRESHOLD_BPS;
    }

    /// @inheritdoc ICarrierRegistry
    function proposalLifetime() external view returns (uint32) {
        return _PROPOSAL_LIFETIME;
    }

    /// @inheritdoc ICarrierRegistry
    function isInfraAccount(address account) external view returns (bool) {
        return _infraAccounts[account];
    }

    /// @inheritdoc ICarrierRegistry
    function plmnOfTadig(bytes5 code) external view returns (PlmnId) {
        return _tadig.holder[code];
    }

    /// @inheritdoc ICarrierRegistry
    function tadigCodesOf(PlmnId plmn) external view returns (bytes5[] memory) {
        return _tadig.codes[plmn];
    }

    // ---------------------------------------------------------------- internals

    function _createProposal(
        ProposalKind kind,
        PlmnId target,
        address account,
        PlmnId proposer
    ) private returns (uint256 proposalId) {
        uint16 required = uint16((_activeGovernors * _THRESHOLD_BPS + BPS - 1) / BPS);
        if (required == 0) required = 1;
        uint40 expiresAt = uint40(block.timestamp) + _PROPOSAL_LIFETIME;
        _proposals.push(
            Proposal({
                kind: kind,
                target: target,
                account: account,
                proposer: proposer,
                createdAt: uint40(block.timestamp),
                expiresAt: expiresAt,
                requiredApprovals: required,
                approvals: 0,
                executed: false
            })
        );
        proposalId = _proposals.length;
        emit ProposalCreated(proposalId, kind, target, account, proposer, required, expiresAt);
    }

    function _approveAs(uint256 proposalId, PlmnId voter) private {
        require(proposalId > 0 && proposalId <= _proposals.length, CarrierRegistryUnknownProposal(proposalId));
        Proposal storage p = _proposals[proposalId - 1];
        require(!p.executed, CarrierRegistryProposalExecuted(proposalId));
        require(block.timestamp < p.expiresAt, CarrierRegistryProposalExpired(proposalId, p.expiresAt));
        require(!_approved[proposalId][voter], CarrierRegistryAlreadyApproved(proposalId, voter));
        _approved[proposalId][voter] = true;
        uint16 approvals = p.approvals + 1;
        p.approvals = approvals;
        emit ProposalApproved(proposalId, voter, approvals);
        if (approvals >= p.requiredApprovals) {
            p.executed = true;
            _execute(proposalId, p);
            emit ProposalExecuted(proposalId);
        }
    }

    function _execute(uint256 proposalId, Proposal storage p) private {
        ProposalKind kind = p.kind;
        if (kind == ProposalKind.Admit) {
            // _admit re-validates: another proposal may have admitted the same PLMN or operator meanwhile.
            _admit(_candidates[proposalId]);
        } else if (kind == ProposalKind.Suspend) {
            _setStatus(p.target, MemberStatus.Active, MemberStatus.Suspended);
            emit MemberSuspended(p.target, proposalId);
        } else if (kind == ProposalKind.Reinstate) {
            _setStatus(p.target, MemberStatus.Suspended, MemberStatus.Active);
            emit MemberReinstated(p.target, proposalId);
        } else if (kind == ProposalKind.Pause || kind == ProposalKind.Unpause) {
            _setPaused(kind == ProposalKind.Pause, proposalId);
        } else {
            bool allowed = kind == ProposalKind.AllowInfraAccount;
            require(_infraAccounts[p.account] != allowed, CarrierRegistryInvalidInfraAccount(p.account));
            _infraAccounts[p.account] = allowed;
            emit InfraAccountSet(p.account, allowed);
        }
    }

    /// @dev A pause runs MAX_PAUSE unless lifted earlier; it cannot be extended, and the next one waits
    /// PAUSE_COOLDOWN after this one ends (by expiry or by an unpause).
    function _setPaused(bool pause, uint256 proposalId) private {
        uint40 now_ = uint40(block.timestamp);
        if (pause) {
            // _pauseAvailableAt is past the end of any pause in force, so this also refuses an extension.
            uint40 availableAt = _pauseAvailableAt;
            require(now_ >= availableAt, CarrierRegistryPauseUnavailable(availableAt));
            _pausedUntil = now_ + MAX_PAUSE;
            _pauseAvailableAt = now_ + MAX_PAUSE + PAUSE_COOLDOWN;
        } else {
            require(now_ < _pausedUntil, CarrierRegistryNotPaused());
            _pausedUntil = now_;
            _pauseAvailableAt = now_ + PAUSE_COOLDOWN;
        }
        emit PausedSet(pause, proposalId);
    }

    function _setStatus(PlmnId plmn, MemberStatus from, MemberStatus to) private {
        Member storage m = _members[plmn];
        require(m.status == from, CarrierRegistryWrongStatus(plmn, m.status));
        if (m.roles & Roles.GOVERNOR != 0) {
            if (to == MemberStatus.Active) {
                ++_activeGovernors;
            } else {
                require(_activeGovernors > 1, CarrierRegistryLastGovernor(plmn));
                --_activeGovernors;
            }
        }
        m.status = to;
    }

    function _admit(MemberInit memory init) private {
        _validateInit(init);
        Member storage m = _members[init.plmn];
        m.plmn = init.plmn;
        m.roles = init.roles;
        m.status = MemberStatus.Active;
        m.admittedAt = uint40(block.timestamp);
        m.name = init.name;
        m.encryptionKey = init.encryptionKey;
        _memberIds.push(init.plmn);
        if (init.roles & Roles.GOVERNOR != 0) ++_activeGovernors;
        emit MemberAdmitted(init.plmn, init.roles, init.name, init.encryptionKey);
        for (uint256 i = 0; i < init.operators.length; ++i) {
            _addOperator(init.plmn, init.operators[i], Permissions.ALL);
        }
    }

    /// @dev Callers checked the account is free and non-zero (`_validateInit`, `acceptOperator`).
    function _addOperator(PlmnId plmn, address account, uint8 permissions) private {
        _memberOf[account] = Operator({plmn: plmn, permissions: permissions});
        _operators[plmn].push(account);
        emit OperatorAdded(plmn, account);
        emit OperatorPermissionsSet(plmn, account, permissions);
    }

    function _requireRoleAndPermission(address account, Operator memory op, uint8 role, uint8 permission) private view {
        require((_members[op.plmn].roles & role) == role, CarrierRegistryMissingRole(account, op.plmn, role));
        require(
            (op.permissions & permission) == permission,
            CarrierRegistryMissingPermission(account, op.plmn, permission)
        );
    }

    /// @dev Reverts unless an operator of `plmn` other than `account` holds ADMIN (at most 16 to scan).
    function _requireOtherAdmin(PlmnId plmn, address account) private view {
        address[] storage ops = _operators[plmn];
        for (uint256 i = 0; i < ops.length; ++i) {
            if (ops[i] != account && _memberOf[ops[i]].permissions & Permissions.ADMIN != 0) return;
        }
        revert CarrierRegistryLastAdmin(plmn);
    }

    function _validatePermissions(uint8 permissions) private pure {
        require(
            permissions != 0 && (permissions & ~Permissions.ALL) == 0,
            CarrierRegistryInvalidPermissions(permissions)
        );
    }

    function _validateInit(MemberInit memory init) private view {
        require(init.plmn.isValid(), CarrierRegistryInvalidPlmn(init.plmn));
        require(_members[init.plmn].status == MemberStatus.None, CarrierRegistryMemberExists(init.plmn));
        require(init.roles != 0 && (init.roles & ~Roles.ALL) == 0, CarrierRegistryInvalidRoles(init.roles));
        uint256 nameLength = bytes(init.name).length;
        require(nameLength > 0 && nameLength <= MAX_NAME_BYTES, CarrierRegistryInvalidName(init.name));
        _validateKey(init.encryptionKey);
        uint256 n = init.operators.length;
        require(n > 0 && n <= MAX_OPERATORS, CarrierRegistryInvalidOperators(n));
        for (uint256 i = 0; i < n; ++i) {
            address op = init.operators[i];
            require(op != address(0), CarrierRegistryInvalidOperators(n));
            PlmnId current = _memberOf[op].plmn;
            require(current.isZero(), CarrierRegistryOperatorTaken(op, current));
            for (uint256 j = 0; j < i; ++j) {
                require(init.operators[j] != op, CarrierRegistryOperatorTaken(op, init.plmn));
            }
        }
    }

    /// @dev GSMA TADIG: 3 upper-case letters (the ISO 3166 alpha-3 country), then 2 upper-case letters or
    /// digits; ASCII only, so no look-alike byte is a second spelling of a code.
    function _validateTadig(bytes5 code) private pure {
        uint40 rest = uint40(code);
        for (uint256 i = 0; i < 5; ++i) {
            uint8 c = uint8(rest >> 32);
            rest <<= 8;
            require((c >= 0x41 && c <= 0x5A) || (i > 2 && c >= 0x30 && c <= 0x39), CarrierRegistryInvalidTadig(code));
        }
    }

    function _validateKey(bytes memory key) private pure {
        require(
            key.length == 33 && (key[0] == 0x02 || key[0] == 0x03),
            CarrierRegistryInvalidEncryptionKey(key)
        );
    }
}
