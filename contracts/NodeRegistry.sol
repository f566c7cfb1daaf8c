// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {INodeRegistry} from "./interfaces/INodeRegistry.sol";
import {PlmnId} from "./types/PlmnId.sol";
import {Permissions} from "./types/Roles.sol";
import {PlmnLib} from "./libraries/PlmnLib.sol";

/// @title NodeRegistry
/// @notice The consortium members' Besu nodes (enode URLs), beside the CarrierRegistry, which is near the
/// 24 KB code limit. See INodeRegistry.
contract NodeRegistry is INodeRegistry {
    using PlmnLib for PlmnId;

    uint256 private constant MAX_NODES = 16;
    uint256 private constant MAX_HOST_BYTES = 253;
    /// @dev secp256k1's field prime: a node id (x, y) is a point when y^2 = x^3 + 7 mod P.
    uint256 private constant SECP256K1_P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;

    ICarrierRegistry private immutable _REGISTRY;

    /// @dev The member holding each node id, by keccak256(idHigh, idLow).
    mapping(bytes32 idHash => PlmnId) private _holder;
    mapping(PlmnId plmn => Node[]) private _nodes;

    /// @param registry The consortium's CarrierRegistry (members, operators, permissions).
    constructor(ICarrierRegistry registry) {
        _REGISTRY = registry;
    }

    /// @inheritdoc INodeRegistry
    function registerNode(bytes32 idHigh, bytes32 idLow, string calldata host, uint16 port) external {
        PlmnId plmn = _REGISTRY.requireOperator(msg.sender, 0, Permissions.ADMIN);
        _validateNode(idHigh, idLow, host, port);
        bytes32 key = keccak256(abi.encode(idHigh, idLow));
        PlmnId holder = _holder[key];
        require(holder.isZero(), NodeRegistryNodeTaken(idHigh, idLow, holder));
        Node[] storage nodes = _nodes[plmn];
        require(nodes.length < MAX_NODES, NodeRegistryNodeLimit(plmn, MAX_NODES));
        _holder[key] = plmn;
        nodes.push(Node({plmn: plmn, port: port, idHigh: idHigh, idLow: idLow, host: host}));
        emit NodeRegistered(plmn, idHigh, idLow, host, port);
    }

    /// @inheritdoc INodeRegistry
    function removeNode(bytes32 idHigh, bytes32 idLow) external {
        PlmnId plmn = _REGISTRY.requireDefendingOperator(msg.sender, 0, Permissions.ADMIN);
        bytes32 key = keccak256(abi.encode(idHigh, idLow));
        require(_holder[key].eq(plmn), NodeRegistryNodeNotHeld(idHigh, idLow, plmn));
        _holder[key] = PlmnId.wrap(0);
        // The member holds the node, so it is among its (at most 16) nodes: the scan stops on it.
        Node[] storage nodes = _nodes[plmn];
        uint256 i = 0;
        while (nodes[i].idHigh != idHigh || nodes[i].idLow != idLow) ++i;
        nodes[i] = nodes[nodes.length - 1];
        nodes.pop();
        emit NodeRemoved(plmn, idHigh, idLow);
    }

    /// @inheritdoc INodeRegistry
    function carrierRegistry() external view returns (address) {
        return address(_REGISTRY);
    }

    /// @inheritdoc INodeRegistry
    function nodeHolder(bytes32 idHigh, bytes32 idLow) external view returns (PlmnId) {
        return _holder[keccak256(abi.encode(idHigh, idLow))];
    }

    /// @inheritdoc INodeRegistry
    function nodesOf(PlmnId plmn) external view returns (Node[] memory) {
        return _nodes[plmn];
    }

    /// @inheritdoc INodeRegistry
    function allNodes() external view returns (Node[] memory all) {
        PlmnId[] memory members = _REGISTRY.memberIds();
        uint256 count = 0;
        for (uint256 m = 0; m < members.length; ++m) count += _nodes[members[m]].length;
        all = new Node[](count);
        uint256 k = 0;
        for (uint256 m = 0; m < members.length; ++m) {
            Node[] storage nodes = _nodes[members[m]];
            for (uint256 i = 0; i < nodes.length; ++i) all[k++] = nodes[i];
        }
    }

    /// @dev The node id must be a secp256k1 point (a node key's public key): x and y below the field prime
    /// and y^2 = x^3 + 7. The host: 1-253 bytes of what IPv4, IPv6 (no brackets) and DNS names are made
    /// of; its finer syntax is the client's to check (lib/consortium/nodes.ts). The port: not zero.
    function _validateNode(bytes32 idHigh, bytes32 idLow, string calldata host, uint16 port) private pure {
        uint256 x = uint256(idHigh);
        uint256 y = uint256(idLow);
        uint256 p = SECP256K1_P;
        require(
            x < p && y < p && mulmod(y, y, p) == addmod(mulmod(mulmod(x, x, p), x, p), 7, p),
            NodeRegistryInvalidNodeId(idHigh, idLow)
        );
        bytes calldata h = bytes(host);
        require(h.length > 0 && h.length <= MAX_HOST_BYTES, NodeRegistryInvalidHost(host));
        for (uint256 i = 0; i < h.length; ++i) {
            bytes1 c = h[i];
            require(
                (c >= "a" && c <= "z") ||
                    (c >= "A" && c <= "Z") ||
                    (c >= "0" && c <= "9") ||
                    c == "." ||
                    c == "-" ||
                    c == ":",
                NodeRegistryInvalidHost(host)
            );
        }
        require(port > 0, NodeRegistryInvalidPort(port));
    }
}
