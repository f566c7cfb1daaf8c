// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";
import {ClassTotals, UsageRecord} from "../types/UsageTypes.sol";
import {ICarrierRegistry} from "./ICarrierRegistry.sol";
import {IRoamingAgreements} from "./IRoamingAgreements.sol";
import {IUsageLedger} from "./IUsageLedger.sol";

/// @notice Decides a claim without revealing terms or totals (the zero-knowledge adjudication plugs in here):
/// true when `proof` shows that `net` is the agreement's rating of the committed period totals.
interface IClaimAdjudicator {
    function verify(
        bytes32 termsCommitment,
        bytes32 totalsCommitment,
        uint256 net,
        bytes calldata proof
    ) external view returns (bool);
}

/// @title Settlement of closed periods from carriers' deposits, on invoices both carriers signed.
/// @notice The chain never rates usage in the normal path: the payee (visited carrier) rates the period off
/// chain from the terms and payloads it shares with the payer, both sign the same `Invoice` (EIP-712, domain
/// bound to chain and escrow), and the escrow reserves and settles the signed net, netting both directions.
/// The invoice binds the pair, the period, the agreement version and its terms commitment, the ledger's
/// period accumulator, a salted commitment to the rated period totals, the token and the net: only the net
/// is public. When the payer does not sign within `SIGN_WINDOW`, the payee files a claim with a bond; the
/// claim becomes final by the payer's signature, by the adjudicator's proof, or, as the documented last
/// resort, by a reveal of the openings that the escrow rates on chain (which publishes the pair's terms and
/// totals of that period: docs/confidentiality.md).
/// @dev Deposits back usage: a withdrawal is requested, then executed after `WITHDRAWAL_DELAY` (longer than a
/// period + grace + dispute window + sign and claim windows), from what nothing reserves at that time; so a
/// withdrawal can never front-run the close of usage accepted before it was requested.
interface ISettlementEscrow {
    /// @notice How an invoice came to be.
    enum InvoiceStatus {
        None,
        Proposed, // signed by the payee, waiting for the payer
        Claimed, // payer did not sign in time: payee's claim, bonded, payer's deposit reserved
        Revealing, // a reveal of the openings is under way
        Closed, // final amount fixed and reserved on the payer
        Settled
    }

    /// @notice How a closed invoice's amount was fixed.
    enum Resolution {
        None,
        CoSigned,
        Proven,
        Revealed
    }

    /// @notice The invoice both carriers sign (EIP-712 type `Invoice`).
    /// @param totalsCommitment `CommitmentLib.periodTotals(totals, salt)`
    /// of the period's rated `ClassTotals[]` (counted batches less disputed records), salt sealed for the payer.
    struct Invoice {
        PlmnId payer;
        PlmnId payee;
        uint32 period;
        uint32 agreementVersion;
        bytes32 termsCommitment;
        bytes32 ledgerAccumulator;
        bytes32 totalsCommitment;
        address token;
        uint256 net;
    }

    /// @notice An invoice as stored.
    struct InvoiceState {
        InvoiceStatus status;
        Resolution resolution;
        uint32 agreementVersion;
        uint40 proposedAt;
        uint40 claimedAt;
        uint40 closedAt;
        address token;
        bytes32 digest;
        bytes32 termsCommitment;
        bytes32 totalsCommitment;
        uint256 net; // claimed (payee-signed) amount
        uint256 amount; // final amount once Closed
        uint256 bond;
    }

    /// @notice One counted batch's opening in a reveal, in the ledger's counted order, with the full records
    /// of its disputed leaves in `disputedIndexes` order.
    struct BatchOpening {
        uint32 recordCount;
        ClassTotals[] totals;
        bytes32 salt;
        UsageRecord[] disputed;
    }

    /// @notice A pending withdrawal.
    struct Withdrawal {
        address token;
        address to;
        uint256 amount;
        uint40 unlocksAt;
    }
}
