// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {PlmnId} from "./types/PlmnId.sol";
import {Roles} from "./types/Roles.sol";
import {PlmnLib} from "./libraries/PlmnLib.sol";

/// @title CarrierRegistry
/// @notice The consortium's member list, governance and Besu account allowlist.
contract CarrierRegistry is ICarrierRegistry {
    using PlmnLib for PlmnId;

    uint256 private constant MAX_NAME_BYTES = 64;
    uint256 private constant MAX_OPERATORS = 16;
    uint16 private constant BPS = 10_000;

    uint16 private immutable _THRESHOLD_BPS;
    uint32 private immutable _PROPOSAL_LIFETIME;

    mapping(PlmnId plmn => Member) private _members;
    mapping(PlmnId plmn => address[]) private _operators;
    mapping(address account => PlmnId) private _memberOf;
    mapping(address account => bool) private _infraAccounts;
    PlmnId[] private _memberIds;
    uint256 private _activeGovernors;

    Proposal[] private _proposals; // index = id - 1
    mapping(uint256 proposalId => MemberInit) private _candidates;
    mapping(uint256 proposalId => mapping(PlmnId voter => bool)) private _approved;

    /// @param bootstrap The founding members, admitted without a vote; at least one governor.
    /// @param thresholdBps_ Share of active governors whose approval a proposal needs, in basis points
    /// (5001 = strict majority, 10000 = unanimity); rounded up, at least one.
    /// @param proposalLifetime_ Seconds a proposal stays open.
    /// @param infraAccounts Accounts that may transact without being members (deployer, node operations).
    constructor(
        MemberInit[] memory bootstrap,
        uint16 thresholdBps_,
        uint32 proposalLifetime_,
        address[] memory infraAccounts
    ) {
        require(
            thresholdBps_ > 0 && thresholdBps_ <= BPS && proposalLifetime_ > 0,
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
        PlmnId proposer = requireActiveOperator(msg.sender, Roles.GOVERNOR);
        _validateInit(candidate);
        proposalId = _createProposal(ProposalKind.Admit, candidate.plmn, address(0), proposer);
        _candidates[proposalId] = candidate;
        _approveAs(proposalId, proposer);
    }

    /// @inheritdoc ICarrierRegistry
    function proposeStatusChange(ProposalKind kind, PlmnId target) external returns (uint256 proposalId) {
        PlmnId proposer = requireActiveOperator(msg.sender, Roles.GOVERNOR);
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
        PlmnId proposer = requireActiveOperator(msg.sender, Roles.GOVERNOR);
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
        PlmnId voter = requireActiveOperator(msg.sender, Roles.GOVERNOR);
        _approveAs(proposalId, voter);
    }

    // ---------------------------------------------------------------- self-service

    /// @inheritdoc ICarrierRegistry
    function addOperator(address account, uint8) external {
        PlmnId plmn = requireActiveOperator(msg.sender, 0);
        require(_operators[plmn].length < MAX_OPERATORS, CarrierRegistryInvalidOperators(MAX_OPERATORS + 1));
        _addOperator(plmn, account);
    }

    /// @inheritdoc ICarrierRegistry
    function removeOperator(address account) external {
        PlmnId plmn = requireActiveOperator(msg.sender, 0);
        require(_memberOf[account].eq(plmn), CarrierRegistryNotOperatorOf(account, plmn));
        address[] storage ops = _operators[plmn];
        require(ops.length > 1, CarrierRegistryLastOperator(plmn));
        uint256 last = ops.length - 1;
        for (uint256 i = 0; i <= last; ++i) {
            if (ops[i] == account) {
                ops[i] = ops[last];
                ops.pop();
                break;
            }
        }
        _memberOf[account] = PlmnId.wrap(0);
        emit OperatorRemoved(plmn, account);
    }

    /// @inheritdoc ICarrierRegistry
    function rotateEncryptionKey(bytes calldata encryptionKey) external {
        PlmnId plmn = requireActiveOperator(msg.sender, 0);
        _validateKey(encryptionKey);
        _members[plmn].encryptionKey = encryptionKey;
        emit EncryptionKeyRotated(plmn, encryptionKey);
    }

    // STUBS (issue 14, to be implemented on branch mis-gov)

    /// @inheritdoc ICarrierRegistry
    function acceptOperator(PlmnId) external pure {
        revert CarrierRegistryPaused();
    }

    /// @inheritdoc ICarrierRegistry
    function setOperatorPermissions(address, uint8) external pure {
        revert CarrierRegistryPaused();
    }

    /// @inheritdoc ICarrierRegistry
    function proposeEmergency(ProposalKind) external pure returns (uint256) {
        revert CarrierRegistryPaused();
    }

    /// @inheritdoc ICarrierRegistry
    function requireOperator(address account, uint8 role, uint8) external view returns (PlmnId) {
        return requireActiveOperator(account, role);
    }

    /// @inheritdoc ICarrierRegistry
    function requireDefendingOperator(address account, uint8 role, uint8) external view returns (PlmnId plmn) {
        plmn = _memberOf[account];
        require(!plmn.isZero(), CarrierRegistryNotActiveOperator(account));
        require((_members[plmn].roles & role) == role, CarrierRegistryMissingRole(account, plmn, role));
    }

    /// @inheritdoc ICarrierRegistry
    function operatorPermissions(address account) external view returns (uint8) {
        return _memberOf[account].isZero() ? 0 : 15;
    }

    /// @inheritdoc ICarrierRegistry
    function operatorOffer(address) external pure returns (PlmnId, uint8) {
        return (PlmnId.wrap(0), 0);
    }

    /// @inheritdoc ICarrierRegistry
    function paused() external pure returns (bool) {
        return false;
    }

    // ---------------------------------------------------------------- permissioning

    /// @inheritdoc ICarrierRegistry
    function transactionAllowed(
        address sender,
        address,
        uint256,
        uint256,
        uint256,
        bytes calldata
    ) external view returns (bool) {
        if (_infraAccounts[sender]) return true;
        PlmnId plmn = _memberOf[sender];
        return !plmn.isZero() && _members[plmn].status == MemberStatus.Active;
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
        return _memberOf[account];
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
        plmn = _memberOf[account];
        require(!plmn.isZero() && isActive(plmn), CarrierRegistryNotActiveOperator(account));
        require((_members[plmn].roles & role) == role, CarrierRegistryMissingRole(account, plmn, role));
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
        } else {
            bool allowed = kind == ProposalKind.AllowInfraAccount;
            require(_infraAccounts[p.account] != allowed, CarrierRegistryInvalidInfraAccount(p.account));
            _infraAccounts[p.account] = allowed;
            emit InfraAccountSet(p.account, allowed);
        }
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
            _addOperator(init.plmn, init.operators[i]);
        }
    }

    function _addOperator(PlmnId plmn, address account) private {
        require(account != address(0), CarrierRegistryInvalidOperators(0));
        PlmnId current = _memberOf[account];
        require(current.isZero(), CarrierRegistryOperatorTaken(account, current));
        _memberOf[account] = plmn;
        _operators[plmn].push(account);
        emit OperatorAdded(plmn, account);
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
            PlmnId current = _memberOf[op];
            require(current.isZero(), CarrierRegistryOperatorTaken(op, current));
            for (uint256 j = 0; j < i; ++j) {
                require(init.operators[j] != op, CarrierRegistryOperatorTaken(op, init.plmn));
            }
        }
    }

    function _validateKey(bytes memory key) private pure {
        require(
            key.length == 33 && (key[0] == 0x02 || key[0] == 0x03),
            CarrierRegistryInvalidEncryptionKey(key)
        );
    }
}
