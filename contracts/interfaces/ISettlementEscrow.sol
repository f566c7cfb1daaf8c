// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";
import {UsageBatch} from "../types/UsageTypes.sol";
import {ICarrierRegistry} from "./ICarrierRegistry.sol";
import {IRoamingAgreements} from "./IRoamingAgreements.sol";
import {IUsageLedger} from "./IUsageLedger.sol";

/// @title Escrow and settlement of roaming invoices between member carriers.
/// @notice Each carrier deposits ERC-20 settlement tokens. When the usage ledger closes a period for
/// (home, visited), `closeInvoice` rates its final totals with the agreement in force (see `RatingLib` and
/// docs/settlement.md) into an invoice of the home carrier (payer) to the visited carrier (payee), and
/// reserves its amount on the payer's deposit. `settle` settles both directions of a pair and period at
/// once: in the same token only the difference moves (bilateral netting), from the net debtor's deposit to
/// the net creditor's payout account (or deposit when it has none). What the deposit cannot cover is
/// recorded as a debt and signalled (`SettlementShortfall`); `payDebt` pays it from the debtor's deposit
/// once topped up, sent by either party.
/// @dev Trust assumptions:
/// - `ICarrierRegistry` (immutable) says who acts for which member: deposits, withdrawals and payout
///   accounts are made by an operator of an active CARRIER member for that member; closing, settling and
///   paying a debt may be triggered by an operator of any active CARRIER member, since their outcome is
///   fixed by the ledger, the agreements and the deposits whoever sends them.
/// - `IUsageLedger` (immutable) is trusted for the final totals of a period (net of disputes and rejected
///   batches) and for when a period may close; `IRoamingAgreements` (immutable) for the terms in force. Both
///   are RoamLedger contracts; the escrow calls them before changing its own state, under the reentrancy
///   guard.
/// - Rates are snapshotted: an invoice is rated once, when it is closed, with the terms in force at the
///   period's first second (or, when none is, at its last second). A later amendment, even a retroactive
///   one, never changes a closed invoice; it applies to the invoices closed after it.
/// - Settlement tokens are the parties' choice (the agreement names one). Deposits credit what actually
///   arrived (balance difference, so a fee-on-transfer token credits the net); payouts and withdrawals
///   send the nominal amount, so a transfer fee is borne by the recipient. A token that re-enters the
///   escrow is refused by the reentrancy guard; one that returns false is refused by SafeERC20.
/// - Deposits are pooled per (member, token): a reservation (open invoices as payer, unpaid debts) only
///   limits withdrawals; settlement pays from the whole deposit, invoices in the order they are settled.
/// - Settled invoices never change; a shortfall becomes a debt of the debtor to the creditor, which stays
///   reserved on the debtor's deposit until paid.
interface ISettlementEscrow {
    /// @notice Where an invoice is. `None` is the default of an invoice not closed yet.
    /// @dev None -> Open (closeInvoice) -> Settled (settle); Settled is final.
    enum InvoiceStatus {
        None,
        Open,
        Settled
    }

    /// @notice The charges of one tariff class, in settlement-token units (see `RatingLib` for the rounding).
    /// @param tariffClass The class.
    /// @param priced False when the agreement has no rate plan for the class in this direction: every
    /// charge of the line is then 0 (the usage is reported, not billed).
    /// @param data Data volume, tiered on the class's total volume of the period.
    /// @param signalling Signalling events x perSignallingEvent.
    /// @param sms SMS x perSms.
    /// @param voice Voice seconds x perVoiceMinute / 60, rounded down.
    /// @param monthly Active devices x monthlyFeePerDevice.
    /// @param surcharge Permanent-roaming device-days x permanentRoamingSurchargePerDay.
    /// @param total Sum of the six charges.
    struct ClassCharges {
        uint8 tariffClass;
        bool priced;
        uint256 data;
        uint256 signalling;
        uint256 sms;
        uint256 voice;
        uint256 monthly;
        uint256 surcharge;
        uint256 total;
    }

    /// @notice An invoice as rated: its lines, the SLA figures and the credit.
    /// @param lines One per tariff class of the period's totals, in their order.
    /// @param subtotal Sum of the lines' totals.
    /// @param qosSamples Records with a QoS measure, over all classes (priced or not).
    /// @param avgLatencyMs Sum of latencies / qosSamples, rounded down (0 without samples).
    /// @param avgThroughputKbps Sum of throughputs / qosSamples, rounded down (0 without samples).
    /// @param creditBps SLA credit in basis points: the credits of the missed targets, capped at 10000.
    /// @param credit subtotal x creditBps / 10000, rounded down.
    /// @param net subtotal - credit: what the payer owes.
    struct Rating {
        ClassCharges[] lines;
        uint256 subtotal;
        uint256 qosSamples;
        uint256 avgLatencyMs;
        uint256 avgThroughputKbps;
        uint16 creditBps;
        uint256 credit;
        uint256 net;
    }

    /// @notice An invoice of `payer` (home carrier) to `payee` (visited carrier) for a period, as stored.
    /// @param token The settlement token of the agreement version it was rated with.
    /// @param status Open until settled.
    /// @param agreementVersion The agreement version it was rated with.
    /// @param closedAt When it was closed.
    /// @param amount What the payer owes: subtotal - credit.
    /// @param subtotal Sum of the charges.
    /// @param credit SLA credit.
    struct Invoice {
        address token;
        InvoiceStatus status;
        uint32 agreementVersion;
        uint40 closedAt;
        uint256 amount;
        uint256 subtotal;
        uint256 credit;
    }

    /// @notice `member` deposited `amount` of `token` (what arrived), sent by `from`.
    event Deposited(PlmnId indexed member, address indexed token, address indexed from, uint256 amount);
    /// @notice `member` withdrew `amount` of `token` to `to`.
    event Withdrawn(PlmnId indexed member, address indexed token, address indexed to, uint256 amount);
    /// @notice `member` set where its payments go (zero: credited to its deposit).
    event PayoutAccountSet(PlmnId indexed member, address account);
    /// @notice The invoice of `payer` to `payee` for `period` was rated and closed; `rating.net` is reserved
    /// on the payer's deposit. The rating carries every line an invoice document shows.
    event InvoiceClosed(
        PlmnId indexed payer,
        PlmnId indexed payee,
        uint32 indexed period,
        address token,
        uint32 agreementVersion,
        Rating rating
    );
    /// @notice Both invoices of (`a`, `b`, `period`) were settled: `aOwedB` and `bOwedA` are their amounts.
    event PeriodSettled(PlmnId indexed a, PlmnId indexed b, uint32 indexed period, uint256 aOwedB, uint256 bOwedA);
    /// @notice After netting, `debtor` owed `creditor` `owed` of `token` for `period` and `paid` of it was
    /// paid: transferred to `payout`, or credited to the creditor's deposit when `payout` is zero.
    event SettlementPaid(
        PlmnId indexed debtor,
        PlmnId indexed creditor,
        uint32 indexed period,
        address token,
        uint256 owed,
        uint256 paid,
        address payout
    );
    /// @notice `debtor`'s deposit did not cover what it owed `creditor` for `period`: `paid` was paid and
    /// `owed` more of `token` became a debt. The creditor may stop serving the debtor's devices.
    event SettlementShortfall(
        PlmnId indexed debtor,
        PlmnId indexed creditor,
        uint32 indexed period,
        address token,
        uint256 paid,
        uint256 owed
    );
    /// @notice `debtor` paid `paid` of its debt in `token` to `creditor` (to `payout`, or to the
    /// creditor's deposit when zero); `remaining` is still owed.
    event DebtPaid(
        PlmnId indexed debtor,
        PlmnId indexed creditor,
        address indexed token,
        uint256 paid,
        uint256 remaining,
        address payout
    );

    /// @notice A contract given at deployment is not a contract.
    error SettlementEscrowInvalidContract(address account);
    /// @notice An amount must be non-zero.
    error SettlementEscrowZeroAmount();
    /// @notice `payer`'s free deposit (`balance`: deposit less reservations) is below `needed`.
    error SettlementEscrowInsufficientDeposit(PlmnId payer, uint256 balance, uint256 needed);
    /// @notice Tokens cannot be sent to the zero address or to the escrow itself.
    error SettlementEscrowInvalidRecipient(address account);
    /// @notice Payer and payee (or the two sides of a settlement) are the same member.
    error SettlementEscrowSameParty(PlmnId plmn);
    /// @notice The invoice of `payer` to `payee` for `period` is closed already.
    error SettlementEscrowInvoiceExists(PlmnId payer, PlmnId payee, uint32 period);
    /// @notice No agreement version is in force at the first or the last second of `period`.
    error SettlementEscrowNoTerms(PlmnId payer, PlmnId payee, uint32 period);
    /// @notice The invoice of `payer` to `payee` for `period` has not been closed.
    error SettlementEscrowInvoiceNotClosed(PlmnId payer, PlmnId payee, uint32 period);
    /// @notice (`a`, `b`, `period`) is settled already.
    error SettlementEscrowAlreadySettled(PlmnId a, PlmnId b, uint32 period);
    /// @notice `debtor` owes `creditor` nothing in `token`.
    error SettlementEscrowNoDebt(PlmnId debtor, PlmnId creditor, address token);

    /// @notice Deposits `amount` of `token` for the caller's member, from the caller (who approved it).
    /// Credits what the escrow actually received. Caller: an operator of an active CARRIER member.
    function deposit(address token, uint256 amount) external;

    /// @notice Withdraws `amount` of `token` from the caller's member's deposit to `to`: at most the deposit
    /// less what is reserved (open invoices as payer, unpaid debts). Caller: an operator of an active
    /// CARRIER member.
    function withdraw(address token, uint256 amount, address to) external;

    /// @notice Sets where payments to the caller's member go; zero credits them to its deposit instead.
    /// Caller: an operator of an active CARRIER member.
    function setPayoutAccount(address account) external;

    /// @notice Closes the usage of (`payer` = home, `payee` = visited, `period`) in the ledger (the ledger's
    /// conditions apply; `batches` are the period's batches, none for a period without usage), rates its
    /// final totals and stores the invoice, reserving its amount on the payer's deposit. Once per invoice.
    /// Caller: an operator of any active CARRIER member.
    /// @return rating The invoice's figures (also in `InvoiceClosed`).
    function closeInvoice(
        PlmnId payer,
        PlmnId payee,
        uint32 period,
        UsageBatch[] calldata batches
    ) external returns (Rating memory rating);

    /// @notice Settles both invoices of `a` and `b` for `period` (both must be closed; an empty direction
    /// is closed as a zero invoice). In the same token the smaller amount is netted off the larger and the
    /// difference paid in one transfer; in different tokens each invoice is paid on its own. A debtor
    /// deposit short of what is owed pays what it has; the rest becomes a debt (`SettlementShortfall`).
    /// Both invoices become Settled, for good. Caller: an operator of any active CARRIER member.
    function settle(PlmnId a, PlmnId b, uint32 period) external;

    /// @notice Pays `debtor`'s debt to `creditor` in `token` from the debtor's deposit: as much as the
    /// deposit covers. Caller: an operator of any active CARRIER member, so a creditor can collect once the
    /// debtor has topped up (the debtor's deposit is what pays, whoever sends it).
    /// @return paid What was paid.
    function payDebt(PlmnId debtor, PlmnId creditor, address token) external returns (uint256 paid);

    /// @notice The registry that authorizes callers.
    function carrierRegistry() external view returns (ICarrierRegistry);

    /// @notice The agreements the invoices are rated with.
    function roamingAgreements() external view returns (IRoamingAgreements);

    /// @notice The ledger whose closed periods are invoiced.
    function usageLedger() external view returns (IUsageLedger);

    /// @notice The invoice of `payer` to `payee` for `period` (status None when not closed).
    function invoice(PlmnId payer, PlmnId payee, uint32 period) external view returns (Invoice memory);

    /// @notice `member`'s deposit of `token`, reserved part included.
    function deposits(PlmnId member, address token) external view returns (uint256);

    /// @notice What of `member`'s deposit of `token` cannot be withdrawn: its open invoices as payer and its
    /// unpaid debts in that token.
    function reserved(PlmnId member, address token) external view returns (uint256);

    /// @notice What `debtor` still owes `creditor` in `token` after shortfalls.
    function debt(PlmnId debtor, PlmnId creditor, address token) external view returns (uint256);

    /// @notice Where payments to `member` go (zero: its deposit).
    function payoutAccount(PlmnId member) external view returns (address);
}
