// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

/// @notice The two hash chains of the usage ledger (IUsageLedger, UsageTypes `BatchInfo.disputeHash` and
/// `PeriodInfo.accumulator`) written as the ledger writes them, so that tests can check
/// lib/usage/accumulator.ts against the same abi.encode.
contract Accumulator__Harness {
    /// @notice keccak256(abi.encode(previous, leafIndex, leaf)): a batch's dispute chain after one more dispute.
    function nextDisputeHash(bytes32 previous, uint32 leafIndex, bytes32 leaf) public pure returns (bytes32) {
        return keccak256(abi.encode(previous, leafIndex, leaf));
    }

    /// @notice keccak256(abi.encode(previous, batchId, totalsCommitment, disputeCount, disputeHash)): a
    /// period's accumulator after one more counted batch.
    function nextAccumulator(
        bytes32 previous,
        bytes32 batchId,
        bytes32 totalsCommitment,
        uint32 disputeCount,
        bytes32 disputeHash
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(previous, batchId, totalsCommitment, disputeCount, disputeHash));
    }

    /// @notice The dispute chain of `leafIndexes`/`leaves` in order, from zero.
    function disputeHashOf(uint32[] calldata leafIndexes, bytes32[] calldata leaves) external pure returns (bytes32 h) {
        for (uint256 i = 0; i < leaves.length; ++i) h = nextDisputeHash(h, leafIndexes[i], leaves[i]);
    }
}
