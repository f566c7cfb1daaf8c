// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";
import {DeviceId} from "../types/DeviceId.sol";
import {UsageRecord, UsageBatch} from "../types/UsageTypes.sol";

/// @notice The hashing of the usage ledger: a batch header's EIP-712 struct hash (the batch id), a record's
/// Merkle leaf, the root a positional proof leads to, and the two hash chains (a batch's disputes, a
/// period's counted batches). lib/usage/batch.ts, lib/usage/leaf.ts and lib/usage/merkle.ts compute the
/// same values off-chain.
library UsageBatchLib {
    /// @notice EIP-712 typehash of `UsageBatch` (a `PlmnId` is its underlying `bytes3`).
    bytes32 internal constant USAGE_BATCH_TYPEHASH =
        keccak256(
            "UsageBatch(bytes3 visited,bytes3 home,uint32 period,bytes32 merkleRoot,uint8 treeDepth,"
            "bytes32 payloadHash,bytes32 totalsCommitment)"
        );

    /// @notice Bytes of a packed record, the preimage of its leaf.
    uint256 internal constant RECORD_BYTES = 111;

    /// @notice EIP-712 struct hash of a header: its batch id. Every field is static, so `encodeData` is
    /// the ABI encoding of the struct (a `bytes3` left-aligned in its word, as EIP-712 encodes `bytesN`).
    function hash(UsageBatch calldata batch) internal pure returns (bytes32) {
        return keccak256(abi.encode(USAGE_BATCH_TYPEHASH, batch));
    }

    /// @notice The root that `proof` leads to from `leafHash` at position `index` of a positional tree: at level
    /// `i` the sibling `proof[i]` is on the right when bit `i` of `index` is 0, on the left otherwise, and a
    /// node is keccak256(left || right). The caller checks `proof.length` against the tree's depth and
    /// `index` against 2^depth: the bits of `index` above the proof's length are not read.
    function processProof(
        bytes32[] calldata proof,
        uint256 index,
        bytes32 leafHash
    ) internal pure returns (bytes32 node) {
        node = leafHash;
        for (uint256 i = 0; i < proof.length; ++i) {
            bytes32 sibling = proof[i];
            bool right = (index >> i) & 1 == 1;
            assembly ("memory-safe") {
                // Scratch space: [left, right] at 0x00..0x3f.
                mstore(mul(right, 0x20), node)
                mstore(mul(iszero(right), 0x20), sibling)
                node := keccak256(0x00, 0x40)
            }
        }
    }

    /// @notice The next link of a batch's dispute chain: keccak256(abi.encode(previous, leafIndex, leaf)).
    function chainDispute(bytes32 previous, uint32 leafIndex, bytes32 leafHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(previous, leafIndex, leafHash));
    }

    /// @notice The next value of a period's accumulator when a batch is counted:
    /// keccak256(abi.encode(previous, batchId, totalsCommitment, disputeCount, disputeHash)).
    function accumulate(
        bytes32 previous,
        bytes32 batchId,
        bytes32 totalsCommitment,
        uint32 disputeCount,
        bytes32 disputeHash
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(previous, batchId, totalsCommitment, disputeCount, disputeHash));
    }

    /// @notice The Merkle leaf of a record under its batch's secret `salt` (the payload's totals salt):
    /// keccak256 of its 15 fields packed in order (111 bytes) followed by the salt, 143 bytes, so that a
    /// leaf is never the preimage length of an inner node (64 bytes) and a public leaf cannot be matched by
    /// hashing candidate records.
    function leaf(UsageRecord calldata r, bytes32 salt) internal pure returns (bytes32) {
        bytes memory head = abi.encodePacked(
            r.recordId,
            DeviceId.unwrap(r.deviceId),
            PlmnId.unwrap(r.home),
            PlmnId.unwrap(r.visited),
            r.service,
            r.rat,
            r.startTime,
            r.duration
        );
        bytes memory tail = abi.encodePacked(
            r.bytesUp,
            r.bytesDown,
            r.events,
            r.latencyMs,
            r.throughputKbps,
            r.tariffClass,
            r.billing
        );
        return keccak256(bytes.concat(head, tail, salt));
    }
}
