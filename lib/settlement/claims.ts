/**
 * When the payer does not co-sign: the payee's claim (after the sign window, bonded), its proof by the
 * escrow's adjudicator, and the last resort, a reveal of the period's openings that the escrow rates on
 * chain. A reveal PUBLISHES the pair's terms, totals and disputed records of that period for good
 * (docs/confidentiality.md): it is sent only when asked for explicitly.
 */
import { hexlify, ZeroAddress } from "ethers";
import { ConfigError, InputError } from "../core/errors";
import { isoTime } from "../agreements/terms";
import { tokenInfo } from "../agreements/chain";
import { Amount } from "../core/amount";
import { formatPeriod } from "../core/period";
import { formatPlmn } from "../core/plmn";
import { sendAndWait } from "../chain/send";
import { TX_GAS_CAP } from "../chain/gasBudget";
import type { RoamLedgerClient } from "../chain/client";
import type { FullTerms, PeriodUsage } from "../invoice/usage";
import { noProgress, type ProgressFactory } from "../util/progress";
import type { Hex } from "../util/hex";
import { ESCROW_INVOICE_STATUSES, escrowInvoiceStatus, type InvoiceKey } from "./invoices";
import { chainNow, freeDeposit } from "./escrow";
import { ratingFromStruct, type Rating } from "./rating";

// EIP-7825's cap on one transaction's gas: lib/chain/gasBudget has it (re-exported for the claim callers).
export { TX_GAS_CAP };
/** What a reveal call aims to stay under (the estimate plus 20 % must fit the cap). */
const GAS_BUDGET = (TX_GAS_CAP * 10n) / 12n;

/** "the invoice of 262-01 to 724-05 for 2026-11", for errors. */
const what = (k: InvoiceKey) => `the invoice of ${formatPlmn(k.payer)} to ${formatPlmn(k.payee)} for ${formatPeriod(k.period)}`;

async function requireStatus(client: RoamLedgerClient, key: InvoiceKey, allowed: readonly string[], hint: string): Promise<void> {
  const status = await escrowInvoiceStatus(client, key);
  if (!allowed.includes(status)) throw new InputError(`${what(key)} is ${status}; this needs it ${allowed.join(" or ")}`, { hint });
}

/** The bond a claim of `net` takes from the payee's deposit: net x CLAIM_BOND_BPS / 10000, at least 1 of a non-zero net. */
async function claimBond(client: RoamLedgerClient, net: bigint): Promise<bigint> {
  const bond = (net * BigInt(await client.escrow.CLAIM_BOND_BPS())) / 10_000n;
  return bond === 0n && net > 0n ? 1n : bond;
}

/**
 * The payee's claim once the payer's sign window is over: the net is reserved on the payer, a bond on the
 * payee. Before that, an InputError that says from when.
 */
export async function fileClaim(client: RoamLedgerClient, key: InvoiceKey): Promise<{ txHash: string; net: bigint; bond: bigint }> {
  await requireStatus(client, key, ["proposed"], "a claim follows a proposal the payer has not co-signed.");
  const [state, window, now] = await Promise.all([
    client.escrow.invoice(key.payer, key.payee, key.period),
    client.escrow.SIGN_WINDOW(),
    chainNow(client),
  ]);
  const endsAt = Number(state.proposedAt) + Number(window);
  if (now < endsAt) {
    throw new InputError(`the payer's sign window of ${what(key)} runs until ${isoTime(endsAt)}`, {
      hint: `file the claim after ${isoTime(endsAt)}; the payer may still co-sign until then (and after).`,
    });
  }
  const bond = await claimBond(client, state.net);
  const { free } = await freeDeposit(client, { member: key.payee, token: state.token });
  if (free < bond) {
    const token = await tokenInfo(state.token, client.runner);
    const fmt = (n: bigint) => Amount.fromUnits(token, n).toString();
    throw new InputError(`the claim on ${what(key)} bonds ${fmt(bond)} of the payee's deposit; only ${fmt(free)} is free`, {
      hint: "the payee tops up its deposit in the invoice's token first (the bond comes back when the claim holds).",
      next: { operation: "escrow:deposit", args: { token: state.token } },
    });
  }
  const receipt = await sendAndWait(() => client.escrow.fileClaim(key.payer, key.payee, key.period));
  const after = await client.escrow.invoice(key.payer, key.payee, key.period);
  return { txHash: receipt.hash, net: after.net, bond: after.bond };
}

/**
 * Proves a claim with the escrow's adjudicator (a proof that the net is the rating of the committed totals,
 * docs/zk.md): the claim must be filed and the payer's contest window (claimedAt + SIGN_WINDOW) over, else an
 * InputError says what to wait for; a reveal the payer started decides instead.
 */
export async function proveClaim(
  client: RoamLedgerClient,
  key: InvoiceKey & { proof: Uint8Array | Hex },
): Promise<{ txHash: string; gasUsed: bigint }> {
  if ((await client.escrow.claimAdjudicator()) === ZeroAddress) {
    throw new ConfigError("this escrow was deployed without a claim adjudicator: a claim cannot be proven", {
      hint: "the claim ends by the payer's signature or, as the last resort, by a reveal.",
    });
  }
  const [state, window, now] = await Promise.all([
    client.escrow.invoice(key.payer, key.payee, key.period),
    client.escrow.SIGN_WINDOW(),
    chainNow(client),
  ]);
  const status = ESCROW_INVOICE_STATUSES[Number(state.status)];
  if (status !== "claimed") {
    throw new InputError(`${what(key)} is ${status}: only a filed claim is proven`, {
      hint:
        status === "revealing"
          ? "the payer contests the totals by a reveal, which decides: finish it (invoice:reveal)."
          : "file the claim first (escrow:claim).",
    });
  }
  const endsAt = Number(state.claimedAt) + Number(window);
  if (now < endsAt) {
    throw new InputError(`the payer may co-sign or contest ${what(key)} until ${isoTime(endsAt)}`, {
      hint: `file the proof after ${isoTime(endsAt)} (escrow:claim again); the proof is ready and checks locally.`,
    });
  }
  const proof = typeof key.proof === "string" ? key.proof : hexlify(key.proof);
  const receipt = await sendAndWait(() => client.escrow.proveClaim(key.payer, key.payee, key.period, proof));
  return { txHash: receipt.hash, gasUsed: receipt.gasUsed };
}

/** One counted batch's opening as `openBatches` takes it, with its disputed records from `from` on. */
function openingOf(batch: PeriodUsage["batches"][number], from = 0, to = batch.disputed.length) {
  return {
    recordCount: batch.recordCount,
    totals: batch.totals,
    salt: batch.totalsSalt,
    disputed: batch.disputed.slice(from, to).map((d) => d.record),
  };
}

type Opening = ReturnType<typeof openingOf>;

export interface RevealOptions {
  usage: PeriodUsage;
  terms: FullTerms;
  /** Must be true: the reveal publishes the pair's terms and totals of the period. */
  publish: boolean;
  /** Most batches per `openBatches` call before gas is estimated (default 32). */
  maxBatchesPerCall?: number;
  progress?: ProgressFactory;
}

export interface RevealResult {
  /** The `openBatches` transactions with the gas each used, then `finishReveal`'s. */
  txs: { hash: string; gasUsed: bigint; opened: number }[];
  finishTx: { hash: string; gasUsed: bigint };
  rating: Rating;
  upheld: boolean;
  penalty: bigint;
  amount: bigint;
}

/** The gas of `openBatches(openings)`, or undefined when the node refuses to estimate it (too large). */
async function estimateOpen(client: RoamLedgerClient, key: InvoiceKey, openings: Opening[], last: boolean): Promise<bigint | undefined> {
  try {
    return await client.escrow.openBatches.estimateGas(key.payer, key.payee, key.period, openings);
  } catch (err) {
    if (last) throw err;
    return undefined;
  }
}

/**
 * The next `openBatches` call from (`cursor`, `disputeCursor`): as many whole batches as fit the gas
 * budget (halving from `max`), or one batch's next disputed records when a single batch does not fit.
 */
async function nextCall(
  client: RoamLedgerClient,
  key: InvoiceKey,
  usage: PeriodUsage,
  at: { cursor: number; disputeCursor: number; max: number },
) {
  const { batches } = usage;
  let count = Math.min(at.max, batches.length - at.cursor);
  for (;;) {
    const openings = batches.slice(at.cursor, at.cursor + count).map((b, i) => openingOf(b, i === 0 ? at.disputeCursor : 0));
    const gas = await estimateOpen(client, key, openings, false);
    if (gas !== undefined && gas <= GAS_BUDGET) return { openings, gas, opened: count };
    if (count === 1) break;
    count = Math.ceil(count / 2);
  }
  const batch = batches[at.cursor];
  let take = Math.max(1, Math.ceil((batch.disputed.length - at.disputeCursor) / 2));
  for (;;) {
    const openings = [openingOf(batch, at.disputeCursor, at.disputeCursor + take)];
    const gas = await estimateOpen(client, key, openings, take === 1);
    if (gas !== undefined && gas <= GAS_BUDGET) return { openings, gas, opened: at.disputeCursor + take === batch.disputed.length ? 1 : 0 };
    take = Math.ceil(take / 2);
  }
}

/** The reveal's last step: the terms, rated on chain with the revealed totals. */
async function finish(client: RoamLedgerClient, key: InvoiceKey, terms: FullTerms) {
  const receipt = await sendAndWait(() =>
    client.escrow.finishReveal(key.payer, key.payee, key.period, terms.terms as never, terms.termsSalt),
  );
  const event = receipt.logs.flatMap((log) => client.escrow.interface.parseLog(log) ?? []).find((e) => e.name === "ClaimRevealed");
  if (!event) throw new ConfigError("finishReveal succeeded without a ClaimRevealed event", { hint: "check the escrow address." });
  const { upheld, penalty, amount, rating } = event.args;
  return { finishTx: { hash: receipt.hash, gasUsed: receipt.gasUsed }, rating: ratingFromStruct(rating), upheld, penalty, amount };
}

/**
 * The last resort of a claim: opens every counted batch (from where a previous reveal stopped), in calls
 * that each stay under the EIP-7825 gas cap, then finishes with the terms. Refuses unless `publish` is
 * true: everything of the pair's period becomes public.
 */
export async function revealClaim(client: RoamLedgerClient, opts: RevealOptions): Promise<RevealResult> {
  const { usage, terms } = opts;
  const key = { payer: usage.home, payee: usage.visited, period: usage.period };
  if (!opts.publish) {
    throw new InputError(
      `a reveal of ${what(key)} publishes the agreement's terms and every counted batch's totals and disputed records of the period, for good`,
      {
        hint: "co-sign the invoice or prove the claim instead; reveal only as the last resort, asking for it explicitly.",
      },
    );
  }
  await requireStatus(client, key, ["claimed", "revealing"], "a reveal ends a filed claim.");
  const [c, d] = await client.escrow.revealProgress(key.payer, key.payee, key.period);
  const at = { cursor: Number(c), disputeCursor: Number(d), max: opts.maxBatchesPerCall ?? 32 };
  const bar = (opts.progress ?? noProgress)({ label: "opening batches", total: usage.batches.length, unit: "batches" });
  bar.update(at.cursor);
  const txs: RevealResult["txs"] = [];
  while (at.cursor < usage.batches.length) {
    const call = await nextCall(client, key, usage, at);
    const gasLimit = (call.gas * 12n) / 10n > TX_GAS_CAP ? TX_GAS_CAP : (call.gas * 12n) / 10n;
    const receipt = await sendAndWait(() => client.escrow.openBatches(key.payer, key.payee, key.period, call.openings, { gasLimit }));
    txs.push({ hash: receipt.hash, gasUsed: receipt.gasUsed, opened: call.opened });
    const [cursor, disputeCursor] = await client.escrow.revealProgress(key.payer, key.payee, key.period);
    [at.cursor, at.disputeCursor] = [Number(cursor), Number(disputeCursor)];
    bar.update(at.cursor);
  }
  bar.done(`${usage.batches.length} batches opened in ${txs.length} transaction(s)`);
  return { txs, ...(await finish(client, key, terms)) };
}

/** The openings a reveal of `usage` sends, all in one list (for checks and tests). */
export function revealOpenings(usage: PeriodUsage): Opening[] {
  return usage.batches.map((b) => openingOf(b));
}
