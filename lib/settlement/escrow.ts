/**
 * The settlement escrow from a carrier's side: deposits (with the ERC-20 approval done for you),
 * withdrawals, balances and debts, closing a period's invoice with the ledger's batches, settling a pair's
 * period with netting, paying debts. Errors say what to do: a period that cannot close yet says from when.
 */
import { ZeroAddress, type Signer } from "ethers";
import { IERC20Metadata__factory } from "../../typechain-types";
import { ConfigError, InputError } from "../core/errors";
import { isoTime } from "../agreements/terms";
import { chainTime, tokenInfo, type TokenInfo } from "../agreements/chain";
import { formatAmount, parseAmount } from "../core/amount";
import { formatPlmn } from "../core/plmn";
import { parseRevert, withDecodedRevert } from "../chain/revert";
import { ratingFromStruct, type Rating } from "./rating";
import { fromEventArgs, toContractBatch } from "../usage/batch";
import { formatPeriod, periodBounds } from "../core/period";
import type { Hex } from "../util/hex";
import type { RoamLedgerClient } from "../chain/client";
import type { UsageBatch } from "../usage/types";

const NO_MEMBER = "0x000000";
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

/** A member by PLMN, or InputError naming the argument when no member has it. */
export async function requireMember(client: RoamLedgerClient, plmn: Hex, arg = "--partner"): Promise<MemberRef> {
  const m = await client.carriers.getMember(plmn);
  if (m.plmn === NO_MEMBER) {
    throw new InputError(`${formatPlmn(plmn)} is not a member of the consortium`, {
      location: { file: arg },
      hint: "check the PLMN (MCC-MNC) with `carrier:list`.",
    });
  }
  return { plmn, text: formatPlmn(plmn), name: m.name };
}

/** A partner of `self`: a member with at least one accepted agreement version with it. */
export async function requirePartner(client: RoamLedgerClient, self: Hex, partner: Hex): Promise<MemberRef> {
  if (partner.toLowerCase() === self.toLowerCase()) {
    throw new InputError(`${formatPlmn(partner)} is your own carrier`, {
      location: { file: "--partner" },
      hint: "name the roaming partner.",
    });
  }
  const member = await requireMember(client, partner);
  const versions = await client.agreements.acceptedVersions(self, partner);
  if (versions.length === 0) {
    throw new InputError(`${formatPlmn(self)} has no accepted roaming agreement with ${member.text} (${member.name})`, {
      location: { file: "--partner" },
      hint: `see \`agreement:show --partner ${member.text}\`; usage is only billed under an accepted agreement.`,
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
    if (versions.length === 0) {
      throw new InputError(`no accepted agreement between ${formatPlmn(self)} and ${formatPlmn(partner)} names a settlement token`, {
        hint: "pass --token with the token's address.",
      });
    }
    return (await client.agreements.getVersion(self, partner, versions[versions.length - 1])).terms.settlementToken;
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
 * The token a deposit or withdrawal is in: `--token`, else the agreement's with `--partner`, else the one
 * settlement token of all our agreements (an error when there are several or none).
 */
export async function resolveToken(client: RoamLedgerClient, self: Hex, opts: { token?: string; partner?: Hex }): Promise<TokenInfo> {
  if (opts.token) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(opts.token)) {
      throw new InputError(`--token ${opts.token} is not an address`, {
        hint: "pass the settlement token's 0x address (see `agreement:show`).",
      });
    }
    return tokenInfo(opts.token, client.runner, { file: "--token" });
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
      { hint: "pass --partner P (that agreement's token) or --token ADDRESS." },
    );
  }
  return tokenInfo(tokens[0], client.runner);
}

/** `text` (token units, e.g. "1000.50") in base units of `token`; must be above zero. */
export function amountArg(text: string | undefined, token: TokenInfo, arg = "--amount"): bigint {
  if (text === undefined || text === "")
    throw new InputError(`${arg} is required`, { hint: "give it in token units, e.g. --amount 1000.50." });
  const units = parseAmount(text, token.decimals, { location: { file: arg } });
  if (units === 0n) throw new InputError(`${arg} must be more than 0`, { location: { file: arg } });
  return units;
}

// ---------------------------------------------------------------------------------------------------
// Deposits
// ---------------------------------------------------------------------------------------------------

export interface DepositResult {
  token: TokenInfo;
  amount: bigint;
  /** Set when an approval had to be given first. */
  approveTx?: string;
  depositTx: string;
  /** The deposit after it. */
  deposit: bigint;
}

/**
 * Deposits `amount` of `token` for the sender's member: checks the account holds it, approves the escrow
 * for exactly the missing allowance when needed, then deposits.
 */
export async function depositToEscrow(client: RoamLedgerClient, self: Hex, token: TokenInfo, amount: bigint): Promise<DepositResult> {
  const from = await senderOf(client);
  const erc20 = IERC20Metadata__factory.connect(token.address, client.runner);
  const escrow = client.addresses.settlementEscrow;
  const held = await erc20.balanceOf(from);
  if (held < amount) {
    throw new InputError(
      `the account ${from} holds ${formatAmount(held, token.decimals)} ${token.symbol || "tokens"}, less than the ${formatAmount(amount, token.decimals)} to deposit`,
      {
        hint: "fund the operator account with settlement tokens first, or deposit less.",
      },
    );
  }
  let approveTx: string | undefined;
  if ((await erc20.allowance(from, escrow)) < amount) {
    const receipt = await withDecodedRevert(async () => (await erc20.approve(escrow, amount)).wait());
    approveTx = receipt!.hash;
  }
  const receipt = await withDecodedRevert(async () => (await client.escrow.deposit(token.address, amount)).wait());
  return { token, amount, approveTx, depositTx: receipt!.hash, deposit: await client.escrow.deposits(self, token.address) };
}

/** Withdraws `amount` of `token` from the sender's member's free deposit to `to` (default: the sender). */
export async function withdrawFromEscrow(
  client: RoamLedgerClient,
  self: Hex,
  token: TokenInfo,
  amount: bigint,
  to?: string,
): Promise<{ txHash: string; to: string; deposit: bigint }> {
  const recipient = to || (await senderOf(client));
  if (!/^0x[0-9a-fA-F]{40}$/.test(recipient)) throw new InputError(`--to ${recipient} is not an address`);
  const [deposit, reserved] = await Promise.all([client.escrow.deposits(self, token.address), client.escrow.reserved(self, token.address)]);
  const free = deposit > reserved ? deposit - reserved : 0n;
  if (amount > free) {
    const unit = token.symbol || "tokens";
    throw new InputError(
      `only ${formatAmount(free, token.decimals)} ${unit} of ${formatPlmn(self)}'s deposit is free ` +
        `(deposit ${formatAmount(deposit, token.decimals)}, reserved ${formatAmount(reserved, token.decimals)} for open invoices and debts)`,
      {
        location: { file: "--amount" },
        hint: "withdraw at most the free part; the rest is released when its invoices are settled and debts paid.",
      },
    );
  }
  const receipt = await withDecodedRevert(async () => (await client.escrow.withdraw(token.address, amount, recipient)).wait());
  return { txHash: receipt!.hash, to: recipient, deposit: await client.escrow.deposits(self, token.address) };
}

export interface TokenBalance {
  token: TokenInfo;
  deposit: bigint;
  reserved: bigint;
  free: bigint;
  /** What the member owes each partner after shortfalls, and what each partner owes it (non-zero only). */
  debtsOwed: { partner: MemberRef; amount: bigint }[];
  debtsDue: { partner: MemberRef; amount: bigint }[];
}

/** `member`'s deposits, reservations and debts both ways, per settlement token of its agreements (or `tokens`). */
export async function escrowBalances(client: RoamLedgerClient, member: Hex, tokens?: string[]): Promise<TokenBalance[]> {
  const addresses = tokens && tokens.length > 0 ? tokens : await agreementTokens(client, member);
  const partners = await Promise.all((await client.agreements.counterparties(member)).map((p) => requireMember(client, p as Hex)));
  const out: TokenBalance[] = [];
  for (const address of addresses) {
    const token = await tokenInfo(address, client.runner);
    const [deposit, reserved] = await Promise.all([client.escrow.deposits(member, address), client.escrow.reserved(member, address)]);
    const debtsOwed: TokenBalance["debtsOwed"] = [];
    const debtsDue: TokenBalance["debtsDue"] = [];
    for (const partner of partners) {
      const [owed, due] = await Promise.all([
        client.escrow.debt(member, partner.plmn, address),
        client.escrow.debt(partner.plmn, member, address),
      ]);
      if (owed > 0n) debtsOwed.push({ partner, amount: owed });
      if (due > 0n) debtsDue.push({ partner, amount: due });
    }
    out.push({ token, deposit, reserved, free: deposit > reserved ? deposit - reserved : 0n, debtsOwed, debtsDue });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Batches of a period and closing
// ---------------------------------------------------------------------------------------------------

export interface SubmittedBatch {
  batchId: Hex;
  batch: UsageBatch;
  txHash: Hex;
  blockNumber: number;
}

/**
 * The batches committed for (home, visited, period): the ledger's `UsageBatchSubmitted` events for the
 * pair (indexed), filtered by period, each checked to hash to its id, ascending by id (as `closePeriod`
 * wants them). `fromBlock`: where to start looking (default 0, the whole chain).
 */
export async function periodBatches(
  client: RoamLedgerClient,
  home: Hex,
  visited: Hex,
  period: number,
  fromBlock = 0,
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

/**
 * A revert of closing a period as an InputError that says what to do: the period has not ended or its
 * grace is running ("closable at <time>"), or a batch is still in its dispute window. Anything else comes
 * back decoded as it was.
 */
export function closingError(err: unknown, home: Hex, visited: Hex, period: number): unknown {
  const pair = `the usage of ${formatPlmn(home)}'s devices in ${formatPlmn(visited)} for ${formatPeriod(period)}`;
  const revert = parseRevert(err);
  if (revert?.name === "UsageLedgerPeriodNotOver") {
    const at = Number(revert.args[1]);
    return new InputError(`${pair} cannot be closed yet: closable at ${isoTime(at)}`, {
      details:
        "A period closes once it has ended and the submission grace for late batches has passed (the visited carrier may close it right after its end).",
      hint: `run the same command again after ${isoTime(at)}.`,
    });
  }
  if (revert?.name === "UsageLedgerBatchStillOpen") {
    const [batchId, windowEnd] = [String(revert.args[0]), Number(revert.args[1])];
    return new InputError(
      `${pair} cannot be closed yet: batch ${batchId} is in its dispute window until ${isoTime(windowEnd)}; closable at ${isoTime(windowEnd)} at the earliest`,
      {
        hint: "wait for the window to end, or let the home carrier accept or reject its open batches now (`usage:verify`).",
      },
    );
  }
  if (revert?.name === "UsageLedgerInvalidPeriod") {
    return new InputError(`${formatPeriod(period)} has not started yet, or is not a billing period`, { location: { file: "--period" } });
  }
  return err;
}

export interface Closability {
  /** The ledger closed the period already (its totals are final). */
  closed: boolean;
  /** When anyone may close it (period end + submission grace), unix seconds. */
  anyoneAt: number;
  /** When the visited carrier may (the period's end: it may waive the grace). */
  visitedAt: number;
  /** Batches still in their dispute window (neither accepted nor rejected), with the window's end. */
  openBatches: { batchId: Hex; windowEnd: number }[];
  /** The earliest time anyone can close it: the later of `anyoneAt` and every open batch's window end. */
  earliest: number;
}

/** When (home, visited, period) can be closed, from the ledger and the agreements' dispute windows. */
export async function closability(client: RoamLedgerClient, home: Hex, visited: Hex, period: number, fromBlock = 0): Promise<Closability> {
  const [info, grace] = await Promise.all([client.ledger.getPeriod(home, visited, period), client.ledger.submissionGrace()]);
  const [, end] = periodBounds(period);
  const openBatches: Closability["openBatches"] = [];
  if (!info.closed) {
    for (const b of await periodBatches(client, home, visited, period, fromBlock)) {
      const batch = await client.ledger.getBatch(b.batchId);
      if (Number(batch.status) !== 1) continue; // accepted or rejected: not open
      const submittedAt = Number(batch.submittedAt);
      const window = Number(await client.agreements.disputeWindowAt(home, visited, submittedAt));
      openBatches.push({ batchId: b.batchId, windowEnd: submittedAt + window });
    }
  }
  const anyoneAt = end + Number(grace);
  return {
    closed: info.closed,
    anyoneAt,
    visitedAt: end,
    openBatches,
    earliest: Math.max(anyoneAt, ...openBatches.map((b) => b.windowEnd)),
  };
}

/** What to run to close the invoice of `payer` to `payee` for `period`, and from when it can be closed. */
export async function closeHint(client: RoamLedgerClient, payer: Hex, payee: Hex, period: number): Promise<string> {
  const p = formatPeriod(period);
  const c = await closability(client, payer, payee, period);
  const now = await chainNow(client);
  const when =
    c.closed || c.earliest <= now
      ? "It can be closed now."
      : `It can be closed from ${isoTime(c.earliest)}` +
        (c.openBatches.length
          ? ` (${c.openBatches.length} batch(es) in their dispute window; the home carrier may accept or reject them sooner)`
          : "") +
        (c.visitedAt < c.anyoneAt && now < c.anyoneAt
          ? `; ${formatPlmn(payee)} may close it from ${isoTime(Math.max(c.visitedAt, ...c.openBatches.map((b) => b.windowEnd)))}.`
          : ".");
  return (
    `${formatPlmn(payer)} closes it with \`npx hardhat escrow:close --partner ${formatPlmn(payee)} --period ${p}\`, ` +
    `${formatPlmn(payee)} with \`npx hardhat escrow:close --partner ${formatPlmn(payer)} --period ${p} --as payee\` ` +
    `(or \`escrow:settle\`, which closes both directions and settles). ${when}`
  );
}

export interface CloseResult {
  payer: Hex;
  payee: Hex;
  period: number;
  /** False when it was closed before (nothing sent). */
  closedNow: boolean;
  txHash?: string;
  batches: number;
  rating?: Rating;
  token: string;
  amount: bigint;
}

/**
 * Closes the invoice of `payer` (home) to `payee` (visited) for `period` with the period's batches. Does
 * nothing when it is closed already. Errors: `closingError`.
 */
export async function closeInvoice(client: RoamLedgerClient, payer: Hex, payee: Hex, period: number, fromBlock = 0): Promise<CloseResult> {
  const existing = await client.escrow.invoice(payer, payee, period);
  if (Number(existing.status) !== 0) {
    return { payer, payee, period, closedNow: false, batches: 0, token: existing.token, amount: existing.amount };
  }
  const batches = await periodBatches(client, payer, payee, period, fromBlock);
  const contractBatches = batches.map((b) => toContractBatch(b.batch));
  let receipt;
  try {
    // The visited carrier may close the ledger's period before the submission grace is over, but only
    // itself: through the escrow the grace applies. So the payee's operator closes the ledger period first.
    const sender = await client.carriers.memberOf(await senderOf(client));
    const [, end] = periodBounds(period);
    if (
      sender.toLowerCase() === payee.toLowerCase() &&
      (await chainNow(client)) >= end &&
      !(await client.ledger.getPeriod(payer, payee, period)).closed
    ) {
      await withDecodedRevert(async () => (await client.ledger.closePeriod(payer, payee, period, contractBatches)).wait());
    }
    receipt = await withDecodedRevert(async () => (await client.escrow.closeInvoice(payer, payee, period, contractBatches)).wait());
  } catch (err) {
    throw closingError(err, payer, payee, period);
  }
  let rating: Rating | undefined;
  let token = ZeroAddress;
  for (const log of receipt!.logs) {
    const parsed =
      log.address.toLowerCase() === client.addresses.settlementEscrow.toLowerCase() ? client.escrow.interface.parseLog(log) : null;
    if (parsed?.name === "InvoiceClosed") {
      rating = ratingFromStruct(parsed.args.rating);
      token = parsed.args.token;
    }
  }
  return {
    payer,
    payee,
    period,
    closedNow: true,
    txHash: receipt!.hash,
    batches: batches.length,
    rating,
    token,
    amount: rating?.net ?? 0n,
  };
}

// ---------------------------------------------------------------------------------------------------
// Settling and debts
// ---------------------------------------------------------------------------------------------------

export interface SettleResult {
  /** The directions this call closed first (payer -> payee). */
  closed: CloseResult[];
  txHash: string;
  /** What `self` owed the partner and the partner owed `self`, as settled. */
  selfOwed: bigint;
  partnerOwed: bigint;
  payments: { debtor: Hex; creditor: Hex; token: string; owed: bigint; paid: bigint; payout: string }[];
  shortfalls: { debtor: Hex; creditor: Hex; token: string; paid: bigint; owed: bigint }[];
}

/**
 * Settles (`self`, `partner`, `period`): closes whichever direction is not closed yet, then settles both
 * with netting. Returns who paid whom, and any shortfall (a debt).
 */
export async function settlePeriod(
  client: RoamLedgerClient,
  self: Hex,
  partner: Hex,
  period: number,
  fromBlock = 0,
): Promise<SettleResult> {
  const [ours, theirs] = await Promise.all([client.escrow.invoice(self, partner, period), client.escrow.invoice(partner, self, period)]);
  if (Number(ours.status) === 2 || Number(theirs.status) === 2) {
    throw new InputError(`${formatPlmn(self)} and ${formatPlmn(partner)} settled ${formatPeriod(period)} already`, {
      hint: `see the figures with \`invoice --partner ${formatPlmn(partner)} --period ${formatPeriod(period)}\`.`,
    });
  }
  const closed: CloseResult[] = [];
  if (Number(ours.status) === 0) closed.push(await closeInvoice(client, self, partner, period, fromBlock));
  if (Number(theirs.status) === 0) closed.push(await closeInvoice(client, partner, self, period, fromBlock));
  const receipt = await withDecodedRevert(async () => (await client.escrow.settle(self, partner, period)).wait());
  const result: SettleResult = { closed, txHash: receipt!.hash, selfOwed: 0n, partnerOwed: 0n, payments: [], shortfalls: [] };
  for (const log of receipt!.logs) {
    if (log.address.toLowerCase() !== client.addresses.settlementEscrow.toLowerCase()) continue;
    const parsed = client.escrow.interface.parseLog(log);
    if (parsed?.name === "PeriodSettled") {
      result.selfOwed = parsed.args.aOwedB;
      result.partnerOwed = parsed.args.bOwedA;
    } else if (parsed?.name === "SettlementPaid") {
      const a = parsed.args;
      result.payments.push({ debtor: a.debtor, creditor: a.creditor, token: a.token, owed: a.owed, paid: a.paid, payout: a.payout });
    } else if (parsed?.name === "SettlementShortfall") {
      const a = parsed.args;
      result.shortfalls.push({ debtor: a.debtor, creditor: a.creditor, token: a.token, paid: a.paid, owed: a.owed });
    }
  }
  return result;
}

/** Pays `debtor`'s debt to `creditor` in `token` from the debtor's deposit (either party may send it). */
export async function payDebt(
  client: RoamLedgerClient,
  debtor: Hex,
  creditor: Hex,
  token: TokenInfo,
): Promise<{ txHash: string; paid: bigint; remaining: bigint; payout: string }> {
  const owed = await client.escrow.debt(debtor, creditor, token.address);
  const unit = token.symbol || "tokens";
  if (owed === 0n) {
    throw new InputError(`${formatPlmn(debtor)} owes ${formatPlmn(creditor)} nothing in ${unit} (${token.address})`, {
      hint: `\`escrow:balance --member ${formatPlmn(debtor)}\` shows the debts both ways.`,
    });
  }
  const deposit = await client.escrow.deposits(debtor, token.address);
  if (deposit === 0n) {
    throw new InputError(
      `${formatPlmn(debtor)}'s deposit of ${unit} is empty: it cannot pay its debt of ${formatAmount(owed, token.decimals)} yet`,
      {
        hint: `${formatPlmn(debtor)} tops up with \`escrow:deposit\`; then either side runs this again.`,
      },
    );
  }
  const receipt = await withDecodedRevert(async () => (await client.escrow.payDebt(debtor, creditor, token.address)).wait());
  for (const log of receipt!.logs) {
    const parsed =
      log.address.toLowerCase() === client.addresses.settlementEscrow.toLowerCase() ? client.escrow.interface.parseLog(log) : null;
    if (parsed?.name === "DebtPaid")
      return { txHash: receipt!.hash, paid: parsed.args.paid, remaining: parsed.args.remaining, payout: parsed.args.payout };
  }
  throw new ConfigError("payDebt succeeded without a DebtPaid event", {
    hint: "the escrow address may not be RoamLedger's SettlementEscrow.",
  });
}
