// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";
import {ClassTotals, UsageRecord} from "../types/UsageTypes.sol";
import {ICarrierRegistry} from "./ICarrierRegistry.sol";
import {IRoamingAgreements} from "./IRoamingAgreements.sol";
import {IUsageLedger} from "./IUsageLedger.sol";

/// @notice Decides a claim without revealing terms or totals (`RatingAdjudicator`, docs/zk.md): true when
/// `proof` shows that `net` is the rating, by the agreement version's terms, of the period totals that
/// `totalsCommitment` commits to (the invoice's, signed by the payee). The adjudicator reads which circuit and
/// which terms commitment the version names for the payee's direction.
interface IClaimAdjudicator {
    function verify(
        PlmnId payer,
        PlmnId payee,
        uint32 agreementVersion,
        bytes32 totalsCommitment,
        uint256 net,
        bytes calldata proof
    ) external view returns (bool);
}

/// @title Settlement of closed periods from carriers' deposits, on invoices both carriers signed.
/// @notice The chain never rates usage in the normal path: the payee (visited carrier) rates the period off
/// chain from the terms and payloads it shares with the payer, both sign the same `Invoice` (EIP-712, domain
/// "RoamLedger SettlementEscrow" version "2", bound to chain and escrow), and the escrow reserves and settles
/// the signed net, netting both directions. The invoice binds the pair, the period, the agreement version and
/// its terms commitment, the ledger's period accumulator, a salted commitment to the rated period totals, the
/// token and the net: only the net is public. When the payer does not sign within `SIGN_WINDOW`, the payee
/// files a claim with a bond; the claim becomes final by the payer's signature, by the adjudicator's proof,
/// or, as the documented last resort, by a reveal of the openings that the escrow rates on chain (which
/// publishes the pair's terms and totals of that period: docs/confidentiality.md).
/// @dev Trust assumptions:
/// - `ICarrierRegistry` (immutable) says who acts for which member, and with which operator permission
///   (`Permissions`). Money moves only on a TREASURY key: withdrawals (request, cancel, execute), the payout
///   account, claims, reveals, debt payments, and every invoice signature (a signer needs TREASURY). Deposits
///   and settling take any operator key of a CARRIER member (a deposit only adds; a settlement's outcome is
///   fixed whoever sends it). Proposing, co-signing, closing and proving invoices may be sent by anyone: the
///   signatures (or the proof) authorize them. A signature counts when its signer is, at the time it is
///   presented, a TREASURY operator of the signing member. So a leaked USAGE or DEVICES key moves no money.
/// - Suspension (THREATS F5). Claims on a suspended member do not freeze, and its counterparties' windows
///   do not pause: it keeps its defences instead, so every window runs as the agreement set it and no period
///   waits on governance. Every escrow call takes a suspended member's operators and signatures
///   (`requireDefendingOperator`): deposits, withdrawals of what nothing reserves, the payout account,
///   invoice signatures as payer and as payee, claims, reveals, settling, debts. What suspension stops is
///   new usage: the ledger takes no batch signed for a suspended visited carrier. Why a suspended payee
///   still invoices and claims: the usage was accepted before (or expired undisputed); were its claims
///   frozen, a payer could request a withdrawal at the suspension and, with the payee unable to claim within
///   `WITHDRAWAL_DELAY`, take its deposit out before the invoice is reserved (THREATS F2 reopened by a
///   governance majority). Why not freeze claims on it: it would escape what it owes. Why not pause its
///   partners' windows: a majority could hold their periods open at will.
/// - Emergency pause (`ICarrierRegistry.paused`): token transfers out wait (`settle`, `payDebt`, `withdraw`
///   revert `SettlementEscrowPaused`); deposits, withdrawal requests and cancellations, payout accounts,
///   proposals, co-signatures, closes, claims, proofs and reveals continue (they fix amounts and reservations
///   but move no token out). A withdrawal delay or solo-settle delay that elapses during a pause is harmless:
///   execution waits. Claims stay open on purpose: were they paused, a payer's withdrawal that unlocked
///   during the pause could race the payee's claim at the unpause; with claims running, the bound on
///   `WITHDRAWAL_DELAY` below still orders the claim first (THREATS F2).
/// - `IUsageLedger` (immutable) is trusted to close periods only once their usage is final and to give the
///   period accumulator, counted batches and disputed leaves; `IRoamingAgreements` (immutable) for the public
///   terms (version, token, terms commitment) in force; both are RoamLedger contracts, called before any state
///   change here, under the reentrancy guard. `IClaimAdjudicator` (immutable, optional) is trusted to accept a
///   proof only when `net` is the agreement's rating of the committed totals.
/// - The escrow never sees terms or totals on the normal path: it checks that the signed invoice names the
///   closed period's accumulator and the version in force, and that both parties signed it. What the net is
///   worth is the parties' business; a payer that will not sign faces a claim it can only settle by signing,
///   a proof, or a reveal that rates the committed openings (and a stall penalty on top when the claim holds).
/// - Deposits back usage: a withdrawal is requested, then executed after `WITHDRAWAL_DELAY`, from what nothing
///   reserves at that time. The constructor requires WITHDRAWAL_DELAY >= 31 days + `submissionGrace` +
///   `MAX_DISPUTE_WINDOW` + `SIGN_WINDOW`. Usage accepted before a request at time r belongs to a period that
///   started before r, so ended before r + 31 days; the ledger lets it close by its end + grace (the last
///   batch, submitted before that deadline, leaves its window within `MAX_DISPUTE_WINDOW`, and anyone may
///   expire it); the payee proposes at once and, unsigned, files its claim `SIGN_WINDOW` later, which
///   reserves the net on the payer: strictly before r + WITHDRAWAL_DELAY. So a withdrawal can never front-run
///   the invoice of usage accepted before it was requested (THREATS F2); usage accepted later is the payee's
///   risk, visible to it as the pending withdrawal.
/// - Settlement tokens are the parties' choice (the agreement names one). Deposits credit what actually
///   arrived (balance difference); payouts and withdrawals send the nominal amount. A token that re-enters is
///   refused by the reentrancy guard. A payout the token refuses (a blacklisted payout account, a revert, a
///   false return) is credited to the creditor's deposit instead (`PayoutRefused`), so settlement never
///   bricks on it; a refused withdrawal reverts (`SettlementEscrowTransferRefused`) and its request stays.
/// - Deposits are pooled per (member, token): a reservation only limits withdrawals and claim bonds;
///   settlement pays from the whole deposit. A shortfall becomes a debt, reserved until paid.
/// - Settled invoices never change. Each direction of a pair and period settles once: with netting when both
///   are closed, or alone once the other has not closed by the period's end + `SOLO_SETTLE_DELAY`.
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
    /// of its disputed leaves in `disputedIndexes` order. `salt` is the batch's totals salt: it opens the
    /// totals commitment and salts the disputed records' leaves.
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

    /// @notice The escrow's timing and economics, fixed at deployment.
    /// @param signWindow Seconds the payer has to co-sign a proposed invoice before the payee may claim.
    /// @param withdrawalDelay Seconds between a withdrawal request and its execution (see the bound above).
    /// @param soloSettleDelay Seconds after a period's end from which a closed direction settles alone when
    /// the other is not closed; at least `submissionGrace` + `MAX_DISPUTE_WINDOW` + `signWindow`.
    /// @param claimBondBps The payee's claim bond, in basis points of the claimed net (<= 10000).
    /// @param stallPenaltyBps What a payer whose unsigned invoice a reveal upholds pays on top of the rating,
    /// in basis points of it (<= 10000).
    struct Params {
        uint32 signWindow;
        uint32 withdrawalDelay;
        uint32 soloSettleDelay;
        uint16 claimBondBps;
        uint16 stallPenaltyBps;
    }

    /// @notice The charges of one tariff class, in settlement-token units (see `RatingLib` for the rounding).
    /// Only computed on chain by a reveal.
    /// @param priced False when the agreement has no rate plan for the class in this direction: every charge
    /// of the line is then 0.
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

    /// @notice A period rated on chain by a reveal (`RatingLib.rate`): its lines, the SLA figures and the credit.
    /// @param lines One per tariff class of the revealed totals, ascending.
    /// @param qosSamples Records with a QoS measure, over all classes.
    /// @param creditBps SLA credit in basis points, capped at 10000.
    /// @param net subtotal - credit.
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

    /// @notice `member` deposited `amount` of `token` (what arrived), sent by `from`.
    event Deposited(PlmnId indexed member, address indexed token, address indexed from, uint256 amount);
    /// @notice `member` asked to withdraw up to `amount` of `token` to `to`, from `unlocksAt` on; it replaces
    /// its pending request in that token.
    event WithdrawalRequested(
        PlmnId indexed member,
        address indexed token,
        address indexed to,
        uint256 amount,
        uint40 unlocksAt
    );
    /// @notice `member` cancelled its pending withdrawal of `token`.
    event WithdrawalCancelled(PlmnId indexed member, address indexed token);
    /// @notice `member` withdrew `amount` of `token` to `to`.
    event Withdrawn(PlmnId indexed member, address indexed token, address indexed to, uint256 amount);
    /// @notice `member` set where its payments go (zero: credited to its deposit).
    event PayoutAccountSet(PlmnId indexed member, address account);
    /// @notice The payee signed and proposed the invoice of `payer` for `period`: `net` is claimed;
    /// `sealedInvoice` is its lines and the totals' salt sealed for the payer (opaque to everyone else;
    /// emitted, not stored).
    event InvoiceProposed(
        PlmnId indexed payer,
        PlmnId indexed payee,
        uint32 indexed period,
        bytes32 digest,
        uint256 net,
        bytes sealedInvoice
    );
    /// @notice The payer did not sign in time: the payee claims `net` (reserved on the payer) and bonds `bond`
    /// of its own deposit.
    event ClaimFiled(PlmnId indexed payer, PlmnId indexed payee, uint32 indexed period, uint256 net, uint256 bond);
    /// @notice Openings of counted batches were checked for a reveal: `cursor` of `counted` are done.
    event BatchesOpened(
        PlmnId indexed payer,
        PlmnId indexed payee,
        uint32 indexed period,
        uint32 cursor,
        uint32 counted
    );
    /// @notice A reveal rated the period on chain (`rating`, public now): the claim of `claimed` was upheld
    /// (`rating.net` >= `claimed`: the payer pays `penalty` on top and the bond goes back) or refuted (the
    /// payee's `bond` went to the payer's deposit); `amount` is what the payer owes.
    event ClaimRevealed(
        PlmnId indexed payer,
        PlmnId indexed payee,
        uint32 indexed period,
        uint256 claimed,
        bool upheld,
        uint256 penalty,
        uint256 amount,
        Rating rating
    );
    /// @notice The invoice is final: `amount` of `token` is reserved on the payer.
    event InvoiceClosed(
        PlmnId indexed payer,
        PlmnId indexed payee,
        uint32 indexed period,
        address token,
        uint256 amount,
        Resolution resolution
    );
    /// @notice Both invoices of (`a`, `b`, `period`) were settled together: `aOwedB` and `bOwedA`.
    event PeriodSettled(PlmnId indexed a, PlmnId indexed b, uint32 indexed period, uint256 aOwedB, uint256 bOwedA);
    /// @notice The invoice of `payer` to `payee` was settled alone (the other direction had not closed in time).
    event InvoiceSettled(PlmnId indexed payer, PlmnId indexed payee, uint32 indexed period, uint256 amount);
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
    /// @notice The token refused to send `amount` to `creditor`'s payout account `account`: it was credited
    /// to the creditor's deposit instead (withdraw it, or set another payout account).
    event PayoutRefused(PlmnId indexed creditor, address indexed token, address indexed account, uint256 amount);
    /// @notice `debtor` paid `paid` of its debt in `token` to `creditor` (to `payout`, or to the creditor's
    /// deposit when zero); `remaining` is still owed.
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
    /// @notice A deployment parameter is out of bounds: `value` of the parameter `name` is not within
    /// [`min`, `max`].
    error SettlementEscrowInvalidParam(string name, uint256 value, uint256 min, uint256 max);
    /// @notice An amount must be non-zero.
    error SettlementEscrowZeroAmount();
    /// @notice `member`'s free deposit (`balance`: deposit less reservations) is below `needed`.
    error SettlementEscrowInsufficientDeposit(PlmnId member, uint256 balance, uint256 needed);
    /// @notice Tokens cannot be sent to the zero address or to the escrow itself.
    error SettlementEscrowInvalidRecipient(address account);
    /// @notice `member` has no pending withdrawal of `token`.
    error SettlementEscrowNoWithdrawal(PlmnId member, address token);
    /// @notice The pending withdrawal unlocks at `unlocksAt`.
    error SettlementEscrowWithdrawalLocked(PlmnId member, address token, uint40 unlocksAt);
    /// @notice Payer and payee (or the two sides of a settlement) are the same member.
    error SettlementEscrowSameParty(PlmnId plmn);
    /// @notice The invoice is in `status`, which this function does not take.
    error SettlementEscrowWrongStatus(PlmnId payer, PlmnId payee, uint32 period, InvoiceStatus status);
    /// @notice No agreement version is in force at the first or the last second of `period`.
    error SettlementEscrowNoTerms(PlmnId payer, PlmnId payee, uint32 period);
    /// @notice The invoice names another ledger accumulator than the closed period's (`expected`).
    error SettlementEscrowWrongAccumulator(bytes32 expected, bytes32 given);
    /// @notice The invoice's version, terms commitment or token is not the version in force's (given here).
    error SettlementEscrowWrongTerms(uint32 version, bytes32 termsCommitment, address token);
    /// @notice `signer` (recovered from a signature) is not an operator of the active CARRIER `member`.
    error SettlementEscrowInvalidSigner(address signer, PlmnId member);
    /// @notice The sealed invoice must be 1 to `max` bytes.
    error SettlementEscrowInvalidSealedInvoice(uint256 length, uint256 max);
    /// @notice The payer's sign window runs until `endsAt`.
    error SettlementEscrowSignWindowOpen(uint40 endsAt);
    /// @notice `member` (the caller's) is neither the payer nor the payee.
    error SettlementEscrowNotParty(PlmnId member);
    /// @notice The escrow was deployed without an adjudicator.
    error SettlementEscrowNoAdjudicator();
    /// @notice The payer may still co-sign or contest the claim's totals by a reveal until `endsAt`.
    error SettlementEscrowContestWindowOpen(uint40 endsAt);
    /// @notice The adjudicator refused the proof.
    error SettlementEscrowInvalidProof();
    /// @notice The opening of counted batch `batchId` does not open its totals commitment.
    error SettlementEscrowWrongOpening(bytes32 batchId);
    /// @notice The record given for the dispute at `leafIndex` of `batchId` is not the disputed leaf.
    error SettlementEscrowWrongDisputedRecord(bytes32 batchId, uint32 leafIndex);
    /// @notice Openings beyond the period's `counted` batches, or more disputed records than the batch has
    /// (`disputes`), or a batch left incomplete before the last opening of a call.
    error SettlementEscrowWrongOpeningCount(bytes32 batchId, uint256 given, uint256 disputes);
    /// @notice The reveal has opened `cursor` of `counted` batches.
    error SettlementEscrowRevealIncomplete(uint32 cursor, uint32 counted);
    /// @notice The terms do not open the invoice's terms commitment.
    error SettlementEscrowWrongTermsOpening(bytes32 termsCommitment);
    /// @notice A direction settles alone only from `settlesAt`.
    error SettlementEscrowSoloSettleTooEarly(PlmnId payer, PlmnId payee, uint32 period, uint40 settlesAt);
    /// @notice The invoice of `payer` to `payee` for `period` has not been closed.
    error SettlementEscrowInvoiceNotClosed(PlmnId payer, PlmnId payee, uint32 period);
    /// @notice (`a`, `b`, `period`) is settled already, both directions.
    error SettlementEscrowAlreadySettled(PlmnId a, PlmnId b, uint32 period);
    /// @notice `debtor` owes `creditor` nothing in `token`.
    error SettlementEscrowNoDebt(PlmnId debtor, PlmnId creditor, address token);
    /// @notice The consortium is paused (`ICarrierRegistry.paused`): no token leaves the escrow until it is
    /// unpaused.
    error SettlementEscrowPaused();
    /// @notice The token refused to send `amount` to `to`; the withdrawal request stays.
    error SettlementEscrowTransferRefused(address token, address to, uint256 amount);

    /// @notice Deposits `amount` of `token` for the caller's member, from the caller (who approved it).
    /// Credits what the escrow actually received. Caller: any operator of a CARRIER member, suspended or not.
    function deposit(address token, uint256 amount) external;

    /// @notice Asks to withdraw up to `amount` of `token` to `to` once `WITHDRAWAL_DELAY` has passed. One
    /// request per (member, token): a new one replaces it and restarts the clock. Caller: a TREASURY operator
    /// of a CARRIER member, suspended or not (as for `cancelWithdrawal`, `withdraw`, `setPayoutAccount`).
    function requestWithdrawal(address token, uint256 amount, address to) external;

    /// @notice Cancels the caller's member's pending withdrawal of `token`.
    function cancelWithdrawal(address token) external;

    /// @notice Executes the caller's member's pending withdrawal of `token` once unlocked: the requested
    /// amount, or what is free then (deposit less reservations) when less; reverts when nothing is free (the
    /// request stays). Waits while the consortium is paused; a token that refuses the transfer reverts it all.
    /// Caller: a TREASURY operator of the member.
    function withdraw(address token) external;

    /// @notice Sets where payments to the caller's member go; zero credits them to its deposit instead.
    function setPayoutAccount(address account) external;

    /// @notice Proposes the invoice signed by an operator of the payee (`inv.payee`), after the checks shared
    /// with `closeInvoice`: payer != payee; the ledger closes (payer = home, payee = visited, period) (its
    /// reverts pass through) and its accumulator is `inv.ledgerAccumulator`; the version in force at the
    /// period's first second (else its last second) is `inv.agreementVersion`, with its terms commitment and
    /// token. Status None or Proposed: a new proposal replaces the old one and restarts the sign window.
    /// Anyone may send it; the signer is a TREASURY operator of the payee (active or suspended).
    /// @param sealedInvoice The lines and the totals' salt sealed for the payer, 1 to `MAX_SEALED_INVOICE`
    /// bytes, only emitted.
    function proposeInvoice(Invoice calldata inv, bytes calldata payeeSignature, bytes calldata sealedInvoice) external;

    /// @notice The payer signs the stored digest: the invoice closes at its net (Proposed, or any time before
    /// a claim is decided: Claimed or Revealing; a claim's bond is released). Anyone may send it; the signer
    /// is a TREASURY operator of the payer, which may be suspended.
    function cosignInvoice(PlmnId payer, PlmnId payee, uint32 period, bytes calldata payerSignature) external;

    /// @notice Closes an invoice signed by both parties (exchanged off chain) at once, after the checks of
    /// `proposeInvoice`. Status None or Proposed. Anyone may send it; signers as for `proposeInvoice` (payee)
    /// and `cosignInvoice` (payer).
    function closeInvoice(Invoice calldata inv, bytes calldata payerSignature, bytes calldata payeeSignature) external;

    /// @notice The payer did not sign within `SIGN_WINDOW` of the proposal: the payee claims the net. The
    /// net is reserved on the payer; a bond of net x `CLAIM_BOND_BPS` / 10000 (at least 1 unit of a non-zero
    /// net) is reserved on the payee's free deposit. Caller: a TREASURY operator of the payee (active or
    /// suspended). Continues during a pause (see the trust assumptions).
    function fileClaim(PlmnId payer, PlmnId payee, uint32 period) external;

    /// @notice The adjudicator accepts `proof` that the claimed net is the rating of the committed totals: the
    /// invoice closes at the net (Proven), the bond is released. Status Claimed (not Revealing: a reveal the
    /// payer started contests the totals themselves, which a proof does not cover), and only from the claim's
    /// filing + `SIGN_WINDOW`: the payer's window to concede (co-sign) or contest the committed totals by a
    /// reveal. Anyone may send it.
    function proveClaim(PlmnId payer, PlmnId payee, uint32 period, bytes calldata proof) external;

    /// @notice The reveal, last resort of a claim (status Claimed or Revealing; publishes the pair's totals of
    /// the period, and `finishReveal` its terms): checks the openings of the period's counted batches in the
    /// ledger's order, from where the previous call stopped, and adds their totals, less the measured usage of
    /// every billable disputed record, to the revealed period totals. Several calls until all are opened.
    /// @dev The dispute rule: a disputed record takes away its measured contribution to its class (1 record,
    /// its own service's measure: data bytes up + down, signalling events, SMS events or voice seconds, and
    /// its QoS sample when it carries a latency and a throughput); the device-month fee (active devices) and
    /// roamer days stay. A record dispute contests a billing line, not the device's presence in the network:
    /// a home carrier that contests the presence rejects the batch. Subtractions and additions saturate (at 0
    /// and at the type's maximum), so a reveal always completes. A batch's disputed records may be spread over
    /// consecutive calls: only a call's last opening may leave its batch incomplete; the next call's first
    /// opening continues it, and only its `disputed` and its `salt` (for the leaves) are read. Caller: a
    /// TREASURY operator of the payer or the payee, suspended or not (as for `finishReveal`).
    function openBatches(
        PlmnId payer,
        PlmnId payee,
        uint32 period,
        BatchOpening[] calldata openings
    ) external;

    /// @notice Ends a reveal once every counted batch is opened: `terms` and `termsSalt` must open the
    /// invoice's terms commitment; the revealed totals are rated (`RatingLib.rate`, plans of the payee). When
    /// the rating is at least the claimed net the claim holds: the bond is released and the payer owes the
    /// rating plus a stall penalty of rating x `STALL_PENALTY_BPS` / 10000 (the invoice's `amount` is the sum;
    /// the event gives both). Otherwise the payee over-claimed: its bond is credited to the payer's deposit
    /// (what its deposit cannot cover becomes its debt) and the payer owes the rating. Caller: an operator of
    /// the payer or the payee.
    /// @dev Terms are checked for the bounds rating needs (1 to 64 plans, at most 8 tiers of at most 10000
    /// bps each); the counterparty checked the rest before it accepted the commitment.
    function finishReveal(
        PlmnId payer,
        PlmnId payee,
        uint32 period,
        IRoamingAgreements.Terms calldata terms,
        bytes32 termsSalt
    ) external;

    /// @notice Settles (`a`, `b`, `period`). Both directions closed: in the same token the smaller amount is
    /// netted off the larger and the difference paid in one transfer; in different tokens each is paid on its
    /// own. One direction closed and the other not, from the period's end + `SOLO_SETTLE_DELAY`: the closed
    /// one settles alone (the other settles alone later, once closed). A deposit short of what is owed pays
    /// what it has; the rest becomes a debt. A payout the token refuses is credited to the creditor's deposit
    /// (`PayoutRefused`). Waits while the consortium is paused. Caller: any operator of a CARRIER member.
    function settle(PlmnId a, PlmnId b, uint32 period) external;

    /// @notice Pays `debtor`'s debt to `creditor` in `token` from the debtor's deposit, as much as it covers.
    /// Waits while the consortium is paused. Caller: a TREASURY operator of a CARRIER member.
    /// @return paid What was paid.
    function payDebt(PlmnId debtor, PlmnId creditor, address token) external returns (uint256 paid);

    /// @notice The EIP-712 digest of `inv` that both parties sign.
    function invoiceDigest(Invoice calldata inv) external view returns (bytes32);

    /// @notice The invoice of `payer` to `payee` for `period` (status None when not proposed).
    function invoice(PlmnId payer, PlmnId payee, uint32 period) external view returns (InvoiceState memory);

    /// @notice How far the reveal of an invoice is: batches opened (`cursor`) and disputed records of the
    /// next batch opened (`disputeCursor`).
    function revealProgress(
        PlmnId payer,
        PlmnId payee,
        uint32 period
    ) external view returns (uint32 cursor, uint32 disputeCursor);

    /// @notice `member`'s deposit of `token`, reserved part included.
    function deposits(PlmnId member, address token) external view returns (uint256);

    /// @notice What of `member`'s deposit of `token` cannot be withdrawn: closed unsettled invoices and claimed
    /// nets as payer, claim bonds as payee, unpaid debts.
    function reserved(PlmnId member, address token) external view returns (uint256);

    /// @notice What `debtor` still owes `creditor` in `token` after shortfalls.
    function debt(PlmnId debtor, PlmnId creditor, address token) external view returns (uint256);

    /// @notice Where payments to `member` go (zero: its deposit).
    function payoutAccount(PlmnId member) external view returns (address);

    /// @notice `member`'s pending withdrawal of `token` (amount 0 when none).
    function pendingWithdrawal(PlmnId member, address token) external view returns (Withdrawal memory);

    function SIGN_WINDOW() external view returns (uint32);
    function WITHDRAWAL_DELAY() external view returns (uint32);
    function SOLO_SETTLE_DELAY() external view returns (uint32);
    function CLAIM_BOND_BPS() external view returns (uint16);
    function STALL_PENALTY_BPS() external view returns (uint16);
    /// @notice Largest sealed invoice `proposeInvoice` takes, in bytes.
    function MAX_SEALED_INVOICE() external view returns (uint256);

    /// @notice The registry that authorizes callers and signers.
    function carrierRegistry() external view returns (ICarrierRegistry);

    /// @notice The agreements whose version in force an invoice names.
    function roamingAgreements() external view returns (IRoamingAgreements);

    /// @notice The ledger whose closed periods are invoiced.
    function usageLedger() external view returns (IUsageLedger);

    /// @notice The adjudicator of claims (zero: none, claims end by signature or reveal).
    function claimAdjudicator() external view returns (IClaimAdjudicator);
}
