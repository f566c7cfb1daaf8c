// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ISettlementEscrow} from "./interfaces/ISettlementEscrow.sol";
import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {IRoamingAgreements} from "./interfaces/IRoamingAgreements.sol";
import {IUsageLedger} from "./interfaces/IUsageLedger.sol";
import {RatingLib} from "./libraries/RatingLib.sol";
import {PlmnLib} from "./libraries/PlmnLib.sol";
import {ClassTotals, UsageBatch} from "./types/UsageTypes.sol";
import {PlmnId} from "./types/PlmnId.sol";
import {Roles} from "./types/Roles.sol";

/// @title SettlementEscrow
/// @notice Deposits, invoices rated from closed usage periods, bilateral netting, shortfalls and debts.
contract SettlementEscrow is ISettlementEscrow, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using PlmnLib for PlmnId;

    /// @dev A payment decided by settlement, made after every state change.
    struct Payout {
        address token;
        address to;
        uint256 amount;
    }

    ICarrierRegistry private immutable _CARRIER_REGISTRY;
    IRoamingAgreements private immutable _AGREEMENTS;
    IUsageLedger private immutable _LEDGER;

    mapping(PlmnId payer => mapping(PlmnId payee => mapping(uint32 period => Invoice))) private _invoices;
    mapping(PlmnId member => mapping(address token => uint256)) private _deposits;
    mapping(PlmnId member => mapping(address token => uint256)) private _reserved;
    mapping(PlmnId debtor => mapping(PlmnId creditor => mapping(address token => uint256))) private _debts;
    mapping(PlmnId member => address) private _payoutAccounts;

    /// @param carrierRegistry_ The consortium's registry, which authorizes every caller.
    /// @param agreements_ The roaming agreements invoices are rated with.
    /// @param ledger_ The usage ledger whose closed periods are invoiced.
    constructor(ICarrierRegistry carrierRegistry_, IRoamingAgreements agreements_, IUsageLedger ledger_) {
        _requireContract(address(carrierRegistry_));
        _requireContract(address(agreements_));
        _requireContract(address(ledger_));
        _CARRIER_REGISTRY = carrierRegistry_;
        _AGREEMENTS = agreements_;
        _LEDGER = ledger_;
    }

    // ------------------------------------------------------------------------------------------------
    // Deposits
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc ISettlementEscrow
    function deposit(address token, uint256 amount) external nonReentrant {
        PlmnId member = _requireCarrier();
        require(amount > 0, SettlementEscrowZeroAmount());
        // Credit what arrived (fee-on-transfer tokens): the balance difference needs the transfer first; the
        // guard keeps a token from re-entering in between.
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        _deposits[member][token] += received;
        emit Deposited(member, token, msg.sender, received);
    }

    /// @inheritdoc ISettlementEscrow
    function withdraw(address token, uint256 amount, address to) external nonReentrant {
        PlmnId member = _requireCarrier();
        require(amount > 0, SettlementEscrowZeroAmount());
        _requireRecipient(to);
        uint256 balance = _deposits[member][token];
        uint256 locked = _reserved[member][token];
        uint256 free = balance > locked ? balance - locked : 0;
        require(amount <= free, SettlementEscrowInsufficientDeposit(member, free, amount));
        _deposits[member][token] = balance - amount;
        emit Withdrawn(member, token, to, amount);
        IERC20(token).safeTransfer(to, amount);
    }

    /// @inheritdoc ISettlementEscrow
    function setPayoutAccount(address account) external nonReentrant {
        PlmnId member = _requireCarrier();
        require(account != address(this), SettlementEscrowInvalidRecipient(account));
        _payoutAccounts[member] = account;
        emit PayoutAccountSet(member, account);
    }

    // ------------------------------------------------------------------------------------------------
    // Invoices and settlement
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc ISettlementEscrow
    function closeInvoice(
        PlmnId payer,
        PlmnId payee,
        uint32 period,
        UsageBatch[] calldata batches
    ) external nonReentrant returns (Rating memory rating) {
        _requireCarrier();
        require(!payer.eq(payee), SettlementEscrowSameParty(payer));
        Invoice storage inv = _invoices[payer][payee][period];
        require(inv.status == InvoiceStatus.None, SettlementEscrowInvoiceExists(payer, payee, period));

        // Trusted RoamLedger contracts, read before any state changes here.
        ClassTotals[] memory totals = _LEDGER.closePeriod(payer, payee, period, batches);
        (IRoamingAgreements.Terms memory terms, uint32 version) = _termsFor(payer, payee, period);
        rating = RatingLib.rate(totals, terms, payee);

        address token = terms.settlementToken;
        inv.token = token;
        inv.status = InvoiceStatus.Open;
        inv.agreementVersion = version;
        inv.closedAt = uint40(block.timestamp);
        inv.amount = rating.net;
        inv.subtotal = rating.subtotal;
        inv.credit = rating.credit;
        _reserved[payer][token] += rating.net;
        emit InvoiceClosed(payer, payee, period, token, version, rating);
    }

    /// @inheritdoc ISettlementEscrow
    function settle(PlmnId a, PlmnId b, uint32 period) external nonReentrant {
        _requireCarrier();
        require(!a.eq(b), SettlementEscrowSameParty(a));
        Invoice storage ab = _invoices[a][b][period];
        Invoice storage ba = _invoices[b][a][period];
        require(
            ab.status != InvoiceStatus.Settled && ba.status != InvoiceStatus.Settled,
            SettlementEscrowAlreadySettled(a, b, period)
        );
        require(ab.status == InvoiceStatus.Open, SettlementEscrowInvoiceNotClosed(a, b, period));
        require(ba.status == InvoiceStatus.Open, SettlementEscrowInvoiceNotClosed(b, a, period));

        (address tokenAb, uint256 owedAb) = (ab.token, ab.amount);
        (address tokenBa, uint256 owedBa) = (ba.token, ba.amount);
        ab.status = InvoiceStatus.Settled;
        ba.status = InvoiceStatus.Settled;
        _reserved[a][tokenAb] -= owedAb;
        _reserved[b][tokenBa] -= owedBa;
        emit PeriodSettled(a, b, period, owedAb, owedBa);

        Payout memory first;
        Payout memory second;
        if (tokenAb == tokenBa) {
            if (owedAb > owedBa) first = _pay(a, b, period, tokenAb, owedAb - owedBa);
            else if (owedBa > owedAb) first = _pay(b, a, period, tokenAb, owedBa - owedAb);
        } else {
            if (owedAb > 0) first = _pay(a, b, period, tokenAb, owedAb);
            if (owedBa > 0) second = _pay(b, a, period, tokenBa, owedBa);
        }
        _transfer(first);
        _transfer(second);
    }

    /// @inheritdoc ISettlementEscrow
    function payDebt(PlmnId debtor, PlmnId creditor, address token) external nonReentrant returns (uint256 paid) {
        _requireCarrier();
        uint256 owed = _debts[debtor][creditor][token];
        require(owed > 0, SettlementEscrowNoDebt(debtor, creditor, token));
        uint256 balance = _deposits[debtor][token];
        require(balance > 0, SettlementEscrowInsufficientDeposit(debtor, 0, owed));
        paid = balance < owed ? balance : owed;
        _debts[debtor][creditor][token] = owed - paid;
        _reserved[debtor][token] -= paid;
        _deposits[debtor][token] = balance - paid;
        Payout memory payout = _credit(creditor, token, paid);
        emit DebtPaid(debtor, creditor, token, paid, owed - paid, payout.to);
        _transfer(payout);
    }

    // ------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc ISettlementEscrow
    function carrierRegistry() external view returns (ICarrierRegistry) {
        return _CARRIER_REGISTRY;
    }

    /// @inheritdoc ISettlementEscrow
    function roamingAgreements() external view returns (IRoamingAgreements) {
        return _AGREEMENTS;
    }

    /// @inheritdoc ISettlementEscrow
    function usageLedger() external view returns (IUsageLedger) {
        return _LEDGER;
    }

    /// @inheritdoc ISettlementEscrow
    function invoice(PlmnId payer, PlmnId payee, uint32 period) external view returns (Invoice memory) {
        return _invoices[payer][payee][period];
    }

    /// @inheritdoc ISettlementEscrow
    function deposits(PlmnId member, address token) external view returns (uint256) {
        return _deposits[member][token];
    }

    /// @inheritdoc ISettlementEscrow
    function reserved(PlmnId member, address token) external view returns (uint256) {
        return _reserved[member][token];
    }

    /// @inheritdoc ISettlementEscrow
    function debt(PlmnId debtor, PlmnId creditor, address token) external view returns (uint256) {
        return _debts[debtor][creditor][token];
    }

    /// @inheritdoc ISettlementEscrow
    function payoutAccount(PlmnId member) external view returns (address) {
        return _payoutAccounts[member];
    }

    // ------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------

    /// @dev The caller's member: an active carrier, or the registry's revert.
    function _requireCarrier() private view returns (PlmnId) {
        return _CARRIER_REGISTRY.requireActiveOperator(msg.sender, Roles.CARRIER);
    }

    function _requireContract(address account) private view {
        require(account.code.length > 0, SettlementEscrowInvalidContract(account));
    }

    function _requireRecipient(address account) private view {
        require(account != address(0) && account != address(this), SettlementEscrowInvalidRecipient(account));
    }

    /// @dev The terms in force at the period's first second, else at its last second. Only "no agreement at
    /// that time" falls back: any other failure (out of gas included) reverts, so a caller cannot pick the
    /// version by the gas it sends.
    function _termsFor(
        PlmnId payer,
        PlmnId payee,
        uint32 period
    ) private view returns (IRoamingAgreements.Terms memory terms, uint32 version) {
        (uint40 start, uint40 end) = _LEDGER.periodBounds(period);
        bool found;
        (found, terms, version) = _tryTermsAt(payer, payee, start);
        if (!found) (found, terms, version) = _tryTermsAt(payer, payee, end - 1);
        require(found, SettlementEscrowNoTerms(payer, payee, period));
    }

    function _tryTermsAt(
        PlmnId payer,
        PlmnId payee,
        uint40 time
    ) private view returns (bool found, IRoamingAgreements.Terms memory terms, uint32 version) {
        try _AGREEMENTS.termsAt(payer, payee, time) returns (IRoamingAgreements.Terms memory t, uint32 v) {
            return (true, t, v);
        } catch (bytes memory reason) {
            if (reason.length < 4 || bytes4(reason) != IRoamingAgreements.RoamingAgreementsNoAgreementAt.selector) {
                assembly ("memory-safe") {
                    revert(add(reason, 32), mload(reason))
                }
            }
        }
    }

    /// @dev Pays `owed` of `token` from `debtor`'s deposit to `creditor`, as far as the deposit goes; the
    /// rest becomes a debt, reserved on the debtor's deposit. State and events only: the returned payout is
    /// transferred by the caller, last.
    function _pay(
        PlmnId debtor,
        PlmnId creditor,
        uint32 period,
        address token,
        uint256 owed
    ) private returns (Payout memory payout) {
        uint256 balance = _deposits[debtor][token];
        uint256 paid = balance < owed ? balance : owed;
        uint256 shortfall = owed - paid;
        _deposits[debtor][token] = balance - paid;
        if (shortfall > 0) {
            _debts[debtor][creditor][token] += shortfall;
            _reserved[debtor][token] += shortfall;
        }
        payout = _credit(creditor, token, paid);
        emit SettlementPaid(debtor, creditor, period, token, owed, paid, payout.to);
        if (shortfall > 0) emit SettlementShortfall(debtor, creditor, period, token, paid, shortfall);
    }

    /// @dev `amount` for `creditor`: credited to its deposit when it has no payout account (an empty payout is
    /// returned), else returned as the transfer to make.
    function _credit(PlmnId creditor, address token, uint256 amount) private returns (Payout memory payout) {
        address to = _payoutAccounts[creditor];
        if (to == address(0)) {
            _deposits[creditor][token] += amount;
        } else {
            payout = Payout({token: token, to: to, amount: amount});
        }
    }

    function _transfer(Payout memory payout) private {
        if (payout.amount > 0) IERC20(payout.token).safeTransfer(payout.to, payout.amount);
    }
}
