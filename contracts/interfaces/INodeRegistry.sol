// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";

/// @title The consortium members' Besu nodes.
/// @notice Each member registers the enode URLs of its Besu nodes (node id, host, port); every carrier's
/// `besu:permissions` reads them, with the members, operators and infrastructure accounts of the
/// `CarrierRegistry`, and reconciles its own node's local allowlists (Besu's PERM JSON-RPC API) with
/// them. Membership, roles and permissions are the CarrierRegistry's: this contract asks it.
/// @dev Trust assumptions:
/// - A node id is held by one member at a time, first come, until it removes it. A member can register a
///   node id it does not run (it cannot know the key): the registration is a public event, and allowing a
///   node id to connect grants nothing but a P2P connection (consensus is the validators', transactions
///   the account allowlist's). A member that takes another's node id from the pool blocks that node's
///   registration (`NodeRegistryNodeTaken` names it); a quorum suspends it (a suspended member registers
///   nothing) and the victim registers a new node key (docs/threat-model.md).
/// - The host is stored as given; a DNS name is only usable by Besu nodes started with DNS support
///   (`--Xdns-enabled`), which `besu:permissions` says when it meets one.
/// - A suspended member keeps its nodes (and may remove them); the reconciliation drops them while it
///   is suspended and adds them back on reinstatement.
interface INodeRegistry {
    /// @notice A member's Besu node: its enode URL `enode://<idHigh><idLow>@host:port`.
    /// @param plmn The member that registered it.
    /// @param port The node's P2P listening port (1-65535).
    /// @param idHigh The first 32 bytes of the node id (the node key's uncompressed public key: x).
    /// @param idLow The last 32 bytes of the node id (y).
    /// @param host An IPv4 or IPv6 address (without brackets) or a DNS name, 1-253 bytes.
    struct Node {
        PlmnId plmn;
        uint16 port;
        bytes32 idHigh;
        bytes32 idLow;
        string host;
    }

    /// @notice A member registered a Besu node: `enode://<idHigh><idLow>@host:port`.
    event NodeRegistered(PlmnId indexed plmn, bytes32 idHigh, bytes32 idLow, string host, uint16 port);
    /// @notice A member removed one of its Besu nodes.
    event NodeRemoved(PlmnId indexed plmn, bytes32 idHigh, bytes32 idLow);

    /// @notice A node id is a point of secp256k1 (the node key's public key, 64 bytes uncompressed).
    error NodeRegistryInvalidNodeId(bytes32 idHigh, bytes32 idLow);
    /// @notice A node's host is 1-253 bytes of ASCII letters, digits, '.', '-' and ':'.
    error NodeRegistryInvalidHost(string host);
    /// @notice A node's port is 1-65535.
    error NodeRegistryInvalidPort(uint16 port);
    /// @notice The node id is registered already, by `holder` (the caller's own member included).
    error NodeRegistryNodeTaken(bytes32 idHigh, bytes32 idLow, PlmnId holder);
    /// @notice The caller's member has not registered this node id.
    error NodeRegistryNodeNotHeld(bytes32 idHigh, bytes32 idLow, PlmnId plmn);
    /// @notice The member has registered `max` nodes already; it removes one before registering another.
    error NodeRegistryNodeLimit(PlmnId plmn, uint256 max);

    /// @notice Registers a Besu node of the caller's member, `enode://<idHigh><idLow>@host:port`, so that
    /// every member's `besu:permissions` allows it to connect. At most 16 per member; a node id held by
    /// any member (the caller's own included: registering again is refused, not a no-op) is refused with
    /// its holder. Caller: an ADMIN operator of an active member (any role).
    /// @param idHigh The node id's first 32 bytes; with `idLow`, a point of secp256k1.
    /// @param host IPv4 or IPv6 address (no brackets) or DNS name: 1-253 bytes of [A-Za-z0-9.:-].
    /// @param port The P2P listening port, 1-65535.
    function registerNode(bytes32 idHigh, bytes32 idLow, string calldata host, uint16 port) external;

    /// @notice Removes one of the caller's member's nodes; the reconciliations then drop it from the
    /// allowlists. Caller: an ADMIN operator of the member, active or suspended (removing is defensive).
    function removeNode(bytes32 idHigh, bytes32 idLow) external;

    /// @notice The CarrierRegistry whose members register nodes here.
    function carrierRegistry() external view returns (address);

    /// @notice The member that registered a node id (zero if none), whatever its status.
    function nodeHolder(bytes32 idHigh, bytes32 idLow) external view returns (PlmnId);

    /// @notice A member's registered nodes (at most 16; order changes when one is removed).
    function nodesOf(PlmnId plmn) external view returns (Node[] memory);

    /// @notice Every member's registered nodes, suspended members' included (check each `plmn`'s status),
    /// in the registry's member order.
    function allNodes() external view returns (Node[] memory);
}
