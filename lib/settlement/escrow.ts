/**
 * The settlement escrow from a carrier's side (ISettlementEscrow v2): deposits (with the ERC-20 approval
 * done for you), delayed withdrawals (request, execute after WITHDRAWAL_DELAY, cancel), the payout account,
 * balances and debts, settling a pair's period (netted when both invoices are closed, one alone after the
 * solo-settle delay), paying debts. Invoices are proposed and co-signed in ./invoices, claims in ./claims.
 * Errors say what to do and from when: a withdrawal that has not unlocked, a direction that cannot settle
 * alone yet, an invoice that is not closed (which party proposes or co-signs it).
 */
import type { Log, Signer } from "ethers";
import { IERC20Metadata__factory } from "../../typechain-types";
import { Amount, type Token } from "../core/amount";
import { BATCH_STATUSES, type BatchStatusName, INVOICE_STATUSES, type InvoiceStatusName } from "../core/enums";
import { ConfigError, InputError, type NextStep } from "../core/errors";
import { isoTime } from "../agreements/terms";
import { chainTime, tokenInfo } from "../agreements/chain";
import { sendAndWait } from "../chain/send";
import { formatPlmn } from "../core/plmn";
import { parseRevert } from "../chain/revert";
import { fromEventArgs } from "../usage/batch";
import { closableFrom, formatPeriod } from "../core/period";
import type { Hex } from "../util/hex";
import type { RoamLedgerClient } from "../chain/client";
import type { UsageBatchHeader } from "../usage/batch";

const NO_MEMBER = "0x000000";
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;

/** Chain time: the latest block's timestamp. */
export async function chainNow(client: RoamLedgerClient): Promise<number> {
  return Number(await chainTime(client.runner));
}

/** The address the client sends from. */
async function senderOf(client: RoamLedgerClient): Promise<string> {
  return (client.runner as Signer).getAddress();
}

// ---------------------------------------------------------------------------------------------------
// Members, partners and tokens
// ---------------------------------------------------------------------------------------------------

export interface MemberRef {
  plmn: Hex;
  text: string;
  name: string;
}

/**
 * A member by PLMN, or InputError when no member has it (at `param`, the parameter of the caller the PLMN
 * came from, when given).
 */
export async function requireMember(client: RoamLedgerClient, { plmn, param }: { plmn: Hex; param?: string }): Promise<MemberRef> {
  const m = await client.carriers.getMember(plmn);
  if (m.plmn === NO_MEMBER) {
    throw new InputError(`${formatPlmn(plmn)} is not a member of the consortium`, {
      location: param === undefined ? undefined : { param },
      hint: "check the PLMN (MCC-MNC) against the consortium's members.",
      next: { operation: "carrier:list" },
    });
  }
  return { plmn, text: formatPlmn(plmn), name: m.name };
}

/** A partner of `self`: a member with at least one accepted agreement version with it (errors at `partner`). */
export async function requirePartner(client: RoamLedgerClient, self: Hex, partner: Hex): Promise<MemberRef> {
  const location = { param: "partner" };
  if (partner.toLowerCase() === self.toLowerCase()) {
    throw new InputError(`${formatPlmn(partner)} is your own carrier`, { location, hint: "name the roaming partner." });
  }
  const member = await requireMember(client, { plmn: partner, param: "partner" });
  const versions = await client.agreements.acceptedVersions(self, partner);
  if (versions.length === 0) {
    throw new InputError(`${formatPlmn(self)} has no accepted roaming agreement with ${member.text} (${member.name})`, {
      location,
      hint: "usage is only billed under an accepted agreement; see which versions were proposed.",
      next: { operation: "agreement:show", args: { partner: member.text } },
    });
  }
  return member;
}

/** The settlement token of the agreement with `partner`: the version in force now, else the newest accepted. */
export async function agreementToken(client: RoamLedgerClient, self: Hex, partner: Hex): Promise<string> {
  try {
    const [terms] = await client.agreements.termsAt(self, partner, await chainNow(client));
    return terms.settlementToken;
  } catch (err) {
    // A revert: no version in force now. Anything else (the node) is not an answer.
    if (!parseRevert(err)) throw err;
    const versions = await client.agreements.acceptedVersions(self, partner);
    const newest = versions.at(-1);
    if (newest === undefined) {
      throw new InputError(`no accepted agreement between ${formatPlmn(self)} and ${formatPlmn(partner)} names a settlement token`, {
        hint: "name the token by its address.",
      });
    }
    return (await client.agreements.getVersion(self, partner, newest)).terms.settlementToken;
  }
}

/** Every settlement token of `member`'s accepted agreements (with each partner), deduplicated, in order. */
export async function agreementTokens(client: RoamLedgerClient, member: Hex): Promise<string[]> {
  const tokens = new Set<string>();
  for (const partner of await client.agreements.counterparties(member)) {
    for (const v of await client.agreements.acceptedVersions(member, partner)) {
      tokens.add((await client.agreements.getVersion(member, partner, v)).terms.settlementToken);
    }
  }
  return [...tokens];
}

/**
 * The token a deposit or withdrawal is in: `token` (an address), else the agreement's with `partner`, else
 * the one settlement token of all our agreements (an error when there are several or none).
 */
export async function resolveToken(client: RoamLedgerClient, self: Hex, opts: { token?: string; partner?: Hex }): Promise<Token> {
  if (opts.token) {
    const location = { param: "token" };
    if (!ADDRESS_RE.test(opts.token)) {
      throw new InputError(`${opts.token} is not an address`, {
        location,
        hint: "give the settlement token's 0x address, as the agreement names it.",
      });
    }
    return tokenInfo(opts.token, client.runner, location);
  }
  if (opts.partner) {
    await requirePartner(client, self, opts.partner);
    return tokenInfo(await agreementToken(client, self, opts.partner), client.runner);
  }
  const tokens = await agreementTokens(client, self);
  if (tokens.length !== 1) {
    throw new InputError(
      tokens.length === 0
        ? `${formatPlmn(self)} has no accepted agreement to take a settlement token from`
        : `${formatPlmn(self)}'s agreements use ${tokens.length} settlement tokens: ${tokens.join(", ")}`,
      { hint: "name the partner (its agreement's token is taken) or the token's address." },
    );
  }
  return tokenInfo(tokens[0], client.runner);
}

// ---------------------------------------------------------------------------------------------------
// Deposits
// ---------------------------------------------------------------------------------------------------

export interface DepositResult {
  token: Token;
  amount: bigint;
  /** Set when an approval had to be given first. */
  approveTx?: string;
  depositTx: string;
  /** The deposit after it. */
  deposit: bigint;
}

/**
 * Deposits `amount` (in its token) for `member`, the sender's member: checks the account holds it, approves
 * the escrow for exactly the missing allowance when needed, then deposits.
 */
export async function depositToEscrow(
  client: RoamLedgerClient,
  { member, amount, funding }: { member: Hex; amount: Amount; funding?: NextStep },
): Promise<DepositResult> {
  const { token } = amount;
  const from = await senderOf(client);
  const erc20 = IERC20Metadata__factory.connect(token.address, client.runner);
  const escrow = client.addresses.settlementEscrow;
  const held = Amount.fromUnits(token, await erc20.balanceOf(from));
  if (held.lessThan(amount)) {
    throw new InputError(
      `the account ${from} holds ${held.format()} ${token.symbol || "tokens"}, less than the ${amount.format()} to deposit`,
      funding
        ? { hint: "on this development chain, mint development tokens to the operator account first, or deposit less.", next: funding }
        : { hint: "fund the operator account with settlement tokens first, or deposit less." },
    );
  }
  let approveTx: string | undefined;
  if ((await erc20.allowance(from, escrow)) < amount.units) {
    approveTx = (await sendAndWait(() => erc20.approve(escrow, amount.units))).hash;
  }
  const receipt = await sendAndWait(() => client.escrow.deposit(token.address, amount.units));
  const deposit = await client.escrow.deposits(member, token.address);
  return { token, amount: amount.units, approveTx, depositTx: receipt.hash, deposit };
}

export interface WithdrawOptions {
  /** The sender's member, whose deposit it is. */
  member: Hex;
  amount: Amount;
  /** Where the tokens go (default: the sending account). */
  to?: string;
}

/** Why a withdrawal waits, for errors and help. */
export const WITHDRAWAL_DELAY_WHY =
  "a withdrawal waits the escrow's WITHDRAWAL_DELAY after its request, longer than a month plus the submission grace, the longest dispute window and the sign window, so that usage accepted before the request is always invoiced and reserved first (THREATS F2).";

/** What of `member`'s deposit of `token` is free now: the deposit less what closed invoices, claims and debts reserve. */
export async function freeDeposit(
  client: RoamLedgerClient,
  { member, token }: { member: Hex; token: string },
): Promise<{ deposit: bigint; reserved: bigint; free: bigint }> {
  const [deposit, reserved] = await Promise.all([client.escrow.deposits(member, token), client.escrow.reserved(member, token)]);
  return { deposit, reserved, free: deposit > reserved ? deposit - reserved : 0n };
}

export interface WithdrawalRequest {
  txHash: string;
  to: string;
  /** Unix seconds (chain time) from which it can be executed. */
  unlocksAt: number;
  /** The escrow's WITHDRAWAL_DELAY, seconds. */
  delay: number;
  /** What is free now; what is free at execution is sent, up to the amount. */
  freeNow: bigint;
  /** The request it replaced (its clock restarted), when there was one. */
  replaced?: { amount: bigint; unlocksAt: number };
}

/**
 * Asks to withdraw up to `amount` of `member`'s deposit to `to` once the escrow's withdrawal delay has
 * passed (a new request replaces the pending one and restarts the clock). What is free is checked at
 * execution, not now.
 */
export async function requestWithdrawal(client: RoamLedgerClient, { member, amount, to }: WithdrawOptions): Promise<WithdrawalRequest> {
  const recipient = to || (await senderOf(client));
  if (!ADDRESS_RE.test(recipient)) throw new InputError(`${recipient} is not an address`, { location: { param: "to" } });
  if (amount.isZero()) throw new InputError("the amount to withdraw is zero", { location: { param: "amount" } });
  const token = amount.token.address;
  const before = await client.escrow.pendingWithdrawal(member, token);
  const receipt = await sendAndWait(() => client.escrow.requestWithdrawal(token, amount.units, recipient));
  const [pending, delay, { free }] = await Promise.all([
    client.escrow.pendingWithdrawal(member, token),
    client.escrow.WITHDRAWAL_DELAY(),
    freeDeposit(client, { member, token }),
  ]);
  return {
    txHash: receipt.hash,
    to: recipient,
    unlocksAt: Number(pending.unlocksAt),
    delay: Number(delay),
    freeNow: free,
    replaced: before.amount > 0n ? { amount: before.amount, unlocksAt: Number(before.unlocksAt) } : undefined,
  };
}

/** InputError unless `member`'s pending withdrawal of `token` can be executed at `now`: it exists, it unlocked, something is free. */
function checkExecutable(
  { member, token, now }: { member: Hex; token: Token; now: number },
  pending: { amount: bigint; unlocksAt: bigint },
  balance: { deposit: bigint; reserved: bigint; free: bigint },
): void {
  const unit = token.symbol || token.address;
  if (pending.amount === 0n) {
    throw new InputError(`${formatPlmn(member)} has no pending withdrawal of ${unit}`, {
      hint: `request one first, with the amount; it can be executed after the escrow's withdrawal delay: ${WITHDRAWAL_DELAY_WHY}`,
    });
  }
  const unlocksAt = Number(pending.unlocksAt);
  if (now < unlocksAt) {
    throw new InputError(`the withdrawal of ${formatPlmn(member)} unlocks at ${isoTime(unlocksAt)} (chain time now ${isoTime(now)})`, {
      details: `Why it waits: ${WITHDRAWAL_DELAY_WHY}`,
      hint: `execute it after ${isoTime(unlocksAt)}; a new request would restart the clock.`,
    });
  }
  if (balance.free === 0n) {
    const fmt = (n: bigint) => `${Amount.fromUnits(token, n).format()} ${token.symbol || "units"}`;
    throw new InputError(
      `nothing of ${formatPlmn(member)}'s deposit of ${unit} is free: deposit ${fmt(balance.deposit)}, reserved ${fmt(balance.reserved)} for closed invoices, claims and debts`,
      {
        hint: "the request stays: execute it again once the period's invoices are settled (escrow balance shows the reservation), or cancel it.",
        next: { operation: "escrow:balance", args: { member: formatPlmn(member) } },
      },
    );
  }
}

/**
 * Executes `member`'s pending withdrawal of `token` once unlocked: the requested amount, or what is free
 * then when less. Before that, an InputError that says from when and why.
 */
export async function executeWithdrawal(
  client: RoamLedgerClient,
  { member, token }: { member: Hex; token: Token },
): Promise<{ txHash: string; withdrawn: bigint; requested: bigint; to: string; deposit: bigint }> {
  const [pending, balance, now] = await Promise.all([
    client.escrow.pendingWithdrawal(member, token.address),
    freeDeposit(client, { member, token: token.address }),
    chainNow(client),
  ]);
  checkExecutable({ member, token, now }, pending, balance);
  const receipt = await sendAndWait(() => client.escrow.withdraw(token.address));
  const withdrawn = escrowEvents(client, receipt.logs).find((e) => e.name === "Withdrawn");
  if (!withdrawn) throw new ConfigError("withdraw succeeded without a Withdrawn event", { hint: "check the escrow address." });
  return {
    txHash: receipt.hash,
    withdrawn: withdrawn.args.amount,
    requested: pending.amount,
    to: withdrawn.args.to,
    deposit: await client.escrow.deposits(member, token.address),
  };
}

/** Cancels `member`'s pending withdrawal of `token`. */
export async function cancelWithdrawal(
  client: RoamLedgerClient,
  { member, token }: { member: Hex; token: Token },
): Promise<{ txHash: string; amount: bigint }> {
  const pending = await client.escrow.pendingWithdrawal(member, token.address);
  if (pending.amount === 0n) {
    throw new InputError(`${formatPlmn(member)} has no pending withdrawal of ${token.symbol || token.address} to cancel`);
  }
  return { txHash: (await sendAndWait(() => client.escrow.cancelWithdrawal(token.address))).hash, amount: pending.amount };
}

/** Sets where payments to the sender's member go (zero address: credited to its deposit). */
export async function setPayoutAccount(client: RoamLedgerClient, account: string): Promise<{ txHash: string }> {
  if (!ADDRESS_RE.test(account)) throw new InputError(`${account} is not an address`, { location: { param: "account" } });
  if (account.toLowerCase() === client.addresses.settlementEscrow.toLowerCase()) {
    throw new InputError("payments cannot go to the escrow itself", {
      location: { param: "account" },
      hint: "give the treasury address, or the zero address to have payments credited to the deposit.",
    });
  }
  return { txHash: (await sendAndWait(() => client.escrow.setPayoutAccount(account))).hash };
}

export interface TokenBalance {
  token: Token;
  deposit: bigint;
  reserved: bigint;
  free: bigint;
  /** The pending withdrawal, when there is one. */
  withdrawal?: { amount: bigint; to: string; unlocksAt: number };
  /** What the member owes each partner after shortfalls, and what each partner owes it (non-zero only). */
  debtsOwed: { partner: MemberRef; amount: bigint }[];
  debtsDue: { partner: MemberRef; amount: bigint }[];
}

/** `member`'s debts to and from each of `partners` in `token` (non-zero only). */
async function debtsOf(client: RoamLedgerClient, member: Hex, partners: readonly MemberRef[], token: string) {
  const debtsOwed: TokenBalance["debtsOwed"] = [];
  const debtsDue: TokenBalance["debtsDue"] = [];
  for (const partner of partners) {
    const [owed, due] = await Promise.all([
      client.escrow.debt(member, partner.plmn, token),
      client.escrow.debt(partner.plmn, member, token),
    ]);
    if (owed > 0n) debtsOwed.push({ partner, amount: owed });
    if (due > 0n) debtsDue.push({ partner, amount: due });
  }
  return { debtsOwed, debtsDue };
}

/**
 * `member`'s deposits, reservations, pending withdrawal and debts both ways, per settlement token of its
 * agreements (or `tokens`).
 */
export async function escrowBalances(client: RoamLedgerClient, member: Hex, tokens?: string[]): Promise<TokenBalance[]> {
  const addresses = tokens && tokens.length > 0 ? tokens : await agreementTokens(client, member);
  const counterparties = await client.agreements.counterparties(member);
  const partners = await Promise.all(counterparties.map((p) => requireMember(client, { plmn: p as Hex })));
  const out: TokenBalance[] = [];
  for (const address of addresses) {
    const [token, balance, pending, debts] = await Promise.all([
      tokenInfo(address, client.runner),
      freeDeposit(client, { member, token: address }),
      client.escrow.pendingWithdrawal(member, address),
      debtsOf(client, member, partners, address),
    ]);
    const withdrawal = pending.amount > 0n ? { amount: pending.amount, to: pending.to, unlocksAt: Number(pending.unlocksAt) } : undefined;
    out.push({ token, ...balance, withdrawal, ...debts });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Batches of a period and closing
// ---------------------------------------------------------------------------------------------------

/** One direction of a roaming pair for one period: the home carrier's devices in the visited network. */
export interface PeriodQuery {
  home: Hex;
  visited: Hex;
  /** yyyymm. */
  period: number;
  /** First block to search for the ledger's events (default 0, the whole chain). */
  fromBlock?: number;
}

export interface SubmittedBatch {
  batchId: Hex;
  batch: UsageBatchHeader;
  txHash: Hex;
  blockNumber: number;
}

/** A batch of the period with its state on the ledger (`getBatch`). */
export interface PeriodBatch extends SubmittedBatch {
  status: Exclude<BatchStatusName, "none">;
  /** Unix seconds. */
  submittedAt: number;
  disputedRecords: number;
}

/**
 * The batches committed for (home, visited, period): the ledger's `UsageBatchSubmitted` events for the
 * pair (indexed), filtered by period, each checked to hash to its id, ascending by id (as `closePeriod`
 * wants them).
 */
export async function periodBatches(
  client: RoamLedgerClient,
  { home, visited, period, fromBlock = 0 }: PeriodQuery,
): Promise<SubmittedBatch[]> {
  const logs = await client.ledger.queryFilter(client.ledger.filters.UsageBatchSubmitted(undefined, visited, home), fromBlock);
  const byId = new Map<string, SubmittedBatch>();
  for (const log of logs) {
    if (Number(log.args.period) !== period) continue;
    const batch = fromEventArgs(log.args);
    const batchId = log.args.batchId.toLowerCase() as Hex;
    if (!byId.has(batchId)) byId.set(batchId, { batchId, batch, txHash: log.transactionHash as Hex, blockNumber: log.blockNumber });
  }
  return [...byId.values()].sort((a, b) => (BigInt(a.batchId) < BigInt(b.batchId) ? -1 : 1));
}

/** The period's batches ({@link periodBatches}) with their state on the ledger. */
export async function periodBatchStates(client: RoamLedgerClient, query: PeriodQuery): Promise<PeriodBatch[]> {
  const batches = await periodBatches(client, query);
  const infos = await Promise.all(batches.map((b) => client.ledger.getBatch(b.batchId)));
  return batches.map((b, i) => ({
    ...b,
    // A committed batch is never None.
    status: BATCH_STATUSES[Number(infos[i].status)] as PeriodBatch["status"],
    submittedAt: Number(infos[i].submittedAt),
    disputedRecords: Number(infos[i].disputeCount),
  }));
}

export interface Closability {
  /** The ledger closed the period already (its accumulator is final). */
  closed: boolean;
  /** The period's submission deadline (its end + the submission grace), unix seconds: no close before it. */
  anyoneAt: number;
  /** Batches still pending (neither accepted nor rejected), with the end of the dispute window fixed at submission. */
  openBatches: { batchId: Hex; windowEnd: number }[];
  /**
   * The earliest time anyone can close it: the deadline, or the last pending batch's window end (the home
   * carrier may decide its batches sooner; after its window, anyone expires a batch).
   */
  earliest: number;
}

/**
 * When (home, visited, period) can be closed, by the ledger's rule: from the submission deadline, once no
 * batch is pending. The period's batches are read unless `batches` gives them (as {@link periodBatchStates}
 * reads them).
 */
export async function closability(
  client: RoamLedgerClient,
  query: PeriodQuery & { batches?: readonly PeriodBatch[] },
): Promise<Closability> {
  const { home, visited, period } = query;
  const [info, deadline] = await Promise.all([client.ledger.getPeriod(home, visited, period), client.ledger.submissionDeadline(period)]);
  const anyoneAt = Number(deadline);
  if (info.closed) return { closed: true, anyoneAt, openBatches: [], earliest: anyoneAt };
  const pending = (query.batches ?? (await periodBatchStates(client, query))).filter((b) => b.status === "submitted");
  const infos = await Promise.all(pending.map((b) => client.ledger.getBatch(b.batchId)));
  const openBatches = pending.map((b, i) => ({ batchId: b.batchId, windowEnd: Number(infos[i].windowEnd) }));
  return {
    closed: false,
    anyoneAt,
    openBatches,
    earliest: closableFrom(
      anyoneAt,
      openBatches.map((b) => b.windowEnd),
    ),
  };
}

/** The escrow's events in `logs` (other contracts' logs are skipped). */
function escrowEvents(client: RoamLedgerClient, logs: readonly Log[]) {
  const escrow = client.addresses.settlementEscrow.toLowerCase();
  return logs.filter((log) => log.address.toLowerCase() === escrow).flatMap((log) => client.escrow.interface.parseLog(log) ?? []);
}

// ---------------------------------------------------------------------------------------------------
// Settling and debts
// ---------------------------------------------------------------------------------------------------

/** `SettlementPaid`: after netting, who paid whom, and where it went (`payout` zero: credited to the deposit). */
export interface SettlementPayment {
  debtor: Hex;
  creditor: Hex;
  token: string;
  owed: bigint;
  paid: bigint;
  payout: string;
}

/** `SettlementShortfall`: what the debtor's deposit could not cover, now its debt. */
export interface SettlementShortfall {
  debtor: Hex;
  creditor: Hex;
  token: string;
  paid: bigint;
  owed: bigint;
}

/** The settlement events of a transaction's logs (of `period` only, when given). */
export interface SettlementEvents {
  /** `PeriodSettled`: what `a` owed `b` and back. */
  settled?: { a: Hex; b: Hex; aOwedB: bigint; bOwedA: bigint };
  /** `InvoiceSettled`: one direction settled alone. */
  solo?: { payer: Hex; payee: Hex; amount: bigint };
  payments: SettlementPayment[];
  shortfalls: SettlementShortfall[];
}

export function settlementEvents(client: RoamLedgerClient, logs: readonly Log[], period?: number): SettlementEvents {
  const out: SettlementEvents = { payments: [], shortfalls: [] };
  for (const { name, args: a } of escrowEvents(client, logs)) {
    if (period !== undefined && Number(a.period) !== period) continue;
    if (name === "PeriodSettled") out.settled = { a: a.a, b: a.b, aOwedB: a.aOwedB, bOwedA: a.bOwedA };
    else if (name === "InvoiceSettled") out.solo = { payer: a.payer, payee: a.payee, amount: a.amount };
    else if (name === "SettlementPaid") {
      out.payments.push({ debtor: a.debtor, creditor: a.creditor, token: a.token, owed: a.owed, paid: a.paid, payout: a.payout });
    } else if (name === "SettlementShortfall") {
      out.shortfalls.push({ debtor: a.debtor, creditor: a.creditor, token: a.token, paid: a.paid, owed: a.owed });
    }
  }
  return out;
}

export interface SettleOptions {
  /** The sender's member. */
  self: Hex;
  partner: Hex;
  period: number;
}

export interface SettleResult {
  txHash: string;
  gasUsed: bigint;
  /** Both directions netted, or one alone (the other not closed in time, or settled already). */
  mode: "netted" | "solo";
  /** The settlement token of what was settled (the invoice's; each payment names its own). */
  token: string;
  /** The direction settled alone (mode "solo"). */
  alone?: { payer: Hex; payee: Hex };
  /** What `self` owed the partner and the partner owed `self`, as settled (0 for a direction not settled now). */
  selfOwed: bigint;
  partnerOwed: bigint;
  payments: SettlementPayment[];
  shortfalls: SettlementShortfall[];
}

/** The two directions of (`self`, `partner`, `period`) on the escrow, and from when a closed one settles alone. */
export interface SettleState extends SettleOptions {
  /** The invoice `self` pays (`self` is the payer, home carrier) and the one it is paid. */
  ours: InvoiceStatusName;
  theirs: InvoiceStatusName;
  /** Chain time, and the period's end + SOLO_SETTLE_DELAY (unix seconds). */
  now: number;
  soloAt: number;
}

/** What settling now does: both directions netted, or the closed one (`payer` to `payee`) alone. */
export type SettlePlan = { mode: "netted" } | { mode: "solo"; payer: Hex; payee: Hex };

/** "the invoice of 262-01 to 724-05 (proposed)". */
const invoiceOf = (payer: Hex, payee: Hex, status: InvoiceStatusName) =>
  `the invoice of ${formatPlmn(payer)} to ${formatPlmn(payee)} (${status})`;

/**
 * What closes the invoice of `payer` to `payee` for `period`, in words and as the operation its party runs:
 * invoices close by the payer's co-signature of the payee's proposal (or a claim's proof or reveal).
 */
export function howToClose(payer: Hex, payee: Hex, period: number, status: InvoiceStatusName): { hint: string; next?: NextStep } {
  const p = formatPeriod(period);
  if (status === "none") {
    return {
      hint: `${formatPlmn(payee)} (the visited carrier) rates the closed period and proposes the invoice; ${formatPlmn(payer)} co-signs it.`,
      next: { operation: "invoice:propose", args: { partner: formatPlmn(payer), period: p } },
    };
  }
  if (status === "proposed") {
    return {
      hint: `${formatPlmn(payer)} (the home carrier) checks and co-signs the proposed invoice; unsigned after the sign window, ${formatPlmn(payee)} may file a claim.`,
      next: { operation: "invoice:cosign", args: { partner: formatPlmn(payee), period: p } },
    };
  }
  return {
    hint: `the claim of ${formatPlmn(payee)} closes when ${formatPlmn(payer)} co-signs after all, by a proof, or by a reveal (the last resort).`,
    next: { operation: "invoice:status", args: { payer: formatPlmn(payer), payee: formatPlmn(payee), period: p } },
  };
}

/**
 * What settling (`self`, `partner`, `period`) does now, by the escrow's rule (a pure function of `state`),
 * or an InputError that says why not and what closes the missing invoice: both closed settle together,
 * netted; one closed settles alone once the other is settled, or from the period's end + SOLO_SETTLE_DELAY.
 */
export function settlePlan(state: SettleState): SettlePlan {
  const { self, partner, period, ours, theirs } = state;
  const pair = `${formatPlmn(self)} and ${formatPlmn(partner)} for ${formatPeriod(period)}`;
  if (ours === "closed" && theirs === "closed") return { mode: "netted" };
  if (ours === "settled" && theirs === "settled") {
    throw new InputError(`${pair} are settled already, both directions`, {
      hint: "nothing is left to settle; the invoice's status shows how each direction closed.",
      next: { operation: "invoice:status", args: { payer: formatPlmn(self), payee: formatPlmn(partner), period: formatPeriod(period) } },
    });
  }
  const oursClosed = ours === "closed";
  if (!oursClosed && theirs !== "closed") {
    const [payer, payee, status] = ours === "settled" ? [partner, self, theirs] : [self, partner, ours];
    const other = ours === "settled" || theirs === "settled" ? "" : ` and ${invoiceOf(partner, self, theirs)}`;
    throw new InputError(`nothing of ${pair} can settle: ${invoiceOf(payer, payee, status)}${other} ${other ? "are" : "is"} not closed`, {
      details: "Invoices close by co-signature: the payee proposes, the payer co-signs (or a claim is proven or revealed).",
      ...howToClose(payer, payee, period, status),
    });
  }
  const [payer, payee, otherStatus] = oursClosed ? [self, partner, theirs] : [partner, self, ours];
  if (otherStatus !== "settled" && state.now < state.soloAt) {
    const [otherPayer, otherPayee] = [payee, payer];
    const todo = howToClose(otherPayer, otherPayee, period, otherStatus);
    throw new InputError(
      `only ${invoiceOf(payer, payee, "closed")} of ${pair} is closed, ${invoiceOf(otherPayer, otherPayee, otherStatus)} is not: it settles alone from ${isoTime(state.soloAt)} (the period's end + the solo-settle delay)`,
      {
        details: "Both directions settle together, netted, as soon as the other closes.",
        hint: `close the other direction to settle both now with netting, or settle after ${isoTime(state.soloAt)}. ${todo.hint}`,
        next: todo.next,
      },
    );
  }
  return { mode: "solo", payer, payee };
}

/** The state {@link settlePlan} decides on, read from the escrow and the ledger. */
export async function settleState(client: RoamLedgerClient, { self, partner, period }: SettleOptions): Promise<SettleState> {
  const [ours, theirs, [, end], delay, now] = await Promise.all([
    client.escrow.invoice(self, partner, period),
    client.escrow.invoice(partner, self, period),
    client.ledger.periodBounds(period),
    client.escrow.SOLO_SETTLE_DELAY(),
    chainNow(client),
  ]);
  const status = (s: { status: bigint }) => INVOICE_STATUSES[Number(s.status)];
  return { self, partner, period, ours: status(ours), theirs: status(theirs), now, soloAt: Number(end) + Number(delay) };
}

/**
 * Settles (`self`, `partner`, `period`): both directions with netting when both are closed, or the closed
 * one alone once the other is settled or the solo delay is over. Returns who paid whom, and any shortfall
 * (a debt).
 */
export async function settlePeriod(client: RoamLedgerClient, options: SettleOptions): Promise<SettleResult> {
  const { self, partner, period } = options;
  if (self.toLowerCase() === partner.toLowerCase()) {
    throw new InputError(`${formatPlmn(partner)} is your own carrier`, { location: { param: "partner" } });
  }
  const plan = settlePlan(await settleState(client, options));
  const receipt = await sendAndWait(() => client.escrow.settle(self, partner, period));
  const { settled, solo, payments, shortfalls } = settlementEvents(client, receipt.logs);
  const isSelf = (plmn: Hex) => plmn.toLowerCase() === self.toLowerCase();
  let [selfOwed, partnerOwed] = [0n, 0n];
  if (settled) [selfOwed, partnerOwed] = isSelf(settled.a) ? [settled.aOwedB, settled.bOwedA] : [settled.bOwedA, settled.aOwedB];
  else if (solo) [selfOwed, partnerOwed] = isSelf(solo.payer) ? [solo.amount, 0n] : [0n, solo.amount];
  const [payer, payee] = plan.mode === "solo" ? [plan.payer, plan.payee] : [self, partner];
  const { token } = await client.escrow.invoice(payer, payee, period);
  return {
    txHash: receipt.hash,
    gasUsed: receipt.gasUsed,
    mode: settled ? "netted" : "solo",
    token,
    alone: plan.mode === "solo" ? { payer, payee } : undefined,
    selfOwed,
    partnerOwed,
    payments,
    shortfalls,
  };
}

export interface PayDebtOptions {
  debtor: Hex;
  creditor: Hex;
  token: Token;
}

/** Pays `debtor`'s debt to `creditor` in `token` from the debtor's deposit (either party may send it). */
export async function payDebt(
  client: RoamLedgerClient,
  { debtor, creditor, token }: PayDebtOptions,
): Promise<{ txHash: string; paid: bigint; remaining: bigint; payout: string }> {
  const owed = Amount.fromUnits(token, await client.escrow.debt(debtor, creditor, token.address));
  const unit = token.symbol || "tokens";
  if (owed.isZero()) {
    throw new InputError(`${formatPlmn(debtor)} owes ${formatPlmn(creditor)} nothing in ${unit} (${token.address})`, {
      hint: "the debtor's escrow balance shows its debts both ways.",
      next: { operation: "escrow:balance", args: { member: formatPlmn(debtor) } },
    });
  }
  if ((await client.escrow.deposits(debtor, token.address)) === 0n) {
    throw new InputError(`${formatPlmn(debtor)}'s deposit of ${unit} is empty: it cannot pay its debt of ${owed.format()} yet`, {
      hint: `${formatPlmn(debtor)} tops up its deposit first; then either side pays the debt again.`,
    });
  }
  const receipt = await sendAndWait(() => client.escrow.payDebt(debtor, creditor, token.address));
  const paid = escrowEvents(client, receipt.logs).find((e) => e.name === "DebtPaid");
  if (!paid)
    throw new ConfigError("payDebt succeeded without a DebtPaid event", {
      hint: "the escrow address may not be RoamLedger's SettlementEscrow.",
    });
  return { txHash: receipt.hash, paid: paid.args.paid, remaining: paid.args.remaining, payout: paid.args.payout };
}
