// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";
import {DeviceId} from "../types/DeviceId.sol";
import {UsageRecord, ClassTotals, UsageBatch} from "../types/UsageTypes.sol";

/// @notice Usage batches in calldata: their EIP-712 hash (the batch id), the validation of their totals, the
/// `UsageBatchSubmitted` log; and the Merkle leaf of a usage record. lib/usage/batch.ts and lib/usage/leaf.ts
/// compute the same values off-chain. Assembly where `submitBatch` spends gas per class.
library UsageBatchLib {
    /// @notice EIP-712 typehash of `ClassTotals`: keccak256 of
    /// "ClassTotals(uint8 tariffClass,uint32 records,uint32 activeDevices,uint32 roamerDays,uint64 dataBytes,
    /// uint64 signallingEvents,uint64 smsCount,uint64 voiceSeconds,uint32 qosSamples,uint64 latencyMsSum,
    /// uint64 throughputKbpsSum)" (one line). A literal, so that the compiler folds the hash.
    bytes32 internal constant CLASS_TOTALS_TYPEHASH =
        keccak256(
            "ClassTotals(uint8 tariffClass,uint32 records,uint32 activeDevices,uint32 roamerDays,uint64 dataBytes,"
            "uint64 signallingEvents,uint64 smsCount,uint64 voiceSeconds,uint32 qosSamples,uint64 latencyMsSum,"
            "uint64 throughputKbpsSum)"
        );

    /// @notice EIP-712 typehash of `UsageBatch`: keccak256 of "UsageBatch(bytes3 visited,bytes3 home,uint32 period,
    /// bytes32 merkleRoot,uint32 recordCount,bytes32 payloadHash,ClassTotals[] totals)" followed by the
    /// `ClassTotals` type above (one line).
    bytes32 internal constant USAGE_BATCH_TYPEHASH =
        keccak256(
            "UsageBatch(bytes3 visited,bytes3 home,uint32 period,bytes32 merkleRoot,uint32 recordCount,"
            "bytes32 payloadHash,ClassTotals[] totals)"
            "ClassTotals(uint8 tariffClass,uint32 records,uint32 activeDevices,uint32 roamerDays,uint64 dataBytes,"
            "uint64 signallingEvents,uint64 smsCount,uint64 voiceSeconds,uint32 qosSamples,uint64 latencyMsSum,"
            "uint64 throughputKbpsSum)"
        );

    /// @notice Bytes of a packed record, the preimage of its leaf.
    uint256 internal constant RECORD_BYTES = 111;

    /// @notice EIP-712 struct hash of a batch: its id.
    /// @dev `ClassTotals` is a static struct of 11 words, so its `encodeData` is its calldata as is; the array
    /// is encoded as the keccak of its elements' struct hashes, concatenated. Hashes the words as given: a
    /// value with dirty high bits gives another hash (the contract validates values where it reads them).
    function hash(UsageBatch calldata batch) internal pure returns (bytes32 result) {
        ClassTotals[] calldata totals = batch.totals;
        bytes32 totalsTypehash = CLASS_TOTALS_TYPEHASH;
        bytes32 batchTypehash = USAGE_BATCH_TYPEHASH;
        assembly ("memory-safe") {
            // Scratch past the free memory pointer: [typehash, 11 words] at ptr, element hashes after it.
            let ptr := mload(0x40)
            let n := totals.length
            let hashes := add(ptr, 0x180)
            mstore(ptr, totalsTypehash)
            for {
                let i := 0
            } lt(i, n) {
                i := add(i, 1)
            } {
                calldatacopy(add(ptr, 0x20), add(totals.offset, mul(i, 0x160)), 0x160)
                mstore(add(hashes, shl(5, i)), keccak256(ptr, 0x180))
            }
            let totalsHash := keccak256(hashes, shl(5, n))
            // [typehash, visited, home, period, merkleRoot, recordCount, payloadHash, totalsHash]
            mstore(ptr, batchTypehash)
            calldatacopy(add(ptr, 0x20), batch, 0xc0)
            mstore(add(ptr, 0xe0), totalsHash)
            result := keccak256(ptr, 0x100)
        }
    }

    /// @notice The index of the first class totals that break the rules, `type(uint256).max` if none does:
    /// classes strictly ascending, billable records of all classes at most `recordCount`, every field within
    /// its type (the summary is hashed and logged from calldata as given, so dirty high bits are refused).
    function firstInvalidTotals(ClassTotals[] calldata totals, uint32 recordCount) internal pure returns (uint256 bad) {
        bad = type(uint256).max;
        assembly ("memory-safe") {
            let sum := 0
            let next := 0 // lowest class allowed at this index
            for {
                let i := 0
            } lt(i, totals.length) {
                i := add(i, 1)
            } {
                let t := add(totals.offset, mul(i, 0x160))
                let tariffClass := calldataload(t)
                let records := calldataload(add(t, 0x20))
                sum := add(sum, records)
                // uint8, uint32 x 3, uint64 x 4, uint32, uint64 x 2
                let dirty := or(shr(8, tariffClass), shr(32, records))
                dirty := or(dirty, or(shr(32, calldataload(add(t, 0x40))), shr(32, calldataload(add(t, 0x60)))))
                dirty := or(dirty, or(shr(64, calldataload(add(t, 0x80))), shr(64, calldataload(add(t, 0xa0)))))
                dirty := or(dirty, or(shr(64, calldataload(add(t, 0xc0))), shr(64, calldataload(add(t, 0xe0)))))
                dirty := or(dirty, or(shr(32, calldataload(add(t, 0x100))), shr(64, calldataload(add(t, 0x120)))))
                dirty := or(dirty, shr(64, calldataload(add(t, 0x140))))
                if or(or(dirty, lt(tariffClass, next)), gt(sum, recordCount)) {
                    bad := i
                    break
                }
                next := add(tariffClass, 1)
            }
        }
    }

    /// @notice Logs `IUsageLedger.UsageBatchSubmitted` (`topic0`) from the calldata of a validated batch, its
    /// totals packed to 65 bytes per class (see the event): copying words, without ABI-encoding 11 words per
    /// class, on the hot path of `submitBatch`.
    function logSubmitted(bytes32 topic0, bytes32 batchId, UsageBatch calldata batch, address signer) internal {
        ClassTotals[] calldata totals = batch.totals;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let packedLength := mul(totals.length, 65)
            let data := add(ptr, 0xe0)
            mstore(add(data, packedLength), 0) // zero padding after the last byte
            // Classes and fields from the last to the first: each mstore right-aligns a value to end at its
            // offset; the bytes it overwrites in front belong to fields written after it.
            for {
                let i := totals.length
            } gt(i, 0) {

            } {
                i := sub(i, 1)
                let t := add(totals.offset, mul(i, 0x160))
                let o := add(data, mul(i, 65))
                mstore(add(o, 33), calldataload(add(t, 0x140))) // throughputKbpsSum, bytes 57..64
                mstore(add(o, 25), calldataload(add(t, 0x120))) // latencyMsSum, 49..56
                mstore(add(o, 17), calldataload(add(t, 0x100))) // qosSamples, 45..48
                mstore(add(o, 13), calldataload(add(t, 0xe0))) // voiceSeconds, 37..44
                mstore(add(o, 5), calldataload(add(t, 0xc0))) // smsCount, 29..36
                mstore(sub(o, 3), calldataload(add(t, 0xa0))) // signallingEvents, 21..28
                mstore(sub(o, 11), calldataload(add(t, 0x80))) // dataBytes, 13..20
                mstore(sub(o, 19), calldataload(add(t, 0x60))) // roamerDays, 9..12
                mstore(sub(o, 23), calldataload(add(t, 0x40))) // activeDevices, 5..8
                mstore(sub(o, 27), calldataload(add(t, 0x20))) // records, 1..4
                mstore(sub(o, 31), calldataload(t)) // tariffClass, 0
            }
            calldatacopy(ptr, add(batch, 0x40), 0x80) // period, merkleRoot, recordCount, payloadHash
            mstore(add(ptr, 0x80), 0xc0) // offset of totals
            mstore(add(ptr, 0xa0), signer)
            mstore(add(ptr, 0xc0), packedLength)
            let size := add(0xe0, and(add(packedLength, 31), not(31)))
            // Indexed: batchId, visited, home (bytes3, left-aligned as in calldata).
            log4(ptr, size, topic0, batchId, calldataload(batch), calldataload(add(batch, 0x20)))
        }
    }

    /// @notice The Merkle leaf of a record: keccak256 of its 15 fields packed in order (111 bytes), so that
    /// a leaf is never the preimage length of an inner node (64 bytes).
    function leaf(UsageRecord calldata r) internal pure returns (bytes32) {
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
        return keccak256(bytes.concat(head, tail));
    }
}
