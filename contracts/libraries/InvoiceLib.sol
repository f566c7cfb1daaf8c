// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {ISettlementEscrow} from "../interfaces/ISettlementEscrow.sol";

/// @notice The EIP-712 struct hash of a settlement invoice. lib/settlement computes the same typed data off
/// chain; the escrow's domain (name "RoamLedger SettlementEscrow", version "2", chain id, escrow address)
/// makes the digest.
library InvoiceLib {
    /// @notice keccak256 of the EIP-712 type (PlmnId is `bytes3`).
    bytes32 internal constant INVOICE_TYPEHASH =
        keccak256(
            "Invoice(bytes3 payer,bytes3 payee,uint32 period,uint32 agreementVersion,bytes32 termsCommitment,"
            "bytes32 ledgerAccumulator,bytes32 totalsCommitment,address token,uint256 net)"
        );

    /// @notice The struct hash of `inv`: every field is static, so its encodeData is its ABI encoding.
    function hash(ISettlementEscrow.Invoice calldata inv) internal pure returns (bytes32) {
        return keccak256(abi.encode(INVOICE_TYPEHASH, inv));
    }
}
