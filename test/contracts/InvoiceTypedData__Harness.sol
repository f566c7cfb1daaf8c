// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ISettlementEscrow} from "../../contracts/interfaces/ISettlementEscrow.sol";

/// @notice The escrow's EIP-712 `Invoice` (domain "RoamLedger SettlementEscrow", version "2"), hashed and
/// recovered as OpenZeppelin does it, so that tests can check lib/settlement/invoiceSignature.ts against it.
contract InvoiceTypedData__Harness is EIP712("RoamLedger SettlementEscrow", "2") {
    bytes32 public constant INVOICE_TYPEHASH =
        keccak256(
            "Invoice(bytes3 payer,bytes3 payee,uint32 period,uint32 agreementVersion,bytes32 termsCommitment,"
            "bytes32 ledgerAccumulator,bytes32 totalsCommitment,address token,uint256 net)"
        );

    /// @notice The EIP-712 struct hash of `inv`.
    function hashInvoice(ISettlementEscrow.Invoice calldata inv) public pure returns (bytes32) {
        return keccak256(abi.encode(INVOICE_TYPEHASH, inv));
    }

    /// @notice The digest a carrier signs for `inv`.
    function invoiceDigest(ISettlementEscrow.Invoice calldata inv) public view returns (bytes32) {
        return _hashTypedDataV4(hashInvoice(inv));
    }

    /// @notice The signer of `signature` over `inv` (OpenZeppelin ECDSA: reverts on a malformed or high-s signature).
    function recover(ISettlementEscrow.Invoice calldata inv, bytes calldata signature) external view returns (address) {
        return ECDSA.recover(invoiceDigest(inv), signature);
    }
}
