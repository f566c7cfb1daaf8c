// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";

/// @title The RoamLedger consortium: its members, their accounts and keys, and their governance.
/// @notice Members are carriers (keyed by their PLMN id), device makers and governors. After the
/// bootstrap members set at deployment, members are admitted, suspended and reinstated only by
/// proposals that a quorum of active governor members approves.
/// @dev Trust assumptions:
/// - Each member controls its operator accounts. Each account holds `Permissions` bits: what it may
///   do for the member (the other contracts check them through `requireOperator`). An ADMIN key
///   controls the member's operators (it can add, strip and remove the others, its peers included):
///   a leaked ADMIN key is a lost member until governance suspends it. A leaked USAGE or DEVICES key
///   cannot move money, add keys, vote or rotate the encryption key.
/// - An operator joins in two steps: an ADMIN offers, the account accepts (`acceptOperator`). An
///   offer never takes the address, so no member can block another's admission or offer. Every
///   pending offer of a member lapses when one of its keys loses ADMIN (stripped or removed), so a
///   leaked ADMIN key's offers die with it; an offer is void once the account operates for a member.
/// - A leaked ADMIN key and the member's honest ADMIN race each other (either may remove the other);
///   the loser's recourse is governance (suspension), not this contract.
/// - Governance is by member, not by account: a member votes once whatever its number of accounts.
/// - The required number of approvals is fixed when a proposal is made, from the number of active
///   governors then; a governor suspended later keeps the votes it cast before.
/// - The encryption key is a secp256k1 public key used only for ECDH (IMSI-key envelopes, usage
///   payloads); it is never a signing key and never controls funds.
/// - The quorum threshold is a strict majority or more (> 5000 bps): two halves cannot both carry
///   opposite proposals, and one of two governors cannot act alone. A colluding quorum can still
///   suspend any member and pause the consortium; both are public votes.
/// - `transactionAllowed` is the rule a Besu transaction-permissioning plugin would call for every
///   transaction (Besu removed contract-based permissioning in 25.6.0: no Besu calls it by itself);
///   it only reads state and never reverts. Operators of suspended members may still transact: the
///   contracts decide what they may do (`requireDefendingOperator` lets them reject, dispute and
///   withdraw what nothing reserves; `requireOperator` refuses them everything else).
/// - Emergency pause (`proposeEmergency`, normal quorum): while `paused()`, the other contracts make
///   wait what moves value out or adds new usage: usage submission, settlement payouts and debt
///   payments, withdrawal executions, device registrations, policy updates and fraud flags. Never
///   paused: governance and this registry (votes, operators, permissions, keys), the defensive calls
///   (accept, reject, dispute), invoices and claims (a withdrawal that unlocked during a pause must not
///   outrun a claim at its end), deposits, withdrawal requests, and reads. A pause lifts itself
///   `MAX_PAUSE` (14 days) after it starts, or earlier by an `Unpause` vote of the same quorum; it
///   cannot be extended, and a new pause cannot start until `PAUSE_COOLDOWN` (7 days) after the last
///   one ended. So a colluding quorum can freeze funds at
///   most 14 days in every 21, each pause a recorded vote; an emergency that needs longer is
///   answered by moving to new contracts, not by an endless pause.
/// - TADIG codes (`registerTadig`): each carrier member registers the GSMA TADIG codes its billing
///   system writes as TAP sender and recipient, so a TAP file's parties are checked against the chain.
///   A code is held by one member at a time, first come, until it releases it; the registry cannot
///   know GSMA's assignments, so a member could take another's code: every registration is a public
///   event, and since a visited carrier imports only its own TAP files, a taken code blocks the
///   rightful holder's imports (its files' sender maps to another member) but moves no usage to the
///   taker. A suspended member keeps its codes (`plmnOfTadig` still answers its PLMN; whoever checks a
///   TAP file then sees the member is not active) and cannot register or release any until reinstated.
/// - Members' Besu nodes are registered in `NodeRegistry` (beside this contract, which is near the
///   24 KB code limit); `besu:permissions` reads both and reconciles each node's local allowlists.
interface ICarrierRegistry {
    /// @notice Lifecycle of a member. `None` is the default of an unknown PLMN id.
    enum MemberStatus {
        None,
        Active,
        Suspended
    }

    /// @notice What a governance proposal does once approved.
    enum ProposalKind {
        Admit,
        Suspend,
        Reinstate,
        AllowInfraAccount,
        RevokeInfraAccount,
        Pause,
        Unpause
    }

    /// @notice A member as stored.
    /// @param plmn The member's id: its PLMN (MCC+MNC, TBCD) or a MCC-999 id for a member without one.
    /// @param roles Bitmask of `Roles`.
    /// @param status Active or suspended.
    /// @param admittedAt Timestamp of admission.
    /// @param name Display name, e.g. "Telekom Deutschland".
    /// @param encryptionKey Compressed secp256k1 public key (33 bytes) for ECDH.
    struct Member {
        PlmnId plmn;
        uint8 roles;
        MemberStatus status;
        uint40 admittedAt;
        string name;
        bytes encryptionKey;
    }

    /// @notice What a new member brings: used for bootstrap members and admission proposals.
    struct MemberInit {
        PlmnId plmn;
        uint8 roles;
        string name;
        bytes encryptionKey;
        address[] operators;
    }

    /// @notice A governance proposal.
    /// @param kind What it does.
    /// @param target The member it concerns (zero for infrastructure-account proposals).
    /// @param account The infrastructure account it concerns (zero otherwise).
    /// @param proposer The member who proposed it (its approval is counted).
    /// @param createdAt When it was made.
    /// @param expiresAt After this it can no longer be approved.
    /// @param requiredApprovals Approvals needed, fixed at creation.
    /// @param approvals Approvals so far.
    /// @param executed True once carried out.
    struct Proposal {
        ProposalKind kind;
        PlmnId target;
        address account;
        PlmnId proposer;
        uint40 createdAt;
        uint40 expiresAt;
        uint16 requiredApprovals;
        uint16 approvals;
        bool executed;
    }

    /// @notice A member was admitted (at bootstrap or by an executed proposal).
    event MemberAdmitted(PlmnId indexed plmn, uint8 roles, string name, bytes encryptionKey);
    /// @notice A member was suspended: its accounts may no longer transact.
    event MemberSuspended(PlmnId indexed plmn, uint256 indexed proposalId);
    /// @notice A suspended member was reinstated.
    event MemberReinstated(PlmnId indexed plmn, uint256 indexed proposalId);
    /// @notice An operator account was added to a member.
    event OperatorAdded(PlmnId indexed plmn, address indexed account);
    /// @notice An operator account was removed from a member.
    event OperatorRemoved(PlmnId indexed plmn, address indexed account);
    /// @notice A member offered an account a place among its operators; the account must accept.
    event OperatorOffered(PlmnId indexed plmn, address indexed account, uint8 permissions);
    /// @notice An operator's permissions (`Permissions` bits) were set.
    event OperatorPermissionsSet(PlmnId indexed plmn, address indexed account, uint8 permissions);
    /// @notice Governance paused or unpaused the consortium's contracts (see `paused`).
    event PausedSet(bool paused, uint256 indexed proposalId);
    /// @notice A member rotated its encryption key.
    event EncryptionKeyRotated(PlmnId indexed plmn, bytes encryptionKey);
    /// @notice An infrastructure account (deployer, node operations) was allowed or revoked.
    event InfraAccountSet(address indexed account, bool allowed);
    /// @notice A proposal was made; the proposer's approval is already counted.
    event ProposalCreated(
        uint256 indexed proposalId,
        ProposalKind kind,
        PlmnId indexed target,
        address account,
        PlmnId indexed proposer,
        uint16 requiredApprovals,
        uint40 expiresAt
    );
    /// @notice A governor approved a proposal.
    event ProposalApproved(uint256 indexed proposalId, PlmnId indexed voter, uint16 approvals);
    /// @notice A proposal reached its quorum and was carried out.
    event ProposalExecuted(uint256 indexed proposalId);
    /// @notice A member registered a TADIG code: TAP files naming it are this member's.
    event TadigRegistered(PlmnId indexed plmn, bytes5 code);
    /// @notice A member released a TADIG code; any carrier member may register it again.
    event TadigReleased(PlmnId indexed plmn, bytes5 code);

    /// @notice The PLMN id is not validly TBCD-encoded.
    error CarrierRegistryInvalidPlmn(PlmnId plmn);
    /// @notice A member with this PLMN id exists already.
    error CarrierRegistryMemberExists(PlmnId plmn);
    /// @notice No member with this PLMN id.
    error CarrierRegistryUnknownMember(PlmnId plmn);
    /// @notice The member is not in the status the action needs.
    error CarrierRegistryWrongStatus(PlmnId plmn, MemberStatus status);
    /// @notice The account is not an operator of an active member.
    error CarrierRegistryNotActiveOperator(address account);
    /// @notice The account's member lacks a role the action needs.
    error CarrierRegistryMissingRole(address account, PlmnId plmn, uint8 role);
    /// @notice The account already operates for a member.
    error CarrierRegistryOperatorTaken(address account, PlmnId plmn);
    /// @notice The account is not an operator of this member.
    error CarrierRegistryNotOperatorOf(address account, PlmnId plmn);
    /// @notice A member must keep at least one operator account.
    error CarrierRegistryLastOperator(PlmnId plmn);
    /// @notice Roles must be a non-empty subset of `Roles.ALL`.
    error CarrierRegistryInvalidRoles(uint8 roles);
    /// @notice The encryption key is not a 33-byte compressed secp256k1 public key.
    error CarrierRegistryInvalidEncryptionKey(bytes key);
    /// @notice The name is empty or longer than 64 bytes.
    error CarrierRegistryInvalidName(string name);
    /// @notice A new member needs between 1 and 16 operator accounts, none zero.
    error CarrierRegistryInvalidOperators(uint256 count);
    /// @notice Threshold must be a strict majority, in (5000, 10000] basis points, and the proposal
    /// lifetime non-zero.
    error CarrierRegistryInvalidGovernance(uint16 thresholdBps, uint32 proposalLifetime);
    /// @notice The bootstrap set needs at least one governor.
    error CarrierRegistryNoGovernor();
    /// @notice No such proposal.
    error CarrierRegistryUnknownProposal(uint256 proposalId);
    /// @notice The proposal has been carried out already.
    error CarrierRegistryProposalExecuted(uint256 proposalId);
    /// @notice The proposal expired at `expiresAt`.
    error CarrierRegistryProposalExpired(uint256 proposalId, uint40 expiresAt);
    /// @notice This member approved the proposal already.
    error CarrierRegistryAlreadyApproved(uint256 proposalId, PlmnId voter);
    /// @notice The account is zero or already in the requested infrastructure state.
    error CarrierRegistryInvalidInfraAccount(address account);
    /// @notice The proposal kind does not fit the function it was passed to.
    error CarrierRegistryInvalidProposalKind(ProposalKind kind);
    /// @notice Suspending this member would leave no active governor.
    error CarrierRegistryLastGovernor(PlmnId plmn);
    /// @notice The operator account lacks a permission the action needs.
    error CarrierRegistryMissingPermission(address account, PlmnId plmn, uint8 permission);
    /// @notice The account has no pending operator offer from this member.
    error CarrierRegistryNoOffer(address account, PlmnId plmn);
    /// @notice A member must keep at least one operator holding `Permissions.ADMIN`.
    error CarrierRegistryLastAdmin(PlmnId plmn);
    /// @notice Permissions must be a non-empty subset of `Permissions.ALL`.
    error CarrierRegistryInvalidPermissions(uint8 permissions);
    /// @notice The consortium is paused by governance; the action waits until it is unpaused.
    error CarrierRegistryPaused();
    /// @notice A pause cannot start before `availableAt`: one is in force, or the cooldown after the
    /// last one runs.
    error CarrierRegistryPauseUnavailable(uint40 availableAt);
    /// @notice There is no pause in force to lift.
    error CarrierRegistryNotPaused();
    /// @notice A TADIG code is 3 upper-case ASCII letters and 2 upper-case ASCII letters or digits.
    error CarrierRegistryInvalidTadig(bytes5 code);
    /// @notice The TADIG code is held already, by `holder` (the caller's own member included).
    error CarrierRegistryTadigTaken(bytes5 code, PlmnId holder);
    /// @notice The caller's member does not hold this TADIG code.
    error CarrierRegistryTadigNotHeld(bytes5 code, PlmnId plmn);
    /// @notice The member holds `max` TADIG codes already; it releases one before registering another.
    error CarrierRegistryTadigLimit(PlmnId plmn, uint256 max);

    /// @notice Proposes to admit a new member. Caller: an ADMIN operator of an active governor member.
    /// Its operators join with `Permissions.ALL`.
    /// @return proposalId The proposal's id; it executes at once if the proposer alone is a quorum.
    function proposeAdmission(MemberInit calldata candidate) external returns (uint256 proposalId);

    /// @notice Proposes to suspend, reinstate an existing member. Caller: an active governor's ADMIN operator.
    /// @param kind `Suspend` or `Reinstate`.
    function proposeStatusChange(ProposalKind kind, PlmnId target) external returns (uint256 proposalId);

    /// @notice Proposes to allow or revoke an infrastructure account for `transactionAllowed`. Caller:
    /// an active governor's ADMIN operator.
    /// @param kind `AllowInfraAccount` or `RevokeInfraAccount`.
    function proposeInfraAccount(ProposalKind kind, address account) external returns (uint256 proposalId);

    /// @notice Approves a proposal for the caller's member; executes it when the quorum is reached.
    /// Caller: an active governor's ADMIN operator.
    function approve(uint256 proposalId) external;

    /// @notice Offers `account` a place among the caller's member's operators with `permissions`;
    /// it joins only when it accepts. A new offer of the same member to the same account replaces the
    /// pending one. Caller: an active member's operator holding `Permissions.ADMIN`.
    /// @dev Offers are kept per (account, member): another member's offer to the same account can
    /// neither replace nor block this one.
    function addOperator(address account, uint8 permissions) external;

    /// @notice Accepts the caller's pending operator offer from `plmn`; the caller joins the member
    /// with the offered permissions. The member must be active, none of its keys may have lost ADMIN
    /// since the offer, and the member must be below its 16 operators.
    function acceptOperator(PlmnId plmn) external;

    /// @notice Sets the permissions of one of the caller's member's operators. Caller: an ADMIN
    /// operator, of an active or a suspended member (key hygiene is defensive); the member keeps at
    /// least one ADMIN.
    function setOperatorPermissions(address account, uint8 permissions) external;

    /// @notice Proposes to pause or unpause the consortium. Caller: an active governor's ADMIN operator.
    /// @param kind `Pause` or `Unpause`.
    /// @dev Checked when carried out: a pause needs none in force and the cooldown over
    /// (`CarrierRegistryPauseUnavailable`), an unpause a pause in force (`CarrierRegistryNotPaused`).
    function proposeEmergency(ProposalKind kind) external returns (uint256 proposalId);

    /// @notice Removes an operator account from the caller's own member (not the last one, nor the
    /// last ADMIN). Caller: an ADMIN operator of an active or a suspended member (removing a leaked key
    /// is defensive).
    function removeOperator(address account) external;

    /// @notice Replaces the caller's member's encryption key. Caller: an ADMIN operator.
    function rotateEncryptionKey(bytes calldata encryptionKey) external;

    /// @notice Registers a TADIG code for the caller's member: TAP files with this sender or recipient
    /// are the member's. At most 16 codes per member; a code held by any member (the caller's own
    /// included: registering it again is refused, not a no-op) is refused with its holder. Caller: an
    /// ADMIN operator of an active carrier member.
    /// @param code 3 upper-case ASCII letters (GSMA: the ISO 3166 alpha-3 country) and 2 upper-case
    /// ASCII letters or digits, e.g. "DEUD1".
    function registerTadig(bytes5 code) external;

    /// @notice Releases one of the caller's member's TADIG codes; any carrier member may then register
    /// it. Caller: an ADMIN operator of an active carrier member.
    function releaseTadig(bytes5 code) external;

    /// @notice Whether `sender` may send this transaction: the rule of the consortium's account
    /// permissioning, kept as a view for a Besu transaction-permissioning plugin
    /// (`PermissioningService.registerTransactionPermissioningProvider`) to call. Besu removed
    /// contract-based ("onchain") permissioning in 25.6.0, so no Besu calls it by itself; without a
    /// plugin, `besu:permissions` applies a coarser form of the same rule to each node's local accounts
    /// allowlist (active members' operators and infrastructure accounts; it cannot express the
    /// "offered account may only accept" case, nor suspended members' defensive calls).
    /// @return True for operators of active and of suspended members (the contracts decide what each
    /// may do), for allowed infrastructure accounts, and for an account with a pending operator offer
    /// calling `acceptOperator` on this registry (and nothing else).
    function transactionAllowed(
        address sender,
        address target,
        uint256 value,
        uint256 gasPrice,
        uint256 gasLimit,
        bytes calldata payload
    ) external view returns (bool);

    /// @notice The member with this PLMN id (status `None` if unknown).
    function getMember(PlmnId plmn) external view returns (Member memory);

    /// @notice All member ids in admission order.
    function memberIds() external view returns (PlmnId[] memory);

    /// @notice Operator accounts of a member.
    function operatorsOf(PlmnId plmn) external view returns (address[] memory);

    /// @notice The member an account operates for (zero if none).
    function memberOf(address account) external view returns (PlmnId);

    /// @notice True if the member exists and is active.
    function isActive(PlmnId plmn) external view returns (bool);

    /// @notice True if the member is active and holds every bit of `role`.
    function hasRole(PlmnId plmn, uint8 role) external view returns (bool);

    /// @notice The active member that `account` operates for, holding `role`; reverts otherwise.
    /// @dev Kept for compatibility: it checks no permission bit (any operator key passes). New checks
    /// use `requireOperator` or `requireDefendingOperator`.
    function requireActiveOperator(address account, uint8 role) external view returns (PlmnId);

    /// @notice The active member that `account` operates for, holding member `role`, the account
    /// holding every bit of operator `permission`; reverts otherwise.
    function requireOperator(address account, uint8 role, uint8 permission) external view returns (PlmnId);

    /// @notice As `requireOperator`, but a suspended member passes too: for the defensive calls a
    /// suspended member keeps (reject, dispute, withdraw what nothing reserves).
    function requireDefendingOperator(
        address account,
        uint8 role,
        uint8 permission
    ) external view returns (PlmnId);

    /// @notice The `Permissions` bits of an operator account (0 if it operates for no member).
    function operatorPermissions(address account) external view returns (uint8);

    /// @notice The pending operator offer of member `plmn` to `account` (zero permissions if none), and
    /// the ADMIN who made it. An offer that lapsed (a key of the member lost ADMIN since) still shows
    /// here; `acceptOperator` refuses it.
    function operatorOffer(address account, PlmnId plmn) external view returns (uint8 permissions, address offeredBy);

    /// @notice True while governance has the consortium paused (until `pausedUntil`).
    function paused() external view returns (bool);

    /// @notice When the pause in force lifts itself (0 or past when there is none).
    function pausedUntil() external view returns (uint40);

    /// @notice A proposal by id.
    function getProposal(uint256 proposalId) external view returns (Proposal memory);

    /// @notice The candidate of an admission proposal.
    function getCandidate(uint256 proposalId) external view returns (MemberInit memory);

    /// @notice Whether a member approved a proposal.
    function hasApproved(uint256 proposalId, PlmnId voter) external view returns (bool);

    /// @notice Number of proposals made so far; ids run from 1 to this.
    function proposalCount() external view returns (uint256);

    /// @notice Number of active members holding the governor role.
    function activeGovernorCount() external view returns (uint256);

    /// @notice Quorum threshold in basis points of active governors.
    function thresholdBps() external view returns (uint16);

    /// @notice Lifetime of a proposal in seconds.
    function proposalLifetime() external view returns (uint32);

    /// @notice Whether an infrastructure account is allowed to transact.
    function isInfraAccount(address account) external view returns (bool);

    /// @notice The member holding a TADIG code (zero if none), whatever its status: a suspended
    /// member's codes still answer its PLMN; check `isActive` before trusting a TAP file's party.
    function plmnOfTadig(bytes5 code) external view returns (PlmnId);

    /// @notice The TADIG codes a member holds (at most 16; order changes when one is released).
    function tadigCodesOf(PlmnId plmn) external view returns (bytes5[] memory);
}
