/**
 * Reads everything an invoice says from the chain (and, when the pairwise key is at hand, from the
 * encrypted payloads): the escrow's invoice and its `InvoiceClosed` rating, the agreement version it was
 * rated with, the ledger's final period totals, every batch of the period with its transactions, disputes
 * and rejections, and the settlement. `buildInvoiceModel` (./model) turns it into the document's model.
 */
import { InputError } from "../core/errors";
import { formatPlmn } from "../core/plmn";
import { tokenInfo } from "../agreements/chain";
import { ratingFromStruct } from "../settlement/rating";
import { closeHint, periodBatches, requireMember } from "../settlement/escrow";
import { totalsFromContract } from "../usage/batch";
import { openPayload } from "../usage/payload";
import { RECORD_BYTES, unpackRecord } from "../usage/leaf";
import { formatPeriod } from "../core/period";
import { DISPUTE_REASONS, REJECT_REASONS } from "../usage/verify";
import type { ContentStore } from "../usage/store";
import type { Hex } from "../util/hex";
import type { RoamLedgerClient } from "../chain/client";
import type { BatchEvidence, BatchState, InvoiceChainData, NotBillableData, SettlementEvidence } from "./types";
import { BILLING } from "../core/enums";

const BATCH_STATES: (BatchState | undefined)[] = [undefined, "submitted", "accepted", "rejected"];
const nameOf = (table: Record<string, number>, code: number) => Object.entries(table).find(([, v]) => v === code)?.[0] ?? `reason ${code}`;

export interface ReadInvoiceOptions {
  payer: Hex;
  payee: Hex;
  period: number;
  /** Which side the document is for (default: payee, the carrier that bills). */
  perspective?: "payer" | "payee";
  /**
   * To count the usage committed but not billable: the pairwise key of the two carriers and the payload
   * store. Without it, that section says why it is not available.
   */
  payloads?: { key: Uint8Array; store: ContentStore } | { unavailable: string };
  /** First block to search for events (default 0). */
  fromBlock?: number;
}

async function blockTime(client: RoamLedgerClient, blockNumber: number): Promise<number> {
  return (await client.runner.provider!.getBlock(blockNumber))!.timestamp;
}

/** Everything the invoice of `payer` to `payee` for `period` says, read from the chain. */
export async function readInvoiceData(client: RoamLedgerClient, opts: ReadInvoiceOptions): Promise<InvoiceChainData> {
  const { payer, payee, period } = opts;
  const fromBlock = opts.fromBlock ?? 0;
  const { escrow, ledger } = client;
  const [payerMember, payeeMember] = await Promise.all([requireMember(client, payer, "--as"), requireMember(client, payee, "--partner")]);
  const inv = await escrow.invoice(payer, payee, period);
  const status = Number(inv.status);
  if (status === 0) {
    throw new InputError(
      `the invoice of ${payerMember.text} (payer) to ${payeeMember.text} (payee) for ${formatPeriod(period)} is not closed yet: there is nothing to print`,
      { hint: await closeHint(client, payer, payee, period) },
    );
  }

  // The rating as closed, and the transaction that closed it.
  const closed = await escrow.queryFilter(escrow.filters.InvoiceClosed(payer, payee, period), fromBlock);
  if (closed.length !== 1) {
    throw new InputError(
      `found ${closed.length} InvoiceClosed events for ${formatPlmn(payer)} -> ${formatPlmn(payee)} ${formatPeriod(period)} from block ${fromBlock}`,
      {
        hint: "search from an earlier block (the escrow's deployment block) or check the deployment record.",
      },
    );
  }
  const rating = ratingFromStruct(closed[0].args.rating);
  const version = await client.agreements.getVersion(payer, payee, inv.agreementVersion);
  const token = await tokenInfo(inv.token, client.runner);
  const periodTotals = totalsFromContract(await ledger.periodTotals(payer, payee, period));

  // The batches and what happened to each.
  const submitted = await periodBatches(client, payer, payee, period, fromBlock);
  const batches: BatchEvidence[] = [];
  for (const s of submitted) {
    const info = await ledger.getBatch(s.batchId);
    const [disputedRaw, disputeLogs, acceptLogs, rejectLogs] = await Promise.all([
      ledger.disputedTotals(s.batchId),
      ledger.queryFilter(ledger.filters.UsageRecordDisputed(s.batchId), fromBlock),
      ledger.queryFilter(ledger.filters.UsageBatchAccepted(s.batchId), fromBlock),
      ledger.queryFilter(ledger.filters.UsageBatchRejected(s.batchId), fromBlock),
    ]);
    const reasons = new Map<number, number>();
    for (const log of disputeLogs) reasons.set(Number(log.args.reason), (reasons.get(Number(log.args.reason)) ?? 0) + 1);
    const reject = rejectLogs[0];
    batches.push({
      batchId: s.batchId,
      state: BATCH_STATES[Number(info.status)] ?? "submitted",
      submittedAt: Number(info.submittedAt),
      submitTx: s.txHash,
      recordCount: s.batch.recordCount,
      totals: s.batch.totals,
      disputed: totalsFromContract(disputedRaw).filter((t) => t.records > 0),
      disputedRecords: Number(info.disputedRecords),
      disputeTxs: [...new Set(disputeLogs.map((l) => l.transactionHash as Hex))],
      disputeReasons: [...reasons].map(([reason, records]) => ({ reason, name: nameOf(DISPUTE_REASONS, reason), records })),
      acceptTx: acceptLogs[0]?.transactionHash as Hex | undefined,
      rejectTx: reject?.transactionHash as Hex | undefined,
      rejectReason: reject ? { code: Number(reject.args.reason), name: nameOf(REJECT_REASONS, Number(reject.args.reason)) } : undefined,
    });
  }

  return {
    chainId: (await client.runner.provider!.getNetwork()).chainId,
    escrow: client.addresses.settlementEscrow,
    payer: { plmn: payer, name: payerMember.name },
    payee: { plmn: payee, name: payeeMember.name },
    period,
    perspective: opts.perspective ?? "payee",
    invoice: {
      status: status === 2 ? "settled" : "open",
      token: inv.token,
      agreementVersion: Number(inv.agreementVersion),
      closedAt: Number(inv.closedAt),
      amount: inv.amount,
      subtotal: inv.subtotal,
      credit: inv.credit,
    },
    token,
    terms: version.terms,
    rating,
    closeTx: closed[0].transactionHash as Hex,
    periodTotals,
    batches,
    settlement: status === 2 ? await readSettlement(client, payer, payee, period, fromBlock) : undefined,
    notBillable: await readNotBillable(
      opts,
      batches,
      submitted.map((s) => s.batch),
    ),
  };
}

/** The `PeriodSettled` of the pair and period (sent in either order) and the payments of its transaction. */
async function readSettlement(
  client: RoamLedgerClient,
  payer: Hex,
  payee: Hex,
  period: number,
  fromBlock: number,
): Promise<SettlementEvidence> {
  const { escrow } = client;
  const logs = [
    ...(await escrow.queryFilter(escrow.filters.PeriodSettled(payer, payee, period), fromBlock)),
    ...(await escrow.queryFilter(escrow.filters.PeriodSettled(payee, payer, period), fromBlock)),
  ];
  if (logs.length !== 1) {
    throw new InputError(
      `found ${logs.length} PeriodSettled events for ${formatPlmn(payer)} / ${formatPlmn(payee)} ${formatPeriod(period)} from block ${fromBlock}`,
      {
        hint: "search from an earlier block (the escrow's deployment block).",
      },
    );
  }
  const settled = logs[0];
  const payerFirst = settled.args.a.toLowerCase() === payer.toLowerCase();
  const receipt = (await client.runner.provider!.getTransactionReceipt(settled.transactionHash))!;
  const evidence: SettlementEvidence = {
    tx: settled.transactionHash as Hex,
    at: await blockTime(client, settled.blockNumber),
    payerOwed: payerFirst ? settled.args.aOwedB : settled.args.bOwedA,
    payeeOwed: payerFirst ? settled.args.bOwedA : settled.args.aOwedB,
    payments: [],
    shortfalls: [],
  };
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== client.addresses.settlementEscrow.toLowerCase()) continue;
    const parsed = escrow.interface.parseLog(log);
    if (!parsed || Number(parsed.args.period) !== period) continue;
    if (parsed.name === "SettlementPaid") {
      const a = parsed.args;
      evidence.payments.push({ debtor: a.debtor, creditor: a.creditor, token: a.token, owed: a.owed, paid: a.paid, payout: a.payout });
    } else if (parsed.name === "SettlementShortfall") {
      const a = parsed.args;
      evidence.shortfalls.push({ debtor: a.debtor, creditor: a.creditor, token: a.token, paid: a.paid, owed: a.owed });
    }
  }
  return evidence;
}

/** Counts the committed records that were not billable, per reason and class, from the decrypted payloads. */
async function readNotBillable(
  opts: ReadInvoiceOptions,
  batches: BatchEvidence[],
  summaries: { visited: Hex; home: Hex; period: number; payloadHash: Hex }[],
): Promise<NotBillableData> {
  const source = opts.payloads;
  if (!source) return { available: false, why: "no key store given: decrypting the payloads needs the carriers' pairwise key" };
  if ("unavailable" in source) return { available: false, why: source.unavailable };
  const counts = new Map<number, Map<number, number>>();
  let read = 0;
  let records = 0;
  for (let i = 0; i < batches.length; i++) {
    if (batches[i].state === "rejected") continue;
    const s = summaries[i];
    let payload;
    try {
      payload = openPayload(source.key, await source.store.get(s.payloadHash), s, RECORD_BYTES);
    } catch (err) {
      return {
        available: false,
        why: `the payload of batch ${batches[i].batchId} could not be read: ${(err as Error).message.split("\n")[0]}`,
      };
    }
    read++;
    for (let r = 0; r < payload.header.recordCount; r++) {
      const record = unpackRecord(payload.records, r * RECORD_BYTES);
      records++;
      if (record.billing === 0) continue;
      const perClass = counts.get(record.billing) ?? new Map<number, number>();
      perClass.set(record.tariffClass, (perClass.get(record.tariffClass) ?? 0) + 1);
      counts.set(record.billing, perClass);
    }
  }
  const byReason = [...counts]
    .sort(([a], [b]) => a - b)
    .map(([code, perClass]) => ({
      code,
      reason: BILLING[code] ?? `billing ${code}`,
      records: [...perClass.values()].reduce((s, n) => s + n, 0),
      perClass: [...perClass].sort(([a], [b]) => a - b).map(([tariffClass, n]) => ({ tariffClass, records: n })),
    }));
  return { available: true, batchesRead: read, records, byReason };
}
