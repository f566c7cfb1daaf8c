// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IClaimAdjudicator, ISettlementEscrow} from "./interfaces/ISettlementEscrow.sol";
import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {IRoamingAgreements} from "./interfaces/IRoamingAgreements.sol";
import {IUsageLedger} from "./interfaces/IUsageLedger.sol";
import {InvoiceLib} from "./libraries/InvoiceLib.sol";
import {PlmnLib} from "./libraries/PlmnLib.sol";
import {RevealLib} from "./libraries/RevealLib.sol";
import {PlmnId} from "./types/PlmnId.sol";
import {Permissions, Roles} from "./types/Roles.sol";

/// @title SettlementEscrow
/// @notice Deposits behind delayed withdrawals, co-signed invoices, claims and their resolution, bilateral
/// netting, shortfalls and debts.
contract SettlementEscrow is ISettlementEscrow, EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using PlmnLib for PlmnId;
    using RevealLib for RevealLib.Reveal;

    /// @dev A payment decided by settlement, made after every state change; `creditor` gets it back on its
    /// deposit when the token refuses the transfer.
    struct Payout {
        PlmnId creditor;
        address token;
        address to;
        uint256 amount;
    }

    /// @inheritdoc ISettlementEscrow
    uint256 public constant MAX_SEALED_INVOICE = 32_768;
    uint256 private constant BPS = 10_000;
    /// @dev The longest month: a period ends at most this long after it starts.
    uint256 private constant MAX_PERIOD_LENGTH = 31 days;

    /// @inheritdoc ISettlementEscrow
    uint32 public immutable SIGN_WINDOW;
    /// @inheritdoc ISettlementEscrow
    uint32 public immutable WITHDRAWAL_DELAY;
    /// @inheritdoc ISettlementEscrow
    uint32 public immutable SOLO_SETTLE_DELAY;
    /// @inheritdoc ISettlementEscrow
    uint16 public immutable CLAIM_BOND_BPS;
    /// @inheritdoc ISettlementEscrow
    uint16 public immutable STALL_PENALTY_BPS;

    ICarrierRegistry private immutable _CARRIER_REGISTRY;
    IRoamingAgreements private immutable _AGREEMENTS;
    IUsageLedger private immutable _LEDGER;
    IClaimAdjudicator private immutable _ADJUDICATOR;

    mapping(PlmnId payer => mapping(PlmnId payee => mapping(uint32 period => InvoiceState))) private _invoices;
    mapping(PlmnId payer => mapping(PlmnId payee => mapping(uint32 period => RevealLib.Reveal))) private _reveals;
    mapping(PlmnId member => mapping(address token => uint256)) private _deposits;
    mapping(PlmnId member => mapping(address token => uint256)) private _reserved;
    mapping(PlmnId member => mapping(address token => Withdrawal)) private _withdrawals;
    mapping(PlmnId debtor => mapping(PlmnId creditor => mapping(address token => uint256))) private _debts;
    mapping(PlmnId member => address) private _payoutAccounts;

    /// @param carrierRegistry_ The consortium's registry, which authorizes callers and signers.
    /// @param agreements_ The roaming agreements whose version in force invoices name.
    /// @param ledger_ The usage ledger whose closed periods are invoiced.
    /// @param adjudicator_ The claim adjudicator, or zero for none.
    /// @param params Timing and economics, validated against the ledger's grace and the agreements' longest
    /// dispute window (see `ISettlementEscrow`).
    constructor(
        ICarrierRegistry carrierRegistry_,
        IRoamingAgreements agreements_,
        IUsageLedger ledger_,
        IClaimAdjudicator adjudicator_,
        Params memory params
    ) EIP712("RoamLedger SettlementEscrow", "2") {
        _requireContract(address(carrierRegistry_));
        _requireContract(address(agreements_));
        _requireContract(address(ledger_));
        if (address(adjudicator_) != address(0)) _requireContract(address(adjudicator_));
        uint256 lag = uint256(ledger_.submissionGrace()) + agreements_.MAX_DISPUTE_WINDOW();
        uint256 maxDelay = type(uint32).max;
        _requireParam("signWindow", params.signWindow, 1, maxDelay);
        _requireParam("withdrawalDelay", params.withdrawalDelay, MAX_PERIOD_LENGTH + lag + params.signWindow, maxDelay);
        _requireParam("soloSettleDelay", params.soloSettleDelay, lag + params.signWindow, maxDelay);
        _requireParam("claimBondBps", params.claimBondBps, 0, BPS);
        _requireParam("stallPenaltyBps", params.stallPenaltyBps, 0, BPS);
        _CARRIER_REGISTRY = carrierRegistry_;
        _AGREEMENTS = agreements_;
        _LEDGER = ledger_;
        _ADJUDICATOR = adjudicator_;
        SIGN_WINDOW = params.signWindow;
        WITHDRAWAL_DELAY = params.withdrawalDelay;
        SOLO_SETTLE_DELAY = params.soloSettleDelay;
        CLAIM_BOND_BPS = params.claimBondBps;
        STALL_PENALTY_BPS = params.stallPenaltyBps;
    }

    // ------------------------------------------------------------------------------------------------
    // Deposits and withdrawals
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc ISettlementEscrow
    function deposit(address token, uint256 amount) external nonReentrant {
        PlmnId member = _requireDefender(0);
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
    function requestWithdrawal(address token, uint256 amount, address to) external nonReentrant {
        PlmnId member = _requireDefender(Permissions.TREASURY);
        require(amount > 0, SettlementEscrowZeroAmount());
        require(to != address(0) && to != address(this), SettlementEscrowInvalidRecipient(to));
        uint40 unlocksAt = uint40(block.timestamp + WITHDRAWAL_DELAY);
        _withdrawals[member][token] = Withdrawal({token: token, to: to, amount: amount, unlocksAt: unlocksAt});
        emit WithdrawalRequested(member, token, to, amount, unlocksAt);
    }

    /// @inheritdoc ISettlementEscrow
    function cancelWithdrawal(address token) external nonReentrant {
        PlmnId member = _requireDefender(Permissions.TREASURY);
        require(_withdrawals[member][token].amount > 0, SettlementEscrowNoWithdrawal(member, token));
        delete _withdrawals[member][token];
        emit WithdrawalCancelled(member, token);
    }

    /// @inheritdoc ISettlementEscrow
    function withdraw(address token) external nonReentrant {
        _requireNotPaused();
        PlmnId member = _requireDefender(Permissions.TREASURY);
        Withdrawal memory w = _withdrawals[member][token];
        require(w.amount > 0, SettlementEscrowNoWithdrawal(member, token));
        require(block.timestamp >= w.unlocksAt, SettlementEscrowWithdrawalLocked(member, token, w.unlocksAt));
        uint256 free = _free(member, token);
        require(free > 0, SettlementEscrowInsufficientDeposit(member, 0, w.amount));
        uint256 amount = w.amount < free ? w.amount : free;
        delete _withdrawals[member][token];
        _deposits[member][token] -= amount;
        emit Withdrawn(member, token, w.to, amount);
        // A refusal reverts it all: the request stays, and a new one can name an account the token takes.
        require(
            IERC20(token).trySafeTransfer(w.to, amount),
            SettlementEscrowTransferRefused(token, w.to, amount)
        );
    }

    /// @inheritdoc ISettlementEscrow
    function setPayoutAccount(address account) external nonReentrant {
        PlmnId member = _requireDefender(Permissions.TREASURY);
        require(account != address(this), SettlementEscrowInvalidRecipient(account));
        _payoutAccounts[member] = account;
        emit PayoutAccountSet(member, account);
    }

    // ------------------------------------------------------------------------------------------------
    // Invoices
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc ISettlementEscrow
    function proposeInvoice(
        Invoice calldata inv,
        bytes calldata payeeSignature,
        bytes calldata sealedInvoice
    ) external nonReentrant {
        InvoiceState storage s = _invoices[inv.payer][inv.payee][inv.period];
        _requireStatus(s, inv.payer, inv.payee, inv.period, InvoiceStatus.None, InvoiceStatus.Proposed);
        uint256 length = sealedInvoice.length;
        require(
            length > 0 && length <= MAX_SEALED_INVOICE,
            SettlementEscrowInvalidSealedInvoice(length, MAX_SEALED_INVOICE)
        );
        bytes32 digest = _checkInvoice(inv);
        _requireSigner(digest, payeeSignature, inv.payee);
        _store(s, inv, digest, InvoiceStatus.Proposed);
        s.proposedAt = uint40(block.timestamp);
        emit InvoiceProposed(inv.payer, inv.payee, inv.period, digest, inv.net, sealedInvoice);
    }

    /// @inheritdoc ISettlementEscrow
    function cosignInvoice(
        PlmnId payer,
        PlmnId payee,
        uint32 period,
        bytes calldata payerSignature
    ) external nonReentrant {
        InvoiceState storage s = _invoices[payer][payee][period];
        InvoiceStatus status = s.status;
        require(
            status == InvoiceStatus.Proposed || status == InvoiceStatus.Claimed || status == InvoiceStatus.Revealing,
            SettlementEscrowWrongStatus(payer, payee, period, status)
        );
        _requireSigner(s.digest, payerSignature, payer);
        if (status != InvoiceStatus.Proposed) _releaseClaim(s, payer, payee);
        _close(s, payer, payee, period, s.net, Resolution.CoSigned);
    }

    /// @inheritdoc ISettlementEscrow
    function closeInvoice(
        Invoice calldata inv,
        bytes calldata payerSignature,
        bytes calldata payeeSignature
    ) external nonReentrant {
        InvoiceState storage s = _invoices[inv.payer][inv.payee][inv.period];
        _requireStatus(s, inv.payer, inv.payee, inv.period, InvoiceStatus.None, InvoiceStatus.Proposed);
        bytes32 digest = _checkInvoice(inv);
        _requireSigner(digest, payerSignature, inv.payer);
        _requireSigner(digest, payeeSignature, inv.payee);
        _store(s, inv, digest, InvoiceStatus.Closed);
        _close(s, inv.payer, inv.payee, inv.period, inv.net, Resolution.CoSigned);
    }

    /// @inheritdoc ISettlementEscrow
    function fileClaim(PlmnId payer, PlmnId payee, uint32 period) external nonReentrant {
        PlmnId member = _requireDefender(Permissions.TREASURY);
        require(member.eq(payee), SettlementEscrowNotParty(member));
        InvoiceState storage s = _invoices[payer][payee][period];
        _requireStatus(s, payer, payee, period, InvoiceStatus.Proposed, InvoiceStatus.Proposed);
        uint40 endsAt = s.proposedAt + SIGN_WINDOW;
        require(block.timestamp >= endsAt, SettlementEscrowSignWindowOpen(endsAt));
        (address token, uint256 net) = (s.token, s.net);
        uint256 bond = (net * CLAIM_BOND_BPS) / BPS;
        if (bond == 0 && net > 0) bond = 1;
        uint256 free = _free(payee, token);
        require(bond <= free, SettlementEscrowInsufficientDeposit(payee, free, bond));
        s.status = InvoiceStatus.Claimed;
        s.claimedAt = uint40(block.timestamp);
        s.bond = bond;
        _reserved[payer][token] += net;
        _reserved[payee][token] += bond;
        emit ClaimFiled(payer, payee, period, net, bond);
    }

    /// @inheritdoc ISettlementEscrow
    function proveClaim(PlmnId payer, PlmnId payee, uint32 period, bytes calldata proof) external nonReentrant {
        require(address(_ADJUDICATOR) != address(0), SettlementEscrowNoAdjudicator());
        InvoiceState storage s = _invoices[payer][payee][period];
        _requireStatus(s, payer, payee, period, InvoiceStatus.Claimed, InvoiceStatus.Claimed);
        uint40 endsAt = s.claimedAt + SIGN_WINDOW;
        require(block.timestamp >= endsAt, SettlementEscrowContestWindowOpen(endsAt));
        uint256 net = s.net;
        require(
            _ADJUDICATOR.verify(payer, payee, s.agreementVersion, s.totalsCommitment, net, proof),
            SettlementEscrowInvalidProof()
        );
        _releaseClaim(s, payer, payee);
        _close(s, payer, payee, period, net, Resolution.Proven);
    }

    /// @inheritdoc ISettlementEscrow
    function openBatches(
        PlmnId payer,
        PlmnId payee,
        uint32 period,
        BatchOpening[] calldata openings
    ) external nonReentrant {
        _requireParty(payer, payee);
        InvoiceState storage s = _invoices[payer][payee][period];
        _requireStatus(s, payer, payee, period, InvoiceStatus.Claimed, InvoiceStatus.Revealing);
        s.status = InvoiceStatus.Revealing;
        (uint32 cursor, uint32 counted) = _reveals[payer][payee][period].openBatches(
            _LEDGER,
            payer,
            payee,
            period,
            openings
        );
        emit BatchesOpened(payer, payee, period, cursor, counted);
    }

    /// @inheritdoc ISettlementEscrow
    function finishReveal(
        PlmnId payer,
        PlmnId payee,
        uint32 period,
        IRoamingAgreements.Terms calldata terms,
        bytes32 termsSalt
    ) external nonReentrant {
        _requireParty(payer, payee);
        InvoiceState storage s = _invoices[payer][payee][period];
        _requireStatus(s, payer, payee, period, InvoiceStatus.Revealing, InvoiceStatus.Revealing);
        (uint256 amount, bool upheld) = _reveals[payer][payee][period].finish(
            _LEDGER,
            RevealLib.Claim(payer, payee, period, s.termsCommitment, s.net, STALL_PENALTY_BPS),
            terms,
            termsSalt
        );
        _resolveReveal(s, payer, payee, period, amount, upheld);
    }

    // ------------------------------------------------------------------------------------------------
    // Settlement
    // ------------------------------------------------------------------------------------------------

    /// @inheritdoc ISettlementEscrow
    function settle(PlmnId a, PlmnId b, uint32 period) external nonReentrant {
        _requireNotPaused();
        _requireDefender(0);
        require(!a.eq(b), SettlementEscrowSameParty(a));
        InvoiceState storage ab = _invoices[a][b][period];
        InvoiceState storage ba = _invoices[b][a][period];
        bool abClosed = ab.status == InvoiceStatus.Closed;
        bool baClosed = ba.status == InvoiceStatus.Closed;
        if (abClosed && baClosed) {
            _settleBoth(a, b, period, ab, ba);
            return;
        }
        if (!abClosed && !baClosed) {
            require(
                ab.status != InvoiceStatus.Settled || ba.status != InvoiceStatus.Settled,
                SettlementEscrowAlreadySettled(a, b, period)
            );
            (PlmnId payer, PlmnId payee) = ab.status == InvoiceStatus.Settled ? (b, a) : (a, b);
            revert SettlementEscrowInvoiceNotClosed(payer, payee, period);
        }
        (PlmnId from, PlmnId to, InvoiceState storage s, InvoiceState storage other) = abClosed
            ? (a, b, ab, ba)
            : (b, a, ba, ab);
        if (other.status != InvoiceStatus.Settled) {
            (, uint40 end) = _LEDGER.periodBounds(period);
            uint40 settlesAt = end + SOLO_SETTLE_DELAY;
            require(block.timestamp >= settlesAt, SettlementEscrowSoloSettleTooEarly(from, to, period, settlesAt));
        }
        (address token, uint256 owed) = (s.token, s.amount);
        s.status = InvoiceStatus.Settled;
        _reserved[from][token] -= owed;
        emit InvoiceSettled(from, to, period, owed);
        if (owed > 0) _transfer(_pay(from, to, period, token, owed));
    }

    /// @inheritdoc ISettlementEscrow
    function payDebt(PlmnId debtor, PlmnId creditor, address token) external nonReentrant returns (uint256 paid) {
        _requireNotPaused();
        _requireDefender(Permissions.TREASURY);
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
    function invoiceDigest(Invoice calldata inv) public view returns (bytes32) {
        return _hashTypedDataV4(InvoiceLib.hash(inv));
    }

    /// @inheritdoc ISettlementEscrow
    function invoice(PlmnId payer, PlmnId payee, uint32 period) external view returns (InvoiceState memory) {
        return _invoices[payer][payee][period];
    }

    /// @inheritdoc ISettlementEscrow
    function revealProgress(
        PlmnId payer,
        PlmnId payee,
        uint32 period
    ) external view returns (uint32 cursor, uint32 disputeCursor) {
        RevealLib.Reveal storage r = _reveals[payer][payee][period];
        return (r.cursor, r.disputeCursor);
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

    /// @inheritdoc ISettlementEscrow
    function pendingWithdrawal(PlmnId member, address token) external view returns (Withdrawal memory) {
        return _withdrawals[member][token];
    }

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
    function claimAdjudicator() external view returns (IClaimAdjudicator) {
        return _ADJUDICATOR;
    }

    // ------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------

    /// @dev The checks `proposeInvoice` and `closeInvoice` share; returns the invoice's digest.
    function _checkInvoice(Invoice calldata inv) private returns (bytes32) {
        (PlmnId payer, PlmnId payee, uint32 period) = (inv.payer, inv.payee, inv.period);
        require(!payer.eq(payee), SettlementEscrowSameParty(payer));
        // Trusted RoamLedger contracts, called before any state changes here.
        bytes32 accumulator = _LEDGER.closePeriod(payer, payee, period);
        require(
            inv.ledgerAccumulator == accumulator,
            SettlementEscrowWrongAccumulator(accumulator, inv.ledgerAccumulator)
        );
        (IRoamingAgreements.PublicTerms memory terms, uint32 version) = _termsFor(payer, payee, period);
        require(
            inv.agreementVersion == version &&
                inv.termsCommitment == terms.termsCommitment &&
                inv.token == terms.settlementToken,
            SettlementEscrowWrongTerms(version, terms.termsCommitment, terms.settlementToken)
        );
        return invoiceDigest(inv);
    }

    /// @dev Reverts unless `signature` over `digest` is by a TREASURY operator of the CARRIER `member`, active
    /// or suspended (THREATS F5); any registry refusal reads as the same error. ECDSA.recover refuses
    /// malformed and high-s signatures.
    function _requireSigner(bytes32 digest, bytes calldata signature, PlmnId member) private view {
        address signer = ECDSA.recover(digest, signature);
        bool ok;
        try _CARRIER_REGISTRY.requireDefendingOperator(signer, Roles.CARRIER, Permissions.TREASURY) returns (
            PlmnId signerMember
        ) {
            ok = signerMember.eq(member);
        } catch {
            ok = false;
        }
        require(ok, SettlementEscrowInvalidSigner(signer, member));
    }

    function _store(InvoiceState storage s, Invoice calldata inv, bytes32 digest, InvoiceStatus status) private {
        s.status = status;
        s.agreementVersion = inv.agreementVersion;
        s.token = inv.token;
        s.digest = digest;
        s.termsCommitment = inv.termsCommitment;
        s.totalsCommitment = inv.totalsCommitment;
        s.net = inv.net;
    }

    /// @dev Fixes the invoice's final `amount` and reserves it on the payer.
    function _close(
        InvoiceState storage s,
        PlmnId payer,
        PlmnId payee,
        uint32 period,
        uint256 amount,
        Resolution resolution
    ) private {
        address token = s.token;
        s.status = InvoiceStatus.Closed;
        s.resolution = resolution;
        s.closedAt = uint40(block.timestamp);
        s.amount = amount;
        _reserved[payer][token] += amount;
        emit InvoiceClosed(payer, payee, period, token, amount, resolution);
    }

    /// @dev Releases a claim's reservations: the claimed net on the payer and the bond on the payee.
    function _releaseClaim(InvoiceState storage s, PlmnId payer, PlmnId payee) private {
        address token = s.token;
        _reserved[payer][token] -= s.net;
        _reserved[payee][token] -= s.bond;
    }

    /// @dev Closes a revealed claim at `amount`: upheld, the bond released; refuted, the bond credited to
    /// the payer's deposit (what the payee's deposit cannot cover becomes its debt).
    function _resolveReveal(
        InvoiceState storage s,
        PlmnId payer,
        PlmnId payee,
        uint32 period,
        uint256 amount,
        bool upheld
    ) private {
        (address token, uint256 bond) = (s.token, s.bond);
        _releaseClaim(s, payer, payee);
        if (!upheld && bond > 0) {
            (uint256 paid, uint256 shortfall) = _debit(payee, payer, token, bond);
            _deposits[payer][token] += paid;
            if (shortfall > 0) emit SettlementShortfall(payee, payer, period, token, paid, shortfall);
        }
        _close(s, payer, payee, period, amount, Resolution.Revealed);
    }

    /// @dev Both closed directions of (`a`, `b`, `period`), netted in the same token.
    function _settleBoth(PlmnId a, PlmnId b, uint32 period, InvoiceState storage ab, InvoiceState storage ba) private {
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

    /// @dev The caller's member: a carrier, active or suspended (THREATS F5), the caller holding
    /// `permission`; or the registry's revert.
    function _requireDefender(uint8 permission) private view returns (PlmnId) {
        return _CARRIER_REGISTRY.requireDefendingOperator(msg.sender, Roles.CARRIER, permission);
    }

    function _requireNotPaused() private view {
        require(!_CARRIER_REGISTRY.paused(), SettlementEscrowPaused());
    }

    /// @dev Reverts unless the caller is a TREASURY operator of the payer or the payee (suspended or not).
    function _requireParty(PlmnId payer, PlmnId payee) private view {
        PlmnId member = _requireDefender(Permissions.TREASURY);
        require(member.eq(payer) || member.eq(payee), SettlementEscrowNotParty(member));
    }

    function _requireStatus(
        InvoiceState storage s,
        PlmnId payer,
        PlmnId payee,
        uint32 period,
        InvoiceStatus one,
        InvoiceStatus other
    ) private view {
        InvoiceStatus status = s.status;
        require(status == one || status == other, SettlementEscrowWrongStatus(payer, payee, period, status));
    }

    function _requireContract(address account) private view {
        require(account.code.length > 0, SettlementEscrowInvalidContract(account));
    }

    function _requireParam(string memory name, uint256 value, uint256 min, uint256 max) private pure {
        require(value >= min && value <= max, SettlementEscrowInvalidParam(name, value, min, max));
    }

    /// @dev `member`'s deposit of `token` less its reservations, floored at zero.
    function _free(PlmnId member, address token) private view returns (uint256) {
        (uint256 balance, uint256 locked) = (_deposits[member][token], _reserved[member][token]);
        return balance > locked ? balance - locked : 0;
    }

    /// @dev The terms in force at the period's first second, else at its last second. Only "no agreement at
    /// that time" falls back: any other failure (out of gas included) reverts, so a caller cannot pick the
    /// version by the gas it sends.
    function _termsFor(
        PlmnId payer,
        PlmnId payee,
        uint32 period
    ) private view returns (IRoamingAgreements.PublicTerms memory terms, uint32 version) {
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
    ) private view returns (bool found, IRoamingAgreements.PublicTerms memory terms, uint32 version) {
        try _AGREEMENTS.termsAt(payer, payee, time) returns (IRoamingAgreements.PublicTerms memory t, uint32 v) {
            return (true, t, v);
        } catch (bytes memory reason) {
            if (reason.length < 4 || bytes4(reason) != IRoamingAgreements.RoamingAgreementsNoAgreementAt.selector) {
                assembly ("memory-safe") {
                    revert(add(reason, 32), mload(reason))
                }
            }
        }
    }

    /// @dev Takes up to `owed` of `token` from `debtor`'s deposit; the rest becomes a debt to `creditor`,
    /// reserved on the debtor's deposit. Returns what was taken and what is owed now.
    function _debit(
        PlmnId debtor,
        PlmnId creditor,
        address token,
        uint256 owed
    ) private returns (uint256 paid, uint256 shortfall) {
        uint256 balance = _deposits[debtor][token];
        paid = balance < owed ? balance : owed;
        shortfall = owed - paid;
        _deposits[debtor][token] = balance - paid;
        if (shortfall > 0) {
            _debts[debtor][creditor][token] += shortfall;
            _reserved[debtor][token] += shortfall;
        }
    }

    /// @dev Pays `owed` from `debtor`'s deposit to `creditor` as far as the deposit goes (the rest becomes a
    /// debt). State and events only: the returned payout is transferred by the caller, last.
    function _pay(
        PlmnId debtor,
        PlmnId creditor,
        uint32 period,
        address token,
        uint256 owed
    ) private returns (Payout memory payout) {
        (uint256 paid, uint256 shortfall) = _debit(debtor, creditor, token, owed);
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
            payout = Payout({creditor: creditor, token: token, to: to, amount: amount});
        }
    }

    /// @dev Sends a payout, last. A refusal by the token (blacklisted account, revert, false) cannot brick
    /// settlement: the amount is credited to the creditor's deposit instead, where it is free to withdraw to
    /// another account. The credit follows the call: the reentrancy guard of every caller covers it. A sender
    /// cannot force the fallback by starving the call: the call gets 63/64 of the gas left, so a transfer
    /// that runs out leaves too little for the credit and the whole transaction reverts.
    function _transfer(Payout memory payout) private {
        (PlmnId creditor, address token, address to, uint256 amount) = (
            payout.creditor,
            payout.token,
            payout.to,
            payout.amount
        );
        if (amount == 0 || IERC20(token).trySafeTransfer(to, amount)) return;
        _deposits[creditor][token] += amount;
        emit PayoutRefused(creditor, token, to, amount);
    }
}
